#ifndef SAFESHARE_GATEWAY_DELIVERY_ESCALATOR_H_
#define SAFESHARE_GATEWAY_DELIVERY_ESCALATOR_H_

#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gateway/delivery/mailbox_notifier.h"
#include "gateway/federation_directory.h"
#include "gateway/store/store.h"

namespace safeshare::gateway {

// Finds messages not acknowledged by their deadline and escalates each once:
// the state becomes ESCALATED (the sender sees it), the escalation is
// audited, and each of the recipient agency's escalation contacts gets an
// ESCALATION message in its own mailbox. Nothing is ever dropped. The same
// scan purges content whose retention after acknowledgement ran out (the
// audit record stays).
class Escalator {
 public:
  Escalator(MailboxStore* store, const FederationHolder* directory, MailboxNotifier* notifier,
            absl::Duration interval);
  ~Escalator();  // stops the scanning thread

  // One scan, waited for (the thread calls this; tests may too).
  absl::Status ScanOnce(absl::Time now);

 private:
  MailboxStore* store_;
  const FederationHolder* directory_;
  MailboxNotifier* notifier_;
  absl::Duration interval_;
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_DELIVERY_ESCALATOR_H_
