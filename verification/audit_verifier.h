#ifndef SAFESHARE_VERIFICATION_AUDIT_VERIFIER_H_
#define SAFESHARE_VERIFICATION_AUDIT_VERIFIER_H_

// Offline verification of the audit log, trusting only the federation's
// audit key: a copy of the gateway's database, a JSON-lines export, or one
// sender's receipt. Each names the first record or checkpoint that breaks.

#include <cstdint>
#include <istream>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "safeshare/v1/directory.pb.h"
#include "safeshare/v1/referrals.pb.h"
#include "transparency/cosignature.h"

namespace safeshare::verification {

struct AuditVerification {
  uint64_t records = 0;      // records checked
  uint64_t checkpoints = 0;  // signed checkpoints checked
  uint64_t tree_size = 0;    // size of the latest checkpoint
  std::string root_hex;      // its root
  bool complete = true;      // false for a filtered export (inclusion-checked)
  // Committed texts (docs/audit-log.md, "Erasable text"): disclosed texts
  // checked against their commitments, erased ones, and rectified ones a
  // filtered export could not check (their rectification record not in it).
  uint64_t texts_checked = 0;
  uint64_t texts_erased = 0;
  uint64_t texts_unchecked = 0;
  // The checkpoint a witness policy weighs (docs/federation.md): an export's
  // own checkpoint; for a database, the latest one witnesses cosigned,
  // checked against the recomputed tree (empty if there is none).
  std::string witnessed_note;
};

// Whether `policy` ("k of these n witnesses", C2SP tlog-policy) is met by the
// cosignatures on the verified log's checkpoint. DATA_LOSS naming what is
// missing otherwise.
absl::Status CheckWitnessed(const AuditVerification& verified,
                            const transparency::WitnessPolicy& policy);

// Recomputes the whole tree from the records in a copy of the gateway's
// SQLite database (opened read-only), checks every checkpoint's signature and
// root, the consistency of consecutive checkpoints, and that records are
// numbered 0..n-1 in order, and every stored text (audit_text) against its
// commitment. DATA_LOSS naming the first break otherwise.
absl::StatusOr<AuditVerification> VerifyAuditDatabase(const std::string& db_path,
                                                      const safeshare::v1::AuditLogIdentity& log);

// The same for a JSON-lines export: a full export is recomputed against its
// checkpoint; a filtered one has every record's inclusion proof checked.
// Either way every disclosure is checked against its record's commitment (a
// rectified text against its rectification record's), and the text each
// record shows against what it discloses.
absl::StatusOr<AuditVerification> VerifyAuditExport(const std::string& path,
                                                    const safeshare::v1::AuditLogIdentity& log);
// The same for an export already open; `name` names it in errors.
absl::StatusOr<AuditVerification> VerifyAuditExport(std::istream& in, absl::string_view name,
                                                    const safeshare::v1::AuditLogIdentity& log);

// Checks a Submit receipt: the checkpoint is signed by the log, the audit
// record is included in it, and it records this message. With a witness
// policy, the receipt must also carry the record's inclusion in a checkpoint
// cosigned by witnesses meeting it (`witnessed`, from Referrals.WitnessReceipt).
absl::Status VerifyReceipt(const safeshare::v1::SubmitResponse& receipt,
                           const safeshare::v1::AuditLogIdentity& log,
                           const transparency::WitnessPolicy* witnesses = nullptr);

// The same for a recorded decision not to share.
absl::Status VerifyDecisionNotToShare(
    const safeshare::v1::RecordDecisionNotToShareResponse& recorded,
    const safeshare::v1::AuditLogIdentity& log);

}  // namespace safeshare::verification

#endif  // SAFESHARE_VERIFICATION_AUDIT_VERIFIER_H_
