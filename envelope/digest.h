#ifndef SAFESHARE_ENVELOPE_DIGEST_H_
#define SAFESHARE_ENVELOPE_DIGEST_H_

#include <string>

#include "absl/strings/string_view.h"

namespace safeshare::envelope {

// SHA-256 of `data`, 32 raw bytes (OpenSSL EVP).
std::string Sha256(absl::string_view data);

// Lowercase hex of `bytes`.
std::string ToHex(absl::string_view bytes);

}  // namespace safeshare::envelope

#endif  // SAFESHARE_ENVELOPE_DIGEST_H_
