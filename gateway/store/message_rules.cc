#include "gateway/store/message_rules.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/error_reason.h"
#include "common/refusal_reasons.h"

namespace safeshare::gateway::message_rules {

absl::StatusOr<StoredMessage> InMailbox(std::optional<StoredMessage> loaded,
                                        const std::string& recipient,
                                        const std::string& message_id) {
  // Same answer whether the message is absent or someone else's: a mailbox
  // reveals nothing about other agencies' traffic.
  const bool deliverable = loaded.has_value() && loaded->recipient_agency_id == recipient &&
                           loaded->state != safeshare::v1::MESSAGE_STATE_HELD &&
                           loaded->state != safeshare::v1::MESSAGE_STATE_REFUSED;
  if (!deliverable) {
    return absl::PermissionDeniedError(
        absl::StrCat("message ", message_id, " is not in the mailbox of agency ", recipient));
  }
  return *std::move(loaded);
}

absl::StatusOr<StoredMessage> HeldForDecision(std::optional<StoredMessage> loaded,
                                              const std::string& message_id,
                                              const std::vector<std::string>& senders) {
  auto in_scope = [&senders](const std::string& sender) {
    return senders.empty() || std::find(senders.begin(), senders.end(), sender) != senders.end();
  };
  if (!loaded.has_value() || !in_scope(loaded->sender_agency_id)) return NoSuchMessage(message_id);
  if (loaded->state != safeshare::v1::MESSAGE_STATE_HELD) {
    return absl::FailedPreconditionError(
        absl::StrCat("message ", message_id, " is not held for advice (it is ",
                     safeshare::v1::MessageState_Name(loaded->state), ")"));
  }
  return *std::move(loaded);
}

absl::Status NoSuchMessage(const std::string& message_id) {
  return absl::NotFoundError(absl::StrCat("no message with id ", message_id));
}

absl::Status AnsweredIsStored(const std::optional<StoredMessage>& answered,
                              const std::string& answered_id) {
  if (answered.has_value()) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("the message answered, ", answered_id, ", is not stored"));
}

absl::Status ReplyQuota(uint64_t replies, uint32_t max_replies, const std::string& root_id) {
  if (replies < max_replies) return absl::OkStatus();
  return WithReason(
      absl::ResourceExhaustedError(absl::StrCat("message ", root_id, " already has ", replies,
                                                " replies; the limit (max_replies_per_thread) is ",
                                                max_replies, "; start a new message instead")),
      reason::kThreadFull, {{"maxRepliesPerThread", absl::StrCat(max_replies)}});
}

absl::Status MailboxQuota(uint64_t held_bytes, uint64_t incoming, uint64_t quota,
                          const std::string& recipient) {
  if (held_bytes + incoming <= quota) return absl::OkStatus();
  return WithReason(
      absl::ResourceExhaustedError(absl::StrCat(
          "the mailbox of ", recipient, " holds ", held_bytes,
          " bytes not yet acknowledged and cannot take this message's ", incoming,
          " within its quota (limits.mailbox_quota_bytes = ", quota,
          "); retry once the recipient has caught up, or tell them by phone if it is urgent")),
      reason::kMailboxFull);
}

bool OpensDeadline(const StoredMessage& m) {
  return m.acknowledge_deadline && (m.state == safeshare::v1::MESSAGE_STATE_SUBMITTED ||
                                    m.state == safeshare::v1::MESSAGE_STATE_HELD);
}

}  // namespace safeshare::gateway::message_rules
