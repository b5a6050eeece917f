#include "envelope/identity_uri.h"

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "envelope/envelope_shape.h"

namespace safeshare::envelope {

std::string IdentityUri::ToString() const {
  if (kind == Kind::kOfficer) {
    return absl::StrCat(kIdentityScheme, federation_id, "/officer/", agency_id, "/", officer_id);
  }
  if (kind == Kind::kGateway) return absl::StrCat(kIdentityScheme, federation_id, "/gateway");
  return absl::StrCat(kIdentityScheme, federation_id, "/agency/", agency_id);
}

IdentityUri AgencyIdentity(absl::string_view federation_id, absl::string_view agency_id) {
  IdentityUri id;
  id.federation_id = std::string(federation_id);
  id.agency_id = std::string(agency_id);
  return id;
}

IdentityUri OfficerIdentity(absl::string_view federation_id, absl::string_view agency_id,
                            absl::string_view officer_id) {
  IdentityUri id = AgencyIdentity(federation_id, agency_id);
  id.kind = IdentityUri::Kind::kOfficer;
  id.officer_id = std::string(officer_id);
  return id;
}

bool IsValidFederationId(absl::string_view id) {
  return IsValidAgencyId(id) && id != "agency" && id != "officer" && id != "gateway";
}

absl::StatusOr<IdentityUri> ParseIdentityUri(absl::string_view uri) {
  if (!absl::StartsWith(uri, kIdentityScheme)) {
    return absl::InvalidArgumentError("identity is not a safeshare:// URI");
  }
  std::vector<absl::string_view> parts = absl::StrSplit(uri.substr(kIdentityScheme.size()), '/');
  if (!parts.empty() && (parts[0] == "agency" || parts[0] == "officer")) {
    // Named no federation, so any trusted CA could have issued it.
    return absl::InvalidArgumentError(
        "identity has the old form without a federation id; reissue the certificate as "
        "safeshare://<federation-id>/agency/<id> or "
        "safeshare://<federation-id>/officer/<agency>/<id>");
  }
  if (parts.size() == 3 && parts[1] == "agency" && IsValidFederationId(parts[0]) &&
      IsValidAgencyId(parts[2])) {
    return AgencyIdentity(parts[0], parts[2]);
  }
  if (parts.size() == 2 && parts[1] == "gateway" && IsValidFederationId(parts[0])) {
    IdentityUri id;
    id.kind = IdentityUri::Kind::kGateway;
    id.federation_id = std::string(parts[0]);
    return id;
  }
  if (parts.size() == 4 && parts[1] == "officer" && IsValidFederationId(parts[0]) &&
      IsValidAgencyId(parts[2]) && IsValidAgencyId(parts[3])) {
    return OfficerIdentity(parts[0], parts[2], parts[3]);
  }
  return absl::InvalidArgumentError(
      "identity is none of safeshare://<federation-id>/agency/<id>, "
      "safeshare://<federation-id>/officer/<agency>/<id> and safeshare://<federation-id>/gateway "
      "(each id 1-64 characters of [a-z0-9-])");
}

}  // namespace safeshare::envelope
