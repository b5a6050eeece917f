#ifndef SAFESHARE_GATEWAY_STORE_KEY_RULES_H_
#define SAFESHARE_GATEWAY_STORE_KEY_RULES_H_

// The key directory's rules, written once for every back-end: publishing
// demotes the agency's previous current key of that purpose; a key id
// belongs to one agency, which alone may revoke it; revocation is final.
// Their errors are the ones Store documents. A back-end supplies KeyRows
// (its SQL) and runs a rule inside one transaction of its own.

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gateway/store/store.h"

namespace safeshare::gateway {

// The agency_keys rows, inside the caller's transaction.
class KeyRows {
 public:
  virtual ~KeyRows() = default;
  virtual absl::StatusOr<std::optional<AgencyKey>> Load(const std::string& key_id) = 0;
  virtual absl::Status Insert(const AgencyKey& key) = 0;
  virtual absl::StatusOr<bool> HasCurrent(const std::string& agency_id,
                                          safeshare::v1::KeyPurpose purpose) = 0;
  // Clears `current` on every key of the agency and purpose.
  virtual absl::Status DemoteCurrent(const std::string& agency_id,
                                     safeshare::v1::KeyPurpose purpose) = 0;
  virtual absl::Status MakeCurrent(const std::string& key_id) = 0;
  // Marks the key revoked at `now`, and not current.
  virtual absl::Status Revoke(const std::string& key_id, absl::Time now) = 0;
  // The key_events rows (key transparency).
  virtual absl::StatusOr<std::optional<uint64_t>> LastEvent(const std::string& agency_id) = 0;
  virtual absl::Status AddEvent(const KeyEventRow& event) = 0;
};

namespace key_rules {

// StoreTransaction::SeedKey, PublishKey and RevokeKey.
absl::StatusOr<SeedResult> Seed(KeyRows& rows, const AgencyKey& key, absl::Time now);
absl::StatusOr<safeshare::v1::PublicKey> Publish(KeyRows& rows, const AgencyKey& key,
                                                 absl::Time now);
absl::StatusOr<safeshare::v1::PublicKey> Revoke(KeyRows& rows, const std::string& agency_id,
                                                const std::string& key_id, absl::Time now);

}  // namespace key_rules
}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_STORE_KEY_RULES_H_
