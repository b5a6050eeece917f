#ifndef SAFESHARE_GATEWAY_GATEWAY_SERVER_H_
#define SAFESHARE_GATEWAY_GATEWAY_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gateway/audit/audit_service.h"
#include "gateway/delivery/escalator.h"
#include "gateway/federation_directory.h"
#include "gateway/key_directory.h"
#include "gateway/metrics/gateway_metrics.h"
#include "gateway/metrics/metrics_listener.h"
#include "gateway/metrics/registry.h"
#include "gateway/peer_clients.h"
#include "gateway/peering/forwarder.h"
#include "gateway/peering/peer_gateway_service.h"
#include "gateway/services/advice_service.h"
#include "gateway/services/directory_service.h"
#include "gateway/services/mailbox_service.h"
#include "gateway/services/referrals_service.h"
#include "gateway/store/store.h"
#include "gateway/witnessing/cosignature_collector.h"
#include "gateway/witnessing/witness_listener.h"
#include "policy/policy_registry.h"
#include "safeshare/v1/gateway_config.pb.h"

namespace safeshare::gateway {

// The running gateway: mutual-TLS gRPC server over a store and a directory.
class GatewayServer {
 public:
  // Loads the federation, opens the store and starts listening. The config
  // must have been finalized (FinalizeGatewayConfig).
  static absl::StatusOr<std::unique_ptr<GatewayServer>> Start(
      const safeshare::v1::GatewayConfig& config);
  ~GatewayServer();

  // The port actually bound (useful with port 0).
  int port() const { return port_; }
  // The witnessing listener's port; 0 when it is off.
  int witness_port() const { return witness_ ? witness_->port() : 0; }

  // SIGHUP: reloads the federation file (members, revoked certificates, the
  // CRL), then the ISA directory against the federation in force. Each that
  // fails to load is logged and leaves its previous version in force; a bad
  // agreement never holds back a revocation. Returns the first error.
  absl::Status Reload();

  // Reloads the federation file alone; on error the previous one stays.
  absl::Status ReloadFederation();
  // Reloads the ISA directory alone; on error the previous policy stays.
  absl::Status ReloadPolicy();

  // Stops accepting calls, lets in-flight calls finish up to `grace`, then
  // cancels the rest.
  void Shutdown(absl::Duration grace);

 private:
  GatewayServer() = default;
  // The witnessing listener and the cosignature collector, as configured.
  absl::Status StartWitnessing(const safeshare::v1::GatewayConfig& config,
                               const safeshare::v1::AuditLogIdentity& log);

  // Metrics live longest: every part may update them until it stops.
  MetricRegistry registry_;
  std::unique_ptr<GatewayMetrics> metrics_;
  std::atomic<bool> draining_{false};
  std::unique_ptr<FederationHolder> directory_;
  std::string federation_file_;
  // /readyz: not draining, a policy loaded, the store answering.
  absl::Status Readiness();
  // The gauges sampled at each scrape.
  void AddGauges();
  absl::Time cert_not_after_ = absl::InfinitePast();
  absl::Mutex mailbox_cache_mu_;
  absl::Time mailbox_cache_time_ ABSL_GUARDED_BY(mailbox_cache_mu_) = absl::InfinitePast();
  std::vector<MailboxSummary> mailbox_cache_ ABSL_GUARDED_BY(mailbox_cache_mu_);
  CertificateTrust trust_;  // now is unset: each reload checks the CRL at its own time
  std::unique_ptr<Store> store_;
  std::unique_ptr<KeyDirectory> keys_;
  MailboxNotifier notifier_;
  std::unique_ptr<Escalator> escalator_;
  policy::PolicyRegistry policy_;
  std::string isa_dir_;
  safeshare::v1::RuleCommencement commencement_;  // rule pack 2026's dates, from the config
  // Operation Encompass deadlines: reread with the agreements on SIGHUP.
  std::shared_ptr<SchoolCalendars> calendars_;
  std::string school_calendar_dir_;
  // Channels to peer partnerships' gateways (the directory proxy and the
  // forwarder use them) and the service they call here; like every service,
  // declared before the server so that they outlive it.
  std::unique_ptr<PeerClients> peer_clients_;
  std::unique_ptr<ReferralsService> referrals_;
  std::unique_ptr<MailboxService> mailbox_;
  std::unique_ptr<DirectoryService> directory_service_;
  std::unique_ptr<AuditService> audit_;
  std::unique_ptr<AdviceService> advice_;
  std::unique_ptr<PeerGatewayService> peer_gateway_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::unique_ptr<WitnessListener> witness_;
  std::unique_ptr<CosignatureCollector> cosignatures_;
  // The metrics port; stopped first.
  std::unique_ptr<MetricsListener> metrics_listener_;
  // Forwarding to peers (destroyed first: it uses the store and the channels).
  std::unique_ptr<Forwarder> forwarder_;
};

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_GATEWAY_SERVER_H_
