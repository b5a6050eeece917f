#include "gateway/store/key_rules.h"

#include "absl/strings/str_cat.h"
#include "gateway/store/store_rows.h"

namespace safeshare::gateway::key_rules {

absl::StatusOr<SeedResult> Seed(KeyRows& rows, const AgencyKey& key, absl::Time now) {
  auto existing = rows.Load(key.key.key_id());
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) {
    // The federation file may revoke a stored key; it never un-revokes one.
    if (key.key.revoked() && !(*existing)->key.revoked()) {
      if (auto st = rows.Revoke(key.key.key_id(), now); !st.ok()) return st;
      SeedResult r{SeedOutcome::kRevoked, (*existing)->key};
      r.key.set_revoked(true);
      r.key.set_current(false);
      return r;
    }
    return SeedResult{SeedOutcome::kUnchanged, (*existing)->key};
  }
  AgencyKey k = key;
  if (k.key.current()) {
    auto has_current = rows.HasCurrent(k.agency_id, k.key.purpose());
    if (!has_current.ok()) return has_current.status();
    if (*has_current) k.key.set_current(false);
  }
  if (k.key.revoked()) k.key.set_current(false);
  if (auto st = rows.Insert(k); !st.ok()) return st;
  return SeedResult{SeedOutcome::kInserted, k.key};
}

absl::StatusOr<safeshare::v1::PublicKey> Publish(KeyRows& rows, const AgencyKey& key,
                                                 absl::Time now) {
  auto existing = rows.Load(key.key.key_id());
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) {
    const AgencyKey& e = **existing;
    if (e.agency_id != key.agency_id || e.key.revoked()) {
      return absl::AlreadyExistsError(absl::StrCat(
          "key ", key.key.key_id(), " is already in the directory and cannot be republished"));
    }
    if (e.key.current()) return e.key;  // idempotent
  }
  if (auto st = rows.DemoteCurrent(key.agency_id, key.key.purpose()); !st.ok()) return st;
  if (existing->has_value()) {
    if (auto st = rows.MakeCurrent(key.key.key_id()); !st.ok()) return st;
    safeshare::v1::PublicKey k = (*existing)->key;
    k.set_current(true);
    return k;
  }
  AgencyKey k = key;
  k.key.set_current(true);
  k.key.set_revoked(false);
  // The validity the agency signed; a key without one starts now.
  if (!k.key.has_not_before())
    *k.key.mutable_not_before() = store_rows::Ts(store_rows::ToMicros(now));
  if (auto st = rows.Insert(k); !st.ok()) return st;
  return k.key;
}

absl::StatusOr<safeshare::v1::PublicKey> Revoke(KeyRows& rows, const std::string& agency_id,
                                                const std::string& key_id, absl::Time now) {
  auto existing = rows.Load(key_id);
  if (!existing.ok()) return existing.status();
  // Another agency's key is answered like an absent one.
  if (!existing->has_value() || (*existing)->agency_id != agency_id) {
    return absl::NotFoundError(
        absl::StrCat("agency ", agency_id, " has no key ", key_id, " in the directory"));
  }
  safeshare::v1::PublicKey k = (*existing)->key;
  if (k.revoked()) return k;  // final: revoking again changes nothing
  if (auto st = rows.Revoke(key_id, now); !st.ok()) return st;
  k.set_revoked(true);
  k.set_current(false);
  return k;
}

}  // namespace safeshare::gateway::key_rules
