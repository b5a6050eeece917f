#ifndef SAFESHARE_AGENTS_AGENCY_AGENT_H_
#define SAFESHARE_AGENTS_AGENCY_AGENT_H_

// One agency's side of the exchange: seals and signs what it sends, opens,
// verifies and checks what it receives, and reports content it refuses.

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agents/agent_client.h"
#include "agents/key_log.h"
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

  // One member's copy of a team message: its receipt, or why it was not sent
  // or was refused (then `refused` holds the refusal's receipt, if any).
  struct TeamCopy {
    std::string member_agency_id;
    absl::StatusOr<safeshare::v1::SubmitResponse> receipt;
    safeshare::v1::SubmitResponse refused;
  };
  // Sends `m` to every member of `team_id` but this agency: one copy each,
  // sealed to that member and decided under its agreement, with the id
  // "<team message id>:<member>" (the team message id is m.message_id, or a
  // fresh one). NOT_FOUND for an unknown team; each copy's outcome otherwise.
  absl::StatusOr<std::vector<TeamCopy>> SendToTeam(OutgoingMessage m, const std::string& team_id);

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
  // them as current, each on a statement signed by the agency's current
  // signing key (a new signing key signs its own statement too). Returns the
  // published entries.
  absl::StatusOr<std::vector<safeshare::v1::PublicKey>> RotateKeys(bool signing, bool encryption);
  // Publishes `key` as current on a signed statement (see RotateKeys); kept
  // in the keyring first. Publishing the current key again changes nothing.
  absl::StatusOr<safeshare::v1::PublicKey> PublishKey(const envelope::PrivateKey& key);
  // Revokes one of the agency's keys on a signed statement.
  absl::StatusOr<safeshare::v1::PublicKey> RevokeKey(const std::string& key_id);

  // An agency's key events, verified against the key log (as before every
  // use of its keys).
  absl::StatusOr<VerifiedKeys> KeyHistory(const std::string& agency_id);

  // One of this agency's own key events, and whether this agency made it.
  struct OwnKeyEvent {
    KeyEventView event;
    bool made_here = true;
    std::string why;  // when not made here: what gives it away
  };
  // This agency's key events in the log, each judged: a registered or
  // published key this keyring does not hold, or a revocation this agency
  // did not sign, was not made here.
  absl::StatusOr<std::vector<OwnKeyEvent>> MonitorOwnKeys();

 private:
  AgencyAgent() = default;
  absl::StatusOr<safeshare::v1::Agency> Directory(const std::string& agency_id, bool refresh);
  // GetAgency, verified by the key log; the answer's agency into `agency`.
  absl::StatusOr<VerifiedKeys> FetchVerified(const std::string& agency_id,
                                             safeshare::v1::Agency* agency);
  // Signs `statement` (federation, agency and previous event filled in here)
  // with the current signing key.
  absl::StatusOr<safeshare::v1::SignedKeyStatement> SignStatement(
      safeshare::v1::KeyStatement statement, const envelope::PrivateKey* new_signing_key);

  std::string identity_dir_;
  std::string federation_id_;
  std::string agency_id_;
  // Opened with the agent; an error here is reported on first use of a key.
  absl::StatusOr<KeyLog> key_log_ = absl::UnknownError("not opened");
  // Peer federations' key logs, opened on first use from
  // <identity>/peers/<federation>/.
  absl::StatusOr<KeyLog*> PeerKeyLog(const std::string& federation_id);
  std::map<std::string, absl::StatusOr<KeyLog>> peer_key_logs_;
  std::unique_ptr<AgentClient> client_;
  Keyring keyring_;
  std::map<std::string, safeshare::v1::Agency> directory_cache_;
  // Agencies the gateway answered for from a peer partnership.
  std::set<std::string> peer_agency_ids_;
};

}  // namespace safeshare::agents

#endif  // SAFESHARE_AGENTS_AGENCY_AGENT_H_
