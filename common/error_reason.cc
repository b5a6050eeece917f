#include "common/error_reason.h"

#include "absl/strings/cord.h"

namespace safeshare {
namespace {

constexpr char kErrorInfoUrl[] = "type.googleapis.com/google.rpc.ErrorInfo";

}  // namespace

absl::Status WithReason(absl::Status status, absl::string_view reason,
                        std::vector<std::pair<std::string, std::string>> metadata) {
  if (status.ok()) return status;
  google::rpc::ErrorInfo info;
  info.set_reason(std::string(reason));
  info.set_domain(kReasonDomain);
  for (auto& [key, value] : metadata) (*info.mutable_metadata())[key] = std::move(value);
  status.SetPayload(kErrorInfoUrl, absl::Cord(info.SerializeAsString()));
  return status;
}

std::optional<google::rpc::ErrorInfo> ReasonOf(const absl::Status& status) {
  auto payload = status.GetPayload(kErrorInfoUrl);  // absl::optional here
  google::rpc::ErrorInfo info;
  if (!payload.has_value() || !info.ParseFromString(std::string(*payload))) return std::nullopt;
  return info;
}

google::rpc::Status RichStatus(const absl::Status& status) {
  google::rpc::Status rich;
  rich.set_code(static_cast<int>(status.code()));
  rich.set_message(std::string(status.message()));
  if (auto info = ReasonOf(status); info.has_value()) rich.add_details()->PackFrom(*info);
  return rich;
}

absl::Status FromRichStatus(absl::StatusCode code, const std::string& message,
                            const std::string& details_bytes) {
  absl::Status status(code, message);
  google::rpc::Status rich;
  if (status.ok() || details_bytes.empty() || !rich.ParseFromString(details_bytes)) return status;
  for (const auto& any : rich.details()) {
    google::rpc::ErrorInfo info;
    if (any.UnpackTo(&info)) {
      status.SetPayload(kErrorInfoUrl, absl::Cord(info.SerializeAsString()));
      break;
    }
  }
  return status;
}

}  // namespace safeshare
