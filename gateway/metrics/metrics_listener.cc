#include "gateway/metrics/metrics_listener.h"

#include <httplib.h>

#include "absl/strings/str_cat.h"
#include "common/host_port.h"

namespace safeshare::gateway {

absl::StatusOr<std::unique_ptr<MetricsListener>> MetricsListener::Start(
    const std::string& address, const MetricRegistry* registry,
    std::function<absl::Status()> ready) {
  // A bare port is loopback's.
  auto split =
      SplitHostPort(address.find(':') == std::string::npos ? "127.0.0.1:" + address : address);
  if (!split.ok() || split->first.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("metrics.listen_address '", address,
                                                   "' must be host:port, or a port for 127.0.0.1"));
  }
  const std::string host = split->first;
  const int port = split->second;
  std::unique_ptr<MetricsListener> l(new MetricsListener());
  l->server_ = std::make_unique<httplib::Server>();
  l->server_->Get("/metrics", [registry](const httplib::Request&, httplib::Response& res) {
    res.set_content(registry->Render(), "text/plain; version=0.0.4; charset=utf-8");
  });
  l->server_->Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  l->server_->Get("/readyz", [ready](const httplib::Request&, httplib::Response& res) {
    const absl::Status st = ready();
    res.status = st.ok() ? 200 : 503;
    res.set_content(st.ok() ? "ready\n" : absl::StrCat("not ready: ", st.message(), "\n"),
                    "text/plain");
  });
  l->port_ = port == 0 ? l->server_->bind_to_any_port(host)
                       : (l->server_->bind_to_port(host, port) ? port : -1);
  if (l->port_ <= 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", address, " for metrics"));
  }
  l->thread_ = std::thread([server = l->server_.get()] { server->listen_after_bind(); });
  return l;
}

MetricsListener::~MetricsListener() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace safeshare::gateway
