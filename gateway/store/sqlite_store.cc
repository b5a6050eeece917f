#include "gateway/store/sqlite_store.h"

#include <sqlite3.h>

#include <utility>

#include "absl/strings/str_cat.h"

namespace safeshare::gateway {
namespace {

using safeshare::v1::MessageState;

constexpr int kSchemaVersion = 2;

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

// Version 1 -> 2: content refusals.
constexpr const char* kMigrateTo2 = R"sql(
ALTER TABLE messages ADD COLUMN refusal_reason INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN refusal_detail TEXT NOT NULL DEFAULT '';
)sql";

constexpr const char* kColumns =
    "sequence, message_id, sender, recipient, kind, signed_envelope, envelope_sha256, "
    "receipt, state, accepted_us, first_delivered_us, acknowledged_us, refusal_reason, "
    "refusal_detail";

constexpr const char* kKeyColumns =
    "agency_id, key_id, purpose, public_key, not_before_us, not_after_us, current, revoked_us";

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
  m.refusal_reason = static_cast<safeshare::v1::ContentRefusalReason>(s.Int(12));
  m.refusal_detail = s.Text(13);
  return m;
}

google::protobuf::Timestamp Ts(int64_t us) {
  google::protobuf::Timestamp t;
  t.set_seconds(us / 1000000);
  t.set_nanos(static_cast<int32_t>(us % 1000000) * 1000);
  return t;
}

int64_t TsMicros(const google::protobuf::Timestamp& t) {
  return t.seconds() * 1000000 + t.nanos() / 1000;
}

AgencyKey ReadKeyRow(const Statement& s) {
  AgencyKey k;
  k.agency_id = s.Text(0);
  k.key.set_key_id(s.Text(1));
  k.key.set_purpose(static_cast<safeshare::v1::KeyPurpose>(s.Int(2)));
  k.key.set_public_key(s.Text(3));
  *k.key.mutable_not_before() = Ts(s.Int(4));
  if (!s.IsNull(5)) *k.key.mutable_not_after() = Ts(s.Int(5));
  k.key.set_current(s.Int(6) != 0);
  k.key.set_revoked(!s.IsNull(7));
  return k;
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
      if (auto st = store->Exec(kSchema); !st.ok()) return st;
      if (auto st = store->Exec(kMigrateTo2); !st.ok()) return st;
      if (auto st = store->Exec("PRAGMA user_version=2"); !st.ok()) return st;
      return true;
    });
    if (!migrated.ok()) return migrated.status();
  }
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

absl::StatusOr<StoredMessage> SqliteStore::RefuseContent(
    const std::string& recipient, const std::string& message_id,
    safeshare::v1::ContentRefusalReason reason, const std::string& detail, absl::Time now) {
  absl::MutexLock lock(&mu_);
  return InTransaction(db_, [&]() -> absl::StatusOr<StoredMessage> {
    auto loaded = RecipientMessageLocked(recipient, message_id);
    if (!loaded.ok()) return loaded.status();
    StoredMessage m = std::move(*loaded);
    if (m.acknowledged_time.has_value()) return m;  // already settled
    Statement u(db_,
                "UPDATE messages SET acknowledged_us = ?, state = ?, refusal_reason = ?, "
                "refusal_detail = ? WHERE sequence = ?");
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
  });
}

absl::StatusOr<StoredMessage> SqliteStore::Acknowledge(const std::string& recipient,
                                                       const std::string& message_id,
                                                       absl::Time now) {
  absl::MutexLock lock(&mu_);
  return InTransaction(db_, [&]() -> absl::StatusOr<StoredMessage> {
    auto loaded = RecipientMessageLocked(recipient, message_id);
    if (!loaded.ok()) return loaded.status();
    StoredMessage m = std::move(*loaded);
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

absl::StatusOr<std::optional<AgencyKey>> SqliteStore::LoadKeyLocked(const std::string& key_id) {
  std::string sql = absl::StrCat("SELECT ", kKeyColumns, " FROM agency_keys WHERE key_id = ?");
  Statement s(db_, sql.c_str());
  if (auto st = s.status("load key"); !st.ok()) return st;
  s.Bind(1, key_id);
  int rc = s.Step();
  if (rc == SQLITE_DONE) return std::optional<AgencyKey>();
  if (rc != SQLITE_ROW) return SqliteError(db_, rc, "load key");
  return std::optional<AgencyKey>(ReadKeyRow(s));
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
  std::string sql = absl::StrCat("SELECT ", kKeyColumns, " FROM agency_keys ORDER BY seq");
  Statement s(db_, sql.c_str());
  if (auto st = s.status("list keys"); !st.ok()) return st;
  std::vector<AgencyKey> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(ReadKeyRow(s));
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

}  // namespace safeshare::gateway
