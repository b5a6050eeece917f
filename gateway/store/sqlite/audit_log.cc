// The embedded store's audit log: the leaves and tree nodes the shared
// appender produces, checkpoints, proofs and queries.

#include <sqlite3.h>

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gateway/store/sqlite/connection.h"
#include "gateway/store/sqlite/sqlite_store.h"
#include "gateway/store/store_rows.h"

namespace safeshare::gateway {

using sqlite_db::Prepared;
using sqlite_db::ReadTransaction;
using sqlite_db::SqliteError;
using sqlite_db::Statement;
using store_rows::ToMicros;

// Complete subtree hashes from one connection: leaves from audit_log, the
// rest from audit_nodes. The caller holds the lock that guards the
// connection, its statements and its node cache.
class SqliteStore::Subtrees final : public transparency::SubtreeSource {
 public:
  Subtrees(sqlite3* db, StatementCache* statements, NodeCache* cache,
           const RecentSubtrees* recent = nullptr)
      : db_(db), statements_(statements), cache_(cache), recent_(recent) {}
  absl::StatusOr<std::string> CompleteSubtree(uint64_t level, uint64_t index) override {
    if (recent_ != nullptr) {
      if (auto hash = recent_->Find(level, index); hash.has_value()) return *std::move(hash);
    }
    constexpr size_t kCacheCap = 100000;
    if (level >= kCachedLevel) {
      auto it = cache_->find({level, index});
      if (it != cache_->end()) return it->second;
    }
    auto hash = Read(level, index);
    if (hash.ok() && level >= kCachedLevel && cache_->size() < kCacheCap) {
      cache_->emplace(std::make_pair(level, index), *hash);  // complete nodes never change
    }
    return hash;
  }

 private:
  absl::StatusOr<std::string> Read(uint64_t level, uint64_t index) {
    Statement s(db_,
                Prepared(db_, *statements_,
                         level == 0 ? "SELECT leaf_hash FROM audit_log WHERE seq = ?"
                                    : "SELECT hash FROM audit_nodes WHERE level = ? AND idx = ?"));
    if (auto st = s.status("read tree"); !st.ok()) return st;
    if (level == 0) {
      s.Bind(1, static_cast<int64_t>(index));
    } else {
      s.Bind(1, static_cast<int64_t>(level));
      s.Bind(2, static_cast<int64_t>(index));
    }
    int rc = s.Step();
    if (rc == SQLITE_ROW) return s.Text(0);
    if (rc == SQLITE_DONE) {
      return audit_errors::MissingTreeNode(level, index);
    }
    return SqliteError(db_, rc, "read tree");
  }

  sqlite3* db_;
  StatementCache* statements_;
  NodeCache* cache_;
  const RecentSubtrees* recent_;
};

// Writes what the appender produces on the write connection, with cached
// statements; the store's mu_ is held throughout.
class SqliteStore::AuditRows final : public AuditRowWriter {
 public:
  explicit AuditRows(SqliteStore* store) : store_(store) {}

  absl::Status WriteLeaf(const AuditLeafRow& row) override ABSL_NO_THREAD_SAFETY_ANALYSIS {
    Statement s(store_->db_,
                store_->CachedLocked(
                    "INSERT INTO audit_log (seq, record, leaf_hash, time_us, event, message_id, "
                    "kind, sender, recipient, sender_area, recipient_area, purpose, decision, "
                    "subject_reference, flagged_checks) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
    if (auto st = s.status("append audit record"); !st.ok()) return st;
    s.Bind(1, static_cast<int64_t>(row.index));
    s.BindBlob(2, row.record);
    s.BindBlob(3, row.leaf_hash);
    s.Bind(4, row.time_us);
    s.Bind(5, row.event);
    s.Bind(6, row.message_id);
    s.Bind(7, row.kind);
    s.Bind(8, row.sender);
    s.Bind(9, row.recipient);
    s.Bind(10, row.sender_area);
    s.Bind(11, row.recipient_area);
    s.Bind(12, row.purpose);
    s.Bind(13, row.decision);
    s.Bind(14, row.subject_reference);
    s.Bind(15, row.flagged_checks);
    int rc = s.Step();
    return rc == SQLITE_DONE ? absl::OkStatus()
                             : SqliteError(store_->db_, rc, "append audit record");
  }

  absl::Status WriteText(const AuditText& t) override ABSL_NO_THREAD_SAFETY_ANALYSIS {
    Statement s(store_->db_, store_->CachedLocked("INSERT INTO audit_text (seq, field, salt, text) "
                                                  "VALUES (?, ?, ?, ?)"));
    if (auto st = s.status("store audit text"); !st.ok()) return st;
    s.Bind(1, static_cast<int64_t>(t.leaf_index));
    s.Bind(2, t.field);
    s.BindBlob(3, t.salt);
    s.Bind(4, t.text);
    int rc = s.Step();
    return rc == SQLITE_DONE ? absl::OkStatus() : SqliteError(store_->db_, rc, "store audit text");
  }

  absl::StatusOr<std::optional<std::string>> ReadLeafRecord(uint64_t index) override
      ABSL_NO_THREAD_SAFETY_ANALYSIS {
    Statement s(store_->db_, store_->CachedLocked("SELECT record FROM audit_log WHERE seq = ?"));
    if (auto st = s.status("read audit record"); !st.ok()) return st;
    s.Bind(1, static_cast<int64_t>(index));
    int rc = s.Step();
    if (rc == SQLITE_DONE) return std::optional<std::string>();
    if (rc != SQLITE_ROW) return SqliteError(store_->db_, rc, "read audit record");
    return std::optional<std::string>(s.Text(0));
  }

  absl::StatusOr<std::optional<AuditText>> ReadText(
      uint64_t index, const std::string& field) override ABSL_NO_THREAD_SAFETY_ANALYSIS {
    Statement s(store_->db_,
                store_->CachedLocked(absl::StrCat("SELECT ", store_rows::kTextColumns,
                                                  " FROM audit_text WHERE seq = ? AND field = ?")));
    if (auto st = s.status("read audit text"); !st.ok()) return st;
    s.Bind(1, static_cast<int64_t>(index));
    s.Bind(2, field);
    int rc = s.Step();
    if (rc == SQLITE_DONE) return std::optional<AuditText>();
    if (rc != SQLITE_ROW) return SqliteError(store_->db_, rc, "read audit text");
    return std::optional<AuditText>(store_rows::ReadTextRow(s));
  }

  absl::Status UpdateText(const AuditText& t) override ABSL_NO_THREAD_SAFETY_ANALYSIS {
    Statement s(store_->db_,
                store_->CachedLocked("UPDATE audit_text SET salt = ?, text = ?, rectified_in = ?, "
                                     "erased_us = ?, erased_by = ? WHERE seq = ? AND field = ?"));
    if (auto st = s.status("change audit text"); !st.ok()) return st;
    if (t.erased) {
      s.BindNull(1);
      s.BindNull(2);
      s.Bind(4, ToMicros(t.erased_time));
    } else {
      s.BindBlob(1, t.salt);
      s.Bind(2, t.text);
      s.BindNull(4);
    }
    s.Bind(3, static_cast<int64_t>(t.rectified_in_leaf));
    s.Bind(5, t.erased_by);
    s.Bind(6, static_cast<int64_t>(t.leaf_index));
    s.Bind(7, t.field);
    int rc = s.Step();
    if (rc != SQLITE_DONE) return SqliteError(store_->db_, rc, "change audit text");
    // Once the batch commits, the old page images leave the WAL too.
    store_->scrub_wal_ = true;
    return absl::OkStatus();
  }

  absl::Status SetSubjectColumn(uint64_t index, const std::string& subject) override
      ABSL_NO_THREAD_SAFETY_ANALYSIS {
    Statement s(store_->db_,
                store_->CachedLocked("UPDATE audit_log SET subject_reference = ? WHERE seq = ?"));
    if (auto st = s.status("change audit subject"); !st.ok()) return st;
    s.Bind(1, subject);
    s.Bind(2, static_cast<int64_t>(index));
    int rc = s.Step();
    return rc == SQLITE_DONE ? absl::OkStatus()
                             : SqliteError(store_->db_, rc, "change audit subject");
  }

  absl::Status WriteNode(const transparency::Subtree& node) override
      ABSL_NO_THREAD_SAFETY_ANALYSIS {
    Statement n(store_->db_, store_->CachedLocked(
                                 "INSERT INTO audit_nodes (level, idx, hash) VALUES (?, ?, ?)"));
    if (auto st = n.status("store tree node"); !st.ok()) return st;
    n.Bind(1, static_cast<int64_t>(node.level));
    n.Bind(2, static_cast<int64_t>(node.index));
    n.BindBlob(3, node.hash);
    int rc = n.Step();
    return rc == SQLITE_DONE ? absl::OkStatus() : SqliteError(store_->db_, rc, "store tree node");
  }

 private:
  SqliteStore* store_;
};

absl::Status SqliteStore::LoadLogLocked(const std::string& path) {
  uint64_t size = 0;
  {
    Statement c(db_, "SELECT COUNT(*), COALESCE(MAX(seq) + 1, 0) FROM audit_log");
    if (c.Step() != SQLITE_ROW) return SqliteError(db_, SQLITE_ERROR, "count audit log");
    size = static_cast<uint64_t>(c.Int(0));
    if (static_cast<uint64_t>(c.Int(1)) != size) {
      return absl::DataLossError(absl::StrCat("store: ", path, ": the audit log has gaps (", size,
                                              " records, highest ", c.Int(1) - 1,
                                              "); run `safeshare audit verify` on a copy"));
    }
  }
  Subtrees source(db_, &statements_, &node_cache_);
  auto frontier = transparency::Frontier::Load(source, size);
  if (!frontier.ok()) return frontier.status();
  appender_.Reset(*std::move(frontier));
  return absl::OkStatus();
}

std::unique_ptr<AuditRowWriter> SqliteStore::AuditRowsLocked() {
  return std::make_unique<AuditRows>(this);
}

absl::Status SqliteStore::StoreCheckpointLocked(const CommitInfo& info) {
  Statement c(db_, CachedLocked("INSERT INTO audit_checkpoints (tree_size, root_hash, note, "
                                "time_us) VALUES (?, ?, ?, ?)"));
  c.Bind(1, static_cast<int64_t>(info.tree_size));
  c.BindBlob(2, info.root_hash);
  c.Bind(3, info.checkpoint_note);
  c.Bind(4, ToMicros(absl::Now()));
  int rc = c.Step();
  return rc == SQLITE_DONE ? absl::OkStatus() : SqliteError(db_, rc, "store checkpoint");
}

void SqliteStore::SetCheckpointSigner(CheckpointSigner signer) {
  absl::MutexLock lock(&mu_);
  appender_.SetSigner(std::move(signer));
}

namespace {

constexpr char kLatestCheckpoint[] =
    "SELECT tree_size, root_hash, note FROM audit_checkpoints ORDER BY tree_size DESC LIMIT 1";

absl::StatusOr<CommitInfo> ReadLatestCheckpoint(sqlite3* db, sqlite3_stmt* latest) {
  CommitInfo info;
  Statement s(db, latest);
  if (auto st = s.status("read checkpoint"); !st.ok()) return st;
  int rc = s.Step();
  if (rc == SQLITE_DONE) {
    info.root_hash = transparency::EmptyRootHash();
    return info;
  }
  if (rc != SQLITE_ROW) return SqliteError(db, rc, "read checkpoint");
  info.tree_size = static_cast<uint64_t>(s.Int(0));
  info.root_hash = s.Text(1);
  info.checkpoint_note = s.Text(2);
  return info;
}

}  // namespace

absl::StatusOr<CommitInfo> SqliteStore::LatestCheckpointLocked() {
  return ReadLatestCheckpoint(db_, CachedLocked(kLatestCheckpoint));
}

// Audit reads use the read connection: they never wait for a batch.
absl::StatusOr<CommitInfo> SqliteStore::LatestCheckpoint() {
  absl::MutexLock lock(&read_mu_);
  return ReadLatestCheckpoint(read_db_, Prepared(read_db_, read_statements_, kLatestCheckpoint));
}

absl::StatusOr<std::vector<std::string>> SqliteStore::Checkpoints() {
  absl::MutexLock lock(&read_mu_);
  Statement s(read_db_, "SELECT note FROM audit_checkpoints ORDER BY tree_size");
  if (auto st = s.status("read checkpoints"); !st.ok()) return st;
  std::vector<std::string> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(s.Text(0));
  if (rc != SQLITE_DONE) return SqliteError(read_db_, rc, "read checkpoints");
  return out;
}

// A batch's records and checkpoint are visible to the read connection a
// moment before the batch publishes committed_size_, so a reader that has
// just read a checkpoint may ask for a proof at a size not published yet
// (seen in a full test run: GetAgency failing with "the audit log has 17 records, not
// 18"). Beyond the published size, the read connection's own view decides.
absl::Status SqliteStore::CheckCommittedLocked(uint64_t tree_size) {
  if (tree_size <= committed_size_.load()) return absl::OkStatus();
  Statement s(read_db_, Prepared(read_db_, read_statements_,
                                 "SELECT COALESCE(MAX(seq) + 1, 0) FROM audit_log"));
  if (auto st = s.status("read audit log size"); !st.ok()) return st;
  if (int rc = s.Step(); rc != SQLITE_ROW) return SqliteError(read_db_, rc, "read audit log size");
  const uint64_t visible = static_cast<uint64_t>(s.Int(0));
  if (tree_size > visible) return audit_errors::BeyondTheLog(visible, tree_size);
  return absl::OkStatus();
}

// On the read connection: receipts' proofs never wait for a batch to commit.
absl::StatusOr<std::vector<std::string>> SqliteStore::InclusionProof(uint64_t leaf_index,
                                                                     uint64_t tree_size) {
  absl::MutexLock lock(&read_mu_);
  if (auto st = CheckCommittedLocked(tree_size); !st.ok()) return st;
  Subtrees source(read_db_, &read_statements_, &read_node_cache_, &recent_);
  // One read transaction for all the lookups, not one each.
  ReadTransaction read(read_db_, read_statements_);
  return transparency::InclusionProof(source, leaf_index, tree_size);
}

absl::StatusOr<std::vector<std::string>> SqliteStore::ConsistencyProof(uint64_t first_size,
                                                                       uint64_t second_size) {
  absl::MutexLock lock(&read_mu_);
  if (auto st = CheckCommittedLocked(second_size); !st.ok()) return st;
  Subtrees source(read_db_, &read_statements_, &read_node_cache_, &recent_);
  ReadTransaction read(read_db_, read_statements_);
  return transparency::ConsistencyProof(source, first_size, second_size);
}

absl::StatusOr<std::vector<std::string>> SqliteStore::CompleteSubtrees(uint64_t level,
                                                                       uint64_t first,
                                                                       uint64_t count) {
  if (auto st = audit_errors::CheckSubtreeRange(level, first, count); !st.ok()) return st;
  absl::MutexLock lock(&read_mu_);
  if (auto st = CheckCommittedLocked((first + count) << level); !st.ok()) return st;
  Subtrees source(read_db_, &read_statements_, &read_node_cache_, &recent_);
  ReadTransaction read(read_db_, read_statements_);
  std::vector<std::string> out;
  for (uint64_t i = first; i < first + count; ++i) {
    auto hash = source.CompleteSubtree(level, i);
    if (!hash.ok()) return hash.status();
    out.push_back(*std::move(hash));
  }
  return out;
}

absl::StatusOr<AuditLeaf> SqliteStore::GetAuditLeaf(uint64_t leaf_index) {
  absl::MutexLock lock(&read_mu_);
  Statement s(read_db_, Prepared(read_db_, read_statements_,
                                 "SELECT record, leaf_hash FROM audit_log WHERE seq = ?"));
  if (auto st = s.status("read audit record"); !st.ok()) return st;
  s.Bind(1, static_cast<int64_t>(leaf_index));
  int rc = s.Step();
  if (rc == SQLITE_DONE) {
    return audit_errors::NoAuditRecord(leaf_index);
  }
  if (rc != SQLITE_ROW) return SqliteError(read_db_, rc, "read audit record");
  return AuditLeaf{leaf_index, s.Text(0), s.Text(1)};
}

absl::Status SqliteStore::ScanAudit(const AuditFilter& f, uint64_t start, size_t limit,
                                    const std::function<bool(const AuditLeaf&)>& visit) {
  std::vector<std::string> where = {"seq >= ?"};
  std::vector<std::function<void(Statement&, int)>> binds;
  uint64_t next = start;  // the chunk's first index, bound per chunk
  binds.push_back([&next](Statement& s, int i) { s.Bind(i, static_cast<int64_t>(next)); });
  auto text = [&](const char* clause, std::string v) {
    where.push_back(clause);
    binds.push_back([v](Statement& s, int i) { s.Bind(i, v); });
  };
  auto num = [&](const char* clause, int64_t v) {
    where.push_back(clause);
    binds.push_back([v](Statement& s, int i) { s.Bind(i, v); });
  };
  if (!f.agencies.empty()) {
    std::vector<std::string> marks(f.agencies.size(), "?");
    const std::string in = absl::StrJoin(marks, ",");
    where.push_back(absl::StrCat("(sender IN (", in, ") OR recipient IN (", in, "))"));
    for (int pass = 0; pass < 2; ++pass) {
      for (const auto& a : f.agencies) binds.push_back([a](Statement& s, int i) { s.Bind(i, a); });
    }
  }
  if (!f.agency_id.empty()) {
    where.push_back("(sender = ? OR recipient = ?)");
    binds.push_back([v = f.agency_id](Statement& s, int i) { s.Bind(i, v); });
    binds.push_back([v = f.agency_id](Statement& s, int i) { s.Bind(i, v); });
  }
  if (!f.area_id.empty()) {
    where.push_back("(sender_area = ? OR recipient_area = ?)");
    binds.push_back([v = f.area_id](Statement& s, int i) { s.Bind(i, v); });
    binds.push_back([v = f.area_id](Statement& s, int i) { s.Bind(i, v); });
  }
  if (f.before_index) num("seq < ?", static_cast<int64_t>(*f.before_index));
  if (f.start) num("time_us >= ?", ToMicros(*f.start));
  if (f.end) num("time_us < ?", ToMicros(*f.end));
  if (f.kind != 0) num("kind = ?", f.kind);
  if (f.purpose != 0) num("purpose = ?", f.purpose);
  if (f.decision != 0) num("decision = ?", f.decision);
  if (!f.failed_check.empty())
    text("flagged_checks LIKE ?", absl::StrCat("%,", f.failed_check, ",%"));
  if (!f.subject_reference.empty()) text("subject_reference = ?", f.subject_reference);
  // In chunks on the read connection, visiting outside its lock: a long
  // export never holds up commits or other readers while the caller streams.
  constexpr size_t kChunk = 1000;
  const std::string sql =
      absl::StrCat("SELECT seq, record, leaf_hash FROM audit_log WHERE ",
                   absl::StrJoin(where, " AND "), " ORDER BY seq LIMIT ", kChunk);
  size_t seen = 0;
  for (;;) {
    std::vector<AuditLeaf> chunk;
    {
      absl::MutexLock lock(&read_mu_);
      Statement s(read_db_, Prepared(read_db_, read_statements_, sql));
      if (auto st = s.status("query audit log"); !st.ok()) return st;
      for (size_t i = 0; i < binds.size(); ++i) binds[i](s, static_cast<int>(i + 1));
      int rc;
      while ((rc = s.Step()) == SQLITE_ROW) {
        chunk.push_back(AuditLeaf{static_cast<uint64_t>(s.Int(0)), s.Text(1), s.Text(2)});
      }
      if (rc != SQLITE_DONE) return SqliteError(read_db_, rc, "query audit log");
    }
    for (const AuditLeaf& leaf : chunk) {
      if (!visit(leaf)) return absl::OkStatus();
      if (limit > 0 && ++seen >= limit) return absl::OkStatus();
    }
    if (chunk.size() < kChunk) return absl::OkStatus();
    next = chunk.back().index + 1;
  }
}

absl::StatusOr<std::vector<AuditText>> SqliteStore::ReadAuditTexts(
    const std::vector<uint64_t>& leaves) {
  std::vector<AuditText> out;
  if (leaves.empty()) return out;
  // Leaf indexes are numbers this process holds, written into the SQL as such.
  const std::string sql =
      absl::StrCat("SELECT ", store_rows::kTextColumns, " FROM audit_text WHERE seq IN (",
                   absl::StrJoin(leaves, ","), ") ORDER BY seq, field");
  absl::MutexLock lock(&read_mu_);
  Statement s(read_db_, sql.c_str());
  if (auto st = s.status("read audit text"); !st.ok()) return st;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(store_rows::ReadTextRow(s));
  if (rc != SQLITE_DONE) return SqliteError(read_db_, rc, "read audit text");
  return out;
}

}  // namespace safeshare::gateway
