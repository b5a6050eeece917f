#include "gateway/grpc_status.h"

#include <string>

namespace safeshare::gateway {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

}  // namespace safeshare::gateway
