#ifndef SAFESHARE_ENVELOPE_ENVELOPE_SHAPE_H_
#define SAFESHARE_ENVELOPE_ENVELOPE_SHAPE_H_

// Structural checks on envelopes: what must be present and well-formed before
// policy looks at the declaration. Used by agents before sending and by the
// gateway on every Submit, so both sides refuse the same things.

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "safeshare/v1/envelope.pb.h"

namespace safeshare::envelope {

// Message ids beginning with this are the gateway's own (escalations);
// envelopes may not use it.
inline constexpr char kReservedMessageIdPrefix[] = "gw-";

// True for 1-128 characters of [A-Za-z0-9._:-].
bool IsValidMessageId(absl::string_view id);

// True for 1-64 characters of [a-z0-9-], not starting or ending with '-'.
bool IsValidAgencyId(absl::string_view id);

// True for a subject reference in its documented form: 64 lowercase hex
// characters, an HMAC-SHA256 of the child's identifier under the federation's
// subject key (docs/domain.md). Never the identifier itself.
bool IsValidSubjectReference(absl::string_view reference);

// Parses serialized Envelope bytes. INVALID_ARGUMENT when the bytes are not an
// Envelope or carry fields this build does not know (the gateway must decide on
// everything the sender signed).
absl::StatusOr<safeshare::v1::Envelope> ParseEnvelope(absl::string_view bytes);

// How much a sender may declare. The declaration goes into the permanent
// audit log, so it is bounded; the defaults are the gateway's (its config's
// LimitsConfig takes them when unset), so an agent or `safeshare policy
// check` using the defaults refuses exactly what a default gateway refuses.
struct DeclarationLimits {
  // The serialized SharingDeclaration.
  size_t max_declaration_bytes = 16 << 10;
  // Each free-text (string) field, at any depth.
  size_t max_text_field_bytes = 2 << 10;
  // Entries in each repeated field, at any depth.
  size_t max_repeated_entries = 64;
};

// Checks a declaration against `limits`, and that every enum value in it is
// one this build knows (proto3 keeps unknown values as bare numbers, which
// policy could not reason about). INVALID_ARGUMENT naming the field and the
// limit (e.g. "max_text_field_bytes") otherwise; also when a subject
// reference is set in any form but IsValidSubjectReference's.
absl::Status ValidateDeclaration(const safeshare::v1::SharingDeclaration& declaration,
                                 const DeclarationLimits& limits = {});

// Checks the envelope's shape: ids, kind, reply linkage, declaration and
// payload present, no unknown enum value anywhere, and the declaration within
// `limits` (ValidateDeclaration). INVALID_ARGUMENT naming the field otherwise.
absl::Status ValidateEnvelopeShape(const safeshare::v1::Envelope& envelope,
                                   const DeclarationLimits& limits = {});

// How far an envelope's created_time may stray from the clock that judges
// it: ahead by at most `max_ahead` (clocks drift), behind by at most
// `max_age` (a sender's queued retries). The defaults are the gateway's (its
// config's LimitsConfig takes them when unset).
struct CreatedTimeWindow {
  absl::Duration max_ahead = absl::Minutes(5);
  absl::Duration max_age = absl::Hours(24);
};

// INVALID_ARGUMENT when the envelope's created_time is not a valid timestamp
// (reason CREATED_TIME_INVALID), further ahead of `now` than the window allows
// (CREATED_TIME_IN_FUTURE) or older (CREATED_TIME_TOO_OLD): a sender cannot
// back-date or future-date what the audit log records it sent.
// `clock` names `now` in the message.
absl::Status CheckCreatedTime(const safeshare::v1::Envelope& envelope, absl::Time now,
                              const CreatedTimeWindow& window = {},
                              absl::string_view clock = "the gateway's clock");

}  // namespace safeshare::envelope

#endif  // SAFESHARE_ENVELOPE_ENVELOPE_SHAPE_H_
