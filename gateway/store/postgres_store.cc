#include "gateway/store/postgres_store.h"

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>

#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/log.h"
#include "gateway/store/batch_transaction.h"
#include "gateway/store/postgres_migrations.h"
#include "gateway/store/store_rows.h"

namespace safeshare::gateway {
namespace {

using safeshare::v1::MessageState;
using store_rows::FromMicros;
using store_rows::ToMicros;
using store_rows::TsMicros;

// Advisory lock keys ("safeshare" in hex, more or less). Every write batch
// holds kWriteLock for its transaction: one writer at a time across replicas.
constexpr int64_t kWriteLock = 0x5afe5a4e0001;
constexpr int64_t kMigrationLock = 0x5afe5a4e0002;
constexpr const char* kMailChannel = "safeshare_mailbox";
constexpr const char* kKeysChannel = "safeshare_keys";
constexpr size_t kScanChunk = 1000;

// One query parameter: text, or binary for bytea.
struct Param {
  std::string value;
  bool null = false;
  bool binary = false;
};
Param P(std::string v) { return {std::move(v)}; }
Param P(const char* v) { return {v}; }
Param P(int64_t v) { return {absl::StrCat(v)}; }
Param P(uint64_t v) { return {absl::StrCat(v)}; }
Param P(int v) { return {absl::StrCat(v)}; }
Param Bytes(std::string v) { return {std::move(v), false, true}; }
Param Null() { return {"", true}; }
Param Micros(const std::optional<absl::Time>& t) { return t ? P(ToMicros(*t)) : Null(); }

// A result in binary format: integers in network order, text and bytea raw.
class Result {
 public:
  explicit Result(PGresult* r) : r_(r) {}
  Result(Result&& o) noexcept : r_(std::exchange(o.r_, nullptr)) {}
  Result& operator=(Result&&) = delete;
  ~Result() { PQclear(r_); }
  int rows() const { return PQntuples(r_); }

  class Row {
   public:
    Row(const PGresult* r, int i) : r_(r), i_(i) {}
    bool IsNull(int c) const { return PQgetisnull(r_, i_, c); }
    std::string Text(int c) const {
      return std::string(PQgetvalue(r_, i_, c), PQgetlength(r_, i_, c));
    }
    int64_t Int(int c) const {
      if (IsNull(c)) return 0;
      const char* p = PQgetvalue(r_, i_, c);
      switch (PQgetlength(r_, i_, c)) {
        case 8: {
          uint32_t hi, lo;
          std::memcpy(&hi, p, 4);
          std::memcpy(&lo, p + 4, 4);
          return static_cast<int64_t>((uint64_t{ntohl(hi)} << 32) | ntohl(lo));
        }
        case 4: {
          uint32_t v;
          std::memcpy(&v, p, 4);
          return static_cast<int32_t>(ntohl(v));
        }
        case 2: {
          uint16_t v;
          std::memcpy(&v, p, 2);
          return static_cast<int16_t>(ntohs(v));
        }
        default:
          return 0;
      }
    }

   private:
    const PGresult* r_;
    int i_;
  };
  Row row(int i) const { return Row(r_, i); }

 private:
  PGresult* r_;
};

// Conditions that pass (connection lost, disk full, shutdown, lock or
// serialization trouble) are UNAVAILABLE: safe to retry. Anything else is a
// defect, INTERNAL. The message never carries the connection string.
absl::Status PgError(PGconn* conn, const PGresult* r, absl::string_view what) {
  std::string detail(r != nullptr ? PQresultErrorMessage(r) : PQerrorMessage(conn));
  detail = std::string(absl::StripAsciiWhitespace(detail));
  const char* state = r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  const std::string sqlstate = state != nullptr ? state : "";
  const bool transient = PQstatus(conn) != CONNECTION_OK || sqlstate.empty() ||
                         absl::StartsWith(sqlstate, "08") || absl::StartsWith(sqlstate, "53") ||
                         absl::StartsWith(sqlstate, "57") || absl::StartsWith(sqlstate, "58") ||
                         absl::StartsWith(sqlstate, "40") || sqlstate == "55P03";
  const std::string message = absl::StrCat("store: ", what, " failed: ", detail,
                                           sqlstate.empty() ? "" : " (SQLSTATE ", sqlstate,
                                           sqlstate.empty() ? "" : ")");
  return transient ? absl::UnavailableError(message) : absl::InternalError(message);
}

// A statement runs prepared: parsed and planned once per connection, which is
// most of the database's CPU for these small statements.
absl::StatusOr<Result> Run(PgSession& session, const std::string& sql,
                           const std::vector<Param>& params, absl::string_view what) {
  PGconn* conn = session.conn;
  auto it = session.prepared.find(sql);
  if (it == session.prepared.end()) {
    const std::string name = absl::StrCat("s", session.prepared.size());
    PGresult* prep = PQprepare(conn, name.c_str(), sql.c_str(), static_cast<int>(params.size()),
                               nullptr);
    const bool ok = prep != nullptr && PQresultStatus(prep) == PGRES_COMMAND_OK;
    absl::Status st = ok ? absl::OkStatus() : PgError(conn, prep, what);
    PQclear(prep);
    if (!st.ok()) return st;
    it = session.prepared.emplace(sql, name).first;
  }
  std::vector<const char*> values(params.size());
  std::vector<int> lengths(params.size()), formats(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    values[i] = params[i].null ? nullptr : params[i].value.data();
    lengths[i] = static_cast<int>(params[i].value.size());
    formats[i] = params[i].binary ? 1 : 0;
  }
  PGresult* raw = PQexecPrepared(conn, it->second.c_str(), static_cast<int>(params.size()),
                                 values.data(), lengths.data(), formats.data(),
                                 /*resultFormat=*/1);
  const ExecStatusType status = raw != nullptr ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    absl::Status st = PgError(conn, raw, what);
    PQclear(raw);
    return st;
  }
  return Result(raw);
}

// Plain statements without parameters (several allowed, e.g. a migration).
absl::Status Script(PGconn* conn, const char* sql, absl::string_view what) {
  PGresult* raw = PQexec(conn, sql);
  const ExecStatusType status = raw != nullptr ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
  absl::Status st = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK
                        ? absl::OkStatus()
                        : PgError(conn, raw, what);
  PQclear(raw);
  return st;
}

absl::StatusOr<PGconn*> Connect(const std::string& conninfo) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    absl::Status st = absl::UnavailableError(
        absl::StrCat("store: cannot connect to PostgreSQL: ",
                     absl::StripAsciiWhitespace(PQerrorMessage(conn))));
    PQfinish(conn);
    return st;
  }
  return conn;
}

// Applies the migrations the database lacks, one transaction, under a lock
// so that replicas starting together take turns.
absl::Status Migrate(PgSession& session) {
  PGconn* conn = session.conn;
  if (auto st = Script(conn, "BEGIN", "begin migration"); !st.ok()) return st;
  auto body = [&]() -> absl::Status {
    if (auto r = Run(session, "SELECT pg_advisory_xact_lock($1)", {P(kMigrationLock)}, "lock schema");
        !r.ok()) {
      return r.status();
    }
    if (auto st = Script(conn,
                         "CREATE TABLE IF NOT EXISTS safeshare_schema (version INTEGER PRIMARY "
                         "KEY, name TEXT NOT NULL, applied_us BIGINT NOT NULL)",
                         "create schema table");
        !st.ok()) {
      return st;
    }
    auto v = Run(session, "SELECT COALESCE(MAX(version), 0)::int4 FROM safeshare_schema", {},
                 "read schema version");
    if (!v.ok()) return v.status();
    const int64_t version = v->row(0).Int(0);
    const int latest = kPostgresMigrations[kPostgresMigrationCount - 1].version;
    if (version > latest) {
      return absl::FailedPreconditionError(absl::StrCat(
          "store: the database has schema version ", version,
          ", newer than this gateway understands (", latest, "); upgrade the gateway"));
    }
    for (size_t i = 0; i < kPostgresMigrationCount; ++i) {
      const PostgresMigration& m = kPostgresMigrations[i];
      if (m.version <= version) continue;
      if (auto st = Script(conn, m.sql, absl::StrCat("migration ", m.name)); !st.ok()) return st;
      auto recorded = Run(session,
                          "INSERT INTO safeshare_schema (version, name, applied_us) "
                          "VALUES ($1, $2, $3)",
                          {P(m.version), P(m.name), P(ToMicros(absl::Now()))}, "record migration");
      if (!recorded.ok()) return recorded.status();
      LogEvent("info", "store.migrated", {{"version", absl::StrCat(m.version)}, {"name", m.name}});
    }
    return absl::OkStatus();
  };
  absl::Status st = body();
  if (st.ok()) st = Script(conn, "COMMIT", "commit migration");
  if (!st.ok()) (void)Script(conn, "ROLLBACK", "roll back migration");
  return st;
}

std::string MessageSelect(absl::string_view where) {
  return absl::StrCat("SELECT ", store_rows::kMessageColumns, " FROM messages WHERE ", where);
}

}  // namespace

absl::Status PostgresStore::Ready(PgSession& session) {
  PGconn* conn = session.conn;
  if (PQstatus(conn) == CONNECTION_OK) return absl::OkStatus();
  session.prepared.clear();  // a new session has none
  PQreset(conn);
  if (PQstatus(conn) == CONNECTION_OK) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat("store: PostgreSQL is unreachable: ",
                                             absl::StripAsciiWhitespace(PQerrorMessage(conn))));
}

// Complete subtree hashes from a connection: leaves from audit_log, the rest
// from audit_nodes.
class PostgresStore::Subtrees final : public transparency::SubtreeSource {
 public:
  explicit Subtrees(PgSession* session) : session_(session) {}
  absl::StatusOr<std::string> CompleteSubtree(uint64_t level, uint64_t index) override {
    auto r = level == 0 ? Run(*session_, "SELECT leaf_hash FROM audit_log WHERE seq = $1",
                              {P(index)}, "read tree")
                        : Run(*session_, "SELECT hash FROM audit_nodes WHERE level = $1 AND idx = $2",
                              {P(level), P(index)}, "read tree");
    if (!r.ok()) return r.status();
    if (r->rows() == 0) {
      return absl::DataLossError(
          absl::StrCat("store: audit tree node (", level, ", ", index, ") is missing"));
    }
    return r->row(0).Text(0);
  }

 private:
  PgSession* session_;
};

absl::StatusOr<std::unique_ptr<PostgresStore>> PostgresStore::Open(const std::string& conninfo) {
  std::unique_ptr<PostgresStore> store(new PostgresStore());
  store->conninfo_ = conninfo;
  {
    absl::MutexLock lock(&store->mu_);
    auto conn = Connect(conninfo);
    if (!conn.ok()) return conn.status();
    store->write_.conn = *conn;
    if (auto st = Migrate(store->write_); !st.ok()) return st;
  }
  {
    absl::MutexLock lock(&store->read_mu_);
    auto conn = Connect(conninfo);
    if (!conn.ok()) return conn.status();
    store->read_.conn = *conn;
    auto r = Run(store->read_,
                 "SELECT COUNT(*)::int8, COALESCE(MAX(seq) + 1, 0)::int8 FROM audit_log", {},
                 "count audit log");
    if (!r.ok()) return r.status();
    if (r->row(0).Int(0) != r->row(0).Int(1)) {
      return absl::DataLossError(absl::StrCat(
          "store: the audit log has gaps (", r->row(0).Int(0), " records, highest ",
          r->row(0).Int(1) - 1, "); run `safeshare audit verify` on an export"));
    }
  }
  store->committer_ = std::make_unique<GroupCommitter>(
      [s = store.get()](const std::vector<Work>& jobs, std::vector<absl::Status>& results,
                         CommitInfo& info) { return s->RunBatch(jobs, results, info); });
  store->listener_ = std::thread([s = store.get()] {
    pthread_setname_np(pthread_self(), "pg-listener");
    s->ListenerLoop();
  });
  return store;
}

PostgresStore::~PostgresStore() {
  committer_.reset();  // commits what is queued and runs every callback: they may read the store
  stop_listening_.Notify();
  if (listener_.joinable()) listener_.join();
  {
    absl::MutexLock lock(&read_mu_);
    if (read_.conn != nullptr) PQfinish(read_.conn);
  }
  absl::MutexLock lock(&mu_);
  if (write_.conn != nullptr) PQfinish(write_.conn);
}

void PostgresStore::SetEventListener(StoreEvents events) {
  absl::MutexLock lock(&events_mu_);
  events_ = std::move(events);
}

// LISTENs on its own connection; reconnects with a pause when the database
// goes away, and asks for a resync afterwards since notifications sent in
// between are lost.
void PostgresStore::ListenerLoop() {
  PGconn* conn = nullptr;
  bool resync = false;
  while (!stop_listening_.HasBeenNotified()) {
    if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
      if (conn != nullptr) PQfinish(conn);
      conn = nullptr;
      auto c = Connect(conninfo_);
      if (!c.ok() || !Script(*c, absl::StrCat("LISTEN ", kMailChannel, "; LISTEN ",
                                               kKeysChannel).c_str(),
                             "listen")
                          .ok()) {
        if (c.ok()) PQfinish(*c);
        LogEvent("warn", "store.listen_failed", {{"retry_in", "1s"}});
        stop_listening_.WaitForNotificationWithTimeout(absl::Seconds(1));
        resync = true;
        continue;
      }
      conn = *c;
      if (resync) {
        StoreEvents events;
        {
          absl::MutexLock lock(&events_mu_);
          events = events_;
        }
        if (events.resync) events.resync();
        if (events.keys) events.keys();
      }
      resync = true;  // any later reconnect may have missed something
    }
    pollfd p{PQsocket(conn), POLLIN, 0};
    if (poll(&p, 1, 200) < 0) continue;
    if (!PQconsumeInput(conn)) {  // broken: reconnect above
      PQfinish(conn);
      conn = nullptr;
      continue;
    }
    StoreEvents events;
    {
      absl::MutexLock lock(&events_mu_);
      events = events_;
    }
    while (PGnotify* n = PQnotifies(conn)) {
      if (std::strcmp(n->relname, kMailChannel) == 0) {
        if (events.mail) events.mail(n->extra);
      } else if (events.keys) {
        events.keys();
      }
      PQfreemem(n);
    }
  }
  if (conn != nullptr) PQfinish(conn);
}

// ---- Group commit ----

void PostgresStore::Commit(Work work, Done done) {
  committer_->Commit(std::move(work), std::move(done));
}

// BEGIN, the write lock, then the log as other replicas left it.
absl::Status PostgresStore::BeginBatchLocked() {
  if (auto st = Ready(write_); !st.ok()) return st;
  if (auto st = Script(write_.conn, "BEGIN", "begin transaction"); !st.ok()) return st;
  if (auto r = Run(write_, "SELECT pg_advisory_xact_lock($1)", {P(kWriteLock)}, "lock the log");
      !r.ok()) {
    return r.status();
  }
  auto size = Run(write_, "SELECT COALESCE(MAX(seq) + 1, 0)::int8 FROM audit_log", {},
                  "read the log size");
  if (!size.ok()) return size.status();
  const uint64_t n = static_cast<uint64_t>(size->row(0).Int(0));
  if (n != frontier_.size()) {
    Subtrees source(&write_);
    auto loaded = transparency::Frontier::Load(source, n);
    if (!loaded.ok()) return loaded.status();
    frontier_ = std::move(*loaded);
  }
  return absl::OkStatus();
}

absl::Status PostgresStore::RunBatch(const std::vector<Work>& jobs, std::vector<absl::Status>& results,
                              CommitInfo& info) {
  absl::Status commit_status;
  {
    absl::MutexLock lock(&mu_);
    commit_status = BeginBatchLocked();
    const transparency::Frontier before_batch = frontier_;
    if (commit_status.ok()) {
      BatchTransaction<PostgresStore> tx(this);
      for (size_t i = 0; i < jobs.size(); ++i) {
        const transparency::Frontier before_job = frontier_;
        if (auto st = Script(write_.conn, "SAVEPOINT job", "savepoint"); !st.ok()) {
          commit_status = st;
          break;
        }
        results[i] = jobs[i](tx);
        absl::Status settled =
            results[i].ok() ? Script(write_.conn, "RELEASE SAVEPOINT job", "savepoint")
                            : Script(write_.conn, "ROLLBACK TO SAVEPOINT job; RELEASE SAVEPOINT job",
                                     "savepoint");
        if (!results[i].ok()) frontier_ = before_job;  // this job alone is undone
        if (!settled.ok()) {
          // Cannot tell what of this job is written: give up the whole batch.
          commit_status = settled;
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
          auto stored = Run(write_,
                            "INSERT INTO audit_checkpoints (tree_size, root_hash, note, time_us) "
                            "VALUES ($1, $2, $3, $4)",
                            {P(info.tree_size), Bytes(info.root_hash), P(*note),
                             P(ToMicros(absl::Now()))},
                            "store checkpoint");
          if (!stored.ok()) commit_status = stored.status();
        }
      }
      if (commit_status.ok()) commit_status = Script(write_.conn, "COMMIT", "commit");
    }
    if (!commit_status.ok()) {
      if (PQstatus(write_.conn) == CONNECTION_OK) (void)Script(write_.conn, "ROLLBACK", "roll back");
      frontier_ = before_batch;
    } else if (info.checkpoint_note.empty() && info.tree_size > 0) {
      auto latest = Run(write_,
                        "SELECT note FROM audit_checkpoints ORDER BY tree_size DESC LIMIT 1", {},
                        "read checkpoint");
      if (latest.ok() && latest->rows() > 0) info.checkpoint_note = latest->row(0).Text(0);
    }
  }
  return commit_status;
}

// ---- Messages ----

absl::StatusOr<std::optional<StoredMessage>> PostgresStore::LoadLocked(
    const std::string& message_id) {
  static const std::string sql = MessageSelect("message_id = $1");
  auto r = Run(write_, sql.c_str(), {P(message_id)}, "load message");
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return std::optional<StoredMessage>();
  return std::optional<StoredMessage>(store_rows::ReadMessageRow(r->row(0)));
}

absl::Status PostgresStore::AddEventLocked(const std::string& message_id, MessageState state,
                                           absl::Time t) {
  return Run(write_, "INSERT INTO message_events (message_id, state, time_us) VALUES ($1, $2, $3)",
             {P(message_id), P(static_cast<int>(state)), P(ToMicros(t))}, "record state change")
      .status();
}

absl::StatusOr<InsertResult> PostgresStore::InsertMessageTx(const StoredMessage& m) {
  auto existing = LoadLocked(m.message_id);
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) return InsertResult{false, std::move(**existing)};
  const bool open = m.acknowledge_deadline && (m.state == safeshare::v1::MESSAGE_STATE_SUBMITTED ||
                                               m.state == safeshare::v1::MESSAGE_STATE_HELD);
  auto r = Run(write_,
               "INSERT INTO messages (message_id, sender, recipient, kind, signed_envelope, "
               "envelope_sha256, receipt, state, accepted_us, urgency, ack_deadline_us, "
               "retention_us, in_reply_to, declaration, open_deadline_us) VALUES ($1, $2, $3, $4, "
               "$5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING sequence",
               {P(m.message_id), P(m.sender_agency_id), P(m.recipient_agency_id),
                P(static_cast<int>(m.kind)), Bytes(m.signed_envelope), Bytes(m.envelope_sha256),
                Bytes(m.receipt), P(static_cast<int>(m.state)), P(ToMicros(m.accepted_time)),
                P(static_cast<int>(m.urgency)), Micros(m.acknowledge_deadline),
                P(absl::ToInt64Microseconds(m.retention)), P(m.in_reply_to),
                Bytes(m.declaration), open ? Micros(m.acknowledge_deadline) : Null()},
               "insert message");
  if (!r.ok()) return r.status();
  InsertResult result{true, m};
  result.message.sequence = static_cast<uint64_t>(r->row(0).Int(0));
  if (auto st = AddEventLocked(m.message_id, m.state, m.accepted_time); !st.ok()) return st;
  if (m.state == safeshare::v1::MESSAGE_STATE_SUBMITTED) {
    // Delivered with the commit, to every replica's listener.
    auto n = Run(write_, "SELECT pg_notify($1, $2)", {P(kMailChannel), P(m.recipient_agency_id)},
                 "notify");
    if (!n.ok()) return n.status();
    if (!m.in_reply_to.empty()) {
      if (auto st = AnswerLocked(m.in_reply_to, m.accepted_time); !st.ok()) return st;
    }
  }
  return result;
}

absl::Status PostgresStore::AnswerLocked(const std::string& answered_id, absl::Time now) {
  auto loaded = LoadLocked(answered_id);
  if (!loaded.ok()) return loaded.status();
  if (!loaded->has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the message answered, ", answered_id, ", is not stored"));
  }
  const StoredMessage& m = **loaded;
  const bool waiting = store_rows::AwaitsAnswer(m.state);
  const MessageState next = store_rows::AnsweredState(m.kind);
  auto r = Run(write_,
               "UPDATE messages SET answered_us = COALESCE(answered_us, $1), "
               "acknowledged_us = COALESCE(acknowledged_us, $1), open_deadline_us = NULL, "
               "state = $2 WHERE sequence = $3",
               {P(ToMicros(now)), P(static_cast<int>(waiting ? next : m.state)), P(m.sequence)},
               "record answer");
  if (!r.ok()) return r.status();
  return waiting ? AddEventLocked(answered_id, next, now) : absl::OkStatus();
}

absl::StatusOr<StoredMessage> PostgresStore::RecipientMessageLocked(
    const std::string& recipient, const std::string& message_id) {
  auto loaded = LoadLocked(message_id);
  if (!loaded.ok()) return loaded.status();
  const bool deliverable = loaded->has_value() && (*loaded)->recipient_agency_id == recipient &&
                           (*loaded)->state != safeshare::v1::MESSAGE_STATE_HELD &&
                           (*loaded)->state != safeshare::v1::MESSAGE_STATE_REFUSED;
  if (!deliverable) {
    return absl::PermissionDeniedError(
        absl::StrCat("message ", message_id, " is not in the mailbox of agency ", recipient));
  }
  return std::move(**loaded);
}

absl::StatusOr<StoredMessage> PostgresStore::AcknowledgeTx(const std::string& recipient,
                                                           const std::string& message_id,
                                                           absl::Time now) {
  auto loaded = RecipientMessageLocked(recipient, message_id);
  if (!loaded.ok()) return loaded.status();
  StoredMessage m = std::move(*loaded);
  if (m.acknowledged_time.has_value()) return m;  // idempotent
  // A request's deadline stays open until it is answered.
  auto r = Run(write_,
               "UPDATE messages SET acknowledged_us = $1, state = $2, open_deadline_us = CASE "
               "WHEN kind = $3 THEN open_deadline_us ELSE NULL END WHERE sequence = $4",
               {P(ToMicros(now)), P(static_cast<int>(safeshare::v1::MESSAGE_STATE_ACKNOWLEDGED)),
                P(static_cast<int>(safeshare::v1::MESSAGE_KIND_INFORMATION_REQUEST)),
                P(m.sequence)},
               "acknowledge");
  if (!r.ok()) return r.status();
  if (auto st = AddEventLocked(message_id, safeshare::v1::MESSAGE_STATE_ACKNOWLEDGED, now);
      !st.ok()) {
    return st;
  }
  m.acknowledged_time = now;
  m.state = safeshare::v1::MESSAGE_STATE_ACKNOWLEDGED;
  return m;
}

absl::StatusOr<StoredMessage> PostgresStore::RefuseContentTx(
    const std::string& recipient, const std::string& message_id,
    safeshare::v1::ContentRefusalReason reason, const std::string& detail, absl::Time now) {
  auto loaded = RecipientMessageLocked(recipient, message_id);
  if (!loaded.ok()) return loaded.status();
  StoredMessage m = std::move(*loaded);
  if (m.acknowledged_time.has_value()) return m;  // already settled
  auto r = Run(write_,
               "UPDATE messages SET acknowledged_us = $1, state = $2, refusal_reason = $3, "
               "refusal_detail = $4, open_deadline_us = NULL WHERE sequence = $5",
               {P(ToMicros(now)),
                P(static_cast<int>(safeshare::v1::MESSAGE_STATE_CONTENT_REFUSED)),
                P(static_cast<int>(reason)), P(detail), P(m.sequence)},
               "refuse content");
  if (!r.ok()) return r.status();
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

absl::StatusOr<StoredMessage> PostgresStore::ResolveHeldTx(
    const std::string& message_id, bool approve,
    const std::function<absl::Time(safeshare::v1::Urgency)>& deadline_for, absl::Time now) {
  auto loaded = LoadLocked(message_id);
  if (!loaded.ok()) return loaded.status();
  if (!loaded->has_value()) {
    return absl::NotFoundError(absl::StrCat("no message with id ", message_id));
  }
  StoredMessage m = std::move(**loaded);
  if (m.state != safeshare::v1::MESSAGE_STATE_HELD) {
    return absl::FailedPreconditionError(
        absl::StrCat("message ", message_id, " is not held for advice (it is ",
                     safeshare::v1::MessageState_Name(m.state), ")"));
  }
  const auto next =
      approve ? safeshare::v1::MESSAGE_STATE_SUBMITTED : safeshare::v1::MESSAGE_STATE_REFUSED;
  const absl::Time deadline = deadline_for(m.urgency);
  auto r = approve ? Run(write_,
                         "UPDATE messages SET state = $1, ack_deadline_us = $2, "
                         "open_deadline_us = $2 WHERE sequence = $3",
                         {P(static_cast<int>(next)), P(ToMicros(deadline)), P(m.sequence)},
                         "resolve held")
                   : Run(write_,
                         "UPDATE messages SET state = $1, signed_envelope = '', "
                         "open_deadline_us = NULL WHERE sequence = $2",
                         {P(static_cast<int>(next)), P(m.sequence)}, "resolve held");
  if (!r.ok()) return r.status();
  if (auto st = AddEventLocked(message_id, next, now); !st.ok()) return st;
  m.state = next;
  if (approve) {
    m.acknowledge_deadline = deadline;
    auto n = Run(write_, "SELECT pg_notify($1, $2)", {P(kMailChannel), P(m.recipient_agency_id)},
                 "notify");
    if (!n.ok()) return n.status();
    if (!m.in_reply_to.empty()) {
      if (auto st = AnswerLocked(m.in_reply_to, now); !st.ok()) return st;
    }
  } else {
    m.signed_envelope.clear();
  }
  return m;
}

absl::StatusOr<std::vector<StoredMessage>> PostgresStore::MarkDeliveredTx(
    const std::string& recipient, const std::vector<uint64_t>& seqs, absl::Time now) {
  std::vector<StoredMessage> marked;
  static const std::string select = MessageSelect("sequence = $1 AND recipient = $2");
  for (uint64_t seq : seqs) {
    auto r = Run(write_, select.c_str(), {P(seq), P(recipient)}, "mark delivered");
    if (!r.ok()) return r.status();
    if (r->rows() == 0) continue;
    StoredMessage m = store_rows::ReadMessageRow(r->row(0));
    if (m.first_delivered_time) continue;
    // Only a message still waiting changes state; an acknowledged or
    // escalated one keeps its state and just gains its hand-over time.
    auto u = Run(write_,
                 "UPDATE messages SET first_delivered_us = $1, state = CASE WHEN state = $2 "
                 "THEN $3 ELSE state END WHERE sequence = $4 AND first_delivered_us IS NULL",
                 {P(ToMicros(now)), P(static_cast<int>(safeshare::v1::MESSAGE_STATE_SUBMITTED)),
                  P(static_cast<int>(safeshare::v1::MESSAGE_STATE_DELIVERED)), P(seq)},
                 "mark delivered");
    if (!u.ok()) return u.status();
    if (auto st = AddEventLocked(m.message_id, safeshare::v1::MESSAGE_STATE_DELIVERED, now);
        !st.ok()) {
      return st;
    }
    if (m.state == safeshare::v1::MESSAGE_STATE_SUBMITTED) {
      m.state = safeshare::v1::MESSAGE_STATE_DELIVERED;
    }
    m.first_delivered_time = now;
    marked.push_back(std::move(m));
  }
  return marked;
}

absl::StatusOr<std::vector<StoredMessage>> PostgresStore::EscalateOverdueTx(absl::Time now,
                                                                            int limit) {
  static const std::string sql = absl::StrCat(
      MessageSelect("open_deadline_us IS NOT NULL AND open_deadline_us < $1"),
      " ORDER BY open_deadline_us LIMIT $2");
  auto r = Run(write_, sql.c_str(), {P(ToMicros(now)), P(limit)}, "find overdue");
  if (!r.ok()) return r.status();
  std::vector<StoredMessage> out;
  for (int i = 0; i < r->rows(); ++i) out.push_back(store_rows::ReadMessageRow(r->row(i)));
  for (StoredMessage& m : out) {
    // A hold stays HELD: only an officer's decision moves it on.
    const MessageState next = m.state == safeshare::v1::MESSAGE_STATE_HELD
                                  ? m.state
                                  : safeshare::v1::MESSAGE_STATE_ESCALATED;
    auto u = Run(write_,
                 "UPDATE messages SET escalated_us = $1, state = $2, open_deadline_us = NULL "
                 "WHERE sequence = $3",
                 {P(ToMicros(now)), P(static_cast<int>(next)), P(m.sequence)}, "escalate");
    if (!u.ok()) return u.status();
    if (auto st = AddEventLocked(m.message_id, safeshare::v1::MESSAGE_STATE_ESCALATED, now);
        !st.ok()) {
      return st;
    }
    m.state = next;
    m.escalated_time = now;
  }
  return out;
}

absl::StatusOr<std::vector<StoredMessage>> PostgresStore::PurgeExpiredTx(absl::Time now,
                                                                         int limit) {
  static const std::string sql = absl::StrCat(
      MessageSelect("state IN ($1, $2, $3, $4) AND retention_us > 0 AND "
                    "length(signed_envelope) > 0 AND acknowledged_us + retention_us < $5"),
      " ORDER BY acknowledged_us + retention_us LIMIT $6");
  auto r = Run(write_, sql.c_str(),
               {P(static_cast<int>(safeshare::v1::MESSAGE_STATE_ACKNOWLEDGED)),
                P(static_cast<int>(safeshare::v1::MESSAGE_STATE_ANSWERED)),
                P(static_cast<int>(safeshare::v1::MESSAGE_STATE_OUTCOME_RECEIVED)),
                P(static_cast<int>(safeshare::v1::MESSAGE_STATE_ESCALATED)), P(ToMicros(now)),
                P(limit)},
               "find expired");
  if (!r.ok()) return r.status();
  std::vector<StoredMessage> out;
  for (int i = 0; i < r->rows(); ++i) out.push_back(store_rows::ReadMessageRow(r->row(i)));
  for (StoredMessage& m : out) {
    auto u = Run(write_, "UPDATE messages SET signed_envelope = '', state = $1 WHERE sequence = $2",
                 {P(static_cast<int>(safeshare::v1::MESSAGE_STATE_EXPIRED)), P(m.sequence)},
                 "purge");
    if (!u.ok()) return u.status();
    if (auto st = AddEventLocked(m.message_id, safeshare::v1::MESSAGE_STATE_EXPIRED, now);
        !st.ok()) {
      return st;
    }
    m.state = safeshare::v1::MESSAGE_STATE_EXPIRED;
    m.signed_envelope.clear();
  }
  return out;
}

// ---- Reads, on the read connection ----

absl::StatusOr<std::vector<StoredMessage>> PostgresStore::ReadMessages(
    const std::string& sql, const std::vector<std::string>& params, bool with_history) {
  absl::MutexLock lock(&read_mu_);
  if (auto st = Ready(read_); !st.ok()) return st;
  std::vector<Param> ps;
  for (const auto& p : params) ps.push_back(P(p));
  auto r = Run(read_, sql.c_str(), ps, "read messages");
  if (!r.ok()) return r.status();
  std::vector<StoredMessage> out;
  for (int i = 0; i < r->rows(); ++i) out.push_back(store_rows::ReadMessageRow(r->row(i)));
  if (!with_history) return out;
  for (StoredMessage& m : out) {
    auto h = Run(read_,
                 "SELECT state, time_us FROM message_events WHERE message_id = $1 ORDER BY id",
                 {P(m.message_id)}, "load history");
    if (!h.ok()) return h.status();
    for (int i = 0; i < h->rows(); ++i) {
      m.history.push_back({static_cast<MessageState>(h->row(i).Int(0)),
                           FromMicros(h->row(i).Int(1))});
    }
  }
  return out;
}

absl::StatusOr<StoredMessage> PostgresStore::GetMessage(const std::string& message_id) {
  static const std::string sql = MessageSelect("message_id = $1");
  auto found = ReadMessages(sql, {message_id}, true);
  if (!found.ok()) return found.status();
  if (found->empty()) return absl::NotFoundError(absl::StrCat("no message with id ", message_id));
  return std::move(found->front());
}

absl::StatusOr<std::vector<StoredMessage>> PostgresStore::ListThread(const std::string& root_id) {
  static const std::string sql =
      absl::StrCat(MessageSelect("message_id = $1 OR in_reply_to = $1"), " ORDER BY sequence");
  return ReadMessages(sql, {root_id}, true);
}

absl::StatusOr<std::vector<StoredMessage>> PostgresStore::ListHeld(
    const std::vector<std::string>& senders, uint64_t after_sequence, int limit) {
  std::vector<std::string> params = {
      absl::StrCat(static_cast<int>(safeshare::v1::MESSAGE_STATE_HELD)),
      absl::StrCat(after_sequence), absl::StrCat(limit)};
  std::vector<std::string> marks;
  for (const auto& s : senders) {
    params.push_back(s);
    marks.push_back(absl::StrCat("$", params.size()));
  }
  const std::string sql = absl::StrCat(
      MessageSelect("state = $1 AND sequence > $2"),
      senders.empty() ? "" : absl::StrCat(" AND sender IN (", absl::StrJoin(marks, ","), ")"),
      " ORDER BY sequence LIMIT $3");
  return ReadMessages(sql, params, false);
}

absl::StatusOr<std::vector<StoredMessage>> PostgresStore::PendingForRecipient(
    const std::string& recipient, uint64_t after_sequence, int limit) {
  static const std::string sql = absl::StrCat(
      MessageSelect("recipient = $1 AND acknowledged_us IS NULL AND sequence > $2 AND state IN "
                    "($3, $4, $5)"),
      " ORDER BY sequence LIMIT $6");
  return ReadMessages(
      sql,
      {recipient, absl::StrCat(after_sequence),
       absl::StrCat(static_cast<int>(safeshare::v1::MESSAGE_STATE_SUBMITTED)),
       absl::StrCat(static_cast<int>(safeshare::v1::MESSAGE_STATE_DELIVERED)),
       absl::StrCat(static_cast<int>(safeshare::v1::MESSAGE_STATE_ESCALATED)), absl::StrCat(limit)},
      false);
}

// ---- Keys ----

template <typename Fn>
auto PostgresStore::InKeyTransaction(Fn body) -> decltype(body()) {
  if (auto st = Ready(write_); !st.ok()) return st;
  if (auto st = Script(write_.conn, "BEGIN", "begin transaction"); !st.ok()) return st;
  // The same lock as the write batches: key changes from two replicas take turns.
  auto locked = Run(write_, "SELECT pg_advisory_xact_lock($1)", {P(kWriteLock)}, "lock keys");
  auto result = locked.ok() ? body() : decltype(body())(locked.status());
  if (result.ok()) {
    auto n = Run(write_, "SELECT pg_notify($1, '')", {P(kKeysChannel)}, "notify");
    absl::Status st = n.ok() ? Script(write_.conn, "COMMIT", "commit") : n.status();
    if (!st.ok()) result = st;
  }
  if (!result.ok() && PQstatus(write_.conn) == CONNECTION_OK) (void)Script(write_.conn, "ROLLBACK", "roll back");
  return result;
}

absl::StatusOr<std::optional<AgencyKey>> PostgresStore::LoadKeyLocked(const std::string& key_id) {
  static const std::string sql =
      absl::StrCat("SELECT ", store_rows::kKeyColumns, " FROM agency_keys WHERE key_id = $1");
  auto r = Run(write_, sql.c_str(), {P(key_id)}, "load key");
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return std::optional<AgencyKey>();
  return std::optional<AgencyKey>(store_rows::ReadKeyRow(r->row(0)));
}

absl::Status PostgresStore::InsertKeyLocked(const AgencyKey& k) {
  return Run(write_,
             "INSERT INTO agency_keys (key_id, agency_id, purpose, public_key, not_before_us, "
             "not_after_us, current, revoked_us) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
             {P(k.key.key_id()), P(k.agency_id), P(static_cast<int>(k.key.purpose())),
              Bytes(k.key.public_key()), P(TsMicros(k.key.not_before())),
              k.key.has_not_after() ? P(TsMicros(k.key.not_after())) : Null(),
              P(k.key.current() ? 1 : 0),
              k.key.revoked() ? P(TsMicros(k.key.not_before())) : Null()},
             "insert key")
      .status();
}

absl::StatusOr<std::vector<AgencyKey>> PostgresStore::ListKeys() {
  absl::MutexLock lock(&read_mu_);
  if (auto st = Ready(read_); !st.ok()) return st;
  static const std::string sql =
      absl::StrCat("SELECT ", store_rows::kKeyColumns, " FROM agency_keys ORDER BY seq");
  auto r = Run(read_, sql.c_str(), {}, "list keys");
  if (!r.ok()) return r.status();
  std::vector<AgencyKey> out;
  for (int i = 0; i < r->rows(); ++i) out.push_back(store_rows::ReadKeyRow(r->row(i)));
  return out;
}

absl::Status PostgresStore::SeedKey(const AgencyKey& key, absl::Time now) {
  absl::MutexLock lock(&mu_);
  return InKeyTransaction([&]() -> absl::Status {
    auto existing = LoadKeyLocked(key.key.key_id());
    if (!existing.ok()) return existing.status();
    if (existing->has_value()) {
      if (key.key.revoked() && !(*existing)->key.revoked()) {
        return Run(write_, "UPDATE agency_keys SET revoked_us = $1, current = 0 WHERE key_id = $2",
                   {P(ToMicros(now)), P(key.key.key_id())}, "revoke key")
            .status();
      }
      return absl::OkStatus();
    }
    AgencyKey k = key;
    if (k.key.current()) {
      auto c = Run(write_,
                   "SELECT COUNT(*)::int8 FROM agency_keys WHERE agency_id = $1 AND purpose = $2 "
                   "AND current = 1",
                   {P(k.agency_id), P(static_cast<int>(k.key.purpose()))}, "seed key");
      if (!c.ok()) return c.status();
      if (c->row(0).Int(0) > 0) k.key.set_current(false);
    }
    if (k.key.revoked()) k.key.set_current(false);
    return InsertKeyLocked(k);
  });
}

absl::StatusOr<safeshare::v1::PublicKey> PostgresStore::PublishKey(const AgencyKey& key,
                                                                   absl::Time now) {
  absl::MutexLock lock(&mu_);
  return InKeyTransaction([&]() -> absl::StatusOr<safeshare::v1::PublicKey> {
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
    auto demoted = Run(write_, "UPDATE agency_keys SET current = 0 WHERE agency_id = $1 AND purpose = $2",
                       {P(key.agency_id), P(static_cast<int>(key.key.purpose()))}, "demote key");
    if (!demoted.ok()) return demoted.status();
    if (existing->has_value()) {
      auto u = Run(write_, "UPDATE agency_keys SET current = 1 WHERE key_id = $1",
                   {P(key.key.key_id())}, "publish key");
      if (!u.ok()) return u.status();
      safeshare::v1::PublicKey k = (*existing)->key;
      k.set_current(true);
      return k;
    }
    AgencyKey k = key;
    k.key.set_current(true);
    k.key.set_revoked(false);
    *k.key.mutable_not_before() = store_rows::Ts(ToMicros(now));
    if (auto st = InsertKeyLocked(k); !st.ok()) return st;
    return k.key;
  });
}

absl::StatusOr<safeshare::v1::PublicKey> PostgresStore::RevokeKey(const std::string& agency_id,
                                                                  const std::string& key_id,
                                                                  absl::Time now) {
  absl::MutexLock lock(&mu_);
  return InKeyTransaction([&]() -> absl::StatusOr<safeshare::v1::PublicKey> {
    auto existing = LoadKeyLocked(key_id);
    if (!existing.ok()) return existing.status();
    if (!existing->has_value() || (*existing)->agency_id != agency_id) {
      return absl::NotFoundError(
          absl::StrCat("agency ", agency_id, " has no key ", key_id, " in the directory"));
    }
    safeshare::v1::PublicKey k = (*existing)->key;
    if (k.revoked()) return k;
    auto u = Run(write_, "UPDATE agency_keys SET revoked_us = $1, current = 0 WHERE key_id = $2",
                 {P(ToMicros(now)), P(key_id)}, "revoke key");
    if (!u.ok()) return u.status();
    k.set_revoked(true);
    k.set_current(false);
    return k;
  });
}

// ---- Audit log ----

absl::StatusOr<uint64_t> PostgresStore::AppendAuditTx(safeshare::v1::AuditRecord record,
                                                      std::string* hashed_bytes) {
  const uint64_t index = frontier_.size();
  record.set_sequence(index);
  if (!record.has_time()) *record.mutable_time() = store_rows::Ts(ToMicros(absl::Now()));
  const std::string bytes = store_rows::SerializeRecord(record);
  const std::string leaf = transparency::LeafHash(bytes);
  auto r = Run(write_,
               "INSERT INTO audit_log (seq, record, leaf_hash, time_us, event, message_id, kind, "
               "sender, recipient, sender_area, recipient_area, purpose, decision, "
               "subject_reference, flagged_checks) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
               "$10, $11, $12, $13, $14, $15)",
               {P(index), Bytes(bytes), Bytes(leaf), P(TsMicros(record.time())),
                P(static_cast<int>(record.event())), P(record.message_id()),
                P(static_cast<int>(record.kind())), P(record.sender_agency_id()),
                P(record.recipient_agency_id()), P(record.sender_area_id()),
                P(record.recipient_area_id()),
                P(static_cast<int>(record.declaration().purpose())),
                P(static_cast<int>(record.decision().decision())),
                P(record.declaration().subject_reference()),
                P(store_rows::FlaggedChecks(record))},
               "append audit record");
  if (!r.ok()) return r.status();
  if (hashed_bytes != nullptr) *hashed_bytes = bytes;
  auto completed = frontier_.Append(leaf);
  if (!completed.ok()) return completed.status();
  for (const auto& node : *completed) {
    if (node.level == 0) continue;  // the leaf row holds it
    auto n = Run(write_, "INSERT INTO audit_nodes (level, idx, hash) VALUES ($1, $2, $3)",
                 {P(node.level), P(node.index), Bytes(node.hash)}, "store tree node");
    if (!n.ok()) return n.status();
  }
  return index;
}

void PostgresStore::SetCheckpointSigner(CheckpointSigner signer) {
  absl::MutexLock lock(&mu_);
  signer_ = std::move(signer);
}

// One index lookup; the whole-log count that also proves there are no gaps
// runs once, at open.
absl::StatusOr<uint64_t> PostgresStore::ReadTreeSize() {
  if (auto st = Ready(read_); !st.ok()) return st;
  auto r = Run(read_, "SELECT COALESCE(MAX(seq) + 1, 0)::int8 FROM audit_log", {},
               "read the log size");
  if (!r.ok()) return r.status();
  return static_cast<uint64_t>(r->row(0).Int(0));
}

absl::StatusOr<CommitInfo> PostgresStore::LatestCheckpoint() {
  absl::MutexLock lock(&read_mu_);
  if (auto st = Ready(read_); !st.ok()) return st;
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
  if (auto st = Ready(read_); !st.ok()) return st;
  auto r = Run(read_, "SELECT note FROM audit_checkpoints ORDER BY tree_size", {},
               "read checkpoints");
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
    return absl::OutOfRangeError(
        absl::StrCat("the audit log has ", *size, " records, not ", tree_size));
  }
  Subtrees source(&read_);
  return transparency::InclusionProof(source, leaf_index, tree_size);
}

absl::StatusOr<std::vector<std::string>> PostgresStore::ConsistencyProof(uint64_t first_size,
                                                                         uint64_t second_size) {
  absl::MutexLock lock(&read_mu_);
  auto size = ReadTreeSize();
  if (!size.ok()) return size.status();
  if (second_size > *size) {
    return absl::OutOfRangeError(
        absl::StrCat("the audit log has ", *size, " records, not ", second_size));
  }
  Subtrees source(&read_);
  return transparency::ConsistencyProof(source, first_size, second_size);
}

absl::StatusOr<AuditLeaf> PostgresStore::GetAuditLeaf(uint64_t leaf_index) {
  absl::MutexLock lock(&read_mu_);
  if (auto st = Ready(read_); !st.ok()) return st;
  auto r = Run(read_, "SELECT record, leaf_hash FROM audit_log WHERE seq = $1",
               {P(leaf_index)}, "read audit record");
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return absl::NotFoundError(absl::StrCat("no audit record ", leaf_index));
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
      if (auto st = Ready(read_); !st.ok()) return st;
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

}  // namespace safeshare::gateway
