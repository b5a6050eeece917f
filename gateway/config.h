#ifndef SAFESHARE_GATEWAY_CONFIG_H_
#define SAFESHARE_GATEWAY_CONFIG_H_

#include <string>

#include "absl/status/statusor.h"
#include "common/files.h"
#include "envelope/envelope_shape.h"
#include "safeshare/v1/gateway_config.pb.h"

namespace safeshare::gateway {

inline constexpr uint64_t kDefaultMaxMessageBytes = 4 * 1024 * 1024;

// Reads a GatewayConfig in proto text format. INVALID_ARGUMENT names the file,
// line and problem.
absl::StatusOr<safeshare::v1::GatewayConfig> LoadGatewayConfig(const std::string& path);

// Fills every unset (zero) limit with its default.
void FinalizeLimits(safeshare::v1::LimitsConfig& limits);

// The declaration limits of a finalized LimitsConfig, for the shape check.
envelope::DeclarationLimits DeclarationLimitsOf(const safeshare::v1::LimitsConfig& limits);

// Fills defaults and checks that every required setting is present.
absl::Status FinalizeGatewayConfig(safeshare::v1::GatewayConfig& config);

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_CONFIG_H_
