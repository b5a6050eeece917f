// The PostgreSQL store's key directory: the agency_keys SQL under the shared
// key rules (key_rules.h), each change in a transaction of its own that every
// replica hears of.

#include "absl/strings/str_cat.h"
#include "gateway/store/key_rules.h"
#include "gateway/store/postgres/postgres_store.h"
#include "gateway/store/store_rows.h"

namespace safeshare::gateway {

using pg::Bytes;
using pg::Null;
using pg::P;
using pg::Run;
using pg::Script;
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
    return Run(*session_,
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
    return Run(*session_, "UPDATE agency_keys SET current = 1 WHERE key_id = $1", {P(key_id)},
               "publish key")
        .status();
  }

  absl::Status Revoke(const std::string& key_id, absl::Time now) override {
    return Run(*session_, "UPDATE agency_keys SET revoked_us = $1, current = 0 WHERE key_id = $2",
               {P(ToMicros(now)), P(key_id)}, "revoke key")
        .status();
  }

 private:
  PgSession* session_;
};

template <typename Fn>
auto PostgresStore::InKeyTransaction(Fn body) -> decltype(body()) {
  if (auto st = pg::Ready(write_); !st.ok()) return st;
  if (auto st = Script(write_.conn, "BEGIN", "begin transaction"); !st.ok()) return st;
  // The same lock as the write batches: key changes from two replicas take turns.
  auto locked = Run(write_, "SELECT pg_advisory_xact_lock($1)", {P(pg::kWriteLock)}, "lock keys");
  auto result = locked.ok() ? body() : decltype(body())(locked.status());
  if (result.ok()) {
    auto n = Run(write_, "SELECT pg_notify($1, '')", {P(pg::kKeysChannel)}, "notify");
    absl::Status st = n.ok() ? Script(write_.conn, "COMMIT", "commit") : n.status();
    if (!st.ok()) result = st;
  }
  if (!result.ok() && PQstatus(write_.conn) == CONNECTION_OK) {
    (void)Script(write_.conn, "ROLLBACK", "roll back");
  }
  return result;
}

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

absl::Status PostgresStore::SeedKey(const AgencyKey& key, absl::Time now) {
  absl::MutexLock lock(&mu_);
  Keys rows(&write_);
  return InKeyTransaction([&] { return key_rules::Seed(rows, key, now); });
}

absl::StatusOr<safeshare::v1::PublicKey> PostgresStore::PublishKey(const AgencyKey& key,
                                                                   absl::Time now) {
  absl::MutexLock lock(&mu_);
  Keys rows(&write_);
  return InKeyTransaction([&] { return key_rules::Publish(rows, key, now); });
}

absl::StatusOr<safeshare::v1::PublicKey> PostgresStore::RevokeKey(const std::string& agency_id,
                                                                  const std::string& key_id,
                                                                  absl::Time now) {
  absl::MutexLock lock(&mu_);
  Keys rows(&write_);
  return InKeyTransaction([&] { return key_rules::Revoke(rows, agency_id, key_id, now); });
}

}  // namespace safeshare::gateway
