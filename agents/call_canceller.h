#ifndef SAFESHARE_AGENTS_CALL_CANCELLER_H_
#define SAFESHARE_AGENTS_CALL_CANCELLER_H_

// Ends a client's calls from another thread (a daemon told to stop): every
// call in flight, including one still waiting for the gateway to come back,
// and every call started afterwards, fails at once with CANCELLED.

#include <grpcpp/client_context.h>

#include <set>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace safeshare::agents {

class CallCanceller {
 public:
  // Keeps one call cancellable for its scope. A call registered after
  // CancelAll() is cancelled before it starts (gRPC cancels a context's call
  // as soon as it exists if TryCancel came first).
  class Scope {
   public:
    Scope(CallCanceller* canceller, grpc::ClientContext* ctx) : canceller_(canceller), ctx_(ctx) {
      if (canceller_ != nullptr) canceller_->Add(ctx_);
    }
    ~Scope() {
      if (canceller_ != nullptr) canceller_->Remove(ctx_);
    }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    CallCanceller* canceller_;
    grpc::ClientContext* ctx_;
  };

  void CancelAll() {
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
    for (grpc::ClientContext* ctx : calls_) ctx->TryCancel();
  }
  bool cancelled() const {
    absl::MutexLock lock(&mu_);
    return cancelled_;
  }

 private:
  void Add(grpc::ClientContext* ctx) {
    absl::MutexLock lock(&mu_);
    calls_.insert(ctx);
    if (cancelled_) ctx->TryCancel();
  }
  void Remove(grpc::ClientContext* ctx) {
    absl::MutexLock lock(&mu_);
    calls_.erase(ctx);
  }

  mutable absl::Mutex mu_;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  std::set<grpc::ClientContext*> calls_ ABSL_GUARDED_BY(mu_);
};

}  // namespace safeshare::agents

#endif  // SAFESHARE_AGENTS_CALL_CANCELLER_H_
