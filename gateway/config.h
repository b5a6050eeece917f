#ifndef SAFESHARE_GATEWAY_CONFIG_H_
#define SAFESHARE_GATEWAY_CONFIG_H_

#include <string>

#include "absl/status/statusor.h"
#include "common/files.h"
#include "envelope/envelope_shape.h"
#include "envelope/keys.h"
#include "safeshare/v1/directory.pb.h"
#include "safeshare/v1/gateway_config.pb.h"
#include "transparency/cosignature.h"

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

// The audit checkpoint key in `file`: Ed25519, and the private half of the
// federation file's audit_log key (FAILED_PRECONDITION otherwise).
absl::StatusOr<envelope::PrivateKey> LoadAuditSigningKey(
    const std::string& file, const safeshare::v1::AuditLogIdentity& log);
// A C2SP tlog-policy file (witnessing.witness_policy_file). INVALID_ARGUMENT
// names the file.
absl::StatusOr<transparency::WitnessPolicy> LoadWitnessPolicy(const std::string& file);
// The witness cosigning key in `file`: Ed25519, and never the audit key.
absl::StatusOr<envelope::PrivateKey> LoadWitnessKey(const std::string& file,
                                                    const safeshare::v1::AuditLogIdentity& log);

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_CONFIG_H_
