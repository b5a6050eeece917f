#include "gateway/store/postgres/connection.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace safeshare::gateway::pg {

absl::Status PgError(PGconn* conn, const PGresult* r, absl::string_view what) {
  std::string detail(r != nullptr ? PQresultErrorMessage(r) : PQerrorMessage(conn));
  detail = std::string(absl::StripAsciiWhitespace(detail));
  const char* state = r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  const std::string sqlstate = state != nullptr ? state : "";
  const bool transient = PQstatus(conn) != CONNECTION_OK || sqlstate.empty() ||
                         absl::StartsWith(sqlstate, "08") || absl::StartsWith(sqlstate, "53") ||
                         absl::StartsWith(sqlstate, "57") || absl::StartsWith(sqlstate, "58") ||
                         absl::StartsWith(sqlstate, "40") || sqlstate == "55P03";
  const std::string message =
      absl::StrCat("store: ", what, " failed: ", detail, sqlstate.empty() ? "" : " (SQLSTATE ",
                   sqlstate, sqlstate.empty() ? "" : ")");
  return transient ? absl::UnavailableError(message) : absl::InternalError(message);
}

namespace {

// The statement's name on the connection, preparing it first if need be
// (synchronously, so after any queued statements: once per connection).
absl::StatusOr<std::string> Prepared(PgSession& session, const std::string& sql, int n_params,
                                     absl::string_view what) {
  auto it = session.prepared.find(sql);
  if (it != session.prepared.end()) return it->second;
  if (absl::Status st = Flush(session); !st.ok()) return st;
  const std::string name = absl::StrCat("s", session.prepared.size());
  PGresult* prep = PQprepare(session.conn, name.c_str(), sql.c_str(), n_params, nullptr);
  const bool ok = prep != nullptr && PQresultStatus(prep) == PGRES_COMMAND_OK;
  absl::Status st = ok ? absl::OkStatus() : PgError(session.conn, prep, what);
  PQclear(prep);
  if (!st.ok()) return st;
  session.prepared.emplace(sql, name);
  return name;
}

// libpq's parameter arrays, pointing into `params`.
struct ParamArrays {
  explicit ParamArrays(const std::vector<Param>& params)
      : values(params.size()), lengths(params.size()), formats(params.size()) {
    for (size_t i = 0; i < params.size(); ++i) {
      values[i] = params[i].null ? nullptr : params[i].value.data();
      lengths[i] = static_cast<int>(params[i].value.size());
      formats[i] = params[i].binary ? 1 : 0;
    }
  }
  std::vector<const char*> values;
  std::vector<int> lengths, formats;
};

bool SendPrepared(PGconn* conn, const std::string& name, const std::vector<Param>& params) {
  const ParamArrays a(params);
  return PQsendQueryPrepared(conn, name.c_str(), static_cast<int>(params.size()), a.values.data(),
                             a.lengths.data(), a.formats.data(), /*resultFormat=*/1) == 1;
}

// Ends the pipeline: reads every queued statement's results and the sync.
// With `last` set, the last queued statement's result is handed back there.
absl::Status EndPipeline(PgSession& session, PGresult** last) {
  PGconn* conn = session.conn;
  const size_t n = session.queued.size();
  absl::Status first_error;
  const bool synced = PQpipelineSync(conn) == 1;
  if (!synced) first_error = PgError(conn, nullptr, "send the batch");
  // Each statement's results end with a null; then the sync's own result.
  size_t i = 0;
  while (synced) {
    PGresult* r = PQgetResult(conn);
    if (r == nullptr) {
      if (++i > n || PQstatus(conn) != CONNECTION_OK) break;  // no sync will come
      continue;
    }
    const ExecStatusType status = PQresultStatus(r);
    if (status == PGRES_PIPELINE_SYNC) {
      PQclear(r);
      break;
    }
    // PGRES_PIPELINE_ABORTED: skipped after an earlier error, which is the one to report.
    const bool failed =
        status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && status != PGRES_PIPELINE_ABORTED;
    if (failed && first_error.ok()) {
      first_error = PgError(conn, r, i < n ? session.queued[i] : "batch");
    }
    if (last != nullptr && i + 1 == n && !failed && status != PGRES_PIPELINE_ABORTED &&
        *last == nullptr) {
      *last = r;
    } else {
      PQclear(r);
    }
  }
  session.queued.clear();
  if (PQexitPipelineMode(conn) != 1) {
    // Results still pending (a broken connection): start a clean session.
    if (first_error.ok()) first_error = PgError(conn, nullptr, "end the batch's pipeline");
    session.prepared.clear();
    PQreset(conn);
  }
  return first_error;
}

}  // namespace

absl::Status Queue(PgSession& session, const std::string& sql, const std::vector<Param>& params,
                   absl::string_view what) {
  auto name = Prepared(session, sql, static_cast<int>(params.size()), what);
  if (!name.ok()) return name.status();
  PGconn* conn = session.conn;
  if (PQpipelineStatus(conn) == PQ_PIPELINE_OFF && PQenterPipelineMode(conn) != 1) {
    return PgError(conn, nullptr, what);
  }
  if (!SendPrepared(conn, *name, params)) {
    absl::Status st = PgError(conn, nullptr, what);
    (void)Flush(session);
    return st;
  }
  session.queued.emplace_back(what);
  return absl::OkStatus();
}

absl::Status Flush(PgSession& session) {
  if (session.queued.empty() && PQpipelineStatus(session.conn) == PQ_PIPELINE_OFF) {
    return absl::OkStatus();
  }
  return EndPipeline(session, nullptr);
}

absl::StatusOr<Result> Run(PgSession& session, const std::string& sql,
                           const std::vector<Param>& params, absl::string_view what) {
  PGconn* conn = session.conn;
  auto name = Prepared(session, sql, static_cast<int>(params.size()), what);
  if (!name.ok()) return name.status();
  if (!session.queued.empty()) {
    // After the queued statements, in the same round trip.
    if (!SendPrepared(conn, *name, params)) {
      absl::Status st = PgError(conn, nullptr, what);
      (void)Flush(session);
      return st;
    }
    session.queued.emplace_back(what);
    PGresult* last = nullptr;
    if (absl::Status st = EndPipeline(session, &last); !st.ok()) {
      PQclear(last);
      return st;
    }
    if (last == nullptr) return PgError(conn, nullptr, what);
    return Result(last);
  }
  const ParamArrays a(params);
  PGresult* raw = PQexecPrepared(conn, name->c_str(), static_cast<int>(params.size()),
                                 a.values.data(), a.lengths.data(), a.formats.data(),
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
    absl::Status st = absl::UnavailableError(absl::StrCat(
        "store: cannot connect to PostgreSQL: ", absl::StripAsciiWhitespace(PQerrorMessage(conn))));
    PQfinish(conn);
    return st;
  }
  return conn;
}

absl::Status Ready(PgSession& session) {
  PGconn* conn = session.conn;
  if (PQstatus(conn) == CONNECTION_OK) return absl::OkStatus();
  session.prepared.clear();  // a new session has none
  session.queued.clear();
  PQreset(conn);
  if (PQstatus(conn) == CONNECTION_OK) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat("store: PostgreSQL is unreachable: ",
                                             absl::StripAsciiWhitespace(PQerrorMessage(conn))));
}

}  // namespace safeshare::gateway::pg
