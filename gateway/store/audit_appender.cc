#include "gateway/store/audit_appender.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gateway/store/store_rows.h"

namespace safeshare::gateway {

absl::StatusOr<uint64_t> AuditAppender::Append(safeshare::v1::AuditRecord record,
                                               AuditRowWriter& writer, std::string* hashed_bytes,
                                               std::vector<transparency::Subtree>* completed) {
  AuditLeafRow row;
  row.index = frontier_.size();
  record.set_sequence(row.index);
  if (!record.has_time()) {
    *record.mutable_time() = store_rows::Ts(store_rows::ToMicros(absl::Now()));
  }
  // The query column keeps the plain subject reference (a read names it in
  // its query); erasure clears it there too.
  row.subject_reference = !record.declaration().subject_reference().empty()
                              ? record.declaration().subject_reference()
                              : record.read_query().subject_reference();
  std::vector<AuditText> texts;
  if (auto st = audit_text::CommitTexts(row.index, record, texts); !st.ok()) return st;
  row.record = store_rows::SerializeRecord(record);
  row.leaf_hash = transparency::LeafHash(row.record);
  row.time_us = store_rows::TsMicros(record.time());
  row.event = record.event();
  row.message_id = record.message_id();
  row.kind = record.kind();
  row.sender = record.sender_agency_id();
  row.recipient = record.recipient_agency_id();
  row.sender_area = record.sender_area_id();
  row.recipient_area = record.recipient_area_id();
  row.purpose = record.declaration().purpose();
  row.decision = record.decision().decision();
  row.flagged_checks = store_rows::FlaggedChecks(record);
  if (auto st = writer.WriteLeaf(row); !st.ok()) return st;
  for (const AuditText& text : texts) {
    if (auto st = writer.WriteText(text); !st.ok()) return st;
  }
  if (hashed_bytes != nullptr) *hashed_bytes = row.record;
  // The frontier moves only once the leaf row is written.
  auto nodes = frontier_.Append(row.leaf_hash);
  if (!nodes.ok()) return nodes.status();
  for (auto& node : *nodes) {
    if (node.level > 0) {  // the leaf row holds level 0
      if (auto st = writer.WriteNode(node); !st.ok()) return st;
    }
    if (completed != nullptr) completed->push_back(std::move(node));
  }
  return row.index;
}

void AuditAppender::Describe(CommitInfo& info) const {
  info.tree_size = frontier_.size();
  info.root_hash = frontier_.Root();
}

absl::StatusOr<bool> AuditAppender::Seal(uint64_t before_size, CommitInfo& info) const {
  Describe(info);
  if (frontier_.size() == before_size || !signer_) return false;
  auto note = signer_(info.tree_size, info.root_hash);
  if (!note.ok()) return note.status();
  info.checkpoint_note = *std::move(note);
  return true;
}

namespace audit_errors {

absl::Status CheckSubtreeRange(uint64_t level, uint64_t first, uint64_t count) {
  if (level >= 63 || count == 0) return absl::OutOfRangeError("no such subtrees");
  const uint64_t limit = uint64_t{1} << (63 - level);
  if (first > limit || count > limit - first) return absl::OutOfRangeError("no such subtrees");
  return absl::OkStatus();
}

absl::Status BeyondTheLog(uint64_t log_size, uint64_t tree_size) {
  return absl::OutOfRangeError(
      absl::StrCat("the audit log has ", log_size, " records, not ", tree_size));
}

absl::Status NoAuditRecord(uint64_t index) {
  return absl::NotFoundError(absl::StrCat("no audit record ", index));
}

absl::Status MissingTreeNode(uint64_t level, uint64_t index) {
  return absl::DataLossError(
      absl::StrCat("store: audit tree node (", level, ", ", index, ") is missing"));
}

}  // namespace audit_errors

}  // namespace safeshare::gateway
