#ifndef SAFESHARE_COMMON_REFUSAL_REASONS_H_
#define SAFESHARE_COMMON_REFUSAL_REASONS_H_

// The stable reasons a refused Submit carries in its ErrorInfo (AIP-193,
// domain safeshare.uk). Clients branch on these, so a name, once sent, never
// changes meaning. docs/envelope-format.md, section 8.1, lists each with its
// code, check and what the client should do; a test keeps the two equal.

#include <array>
#include <string_view>

namespace safeshare::reason {

// The envelope itself: fix it and seal again.
inline constexpr char kEnvelopeMalformed[] = "ENVELOPE_MALFORMED";
inline constexpr char kDeclarationOverLimit[] = "DECLARATION_OVER_LIMIT";
inline constexpr char kMessageTooLarge[] = "MESSAGE_TOO_LARGE";
inline constexpr char kCreatedTimeInvalid[] = "CREATED_TIME_INVALID";
inline constexpr char kCreatedTimeInFuture[] = "CREATED_TIME_IN_FUTURE";
inline constexpr char kCreatedTimeTooOld[] = "CREATED_TIME_TOO_OLD";
// Addressing.
inline constexpr char kSenderNotCaller[] = "SENDER_NOT_CALLER";
inline constexpr char kRecipientUnknown[] = "RECIPIENT_UNKNOWN";
inline constexpr char kRecipientRevoked[] = "RECIPIENT_REVOKED";
inline constexpr char kTeamUnknown[] = "TEAM_UNKNOWN";
inline constexpr char kNotTeamMember[] = "NOT_TEAM_MEMBER";
// Keys and the signature.
inline constexpr char kSigningKeyUnknown[] = "SIGNING_KEY_UNKNOWN";
inline constexpr char kSigningKeyNotSenders[] = "SIGNING_KEY_NOT_SENDERS";
inline constexpr char kSigningKeyRevoked[] = "SIGNING_KEY_REVOKED";
inline constexpr char kSigningKeyNotValid[] = "SIGNING_KEY_NOT_VALID";
inline constexpr char kSignatureInvalid[] = "SIGNATURE_INVALID";
inline constexpr char kRecipientKeyMissing[] = "RECIPIENT_KEY_MISSING";
inline constexpr char kRecipientKeyNotCurrent[] = "RECIPIENT_KEY_NOT_CURRENT";
// Replies.
inline constexpr char kReplyNotReceived[] = "REPLY_NOT_RECEIVED";
inline constexpr char kReplyKindMismatch[] = "REPLY_KIND_MISMATCH";
inline constexpr char kReplyWrongRecipient[] = "REPLY_WRONG_RECIPIENT";
inline constexpr char kThreadFull[] = "THREAD_FULL";
// Policy.
inline constexpr char kPolicyDenied[] = "POLICY_DENIED";
// Storing.
inline constexpr char kMailboxFull[] = "MAILBOX_FULL";
inline constexpr char kGatewayBusy[] = "GATEWAY_BUSY";
inline constexpr char kMessageIdTaken[] = "MESSAGE_ID_TAKEN";

inline constexpr std::array<std::string_view, 26> kAllSubmitReasons = {
    kEnvelopeMalformed,    kDeclarationOverLimit, kMessageTooLarge,     kCreatedTimeInvalid,
    kCreatedTimeInFuture,  kCreatedTimeTooOld,    kSenderNotCaller,     kRecipientUnknown,
    kRecipientRevoked,     kTeamUnknown,          kNotTeamMember,       kSigningKeyUnknown,
    kSigningKeyNotSenders, kSigningKeyRevoked,

    kSigningKeyNotValid,   kSignatureInvalid,     kRecipientKeyMissing, kRecipientKeyNotCurrent,
    kReplyNotReceived,     kReplyKindMismatch,    kReplyWrongRecipient, kThreadFull,
    kPolicyDenied,

    kMailboxFull,          kGatewayBusy,          kMessageIdTaken};

}  // namespace safeshare::reason

#endif  // SAFESHARE_COMMON_REFUSAL_REASONS_H_
