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

// Every reason, with what the sender should do: the spec's table, in words a
// practitioner or the system's operator can act on (the CLI prints them).
struct Advice {
  std::string_view reason;
  std::string_view action;
};
inline constexpr std::array<Advice, 26> kAllSubmitReasons = {{
    {kEnvelopeMalformed, "the envelope is malformed: fix the field named and seal it again"},
    {kDeclarationOverLimit, "shorten the declaration field named and seal it again"},
    {kMessageTooLarge, "make the content smaller; sending it again as it is will fail again"},
    {kCreatedTimeInvalid, "the sending system set an invalid date: fix it and seal again"},
    {kCreatedTimeInFuture, "the sending system's clock is fast: correct it and seal again"},
    {kCreatedTimeTooOld,
     "check the receipt for this message id; if there is none, seal it again with the same id"},
    {kSenderNotCaller, "send as your own agency: the sender must match your certificate"},
    {kRecipientUnknown, "check the recipient agency id: it is not in the directory"},
    {kRecipientRevoked, "the recipient no longer receives messages: do not resend; phone them"},
    {kTeamUnknown, "check the team id: it is not in the directory"},
    {kNotTeamMember, "address the copy to a member of the team"},
    {kSigningKeyUnknown, "sign with your agency's current key (publish it first if it is new)"},
    {kSigningKeyNotSenders, "sign with your own agency's signing key"},
    {kSigningKeyRevoked, "sign with your agency's current key"},
    {kSigningKeyNotValid,
     "your signing key has expired or is not yet valid: rotate keys, then send"},
    {kSignatureInvalid,
     "the signature does not verify: a fault in the sending system; stop and "
     "report it"},
    {kRecipientKeyMissing,
     "the recipient has no usable encryption key: tell them, and send again later"},
    {kRecipientKeyNotCurrent, "the recipient's key changed: send again (it is sealed afresh)"},
    {kReplyNotReceived, "a reply must answer a message your agency received: check the id"},
    {kReplyKindMismatch, "this kind of reply does not answer that message: check the kind"},
    {kReplyWrongRecipient, "send the reply to the agency that sent the message it answers"},
    {kThreadFull, "this thread is full: start a new message"},
    {kPolicyDenied, "the declaration fails policy: fix it and send it as a new message"},
    {kMailboxFull,
     "the recipient's mailbox is full: send again later with the same id, or phone "
     "them if it is urgent"},
    {kGatewayBusy, "the gateway is busy: send again shortly with the same id"},
    {kMessageIdTaken, "the message id is taken: send it under a new id"},
}};

// What to do about `reason`, or empty for a reason this build does not know.
constexpr std::string_view AdviceFor(std::string_view reason) {
  for (const Advice& a : kAllSubmitReasons) {
    if (a.reason == reason) return a.action;
  }
  return {};
}

}  // namespace safeshare::reason

#endif  // SAFESHARE_COMMON_REFUSAL_REASONS_H_
