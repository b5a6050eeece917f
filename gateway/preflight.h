#ifndef SAFESHARE_GATEWAY_PREFLIGHT_H_
#define SAFESHARE_GATEWAY_PREFLIGHT_H_

// `safeshare-gateway check`: everything the gateway would load at start,
// checked without listening or writing anything — the configuration, the
// federation file and its peers, the agreements, the audit key against the
// federation's audit log, the TLS certificate and key (and how long they
// have left), the witnessing files and whether the store can be reached —
// for CI pipelines and pre-deploy checks.

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "safeshare/v1/gateway_config.pb.h"

namespace safeshare::gateway {

struct PreflightReport {
  std::vector<std::string> facts;     // what it would run with
  std::vector<std::string> warnings;  // e.g. a certificate expiring within 30 days
  std::vector<std::string> problems;  // the gateway would not start, or would fail
  bool ok() const { return problems.empty(); }
};

// Certificates expiring within this are warned about.
inline constexpr absl::Duration kCertificateWarning = absl::Hours(24 * 30);

PreflightReport CheckConfiguration(const safeshare::v1::GatewayConfig& config, absl::Time now);

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_PREFLIGHT_H_
