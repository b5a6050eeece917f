// The PostgreSQL store's key directory: the agency_keys and key_events SQL
// under the shared key rules (key_rules.h), run inside a batch's transaction
// so each change commits with its key event; every replica hears of it.

#include "absl/strings/str_cat.h"
#include "gateway/store/key_rules.h"
#include "gateway/store/postgres/postgres_store.h"
#include "gateway/store/store_rows.h"

namespace safeshare::gateway {

using pg::Bytes;
using pg::Null;
using pg::P;
using pg::Run;
using store_rows::ToMicros;
using store_rows::TsMicros;

// The rows on the write connection; the store's mu_ is held throughout.
class PostgresStore::Keys final : public KeyRows {
 public:
  explicit Keys(PgSession* session) : session_(session) {}

  absl::StatusOr<std::optional<AgencyKey>> Load(const std::string& key_id) override {
    static const std::string sql =
        absl::StrCat("SELECT ", store_rows::kKeyColumns, " FROM agency_keys WHERE key_id = $1");
    auto r = Run(*session_, sql.c_str(), {P(key_id)}, "load key");
    if (!r.ok()) return r.status();
    if (r->rows() == 0) return std::optional<AgencyKey>();
    return std::optional<AgencyKey>(store_rows::ReadKeyRow(r->row(0)));
  }

  absl::Status Insert(const AgencyKey& k) override {
    absl::Status st =
        Run(*session_,
            "INSERT INTO agency_keys (key_id, agency_id, purpose, public_key, not_before_us, "
            "not_after_us, current, revoked_us) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            {P(k.key.key_id()), P(k.agency_id), P(static_cast<int>(k.key.purpose())),
             Bytes(k.key.public_key()), P(TsMicros(k.key.not_before())),
             k.key.has_not_after() ? P(TsMicros(k.key.not_after())) : Null(),
             P(k.key.current() ? 1 : 0),
             k.key.revoked() ? P(TsMicros(k.key.not_before())) : Null()},
            "insert key")
            .status();
    return st.ok() ? Notify() : st;
  }

  absl::StatusOr<bool> HasCurrent(const std::string& agency_id,
                                  safeshare::v1::KeyPurpose purpose) override {
    auto c = Run(*session_,
                 "SELECT COUNT(*)::int8 FROM agency_keys WHERE agency_id = $1 AND purpose = $2 "
                 "AND current = 1",
                 {P(agency_id), P(static_cast<int>(purpose))}, "seed key");
    if (!c.ok()) return c.status();
    return c->row(0).Int(0) > 0;
  }

  absl::Status DemoteCurrent(const std::string& agency_id,
                             safeshare::v1::KeyPurpose purpose) override {
    return Run(*session_,
               "UPDATE agency_keys SET current = 0 WHERE agency_id = $1 AND purpose = $2",
               {P(agency_id), P(static_cast<int>(purpose))}, "demote key")
        .status();
  }

  absl::Status MakeCurrent(const std::string& key_id) override {
    absl::Status st = Run(*session_, "UPDATE agency_keys SET current = 1 WHERE key_id = $1",
                          {P(key_id)}, "publish key")
                          .status();
    return st.ok() ? Notify() : st;
  }

  absl::Status Revoke(const std::string& key_id, absl::Time now) override {
    absl::Status st =
        Run(*session_, "UPDATE agency_keys SET revoked_us = $1, current = 0 WHERE key_id = $2",
            {P(ToMicros(now)), P(key_id)}, "revoke key")
            .status();
    return st.ok() ? Notify() : st;
  }

  absl::StatusOr<std::optional<uint64_t>> LastEvent(const std::string& agency_id) override {
    auto r = Run(*session_, "SELECT max(leaf_index) FROM key_events WHERE agency_id = $1",
                 {P(agency_id)}, "read key events");
    if (!r.ok()) return r.status();
    if (r->rows() == 0 || r->row(0).IsNull(0)) return std::optional<uint64_t>();
    return std::optional<uint64_t>(static_cast<uint64_t>(r->row(0).Int(0)));
  }

  absl::Status AddEvent(const KeyEventRow& e) override {
    auto r = Run(
        *session_, "INSERT INTO key_events (leaf_index, agency_id, key_id) VALUES ($1, $2, $3)",
        {P(static_cast<int64_t>(e.leaf_index)), P(e.agency_id), P(e.key_id)}, "record key event");
    return r.status();
  }

 private:
  // Delivered at commit (once per transaction): every replica reads the keys
  // again.
  absl::Status Notify() {
    return Run(*session_, "SELECT pg_notify($1, '')", {P(pg::kKeysChannel)}, "notify").status();
  }

  PgSession* session_;
};

absl::StatusOr<std::vector<AgencyKey>> PostgresStore::ListKeys() {
  absl::MutexLock lock(&read_mu_);
  if (auto st = pg::Ready(read_); !st.ok()) return st;
  static const std::string sql =
      absl::StrCat("SELECT ", store_rows::kKeyColumns, " FROM agency_keys ORDER BY seq");
  auto r = Run(read_, sql.c_str(), {}, "list keys");
  if (!r.ok()) return r.status();
  std::vector<AgencyKey> out;
  for (int i = 0; i < r->rows(); ++i) out.push_back(store_rows::ReadKeyRow(r->row(i)));
  return out;
}

absl::StatusOr<std::vector<KeyEventRow>> PostgresStore::ListKeyEvents() {
  absl::MutexLock lock(&read_mu_);
  if (auto st = pg::Ready(read_); !st.ok()) return st;
  auto r = Run(read_, "SELECT leaf_index, agency_id, key_id FROM key_events ORDER BY leaf_index",
               {}, "list key events");
  if (!r.ok()) return r.status();
  std::vector<KeyEventRow> out;
  for (int i = 0; i < r->rows(); ++i) {
    out.push_back({static_cast<uint64_t>(r->row(i).Int(0)), r->row(i).Text(1), r->row(i).Text(2)});
  }
  return out;
}

std::unique_ptr<KeyRows> PostgresStore::KeyRowsLocked() { return std::make_unique<Keys>(&write_); }

}  // namespace safeshare::gateway
