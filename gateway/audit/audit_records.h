#ifndef SAFESHARE_GATEWAY_AUDIT_AUDIT_RECORDS_H_
#define SAFESHARE_GATEWAY_AUDIT_AUDIT_RECORDS_H_

// Builds the audit record for each thing the gateway decides or observes.
// Metadata only: never content, never the payload.

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "gateway/federation_directory.h"
#include "gateway/store/store.h"
#include "safeshare/v1/audit.pb.h"
#include "safeshare/v1/envelope.pb.h"
#include "safeshare/v1/policy.pb.h"

namespace safeshare::gateway {

// A policy decision on a Submit (ALLOW, DENY or HOLD).
safeshare::v1::AuditRecord DecisionRecord(const safeshare::v1::Envelope& envelope,
                                          const safeshare::v1::PolicyDecision& decision,
                                          safeshare::v1::MessageState state,
                                          const std::string& caller_uri,
                                          const FederationDirectory& directory);

// How far a refused Submit got: what of it the refusal may record.
enum class RefusedAt {
  // Before the shape check: nothing in the envelope is known to be bounded.
  kBeforeShape,
  // Shape checked, signature not (yet) verified: the identifiers the shape
  // check bounded, never the unsigned declaration or practitioner.
  kBeforeSignature,
  // Signed by the sender: the header and declaration, as for a decision.
  kAfterSignature,
};

// A Submit refused before policy (bad envelope, signature, key, recipient,
// reply) from an authenticated caller: always the SHA-256 and size of
// `envelope_bytes` as sent; of `envelope` what `at` allows (it may be null
// when it did not parse, with kBeforeShape).
safeshare::v1::AuditRecord SubmitRefusedRecord(const std::string& caller_agency_id,
                                               const std::string& caller_uri,
                                               absl::string_view envelope_bytes,
                                               const safeshare::v1::Envelope* envelope,
                                               RefusedAt at, const absl::Status& status,
                                               const FederationDirectory& directory);

// A later event in a stored message's life (delivered, acknowledged, ...).
safeshare::v1::AuditRecord MessageEventRecord(const StoredMessage& message,
                                              safeshare::v1::AuditEventType event,
                                              const std::string& actor_uri,
                                              const FederationDirectory& directory);

// A change to an agency's keys (KEY_REGISTERED, KEY_PUBLISHED,
// KEY_REVOKED): the agency as sender, `actor_uri` the principal that made it.
safeshare::v1::AuditRecord KeyEventRecord(safeshare::v1::AuditEventType event,
                                          safeshare::v1::KeyEvent key_event,
                                          const std::string& actor_uri,
                                          const FederationDirectory& directory);

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_AUDIT_AUDIT_RECORDS_H_
