#ifndef SAFESHARE_GATEWAY_STORE_COMPLETION_EXECUTOR_H_
#define SAFESHARE_GATEWAY_STORE_COMPLETION_EXECUTOR_H_

#include <deque>
#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace safeshare::gateway {

// Runs commit callbacks in order on one thread of their own, so that a store's
// committer starts the next batch as soon as one is durable instead of
// finishing RPCs (receipts, proofs, logs) itself.
class CompletionExecutor {
 public:
  CompletionExecutor();
  // Runs everything already posted, then stops.
  ~CompletionExecutor();
  CompletionExecutor(const CompletionExecutor&) = delete;
  CompletionExecutor& operator=(const CompletionExecutor&) = delete;

  void Post(std::function<void()> fn);

 private:
  absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_STORE_COMPLETION_EXECUTOR_H_
