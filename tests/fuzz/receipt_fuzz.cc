// Outside bytes: a Submit receipt as the sender's agent checks it (signed
// checkpoint, inclusion proof, the logged decision). Never crashes; a receipt
// that verifies under the fixed log key stops verifying when its record,
// proof or decision changes.
#include "tests/fuzz/fuzz_support.h"
#include "verification/audit_verifier.h"

namespace sf = safeshare::fuzz;
using safeshare::verification::VerifyReceipt;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  safeshare::v1::SubmitResponse receipt;
  if (!receipt.ParseFromArray(data, static_cast<int>(size))) return 0;
  const absl::Status verified = VerifyReceipt(receipt, sf::AuditLog());
  if (!verified.ok()) {
    FUZZ_REQUIRE(verified.code() == absl::StatusCode::kDataLoss,
                 "a receipt that does not verify is DATA_LOSS");
    return 0;
  }
  auto changed = receipt;
  changed.mutable_audit_record()->push_back('\0');
  FUZZ_REQUIRE(!VerifyReceipt(changed, sf::AuditLog()).ok(), "a changed record does not verify");
  changed = receipt;
  changed.set_message_id(receipt.message_id() + "x");
  FUZZ_REQUIRE(!VerifyReceipt(changed, sf::AuditLog()).ok(),
               "a receipt for another message does not verify");
  changed = receipt;
  changed.mutable_decision()->set_isa_id(receipt.decision().isa_id() + "x");
  FUZZ_REQUIRE(!VerifyReceipt(changed, sf::AuditLog()).ok(),
               "a receipt with another decision does not verify");
  changed = receipt;
  changed.mutable_audit_inclusion_proof()->set_leaf_index(
      receipt.audit_inclusion_proof().leaf_index() + 1);
  FUZZ_REQUIRE(!VerifyReceipt(changed, sf::AuditLog()).ok(),
               "a receipt at another leaf does not verify");
  return 0;
}
