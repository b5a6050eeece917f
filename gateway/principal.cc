#include "gateway/principal.h"

#include "absl/strings/str_cat.h"
#include "envelope/identity_uri.h"
#include "gateway/federation_directory.h"

namespace safeshare::gateway {

absl::StatusOr<Principal> ParsePrincipalUri(absl::string_view uri) {
  auto id = envelope::ParseIdentityUri(uri);
  if (!id.ok()) {
    return absl::UnauthenticatedError(
        absl::StrCat("client certificate identity: ", id.status().message()));
  }
  Principal p;
  p.kind = id->kind == envelope::IdentityUri::Kind::kOfficer   ? Principal::Kind::kOfficer
           : id->kind == envelope::IdentityUri::Kind::kGateway ? Principal::Kind::kGateway
                                                               : Principal::Kind::kAgency;
  p.federation_id = std::move(id->federation_id);
  p.agency_id = std::move(id->agency_id);
  p.officer_id = std::move(id->officer_id);
  p.uri = std::string(uri);
  return p;
}

absl::StatusOr<Principal> PrincipalFromCertificate(const PeerCertificate& cert) {
  if (cert.identity_uris.size() != 1) {
    return absl::UnauthenticatedError(absl::StrCat("the client certificate carries ",
                                                   cert.identity_uris.size(),
                                                   " safeshare:// URI SANs; it must carry exactly "
                                                   "one (DNS, e-mail and IP SANs may be added)"));
  }
  return ParsePrincipalUri(cert.identity_uris.front());
}

absl::Status CheckCertificate(const Principal& p, const PeerCertificate& cert,
                              const FederationDirectory& directory) {
  if (p.is_gateway()) {
    // A peer's CA vouches for its own gateway and for nothing else here.
    if (directory.FindPeer(p.federation_id) == nullptr ||
        !directory.IssuedByPeerCa(p.federation_id, cert.issuer_der)) {
      return absl::UnauthenticatedError(
          absl::StrCat("the client certificate names the gateway of federation '", p.federation_id,
                       "', which is not a peer of this one or was not issued by that peer's CA"));
    }
  } else if (p.federation_id != directory.id()) {
    return absl::UnauthenticatedError(
        absl::StrCat("the client certificate is for federation '", p.federation_id,
                     "'; this gateway serves federation '", directory.id(), "'"));
  } else if (!directory.IssuedByOwnCa(cert.issuer_der)) {
    return absl::UnauthenticatedError(
        "the client certificate was issued by a peer federation's CA, which vouches only for "
        "its own gateway here; an agency or officer certificate comes from this federation's CA");
  }
  if (cert.development && !directory.accepts_development_certificates()) {
    return absl::UnauthenticatedError(
        "the client certificate is a development certificate (issued by safeshare pki); this "
        "gateway accepts those only when started with --development");
  }
  return directory.revocations().Check(cert);
}

absl::Status CheckMembership(const Principal& p, const FederationDirectory& directory) {
  if (p.is_gateway()) {
    return directory.FindPeer(p.federation_id) != nullptr
               ? absl::OkStatus()
               : absl::PermissionDeniedError(absl::StrCat("federation ", p.federation_id,
                                                          " is not a peer of this federation"));
  }
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

absl::StatusOr<Principal> AuthenticateCertificate(const PeerCertificate& cert,
                                                  const FederationDirectory& directory) {
  auto principal = PrincipalFromCertificate(cert);
  if (!principal.ok()) return principal.status();
  if (principal->is_gateway()) {
    return absl::PermissionDeniedError(
        "a peer gateway's certificate may call the PeerGateway service only");
  }
  if (absl::Status st = CheckCertificate(*principal, cert, directory); !st.ok()) return st;
  if (absl::Status st = CheckMembership(*principal, directory); !st.ok()) return st;
  return principal;
}

absl::StatusOr<Principal> AuthenticatePeerGatewayCertificate(const PeerCertificate& cert,
                                                             const FederationDirectory& directory) {
  auto principal = PrincipalFromCertificate(cert);
  if (!principal.ok()) return principal.status();
  if (!principal->is_gateway()) {
    return absl::PermissionDeniedError(
        "PeerGateway is called by peer federations' gateways only (safeshare://<federation>/"
        "gateway)");
  }
  if (absl::Status st = CheckCertificate(*principal, cert, directory); !st.ok()) return st;
  if (absl::Status st = CheckMembership(*principal, directory); !st.ok()) return st;
  return principal;
}

}  // namespace safeshare::gateway
