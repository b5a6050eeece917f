// SqliteStore's witnessing tables: cosigned checkpoints and the logs this
// gateway witnesses. Writes take the write connection between batches.
#include <sqlite3.h>

#include "gateway/store/sqlite/connection.h"
#include "gateway/store/sqlite/sqlite_store.h"
#include "gateway/store/store_rows.h"

namespace safeshare::gateway {

using sqlite_db::SqliteError;
using sqlite_db::Statement;
using store_rows::ToMicros;

absl::Status SqliteStore::StoreCosignedCheckpoint(uint64_t tree_size, const std::string& note,
                                                  int cosignatures) {
  absl::MutexLock lock(&mu_);
  Statement s(db_,
              "INSERT INTO cosigned_checkpoints (tree_size, note, cosignatures, time_us) "
              "SELECT tree_size, ?, ?, ? FROM audit_checkpoints WHERE tree_size = ? "
              "ON CONFLICT (tree_size) DO UPDATE SET note = excluded.note, "
              "cosignatures = excluded.cosignatures, time_us = excluded.time_us");
  if (auto st = s.status("store cosignatures"); !st.ok()) return st;
  s.Bind(1, note);
  s.Bind(2, static_cast<int64_t>(cosignatures));
  s.Bind(3, ToMicros(absl::Now()));
  s.Bind(4, static_cast<int64_t>(tree_size));
  if (int rc = s.Step(); rc != SQLITE_DONE) return SqliteError(db_, rc, "store cosignatures");
  if (sqlite3_changes(db_) == 0) {
    return absl::NotFoundError("no checkpoint of that size is stored");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<CommitInfo>> SqliteStore::LatestCosignedCheckpoint() {
  absl::MutexLock lock(&read_mu_);
  Statement s(read_db_,
              "SELECT c.tree_size, a.root_hash, c.note FROM cosigned_checkpoints c "
              "JOIN audit_checkpoints a USING (tree_size) ORDER BY c.tree_size DESC LIMIT 1");
  if (auto st = s.status("read cosigned checkpoint"); !st.ok()) return st;
  int rc = s.Step();
  if (rc == SQLITE_DONE) return std::optional<CommitInfo>();
  if (rc != SQLITE_ROW) return SqliteError(read_db_, rc, "read cosigned checkpoint");
  CommitInfo info;
  info.tree_size = static_cast<uint64_t>(s.Int(0));
  info.root_hash = s.Text(1);
  info.checkpoint_note = s.Text(2);
  return std::optional<CommitInfo>(std::move(info));
}

absl::StatusOr<WitnessedLog> SqliteStore::GetWitnessedLog(const std::string& origin) {
  absl::MutexLock lock(&read_mu_);
  Statement s(read_db_, "SELECT tree_size, root_hash FROM witnessed_logs WHERE origin = ?");
  if (auto st = s.status("read witnessed log"); !st.ok()) return st;
  s.Bind(1, origin);
  WitnessedLog out;
  int rc = s.Step();
  if (rc == SQLITE_DONE) return out;
  if (rc != SQLITE_ROW) return SqliteError(read_db_, rc, "read witnessed log");
  out.tree_size = static_cast<uint64_t>(s.Int(0));
  out.root_hash = s.Text(1);
  return out;
}

absl::Status SqliteStore::UpdateWitnessedLog(const std::string& origin, const WitnessedLog& before,
                                             const WitnessedLog& after) {
  absl::MutexLock lock(&mu_);
  // Compare and set: the row must still say `before` (absent when never
  // cosigned), so a concurrent cosignature is never overwritten.
  Statement s(db_, before.root_hash.empty()
                       ? "INSERT INTO witnessed_logs (tree_size, root_hash, time_us, origin) "
                         "VALUES (?, ?, ?, ?) ON CONFLICT (origin) DO NOTHING"
                       : "UPDATE witnessed_logs SET tree_size = ?, root_hash = ?, time_us = ? "
                         "WHERE origin = ? AND tree_size = ? AND root_hash = ?");
  if (auto st = s.status("store witnessed log"); !st.ok()) return st;
  s.Bind(1, static_cast<int64_t>(after.tree_size));
  s.BindBlob(2, after.root_hash);
  s.Bind(3, ToMicros(absl::Now()));
  s.Bind(4, origin);
  if (!before.root_hash.empty()) {
    s.Bind(5, static_cast<int64_t>(before.tree_size));
    s.BindBlob(6, before.root_hash);
  }
  if (int rc = s.Step(); rc != SQLITE_DONE) return SqliteError(db_, rc, "store witnessed log");
  if (sqlite3_changes(db_) == 0) {
    return absl::AbortedError("the witnessed state changed meanwhile; retry");
  }
  return absl::OkStatus();
}

}  // namespace safeshare::gateway
