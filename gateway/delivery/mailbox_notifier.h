#ifndef SAFESHARE_GATEWAY_DELIVERY_MAILBOX_NOTIFIER_H_
#define SAFESHARE_GATEWAY_DELIVERY_MAILBOX_NOTIFIER_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace safeshare::gateway {

// The live subscriptions, and what wakes them when mail arrives for their
// agency. Notify only marks a subscription ready; its listener (which reads
// the store) runs later on one of the notifier's own threads, never on the
// caller's (the committer's completion thread), and never twice at once.
// It also holds the limits on open subscriptions.
class MailboxNotifier {
 public:
  using Listener = std::function<void()>;

  explicit MailboxNotifier(int threads = 2);
  // Every listener must have been removed.
  ~MailboxNotifier();
  MailboxNotifier(const MailboxNotifier&) = delete;
  MailboxNotifier& operator=(const MailboxNotifier&) = delete;

  // Open subscriptions allowed per principal (certificate identity) and in
  // all; defaults 4 and 1024 (the config's).
  void SetLimits(size_t per_principal, size_t total);

  // Registers a subscription of `principal` to `agency_id`'s mail and marks
  // it ready once. RESOURCE_EXHAUSTED, naming the limit, when the principal
  // or the gateway has as many open as allowed.
  absl::StatusOr<uint64_t> Add(const std::string& agency_id, const std::string& principal,
                               Listener listener);
  // After Remove returns, the listener is not running and never runs again.
  // Must not be called from the listener itself.
  void Remove(uint64_t token);
  // Marks ready one subscription, or every one of an agency, or every one
  // (after notifications may have been missed, or the directory changed).
  void Wake(uint64_t token);
  void Notify(const std::string& agency_id);
  void NotifyAll();
  size_t subscribers() const;

 private:
  struct Entry {
    std::string agency_id, principal;
    Listener listener;
  };
  void MarkReadyLocked(uint64_t token) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WorkerLoop();

  mutable absl::Mutex mu_;
  size_t max_per_principal_ ABSL_GUARDED_BY(mu_) = 4;
  size_t max_total_ ABSL_GUARDED_BY(mu_) = 1024;
  uint64_t next_token_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<uint64_t, Entry> entries_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, size_t> per_principal_ ABSL_GUARDED_BY(mu_);
  // Marked and not yet running (each once); running now; marked while
  // running (to run again after).
  std::deque<uint64_t> ready_ ABSL_GUARDED_BY(mu_);
  std::set<uint64_t> queued_ ABSL_GUARDED_BY(mu_);
  std::set<uint64_t> running_ ABSL_GUARDED_BY(mu_);
  std::set<uint64_t> rerun_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_;
};

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_DELIVERY_MAILBOX_NOTIFIER_H_
