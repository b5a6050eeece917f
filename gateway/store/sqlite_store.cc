#include "gateway/store/sqlite_store.h"

#include <sqlite3.h>

#include <utility>

#include "absl/strings/str_cat.h"

namespace safeshare::gateway {
namespace {

using safeshare::v1::MessageState;

constexpr int kSchemaVersion = 1;

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
)sql";

constexpr const char* kColumns =
    "sequence, message_id, sender, recipient, kind, signed_envelope, envelope_sha256, "
    "receipt, state, accepted_us, first_delivered_us, acknowledged_us";

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

int64_t ToMicros(absl::Time t) { return absl::ToUnixMicros(t); }
absl::Time FromMicros(int64_t us) { return absl::FromUnixMicros(us); }

// A prepared statement that finalizes itself.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  ~Statement() { sqlite3_finalize(stmt_); }
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
  int rc_;
};

StoredMessage ReadRow(const Statement& s) {
  StoredMessage m;
  m.sequence = static_cast<uint64_t>(s.Int(0));
  m.message_id = s.Text(1);
  m.sender_agency_id = s.Text(2);
  m.recipient_agency_id = s.Text(3);
  m.kind = static_cast<safeshare::v1::MessageKind>(s.Int(4));
  m.signed_envelope = s.Text(5);
  m.envelope_sha256 = s.Text(6);
  m.receipt = s.Text(7);
  m.state = static_cast<MessageState>(s.Int(8));
  m.accepted_time = FromMicros(s.Int(9));
  if (!s.IsNull(10)) m.first_delivered_time = FromMicros(s.Int(10));
  if (!s.IsNull(11)) m.acknowledged_time = FromMicros(s.Int(11));
  return m;
}

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

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path) {
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
  // WAL + FULL: each commit is fsynced before it returns.
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
                             "PRAGMA foreign_keys=ON"}) {
    if (absl::Status st = store->Exec(pragma); !st.ok()) return st;
  }
  {
    Statement mode(db, "PRAGMA journal_mode");
    if (mode.Step() != SQLITE_ROW || mode.Text(0) != "wal") {
      return absl::FailedPreconditionError(
          absl::StrCat("store: ", path, " could not be switched to WAL mode"));
    }
  }
  if (absl::Status st = store->Exec(kSchema); !st.ok()) return st;
  {
    Statement v(db, "PRAGMA user_version");
    int64_t version = v.Step() == SQLITE_ROW ? v.Int(0) : 0;
    if (version > kSchemaVersion) {
      return absl::FailedPreconditionError(absl::StrCat(
          "store: ", path, " has schema version ", version,
          ", newer than this gateway understands (", kSchemaVersion, ")"));
    }
  }
  if (absl::Status st = store->Exec("PRAGMA user_version=1"); !st.ok()) return st;
  return store;
}

SqliteStore::~SqliteStore() {
  absl::MutexLock lock(&mu_);
  sqlite3_close_v2(db_);
}

absl::Status SqliteStore::Exec(const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  sqlite3_free(err);
  return rc == SQLITE_OK ? absl::OkStatus() : SqliteError(db_, rc, "statement");
}

absl::StatusOr<std::optional<StoredMessage>> SqliteStore::LoadLocked(
    const std::string& message_id) {
  std::string sql = absl::StrCat("SELECT ", kColumns, " FROM messages WHERE message_id = ?");
  Statement s(db_, sql.c_str());
  if (auto st = s.status("load message"); !st.ok()) return st;
  s.Bind(1, message_id);
  int rc = s.Step();
  if (rc == SQLITE_DONE) return std::optional<StoredMessage>();
  if (rc != SQLITE_ROW) return SqliteError(db_, rc, "load message");
  return std::optional<StoredMessage>(ReadRow(s));
}

absl::Status SqliteStore::AddEventLocked(const std::string& message_id, MessageState state,
                                         absl::Time t) {
  Statement s(db_, "INSERT INTO message_events (message_id, state, time_us) VALUES (?, ?, ?)");
  if (auto st = s.status("record state change"); !st.ok()) return st;
  s.Bind(1, message_id);
  s.Bind(2, static_cast<int64_t>(state));
  s.Bind(3, ToMicros(t));
  int rc = s.Step();
  return rc == SQLITE_DONE ? absl::OkStatus() : SqliteError(db_, rc, "record state change");
}

absl::StatusOr<InsertResult> SqliteStore::InsertMessage(const StoredMessage& m) {
  absl::MutexLock lock(&mu_);
  return InTransaction(db_, [&]() -> absl::StatusOr<InsertResult> {
    auto existing = LoadLocked(m.message_id);
    if (!existing.ok()) return existing.status();
    if (existing->has_value()) return InsertResult{false, std::move(**existing)};

    Statement s(db_,
                "INSERT INTO messages (message_id, sender, recipient, kind, signed_envelope, "
                "envelope_sha256, receipt, state, accepted_us) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
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
    int rc = s.Step();
    if (rc != SQLITE_DONE) return SqliteError(db_, rc, "insert message");
    if (auto st = AddEventLocked(m.message_id, m.state, m.accepted_time); !st.ok()) return st;
    InsertResult result{true, m};
    result.message.sequence = static_cast<uint64_t>(sqlite3_last_insert_rowid(db_));
    return result;
  });
}

absl::StatusOr<std::vector<StoredMessage>> SqliteStore::FetchForRecipient(
    const std::string& recipient, uint64_t after_sequence, int limit, absl::Time now) {
  absl::MutexLock lock(&mu_);
  return InTransaction(db_, [&]() -> absl::StatusOr<std::vector<StoredMessage>> {
    std::string sql = absl::StrCat(
        "SELECT ", kColumns,
        " FROM messages WHERE recipient = ? AND acknowledged_us IS NULL AND sequence > ? "
        "AND state IN (?, ?, ?) ORDER BY sequence LIMIT ?");
    Statement s(db_, sql.c_str());
    if (auto st = s.status("fetch mailbox"); !st.ok()) return st;
    s.Bind(1, recipient);
    s.Bind(2, static_cast<int64_t>(after_sequence));
    s.Bind(3, static_cast<int64_t>(safeshare::v1::MESSAGE_STATE_SUBMITTED));
    s.Bind(4, static_cast<int64_t>(safeshare::v1::MESSAGE_STATE_DELIVERED));
    s.Bind(5, static_cast<int64_t>(safeshare::v1::MESSAGE_STATE_ESCALATED));
    s.Bind(6, limit);
    std::vector<StoredMessage> out;
    int rc;
    while ((rc = s.Step()) == SQLITE_ROW) out.push_back(ReadRow(s));
    if (rc != SQLITE_DONE) return SqliteError(db_, rc, "fetch mailbox");

    for (StoredMessage& m : out) {
      if (m.first_delivered_time.has_value()) continue;
      Statement u(db_,
                  "UPDATE messages SET first_delivered_us = ?, state = ? "
                  "WHERE sequence = ? AND first_delivered_us IS NULL");
      if (auto st = u.status("record delivery"); !st.ok()) return st;
      u.Bind(1, ToMicros(now));
      // An escalated message stays escalated until acknowledged.
      MessageState next = m.state == safeshare::v1::MESSAGE_STATE_ESCALATED
                              ? m.state
                              : safeshare::v1::MESSAGE_STATE_DELIVERED;
      u.Bind(2, static_cast<int64_t>(next));
      u.Bind(3, static_cast<int64_t>(m.sequence));
      if (int urc = u.Step(); urc != SQLITE_DONE) return SqliteError(db_, urc, "record delivery");
      if (auto st = AddEventLocked(m.message_id, safeshare::v1::MESSAGE_STATE_DELIVERED, now);
          !st.ok()) {
        return st;
      }
      m.first_delivered_time = now;
      m.state = next;
    }
    return out;
  });
}

absl::StatusOr<StoredMessage> SqliteStore::Acknowledge(const std::string& recipient,
                                                       const std::string& message_id,
                                                       absl::Time now) {
  absl::MutexLock lock(&mu_);
  return InTransaction(db_, [&]() -> absl::StatusOr<StoredMessage> {
    auto loaded = LoadLocked(message_id);
    if (!loaded.ok()) return loaded.status();
    // Same answer whether the message is absent or someone else's: a mailbox
    // reveals nothing about other agencies' traffic.
    const bool deliverable =
        loaded->has_value() && (*loaded)->recipient_agency_id == recipient &&
        (*loaded)->state != safeshare::v1::MESSAGE_STATE_HELD &&
        (*loaded)->state != safeshare::v1::MESSAGE_STATE_REFUSED;
    if (!deliverable) {
      return absl::PermissionDeniedError(absl::StrCat(
          "message ", message_id, " is not in the mailbox of agency ", recipient));
    }
    StoredMessage m = std::move(**loaded);
    if (m.acknowledged_time.has_value()) return m;  // idempotent
    Statement u(db_, "UPDATE messages SET acknowledged_us = ?, state = ? WHERE sequence = ?");
    if (auto st = u.status("acknowledge"); !st.ok()) return st;
    u.Bind(1, ToMicros(now));
    u.Bind(2, static_cast<int64_t>(safeshare::v1::MESSAGE_STATE_ACKNOWLEDGED));
    u.Bind(3, static_cast<int64_t>(m.sequence));
    if (int rc = u.Step(); rc != SQLITE_DONE) return SqliteError(db_, rc, "acknowledge");
    if (auto st = AddEventLocked(message_id, safeshare::v1::MESSAGE_STATE_ACKNOWLEDGED, now);
        !st.ok()) {
      return st;
    }
    m.acknowledged_time = now;
    m.state = safeshare::v1::MESSAGE_STATE_ACKNOWLEDGED;
    return m;
  });
}

absl::StatusOr<StoredMessage> SqliteStore::GetMessage(const std::string& message_id) {
  absl::MutexLock lock(&mu_);
  auto loaded = LoadLocked(message_id);
  if (!loaded.ok()) return loaded.status();
  if (!loaded->has_value()) {
    return absl::NotFoundError(absl::StrCat("no message with id ", message_id));
  }
  StoredMessage m = std::move(**loaded);
  Statement s(db_,
              "SELECT state, time_us FROM message_events WHERE message_id = ? ORDER BY id");
  if (auto st = s.status("load history"); !st.ok()) return st;
  s.Bind(1, message_id);
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    m.history.push_back({static_cast<MessageState>(s.Int(0)), FromMicros(s.Int(1))});
  }
  if (rc != SQLITE_DONE) return SqliteError(db_, rc, "load history");
  return m;
}

}  // namespace safeshare::gateway
