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

constexpr char kCategories[] = "\"DATA_CATEGORY_IDENTITY\", \"DATA_CATEGORY_CONCERN_DETAILS\"";

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

// One run: a gateway on a fresh federation, `subscribers` recipient agencies
// subscribed and acknowledging, and the police sending to them.
class DeliveryBench {
 public:
  explicit DeliveryBench(int subscribers) : subscribers_(subscribers) {}

  absl::Status Start() {
    fed_ = tmp_.path() + "/fed";
    WriteFederation(tmp_.path() + "/template.textproto", subscribers_);
    if (auto st = safeshare::agents::CreateDevFederation(tmp_.path() + "/template.textproto", fed_,
                                                         false);
        !st.ok()) {
      return st;
    }
    WriteIsa(tmp_.path() + "/isa");
    gateway_ = std::make_unique<safeshare::testing::GatewayProcess>(
        fed_, tmp_.path() + "/gw", std::vector<std::string>{"--isa_dir=" + tmp_.path() + "/isa"});
    if (!gateway_->Start()) return absl::UnavailableError("gateway did not start");
    for (int i = 1; i <= subscribers_; ++i) {
      if (auto st = Subscribe(absl::StrCat(fed_, "/agencies/bench-mash-", i)); !st.ok()) return st;
    }
    auto sender =
        safeshare::agents::AgencyAgent::Open(fed_ + "/agencies/bench-police", gateway_->target());
    if (!sender.ok()) return sender.status();
    sender_ = std::move(*sender);
    return absl::OkStatus();
  }

  // Seals ahead of time: the benchmark measures the gateway, not the sender.
  std::vector<v1::SignedEnvelope> Seal(int n) {
    std::vector<v1::SignedEnvelope> out;
    for (int i = 0; i < n; ++i) {
      safeshare::agents::OutgoingMessage m;
      m.sender_agency_id = "bench-police";
      m.recipient_agency_id = absl::StrCat("bench-mash-", 1 + i % subscribers_);
      m.practitioner.set_id("pc-1");
      m.practitioner.set_role(v1::PRACTITIONER_ROLE_POLICE_OFFICER);
      m.declaration = Declaration();
      auto* r = m.content.mutable_referral()->mutable_record();
      r->mutable_child()->set_given_names("Bench");
      r->set_concern_details(std::string(2048, 'c'));
      auto sealed = sender_->Seal(m);
      if (sealed.ok()) out.push_back(*sealed);
    }
    return out;
  }

  // Phase 1: Submits per second with 16 in flight.
  double MaxThroughput() {
    auto burst = Seal(3000);
    std::atomic<size_t> next{0};
    std::atomic<int> ok{0};
    const auto t0 = Clock::now();
    std::vector<std::thread> workers;
    for (int w = 0; w < 16; ++w) {
      workers.emplace_back([&] {
        for (size_t i; (i = next++) < burst.size();) {
          if (sender_->client().Submit(burst[i]).ok()) ++ok;
        }
      });
    }
    for (auto& w : workers) w.join();
    const double burst_s = std::chrono::duration<double>(Clock::now() - t0).count();
    std::printf("max throughput: %d Submits in %.2f s = %.0f/s (16 in flight)\n", ok.load(),
                burst_s, ok / burst_s);
    std::this_thread::sleep_for(std::chrono::seconds(2));  // let subscribers drain
    std::lock_guard<std::mutex> lock(mu_);
    arrived_at_.clear();
    return ok / burst_s;
  }

  // Phase 2: `rate` Submits per second, evenly paced from 8 senders, for
  // `seconds`; prints Submit-to-arrival latency. Returns the messages that
  // never arrived.
  int Steady(double rate, int seconds) {
    auto steady = Seal(static_cast<int>(rate * seconds));
    std::atomic<int> index{0};
    const auto start = Clock::now();
    std::vector<std::thread> workers;
    for (int w = 0; w < 8; ++w) {
      workers.emplace_back([&] {
        for (int i; (i = index++) < static_cast<int>(steady.size());) {
          std::this_thread::sleep_until(start + std::chrono::duration_cast<Clock::duration>(
                                                    std::chrono::duration<double>(i / rate)));
          v1::Envelope e;
          e.ParseFromString(steady[i].envelope_bytes());
          {
            std::lock_guard<std::mutex> lock(mu_);
            sent_at_[e.message_id()] = Clock::now();
          }
          (void)sender_->client().Submit(steady[i]);
        }
      });
    }
    for (auto& w : workers) w.join();
    std::this_thread::sleep_for(std::chrono::seconds(3));
    std::vector<double> ms;
    int missing = 0;
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, t] : sent_at_) {
      auto it = arrived_at_.find(id);
      if (it == arrived_at_.end()) {
        ++missing;
        continue;
      }
      ms.push_back(std::chrono::duration<double, std::milli>(it->second - t).count());
    }
    std::printf(
        "steady: %zu messages at %.0f/s to %d subscribers; latency Submit->arrival "
        "p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms; missing %d\n",
        sent_at_.size(), rate, subscribers_, Percentile(ms, 0.5), Percentile(ms, 0.9),
        Percentile(ms, 0.99), Percentile(ms, 1.0), missing);
    return missing;
  }

  void Stop() {
    for (auto& s : subs_) s->Cancel();
    for (auto& r : readers_) r.join();
    for (auto& s : subs_) (void)s->Finish();
    gateway_->Stop();
  }

 private:
  // A subscriber records each message's arrival time and acknowledges it.
  absl::Status Subscribe(const std::string& identity) {
    auto agent = safeshare::agents::AgencyAgent::Open(identity, gateway_->target());
    if (!agent.ok()) return agent.status();
    subs_.push_back((*agent)->client().Subscribe(0));
    auto* sub = subs_.back().get();
    auto* client = &(*agent)->client();
    agents_.push_back(std::move(*agent));
    readers_.emplace_back([this, sub, client] {
      v1::MailboxMessage m;
      while (sub->Read(&m)) {
        const auto now = Clock::now();
        {
          std::lock_guard<std::mutex> lock(mu_);
          arrived_at_[m.message_id()] = now;
        }
        (void)client->Ack(m.message_id());
      }
    });
    return absl::OkStatus();
  }

  const int subscribers_;
  safeshare::testing::TempDir tmp_;
  std::string fed_;
  std::unique_ptr<safeshare::testing::GatewayProcess> gateway_;
  std::unique_ptr<safeshare::agents::AgencyAgent> sender_;
  std::mutex mu_;
  std::map<std::string, Clock::time_point> sent_at_, arrived_at_;
  std::vector<std::unique_ptr<safeshare::agents::AgencyAgent>> agents_;
  std::vector<std::unique_ptr<safeshare::agents::AgentClient::Subscription>> subs_;
  std::vector<std::thread> readers_;
};

}  // namespace

int main(int argc, char** argv) {
  int subscribers = 20, seconds = 10;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--subscribers") subscribers = std::atoi(argv[i + 1]);
    if (std::string(argv[i]) == "--seconds") seconds = std::atoi(argv[i + 1]);
  }
  DeliveryBench bench(subscribers);
  if (absl::Status st = bench.Start(); !st.ok()) {
    std::fprintf(stderr, "delivery_latency: %s\n", std::string(st.message()).c_str());
    return 1;
  }
  const double max_rate = bench.MaxThroughput();
  const int missing = bench.Steady(max_rate / 2, seconds);
  bench.Stop();
  return missing == 0 ? 0 : 1;
}
