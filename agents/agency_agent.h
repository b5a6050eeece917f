#ifndef SAFESHARE_AGENTS_AGENCY_AGENT_H_
#define SAFESHARE_AGENTS_AGENCY_AGENT_H_

// One agency's side of the exchange: seals and signs what it sends, opens,
// verifies and checks what it receives, and reports content it refuses.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agents/agent_client.h"
#include "agents/keyring.h"
#include "agents/outgoing_message.h"
#include "safeshare/v1/content.pb.h"

namespace safeshare::agents {

// A message that opened and passed every check.
struct ReceivedMessage {
  std::string message_id;
  safeshare::v1::Envelope header;  // payload cleared
  safeshare::v1::SealedContent content;
  std::string signing_key_id;  // verified against the sender's directory entry
};

// A message the agent refused and reported to the gateway.
struct RefusedMessage {
  std::string message_id;
  safeshare::v1::ContentRefusalReason reason;
  std::string detail;
};

// True when `status` is a verdict on the content (it will fail the same way
// every time), false for transient failures such as the directory being
// unreachable, which must not turn into a refusal.
bool IsContentVerdict(const absl::Status& status);

struct Inbox {
  std::vector<ReceivedMessage> received;
  std::vector<RefusedMessage> refused;
  // Gateway-raised alerts about messages not acknowledged in time.
  std::vector<safeshare::v1::MailboxMessage> escalations;
};

class AgencyAgent {
 public:
  // `identity_dir` holds ca.pem, cert.pem, key.pem and keys/.
  static absl::StatusOr<std::unique_ptr<AgencyAgent>> Open(const std::string& identity_dir,
                                                           const std::string& gateway_target);

  const std::string& agency_id() const { return agency_id_; }
  AgentClient& client() { return *client_; }
  Keyring& keyring() { return keyring_; }

  // Checks the content against the declaration, seals it to the recipient's
  // current encryption key and signs with this agency's current signing key.
  absl::StatusOr<safeshare::v1::SignedEnvelope> Seal(const OutgoingMessage& m);
  // Seal, then Submit. A policy refusal's receipt goes to `refused_receipt`.
  absl::StatusOr<safeshare::v1::SubmitResponse> Send(
      const OutgoingMessage& m, safeshare::v1::SubmitResponse* refused_receipt = nullptr);

  // Fetches every waiting message, opens and checks each one. Refusals are
  // reported to the gateway (RefuseContent) and listed, not returned as errors.
  // Nothing is acknowledged: the caller acks what it has safely stored.
  absl::StatusOr<Inbox> Receive();

  // Opens one delivered envelope (exposed for tests).
  absl::StatusOr<ReceivedMessage> OpenEnvelope(const safeshare::v1::SignedEnvelope& signed_envelope,
                                               safeshare::v1::ContentRefusalReason* reason);
  // Opens a mailbox message and checks that the id the gateway delivered it
  // under is the one the sender signed: files and acks use the signed id, and
  // the mailbox id alone is no one's word.
  absl::StatusOr<ReceivedMessage> OpenDelivered(const safeshare::v1::MailboxMessage& message,
                                                safeshare::v1::ContentRefusalReason* reason);

  // Generates new keys of the given purposes, stores them 0600 and publishes
  // them as current. Returns the published entries.
  absl::StatusOr<std::vector<safeshare::v1::PublicKey>> RotateKeys(bool signing, bool encryption);

 private:
  AgencyAgent() = default;
  absl::StatusOr<safeshare::v1::Agency> Directory(const std::string& agency_id, bool refresh);

  std::string identity_dir_;
  std::string agency_id_;
  std::unique_ptr<AgentClient> client_;
  Keyring keyring_;
  std::map<std::string, safeshare::v1::Agency> directory_cache_;
};

}  // namespace safeshare::agents

#endif  // SAFESHARE_AGENTS_AGENCY_AGENT_H_
