#include "gateway/authentication.h"

#include <grpc/grpc_security_constants.h>

#include <string>

#include "absl/strings/str_cat.h"

namespace safeshare::gateway {

absl::StatusOr<PeerCertificate> CallerCertificate(const grpc::CallbackServerContext& ctx) {
  auto auth = ctx.auth_context();
  if (auth == nullptr || !auth->IsPeerAuthenticated()) {
    return absl::UnauthenticatedError("a client certificate from the federation CA is required");
  }
  auto pem = auth->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME);
  if (pem.size() != 1) {
    return absl::UnauthenticatedError("a client certificate from the federation CA is required");
  }
  return ParsePeerCertificate(absl::string_view(pem.front().data(), pem.front().size()));
}

absl::StatusOr<Principal> AuthenticateCaller(const grpc::CallbackServerContext& ctx,
                                             const FederationDirectory& directory) {
  auto cert = CallerCertificate(ctx);
  if (!cert.ok()) return cert.status();
  return AuthenticateCertificate(*cert, directory);
}

absl::StatusOr<Principal> AuthenticateAgency(const grpc::CallbackServerContext& ctx,
                                             const FederationDirectory& directory) {
  auto principal = AuthenticateCaller(ctx, directory);
  if (principal.ok() && principal->is_officer()) {
    return absl::PermissionDeniedError(
        "this call is for agency certificates; officer certificates are for Audit and Advice");
  }
  return principal;
}

}  // namespace safeshare::gateway
