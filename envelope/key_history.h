#ifndef SAFESHARE_ENVELOPE_KEY_HISTORY_H_
#define SAFESHARE_ENVELOPE_KEY_HISTORY_H_

// Checking an agency's key history against a verified checkpoint (key
// transparency): what an agent does before it trusts a directory key, and a
// gateway before it trusts a peer federation's sender key.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "safeshare/v1/audit.pb.h"
#include "safeshare/v1/directory.pb.h"
#include "transparency/checkpoint.h"

namespace safeshare::envelope {

// One verified key event.
struct KeyEventView {
  uint64_t leaf_index = 0;
  std::string leaf_hash;
  safeshare::v1::AuditRecord record;  // event, time, actor, key_event
};

// An agency's keys as its verified key events leave them.
struct VerifiedKeys {
  std::vector<KeyEventView> events;
  std::vector<safeshare::v1::PublicKey> keys;  // in the order first seen
};

// Checks one agency's key history against `checkpoint` (already verified)
// and replays it; pure: no memory, no I/O. FAILED_PRECONDITION with the
// reason when anything does not hold.
absl::StatusOr<VerifiedKeys> VerifyKeyHistory(const std::string& federation_id,
                                              const std::string& agency_id,
                                              const safeshare::v1::KeyHistory& history,
                                              const transparency::Checkpoint& checkpoint);

// The served keys must be exactly the replayed ones (ids, bytes, purpose,
// validity, current, revoked). FAILED_PRECONDITION naming the first
// difference.
absl::Status CheckServedKeys(const std::string& agency_id,
                             const std::vector<safeshare::v1::PublicKey>& served,
                             const std::vector<safeshare::v1::PublicKey>& replayed);

}  // namespace safeshare::envelope

#endif  // SAFESHARE_ENVELOPE_KEY_HISTORY_H_
