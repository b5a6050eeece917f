#include "gateway/store/completion_executor.h"

namespace safeshare::gateway {

CompletionExecutor::CompletionExecutor() {
  thread_ = std::thread([this] {
    for (;;) {
      std::deque<std::function<void()>> ready;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(
            +[](CompletionExecutor* e) ABSL_NO_THREAD_SAFETY_ANALYSIS {
              return e->stopping_ || !e->queue_.empty();
            },
            this));
        if (queue_.empty()) return;
        ready.swap(queue_);
      }
      for (auto& fn : ready) fn();
    }
  });
}

CompletionExecutor::~CompletionExecutor() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void CompletionExecutor::Post(std::function<void()> fn) {
  absl::MutexLock lock(&mu_);
  queue_.push_back(std::move(fn));
}

}  // namespace safeshare::gateway
