// `safeshare-gateway backup` and `restore`: an online backup taken under
// load, restored and verified, holds every message acknowledged before it;
// a backup that does not verify is never put in place; a store in use is
// never replaced.
#include <atomic>
#include <filesystem>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "tests/e2e/gateway_fixture.h"

namespace safeshare {
namespace {

namespace fs = std::filesystem;

class BackupE2eTest : public GatewayE2eTest {
 protected:
  // The gateway's own flags, `command` first and `extra` last (a repeated
  // flag's last value wins).
  CommandResult Run(const std::string& command, const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {testing::GatewayBinary(),
                                     command,
                                     "--listen=127.0.0.1:0",
                                     "--ca=" + federation_ + "/gateway/ca.pem",
                                     "--cert=" + federation_ + "/gateway/cert.pem",
                                     "--key=" + federation_ + "/gateway/key.pem",
                                     "--store=sqlite://" + gateway_->db_path(),
                                     "--federation=" + federation_ + "/federation.textproto",
                                     "--isa_dir=" + data_.path() + "/gw-agreements",
                                     "--audit_key=" + federation_ + "/gateway/audit-signing.pem",
                                     "--development"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return RunCommand(argv);
  }
  std::string BackupPath(const std::string& name) const { return data_.path() + "/" + name; }
};

TEST_F(BackupE2eTest, ABackupTakenUnderLoadRestoresEveryMessageAcknowledgedBeforeIt) {
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::mutex mu;
  std::vector<std::string> acknowledged;
  auto count = [&] {
    std::lock_guard<std::mutex> lock(mu);
    return acknowledged.size();
  };
  // One sender, one recipient opening and acknowledging as it goes.
  std::thread load([&] {
    auto police = Agent("hiow-police");
    auto mash = Agent("portsmouth-mash");
    auto acks = Agency("portsmouth-mash");
    if (!police || !mash || !acks) {
      ++failures;
      return;
    }
    for (int i = 0; !stop; ++i) {
      if (!police->Send(Message("hiow-police", "portsmouth-mash", absl::StrCat("load-", i))).ok()) {
        ++failures;
        continue;
      }
      auto inbox = mash->Receive();
      if (!inbox.ok()) continue;
      for (const auto& r : inbox->received) {
        if (!acks->Ack(r.message_id).ok()) continue;
        std::lock_guard<std::mutex> lock(mu);
        acknowledged.push_back(r.message_id);
      }
    }
  });
  ASSERT_TRUE(testing::WaitFor([&] { return count() >= 20; }, 60));
  std::vector<std::string> before;
  {
    std::lock_guard<std::mutex> lock(mu);
    before = acknowledged;
  }
  const std::string backup = BackupPath("backup.db");
  auto taken = Run("backup", {"--out=" + backup});
  const size_t at_backup = count();
  // The load goes on after the backup, so the restore has something to lose.
  const bool more = testing::WaitFor([&] { return count() >= at_backup + 10; }, 60);
  stop = true;
  load.join();
  ASSERT_EQ(taken.exit_code, 0) << taken.out << taken.err;
  ASSERT_TRUE(more);
  EXPECT_EQ(failures.load(), 0);
  EXPECT_NE(taken.out.find("audit log verified"), std::string::npos) << taken.out;
  EXPECT_EQ(fs::status(backup).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_FALSE(fs::exists(backup + "-wal")) << "the backup is one self-contained file";
  // Backups are never overwritten.
  auto again = Run("backup", {"--out=" + backup});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("never overwritten"), std::string::npos) << again.err;

  // Not while the gateway runs on the store, and not over a store without --replace.
  auto busy = Run("restore", {"--from=" + backup, "--replace"});
  EXPECT_EQ(busy.exit_code, 1);
  EXPECT_NE(busy.err.find("in use by another safeshare-gateway"), std::string::npos) << busy.err;
  std::string last;
  {
    std::lock_guard<std::mutex> lock(mu);
    last = acknowledged.back();
  }
  ASSERT_EQ(gateway_->Stop(), 0);
  auto kept = Run("restore", {"--from=" + backup});
  EXPECT_EQ(kept.exit_code, 1);
  EXPECT_NE(kept.err.find("--replace"), std::string::npos) << kept.err;

  auto restored = Run("restore", {"--from=" + backup, "--replace"});
  ASSERT_EQ(restored.exit_code, 0) << restored.out << restored.err;
  EXPECT_NE(restored.out.find("audit log verified"), std::string::npos) << restored.out;
  EXPECT_NE(restored.out.find("the previous store is at"), std::string::npos) << restored.out;
  EXPECT_FALSE(fs::exists(gateway_->db_path() + ".restoring"));
  size_t aside = 0;
  for (const auto& e : fs::directory_iterator(data_.path() + "/gw")) {
    if (e.path().filename().string().find("gateway.db.before-restore-") == 0) ++aside;
  }
  EXPECT_GE(aside, 1u) << "the replaced store is kept";

  StartGateway({});
  auto police = Agent("hiow-police");
  ASSERT_NE(police, nullptr);
  for (const auto& id : before) {
    auto status = police->client().GetStatus(id);
    ASSERT_TRUE(status.ok()) << id << ": " << status.status();
    EXPECT_EQ(status->state(), v1::MESSAGE_STATE_ACKNOWLEDGED) << id;
  }
  // A point-in-time copy: what came after it is not in it.
  auto lost = police->client().GetStatus(last);
  EXPECT_EQ(lost.status().code(), absl::StatusCode::kPermissionDenied) << last;  // absent
  EXPECT_NE(lost.status().message().find("no message with id"), std::string::npos) << lost.status();
  // The log went back: an agent that verified it beyond the backup refuses
  // the gateway rather than trust keys from a log that may be forked...
  auto refused = police->Send(Message("hiow-police", "portsmouth-mash", "after-restore"));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("this agent verified before"), std::string::npos)
      << refused.status();
  // ...until its agency, told of the restore, forgets what it verified.
  EXPECT_NE(restored.out.find("key-log.textproto"), std::string::npos) << restored.out;
  fs::remove(AgencyDir("hiow-police") + "/key-log.textproto");
  police = Agent("hiow-police");
  ASSERT_NE(police, nullptr);
  auto next = police->Send(Message("hiow-police", "portsmouth-mash", "after-restore"));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_TRUE(verification::VerifyReceipt(*next, AuditLog()).ok());
}

TEST_F(BackupE2eTest, ABackupThatDoesNotVerifyIsNeverPutInPlace) {
  auto police = Agent("hiow-police");
  ASSERT_NE(police, nullptr);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(
        police->Send(Message("hiow-police", "portsmouth-mash", absl::StrCat("m-", i))).ok());
  }
  const std::string backup = BackupPath("tampered.db");
  auto taken = Run("backup", {"--out=" + backup});
  ASSERT_EQ(taken.exit_code, 0) << taken.err;
  ASSERT_EQ(gateway_->Stop(), 0);

  // One changed record: the recomputed tree no longer meets the signed root.
  ASSERT_EQ(testing::ExecSqlite(backup,
                                "UPDATE audit_log SET record = record || X'00' WHERE seq = "
                                "(SELECT MAX(seq) FROM audit_log)"),
            "");
  auto tampered = Run("restore", {"--from=" + backup, "--replace"});
  EXPECT_EQ(tampered.exit_code, 1);
  EXPECT_NE(tampered.err.find("DATA_LOSS"), std::string::npos) << tampered.err;
  EXPECT_NE(tampered.err.find("does not verify"), std::string::npos) << tampered.err;

  // Not a store at all.
  const std::string junk = BackupPath("junk.db");
  { std::ofstream(junk) << "this is not a database, though it is named like one\n"; }
  auto not_a_store = Run("restore", {"--from=" + junk, "--replace"});
  EXPECT_EQ(not_a_store.exit_code, 1);
  EXPECT_NE(not_a_store.err.find("junk.db"), std::string::npos) << not_a_store.err;

  // The store is as it was: no staged copy left, nothing moved aside, the
  // messages there.
  EXPECT_FALSE(fs::exists(gateway_->db_path() + ".restoring"));
  for (const auto& e : fs::directory_iterator(data_.path() + "/gw")) {
    EXPECT_EQ(e.path().filename().string().find("gateway.db.before-restore-"), std::string::npos);
  }
  StartGateway({});
  police = Agent("hiow-police");
  ASSERT_NE(police, nullptr);
  auto status = police->client().GetStatus("m-2");
  ASSERT_TRUE(status.ok()) << status.status();
}

TEST_F(BackupE2eTest, ABackupOfAnotherFederationsStoreIsRefused) {
  ASSERT_TRUE(Agent("hiow-police")->Send(Message("hiow-police", "portsmouth-mash", "m")).ok());
  const std::string backup = BackupPath("ours.db");
  ASSERT_EQ(Run("backup", {"--out=" + backup}).exit_code, 0);
  ASSERT_EQ(gateway_->Stop(), 0);
  // Another partnership's federation file: its own audit key.
  TempDir other;
  const std::string theirs = testing::MakeFederation(other);
  ASSERT_FALSE(theirs.empty());
  auto r = Run("restore", {"--from=" + backup, "--replace",
                           "--federation=" + theirs + "/federation.textproto"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("does not verify"), std::string::npos) << r.err;
}

TEST_F(BackupE2eTest, TwoGatewaysNeverShareOneStoreFile) {
  testing::GatewayProcess second(federation_, data_.path() + "/gw", {});
  EXPECT_FALSE(second.Start());
  std::ifstream in(second.log_path());
  const std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(log.find("in use by another safeshare-gateway"), std::string::npos) << log;
  // The first is unharmed.
  EXPECT_TRUE(Agent("hiow-police")->Send(Message("hiow-police", "portsmouth-mash", "m")).ok());
}

TEST_F(BackupE2eTest, APostgresStoreIsBackedUpWithPostgresTools) {
  auto r =
      Run("backup", {"--out=" + BackupPath("pg.db"), "--store=postgresql://localhost/safeshare"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("FAILED_PRECONDITION"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("pg_basebackup"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(BackupPath("pg.db")));
}

}  // namespace
}  // namespace safeshare
