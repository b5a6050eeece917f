#ifndef SAFESHARE_GATEWAY_AUDIT_AUDIT_RECORDS_H_
#define SAFESHARE_GATEWAY_AUDIT_AUDIT_RECORDS_H_

// Builds the audit record for each thing the gateway decides or observes.
// Metadata only: never content, never the payload.

#include <string>

#include "absl/status/status.h"
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

// A Submit refused before policy (bad envelope, signature, key, recipient),
// from an authenticated caller. `envelope` may be null when it did not parse.
safeshare::v1::AuditRecord SubmitRefusedRecord(const std::string& caller_agency_id,
                                               const std::string& caller_uri,
                                               const safeshare::v1::Envelope* envelope,
                                               const absl::Status& status,
                                               const FederationDirectory& directory);

// A later event in a stored message's life (delivered, acknowledged, ...).
safeshare::v1::AuditRecord MessageEventRecord(const StoredMessage& message,
                                              safeshare::v1::AuditEventType event,
                                              const std::string& actor_uri,
                                              const FederationDirectory& directory);

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_AUDIT_AUDIT_RECORDS_H_
