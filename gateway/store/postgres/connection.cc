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

absl::StatusOr<Result> Run(PgSession& session, const std::string& sql,
                           const std::vector<Param>& params, absl::string_view what) {
  PGconn* conn = session.conn;
  auto it = session.prepared.find(sql);
  if (it == session.prepared.end()) {
    const std::string name = absl::StrCat("s", session.prepared.size());
    PGresult* prep =
        PQprepare(conn, name.c_str(), sql.c_str(), static_cast<int>(params.size()), nullptr);
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
  PQreset(conn);
  if (PQstatus(conn) == CONNECTION_OK) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat("store: PostgreSQL is unreachable: ",
                                             absl::StripAsciiWhitespace(PQerrorMessage(conn))));
}

}  // namespace safeshare::gateway::pg
