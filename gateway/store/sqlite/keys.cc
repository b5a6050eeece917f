// The embedded store's key directory: the agency_keys and key_events SQL
// under the shared key rules (key_rules.h), run inside a batch's transaction
// so each change commits with its key event.

#include <sqlite3.h>

#include "absl/strings/str_cat.h"
#include "gateway/store/key_rules.h"
#include "gateway/store/sqlite/connection.h"
#include "gateway/store/sqlite/sqlite_store.h"
#include "gateway/store/store_rows.h"

namespace safeshare::gateway {

using sqlite_db::InTransaction;
using sqlite_db::SqliteError;
using sqlite_db::Statement;
using store_rows::ToMicros;
using store_rows::TsMicros;

// The rows on the write connection; the store's mu_ is held throughout.
class SqliteStore::Keys final : public KeyRows {
 public:
  explicit Keys(sqlite3* db) : db_(db) {}

  absl::StatusOr<std::optional<AgencyKey>> Load(const std::string& key_id) override {
    std::string sql =
        absl::StrCat("SELECT ", store_rows::kKeyColumns, " FROM agency_keys WHERE key_id = ?");
    Statement s(db_, sql.c_str());
    if (auto st = s.status("load key"); !st.ok()) return st;
    s.Bind(1, key_id);
    int rc = s.Step();
    if (rc == SQLITE_DONE) return std::optional<AgencyKey>();
    if (rc != SQLITE_ROW) return SqliteError(db_, rc, "load key");
    return std::optional<AgencyKey>(store_rows::ReadKeyRow(s));
  }

  absl::Status Insert(const AgencyKey& k) override {
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

  absl::StatusOr<bool> HasCurrent(const std::string& agency_id,
                                  safeshare::v1::KeyPurpose purpose) override {
    Statement c(db_,
                "SELECT COUNT(*) FROM agency_keys WHERE agency_id = ? AND purpose = ? "
                "AND current = 1");
    if (auto st = c.status("seed key"); !st.ok()) return st;
    c.Bind(1, agency_id);
    c.Bind(2, static_cast<int64_t>(purpose));
    if (c.Step() != SQLITE_ROW) return SqliteError(db_, SQLITE_ERROR, "seed key");
    return c.Int(0) > 0;
  }

  absl::Status DemoteCurrent(const std::string& agency_id,
                             safeshare::v1::KeyPurpose purpose) override {
    Statement u(db_, "UPDATE agency_keys SET current = 0 WHERE agency_id = ? AND purpose = ?");
    if (auto st = u.status("demote key"); !st.ok()) return st;
    u.Bind(1, agency_id);
    u.Bind(2, static_cast<int64_t>(purpose));
    int rc = u.Step();
    return rc == SQLITE_DONE ? absl::OkStatus() : SqliteError(db_, rc, "demote key");
  }

  absl::Status MakeCurrent(const std::string& key_id) override {
    Statement u(db_, "UPDATE agency_keys SET current = 1 WHERE key_id = ?");
    if (auto st = u.status("publish key"); !st.ok()) return st;
    u.Bind(1, key_id);
    int rc = u.Step();
    return rc == SQLITE_DONE ? absl::OkStatus() : SqliteError(db_, rc, "publish key");
  }

  absl::Status Revoke(const std::string& key_id, absl::Time now) override {
    Statement u(db_, "UPDATE agency_keys SET revoked_us = ?, current = 0 WHERE key_id = ?");
    if (auto st = u.status("revoke key"); !st.ok()) return st;
    u.Bind(1, ToMicros(now));
    u.Bind(2, key_id);
    int rc = u.Step();
    return rc == SQLITE_DONE ? absl::OkStatus() : SqliteError(db_, rc, "revoke key");
  }

  absl::StatusOr<std::optional<uint64_t>> LastEvent(const std::string& agency_id) override {
    Statement s(db_, "SELECT max(leaf_index) FROM key_events WHERE agency_id = ?");
    if (auto st = s.status("read key events"); !st.ok()) return st;
    s.Bind(1, agency_id);
    if (s.Step() != SQLITE_ROW) return SqliteError(db_, SQLITE_ERROR, "read key events");
    if (s.IsNull(0)) return std::optional<uint64_t>();
    return std::optional<uint64_t>(static_cast<uint64_t>(s.Int(0)));
  }

  absl::Status AddEvent(const KeyEventRow& e) override {
    Statement s(db_, "INSERT INTO key_events (leaf_index, agency_id, key_id) VALUES (?, ?, ?)");
    if (auto st = s.status("record key event"); !st.ok()) return st;
    s.Bind(1, static_cast<int64_t>(e.leaf_index));
    s.Bind(2, e.agency_id);
    s.Bind(3, e.key_id);
    int rc = s.Step();
    return rc == SQLITE_DONE ? absl::OkStatus() : SqliteError(db_, rc, "record key event");
  }

 private:
  sqlite3* db_;
};

absl::StatusOr<std::vector<AgencyKey>> SqliteStore::ListKeys() {
  absl::MutexLock lock(&mu_);
  std::string sql =
      absl::StrCat("SELECT ", store_rows::kKeyColumns, " FROM agency_keys ORDER BY seq");
  Statement s(db_, sql.c_str());
  if (auto st = s.status("list keys"); !st.ok()) return st;
  std::vector<AgencyKey> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(store_rows::ReadKeyRow(s));
  if (rc != SQLITE_DONE) return SqliteError(db_, rc, "list keys");
  return out;
}

absl::StatusOr<std::vector<KeyEventRow>> SqliteStore::ListKeyEvents() {
  absl::MutexLock lock(&mu_);
  Statement s(db_, "SELECT leaf_index, agency_id, key_id FROM key_events ORDER BY leaf_index");
  if (auto st = s.status("list key events"); !st.ok()) return st;
  std::vector<KeyEventRow> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    out.push_back({static_cast<uint64_t>(s.Int(0)), s.Text(1), s.Text(2)});
  }
  if (rc != SQLITE_DONE) return SqliteError(db_, rc, "list key events");
  return out;
}

std::unique_ptr<KeyRows> SqliteStore::KeyRowsLocked() { return std::make_unique<Keys>(db_); }

}  // namespace safeshare::gateway
