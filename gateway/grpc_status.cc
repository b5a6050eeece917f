#include "gateway/grpc_status.h"

#include <string>

#include "absl/strings/match.h"
#include "common/error_reason.h"
#include "common/log.h"

namespace safeshare::gateway {
namespace {

// The gateway's own faults: the store's errors (which can carry SQL, file
// paths or stored values) and anything internal. The caller cannot act on
// their detail; the operator can, from the log.
bool IsServerFault(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kUnknown:
      return true;
    case absl::StatusCode::kUnavailable:
      return absl::StartsWith(status.message(), "store");
    default:
      return false;
  }
}

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  const auto code = static_cast<grpc::StatusCode>(status.code());
  if (!IsServerFault(status)) {
    if (!ReasonOf(status).has_value()) return grpc::Status(code, std::string(status.message()));
    return grpc::Status(code, std::string(status.message()),
                        RichStatus(status).SerializeAsString());
  }
  LogEvent("error", "request.failed",
           {{"code", absl::StatusCodeToString(status.code())},
            {"detail", std::string(status.message())}});
  return grpc::Status(code, status.code() == absl::StatusCode::kUnavailable
                                ? "the gateway cannot reach its store just now; retry later"
                                : "the gateway could not complete this request; its operator "
                                  "has the detail in the gateway's log");
}

}  // namespace safeshare::gateway
