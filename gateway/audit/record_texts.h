#ifndef SAFESHARE_GATEWAY_AUDIT_RECORD_TEXTS_H_
#define SAFESHARE_GATEWAY_AUDIT_RECORD_TEXTS_H_

// Reads rehydrate: a record read from the log carries commitments where its
// free text was (gateway/store/audit_text.h); this puts the text back while
// it exists, "erased on <date> by <officer>" once erased, the new text once
// rectified, and gives an export line its disclosures.

#include <cstdint>
#include <map>
#include <vector>

#include "absl/status/statusor.h"
#include "gateway/store/store.h"
#include "safeshare/v1/audit.pb.h"

namespace safeshare::gateway {

class RecordTexts {
 public:
  // The texts of those `records` that committed any (one store read).
  static absl::StatusOr<RecordTexts> Load(AuditLogStore& store,
                                          const std::vector<safeshare::v1::AuditRecord>& records);

  // Puts each committed text of `record` back as it now reads.
  void Show(safeshare::v1::AuditRecord& record) const;
  // One disclosure per committed text of the record at `leaf_index`.
  std::vector<safeshare::v1::TextDisclosure> Disclosures(uint64_t leaf_index) const;

 private:
  std::map<uint64_t, std::vector<AuditText>> by_leaf_;
};

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_AUDIT_RECORD_TEXTS_H_
