#include "gateway/audit/record_texts.h"

#include <utility>

#include "absl/time/time.h"
#include "gateway/store/audit_text.h"

namespace safeshare::gateway {

absl::StatusOr<RecordTexts> RecordTexts::Load(
    AuditLogStore& store, const std::vector<safeshare::v1::AuditRecord>& records) {
  std::vector<uint64_t> leaves;
  for (const auto& r : records) {
    if (r.text_commitments_size() > 0) leaves.push_back(r.sequence());
  }
  RecordTexts out;
  if (leaves.empty()) return out;
  auto texts = store.ReadAuditTexts(leaves);
  if (!texts.ok()) return texts.status();
  for (AuditText& t : *texts) out.by_leaf_[t.leaf_index].push_back(std::move(t));
  return out;
}

void RecordTexts::Show(safeshare::v1::AuditRecord& record) const {
  auto it = by_leaf_.find(record.sequence());
  if (it == by_leaf_.end()) return;
  for (const AuditText& t : it->second) {
    audit_text::Set(record, t.field, t.erased ? audit_text::ErasedNotice(t) : t.text);
  }
}

std::vector<safeshare::v1::TextDisclosure> RecordTexts::Disclosures(uint64_t leaf_index) const {
  std::vector<safeshare::v1::TextDisclosure> out;
  auto it = by_leaf_.find(leaf_index);
  if (it == by_leaf_.end()) return out;
  for (const AuditText& t : it->second) {
    safeshare::v1::TextDisclosure d;
    d.set_field(t.field);
    if (t.erased) {
      const int64_t us = absl::ToUnixMicros(t.erased_time);
      d.mutable_erased_time()->set_seconds(us / 1000000);
      d.mutable_erased_time()->set_nanos(static_cast<int32_t>(us % 1000000) * 1000);
      d.set_erased_by(t.erased_by);
    } else {
      d.set_salt(t.salt);
      d.set_text(t.text);
    }
    d.set_rectified_in_leaf(t.rectified_in_leaf);
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace safeshare::gateway
