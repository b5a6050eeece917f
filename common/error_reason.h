#ifndef SAFESHARE_COMMON_ERROR_REASON_H_
#define SAFESHARE_COMMON_ERROR_REASON_H_

// Machine-readable refusal reasons (AIP-193). Inside a process a reason rides
// on an absl::Status as a google.rpc.ErrorInfo payload; on the wire it is a
// details entry of the google.rpc.Status in the grpc-status-details-bin
// trailer, so a client can tell "refresh and reseal" from "fix the
// declaration" without parsing prose. docs/envelope-format.md lists them.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace safeshare {

inline constexpr char kReasonDomain[] = "safeshare.uk";

// `status` with `reason` (domain kReasonDomain) and `metadata` attached.
absl::Status WithReason(absl::Status status, absl::string_view reason,
                        std::vector<std::pair<std::string, std::string>> metadata = {});

// The reason attached to `status`, if any.
std::optional<google::rpc::ErrorInfo> ReasonOf(const absl::Status& status);

// The wire form: google.rpc.Status with the status's code and message and
// its reason (if any) as the first details entry.
google::rpc::Status RichStatus(const absl::Status& status);

// Back from the wire: code and message, with the ErrorInfo found in
// `details_bytes` (a serialized google.rpc.Status) attached.
absl::Status FromRichStatus(absl::StatusCode code, const std::string& message,
                            const std::string& details_bytes);

}  // namespace safeshare

#endif  // SAFESHARE_COMMON_ERROR_REASON_H_
