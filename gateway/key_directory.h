#ifndef SAFESHARE_GATEWAY_KEY_DIRECTORY_H_
#define SAFESHARE_GATEWAY_KEY_DIRECTORY_H_

// Agencies' public keys under key transparency: every change is a key event
// in the audit log, committed in the same transaction as the change —
// registered from the federation file (onboarding), published and revoked
// only on a statement signed by the agency's current signing key. Keys are
// served from memory with each agency's key events and their proofs. The
// gateway holds public keys only.

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

// A key change made: the key as it now stands and its key event's leaf.
struct KeyChange {
  safeshare::v1::PublicKey key;
  uint64_t event_index = 0;
};

// An agency's keys and its key events with their proofs, from one snapshot.
struct AgencyKeys {
  std::vector<safeshare::v1::PublicKey> keys;
  safeshare::v1::KeyHistory history;
};

class KeyDirectory {
 public:
  // Registers the federation file's new keys (KEY_REGISTERED; a key the file
  // marks revoked, KEY_REVOKED) and loads every key. On a store whose keys
  // predate key transparency (keys but no key events), first registers every
  // stored key, as it stands, in the log.
  static absl::StatusOr<std::unique_ptr<KeyDirectory>> Load(Store* store,
                                                            const FederationDirectory& fed,
                                                            absl::Time now);

  // Null if no key has this id.
  std::shared_ptr<const DirectoryKey> Find(const std::string& key_id) const;
  std::optional<safeshare::v1::PublicKey> Current(const std::string& agency_id,
                                                  safeshare::v1::KeyPurpose purpose) const;
  std::vector<safeshare::v1::PublicKey> KeysOf(const std::string& agency_id) const;
  // The agency's keys with every key event under the latest checkpoint and
  // their inclusion proofs; with a consistency proof from `known_tree_size`
  // when it is set and smaller than the checkpoint's.
  absl::StatusOr<AgencyKeys> WithHistory(const std::string& agency_id,
                                         uint64_t known_tree_size) const;

  // Keys an agency may have (current, old and revoked) before Publish refuses
  // with RESOURCE_EXHAUSTED; default 64 (limits.max_keys_per_agency).
  void SetMaxKeysPerAgency(size_t n);

  // Applies `agency_id`'s signed statement (PUBLISH or REVOKE, as `action`
  // says) made by `actor_uri`; the errors Directory.PublishKey documents.
  absl::StatusOr<KeyChange> Apply(const std::string& agency_id, const std::string& actor_uri,
                                  safeshare::v1::KeyStatement::Action action,
                                  const safeshare::v1::SignedKeyStatement& signed_statement,
                                  const FederationDirectory& fed, absl::Time now);
  // Reads every key again (another replica published or revoked one).
  absl::Status Reload();
  // Registers the keys of a reloaded federation file (an agency added on
  // SIGHUP) and reads every key again.
  absl::Status Seed(const FederationDirectory& fed, absl::Time now);

 private:
  // Every key and key event, indexed; never changed once built, so lookups
  // share it.
  struct Snapshot {
    std::map<std::string, std::shared_ptr<const DirectoryKey>> by_id;
    std::map<std::string, std::vector<std::string>> ids_by_agency;
    std::map<std::string, std::vector<uint64_t>> events_by_agency;  // leaf indexes, in order
    std::map<std::string, uint64_t> last_event_by_key;
  };
  explicit KeyDirectory(Store* store) : store_(store), snapshot_(new Snapshot) {}
  std::shared_ptr<const Snapshot> Read() const;
  // Reads every key and swaps the snapshot in; the lookups' lock is held
  // only for the swap, never across the store read.
  absl::Status ReloadLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::Status SeedLocked(const FederationDirectory& fed, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);

  Store* store_;
  absl::Mutex write_mu_;  // one change or reload at a time
  size_t max_keys_per_agency_ ABSL_GUARDED_BY(write_mu_) = 64;
  mutable absl::Mutex mu_;
  std::shared_ptr<const Snapshot> snapshot_ ABSL_GUARDED_BY(mu_);
};

// GetAgency's answer for one of this federation's agencies: the agency with
// its keys and their key events under one snapshot, federation_id set.
absl::Status AgencyWithKeys(const safeshare::v1::Agency& agency, const KeyDirectory& keys,
                            const std::string& federation_id, uint64_t known_tree_size,
                            safeshare::v1::GetAgencyResponse* out);

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_KEY_DIRECTORY_H_
