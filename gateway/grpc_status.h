#ifndef SAFESHARE_GATEWAY_GRPC_STATUS_H_
#define SAFESHARE_GATEWAY_GRPC_STATUS_H_

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"

namespace safeshare::gateway {

// The same code as a gRPC status (the two share code numbers), and the same
// message, except for the gateway's own faults (a store error, INTERNAL,
// DATA_LOSS, UNKNOWN): those get a generic message, the detail going to the
// server log only, since store error text can carry SQL or stored values.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_GRPC_STATUS_H_
