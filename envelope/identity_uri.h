#ifndef SAFESHARE_ENVELOPE_IDENTITY_URI_H_
#define SAFESHARE_ENVELOPE_IDENTITY_URI_H_

// The identity a client certificate names, shared by the gateway (which
// authenticates it), the agents (which read their own) and the development
// PKI (which issues it):
//
//   safeshare://<federation-id>/agency/<agency-id>
//   safeshare://<federation-id>/officer/<agency-id>/<officer-id>
//
// as the one URI SAN of that scheme in the certificate. Every segment is
// 1-64 characters of [a-z0-9-] (IsValidAgencyId), so an identity can never
// carry separators, escapes or another syntax.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace safeshare::envelope {

inline constexpr absl::string_view kIdentityScheme = "safeshare://";

// The certificate policy OID `safeshare pki` puts in every certificate it
// issues: a development certificate, refused by a gateway not started with
// --development. A UUID-based OID (ITU-T X.667, 2.25.<uuid as an integer>;
// uuid 016a4cfa-3a14-4ad6-9312-b06d9f881459), so it needs no registered arc.
inline constexpr char kDevelopmentCertificatePolicyOid[] =
    "2.25.1881172750934776193915655603414897753";

struct IdentityUri {
  // kGateway: a federation's gateway calling a peer gateway
  // (safeshare://<federation-id>/gateway); agency_id is empty.
  enum class Kind { kAgency, kOfficer, kGateway };
  Kind kind = Kind::kAgency;
  std::string federation_id;
  std::string agency_id;   // the agency, or the officer's agency
  std::string officer_id;  // officers only

  // The canonical text: ParseIdentityUri(x.ToString()) gives x back.
  std::string ToString() const;
};

IdentityUri AgencyIdentity(absl::string_view federation_id, absl::string_view agency_id);
IdentityUri OfficerIdentity(absl::string_view federation_id, absl::string_view agency_id,
                            absl::string_view officer_id);

// INVALID_ARGUMENT unless `uri` is exactly one of the two forms above. A URI of
// the form before federation ids (safeshare://agency/<id>) gets a message
// saying to reissue the certificate.
absl::StatusOr<IdentityUri> ParseIdentityUri(absl::string_view uri);

// True for an id a federation may have: an agency id that is not one of the
// words the URI grammar uses ("agency", "officer", "gateway").
bool IsValidFederationId(absl::string_view id);

}  // namespace safeshare::envelope

#endif  // SAFESHARE_ENVELOPE_IDENTITY_URI_H_
