#ifndef SAFESHARE_GATEWAY_PRINCIPAL_H_
#define SAFESHARE_GATEWAY_PRINCIPAL_H_

// Who is calling. The identity is the safeshare:// URI SAN of the caller's
// client certificate, which the TLS layer has verified against the federation
// CA; nothing in a request can change it.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace grpc {
class AuthContext;
}

namespace safeshare::gateway {

class FederationDirectory;

struct Principal {
  enum class Kind { kAgency, kOfficer };
  Kind kind = Kind::kAgency;
  std::string agency_id;   // the agency, or the officer's agency
  std::string officer_id;  // officers only
  std::string uri;         // the SAN as presented

  bool is_officer() const { return kind == Kind::kOfficer; }
};

// Parses "safeshare://agency/<id>" or "safeshare://officer/<agency>/<id>".
absl::StatusOr<Principal> ParsePrincipalUri(absl::string_view uri);

// Extracts the one safeshare:// SAN from a verified peer. UNAUTHENTICATED if
// there is none or more than one.
absl::StatusOr<Principal> PrincipalFromAuthContext(const grpc::AuthContext& auth);

// Checks the principal against the directory: the agency (and officer) must be
// listed and not revoked. PERMISSION_DENIED otherwise.
absl::Status CheckMembership(const Principal& p, const FederationDirectory& directory);

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_PRINCIPAL_H_
