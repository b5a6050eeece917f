#ifndef SAFESHARE_GATEWAY_OFFICER_SCOPE_H_
#define SAFESHARE_GATEWAY_OFFICER_SCOPE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gateway/federation_directory.h"
#include "gateway/principal.h"

namespace safeshare::gateway {

// The agencies an IG officer oversees: its own, its area's, or (empty list)
// the whole federation. PERMISSION_DENIED for an unregistered officer.
absl::StatusOr<std::vector<std::string>> OfficerScope(const Principal& officer,
                                                      const FederationDirectory& directory);

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_OFFICER_SCOPE_H_
