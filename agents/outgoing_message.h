#ifndef SAFESHARE_AGENTS_OUTGOING_MESSAGE_H_
#define SAFESHARE_AGENTS_OUTGOING_MESSAGE_H_

#include <string>

#include "absl/status/statusor.h"
#include "safeshare/v1/content.pb.h"
#include "safeshare/v1/envelope.pb.h"

namespace safeshare::agents {

// What a practitioner sends: the declaration in clear, the payload to seal.
struct OutgoingMessage {
  std::string message_id;  // empty: a fresh UUID
  safeshare::v1::MessageKind kind = safeshare::v1::MESSAGE_KIND_REFERRAL;
  std::string sender_agency_id;
  safeshare::v1::Practitioner practitioner;
  std::string recipient_agency_id;
  std::string in_reply_to;
  safeshare::v1::SharingDeclaration declaration;
  safeshare::v1::SealedContent content;  // sealed to the recipient
  // A copy of a team message (AgencyAgent::SendToTeam sets both).
  std::string team_id;
  std::string team_message_id;
};

// A random (version 4) UUID, the default message id.
std::string NewMessageId();

// The envelope header for `m` (payload left for sealing), with a fresh message
// id when none is given and the creation time set to now.
safeshare::v1::Envelope BuildEnvelopeHeader(const OutgoingMessage& m);

// The one safeshare:// URI SAN of a PEM certificate; INVALID_ARGUMENT if it has
// none or several (other SANs do not count).
absl::StatusOr<std::string> PrincipalUriOfCertificate(const std::string& cert_pem);

}  // namespace safeshare::agents

#endif  // SAFESHARE_AGENTS_OUTGOING_MESSAGE_H_
