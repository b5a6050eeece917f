#ifndef SAFESHARE_GATEWAY_AUDIT_RECEIPT_PROOFS_H_
#define SAFESHARE_GATEWAY_AUDIT_RECEIPT_PROOFS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gateway/store/store.h"
#include "safeshare/v1/audit.pb.h"
#include "safeshare/v1/referrals.pb.h"

namespace safeshare::gateway {

// The wire form of a stored checkpoint.
safeshare::v1::Checkpoint CheckpointProto(const CommitInfo& info);

// Puts the signed checkpoint and the inclusion proof of the receipt's leaf
// (audit_inclusion_proof.leaf_index) against it into `receipt`.
absl::Status AttachAuditProof(AuditLogStore& store, const CommitInfo& checkpoint,
                              safeshare::v1::SubmitResponse* receipt);

// The record at `leaf_index` in the latest checkpoint witnesses cosigned.
// FAILED_PRECONDITION when no cosigned checkpoint covers it yet.
absl::StatusOr<safeshare::v1::WitnessedInclusion> WitnessedInclusionFor(Store& store,
                                                                        uint64_t leaf_index);

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_AUDIT_RECEIPT_PROOFS_H_
