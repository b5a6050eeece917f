#ifndef SAFESHARE_COMMON_HOST_PORT_H_
#define SAFESHARE_COMMON_HOST_PORT_H_

#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace safeshare {

// "host:port" or "[v6]:port" as a listener binds it (port 0: any free one).
// INVALID_ARGUMENT naming `address` otherwise.
absl::StatusOr<std::pair<std::string, int>> SplitHostPort(absl::string_view address);

}  // namespace safeshare

#endif  // SAFESHARE_COMMON_HOST_PORT_H_
