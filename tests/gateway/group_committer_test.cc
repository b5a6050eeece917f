// The group committer on its own, with a batch runner instead of a database:
// every callback runs once, after its batch, in submission order; a job's
// error reaches only its own callback, a failed commit every callback.
#include "gateway/store/group_committer.h"

#include <chrono>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "common/error_reason.h"
#include "gtest/gtest.h"

namespace safeshare::gateway {
namespace {

// Jobs here never touch the transaction.
class NoTransaction : public StoreTransaction {
 public:
  absl::StatusOr<InsertResult> InsertMessage(const StoredMessage&) override { return Unused(); }
  absl::Status CheckReplyQuota(const StoredMessage&, uint32_t) override {
    return absl::InternalError("unused");
  }
  absl::Status CheckMailboxQuota(const StoredMessage&, uint64_t) override {
    return absl::InternalError("unused");
  }
  absl::StatusOr<StoredMessage> Acknowledge(const std::string&, const std::string&,
                                            absl::Time) override {
    return Unused();
  }
  absl::StatusOr<StoredMessage> RefuseContent(const std::string&, const std::string&,
                                              safeshare::v1::ContentRefusalReason,
                                              const std::string&, absl::Time) override {
    return Unused();
  }
  absl::StatusOr<std::vector<StoredMessage>> MarkDelivered(const std::string&,
                                                           const std::vector<uint64_t>&,
                                                           absl::Time) override {
    return Unused();
  }
  absl::StatusOr<StoredMessage> ResolveHeld(const std::string&, const std::vector<std::string>&,
                                            bool,
                                            const std::function<absl::Time(const StoredMessage&)>&,
                                            absl::Time) override {
    return Unused();
  }
  absl::StatusOr<std::vector<StoredMessage>> EscalateOverdue(absl::Time, int) override {
    return Unused();
  }
  absl::StatusOr<std::vector<StoredMessage>> PurgeExpired(absl::Time, int) override {
    return Unused();
  }
  absl::Status ReplaceReceipt(const std::string&, const std::string&, const std::string&) override {
    return absl::InternalError("unused");
  }
  absl::StatusOr<uint64_t> AppendAudit(safeshare::v1::AuditRecord, std::string*) override {
    return Unused();
  }
  absl::StatusOr<SeedResult> SeedKey(const AgencyKey&, absl::Time) override { return Unused(); }
  absl::StatusOr<safeshare::v1::PublicKey> PublishKey(const AgencyKey&, absl::Time) override {
    return Unused();
  }
  absl::StatusOr<safeshare::v1::PublicKey> RevokeKey(const std::string&, const std::string&,
                                                     absl::Time) override {
    return Unused();
  }
  absl::StatusOr<std::optional<uint64_t>> LastKeyEvent(const std::string&) override {
    return Unused();
  }
  absl::Status RecordKeyEvent(const KeyEventRow&) override { return Unused(); }
  absl::StatusOr<uint64_t> ChangeAuditText(const AuditTextChange&) override { return Unused(); }

 private:
  static absl::Status Unused() { return absl::InternalError("not used by these tests"); }
};

// Runs each batch's jobs, numbering batches in CommitInfo::tree_size; the
// first batch can be held until the test releases it.
struct FakeBackend {
  absl::Mutex mu;
  std::vector<size_t> batch_sizes ABSL_GUARDED_BY(mu);
  absl::Status commit_result = absl::OkStatus();
  absl::Notification* hold_first = nullptr;
  absl::Notification first_started;

  GroupCommitter::RunBatch Runner() {
    return [this](const std::vector<Store::Work>& jobs, std::vector<absl::Status>& results,
                  CommitInfo& info) {
      size_t batch;
      {
        absl::MutexLock lock(&mu);
        batch = batch_sizes.size();
        batch_sizes.push_back(jobs.size());
      }
      if (batch == 0) {
        first_started.Notify();
        if (hold_first != nullptr) hold_first->WaitForNotification();
      }
      NoTransaction tx;
      for (size_t i = 0; i < jobs.size(); ++i) results[i] = jobs[i](tx);
      info.tree_size = batch;
      return commit_result;
    };
  }
};

// Callbacks' record: which job finished, in what order, with what status.
struct Finished {
  absl::Mutex mu;
  std::vector<int> order ABSL_GUARDED_BY(mu);
  std::vector<absl::Status> statuses ABSL_GUARDED_BY(mu);

  Store::Done For(int job, absl::Duration linger = absl::ZeroDuration()) {
    return [this, job, linger](const absl::Status& st, const CommitInfo&) {
      absl::SleepFor(linger);  // a slow callback keeps the completion thread busy
      absl::MutexLock lock(&mu);
      order.push_back(job);
      statuses.push_back(st);
    };
  }
};

Store::Work Succeeds() {
  return [](StoreTransaction&) { return absl::OkStatus(); };
}

TEST(GroupCommitterTest, CallbacksKeepSubmissionOrderAcrossLargeAndSmallBatches) {
  FakeBackend backend;
  absl::Notification release;
  backend.hold_first = &release;
  Finished finished;
  int next = 0;
  {
    GroupCommitter committer(backend.Runner());
    committer.Commit(Succeeds(), finished.For(next++));
    backend.first_started.WaitForNotification();
    // Queued behind the held batch: one large batch with slow callbacks...
    for (int i = 0; i < 40; ++i)
      committer.Commit(Succeeds(), finished.For(next++, absl::Milliseconds(2)));
    release.Notify();
    // ...and small batches after it, whose callbacks must not overtake them.
    for (int i = 0; i < 30; ++i) {
      committer.Commit(Succeeds(), finished.For(next++));
      absl::SleepFor(absl::Milliseconds(1));
    }
  }  // the destructor commits what is queued and runs every callback
  absl::MutexLock lock(&finished.mu);
  ASSERT_EQ(finished.order.size(), static_cast<size_t>(next));
  for (int i = 0; i < next; ++i) EXPECT_EQ(finished.order[i], i);
  absl::MutexLock backend_lock(&backend.mu);
  EXPECT_GE(backend.batch_sizes[1], 40u);  // the large batch was one batch
  EXPECT_GT(backend.batch_sizes.size(), 3u);
}

// Back-pressure: a full queue refuses at once (the caller is told to retry)
// and keeps every job it accepted.
TEST(GroupCommitterTest, AFullQueueRefusesWithResourceExhaustedAndKeepsWhatItAccepted) {
  FakeBackend backend;
  absl::Notification release;
  backend.hold_first = &release;
  Finished finished;
  {
    GroupCommitter committer(backend.Runner());
    committer.SetMaxQueue(3);
    committer.Commit(Succeeds(), finished.For(0));
    backend.first_started.WaitForNotification();  // job 0 is in the held batch
    for (int i = 1; i <= 4; ++i) committer.Commit(Succeeds(), finished.For(i));
    {
      absl::MutexLock lock(&finished.mu);
      ASSERT_EQ(finished.order, std::vector<int>{4}) << "refused before any commit";
      EXPECT_EQ(finished.statuses[0].code(), absl::StatusCode::kResourceExhausted);
      EXPECT_NE(finished.statuses[0].message().find("limits.max_commit_queue"), std::string::npos);
      ASSERT_TRUE(ReasonOf(finished.statuses[0]).has_value());
      EXPECT_EQ(ReasonOf(finished.statuses[0])->reason(), "GATEWAY_BUSY");
    }
    release.Notify();
  }
  absl::MutexLock lock(&finished.mu);
  ASSERT_EQ(finished.order, (std::vector<int>{4, 0, 1, 2, 3}));
  for (size_t i = 1; i < finished.statuses.size(); ++i) EXPECT_TRUE(finished.statuses[i].ok());
}

TEST(GroupCommitterTest, AJobsErrorReachesOnlyItsCallback) {
  FakeBackend backend;
  absl::Notification release;
  backend.hold_first = &release;
  Finished finished;
  {
    GroupCommitter committer(backend.Runner());
    committer.Commit(Succeeds(), finished.For(0));
    backend.first_started.WaitForNotification();
    committer.Commit(Succeeds(), finished.For(1));
    committer.Commit([](StoreTransaction&) { return absl::NotFoundError("no such message"); },
                     finished.For(2));
    committer.Commit(Succeeds(), finished.For(3));
    release.Notify();
  }
  absl::MutexLock lock(&finished.mu);
  ASSERT_EQ(finished.statuses.size(), 4u);
  EXPECT_TRUE(finished.statuses[0].ok());
  EXPECT_TRUE(finished.statuses[1].ok());
  EXPECT_EQ(finished.statuses[2].code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(finished.statuses[3].ok());
}

TEST(GroupCommitterTest, AFailedCommitFailsEveryJobInTheBatch) {
  FakeBackend backend;
  backend.commit_result = absl::UnavailableError("disk full");
  Finished finished;
  {
    GroupCommitter committer(backend.Runner());
    for (int i = 0; i < 20; ++i) committer.Commit(Succeeds(), finished.For(i));
  }
  absl::MutexLock lock(&finished.mu);
  ASSERT_EQ(finished.statuses.size(), 20u);
  for (const absl::Status& st : finished.statuses) {
    EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable);
  }
}

TEST(GroupCommitterTest, CallbacksSeeTheirOwnBatchsCommit) {
  FakeBackend backend;
  absl::Notification release;
  backend.hold_first = &release;
  absl::Mutex mu;
  std::vector<uint64_t> batch_of(12);
  {
    GroupCommitter committer(backend.Runner());
    auto record = [&](int job) {
      return [&, job](const absl::Status&, const CommitInfo& info) {
        absl::MutexLock lock(&mu);
        batch_of[job] = info.tree_size;
      };
    };
    committer.Commit(Succeeds(), record(0));
    backend.first_started.WaitForNotification();
    for (int i = 1; i < 12; ++i) committer.Commit(Succeeds(), record(i));  // batch 1: large
    release.Notify();
  }
  absl::MutexLock lock(&mu);
  EXPECT_EQ(batch_of[0], 0u);
  for (int i = 1; i < 12; ++i) EXPECT_EQ(batch_of[i], 1u) << "job " << i;
}

}  // namespace
}  // namespace safeshare::gateway
