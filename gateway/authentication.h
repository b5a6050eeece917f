#ifndef SAFESHARE_GATEWAY_AUTHENTICATION_H_
#define SAFESHARE_GATEWAY_AUTHENTICATION_H_

// Who is calling an RPC: the principal in the client certificate, checked
// against the federation directory in force (its federation id, revoked
// certificates, development marker and members). Never a field of the
// request.

#include <grpcpp/grpcpp.h>

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gateway/federation_directory.h"
#include "gateway/peer_certificate.h"
#include "gateway/principal.h"

namespace safeshare::gateway {

// The client certificate the TLS layer verified for this call, parsed (kept
// by its bytes, so a certificate is decoded once, not on every call).
// UNAUTHENTICATED if there is none.
absl::StatusOr<PeerCertificate> CallerCertificate(const grpc::CallbackServerContext& ctx);

// The verified, current member calling this RPC.
absl::StatusOr<Principal> AuthenticateCaller(const grpc::CallbackServerContext& ctx,
                                             const FederationDirectory& directory);

// Same, and the caller must be an agency (not an officer) principal.
absl::StatusOr<Principal> AuthenticateAgency(const grpc::CallbackServerContext& ctx,
                                             const FederationDirectory& directory);
// The same check on a certificate already read (CallerCertificate).
absl::StatusOr<Principal> AuthenticateAgencyCertificate(const PeerCertificate& cert,
                                                        const FederationDirectory& directory);

// When each agency's certificate expires, as last presented by an
// authenticated caller of that agency (for the metrics; an agency whose
// certificate the gateway has not seen since it started is absent).
std::map<std::string, absl::Time> AgencyCertificateExpiries();

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_AUTHENTICATION_H_
