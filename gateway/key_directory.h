#ifndef SAFESHARE_GATEWAY_KEY_DIRECTORY_H_
#define SAFESHARE_GATEWAY_KEY_DIRECTORY_H_

// Agencies' public keys: seeded from the federation file, published and
// revoked through the Directory service, persisted in the store, served from
// memory. The gateway holds public keys only.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "envelope/keys.h"
#include "gateway/federation_directory.h"
#include "gateway/store/store.h"

namespace safeshare::gateway {

// A directory key, decoded once when it is a signing key. Shared: a lookup on
// the Submit path hands out a reference, not a copy of the key.
struct DirectoryKey : AgencyKey {
  std::optional<envelope::SigningPublicKey> verifier;  // unset: not a usable signing key
};

class KeyDirectory {
 public:
  // Seeds the store with the federation file's keys and loads every key.
  static absl::StatusOr<std::unique_ptr<KeyDirectory>> Load(KeyStore* store,
                                                            const FederationDirectory& fed,
                                                            absl::Time now);

  // Null if no key has this id.
  std::shared_ptr<const DirectoryKey> Find(const std::string& key_id) const;
  std::optional<safeshare::v1::PublicKey> Current(const std::string& agency_id,
                                                  safeshare::v1::KeyPurpose purpose) const;
  std::vector<safeshare::v1::PublicKey> KeysOf(const std::string& agency_id) const;

  // Keys an agency may have (current, old and revoked) before Publish refuses
  // with RESOURCE_EXHAUSTED; default 64 (limits.max_keys_per_agency).
  void SetMaxKeysPerAgency(size_t n);

  // Validates and publishes `key` for `agency_id` (see KeyStore::PublishKey).
  absl::StatusOr<safeshare::v1::PublicKey> Publish(const std::string& agency_id,
                                                   safeshare::v1::PublicKey key, absl::Time now);
  // Reads every key again (another replica published or revoked one).
  absl::Status Reload();
  // Seeds the keys of a reloaded federation file (an agency added on SIGHUP)
  // and reads every key again.
  absl::Status Seed(const FederationDirectory& fed, absl::Time now);

  absl::StatusOr<safeshare::v1::PublicKey> Revoke(const std::string& agency_id,
                                                  const std::string& key_id, absl::Time now);

 private:
  // Every key, indexed; never changed once built, so lookups share it.
  struct Snapshot {
    std::map<std::string, std::shared_ptr<const DirectoryKey>> by_id;
    std::map<std::string, std::vector<std::string>> ids_by_agency;
  };
  explicit KeyDirectory(KeyStore* store) : store_(store), snapshot_(new Snapshot) {}
  std::shared_ptr<const Snapshot> Read() const;
  // Reads every key and swaps the snapshot in; the lookups' lock is held
  // only for the swap, never across the store read.
  absl::Status ReloadLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);

  KeyStore* store_;
  absl::Mutex write_mu_;  // one publish, revoke or reload at a time
  size_t max_keys_per_agency_ ABSL_GUARDED_BY(write_mu_) = 64;
  mutable absl::Mutex mu_;
  std::shared_ptr<const Snapshot> snapshot_ ABSL_GUARDED_BY(mu_);
};

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_KEY_DIRECTORY_H_
