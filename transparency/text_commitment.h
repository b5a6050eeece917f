#ifndef SAFESHARE_TRANSPARENCY_TEXT_COMMITMENT_H_
#define SAFESHARE_TRANSPARENCY_TEXT_COMMITMENT_H_

// Salted commitments to the free text of audit records, so the text can be
// corrected or erased while the record as hashed never changes. The byte
// layout (docs/audit-log.md, "Erasable text"):
//
//   SHA-256( "safeshare/audit-text/v1" 0x00 field 0x00 salt text )
//
// `field` is the text's path in the record ("reason",
// "declaration.necessity_justification"; never containing 0x00), `salt` 32
// random bytes, `text` the UTF-8 text, no length prefix: the salt has a fixed
// length and the text runs to the end.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace safeshare::transparency {

inline constexpr char kTextCommitmentDomain[] = "safeshare/audit-text/v1";
inline constexpr size_t kTextSaltBytes = 32;

// The 32-byte commitment. INVALID_ARGUMENT when `salt` is not 32 bytes or
// `field` contains 0x00.
absl::StatusOr<std::string> TextCommitment(absl::string_view field, absl::string_view salt,
                                           absl::string_view text);

// 32 bytes from OpenSSL's CSPRNG; INTERNAL if it fails.
absl::StatusOr<std::string> NewTextSalt();

}  // namespace safeshare::transparency

#endif  // SAFESHARE_TRANSPARENCY_TEXT_COMMITMENT_H_
