#include "gateway/key_directory.h"

#include "absl/strings/str_cat.h"

namespace safeshare::gateway {

namespace {

absl::Status SeedKeys(KeyStore* store, const FederationDirectory& fed, absl::Time now) {
  for (const auto& agency : fed.federation().agencies()) {
    for (const auto& key : agency.keys()) {
      if (key.public_key().size() != 32 || key.key_id() != envelope::KeyIdOf(key.public_key())) {
        return absl::InvalidArgumentError(
            absl::StrCat("federation file: agency ", agency.id(), " key ", key.key_id(),
                         " is not a 32-byte key whose id matches its bytes"));
      }
      if (auto st = store->SeedKey({agency.id(), key}, now); !st.ok()) return st;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<KeyDirectory>> KeyDirectory::Load(KeyStore* store,
                                                                 const FederationDirectory& fed,
                                                                 absl::Time now) {
  if (auto st = SeedKeys(store, fed, now); !st.ok()) return st;
  std::unique_ptr<KeyDirectory> dir(new KeyDirectory(store));
  absl::MutexLock lock(&dir->write_mu_);
  if (auto st = dir->ReloadLocked(); !st.ok()) return st;
  return dir;
}

absl::Status KeyDirectory::Seed(const FederationDirectory& fed, absl::Time now) {
  absl::MutexLock lock(&write_mu_);
  if (auto st = SeedKeys(store_, fed, now); !st.ok()) return st;
  return ReloadLocked();
}

absl::Status KeyDirectory::Reload() {
  absl::MutexLock lock(&write_mu_);
  return ReloadLocked();
}

void KeyDirectory::SetMaxKeysPerAgency(size_t n) {
  absl::MutexLock lock(&write_mu_);
  max_keys_per_agency_ = n;
}

absl::Status KeyDirectory::ReloadLocked() {
  auto keys = store_->ListKeys();
  if (!keys.ok()) return keys.status();
  auto next = std::make_shared<Snapshot>();
  for (auto& k : *keys) {
    next->ids_by_agency[k.agency_id].push_back(k.key.key_id());
    std::optional<envelope::SigningPublicKey> verifier;
    if (k.key.purpose() == safeshare::v1::KEY_PURPOSE_SIGNING) {
      if (auto decoded = envelope::SigningPublicKey::FromRaw(k.key.public_key()); decoded.ok()) {
        verifier = *std::move(decoded);
      }
    }
    const std::string id = k.key.key_id();
    next->by_id[id] =
        std::make_shared<const DirectoryKey>(DirectoryKey{std::move(k), std::move(verifier)});
  }
  absl::MutexLock lock(&mu_);
  snapshot_ = std::move(next);
  return absl::OkStatus();
}

std::shared_ptr<const KeyDirectory::Snapshot> KeyDirectory::Read() const {
  absl::MutexLock lock(&mu_);
  return snapshot_;
}

std::shared_ptr<const DirectoryKey> KeyDirectory::Find(const std::string& key_id) const {
  const auto keys = Read();
  auto it = keys->by_id.find(key_id);
  if (it == keys->by_id.end()) return nullptr;
  return it->second;
}

std::optional<safeshare::v1::PublicKey> KeyDirectory::Current(
    const std::string& agency_id, safeshare::v1::KeyPurpose purpose) const {
  const auto keys = Read();
  auto it = keys->ids_by_agency.find(agency_id);
  if (it == keys->ids_by_agency.end()) return std::nullopt;
  for (const auto& id : it->second) {
    const auto& k = keys->by_id.at(id)->key;
    if (k.purpose() == purpose && k.current() && !k.revoked()) return k;
  }
  return std::nullopt;
}

std::vector<safeshare::v1::PublicKey> KeyDirectory::KeysOf(const std::string& agency_id) const {
  const auto keys = Read();
  std::vector<safeshare::v1::PublicKey> out;
  auto it = keys->ids_by_agency.find(agency_id);
  if (it == keys->ids_by_agency.end()) return out;
  for (const auto& id : it->second) out.push_back(keys->by_id.at(id)->key);
  return out;
}

absl::StatusOr<safeshare::v1::PublicKey> KeyDirectory::Publish(const std::string& agency_id,
                                                               safeshare::v1::PublicKey key,
                                                               absl::Time now) {
  if (key.purpose() != safeshare::v1::KEY_PURPOSE_SIGNING &&
      key.purpose() != safeshare::v1::KEY_PURPOSE_ENCRYPTION) {
    return absl::InvalidArgumentError("key.purpose must be SIGNING or ENCRYPTION");
  }
  if (key.public_key().size() != 32) {
    return absl::InvalidArgumentError("key.public_key must be a raw 32-byte key");
  }
  if (key.key_id() != envelope::KeyIdOf(key.public_key())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "key.key_id must be ", envelope::KeyIdOf(key.public_key()), " for this public key"));
  }
  absl::MutexLock lock(&write_mu_);
  {
    // Republishing a key the agency has is idempotent, also at the limit.
    const auto keys = Read();
    auto known = keys->by_id.find(key.key_id());
    auto mine = keys->ids_by_agency.find(agency_id);
    const size_t count = mine == keys->ids_by_agency.end() ? 0 : mine->second.size();
    if (known == keys->by_id.end() && count >= max_keys_per_agency_) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "agency ", agency_id, " already has ", count,
          " keys in the directory (limits.max_keys_per_agency); ask the operator to raise the "
          "limit, and rotate keys only as policy requires"));
    }
  }
  auto published = store_->PublishKey({agency_id, key}, now);
  if (!published.ok()) return published.status();
  if (auto st = ReloadLocked(); !st.ok()) return st;
  return published;
}

absl::StatusOr<safeshare::v1::PublicKey> KeyDirectory::Revoke(const std::string& agency_id,
                                                              const std::string& key_id,
                                                              absl::Time now) {
  absl::MutexLock lock(&write_mu_);
  auto revoked = store_->RevokeKey(agency_id, key_id, now);
  if (!revoked.ok()) return revoked.status();
  if (auto st = ReloadLocked(); !st.ok()) return st;
  return revoked;
}

}  // namespace safeshare::gateway
