#include "gateway/store/group_committer.h"

#include <pthread.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/error_reason.h"
#include "common/log.h"
#include "common/refusal_reasons.h"

namespace safeshare::gateway {

GroupCommitter::GroupCommitter(RunBatch run_batch) : run_batch_(std::move(run_batch)) {
  committer_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "committer");
    CommitterLoop();
  });
  completer_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "completer");
    CompletionLoop();
  });
}

GroupCommitter::~GroupCommitter() {
  {
    absl::MutexLock lock(&queue_mu_);
    stopping_ = true;
  }
  committer_.join();
  {
    absl::MutexLock lock(&done_mu_);
    committer_done_ = true;
  }
  completer_.join();
}

void GroupCommitter::SetMaxQueue(size_t max_jobs) {
  absl::MutexLock lock(&queue_mu_);
  max_queue_ = max_jobs;
}

void GroupCommitter::Commit(Store::Work work, Store::Done done) {
  absl::Status refused;
  {
    absl::MutexLock lock(&queue_mu_);
    if (stopping_) {
      refused = absl::UnavailableError("store: shutting down");
    } else if (queue_.size() >= max_queue_) {
      refused = WithReason(absl::ResourceExhaustedError(absl::StrCat(
                               "the gateway is busy: ", max_queue_,
                               " writes are waiting (limits.max_commit_queue); retry with the same "
                               "message id after a short back-off")),
                           reason::kGatewayBusy);
    } else {
      queue_.emplace_back(std::move(work), std::move(done));
      return;
    }
  }
  done(refused, CommitInfo());  // no lock held
}

void GroupCommitter::CommitterLoop() {
  constexpr size_t kMaxBatch = 1024;
  for (;;) {
    std::vector<Store::Work> jobs;
    std::vector<Store::Done> dones;
    {
      absl::MutexLock lock(&queue_mu_);
      queue_mu_.Await(absl::Condition(
          +[](GroupCommitter* g)
               ABSL_NO_THREAD_SAFETY_ANALYSIS { return g->stopping_ || !g->queue_.empty(); },
          this));
      if (queue_.empty()) return;  // stopping, and nothing left to do
      while (!queue_.empty() && jobs.size() < kMaxBatch) {
        jobs.push_back(std::move(queue_.front().first));
        dones.push_back(std::move(queue_.front().second));
        queue_.pop_front();
      }
    }
    std::vector<absl::Status> results(jobs.size());
    auto info = std::make_shared<CommitInfo>();
    const absl::Time started = absl::Now();
    const absl::Status committed = run_batch_(jobs, results, *info);
    if (observer_) observer_(jobs.size(), absl::Now() - started, committed.ok());
    if (!committed.ok()) {
      // Nothing of this batch is durable; say so plainly in the log.
      LogEvent("error", "store.commit_failed",
               {{"jobs", absl::StrCat(jobs.size())},
                {"code", absl::StatusCodeToString(committed.code())},
                {"detail", std::string(committed.message())}});
    }
    absl::MutexLock lock(&done_mu_);
    for (size_t i = 0; i < dones.size(); ++i) {
      completions_.push_back([done = std::move(dones[i]),
                              st = committed.ok() ? results[i] : committed,
                              info] { done(st, *info); });
    }
  }
}

void GroupCommitter::CompletionLoop() {
  for (;;) {
    std::deque<std::function<void()>> ready;
    {
      absl::MutexLock lock(&done_mu_);
      done_mu_.Await(absl::Condition(
          +[](GroupCommitter* g) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return g->committer_done_ || !g->completions_.empty();
          },
          this));
      if (completions_.empty()) return;  // the committer has stopped: nothing more comes
      ready.swap(completions_);
    }
    for (auto& fn : ready) fn();
  }
}

}  // namespace safeshare::gateway
