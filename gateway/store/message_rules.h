#ifndef SAFESHARE_GATEWAY_STORE_MESSAGE_RULES_H_
#define SAFESHARE_GATEWAY_STORE_MESSAGE_RULES_H_

// The mailbox rules both back-ends apply to a loaded message before they
// write: who may settle it, what may be decided, and their errors.

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gateway/store/store.h"

namespace safeshare::gateway::message_rules {

// The message, if it is in `recipient`'s mailbox; PERMISSION_DENIED if it is
// absent, someone else's, held or refused.
absl::StatusOr<StoredMessage> InMailbox(std::optional<StoredMessage> loaded,
                                        const std::string& recipient,
                                        const std::string& message_id);

// The message, if it is held for an officer's decision; NOT_FOUND if absent
// or not sent by one of `senders` (the officer's scope; empty: any), checked
// before its state, so that an officer learns nothing of messages outside its
// scope; FAILED_PRECONDITION if not held.
absl::StatusOr<StoredMessage> HeldForDecision(std::optional<StoredMessage> loaded,
                                              const std::string& message_id,
                                              const std::vector<std::string>& senders);

// NOT_FOUND: no message has this id.
absl::Status NoSuchMessage(const std::string& message_id);

// FAILED_PRECONDITION unless the message a reply answers is stored.
absl::Status AnsweredIsStored(const std::optional<StoredMessage>& answered,
                              const std::string& answered_id);

// RESOURCE_EXHAUSTED, naming the limit, when a thread already holds
// `max_replies` replies to `root_id`.
absl::Status ReplyQuota(uint64_t replies, uint32_t max_replies, const std::string& root_id);

// RESOURCE_EXHAUSTED when a mailbox holding `held_bytes` of unacknowledged
// content cannot take `incoming` more within `quota`.
absl::Status MailboxQuota(uint64_t held_bytes, uint64_t incoming, uint64_t quota,
                          const std::string& recipient);

// Whether a new message's deadline is open (to be acknowledged, answered or
// decided): a SUBMITTED or HELD message with a deadline.
bool OpensDeadline(const StoredMessage& m);

}  // namespace safeshare::gateway::message_rules

#endif  // SAFESHARE_GATEWAY_STORE_MESSAGE_RULES_H_
