#include "gateway/services/caller.h"

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

grpc::Status ToGrpcStatus(const absl::Status& status) {
  // absl and gRPC share canonical code numbers.
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

google::protobuf::Timestamp ToTimestamp(absl::Time t) {
  google::protobuf::Timestamp ts;
  const int64_t us = absl::ToUnixMicros(t);
  ts.set_seconds(us / 1000000);
  ts.set_nanos(static_cast<int32_t>((us % 1000000) * 1000));
  if (ts.nanos() < 0) {
    ts.set_seconds(ts.seconds() - 1);
    ts.set_nanos(ts.nanos() + 1000000000);
  }
  return ts;
}

}  // namespace safeshare::gateway
