// The PostgreSQL store's audit log: the leaves and tree nodes the shared
// appender produces, checkpoints, proofs and queries.

#include <map>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gateway/store/postgres/postgres_store.h"
#include "gateway/store/store_rows.h"

namespace safeshare::gateway {
namespace {

constexpr size_t kScanChunk = 1000;

}  // namespace

using pg::Bytes;
using pg::P;
using pg::Param;
using pg::Run;
using store_rows::ToMicros;

// Complete subtree hashes from a connection: leaves from audit_log, the rest
// from audit_nodes.
class PostgresStore::Subtrees final : public transparency::SubtreeSource {
 public:
  explicit Subtrees(PgSession* session) : session_(session) {}
  absl::StatusOr<std::string> CompleteSubtree(uint64_t level, uint64_t index) override {
    auto r = level == 0
                 ? Run(*session_, "SELECT leaf_hash FROM audit_log WHERE seq = $1", {P(index)},
                       "read tree")
                 : Run(*session_, "SELECT hash FROM audit_nodes WHERE level = $1 AND idx = $2",
                       {P(level), P(index)}, "read tree");
    if (!r.ok()) return r.status();
    if (r->rows() == 0) {
      return audit_errors::MissingTreeNode(level, index);
    }
    return r->row(0).Text(0);
  }

 private:
  PgSession* session_;
};

// Writes what the appender produces on the write connection, pipelined; the
// store's mu_ is held throughout.
class PostgresStore::AuditRows final : public AuditRowWriter {
 public:
  explicit AuditRows(PgSession* session) : session_(session) {}

  absl::Status WriteLeaf(const AuditLeafRow& row) override {
    return pg::Queue(
        *session_,
        "INSERT INTO audit_log (seq, record, leaf_hash, time_us, event, message_id, kind, "
        "sender, recipient, sender_area, recipient_area, purpose, decision, "
        "subject_reference, flagged_checks) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
        "$10, $11, $12, $13, $14, $15)",
        {P(row.index), Bytes(row.record), Bytes(row.leaf_hash), P(row.time_us),
         P(static_cast<int>(row.event)), P(row.message_id), P(static_cast<int>(row.kind)),
         P(row.sender), P(row.recipient), P(row.sender_area), P(row.recipient_area),
         P(static_cast<int>(row.purpose)), P(static_cast<int>(row.decision)),
         P(row.subject_reference), P(row.flagged_checks)},
        "append audit record");
  }

  absl::Status WriteText(const AuditText& t) override {
    return pg::Queue(*session_,
                     "INSERT INTO audit_text (seq, field, salt, text) VALUES ($1, $2, $3, $4)",
                     {P(t.leaf_index), P(t.field), Bytes(t.salt), P(t.text)}, "store audit text");
  }

  absl::StatusOr<std::optional<std::string>> ReadLeafRecord(uint64_t index) override {
    auto r = Run(*session_, "SELECT record FROM audit_log WHERE seq = $1", {P(index)},
                 "read audit record");
    if (!r.ok()) return r.status();
    if (r->rows() == 0) return std::optional<std::string>();
    return std::optional<std::string>(r->row(0).Text(0));
  }

  absl::StatusOr<std::optional<AuditText>> ReadText(uint64_t index,
                                                    const std::string& field) override {
    auto r = Run(*session_,
                 absl::StrCat("SELECT ", store_rows::kTextColumns,
                              " FROM audit_text WHERE seq = $1 AND field = $2")
                     .c_str(),
                 {P(index), P(field)}, "read audit text");
    if (!r.ok()) return r.status();
    if (r->rows() == 0) return std::optional<AuditText>();
    return std::optional<AuditText>(store_rows::ReadTextRow(r->row(0)));
  }

  absl::Status UpdateText(const AuditText& t) override {
    return pg::Queue(
        *session_,
        "UPDATE audit_text SET salt = $1, text = $2, rectified_in = $3, erased_us = $4, "
        "erased_by = $5 WHERE seq = $6 AND field = $7",
        {t.erased ? pg::Null() : Bytes(t.salt), t.erased ? pg::Null() : P(t.text),
         P(t.rectified_in_leaf), t.erased ? P(ToMicros(t.erased_time)) : pg::Null(), P(t.erased_by),
         P(t.leaf_index), P(t.field)},
        "change audit text");
  }

  absl::Status SetSubjectColumn(uint64_t index, const std::string& subject) override {
    return pg::Queue(*session_, "UPDATE audit_log SET subject_reference = $1 WHERE seq = $2",
                     {P(subject), P(index)}, "change audit subject");
  }

  absl::Status WriteNode(const transparency::Subtree& node) override {
    return pg::Queue(*session_, "INSERT INTO audit_nodes (level, idx, hash) VALUES ($1, $2, $3)",
                     {P(node.level), P(node.index), Bytes(node.hash)}, "store tree node");
  }

 private:
  PgSession* session_;
};

// The complete subtrees a tree computation asks for (a frontier, an
// inclusion or a consistency proof) depend only on indices and sizes, never
// on hashes: a first pass records them, one query reads them all, and a
// second pass computes from memory. One round trip instead of one per
// subtree (up to about 2 log2 n): proofs run for every receipt, and the
// frontier is read under the write lock after another replica's batch.
class PostgresStore::Prefetched final : public transparency::SubtreeSource {
 public:
  // Runs `compute` twice, the second time over what the first asked for.
  template <typename Compute>
  static auto Run(PgSession& session, Compute compute)
      -> decltype(compute(std::declval<transparency::SubtreeSource&>())) {
    Wanted wanted;
    (void)compute(wanted);
    Prefetched source(&session);
    if (auto st = source.Read(wanted.subtrees); !st.ok()) return st;
    return compute(source);
  }

  absl::StatusOr<std::string> CompleteSubtree(uint64_t level, uint64_t index) override {
    auto it = hashes_.find({level, index});
    if (it != hashes_.end()) return it->second;
    return fallback_.CompleteSubtree(level, index);  // not asked for the first time
  }

 private:
  using Key = std::pair<uint64_t, uint64_t>;  // level, index
  struct Wanted final : transparency::SubtreeSource {
    absl::StatusOr<std::string> CompleteSubtree(uint64_t level, uint64_t index) override {
      subtrees.emplace_back(level, index);
      return std::string(32, '\0');
    }
    std::vector<Key> subtrees;
  };

  explicit Prefetched(PgSession* session) : session_(session), fallback_(session) {}

  // One primary-key lookup per wanted subtree, whatever the statistics: a
  // join against the wanted list let a cached generic plan scan the whole
  // table (seen in the scale-out benchmark: 2 replicas fell to a third).
  absl::Status Read(const std::vector<Key>& wanted) {
    if (wanted.empty()) return absl::OkStatus();
    std::string levels, indices;
    for (const auto& [level, index] : wanted) {
      absl::StrAppend(&levels, levels.empty() ? "" : ",", level);
      absl::StrAppend(&indices, indices.empty() ? "" : ",", index);
    }
    auto r = pg::Run(*session_,
                     "SELECT w.level, w.idx, CASE WHEN w.level = 0 "
                     "THEN (SELECT leaf_hash FROM audit_log WHERE seq = w.idx) "
                     "ELSE (SELECT hash FROM audit_nodes WHERE level = w.level AND idx = w.idx) "
                     "END FROM unnest($1::int8[], $2::int8[]) AS w(level, idx)",
                     {P(absl::StrCat("{", levels, "}")), P(absl::StrCat("{", indices, "}"))},
                     "read tree");
    if (!r.ok()) return r.status();
    for (int i = 0; i < r->rows(); ++i) {
      const auto row = r->row(i);
      if (row.IsNull(2)) continue;  // missing: the fallback reports it
      hashes_[{static_cast<uint64_t>(row.Int(0)), static_cast<uint64_t>(row.Int(1))}] = row.Text(2);
    }
    return absl::OkStatus();
  }

  PgSession* session_;
  Subtrees fallback_;  // a missing row is reported by the one-at-a-time read
  std::map<Key, std::string> hashes_;
};

absl::Status PostgresStore::SyncLogLocked() {
  auto size =
      Run(write_, "SELECT COALESCE(MAX(seq) + 1, 0)::int8 FROM audit_log", {}, "read the log size");
  if (!size.ok()) return size.status();
  const uint64_t n = static_cast<uint64_t>(size->row(0).Int(0));
  if (n != appender_.size()) {
    auto loaded = Prefetched::Run(write_, [n](transparency::SubtreeSource& source) {
      return transparency::Frontier::Load(source, n);
    });
    if (!loaded.ok()) return loaded.status();
    appender_.Reset(*std::move(loaded));
  }
  return absl::OkStatus();
}

std::unique_ptr<AuditRowWriter> PostgresStore::AuditRowsLocked() {
  return std::make_unique<AuditRows>(&write_);
}

absl::Status PostgresStore::StoreCheckpointLocked(const CommitInfo& info) {
  return pg::Queue(
      write_,
      "INSERT INTO audit_checkpoints (tree_size, root_hash, note, time_us) "
      "VALUES ($1, $2, $3, $4)",
      {P(info.tree_size), Bytes(info.root_hash), P(info.checkpoint_note), P(ToMicros(absl::Now()))},
      "store checkpoint");
}

void PostgresStore::SetCheckpointSigner(CheckpointSigner signer) {
  absl::MutexLock lock(&mu_);
  appender_.SetSigner(std::move(signer));
}

// One index lookup; the whole-log count that also proves there are no gaps
// runs once, at open.
absl::StatusOr<uint64_t> PostgresStore::ReadTreeSize() {
  if (auto st = pg::Ready(read_); !st.ok()) return st;
  auto r =
      Run(read_, "SELECT COALESCE(MAX(seq) + 1, 0)::int8 FROM audit_log", {}, "read the log size");
  if (!r.ok()) return r.status();
  return static_cast<uint64_t>(r->row(0).Int(0));
}

absl::StatusOr<CommitInfo> PostgresStore::LatestCheckpoint() {
  absl::MutexLock lock(&read_mu_);
  if (auto st = pg::Ready(read_); !st.ok()) return st;
  auto r = Run(read_,
               "SELECT tree_size, root_hash, note FROM audit_checkpoints ORDER BY tree_size DESC "
               "LIMIT 1",
               {}, "read checkpoint");
  if (!r.ok()) return r.status();
  CommitInfo info;
  if (r->rows() == 0) {
    info.root_hash = transparency::EmptyRootHash();
    return info;
  }
  info.tree_size = static_cast<uint64_t>(r->row(0).Int(0));
  info.root_hash = r->row(0).Text(1);
  info.checkpoint_note = r->row(0).Text(2);
  return info;
}

absl::StatusOr<std::vector<std::string>> PostgresStore::Checkpoints() {
  absl::MutexLock lock(&read_mu_);
  if (auto st = pg::Ready(read_); !st.ok()) return st;
  auto r =
      Run(read_, "SELECT note FROM audit_checkpoints ORDER BY tree_size", {}, "read checkpoints");
  if (!r.ok()) return r.status();
  std::vector<std::string> out;
  for (int i = 0; i < r->rows(); ++i) out.push_back(r->row(i).Text(0));
  return out;
}

absl::StatusOr<std::vector<std::string>> PostgresStore::InclusionProof(uint64_t leaf_index,
                                                                       uint64_t tree_size) {
  absl::MutexLock lock(&read_mu_);
  auto size = ReadTreeSize();
  if (!size.ok()) return size.status();
  if (tree_size > *size) {
    return audit_errors::BeyondTheLog(*size, tree_size);
  }
  return Prefetched::Run(read_, [&](transparency::SubtreeSource& source) {
    return transparency::InclusionProof(source, leaf_index, tree_size);
  });
}

absl::StatusOr<std::vector<std::string>> PostgresStore::CompleteSubtrees(uint64_t level,
                                                                         uint64_t first,
                                                                         uint64_t count) {
  if (auto st = audit_errors::CheckSubtreeRange(level, first, count); !st.ok()) return st;
  absl::MutexLock lock(&read_mu_);
  auto size = ReadTreeSize();
  if (!size.ok()) return size.status();
  if (((first + count) << level) > *size) {
    return audit_errors::BeyondTheLog(*size, (first + count) << level);
  }
  Subtrees source(&read_);
  std::vector<std::string> out;
  for (uint64_t i = first; i < first + count; ++i) {
    auto hash = source.CompleteSubtree(level, i);
    if (!hash.ok()) return hash.status();
    out.push_back(*std::move(hash));
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> PostgresStore::ConsistencyProof(uint64_t first_size,
                                                                         uint64_t second_size) {
  absl::MutexLock lock(&read_mu_);
  auto size = ReadTreeSize();
  if (!size.ok()) return size.status();
  if (second_size > *size) {
    return audit_errors::BeyondTheLog(*size, second_size);
  }
  return Prefetched::Run(read_, [&](transparency::SubtreeSource& source) {
    return transparency::ConsistencyProof(source, first_size, second_size);
  });
}

absl::StatusOr<AuditLeaf> PostgresStore::GetAuditLeaf(uint64_t leaf_index) {
  absl::MutexLock lock(&read_mu_);
  if (auto st = pg::Ready(read_); !st.ok()) return st;
  auto r = Run(read_, "SELECT record, leaf_hash FROM audit_log WHERE seq = $1", {P(leaf_index)},
               "read audit record");
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return audit_errors::NoAuditRecord(leaf_index);
  return AuditLeaf{leaf_index, r->row(0).Text(0), r->row(0).Text(1)};
}

// Reads in chunks and visits outside the lock, so a long export never holds
// the read connection while the caller streams.
absl::Status PostgresStore::ScanAudit(const AuditFilter& f, uint64_t start, size_t limit,
                                      const std::function<bool(const AuditLeaf&)>& visit) {
  std::vector<std::string> where = {"seq >= $1"};
  std::vector<std::string> params = {""};  // $1: the chunk's start, set per chunk
  auto add = [&](const std::string& value) {
    params.push_back(value);
    return absl::StrCat("$", params.size());
  };
  if (!f.agencies.empty()) {
    std::vector<std::string> marks;
    for (const auto& a : f.agencies) marks.push_back(add(a));
    const std::string in = absl::StrJoin(marks, ",");
    where.push_back(absl::StrCat("(sender IN (", in, ") OR recipient IN (", in, "))"));
  }
  if (!f.agency_id.empty()) {
    const std::string m = add(f.agency_id);
    where.push_back(absl::StrCat("(sender = ", m, " OR recipient = ", m, ")"));
  }
  if (!f.area_id.empty()) {
    const std::string m = add(f.area_id);
    where.push_back(absl::StrCat("(sender_area = ", m, " OR recipient_area = ", m, ")"));
  }
  if (f.before_index) where.push_back(absl::StrCat("seq < ", add(absl::StrCat(*f.before_index))));
  if (f.start) where.push_back(absl::StrCat("time_us >= ", add(absl::StrCat(ToMicros(*f.start)))));
  if (f.end) where.push_back(absl::StrCat("time_us < ", add(absl::StrCat(ToMicros(*f.end)))));
  if (f.kind != 0) where.push_back(absl::StrCat("kind = ", add(absl::StrCat(f.kind))));
  if (f.purpose != 0) where.push_back(absl::StrCat("purpose = ", add(absl::StrCat(f.purpose))));
  if (f.decision != 0) where.push_back(absl::StrCat("decision = ", add(absl::StrCat(f.decision))));
  if (!f.failed_check.empty()) {
    where.push_back(
        absl::StrCat("flagged_checks LIKE ", add(absl::StrCat("%,", f.failed_check, ",%"))));
  }
  if (!f.subject_reference.empty()) {
    where.push_back(absl::StrCat("subject_reference = ", add(f.subject_reference)));
  }
  const std::string sql =
      absl::StrCat("SELECT seq, record, leaf_hash FROM audit_log WHERE ",
                   absl::StrJoin(where, " AND "), " ORDER BY seq LIMIT ", kScanChunk);
  size_t seen = 0;
  uint64_t next = start;
  for (;;) {
    std::vector<AuditLeaf> chunk;
    {
      absl::MutexLock lock(&read_mu_);
      if (auto st = pg::Ready(read_); !st.ok()) return st;
      params[0] = absl::StrCat(next);
      std::vector<Param> ps;
      for (const auto& p : params) ps.push_back(P(p));
      auto r = Run(read_, sql.c_str(), ps, "query audit log");
      if (!r.ok()) return r.status();
      for (int i = 0; i < r->rows(); ++i) {
        chunk.push_back(AuditLeaf{static_cast<uint64_t>(r->row(i).Int(0)), r->row(i).Text(1),
                                  r->row(i).Text(2)});
      }
    }
    for (const AuditLeaf& leaf : chunk) {
      if (!visit(leaf)) return absl::OkStatus();
      if (limit > 0 && ++seen >= limit) return absl::OkStatus();
    }
    if (chunk.size() < kScanChunk) return absl::OkStatus();
    next = chunk.back().index + 1;
  }
}

absl::StatusOr<std::vector<AuditText>> PostgresStore::ReadAuditTexts(
    const std::vector<uint64_t>& leaves) {
  std::vector<AuditText> out;
  if (leaves.empty()) return out;
  absl::MutexLock lock(&read_mu_);
  if (auto st = pg::Ready(read_); !st.ok()) return st;
  auto r = Run(read_,
               absl::StrCat("SELECT ", store_rows::kTextColumns,
                            " FROM audit_text WHERE seq = ANY($1::int8[]) ORDER BY seq, field")
                   .c_str(),
               {P(absl::StrCat("{", absl::StrJoin(leaves, ","), "}"))}, "read audit text");
  if (!r.ok()) return r.status();
  for (int i = 0; i < r->rows(); ++i) out.push_back(store_rows::ReadTextRow(r->row(i)));
  return out;
}

}  // namespace safeshare::gateway
