// End-to-end delivery latency: a real gateway process on loopback, 20
// subscribed agencies, senders submitting sealed referrals. First finds the
// maximum Submit throughput (closed loop, 16 in flight), then sends at half of
// it, steadily, and reports Submit-to-arrival latency percentiles.
//
//   build/bench/delivery/delivery_latency [--subscribers 20] [--seconds 10]

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agents/agency_agent.h"
#include "agents/pki/dev_pki.h"
#include "tests/support/test_support.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace v1 = safeshare::v1;

constexpr char kCategories[] =
    "\"DATA_CATEGORY_IDENTITY\", \"DATA_CATEGORY_CONCERN_DETAILS\"";

void WriteFederation(const std::string& path, int subscribers) {
  std::ofstream f(path);
  f << "id: \"bench\"\ndisplay_name: \"Benchmark federation\"\n"
       "areas { id: \"bench\" display_name: \"Bench\" }\n"
       "agencies { id: \"bench-police\" display_name: \"Police\" area_id: \"bench\" "
       "roles: AGENCY_ROLE_POLICE }\n";
  for (int i = 1; i <= subscribers; ++i) {
    f << "agencies { id: \"bench-mash-" << i << "\" display_name: \"MASH " << i
      << "\" area_id: \"bench\" roles: AGENCY_ROLE_FRONT_DOOR }\n";
  }
}

void WriteIsa(const std::string& dir) {
  std::filesystem::create_directories(dir);
  std::ofstream f(dir + "/bench.json");
  f << R"({"id": "bench", "title": "Benchmark agreement", "version": "1",
  "parties": [{"area_id": "bench"}],
  "in_force_from": "2024-01-01T00:00:00Z", "review_by": "2030-01-01T00:00:00Z",
  "rules": [{"senders": [{"agency_id": "bench-police"}], "recipients": [{"area_id": "bench"}],
    "kinds": ["MESSAGE_KIND_REFERRAL"], "purposes": ["PURPOSE_SAFEGUARDING_REFERRAL"],
    "lawful_bases": ["LAWFUL_BASIS_PUBLIC_TASK"], "data_categories": [)"
    << kCategories << R"(], "protected_identities_allowed": true}],
  "content_retention_days": 30})";
}

v1::SharingDeclaration Declaration() {
  v1::SharingDeclaration d;
  d.set_purpose(v1::PURPOSE_SAFEGUARDING_REFERRAL);
  d.set_lawful_basis(v1::LAWFUL_BASIS_PUBLIC_TASK);
  d.set_statutory_gateway(v1::STATUTORY_GATEWAY_CHILDREN_ACT_2004_S11);
  d.set_consent_status(v1::CONSENT_STATUS_NOT_REQUIRED);
  d.set_informed(true);
  d.add_data_categories(v1::DATA_CATEGORY_IDENTITY);
  d.add_data_categories(v1::DATA_CATEGORY_CONCERN_DETAILS);
  d.set_necessity_justification("Benchmark referral: the front door needs the concern now.");
  d.set_threshold_level(v1::THRESHOLD_LEVEL_4_CHILDRENS_SOCIAL_CARE);
  d.set_urgency(v1::URGENCY_URGENT);
  d.add_concern_categories(v1::CONCERN_CATEGORY_NEGLECT);
  d.set_advice_status(v1::ADVICE_STATUS_NOT_SOUGHT);
  return d;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

}  // namespace

int main(int argc, char** argv) {
  int subscribers = 20, seconds = 10;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--subscribers") subscribers = std::atoi(argv[i + 1]);
    if (std::string(argv[i]) == "--seconds") seconds = std::atoi(argv[i + 1]);
  }
  safeshare::testing::TempDir tmp;
  const std::string fed = tmp.path() + "/fed";
  WriteFederation(tmp.path() + "/template.textproto", subscribers);
  if (auto st = safeshare::agents::CreateDevFederation(tmp.path() + "/template.textproto", fed,
                                                       false);
      !st.ok()) {
    std::fprintf(stderr, "pki: %s\n", std::string(st.message()).c_str());
    return 1;
  }
  WriteIsa(tmp.path() + "/isa");
  safeshare::testing::GatewayProcess gateway(fed, tmp.path() + "/gw",
                                             {"--isa_dir=" + tmp.path() + "/isa"});
  if (!gateway.Start()) {
    std::fprintf(stderr, "gateway did not start\n");
    return 1;
  }

  // Subscribers: record arrival time per message id, acknowledge each.
  std::mutex mu;
  std::map<std::string, Clock::time_point> sent_at, arrived_at;
  std::atomic<bool> stop{false};
  std::vector<std::unique_ptr<safeshare::agents::AgencyAgent>> agents;
  std::vector<std::unique_ptr<safeshare::agents::AgentClient::Subscription>> subs;
  std::vector<std::thread> readers;
  for (int i = 1; i <= subscribers; ++i) {
    auto agent = safeshare::agents::AgencyAgent::Open(
        absl::StrCat(fed, "/agencies/bench-mash-", i), gateway.target());
    if (!agent.ok()) return 1;
    subs.push_back((*agent)->client().Subscribe(0));
    auto* sub = subs.back().get();
    auto* client = &(*agent)->client();
    agents.push_back(std::move(*agent));
    readers.emplace_back([&, sub, client] {
      v1::MailboxMessage m;
      while (sub->Read(&m)) {
        const auto now = Clock::now();
        {
          std::lock_guard<std::mutex> lock(mu);
          arrived_at[m.message_id()] = now;
        }
        (void)client->Ack(m.message_id());
      }
    });
  }

  auto sender_agent = safeshare::agents::AgencyAgent::Open(fed + "/agencies/bench-police",
                                                           gateway.target());
  if (!sender_agent.ok()) return 1;
  // Seal ahead of time: the benchmark measures the gateway, not the sender's CPU.
  auto seal = [&](int n) {
    std::vector<v1::SignedEnvelope> out;
    for (int i = 0; i < n; ++i) {
      safeshare::agents::OutgoingMessage m;
      m.sender_agency_id = "bench-police";
      m.recipient_agency_id = absl::StrCat("bench-mash-", 1 + i % subscribers);
      m.practitioner.set_id("pc-1");
      m.practitioner.set_role(v1::PRACTITIONER_ROLE_POLICE_OFFICER);
      m.declaration = Declaration();
      auto* r = m.content.mutable_referral()->mutable_record();
      r->mutable_child()->set_given_names("Bench");
      r->set_concern_details(std::string(2048, 'c'));
      auto sealed = (*sender_agent)->Seal(m);
      if (sealed.ok()) out.push_back(*sealed);
    }
    return out;
  };

  // Phase 1: maximum throughput, 16 Submits in flight.
  auto burst = seal(3000);
  std::atomic<size_t> next{0};
  std::atomic<int> ok{0};
  const auto t0 = Clock::now();
  std::vector<std::thread> workers;
  for (int w = 0; w < 16; ++w) {
    workers.emplace_back([&] {
      for (size_t i; (i = next++) < burst.size();) {
        if ((*sender_agent)->client().Submit(burst[i]).ok()) ++ok;
      }
    });
  }
  for (auto& w : workers) w.join();
  const double burst_s = std::chrono::duration<double>(Clock::now() - t0).count();
  const double max_rate = ok / burst_s;
  std::printf("max throughput: %d Submits in %.2f s = %.0f/s (16 in flight)\n", ok.load(),
              burst_s, max_rate);
  std::this_thread::sleep_for(std::chrono::seconds(2));  // let subscribers drain
  {
    std::lock_guard<std::mutex> lock(mu);
    arrived_at.clear();
  }

  // Phase 2: half that rate, evenly paced, from 8 senders.
  const double rate = max_rate / 2;
  const int total = static_cast<int>(rate * seconds);
  auto steady = seal(total);
  std::atomic<int> index{0};
  const auto start = Clock::now();
  workers.clear();
  for (int w = 0; w < 8; ++w) {
    workers.emplace_back([&] {
      for (int i; (i = index++) < static_cast<int>(steady.size());) {
        const auto due = start + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(i / rate));
        std::this_thread::sleep_until(due);
        v1::Envelope e;
        e.ParseFromString(steady[i].envelope_bytes());
        {
          std::lock_guard<std::mutex> lock(mu);
          sent_at[e.message_id()] = Clock::now();
        }
        (void)(*sender_agent)->client().Submit(steady[i]);
      }
    });
  }
  for (auto& w : workers) w.join();
  std::this_thread::sleep_for(std::chrono::seconds(3));
  std::vector<double> ms;
  int missing = 0;
  {
    std::lock_guard<std::mutex> lock(mu);
    for (const auto& [id, t] : sent_at) {
      auto it = arrived_at.find(id);
      if (it == arrived_at.end()) {
        ++missing;
        continue;
      }
      ms.push_back(std::chrono::duration<double, std::milli>(it->second - t).count());
    }
  }
  std::printf("steady: %zu messages at %.0f/s to %d subscribers; latency Submit->arrival "
              "p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms; missing %d\n",
              sent_at.size(), rate, subscribers, Percentile(ms, 0.5), Percentile(ms, 0.9),
              Percentile(ms, 0.99), Percentile(ms, 1.0), missing);
  for (auto& s : subs) s->Cancel();
  for (auto& r : readers) r.join();
  for (auto& s : subs) (void)s->Finish();
  gateway.Stop();
  return missing == 0 ? 0 : 1;
}
