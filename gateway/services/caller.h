#ifndef SAFESHARE_GATEWAY_SERVICES_CALLER_H_
#define SAFESHARE_GATEWAY_SERVICES_CALLER_H_

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gateway/federation_directory.h"
#include "gateway/principal.h"
#include "google/protobuf/timestamp.pb.h"

namespace safeshare::gateway {

// The verified, current member calling this RPC.
absl::StatusOr<Principal> AuthenticateCaller(const grpc::CallbackServerContext& ctx,
                                             const FederationDirectory& directory);

// Same, and the caller must be an agency (not an officer) principal.
absl::StatusOr<Principal> AuthenticateAgency(const grpc::CallbackServerContext& ctx,
                                             const FederationDirectory& directory);

grpc::Status ToGrpcStatus(const absl::Status& status);

google::protobuf::Timestamp ToTimestamp(absl::Time t);

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_SERVICES_CALLER_H_
