// Opening the PostgreSQL store: its connections and the schema migrations;
// and closing it.

#include <pthread.h>

#include <utility>

#include "common/log.h"
#include "gateway/store/postgres/migrations.h"
#include "gateway/store/postgres/postgres_store.h"
#include "gateway/store/store_rows.h"

namespace safeshare::gateway {
namespace {

using pg::Connect;
using pg::P;
using pg::PgSession;
using pg::Run;
using pg::Script;
using store_rows::ToMicros;

// Applies the migrations the database lacks, one transaction, under a lock
// so that replicas starting together take turns.
absl::Status Migrate(PgSession& session) {
  PGconn* conn = session.conn;
  if (auto st = Script(conn, "BEGIN", "begin migration"); !st.ok()) return st;
  auto body = [&]() -> absl::Status {
    if (auto r = Run(session, "SELECT pg_advisory_xact_lock($1)", {P(pg::kMigrationLock)},
                     "lock schema");
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
      const EmbeddedMigration& m = kPostgresMigrations[i];
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

}  // namespace

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
    auto r =
        Run(store->read_, "SELECT COUNT(*)::int8, COALESCE(MAX(seq) + 1, 0)::int8 FROM audit_log",
            {}, "count audit log");
    if (!r.ok()) return r.status();
    if (r->row(0).Int(0) != r->row(0).Int(1)) {
      return absl::DataLossError(absl::StrCat("store: the audit log has gaps (", r->row(0).Int(0),
                                              " records, highest ", r->row(0).Int(1) - 1,
                                              "); run `safeshare audit verify` on an export"));
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

}  // namespace safeshare::gateway
