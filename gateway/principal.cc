#include "gateway/principal.h"

#include <grpcpp/security/auth_context.h>

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "envelope/envelope_shape.h"
#include "gateway/federation_directory.h"

namespace safeshare::gateway {

absl::StatusOr<Principal> ParsePrincipalUri(absl::string_view uri) {
  constexpr absl::string_view kScheme = "safeshare://";
  if (!absl::StartsWith(uri, kScheme)) {
    return absl::UnauthenticatedError("certificate identity is not a safeshare:// URI");
  }
  std::vector<absl::string_view> parts = absl::StrSplit(uri.substr(kScheme.size()), '/');
  Principal p;
  p.uri = std::string(uri);
  if (parts.size() == 2 && parts[0] == "agency" && envelope::IsValidAgencyId(parts[1])) {
    p.kind = Principal::Kind::kAgency;
    p.agency_id = std::string(parts[1]);
    return p;
  }
  if (parts.size() == 3 && parts[0] == "officer" && envelope::IsValidAgencyId(parts[1]) &&
      envelope::IsValidAgencyId(parts[2])) {
    p.kind = Principal::Kind::kOfficer;
    p.agency_id = std::string(parts[1]);
    p.officer_id = std::string(parts[2]);
    return p;
  }
  return absl::UnauthenticatedError(
      absl::StrCat("certificate identity '", uri,
                   "' is neither safeshare://agency/<id> nor safeshare://officer/<agency>/<id>"));
}

absl::StatusOr<Principal> PrincipalFromAuthContext(const grpc::AuthContext& auth) {
  if (!auth.IsPeerAuthenticated()) {
    return absl::UnauthenticatedError("a client certificate from the federation CA is required");
  }
  std::vector<std::string> uris;
  for (const auto& value : auth.FindPropertyValues("x509_subject_alternative_name")) {
    absl::string_view v(value.data(), value.size());
    if (absl::StartsWith(v, "safeshare://")) uris.emplace_back(v);
  }
  if (uris.size() != 1) {
    return absl::UnauthenticatedError(
        "the client certificate must carry exactly one safeshare:// URI SAN");
  }
  return ParsePrincipalUri(uris.front());
}

absl::Status CheckMembership(const Principal& p, const FederationDirectory& directory) {
  const auto* agency = directory.FindAgency(p.agency_id);
  if (agency == nullptr) {
    return absl::PermissionDeniedError(
        absl::StrCat("agency ", p.agency_id, " is not a member of this federation"));
  }
  if (agency->revoked()) {
    return absl::PermissionDeniedError(
        absl::StrCat("agency ", p.agency_id, " has been revoked from this federation"));
  }
  if (p.is_officer() && directory.FindOfficer(p.agency_id, p.officer_id) == nullptr) {
    return absl::PermissionDeniedError(absl::StrCat("officer ", p.officer_id, " of ", p.agency_id,
                                                    " is not registered in the federation"));
  }
  return absl::OkStatus();
}

}  // namespace safeshare::gateway
