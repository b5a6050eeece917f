#ifndef SAFESHARE_GATEWAY_PRINCIPAL_H_
#define SAFESHARE_GATEWAY_PRINCIPAL_H_

// Who is calling. The identity is the one safeshare:// URI SAN of the
// caller's client certificate (envelope/identity_uri.h), which the TLS layer
// has verified against the trust bundle; nothing in a request can change it.
// The certificate must also name this federation, not be revoked, and not be
// a development certificate unless the gateway runs with --development.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gateway/peer_certificate.h"

namespace safeshare::gateway {

class FederationDirectory;

struct Principal {
  // kGateway: a peer federation's gateway (PeerGateway service only).
  enum class Kind { kAgency, kOfficer, kGateway };
  Kind kind = Kind::kAgency;
  std::string federation_id;
  std::string agency_id;   // the agency, or the officer's agency
  std::string officer_id;  // officers only
  std::string uri;         // the SAN as presented

  bool is_officer() const { return kind == Kind::kOfficer; }
  bool is_gateway() const { return kind == Kind::kGateway; }
};

// Parses "safeshare://<federation>/agency/<id>" or
// "safeshare://<federation>/officer/<agency>/<id>". UNAUTHENTICATED otherwise.
absl::StatusOr<Principal> ParsePrincipalUri(absl::string_view uri);

// The principal a certificate names: UNAUTHENTICATED unless it carries exactly
// one safeshare:// URI SAN (other SANs do not count) and that URI parses.
absl::StatusOr<Principal> PrincipalFromCertificate(const PeerCertificate& cert);

// The certificate may stand for `p` in this directory: it names this
// federation and was issued by this federation's CA (a peer gateway: names
// that peer and was issued by that peer's CA), is not revoked, and is not a
// development certificate unless the directory accepts them.
// UNAUTHENTICATED with what to fix otherwise.
absl::Status CheckCertificate(const Principal& p, const PeerCertificate& cert,
                              const FederationDirectory& directory);

// Checks the principal against the directory: the agency (and officer) must be
// listed and not revoked; a gateway must be a listed peer's. PERMISSION_DENIED
// otherwise.
absl::Status CheckMembership(const Principal& p, const FederationDirectory& directory);

// All three, in that order: what every call and every open stream is held to.
// A peer gateway's certificate is refused (PERMISSION_DENIED) here.
absl::StatusOr<Principal> AuthenticateCertificate(const PeerCertificate& cert,
                                                  const FederationDirectory& directory);

// The same for the PeerGateway service: the caller must be a listed peer's
// gateway, with a certificate from that peer's CA.
absl::StatusOr<Principal> AuthenticatePeerGatewayCertificate(const PeerCertificate& cert,
                                                             const FederationDirectory& directory);

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_PRINCIPAL_H_
