#ifndef SAFESHARE_GATEWAY_METRICS_METRICS_LISTENER_H_
#define SAFESHARE_GATEWAY_METRICS_METRICS_LISTENER_H_

// A plain-HTTP port for Prometheus and probes (off unless configured):
// GET /metrics (the registry), /healthz (the process answers) and /readyz
// (200 when `ready` says so, else 503 with the reason). Never content or
// personal data; bind it to loopback or a monitoring network only.

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "gateway/metrics/registry.h"

namespace httplib {
class Server;
}

namespace safeshare::gateway {

class MetricsListener {
 public:
  // `address` is host:port, or a bare port for 127.0.0.1.
  static absl::StatusOr<std::unique_ptr<MetricsListener>> Start(
      const std::string& address, const MetricRegistry* registry,
      std::function<absl::Status()> ready);
  ~MetricsListener();
  int port() const { return port_; }

 private:
  MetricsListener() = default;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_METRICS_METRICS_LISTENER_H_
