#ifndef SAFESHARE_GATEWAY_STORE_AUDIT_TEXT_H_
#define SAFESHARE_GATEWAY_STORE_AUDIT_TEXT_H_

// Erasable text, the rule written once for every back-end: before a record
// is hashed, each free text it carries (and the subject reference) is moved
// out into an audit_text row keyed by (leaf index, field), and the record
// keeps a salted commitment to it (transparency/text_commitment.h). The row
// can later be corrected or erased; the record as hashed never changes.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "safeshare/v1/audit.pb.h"

namespace safeshare::gateway {

// One committed text of a leaf, as stored.
struct AuditText {
  uint64_t leaf_index = 0;
  std::string field;
  std::string salt;  // 32 bytes; empty once erased
  std::string text;  // empty once erased
  bool erased = false;
  absl::Time erased_time = absl::InfinitePast();
  std::string erased_by;  // the erasing officer's URI
  // The TEXT_RECTIFIED leaf whose "rectification.new_text" commitment the
  // text now opens; 0 while the text is the original.
  uint64_t rectified_in_leaf = 0;
};

namespace audit_text {

// The field path a rectification record commits its new text under.
inline constexpr char kRectifiedTextField[] = "rectification.new_text";

// The field paths moved out of records, in the order they are committed:
// every one of them may be erased or rectified.
const std::vector<std::string>& CommittedFields();
bool IsCommittedField(absl::string_view field);

// The text at `field` of `record` ("" if unset); Set replaces it. Only for
// CommittedFields().
std::string Get(const safeshare::v1::AuditRecord& record, absl::string_view field);
void Set(safeshare::v1::AuditRecord& record, absl::string_view field, std::string text);

// Moves every non-empty committed text out of `record` (a new leaf at
// `leaf_index`) into `texts` with a fresh salt, and adds its commitment to
// record.text_commitments. Empty text: no commitment.
absl::Status CommitTexts(uint64_t leaf_index, safeshare::v1::AuditRecord& record,
                         std::vector<AuditText>& texts);

// A new salted text for `field` of leaf `leaf_index` and its commitment.
absl::StatusOr<safeshare::v1::TextCommitment> NewText(uint64_t leaf_index, std::string field,
                                                      std::string text, AuditText& row);

// What reads show for an erased text.
std::string ErasedNotice(const AuditText& row);

}  // namespace audit_text
}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_STORE_AUDIT_TEXT_H_
