#ifndef SAFESHARE_GATEWAY_GRPC_STATUS_H_
#define SAFESHARE_GATEWAY_GRPC_STATUS_H_

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"

namespace safeshare::gateway {

// The same code and message as a gRPC status (the two share code numbers).
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_GRPC_STATUS_H_
