#ifndef SAFESHARE_GATEWAY_STORE_SQLITE_CONNECTION_H_
#define SAFESHARE_GATEWAY_STORE_SQLITE_CONNECTION_H_

// The SQLite statement wrapper the embedded store's files share: errors as
// statuses, prepared statements (owned or cached), and transactions.

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace safeshare::gateway::sqlite_db {

// Prepared statements kept for a connection's life, by SQL text.
using StatementCache = std::map<std::string, sqlite3_stmt*>;

// Maps an SQLite result to a status an operator can act on. Conditions that
// go away (full disk, read-only file, I/O error, lock contention) are
// UNAVAILABLE so clients retry with the same message id.
absl::Status SqliteError(sqlite3* db, int rc, absl::string_view what);

// A prepared statement kept in `cache` for the connection's life; null if
// it does not prepare.
sqlite3_stmt* Prepared(sqlite3* db, StatementCache& cache, const std::string& sql);

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

// One read transaction for a group of lookups; never left open. Its BEGIN
// and COMMIT are prepared once: every receipt's proof opens one, and parsing
// them each time was a tenth of the completion thread's work.
class ReadTransaction {
 public:
  ReadTransaction(sqlite3* db, StatementCache& cache) : db_(db), cache_(cache) {
    open_ = Run("BEGIN") == SQLITE_DONE;
  }
  ~ReadTransaction() {
    if (open_ && Run("COMMIT") != SQLITE_DONE && !sqlite3_get_autocommit(db_)) Run("ROLLBACK");
  }
  ReadTransaction(const ReadTransaction&) = delete;
  ReadTransaction& operator=(const ReadTransaction&) = delete;

 private:
  int Run(const char* sql);

  sqlite3* db_;
  StatementCache& cache_;
  bool open_;
};

}  // namespace safeshare::gateway::sqlite_db

#endif  // SAFESHARE_GATEWAY_STORE_SQLITE_CONNECTION_H_
