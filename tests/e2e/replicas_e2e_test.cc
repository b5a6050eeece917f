// Scale-out end-to-end: three gateway processes on one PostgreSQL database,
// over real mutual TLS, driven by the real agent code and agent daemons. One
// replica is killed mid-run; nothing accepted is lost or duplicated, and the
// audit log stays one log that verifies.

#include <signal.h>

#include <atomic>
#include <mutex>
#include <set>

#include "agents/inbox_daemon.h"
#include "tests/e2e/gateway_fixture.h"

namespace safeshare {
namespace {

namespace fs = std::filesystem;

class ReplicasE2eTest : public GatewayE2eTest {
 protected:
  void SetUp() override {
    SAFESHARE_FRESH_POSTGRES_OR_SKIP(database_);
    UseOwnFederation();
    // Replica 0 is the fixture's gateway_, so the fixture's helpers use it.
    for (int i = 0; i < 3; ++i) {
      const std::string dir = data_.path() + "/replica-" + std::to_string(i);
      auto replica = std::make_unique<GatewayProcess>(
          federation_, dir,
          std::vector<std::string>{"--store=" + database_, "--runtime_dir=" + dir});
      ASSERT_TRUE(replica->Start())
          << "replica " << i << " did not start; see " << replica->log_path();
      if (i == 0) {
        gateway_ = std::move(replica);
      } else {
        others_.push_back(std::move(replica));
      }
    }
  }

  GatewayProcess& Replica(int i) { return i == 0 ? *gateway_ : *others_[i - 1]; }

  std::unique_ptr<agents::AgencyAgent> AgentOn(int replica, const std::string& id) {
    auto agent = agents::AgencyAgent::Open(AgencyDir(id), Replica(replica).target());
    EXPECT_TRUE(agent.ok()) << agent.status();
    return agent.ok() ? std::move(*agent) : nullptr;
  }

  std::vector<std::string> DaemonArgv(const std::string& agency, const std::string& inbox,
                                      int replica) {
    return {testing::CliBinary(),
            "agent",
            "run",
            "--identity=" + AgencyDir(agency),
            "--inbox=" + inbox,
            "--gateway=" + Replica(replica).target()};
  }

  static std::set<std::string> Stored(const std::string& dir) {
    std::set<std::string> ids;
    std::error_code ec;
    const std::string suffix = ".envelope.json";
    for (const auto& f : fs::directory_iterator(dir, ec)) {
      const std::string name = f.path().filename().string();
      if (name.size() > suffix.size() &&
          name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
        ids.insert(name.substr(0, name.size() - suffix.size()));
      }
    }
    return ids;
  }

  std::string database_;
  std::vector<std::unique_ptr<GatewayProcess>> others_;
};

TEST_F(ReplicasE2eTest, ASubscriberOnOneReplicaGetsMailSubmittedThroughAnother) {
  auto mash = ClientFor(AgencyDir("portsmouth-mash"));  // replica 0
  auto sub = mash->Subscribe(0);
  auto police = AgentOn(2, "hiow-police");
  auto sent = police->Send(Message("hiow-police", "portsmouth-mash", "across-replicas"));
  ASSERT_TRUE(sent.ok()) << sent.status();
  v1::MailboxMessage got;
  ASSERT_TRUE(sub->Read(&got)) << "woken by the other replica's NOTIFY";
  EXPECT_EQ(got.message_id(), "across-replicas");
  // Acknowledged on a third replica; the sender sees it on the second.
  ASSERT_TRUE(AgentOn(1, "portsmouth-mash")->client().Ack("across-replicas").ok());
  auto status = police->client().GetStatus("across-replicas");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->state(), v1::MESSAGE_STATE_ACKNOWLEDGED);
  sub->Cancel();
  (void)sub->Finish();
  ExpectAuditLogVerifies();
}

TEST_F(ReplicasE2eTest, AKeyPublishedThroughOneReplicaIsCurrentOnTheOthers) {
  // Southampton rotates its encryption key through replica 1.
  auto southampton = AgentOn(1, "southampton-mash");
  auto rotated = southampton->RotateKeys(/*signing=*/false, /*encryption=*/true);
  ASSERT_TRUE(rotated.ok()) << rotated.status();
  ASSERT_EQ(rotated->size(), 1u);
  const std::string new_key = (*rotated)[0].key_id();

  // Replica 2 hears of it (NOTIFY) and seals to, and accepts, the new key.
  auto police = AgentOn(2, "hiow-police");
  absl::StatusOr<v1::SignedEnvelope> sealed;
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        sealed = police->Seal(Message("hiow-police", "southampton-mash", "to-new-key"));
        return sealed.ok() && Open(*sealed).payload().recipient_key_id() == new_key;
      },
      20))
      << "replica 2's directory still lists the old key";
  auto sent = police->client().Submit(*sealed);
  ASSERT_TRUE(sent.ok()) << sent.status();

  // Received through replica 0, opened with the new key.
  auto inbox = AgentOn(0, "southampton-mash")->Receive();
  ASSERT_TRUE(inbox.ok()) << inbox.status();
  ASSERT_EQ(inbox->received.size(), 1u);
  EXPECT_EQ(inbox->received[0].message_id, "to-new-key");
  ExpectAuditLogVerifies();
}

// One story, kept whole (longer than a function should be) so that it reads
// as the failover it tests.
TEST_F(ReplicasE2eTest, ConcurrentSubmitsSurviveAKilledReplicaExactlyOnceInOneLog) {
  const std::string inbox_pm = data_.path() + "/inbox-pm", inbox_iow = data_.path() + "/inbox-iow";
  testing::ChildProcess pm, iow;
  ASSERT_TRUE(pm.Start(DaemonArgv("portsmouth-mash", inbox_pm, 0), data_.path() + "/pm.log"));
  ASSERT_TRUE(iow.Start(DaemonArgv("iow-mash", inbox_iow, 1), data_.path() + "/iow.log"));

  // Three senders, one per replica. A Submit that fails for want of a replica
  // moves to the next one with the same sealed envelope, as behind a load
  // balancer; the message id keeps it idempotent.
  constexpr int kEach = 20;
  std::mutex mu;
  std::set<std::string> accepted_pm, accepted_iow;
  std::atomic<int> sent_via_2{0}, failovers{0};
  std::atomic<bool> killed{false};
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  auto sender = [&](int replica) {
    int on = replica;
    auto agent = AgentOn(on, "hiow-police");
    ASSERT_NE(agent, nullptr);
    for (int i = 0; i < kEach; ++i) {
      const std::string to = i % 2 ? "portsmouth-mash" : "iow-mash";
      auto m = Message("hiow-police", to, absl::StrCat("r", replica, "-", i));
      absl::StatusOr<v1::SignedEnvelope> sealed = agent->Seal(m);
      while (!sealed.ok() && std::chrono::steady_clock::now() < give_up) {
        on = (on + 1) % 3;  // its replica is gone: the directory read failed
        ++failovers;
        agent = AgentOn(on, "hiow-police");
        if (agent != nullptr) sealed = agent->Seal(m);
      }
      ASSERT_TRUE(sealed.ok()) << sealed.status();
      for (;;) {
        ASSERT_LT(std::chrono::steady_clock::now(), give_up) << "gave up on " << m.message_id;
        auto r = agent != nullptr ? agent->client().Submit(*sealed)
                                  : absl::StatusOr<v1::SubmitResponse>(absl::UnavailableError("x"));
        if (r.ok()) {
          std::lock_guard<std::mutex> lock(mu);
          (to == "portsmouth-mash" ? accepted_pm : accepted_iow).insert(r->message_id());
          break;
        }
        ASSERT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
        ++failovers;
        on = (on + 1) % 3;
        agent = AgentOn(on, "hiow-police");
      }
      if (replica == 2 && ++sent_via_2 == 6) {
        // The rest of this sender's messages go out after its replica dies.
        while (!killed) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    }
  };
  std::vector<std::thread> senders;
  for (int r = 0; r < 3; ++r) senders.emplace_back(sender, r);
  ASSERT_TRUE(testing::WaitFor([&] { return sent_via_2 >= 6; }, 60));
  others_[1]->Kill();  // replica 2, SIGKILL mid-run
  killed = true;
  for (auto& t : senders) t.join();
  EXPECT_GT(failovers, 0) << "the killed replica's sender moved on";

  ASSERT_EQ(accepted_pm.size() + accepted_iow.size(), 3u * kEach) << "every Submit accepted once";
  EXPECT_TRUE(testing::WaitFor(
      [&] { return Stored(inbox_pm) == accepted_pm && Stored(inbox_iow) == accepted_iow; }, 60))
      << Stored(inbox_pm).size() << "/" << accepted_pm.size() << " and " << Stored(inbox_iow).size()
      << "/" << accepted_iow.size();
  // Every hand-over was acknowledged before the daemons stop.
  auto police = AgentOn(1, "hiow-police");
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        for (const auto* ids : {&accepted_pm, &accepted_iow}) {
          for (const auto& id : *ids) {
            auto st = police->client().GetStatus(id);
            if (!st.ok() || st->state() != v1::MESSAGE_STATE_ACKNOWLEDGED) return false;
          }
        }
        return true;
      },
      60));
  pm.Signal(SIGTERM);
  iow.Signal(SIGTERM);
  EXPECT_EQ(pm.Wait(), 0);
  EXPECT_EQ(iow.Wait(), 0);

  // One linear log: exactly one decision per accepted message, one delivery
  // and one acknowledgement each, and nothing else but the DPO's reading of
  // it (the first page's read is on the second page).
  int decisions = 0, delivered = 0, acknowledged = 0, reads = 0;
  const auto records = Audit();
  for (const auto& r : records) {
    decisions += r.event() == v1::AUDIT_EVENT_TYPE_DECISION;
    delivered += r.event() == v1::AUDIT_EVENT_TYPE_DELIVERED;
    acknowledged += r.event() == v1::AUDIT_EVENT_TYPE_ACKNOWLEDGED;
    reads += r.event() == v1::AUDIT_EVENT_TYPE_RECORDS_READ;
  }
  EXPECT_EQ(decisions, 3 * kEach);
  EXPECT_EQ(delivered, 3 * kEach);
  EXPECT_EQ(acknowledged, 3 * kEach);
  EXPECT_EQ(reads, 1);
  EXPECT_EQ(records.size(), 9u * kEach + 1);
  ExpectAuditLogVerifies();
}

}  // namespace
}  // namespace safeshare
