#ifndef SAFESHARE_GATEWAY_DELIVERY_MAILBOX_NOTIFIER_H_
#define SAFESHARE_GATEWAY_DELIVERY_MAILBOX_NOTIFIER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace safeshare::gateway {

// Wakes live subscriptions when mail arrives for their agency. Listeners
// must be quick and must not call back into the notifier.
class MailboxNotifier {
 public:
  using Listener = std::function<void()>;

  uint64_t Add(const std::string& agency_id, Listener listener);
  void Remove(uint64_t token);
  void Notify(const std::string& agency_id);
  // Wakes every subscription (after notifications may have been missed).
  void NotifyAll();
  size_t subscribers() const;

 private:
  struct Entry {
    std::string agency_id;
    Listener listener;
  };
  mutable absl::Mutex mu_;
  uint64_t next_token_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<uint64_t, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_DELIVERY_MAILBOX_NOTIFIER_H_
