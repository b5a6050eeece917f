#include "gateway/store/sqlite_store.h"

#include <pthread.h>
#include <sqlite3.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/log.h"
#include "gateway/store/batch_transaction.h"
#include "gateway/store/store_rows.h"

namespace safeshare::gateway {
namespace {

using safeshare::v1::MessageState;
using store_rows::FlaggedChecks;
using store_rows::FromMicros;
using store_rows::SerializeRecord;
using store_rows::ToMicros;
using store_rows::Ts;
using store_rows::TsMicros;

constexpr int kSchemaVersion = 6;
// kFindHeld's literal state is the one in messages_held's WHERE.
static_assert(safeshare::v1::MESSAGE_STATE_HELD == 2);
// WAL size (pages) at which the checkpointer runs, and restarts the WAL.
constexpr int kCheckpointPages = 1000;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS messages (
  sequence           INTEGER PRIMARY KEY AUTOINCREMENT,
  message_id         TEXT    NOT NULL UNIQUE,
  sender             TEXT    NOT NULL,
  recipient          TEXT    NOT NULL,
  kind               INTEGER NOT NULL,
  signed_envelope    BLOB    NOT NULL,
  envelope_sha256    BLOB    NOT NULL,
  receipt            BLOB    NOT NULL,
  state              INTEGER NOT NULL,
  accepted_us        INTEGER NOT NULL,
  first_delivered_us INTEGER,
  acknowledged_us    INTEGER
);
CREATE INDEX IF NOT EXISTS messages_by_mailbox
  ON messages (recipient, acknowledged_us, sequence);
CREATE TABLE IF NOT EXISTS message_events (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  message_id TEXT    NOT NULL,
  state      INTEGER NOT NULL,
  time_us    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS message_events_by_message
  ON message_events (message_id, id);
CREATE TABLE IF NOT EXISTS agency_keys (
  seq           INTEGER PRIMARY KEY AUTOINCREMENT,
  key_id        TEXT    NOT NULL UNIQUE,
  agency_id     TEXT    NOT NULL,
  purpose       INTEGER NOT NULL,
  public_key    BLOB    NOT NULL,
  not_before_us INTEGER NOT NULL,
  not_after_us  INTEGER,
  current       INTEGER NOT NULL,
  revoked_us    INTEGER
);
)sql";

// Version 5 -> 6: expired content and holds are found by index. The
// escalator's purge scan read the whole table, every envelope included, each
// interval: a stall that grew with the database.
constexpr const char* kMigrateTo6 = R"sql(
CREATE INDEX IF NOT EXISTS messages_by_purge ON messages (acknowledged_us + retention_us)
  WHERE retention_us > 0 AND length(signed_envelope) > 0;
CREATE INDEX IF NOT EXISTS messages_held ON messages (sequence) WHERE state = 2;
)sql";

// Version 4 -> 5: threads, and one open deadline per message (to be
// acknowledged, answered or decided), indexed only while it is open.
constexpr const char* kMigrateTo5 = R"sql(
ALTER TABLE messages ADD COLUMN in_reply_to TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN declaration BLOB NOT NULL DEFAULT x'';
ALTER TABLE messages ADD COLUMN answered_us INTEGER;
ALTER TABLE messages ADD COLUMN open_deadline_us INTEGER;
UPDATE messages SET open_deadline_us = ack_deadline_us
  WHERE acknowledged_us IS NULL AND escalated_us IS NULL AND state IN (1, 4);
DROP INDEX IF EXISTS messages_by_deadline;
CREATE INDEX IF NOT EXISTS messages_by_open_deadline ON messages (open_deadline_us)
  WHERE open_deadline_us IS NOT NULL;
CREATE INDEX IF NOT EXISTS messages_by_reply ON messages (in_reply_to)
  WHERE in_reply_to <> '';
)sql";

// Version 3 -> 4: acknowledgement deadlines and escalation.
constexpr const char* kMigrateTo4 = R"sql(
ALTER TABLE messages ADD COLUMN urgency INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN ack_deadline_us INTEGER;
ALTER TABLE messages ADD COLUMN escalated_us INTEGER;
CREATE INDEX IF NOT EXISTS messages_by_deadline ON messages (ack_deadline_us)
  WHERE acknowledged_us IS NULL AND escalated_us IS NULL;
ALTER TABLE messages ADD COLUMN retention_us INTEGER NOT NULL DEFAULT 0;
)sql";

// Version 2 -> 3: the audit log. audit_log holds the leaves (level 0);
// audit_nodes every complete subtree above them; proofs read O(log n) rows.
constexpr const char* kMigrateTo3 = R"sql(
CREATE TABLE IF NOT EXISTS audit_log (
  seq               INTEGER PRIMARY KEY,
  record            BLOB    NOT NULL,
  leaf_hash         BLOB    NOT NULL,
  time_us           INTEGER NOT NULL,
  event             INTEGER NOT NULL,
  message_id        TEXT    NOT NULL,
  kind              INTEGER NOT NULL,
  sender            TEXT    NOT NULL,
  recipient         TEXT    NOT NULL,
  sender_area       TEXT    NOT NULL,
  recipient_area    TEXT    NOT NULL,
  purpose           INTEGER NOT NULL,
  decision          INTEGER NOT NULL,
  subject_reference TEXT    NOT NULL,
  flagged_checks    TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_by_sender ON audit_log (sender, seq);
CREATE INDEX IF NOT EXISTS audit_by_recipient ON audit_log (recipient, seq);
CREATE INDEX IF NOT EXISTS audit_by_time ON audit_log (time_us);
CREATE INDEX IF NOT EXISTS audit_by_subject ON audit_log (subject_reference);
CREATE TABLE IF NOT EXISTS audit_nodes (
  level INTEGER NOT NULL,
  idx   INTEGER NOT NULL,
  hash  BLOB    NOT NULL,
  PRIMARY KEY (level, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS audit_checkpoints (
  tree_size INTEGER PRIMARY KEY,
  root_hash BLOB    NOT NULL,
  note      TEXT    NOT NULL,
  time_us   INTEGER NOT NULL
);
)sql";

// Version 1 -> 2: content refusals.
constexpr const char* kMigrateTo2 = R"sql(
ALTER TABLE messages ADD COLUMN refusal_reason INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN refusal_detail TEXT NOT NULL DEFAULT '';
)sql";

// Maps an SQLite result to a status an operator can act on. Conditions that
// go away (full disk, read-only file, I/O error, lock contention) are
// UNAVAILABLE so clients retry with the same message id.
absl::Status SqliteError(sqlite3* db, int rc, absl::string_view what) {
  std::string msg = absl::StrCat("store: ", what, ": ", sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_FULL:
    case SQLITE_READONLY:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_PROTOCOL:
      return absl::UnavailableError(msg);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::DataLossError(msg);
    default:
      return absl::InternalError(msg);
  }
}


// A prepared statement that finalizes itself.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db), owned_(true) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  // Borrows a cached statement, and resets it for its next use.
  Statement(sqlite3* db, sqlite3_stmt* cached)
      : db_(db), stmt_(cached), owned_(false), rc_(cached ? SQLITE_OK : sqlite3_errcode(db)) {}
  ~Statement() {
    if (owned_) {
      sqlite3_finalize(stmt_);
    } else if (stmt_ != nullptr) {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
    }
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  absl::Status status(absl::string_view what) const {
    return rc_ == SQLITE_OK ? absl::OkStatus() : SqliteError(db_, rc_, what);
  }
  void Bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void Bind(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void BindBlob(int i, const std::string& v) {
    sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void BindNull(int i) { sqlite3_bind_null(stmt_, i); }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() { return sqlite3_step(stmt_); }
  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string Text(int col) const {
    const void* p = sqlite3_column_blob(stmt_, col);
    int n = sqlite3_column_bytes(stmt_, col);
    return p ? std::string(static_cast<const char*>(p), n) : std::string();
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  bool owned_;
  int rc_;
};

// Runs `body` inside BEGIN IMMEDIATE ... COMMIT; rolls back on any error.
template <typename Fn>
auto InTransaction(sqlite3* db, Fn body) -> decltype(body()) {
  int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db, rc, "begin transaction");
  auto result = body();
  if (!result.ok()) {
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    return result;
  }
  rc = sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    return SqliteError(db, rc, "commit");
  }
  return result;
}

}  // namespace

// A prepared statement kept in `cache` for the connection's life; null if
// it does not prepare.
sqlite3_stmt* Prepared(sqlite3* db, std::map<std::string, sqlite3_stmt*>& cache,
                       const std::string& sql) {
  auto it = cache.find(sql);
  if (it != cache.end()) return it->second;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) !=
      SQLITE_OK) {
    return nullptr;
  }
  cache.emplace(sql, stmt);
  return stmt;
}

namespace {

// One read transaction for a group of lookups; never left open. Its BEGIN
// and COMMIT are prepared once: every receipt's proof opens one, and parsing
// them each time was a tenth of the completion thread's work.
class ReadTransaction {
 public:
  ReadTransaction(sqlite3* db, std::map<std::string, sqlite3_stmt*>& cache)
      : db_(db), cache_(cache) {
    open_ = Run("BEGIN") == SQLITE_DONE;
  }
  ~ReadTransaction() {
    if (open_ && Run("COMMIT") != SQLITE_DONE && !sqlite3_get_autocommit(db_)) Run("ROLLBACK");
  }

 private:
  int Run(const char* sql) {
    sqlite3_stmt* stmt = Prepared(db_, cache_, sql);
    if (stmt == nullptr) return sqlite3_errcode(db_);
    const int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    return rc;
  }

  sqlite3* db_;
  std::map<std::string, sqlite3_stmt*>& cache_;
  bool open_;
};

}  // namespace

// Complete subtree hashes from one connection: leaves from audit_log, the
// rest from audit_nodes. The caller holds the lock that guards the
// connection, its statements and its node cache.
class SqliteStore::Subtrees final : public transparency::SubtreeSource {
 public:
  using NodeCache = std::map<std::pair<uint64_t, uint64_t>, std::string>;
  Subtrees(sqlite3* db, std::map<std::string, sqlite3_stmt*>* statements, NodeCache* cache,
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
    Statement s(db_, Prepared(db_, *statements_,
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
      return absl::DataLossError(
          absl::StrCat("store: audit tree node (", level, ", ", index, ") is missing"));
    }
    return SqliteError(db_, rc, "read tree");
  }

  sqlite3* db_;
  std::map<std::string, sqlite3_stmt*>* statements_;
  NodeCache* cache_;
  const RecentSubtrees* recent_;
};

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path,
                                                                int64_t max_pages) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    absl::Status st = SqliteError(db, rc, absl::StrCat("cannot open database ", path));
    sqlite3_close(db);
    return st;
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, 5000);
  std::unique_ptr<SqliteStore> store(new SqliteStore(db));
  absl::MutexLock lock(&store->mu_);
  // WAL + FULL: each commit is fsynced before it returns. temp_store=MEMORY
  // keeps each job's savepoint journal off the disk, where its writes queued
  // behind the checkpoint's and stalled the commit.
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
                             "PRAGMA foreign_keys=ON", "PRAGMA temp_store=MEMORY"}) {
    if (absl::Status st = store->Exec(pragma); !st.ok()) return st;
  }
  {
    Statement mode(db, "PRAGMA journal_mode");
    if (mode.Step() != SQLITE_ROW || mode.Text(0) != "wal") {
      return absl::FailedPreconditionError(
          absl::StrCat("store: ", path, " could not be switched to WAL mode"));
    }
  }
  int64_t version = 0;
  {
    Statement v(db, "PRAGMA user_version");
    version = v.Step() == SQLITE_ROW ? v.Int(0) : 0;
  }
  if (version > kSchemaVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "store: ", path, " has schema version ", version,
        ", newer than this gateway understands (", kSchemaVersion, ")"));
  }
  if (version < kSchemaVersion) {
    // One transaction: a crash leaves the old version intact.
    auto migrated = InTransaction(db, [&]() -> absl::StatusOr<bool> {
      // kSchema is version 1 plus new tables; later versions alter it.
      if (version < 2) {
        if (auto st = store->Exec(kSchema); !st.ok()) return st;
        if (auto st = store->Exec(kMigrateTo2); !st.ok()) return st;
      }
      if (version < 3) {
        if (auto st = store->Exec(kMigrateTo3); !st.ok()) return st;
      }
      if (version < 4) {
        if (auto st = store->Exec(kMigrateTo4); !st.ok()) return st;
      }
      if (version < 5) {
        if (auto st = store->Exec(kMigrateTo5); !st.ok()) return st;
      }
      if (auto st = store->Exec(kMigrateTo6); !st.ok()) return st;
      if (auto st = store->Exec("PRAGMA user_version=6"); !st.ok()) return st;
      return true;
    });
    if (!migrated.ok()) return migrated.status();
  }
  if (max_pages > 0) {
    if (auto st = store->Exec(absl::StrCat("PRAGMA max_page_count=", max_pages).c_str());
        !st.ok()) {
      return st;
    }
  }
  uint64_t size = 0;
  {
    Statement c(db, "SELECT COUNT(*), COALESCE(MAX(seq) + 1, 0) FROM audit_log");
    if (c.Step() != SQLITE_ROW) return SqliteError(db, SQLITE_ERROR, "count audit log");
    size = static_cast<uint64_t>(c.Int(0));
    if (static_cast<uint64_t>(c.Int(1)) != size) {
      return absl::DataLossError(
          absl::StrCat("store: ", path, ": the audit log has gaps (", size, " records, highest ",
                       c.Int(1) - 1, "); run `safeshare audit verify` on a copy"));
    }
  }
  Subtrees source(store->db_, &store->statements_, &store->node_cache_);
  auto frontier = transparency::Frontier::Load(source, size);
  if (!frontier.ok()) return frontier.status();
  store->frontier_ = std::move(*frontier);
  {
    absl::MutexLock read_lock(&store->read_mu_);
    if (sqlite3_open_v2(path.c_str(), &store->read_db_, SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX,
                        nullptr) != SQLITE_OK) {
      return absl::UnavailableError(absl::StrCat("store: cannot open a reader on ", path));
    }
    sqlite3_busy_timeout(store->read_db_, 5000);
  }
  store->committed_size_.store(size);
  store->path_ = path;
  // Checkpoints leave the commit path: the writer only signals when the WAL
  // has grown (SQLite's own auto-checkpoint would run inside a COMMIT).
  {
    // (mu_ is held: Open owns the writer throughout.)
    sqlite3_wal_hook(
        store->db_,
        +[](void* arg, sqlite3*, const char*, int pages) -> int {
          auto* s = static_cast<SqliteStore*>(arg);
          if (pages >= kCheckpointPages) {
            absl::MutexLock lock(&s->checkpoint_mu_);
            s->checkpoint_wanted_ = true;
          }
          return SQLITE_OK;
        },
        store.get());
  }
  store->checkpointer_ = std::thread([s = store.get()] {
    pthread_setname_np(pthread_self(), "wal-checkpoint");
    s->CheckpointerLoop();
  });
  store->committer_ = std::make_unique<GroupCommitter>(
      [s = store.get()](const std::vector<Work>& jobs, std::vector<absl::Status>& results,
                         CommitInfo& info) { return s->RunBatch(jobs, results, info); });
  return store;
}

SqliteStore::~SqliteStore() {
  committer_.reset();  // commits what is queued and runs every callback: they may read the store
  {
    absl::MutexLock lock(&checkpoint_mu_);
    checkpoint_stop_ = true;
  }
  if (checkpointer_.joinable()) checkpointer_.join();
  {
    absl::MutexLock read_lock(&read_mu_);
    for (auto& [sql, stmt] : read_statements_) sqlite3_finalize(stmt);
    sqlite3_close_v2(read_db_);
  }
  absl::MutexLock lock(&mu_);
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

absl::StatusOr<std::vector<StoredMessage>> SqliteStore::PendingForRecipient(
    const std::string& recipient, uint64_t after_sequence, int limit) {
  absl::MutexLock lock(&read_mu_);
  std::string sql = absl::StrCat(
      "SELECT ", store_rows::kMessageColumns,
      " FROM messages WHERE recipient = ? AND acknowledged_us IS NULL AND sequence > ? "
      "AND state IN (?, ?, ?) ORDER BY sequence LIMIT ?");
  Statement s(read_db_, sql.c_str());
  if (auto st = s.status("read mailbox"); !st.ok()) return st;
  s.Bind(1, recipient);
  s.Bind(2, static_cast<int64_t>(after_sequence));
  s.Bind(3, static_cast<int64_t>(safeshare::v1::MESSAGE_STATE_SUBMITTED));
  s.Bind(4, static_cast<int64_t>(safeshare::v1::MESSAGE_STATE_DELIVERED));
  s.Bind(5, static_cast<int64_t>(safeshare::v1::MESSAGE_STATE_ESCALATED));
  s.Bind(6, limit);
  std::vector<StoredMessage> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(store_rows::ReadMessageRow(s));
  if (rc != SQLITE_DONE) return SqliteError(read_db_, rc, "read mailbox");
  return out;
}

absl::StatusOr<std::vector<StoredMessage>> SqliteStore::ListHeld(
    const std::vector<std::string>& senders, uint64_t after_sequence, int limit) {
  absl::MutexLock lock(&read_mu_);
  std::vector<std::string> marks(senders.size(), "?");
  std::string sql = absl::StrCat("SELECT ", store_rows::kMessageColumns, " ", kFindHeld,
                                 senders.empty() ? "" : absl::StrCat(" AND sender IN (",
                                                                     absl::StrJoin(marks, ","), ")"),
                                 " ORDER BY sequence LIMIT ?");
  Statement s(read_db_, sql.c_str());
  if (auto st = s.status("list held"); !st.ok()) return st;
  int i = 1;
  s.Bind(i++, static_cast<int64_t>(after_sequence));
  for (const auto& sender : senders) s.Bind(i++, sender);
  s.Bind(i++, limit);
  std::vector<StoredMessage> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(store_rows::ReadMessageRow(s));
  if (rc != SQLITE_DONE) return SqliteError(read_db_, rc, "list held");
  return out;
}

absl::StatusOr<StoredMessage> SqliteStore::ResolveHeldTx(
    const std::string& message_id, bool approve,
    const std::function<absl::Time(safeshare::v1::Urgency)>& deadline_for, absl::Time now) {
  auto loaded = LoadLocked(message_id);
  if (!loaded.ok()) return loaded.status();
  if (!loaded->has_value()) {
    return absl::NotFoundError(absl::StrCat("no message with id ", message_id));
  }
  StoredMessage m = std::move(**loaded);
  if (m.state != safeshare::v1::MESSAGE_STATE_HELD) {
    return absl::FailedPreconditionError(absl::StrCat(
        "message ", message_id, " is not held for advice (it is ",
        safeshare::v1::MessageState_Name(m.state), ")"));
  }
  const auto next = approve ? safeshare::v1::MESSAGE_STATE_SUBMITTED
                            : safeshare::v1::MESSAGE_STATE_REFUSED;
  const absl::Time deadline = deadline_for(m.urgency);
  Statement u(db_, approve ? "UPDATE messages SET state = ?1, ack_deadline_us = ?2, "
                             "open_deadline_us = ?2 WHERE sequence = ?3"
                           : "UPDATE messages SET state = ?, signed_envelope = x'', "
                             "open_deadline_us = NULL WHERE sequence = ?");
  if (auto st = u.status("resolve held"); !st.ok()) return st;
  u.Bind(1, static_cast<int64_t>(next));
  if (approve) {
    u.Bind(2, ToMicros(deadline));
    u.Bind(3, static_cast<int64_t>(m.sequence));
  } else {
    u.Bind(2, static_cast<int64_t>(m.sequence));
  }
  if (int rc = u.Step(); rc != SQLITE_DONE) return SqliteError(db_, rc, "resolve held");
  if (auto st = AddEventLocked(message_id, next, now); !st.ok()) return st;
  if (approve && !m.in_reply_to.empty()) {
    if (auto st = AnswerLocked(m.in_reply_to, now); !st.ok()) return st;
  }
  m.state = next;
  if (approve) {
    m.acknowledge_deadline = deadline;
  } else {
    m.signed_envelope.clear();
  }
  return m;
}

absl::StatusOr<std::vector<StoredMessage>> SqliteStore::MarkDeliveredTx(
    const std::string& recipient, const std::vector<uint64_t>& seqs, absl::Time now) {
  std::vector<StoredMessage> marked;
  static const std::string select =
      absl::StrCat("SELECT ", store_rows::kMessageColumns, " FROM messages WHERE sequence = ? AND recipient = ?");
  for (uint64_t seq : seqs) {
    std::optional<StoredMessage> m;
    {
      Statement s(db_, CachedLocked(select));
      if (auto st = s.status("mark delivered"); !st.ok()) return st;
      s.Bind(1, static_cast<int64_t>(seq));
      s.Bind(2, recipient);
      int rc = s.Step();
      if (rc == SQLITE_ROW) m = store_rows::ReadMessageRow(s);
      else if (rc != SQLITE_DONE) return SqliteError(db_, rc, "mark delivered");
    }
    if (!m || m->first_delivered_time) continue;
    // Only a message still waiting changes state; an acknowledged or
    // escalated one keeps its state and just gains its hand-over time.
    Statement u(db_, CachedLocked(
                         "UPDATE messages SET first_delivered_us = ?, state = CASE WHEN state = ? "
                         "THEN ? ELSE state END WHERE sequence = ? AND first_delivered_us IS NULL"));
    if (auto st = u.status("mark delivered"); !st.ok()) return st;
    u.Bind(1, ToMicros(now));
    u.Bind(2, static_cast<int64_t>(safeshare::v1::MESSAGE_STATE_SUBMITTED));
    u.Bind(3, static_cast<int64_t>(safeshare::v1::MESSAGE_STATE_DELIVERED));
    u.Bind(4, static_cast<int64_t>(seq));
    if (int rc = u.Step(); rc != SQLITE_DONE) return SqliteError(db_, rc, "mark delivered");
    if (auto st = AddEventLocked(m->message_id, safeshare::v1::MESSAGE_STATE_DELIVERED, now);
        !st.ok()) {
      return st;
    }
    if (m->state == safeshare::v1::MESSAGE_STATE_SUBMITTED) {
      m->state = safeshare::v1::MESSAGE_STATE_DELIVERED;
    }
    m->first_delivered_time = now;
    marked.push_back(std::move(*m));
  }
  return marked;
}

const char SqliteStore::kFindHeld[] = "FROM messages WHERE state = 2 AND sequence > ?";
const char SqliteStore::kFindExpired[] =
    "FROM messages WHERE retention_us > 0 AND length(signed_envelope) > 0 "
    "AND acknowledged_us + retention_us < ? AND state IN (?, ?, ?, ?) "
    "ORDER BY acknowledged_us + retention_us LIMIT ?";

sqlite3_stmt* SqliteStore::CachedLocked(const std::string& sql) {
  return Prepared(db_, statements_, sql);
}

// ---- Group commit ----

void SqliteStore::Commit(Work work, Done done) {
  committer_->Commit(std::move(work), std::move(done));
}

absl::Status SqliteStore::RunBatch(const std::vector<Work>& jobs, std::vector<absl::Status>& results,
                              CommitInfo& info) {
  absl::Status commit_status;
  {
    absl::MutexLock lock(&mu_);
    const transparency::Frontier before_batch = frontier_;
    batch_subtrees_.clear();
    int rc = StepCachedLocked("BEGIN IMMEDIATE");
    if (rc != SQLITE_OK) {
      commit_status = SqliteError(db_, rc, "begin transaction");
    } else {
      BatchTransaction<SqliteStore> tx(this);
      for (size_t i = 0; i < jobs.size(); ++i) {
        const transparency::Frontier before_job = frontier_;
        const size_t subtrees_before_job = batch_subtrees_.size();
        if (int src = StepCachedLocked("SAVEPOINT job");
            src != SQLITE_OK) {
          commit_status = SqliteError(db_, src, "savepoint");
          break;
        }
        results[i] = jobs[i](tx);
        if (sqlite3_get_autocommit(db_)) {
          // SQLite rolled the whole transaction back (disk full, I/O error):
          // nothing of this batch is written, and no later job may run
          // outside a transaction.
          commit_status = results[i].ok()
                              ? absl::UnavailableError("store: the transaction was rolled back")
                              : results[i];
          break;
        }
        int src;
        if (results[i].ok()) {
          src = StepCachedLocked("RELEASE job");
        } else {
          // This job alone is undone; the rest of the batch goes ahead.
          src = StepCachedLocked("ROLLBACK TO job");
          if (src == SQLITE_OK) src = StepCachedLocked("RELEASE job");
          frontier_ = before_job;
          batch_subtrees_.resize(subtrees_before_job);
        }
        if (src != SQLITE_OK) {
          // Cannot tell what of this job is written: give up the whole batch.
          commit_status = SqliteError(db_, src, "savepoint");
          break;
        }
      }
      info.tree_size = frontier_.size();
      info.root_hash = frontier_.Root();
      if (commit_status.ok() && frontier_.size() != before_batch.size() && signer_) {
        auto note = signer_(info.tree_size, info.root_hash);
        if (!note.ok()) {
          commit_status = note.status();
        } else {
          info.checkpoint_note = *note;
          Statement c(db_, CachedLocked("INSERT INTO audit_checkpoints (tree_size, root_hash, note, "
                                        "time_us) VALUES (?, ?, ?, ?)"));
          c.Bind(1, static_cast<int64_t>(info.tree_size));
          c.BindBlob(2, info.root_hash);
          c.Bind(3, *note);
          c.Bind(4, ToMicros(absl::Now()));
          if (int crc = c.Step(); crc != SQLITE_DONE) {
            commit_status = SqliteError(db_, crc, "store checkpoint");
          }
        }
      }
      if (commit_status.ok()) {
        rc = StepCachedLocked("COMMIT");
        if (rc != SQLITE_OK) commit_status = SqliteError(db_, rc, "commit");
      }
      if (commit_status.ok()) {
        recent_.Add(batch_subtrees_);  // before proofs may ask for them
        committed_size_.store(frontier_.size());
      }
      if (!commit_status.ok()) {
        if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        frontier_ = before_batch;
      }
    }
    if (commit_status.ok() && info.checkpoint_note.empty() && info.tree_size > 0) {
      auto latest = LatestCheckpointLocked();
      if (latest.ok()) info.checkpoint_note = latest->checkpoint_note;
    }
  }
  return commit_status;
}

void SqliteStore::CheckpointerLoop() {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    LogEvent("error", "store.checkpointer_failed", {{"detail", "cannot open the database"}});
    sqlite3_close_v2(db);
    return;
  }
  sqlite3_busy_timeout(db, 20);  // only a RESTART waits, and it holds the writer
  (void)sqlite3_exec(db, "PRAGMA synchronous=FULL", nullptr, nullptr, nullptr);
  for (;;) {
    {
      absl::MutexLock lock(&checkpoint_mu_);
      // Also every few seconds, so a quiet gateway's WAL is folded back too.
      checkpoint_mu_.AwaitWithTimeout(
          absl::Condition(
              +[](SqliteStore* s) ABSL_NO_THREAD_SAFETY_ANALYSIS {
                return s->checkpoint_wanted_ || s->checkpoint_stop_;
              },
              this),
          absl::Seconds(5));
      if (checkpoint_stop_) break;
      checkpoint_wanted_ = false;
    }
    // PASSIVE: copies what no reader still needs, never blocks the writer.
    int log = 0, copied = 0;
    int rc = sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
    if (rc == SQLITE_OK && log >= kCheckpointPages) {
      // Under steady commits a PASSIVE checkpoint never catches up with the
      // writer, so the WAL is never restarted: it grows without bound and every
      // read searches more of it. Pause the writer for the frames still left and
      // restart the WAL; a reader that holds on past the short timeout makes
      // this round give up, and the next one tries again.
      absl::MutexLock writer(&mu_);
      rc = sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_RESTART, &log, &copied);
    }
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
      LogEvent("warn", "store.checkpoint_failed", {{"detail", sqlite3_errmsg(db)}});
    }
  }
  sqlite3_close_v2(db);
}

int SqliteStore::StepCachedLocked(const char* sql) {
  sqlite3_stmt* stmt = CachedLocked(sql);
  if (stmt == nullptr) return sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  int rc = sqlite3_step(stmt);
  sqlite3_reset(stmt);
  return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

absl::Status SqliteStore::Exec(const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  sqlite3_free(err);
  return rc == SQLITE_OK ? absl::OkStatus() : SqliteError(db_, rc, "statement");
}

absl::StatusOr<std::optional<StoredMessage>> SqliteStore::LoadLocked(
    const std::string& message_id) {
  static const std::string sql =
      absl::StrCat("SELECT ", store_rows::kMessageColumns, " FROM messages WHERE message_id = ?");
  Statement s(db_, CachedLocked(sql));
  if (auto st = s.status("load message"); !st.ok()) return st;
  s.Bind(1, message_id);
  int rc = s.Step();
  if (rc == SQLITE_DONE) return std::optional<StoredMessage>();
  if (rc != SQLITE_ROW) return SqliteError(db_, rc, "load message");
  return std::optional<StoredMessage>(store_rows::ReadMessageRow(s));
}

absl::Status SqliteStore::AddEventLocked(const std::string& message_id, MessageState state,
                                         absl::Time t) {
  Statement s(db_, CachedLocked("INSERT INTO message_events (message_id, state, time_us) VALUES (?, ?, ?)"));
  if (auto st = s.status("record state change"); !st.ok()) return st;
  s.Bind(1, message_id);
  s.Bind(2, static_cast<int64_t>(state));
  s.Bind(3, ToMicros(t));
  int rc = s.Step();
  return rc == SQLITE_DONE ? absl::OkStatus() : SqliteError(db_, rc, "record state change");
}

absl::StatusOr<InsertResult> SqliteStore::InsertMessageTx(const StoredMessage& m) {
  {
    auto existing = LoadLocked(m.message_id);
    if (!existing.ok()) return existing.status();
    if (existing->has_value()) return InsertResult{false, std::move(**existing)};

    Statement s(db_, CachedLocked(
                         "INSERT INTO messages (message_id, sender, recipient, kind, "
                         "signed_envelope, envelope_sha256, receipt, state, accepted_us, urgency, "
                         "ack_deadline_us, retention_us, in_reply_to, declaration, "
                         "open_deadline_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    if (auto st = s.status("insert message"); !st.ok()) return st;
    s.Bind(1, m.message_id);
    s.Bind(2, m.sender_agency_id);
    s.Bind(3, m.recipient_agency_id);
    s.Bind(4, static_cast<int64_t>(m.kind));
    s.BindBlob(5, m.signed_envelope);
    s.BindBlob(6, m.envelope_sha256);
    s.BindBlob(7, m.receipt);
    s.Bind(8, static_cast<int64_t>(m.state));
    s.Bind(9, ToMicros(m.accepted_time));
    s.Bind(10, static_cast<int64_t>(m.urgency));
    if (m.acknowledge_deadline) {
      s.Bind(11, ToMicros(*m.acknowledge_deadline));
    } else {
      s.BindNull(11);
    }
    s.Bind(12, absl::ToInt64Microseconds(m.retention));
    s.Bind(13, m.in_reply_to);
    s.BindBlob(14, m.declaration);
    const bool open = m.acknowledge_deadline && (m.state == safeshare::v1::MESSAGE_STATE_SUBMITTED ||
                                                 m.state == safeshare::v1::MESSAGE_STATE_HELD);
    if (open) {
      s.Bind(15, ToMicros(*m.acknowledge_deadline));
    } else {
      s.BindNull(15);
    }
    int rc = s.Step();
    if (rc != SQLITE_DONE) return SqliteError(db_, rc, "insert message");
    InsertResult result{true, m};
    result.message.sequence = static_cast<uint64_t>(sqlite3_last_insert_rowid(db_));
    if (auto st = AddEventLocked(m.message_id, m.state, m.accepted_time); !st.ok()) return st;
    if (m.state == safeshare::v1::MESSAGE_STATE_SUBMITTED && !m.in_reply_to.empty()) {
      if (auto st = AnswerLocked(m.in_reply_to, m.accepted_time); !st.ok()) return st;
    }
    return result;
  }
}

absl::Status SqliteStore::AnswerLocked(const std::string& answered_id, absl::Time now) {
  auto loaded = LoadLocked(answered_id);
  if (!loaded.ok()) return loaded.status();
  if (!loaded->has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the message answered, ", answered_id, ", is not stored"));
  }
  const StoredMessage& m = **loaded;
  // Answering is acknowledging; a thread's later replies change nothing more.
  const bool waiting = store_rows::AwaitsAnswer(m.state);
  const MessageState next = store_rows::AnsweredState(m.kind);
  Statement u(db_, CachedLocked(
                       "UPDATE messages SET answered_us = COALESCE(answered_us, ?), "
                       "acknowledged_us = COALESCE(acknowledged_us, ?), open_deadline_us = NULL, "
                       "state = ? WHERE sequence = ?"));
  if (auto st = u.status("record answer"); !st.ok()) return st;
  u.Bind(1, ToMicros(now));
  u.Bind(2, ToMicros(now));
  u.Bind(3, static_cast<int64_t>(waiting ? next : m.state));
  u.Bind(4, static_cast<int64_t>(m.sequence));
  if (int rc = u.Step(); rc != SQLITE_DONE) return SqliteError(db_, rc, "record answer");
  return waiting ? AddEventLocked(answered_id, next, now) : absl::OkStatus();
}

absl::StatusOr<StoredMessage> SqliteStore::RecipientMessageLocked(
    const std::string& recipient, const std::string& message_id) {
  auto loaded = LoadLocked(message_id);
  if (!loaded.ok()) return loaded.status();
  // Same answer whether the message is absent or someone else's: a mailbox
  // reveals nothing about other agencies' traffic.
  const bool deliverable = loaded->has_value() && (*loaded)->recipient_agency_id == recipient &&
                           (*loaded)->state != safeshare::v1::MESSAGE_STATE_HELD &&
                           (*loaded)->state != safeshare::v1::MESSAGE_STATE_REFUSED;
  if (!deliverable) {
    return absl::PermissionDeniedError(
        absl::StrCat("message ", message_id, " is not in the mailbox of agency ", recipient));
  }
  return std::move(**loaded);
}

absl::StatusOr<StoredMessage> SqliteStore::RefuseContentTx(
    const std::string& recipient, const std::string& message_id,
    safeshare::v1::ContentRefusalReason reason, const std::string& detail, absl::Time now) {
  {
    auto loaded = RecipientMessageLocked(recipient, message_id);
    if (!loaded.ok()) return loaded.status();
    StoredMessage m = std::move(*loaded);
    if (m.acknowledged_time.has_value()) return m;  // already settled
    Statement u(db_,
                "UPDATE messages SET acknowledged_us = ?, state = ?, refusal_reason = ?, "
                "refusal_detail = ?, open_deadline_us = NULL WHERE sequence = ?");
    if (auto st = u.status("refuse content"); !st.ok()) return st;
    u.Bind(1, ToMicros(now));
    u.Bind(2, static_cast<int64_t>(safeshare::v1::MESSAGE_STATE_CONTENT_REFUSED));
    u.Bind(3, static_cast<int64_t>(reason));
    u.Bind(4, detail);
    u.Bind(5, static_cast<int64_t>(m.sequence));
    if (int rc = u.Step(); rc != SQLITE_DONE) return SqliteError(db_, rc, "refuse content");
    if (auto st = AddEventLocked(message_id, safeshare::v1::MESSAGE_STATE_CONTENT_REFUSED, now);
        !st.ok()) {
      return st;
    }
    m.acknowledged_time = now;
    m.state = safeshare::v1::MESSAGE_STATE_CONTENT_REFUSED;
    m.refusal_reason = reason;
    m.refusal_detail = detail;
    return m;
  }
}

absl::StatusOr<StoredMessage> SqliteStore::AcknowledgeTx(const std::string& recipient,
                                                         const std::string& message_id,
                                                         absl::Time now) {
  {
    auto loaded = RecipientMessageLocked(recipient, message_id);
    if (!loaded.ok()) return loaded.status();
    StoredMessage m = std::move(*loaded);
    if (m.acknowledged_time.has_value()) return m;  // idempotent
    // A request's deadline stays open until it is answered.
    Statement u(db_, CachedLocked("UPDATE messages SET acknowledged_us = ?, state = ?, "
                                  "open_deadline_us = CASE WHEN kind = ? THEN open_deadline_us "
                                  "ELSE NULL END WHERE sequence = ?"));
    if (auto st = u.status("acknowledge"); !st.ok()) return st;
    u.Bind(1, ToMicros(now));
    u.Bind(2, static_cast<int64_t>(safeshare::v1::MESSAGE_STATE_ACKNOWLEDGED));
    u.Bind(3, static_cast<int64_t>(safeshare::v1::MESSAGE_KIND_INFORMATION_REQUEST));
    u.Bind(4, static_cast<int64_t>(m.sequence));
    if (int rc = u.Step(); rc != SQLITE_DONE) return SqliteError(db_, rc, "acknowledge");
    if (auto st = AddEventLocked(message_id, safeshare::v1::MESSAGE_STATE_ACKNOWLEDGED, now);
        !st.ok()) {
      return st;
    }
    m.acknowledged_time = now;
    m.state = safeshare::v1::MESSAGE_STATE_ACKNOWLEDGED;
    return m;
  }
}

absl::StatusOr<std::vector<StoredMessage>> SqliteStore::ReadMessagesWithHistory(
    const char* where, const std::string& id) {
  absl::MutexLock lock(&read_mu_);
  std::string sql = absl::StrCat("SELECT ", store_rows::kMessageColumns, " FROM messages WHERE ", where,
                                 " ORDER BY sequence");
  std::vector<StoredMessage> out;
  {
    Statement s(read_db_, sql.c_str());
    if (auto st = s.status("load message"); !st.ok()) return st;
    s.Bind(1, id);
    int rc;
    while ((rc = s.Step()) == SQLITE_ROW) out.push_back(store_rows::ReadMessageRow(s));
    if (rc != SQLITE_DONE) return SqliteError(read_db_, rc, "load message");
  }
  for (StoredMessage& m : out) {
    Statement h(read_db_,
                "SELECT state, time_us FROM message_events WHERE message_id = ? ORDER BY id");
    if (auto st = h.status("load history"); !st.ok()) return st;
    h.Bind(1, m.message_id);
    int rc;
    while ((rc = h.Step()) == SQLITE_ROW) {
      m.history.push_back({static_cast<MessageState>(h.Int(0)), FromMicros(h.Int(1))});
    }
    if (rc != SQLITE_DONE) return SqliteError(read_db_, rc, "load history");
  }
  return out;
}

absl::StatusOr<StoredMessage> SqliteStore::GetMessage(const std::string& message_id) {
  auto found = ReadMessagesWithHistory("message_id = ?", message_id);
  if (!found.ok()) return found.status();
  if (found->empty()) return absl::NotFoundError(absl::StrCat("no message with id ", message_id));
  return std::move(found->front());
}

absl::StatusOr<std::vector<StoredMessage>> SqliteStore::ListThread(const std::string& root_id) {
  return ReadMessagesWithHistory("message_id = ?1 OR in_reply_to = ?1", root_id);
}

absl::StatusOr<std::optional<AgencyKey>> SqliteStore::LoadKeyLocked(const std::string& key_id) {
  std::string sql = absl::StrCat("SELECT ", store_rows::kKeyColumns, " FROM agency_keys WHERE key_id = ?");
  Statement s(db_, sql.c_str());
  if (auto st = s.status("load key"); !st.ok()) return st;
  s.Bind(1, key_id);
  int rc = s.Step();
  if (rc == SQLITE_DONE) return std::optional<AgencyKey>();
  if (rc != SQLITE_ROW) return SqliteError(db_, rc, "load key");
  return std::optional<AgencyKey>(store_rows::ReadKeyRow(s));
}

absl::Status SqliteStore::InsertKeyLocked(const AgencyKey& k) {
  Statement s(db_,
              "INSERT INTO agency_keys (key_id, agency_id, purpose, public_key, not_before_us, "
              "not_after_us, current, revoked_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  if (auto st = s.status("insert key"); !st.ok()) return st;
  s.Bind(1, k.key.key_id());
  s.Bind(2, k.agency_id);
  s.Bind(3, static_cast<int64_t>(k.key.purpose()));
  s.BindBlob(4, k.key.public_key());
  s.Bind(5, TsMicros(k.key.not_before()));
  if (k.key.has_not_after()) {
    s.Bind(6, TsMicros(k.key.not_after()));
  } else {
    s.BindNull(6);
  }
  s.Bind(7, k.key.current() ? 1 : 0);
  if (k.key.revoked()) {
    s.Bind(8, TsMicros(k.key.not_before()));
  } else {
    s.BindNull(8);
  }
  int rc = s.Step();
  return rc == SQLITE_DONE ? absl::OkStatus() : SqliteError(db_, rc, "insert key");
}

absl::Status SqliteStore::DemoteCurrentLocked(const std::string& agency_id,
                                              safeshare::v1::KeyPurpose purpose) {
  Statement u(db_, "UPDATE agency_keys SET current = 0 WHERE agency_id = ? AND purpose = ?");
  if (auto st = u.status("demote key"); !st.ok()) return st;
  u.Bind(1, agency_id);
  u.Bind(2, static_cast<int64_t>(purpose));
  int rc = u.Step();
  return rc == SQLITE_DONE ? absl::OkStatus() : SqliteError(db_, rc, "demote key");
}

absl::StatusOr<std::vector<AgencyKey>> SqliteStore::ListKeys() {
  absl::MutexLock lock(&mu_);
  std::string sql = absl::StrCat("SELECT ", store_rows::kKeyColumns, " FROM agency_keys ORDER BY seq");
  Statement s(db_, sql.c_str());
  if (auto st = s.status("list keys"); !st.ok()) return st;
  std::vector<AgencyKey> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(store_rows::ReadKeyRow(s));
  if (rc != SQLITE_DONE) return SqliteError(db_, rc, "list keys");
  return out;
}

absl::Status SqliteStore::SeedKey(const AgencyKey& key, absl::Time now) {
  absl::MutexLock lock(&mu_);
  return InTransaction(db_, [&]() -> absl::StatusOr<bool> {
            auto existing = LoadKeyLocked(key.key.key_id());
            if (!existing.ok()) return existing.status();
            if (existing->has_value()) {
              if (key.key.revoked() && !(*existing)->key.revoked()) {
                Statement u(db_, "UPDATE agency_keys SET revoked_us = ?, current = 0 WHERE key_id = ?");
                if (auto st = u.status("revoke key"); !st.ok()) return st;
                u.Bind(1, ToMicros(now));
                u.Bind(2, key.key.key_id());
                if (int rc = u.Step(); rc != SQLITE_DONE) return SqliteError(db_, rc, "revoke key");
              }
              return true;
            }
            AgencyKey k = key;
            if (k.key.current()) {
              Statement c(db_,
                          "SELECT COUNT(*) FROM agency_keys WHERE agency_id = ? AND purpose = ? "
                          "AND current = 1");
              if (auto st = c.status("seed key"); !st.ok()) return st;
              c.Bind(1, k.agency_id);
              c.Bind(2, static_cast<int64_t>(k.key.purpose()));
              if (c.Step() != SQLITE_ROW) return SqliteError(db_, SQLITE_ERROR, "seed key");
              if (c.Int(0) > 0) k.key.set_current(false);
            }
            if (k.key.revoked()) k.key.set_current(false);
            if (auto st = InsertKeyLocked(k); !st.ok()) return st;
            return true;
          })
      .status();
}

absl::StatusOr<safeshare::v1::PublicKey> SqliteStore::PublishKey(const AgencyKey& key,
                                                                 absl::Time now) {
  absl::MutexLock lock(&mu_);
  return InTransaction(db_, [&]() -> absl::StatusOr<safeshare::v1::PublicKey> {
    auto existing = LoadKeyLocked(key.key.key_id());
    if (!existing.ok()) return existing.status();
    if (existing->has_value()) {
      const AgencyKey& e = **existing;
      if (e.agency_id != key.agency_id || e.key.revoked()) {
        return absl::AlreadyExistsError(absl::StrCat(
            "key ", key.key.key_id(), " is already in the directory and cannot be republished"));
      }
      if (e.key.current()) return e.key;  // idempotent
    }
    if (auto st = DemoteCurrentLocked(key.agency_id, key.key.purpose()); !st.ok()) return st;
    if (existing->has_value()) {
      Statement u(db_, "UPDATE agency_keys SET current = 1 WHERE key_id = ?");
      if (auto st = u.status("publish key"); !st.ok()) return st;
      u.Bind(1, key.key.key_id());
      if (int rc = u.Step(); rc != SQLITE_DONE) return SqliteError(db_, rc, "publish key");
      safeshare::v1::PublicKey k = (*existing)->key;
      k.set_current(true);
      return k;
    }
    AgencyKey k = key;
    k.key.set_current(true);
    k.key.set_revoked(false);
    *k.key.mutable_not_before() = Ts(ToMicros(now));
    if (auto st = InsertKeyLocked(k); !st.ok()) return st;
    return k.key;
  });
}

absl::StatusOr<safeshare::v1::PublicKey> SqliteStore::RevokeKey(const std::string& agency_id,
                                                                const std::string& key_id,
                                                                absl::Time now) {
  absl::MutexLock lock(&mu_);
  return InTransaction(db_, [&]() -> absl::StatusOr<safeshare::v1::PublicKey> {
    auto existing = LoadKeyLocked(key_id);
    if (!existing.ok()) return existing.status();
    if (!existing->has_value() || (*existing)->agency_id != agency_id) {
      return absl::NotFoundError(
          absl::StrCat("agency ", agency_id, " has no key ", key_id, " in the directory"));
    }
    safeshare::v1::PublicKey k = (*existing)->key;
    if (k.revoked()) return k;
    Statement u(db_, "UPDATE agency_keys SET revoked_us = ?, current = 0 WHERE key_id = ?");
    if (auto st = u.status("revoke key"); !st.ok()) return st;
    u.Bind(1, ToMicros(now));
    u.Bind(2, key_id);
    if (int rc = u.Step(); rc != SQLITE_DONE) return SqliteError(db_, rc, "revoke key");
    k.set_revoked(true);
    k.set_current(false);
    return k;
  });
}

absl::StatusOr<std::vector<StoredMessage>> SqliteStore::EscalateOverdueTx(absl::Time now,
                                                                          int limit) {
  static const std::string sql = absl::StrCat(
      "SELECT ", store_rows::kMessageColumns,
      " FROM messages WHERE open_deadline_us IS NOT NULL AND open_deadline_us < ? "
      "ORDER BY open_deadline_us LIMIT ?");
  Statement s(db_, CachedLocked(sql));
  if (auto st = s.status("find overdue"); !st.ok()) return st;
  s.Bind(1, ToMicros(now));
  s.Bind(2, limit);
  std::vector<StoredMessage> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(store_rows::ReadMessageRow(s));
  if (rc != SQLITE_DONE) return SqliteError(db_, rc, "find overdue");
  for (StoredMessage& m : out) {
    // A hold stays HELD: only an officer's decision moves it on.
    const MessageState next = m.state == safeshare::v1::MESSAGE_STATE_HELD
                                  ? m.state
                                  : safeshare::v1::MESSAGE_STATE_ESCALATED;
    Statement u(db_, CachedLocked("UPDATE messages SET escalated_us = ?, state = ?, "
                                  "open_deadline_us = NULL WHERE sequence = ?"));
    if (auto st = u.status("escalate"); !st.ok()) return st;
    u.Bind(1, ToMicros(now));
    u.Bind(2, static_cast<int64_t>(next));
    u.Bind(3, static_cast<int64_t>(m.sequence));
    if (int urc = u.Step(); urc != SQLITE_DONE) return SqliteError(db_, urc, "escalate");
    if (auto st = AddEventLocked(m.message_id, safeshare::v1::MESSAGE_STATE_ESCALATED, now);
        !st.ok()) {
      return st;
    }
    m.state = next;
    m.escalated_time = now;
  }
  return out;
}

absl::StatusOr<std::vector<StoredMessage>> SqliteStore::PurgeExpiredTx(absl::Time now,
                                                                       int limit) {
  std::string sql = absl::StrCat("SELECT ", store_rows::kMessageColumns, " ", kFindExpired);
  Statement s(db_, sql.c_str());
  if (auto st = s.status("find expired"); !st.ok()) return st;
  s.Bind(1, ToMicros(now));
  s.Bind(2, static_cast<int64_t>(safeshare::v1::MESSAGE_STATE_ACKNOWLEDGED));
  s.Bind(3, static_cast<int64_t>(safeshare::v1::MESSAGE_STATE_ANSWERED));
  s.Bind(4, static_cast<int64_t>(safeshare::v1::MESSAGE_STATE_OUTCOME_RECEIVED));
  s.Bind(5, static_cast<int64_t>(safeshare::v1::MESSAGE_STATE_ESCALATED));
  s.Bind(6, limit);
  std::vector<StoredMessage> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(store_rows::ReadMessageRow(s));
  if (rc != SQLITE_DONE) return SqliteError(db_, rc, "find expired");
  for (StoredMessage& m : out) {
    Statement u(db_, "UPDATE messages SET signed_envelope = x'', state = ? WHERE sequence = ?");
    if (auto st = u.status("purge"); !st.ok()) return st;
    u.Bind(1, static_cast<int64_t>(safeshare::v1::MESSAGE_STATE_EXPIRED));
    u.Bind(2, static_cast<int64_t>(m.sequence));
    if (int urc = u.Step(); urc != SQLITE_DONE) return SqliteError(db_, urc, "purge");
    if (auto st = AddEventLocked(m.message_id, safeshare::v1::MESSAGE_STATE_EXPIRED, now);
        !st.ok()) {
      return st;
    }
    m.state = safeshare::v1::MESSAGE_STATE_EXPIRED;
    m.signed_envelope.clear();
  }
  return out;
}

// ---- Audit log ----

absl::StatusOr<uint64_t> SqliteStore::AppendAuditTx(safeshare::v1::AuditRecord record,
                                                    std::string* hashed_bytes) {
  const uint64_t index = frontier_.size();
  record.set_sequence(index);
  if (!record.has_time()) {
    const int64_t us = ToMicros(absl::Now());
    record.mutable_time()->set_seconds(us / 1000000);
    record.mutable_time()->set_nanos(static_cast<int32_t>(us % 1000000) * 1000);
  }
  const std::string bytes = SerializeRecord(record);
  const std::string leaf = transparency::LeafHash(bytes);
  Statement s(db_, CachedLocked(
                       "INSERT INTO audit_log (seq, record, leaf_hash, time_us, event, message_id, "
                       "kind, sender, recipient, sender_area, recipient_area, purpose, decision, "
                       "subject_reference, flagged_checks) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
  if (auto st = s.status("append audit record"); !st.ok()) return st;
  s.Bind(1, static_cast<int64_t>(index));
  s.BindBlob(2, bytes);
  s.BindBlob(3, leaf);
  s.Bind(4, TsMicros(record.time()));
  s.Bind(5, static_cast<int64_t>(record.event()));
  s.Bind(6, record.message_id());
  s.Bind(7, static_cast<int64_t>(record.kind()));
  s.Bind(8, record.sender_agency_id());
  s.Bind(9, record.recipient_agency_id());
  s.Bind(10, record.sender_area_id());
  s.Bind(11, record.recipient_area_id());
  s.Bind(12, static_cast<int64_t>(record.declaration().purpose()));
  s.Bind(13, static_cast<int64_t>(record.decision().decision()));
  s.Bind(14, record.declaration().subject_reference());
  s.Bind(15, FlaggedChecks(record));
  if (int rc = s.Step(); rc != SQLITE_DONE) return SqliteError(db_, rc, "append audit record");
  if (hashed_bytes != nullptr) *hashed_bytes = bytes;
  auto completed = frontier_.Append(leaf);
  if (!completed.ok()) return completed.status();
  for (auto& node : *completed) {
    if (node.level > 0) {  // the leaf row holds level 0
      Statement n(db_, CachedLocked("INSERT INTO audit_nodes (level, idx, hash) VALUES (?, ?, ?)"));
      if (auto st = n.status("store tree node"); !st.ok()) return st;
      n.Bind(1, static_cast<int64_t>(node.level));
      n.Bind(2, static_cast<int64_t>(node.index));
      n.BindBlob(3, node.hash);
      if (int rc = n.Step(); rc != SQLITE_DONE) return SqliteError(db_, rc, "store tree node");
    }
    batch_subtrees_.push_back(std::move(node));
  }
  return index;
}

void SqliteStore::SetCheckpointSigner(CheckpointSigner signer) {
  absl::MutexLock lock(&mu_);
  signer_ = std::move(signer);
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

// On the read connection: receipts' proofs never wait for a batch to commit.
absl::StatusOr<std::vector<std::string>> SqliteStore::InclusionProof(uint64_t leaf_index,
                                                                     uint64_t tree_size) {
  const uint64_t committed = committed_size_.load();
  if (tree_size > committed) {
    return absl::OutOfRangeError(
        absl::StrCat("the audit log has ", committed, " records, not ", tree_size));
  }
  absl::MutexLock lock(&read_mu_);
  Subtrees source(read_db_, &read_statements_, &read_node_cache_, &recent_);
  // One read transaction for all the lookups, not one each.
  ReadTransaction read(read_db_, read_statements_);
  return transparency::InclusionProof(source, leaf_index, tree_size);
}

absl::StatusOr<std::vector<std::string>> SqliteStore::ConsistencyProof(uint64_t first_size,
                                                                       uint64_t second_size) {
  const uint64_t committed = committed_size_.load();
  if (second_size > committed) {
    return absl::OutOfRangeError(
        absl::StrCat("the audit log has ", committed, " records, not ", second_size));
  }
  absl::MutexLock lock(&read_mu_);
  Subtrees source(read_db_, &read_statements_, &read_node_cache_, &recent_);
  ReadTransaction read(read_db_, read_statements_);
  return transparency::ConsistencyProof(source, first_size, second_size);
}

absl::StatusOr<AuditLeaf> SqliteStore::GetAuditLeaf(uint64_t leaf_index) {
  absl::MutexLock lock(&read_mu_);
  Statement s(read_db_, Prepared(read_db_, read_statements_,
                                 "SELECT record, leaf_hash FROM audit_log WHERE seq = ?"));
  if (auto st = s.status("read audit record"); !st.ok()) return st;
  s.Bind(1, static_cast<int64_t>(leaf_index));
  int rc = s.Step();
  if (rc == SQLITE_DONE) {
    return absl::NotFoundError(absl::StrCat("no audit record ", leaf_index));
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
  if (!f.failed_check.empty()) text("flagged_checks LIKE ?", absl::StrCat("%,", f.failed_check, ",%"));
  if (!f.subject_reference.empty()) text("subject_reference = ?", f.subject_reference);
  // In chunks on the read connection, visiting outside its lock: a long
  // export never holds up commits or other readers while the caller streams.
  constexpr size_t kChunk = 1000;
  const std::string sql = absl::StrCat("SELECT seq, record, leaf_hash FROM audit_log WHERE ",
                                       absl::StrJoin(where, " AND "), " ORDER BY seq LIMIT ",
                                       kChunk);
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

}  // namespace safeshare::gateway
