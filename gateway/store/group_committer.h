#ifndef SAFESHARE_GATEWAY_STORE_GROUP_COMMITTER_H_
#define SAFESHARE_GATEWAY_STORE_GROUP_COMMITTER_H_

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "gateway/store/store.h"

namespace safeshare::gateway {

// Group commit, shared by the back-ends: jobs queue here; one committer
// thread hands up to 1024 at a time to the back-end's batch (one transaction,
// one fsync, one signed checkpoint), then their callbacks run in order on a
// completion thread, so the committer starts the next batch at once instead
// of finishing RPCs (receipts, proofs, logs) itself.
class GroupCommitter {
 public:
  // Runs `jobs` in one transaction, each job's own result in `results` (same
  // size), filling `info`; returns the commit's status (not OK: nothing of
  // the batch is durable).
  using RunBatch = std::function<absl::Status(
      const std::vector<Store::Work>& jobs, std::vector<absl::Status>& results, CommitInfo& info)>;

  explicit GroupCommitter(RunBatch run_batch);
  // Commits what is queued and runs every callback, then stops.
  ~GroupCommitter();
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  // See Store::Commit; after shutdown began, `done` gets UNAVAILABLE, and
  // RESOURCE_EXHAUSTED when max_queue jobs are waiting.
  void Commit(Store::Work work, Store::Done done);
  void SetMaxQueue(size_t max_jobs);
  // Told of every batch (jobs, time to commit, committed); set before the
  // first Commit.
  void SetObserver(Store::CommitObserver observer) { observer_ = std::move(observer); }
  // Jobs waiting for the committer.
  size_t queued() {
    absl::MutexLock lock(&queue_mu_);
    return queue_.size();
  }

 private:
  void CommitterLoop();
  void CompletionLoop();

  RunBatch run_batch_;
  Store::CommitObserver observer_;

  absl::Mutex queue_mu_;
  std::deque<std::pair<Store::Work, Store::Done>> queue_ ABSL_GUARDED_BY(queue_mu_);
  bool stopping_ ABSL_GUARDED_BY(queue_mu_) = false;
  size_t max_queue_ ABSL_GUARDED_BY(queue_mu_) = 10000;

  absl::Mutex done_mu_;
  std::deque<std::function<void()>> completions_ ABSL_GUARDED_BY(done_mu_);
  bool committer_done_ ABSL_GUARDED_BY(done_mu_) = false;

  std::thread committer_, completer_;
};

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_STORE_GROUP_COMMITTER_H_
