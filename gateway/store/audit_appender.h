#ifndef SAFESHARE_GATEWAY_STORE_AUDIT_APPENDER_H_
#define SAFESHARE_GATEWAY_STORE_AUDIT_APPENDER_H_

// The audit log's append rule, written once for every back-end (as Tessera's
// storage drivers all call one integrate function and only store what it
// returns): the appender assigns the record its leaf index and time, hashes
// it as verifiers will, extends the Merkle frontier and hands the back-end
// the rows to write. A back-end holds one under its write lock.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gateway/store/store.h"
#include "transparency/merkle.h"

namespace safeshare::gateway {

// One audit_log row: the leaf and the columns queries filter on.
struct AuditLeafRow {
  uint64_t index = 0;
  std::string record;  // serialized AuditRecord, exactly as hashed
  std::string leaf_hash;
  int64_t time_us = 0;
  int64_t event = 0;
  std::string message_id;
  int64_t kind = 0;
  std::string sender, recipient, sender_area, recipient_area;
  int64_t purpose = 0;
  int64_t decision = 0;
  std::string subject_reference;
  std::string flagged_checks;  // ",check,check," for LIKE queries
};

// Where a back-end writes what an append produces, inside its open
// transaction.
class AuditRowWriter {
 public:
  virtual ~AuditRowWriter() = default;
  virtual absl::Status WriteLeaf(const AuditLeafRow& row) = 0;
  // A complete subtree above the leaves (level >= 1) for audit_nodes.
  virtual absl::Status WriteNode(const transparency::Subtree& node) = 0;
  // A committed text of the leaf just written (audit_text).
  virtual absl::Status WriteText(const AuditText& text) = 0;

  // For erasure and rectification, in the same transaction: a leaf's record
  // as hashed (nullopt if none), one of its texts (nullopt if none), the
  // text's new state (by leaf index and field), and the leaf's
  // subject-reference query column.
  virtual absl::StatusOr<std::optional<std::string>> ReadLeafRecord(uint64_t index) = 0;
  virtual absl::StatusOr<std::optional<AuditText>> ReadText(uint64_t index,
                                                            const std::string& field) = 0;
  virtual absl::Status UpdateText(const AuditText& text) = 0;
  virtual absl::Status SetSubjectColumn(uint64_t index, const std::string& subject_reference) = 0;
};

class AuditAppender {
 public:
  const transparency::Frontier& frontier() const { return frontier_; }
  uint64_t size() const { return frontier_.size(); }
  // The frontier as stored (at open, or as another replica left the log), or
  // as it was before a job or batch that was rolled back.
  void Reset(transparency::Frontier frontier) { frontier_ = std::move(frontier); }

  // Appends `record` as the next leaf: the leaf row first, then the subtrees
  // it completes. Returns the leaf index; `hashed_bytes`, if given, receives
  // the record as hashed; `completed`, if given, gains every completed
  // subtree, the leaf included.
  absl::StatusOr<uint64_t> Append(safeshare::v1::AuditRecord record, AuditRowWriter& writer,
                                  std::string* hashed_bytes,
                                  std::vector<transparency::Subtree>* completed = nullptr);

  void SetSigner(CheckpointSigner signer) { signer_ = std::move(signer); }
  // Fills `info` with the tree after a batch; when the batch grew the log
  // from `before_size` and a signer is set, also signs its checkpoint note,
  // which the back-end stores with the batch. Returns whether it signed.
  absl::StatusOr<bool> Seal(uint64_t before_size, CommitInfo& info) const;
  // Only the tree: for a batch that failed before it could be sealed.
  void Describe(CommitInfo& info) const;

 private:
  transparency::Frontier frontier_;
  CheckpointSigner signer_;
};

// The errors every back-end's audit reads give.
namespace audit_errors {
// OUT_OF_RANGE: a proof asked about a tree larger than the committed log.
absl::Status BeyondTheLog(uint64_t log_size, uint64_t tree_size);
// NOT_FOUND: no leaf at `index`.
absl::Status NoAuditRecord(uint64_t index);
// OUT_OF_RANGE unless `count` (> 0) subtrees of height `level` from `first`
// can exist in a tree of 2^63 leaves.
absl::Status CheckSubtreeRange(uint64_t level, uint64_t first, uint64_t count);
// DATA_LOSS: a complete subtree the log must hold is not stored.
absl::Status MissingTreeNode(uint64_t level, uint64_t index);
}  // namespace audit_errors

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_STORE_AUDIT_APPENDER_H_
