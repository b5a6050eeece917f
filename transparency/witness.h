#ifndef SAFESHARE_TRANSPARENCY_WITNESS_H_
#define SAFESHARE_TRANSPARENCY_WITNESS_H_

// The witness side of C2SP tlog-witness (https://c2sp.org/tlog-witness):
// a log submits "old <size>\n", its consistency proof lines, a blank line and
// its new signed checkpoint; the witness cosigns only a checkpoint consistent
// with the latest one it cosigned for that origin, so a log cannot show one
// history to this witness and another to anyone relying on its cosignature.
//
// Status codes follow the spec's HTTP statuses (HttpStatusFor maps them):
//   NOT_FOUND           404  the origin is not a log this witness follows
//   PERMISSION_DENIED   403  no valid signature by the log's key
//   INVALID_ARGUMENT    400  a malformed request, or old size > new size
//   FAILED_PRECONDITION 409  old size is not the latest cosigned size
//                            (ConflictBody gives the response body)
//   DATA_LOSS           422  the proof does not verify, or the same size
//                            with another root: evidence of a split view

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "transparency/checkpoint.h"

namespace safeshare::transparency {

struct AddCheckpointRequest {
  uint64_t old_size = 0;
  std::vector<std::string> proof;  // raw 32-byte hashes, at most 63
  std::string checkpoint_note;     // the signed checkpoint, as sent
};

absl::StatusOr<AddCheckpointRequest> ParseAddCheckpoint(absl::string_view body);
std::string FormatAddCheckpoint(const AddCheckpointRequest& request);

// A log this witness follows: its origin and checkpoint key.
struct FollowedLog {
  std::string origin;
  std::string key_name;
  std::string public_key;  // raw Ed25519
};

// What the witness last cosigned for one log; persisted by the caller.
struct CosignedState {
  uint64_t size = 0;
  std::string root_hash;  // empty until the first cosignature
};

// Checks one add-checkpoint request against `state` (the latest cosigned for
// that origin, which the caller loads and, on success, stores atomically with
// the answer: updated here). Returns the cosignature line to send back.
absl::StatusOr<std::string> AddCheckpoint(const AddCheckpointRequest& request,
                                          const std::vector<FollowedLog>& logs,
                                          CosignedState& state, absl::string_view witness_name,
                                          EVP_PKEY* witness_key, absl::Time now);

// The HTTP status for a status from AddCheckpoint (200 for OK).
int HttpStatusFor(const absl::Status& status);
// The 409 body: the latest cosigned size, "<size>\n" (text/x.tlog.size).
std::string ConflictBody(const CosignedState& state);

}  // namespace safeshare::transparency

#endif  // SAFESHARE_TRANSPARENCY_WITNESS_H_
