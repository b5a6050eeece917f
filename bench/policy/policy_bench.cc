// One policy decision, against the development ISA set and against generated
// sets of agreements. Besides Google Benchmark's mean time per decision, each
// benchmark times every decision on its own (steady_clock around Decide) and
// reports the p50, p99 and p99.9 of those samples as counters, in
// microseconds. Run:
//   policy_bench --benchmark_min_time=2 [--benchmark_repetitions=5]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "policy/isa.h"
#include "policy/policy_engine.h"

namespace {

namespace v1 = safeshare::v1;
using safeshare::policy::IsaSet;
using safeshare::policy::PolicyEngine;

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

v1::Federation DevFederation() {
  v1::Federation federation;
  if (!google::protobuf::TextFormat::ParseFromString(
          ReadText(SAFESHARE_SOURCE_DIR "/deploy/dev-federation.textproto"), &federation)) {
    std::abort();
  }
  return federation;
}

IsaSet DevIsas(const v1::Federation& federation) {
  auto set = safeshare::policy::LoadIsaDirectory(SAFESHARE_SOURCE_DIR "/deploy/isa", &federation);
  if (!set.ok()) {
    std::fprintf(stderr, "%s\n", std::string(set.status().message()).c_str());
    std::abort();
  }
  return *std::move(set);
}

// The police example referral (deploy/examples), as the demo sends it.
v1::Envelope PoliceReferral() {
  v1::Envelope e;
  e.set_kind(v1::MESSAGE_KIND_REFERRAL);
  e.set_sender_agency_id("hiow-police");
  e.set_recipient_agency_id("portsmouth-mash");
  e.mutable_sender_practitioner()->set_id("pc-4471");
  e.mutable_sender_practitioner()->set_role(v1::PRACTITIONER_ROLE_POLICE_OFFICER);
  if (!google::protobuf::util::JsonStringToMessage(
           ReadText(SAFESHARE_SOURCE_DIR "/deploy/examples/police-to-portsmouth-referral.json"),
           e.mutable_declaration())
           .ok()) {
    std::abort();
  }
  return e;
}

// The dev federation plus 500 agencies in 50 areas, and `n` agreements
// between random pairs of them (agency or area parties, several purposes),
// on top of the development set: a large region's worth of agreements.
std::unique_ptr<PolicyEngine> GeneratedEngine(int n) {
  v1::Federation federation = DevFederation();
  for (int a = 0; a < 50; ++a) federation.add_areas()->set_id(absl::StrCat("area-", a));
  for (int i = 0; i < 500; ++i) {
    v1::Agency* agency = federation.add_agencies();
    agency->set_id(absl::StrCat("agency-", i));
    agency->set_area_id(absl::StrCat("area-", i % 50));
  }
  IsaSet set = DevIsas(federation);
  std::mt19937 rng(42);
  auto party = [&](v1::IsaParty* p) {
    if (rng() % 4 == 0) {
      p->set_area_id(absl::StrCat("area-", rng() % 50));
    } else {
      p->set_agency_id(absl::StrCat("agency-", rng() % 500));
    }
  };
  for (int i = 0; i < n; ++i) {
    v1::InformationSharingAgreement isa;
    isa.set_id(absl::StrCat("generated-", i));
    isa.set_title("Generated agreement");
    isa.set_version("1");
    party(isa.add_parties());
    party(isa.add_parties());
    if (isa.parties(0).SerializeAsString() == isa.parties(1).SerializeAsString()) {
      isa.mutable_parties()->RemoveLast();
    }
    isa.mutable_in_force_from()->set_seconds(1700000000);
    isa.mutable_review_by()->set_seconds(1900000000);
    isa.set_content_retention_days(365);
    for (int dir = 0; dir < 2; ++dir) {
      v1::IsaRule* rule = isa.add_rules();
      *rule->add_senders() = isa.parties(dir % isa.parties_size());
      *rule->add_recipients() = isa.parties((dir + 1) % isa.parties_size());
      for (int k = 1; k <= 5; ++k) rule->add_kinds(static_cast<v1::MessageKind>(k));
      for (int p = 1; p <= 7; ++p) {
        if (rng() % 2) rule->add_purposes(static_cast<v1::Purpose>(p));
      }
      if (rule->purposes().empty()) rule->add_purposes(v1::PURPOSE_SAFEGUARDING_REFERRAL);
      rule->add_lawful_bases(v1::LAWFUL_BASIS_PUBLIC_TASK);
      for (int c = 1; c <= 14; ++c) {
        if (rng() % 2) rule->add_data_categories(static_cast<v1::DataCategory>(c));
      }
      if (rule->data_categories().empty()) rule->add_data_categories(v1::DATA_CATEGORY_IDENTITY);
      rule->set_protected_identities_allowed(rng() % 2);
    }
    set.agreements.push_back(std::move(isa));
  }
  auto engine = PolicyEngine::Create(std::move(set), federation);
  if (!engine.ok()) {
    std::fprintf(stderr, "%s\n", std::string(engine.status().message()).c_str());
    std::abort();
  }
  return *std::move(engine);
}

void Run(benchmark::State& state, const PolicyEngine& engine) {
  const v1::Envelope e = PoliceReferral();
  const absl::Time now = absl::Now();
  if (engine.Decide(e, now).decision() != v1::DECISION_ALLOW) {
    state.SkipWithError("the police example is not allowed");
    return;
  }
  std::vector<double> samples;
  samples.reserve(1 << 20);
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    v1::PolicyDecision d = engine.Decide(e, now);
    const auto end = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(d);
    if (samples.size() < samples.capacity()) {
      samples.push_back(std::chrono::duration<double, std::micro>(end - start).count());
    }
  }
  std::sort(samples.begin(), samples.end());
  auto pct = [&](double p) { return samples[static_cast<size_t>(p * (samples.size() - 1))]; };
  state.counters["p50_us"] = pct(0.50);
  state.counters["p99_us"] = pct(0.99);
  state.counters["p999_us"] = pct(0.999);
  state.counters["isas"] = static_cast<double>(engine.isa_count());
}

void BM_DecideDevSet(benchmark::State& state) {
  static const PolicyEngine* engine = [] {
    const v1::Federation federation = DevFederation();
    return PolicyEngine::Create(DevIsas(federation), federation)->release();
  }();
  Run(state, *engine);
}
BENCHMARK(BM_DecideDevSet)->Unit(benchmark::kMicrosecond);

void BM_DecideGenerated(benchmark::State& state) {
  const std::unique_ptr<PolicyEngine> engine = GeneratedEngine(static_cast<int>(state.range(0)));
  Run(state, *engine);
}
BENCHMARK(BM_DecideGenerated)
    ->Arg(10)
    ->Arg(100)
    ->Arg(1000)
    ->Arg(10000)
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
