#include "agents/connector/connector_store.h"

#include <sys/stat.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"

namespace safeshare::connector {
namespace {

namespace v1 = safeshare::v1;
using google::protobuf::util::TimeUtil;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS inbox (
  message_id TEXT PRIMARY KEY,
  received_us INTEGER NOT NULL,
  purge_us INTEGER NOT NULL,
  acknowledged INTEGER NOT NULL DEFAULT 0,
  message BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS escalations (
  message_id TEXT NOT NULL,
  reason INTEGER NOT NULL,
  notice BLOB NOT NULL,
  PRIMARY KEY (message_id, reason));
CREATE TABLE IF NOT EXISTS outbox (
  message_id TEXT PRIMARY KEY,
  created_us INTEGER NOT NULL,
  send_state INTEGER NOT NULL,
  sent BLOB NOT NULL,
  draft BLOB NOT NULL,
  practitioner BLOB NOT NULL,
  sealed BLOB NOT NULL);
)sql";

// One prepared statement; binds by position from 1.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt& Text(int i, const std::string& s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Blob(int i, const std::string& s) {
    sqlite3_bind_blob(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Int(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() { return rc_ == SQLITE_OK ? sqlite3_step(stmt_) : rc_; }
  std::string ColumnBlob(int i) {
    return std::string(static_cast<const char*>(sqlite3_column_blob(stmt_, i)),
                       sqlite3_column_bytes(stmt_, i));
  }
  int64_t ColumnInt(int i) { return sqlite3_column_int64(stmt_, i); }
  absl::Status Error(absl::string_view what) const {
    return absl::UnavailableError(
        absl::StrCat("connector store: ", what, ": ", sqlite3_errmsg(db_)));
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

int64_t Micros(const google::protobuf::Timestamp& t) {
  return TimeUtil::TimestampToMicroseconds(t);
}

template <typename M>
absl::StatusOr<M> Parse(const std::string& bytes) {
  M m;
  if (!m.ParseFromString(bytes))
    return absl::DataLossError("connector store: a row does not parse");
  return m;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ConnectorStore>> ConnectorStore::Open(const std::string& data_dir) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return absl::UnavailableError(absl::StrCat(data_dir, ": ", ec.message()));
  // Opened content lives here: nobody else on the machine may read it.
  ::chmod(data_dir.c_str(), 0700);
  const std::string path = data_dir + "/connector.db";
  const mode_t old_mask = ::umask(0077);
  sqlite3* db = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  ::umask(old_mask);
  if (rc != SQLITE_OK) {
    std::string why = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return absl::UnavailableError(absl::StrCat(path, ": ", why));
  }
  std::unique_ptr<ConnectorStore> store(new ConnectorStore(db));
  absl::MutexLock lock(&store->mu_);
  sqlite3_busy_timeout(db, 5000);
  if (auto st = store->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"); !st.ok()) {
    return st;
  }
  if (auto st = store->Exec(kSchema); !st.ok()) return st;
  return store;
}

ConnectorStore::~ConnectorStore() {
  absl::MutexLock lock(&mu_);
  sqlite3_close(db_);
}

absl::Status ConnectorStore::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string why = err ? err : "unknown";
    sqlite3_free(err);
    return absl::UnavailableError(absl::StrCat("connector store: ", why));
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> ConnectorStore::PutInbox(const v1::InboxMessage& m) {
  absl::MutexLock lock(&mu_);
  Stmt s(db_,
         "INSERT INTO inbox (message_id, received_us, purge_us, acknowledged, message) "
         "VALUES (?, ?, ?, ?, ?) ON CONFLICT (message_id) DO NOTHING");
  s.Text(1, m.message_id())
      .Int(2, Micros(m.received_time()))
      .Int(3, Micros(m.purge_time()))
      .Int(4, m.has_acknowledged_time() ? 1 : 0)
      .Blob(5, m.SerializeAsString());
  if (s.Step() != SQLITE_DONE) return s.Error("storing a received message");
  return sqlite3_changes(db_) == 1;
}

bool ConnectorStore::HasInbox(const std::string& message_id) {
  absl::MutexLock lock(&mu_);
  Stmt s(db_, "SELECT 1 FROM inbox WHERE message_id = ?");
  s.Text(1, message_id);
  return s.Step() == SQLITE_ROW;
}

absl::StatusOr<v1::InboxMessage> ConnectorStore::GetInbox(const std::string& message_id) {
  absl::MutexLock lock(&mu_);
  Stmt s(db_, "SELECT message FROM inbox WHERE message_id = ?");
  s.Text(1, message_id);
  int rc = s.Step();
  if (rc == SQLITE_DONE) {
    return absl::NotFoundError(absl::StrCat("no message ", message_id, " in this agency's inbox"));
  }
  if (rc != SQLITE_ROW) return s.Error("reading the inbox");
  return Parse<v1::InboxMessage>(s.ColumnBlob(0));
}

absl::StatusOr<v1::InboxPage> ConnectorStore::ListInbox(int offset, int limit) {
  absl::MutexLock lock(&mu_);
  Stmt s(db_, "SELECT message FROM inbox ORDER BY received_us DESC, message_id LIMIT ? OFFSET ?");
  s.Int(1, limit + 1).Int(2, offset);
  v1::InboxPage page;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    if (page.messages_size() == limit) {
      page.set_next_page_token(absl::StrCat(offset + limit));
      break;
    }
    auto m = Parse<v1::InboxMessage>(s.ColumnBlob(0));
    if (!m.ok()) return m.status();
    m->clear_content();
    *page.add_messages() = *std::move(m);
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return s.Error("listing the inbox");
  return page;
}

absl::Status ConnectorStore::MarkAcknowledged(const std::string& message_id,
                                              const std::string& user_id, absl::Time at) {
  absl::MutexLock lock(&mu_);
  Stmt get(db_, "SELECT message FROM inbox WHERE message_id = ?");
  get.Text(1, message_id);
  int rc = get.Step();
  if (rc == SQLITE_DONE) {
    return absl::NotFoundError(absl::StrCat("no message ", message_id, " in this agency's inbox"));
  }
  if (rc != SQLITE_ROW) return get.Error("reading the inbox");
  auto m = Parse<v1::InboxMessage>(get.ColumnBlob(0));
  if (!m.ok()) return m.status();
  if (m->has_acknowledged_time()) return absl::OkStatus();  // the first acknowledgement stands
  *m->mutable_acknowledged_time() = TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(at));
  m->set_acknowledged_by(user_id);
  Stmt put(db_, "UPDATE inbox SET acknowledged = 1, message = ? WHERE message_id = ?");
  put.Blob(1, m->SerializeAsString()).Text(2, message_id);
  if (put.Step() != SQLITE_DONE) return put.Error("recording an acknowledgement");
  return absl::OkStatus();
}

absl::StatusOr<int> ConnectorStore::PurgeExpired(absl::Time now) {
  absl::MutexLock lock(&mu_);
  std::vector<std::pair<std::string, std::string>> purged;
  {
    Stmt s(db_, "SELECT message_id, message FROM inbox WHERE purge_us <= ? AND purge_us > 0");
    s.Int(1, absl::ToUnixMicros(now));
    while (s.Step() == SQLITE_ROW) {
      auto m = Parse<v1::InboxMessage>(s.ColumnBlob(1));
      if (!m.ok() || !m->has_content()) continue;
      m->clear_content();
      purged.emplace_back(m->message_id(), m->SerializeAsString());
    }
  }
  for (const auto& [id, bytes] : purged) {
    Stmt put(db_, "UPDATE inbox SET message = ? WHERE message_id = ?");
    put.Blob(1, bytes).Text(2, id);
    if (put.Step() != SQLITE_DONE) return put.Error("purging content");
  }
  return static_cast<int>(purged.size());
}

absl::Status ConnectorStore::PutEscalation(const v1::EscalationNotice& notice) {
  absl::MutexLock lock(&mu_);
  Stmt s(db_,
         "INSERT INTO escalations (message_id, reason, notice) VALUES (?, ?, ?) "
         "ON CONFLICT DO NOTHING");
  s.Text(1, notice.message_id()).Int(2, notice.reason()).Blob(3, notice.SerializeAsString());
  if (s.Step() != SQLITE_DONE) return s.Error("storing an escalation");
  return absl::OkStatus();
}

absl::StatusOr<v1::EscalationPage> ConnectorStore::ListEscalations() {
  absl::MutexLock lock(&mu_);
  Stmt s(db_, "SELECT notice FROM escalations ORDER BY rowid DESC LIMIT 500");
  v1::EscalationPage page;
  while (s.Step() == SQLITE_ROW) {
    auto n = Parse<v1::EscalationNotice>(s.ColumnBlob(0));
    if (!n.ok()) return n.status();
    *page.add_escalations() = *std::move(n);
  }
  return page;
}

absl::Status ConnectorStore::InsertOutbox(const OutboxEntry& e) {
  absl::MutexLock lock(&mu_);
  Stmt s(db_,
         "INSERT INTO outbox (message_id, created_us, send_state, sent, draft, practitioner, "
         "sealed) VALUES (?, ?, ?, ?, ?, ?, ?)");
  s.Text(1, e.sent.message_id())
      .Int(2, Micros(e.sent.created_time()))
      .Int(3, e.sent.send_state())
      .Blob(4, e.sent.SerializeAsString())
      .Blob(5, e.draft.SerializeAsString())
      .Blob(6, e.practitioner.SerializeAsString())
      .Blob(7, e.sealed_envelope);
  const int rc = s.Step();
  if (rc == SQLITE_CONSTRAINT) {
    return absl::AlreadyExistsError(absl::StrCat(
        "message id ", e.sent.message_id(), " was already used by this agency; GET /api/v1/sent/",
        e.sent.message_id(), " shows what happened to it"));
  }
  if (rc != SQLITE_DONE) return s.Error("queuing a message");
  return absl::OkStatus();
}

absl::Status ConnectorStore::UpdateOutbox(const OutboxEntry& e) {
  absl::MutexLock lock(&mu_);
  Stmt s(db_, "UPDATE outbox SET send_state = ?, sent = ?, sealed = ? WHERE message_id = ?");
  s.Int(1, e.sent.send_state())
      .Blob(2, e.sent.SerializeAsString())
      .Blob(3, e.sealed_envelope)
      .Text(4, e.sent.message_id());
  if (s.Step() != SQLITE_DONE) return s.Error("updating a sent message");
  return absl::OkStatus();
}

absl::StatusOr<OutboxEntry> ConnectorStore::GetOutbox(const std::string& message_id) {
  absl::MutexLock lock(&mu_);
  Stmt s(db_, "SELECT sent, draft, practitioner, sealed FROM outbox WHERE message_id = ?");
  s.Text(1, message_id);
  const int rc = s.Step();
  if (rc == SQLITE_DONE) {
    return absl::NotFoundError(absl::StrCat("this agency sent no message ", message_id));
  }
  if (rc != SQLITE_ROW) return s.Error("reading the outbox");
  OutboxEntry e;
  if (!e.sent.ParseFromString(s.ColumnBlob(0)) || !e.draft.ParseFromString(s.ColumnBlob(1)) ||
      !e.practitioner.ParseFromString(s.ColumnBlob(2))) {
    return absl::DataLossError("connector store: an outbox row does not parse");
  }
  e.sealed_envelope = s.ColumnBlob(3);
  return e;
}

absl::StatusOr<v1::SentPage> ConnectorStore::ListSent(int offset, int limit) {
  absl::MutexLock lock(&mu_);
  Stmt s(db_, "SELECT sent FROM outbox ORDER BY created_us DESC, message_id LIMIT ? OFFSET ?");
  s.Int(1, limit + 1).Int(2, offset);
  v1::SentPage page;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    if (page.messages_size() == limit) {
      page.set_next_page_token(absl::StrCat(offset + limit));
      break;
    }
    auto m = Parse<v1::SentMessage>(s.ColumnBlob(0));
    if (!m.ok()) return m.status();
    *page.add_messages() = *std::move(m);
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return s.Error("listing sent messages");
  return page;
}

absl::StatusOr<std::vector<std::string>> ConnectorStore::Queued() {
  absl::MutexLock lock(&mu_);
  Stmt s(db_, "SELECT message_id FROM outbox WHERE send_state = ? ORDER BY created_us");
  s.Int(1, v1::SEND_STATE_QUEUED);
  std::vector<std::string> ids;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) ids.push_back(s.ColumnBlob(0));
  if (rc != SQLITE_DONE) return s.Error("listing queued messages");
  return ids;
}

}  // namespace safeshare::connector
