#ifndef SAFESHARE_GATEWAY_DELIVERY_HAND_OVER_H_
#define SAFESHARE_GATEWAY_DELIVERY_HAND_OVER_H_

// Handing mail to its recipient, shared by Mailbox.Fetch and Subscribe: the
// messages are read from committed data, and their first hand-over is then
// recorded (state DELIVERED and an audit record) in one job.

#include <memory>
#include <string>
#include <vector>

#include "gateway/federation_directory.h"
#include "gateway/store/store.h"
#include "safeshare/v1/mailbox.pb.h"

namespace safeshare::gateway {

// The job that records first hand-overs (FirstHandOvers), each audited as DELIVERED by
// `actor_uri`. The messages it marked go to `marked`, when given.
MailboxStore::Work RecordHandOvers(std::string recipient, std::vector<uint64_t> sequences,
                                   std::string actor_uri,
                                   std::shared_ptr<const FederationDirectory> directory,
                                   std::shared_ptr<std::vector<StoredMessage>> marked = nullptr);

// The mailbox form of a stored message: its envelope, or for a gateway-raised
// ESCALATION the notice.
absl::Status ToMailboxMessage(const StoredMessage& m, safeshare::v1::MailboxMessage* out);

// After Acknowledge or RefuseContent marked a message handed over at `now`
// (never handed over before): its DELIVERED record.
absl::Status AuditLateHandOver(StoreTransaction& tx, const StoredMessage& m, absl::Time now,
                               const std::string& uri, const FederationDirectory& directory);

// A message's state as its sender sees it: FORWARDING while a message to a
// peer federation's agency waits for that gateway.
safeshare::v1::MessageState ForwardingOrState(const FederationDirectory& directory,
                                              const StoredMessage& m);

// A message's status as its sender and recipient see it (never content).
void ToMessageStatus(const StoredMessage& m, safeshare::v1::GetStatusResponse* out);

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_DELIVERY_HAND_OVER_H_
