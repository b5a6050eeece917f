#ifndef SAFESHARE_ENVELOPE_ENVELOPE_SHAPE_H_
#define SAFESHARE_ENVELOPE_ENVELOPE_SHAPE_H_

// Structural checks on envelopes: what must be present and well-formed before
// policy looks at the declaration. Used by agents before sending and by the
// gateway on every Submit, so both sides refuse the same things.

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "safeshare/v1/envelope.pb.h"

namespace safeshare::envelope {

// Message ids beginning with this are the gateway's own (escalations);
// envelopes may not use it.
inline constexpr char kReservedMessageIdPrefix[] = "gw-";

// True for 1-128 characters of [A-Za-z0-9._:-].
bool IsValidMessageId(absl::string_view id);

// True for 1-64 characters of [a-z0-9-], not starting or ending with '-'.
bool IsValidAgencyId(absl::string_view id);

// Parses serialized Envelope bytes. INVALID_ARGUMENT when the bytes are not an
// Envelope or carry fields this build does not know (the gateway must decide on
// everything the sender signed).
absl::StatusOr<safeshare::v1::Envelope> ParseEnvelope(absl::string_view bytes);

// Checks the envelope's shape: ids, kind, reply linkage, declaration and
// payload present. INVALID_ARGUMENT naming the field otherwise.
absl::Status ValidateEnvelopeShape(const safeshare::v1::Envelope& envelope);

}  // namespace safeshare::envelope

#endif  // SAFESHARE_ENVELOPE_ENVELOPE_SHAPE_H_
