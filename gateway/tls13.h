#ifndef SAFESHARE_GATEWAY_TLS13_H_
#define SAFESHARE_GATEWAY_TLS13_H_

#include <string>

#include "absl/status/status.h"

namespace safeshare::gateway {

// Restricts every TLS context this process creates to TLS 1.3. gRPC 1.51 has
// no minimum-version setting and overrides SSL_CTX limits, but it honours
// OpenSSL's system_default configuration, so this writes that configuration
// into a private directory it creates under `runtime_dir` (a planted file or
// symlink there cannot redirect it), loads it, checks it took effect, and
// removes it again. Call first thing in main(), before any gRPC or OpenSSL use.
absl::Status RestrictProcessToTls13(const std::string& runtime_dir);

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_TLS13_H_
