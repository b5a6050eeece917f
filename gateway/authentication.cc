#include "gateway/authentication.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace safeshare::gateway {

absl::StatusOr<Principal> AuthenticateCaller(const grpc::CallbackServerContext& ctx,
                                             const FederationDirectory& directory) {
  auto auth = ctx.auth_context();
  if (auth == nullptr) {
    return absl::UnauthenticatedError("a client certificate from the federation CA is required");
  }
  auto principal = PrincipalFromAuthContext(*auth);
  if (!principal.ok()) return principal.status();
  if (absl::Status st = CheckMembership(*principal, directory); !st.ok()) return st;
  return principal;
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
