#include "gateway/store/sqlite/connection.h"

#include "absl/strings/str_cat.h"

namespace safeshare::gateway::sqlite_db {

absl::Status SqliteError(sqlite3* db, int rc, absl::string_view what) {
  (void)db;
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

sqlite3_stmt* Prepared(sqlite3* db, StatementCache& cache, const std::string& sql) {
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

int ReadTransaction::Run(const char* sql) {
  sqlite3_stmt* stmt = Prepared(db_, cache_, sql);
  if (stmt == nullptr) return sqlite3_errcode(db_);
  const int rc = sqlite3_step(stmt);
  sqlite3_reset(stmt);
  return rc;
}

}  // namespace safeshare::gateway::sqlite_db
