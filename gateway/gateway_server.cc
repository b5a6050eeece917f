#include "gateway/gateway_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/resource_quota.h>
#include <grpcpp/security/server_credentials.h>
#include <unistd.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/files.h"
#include "common/log.h"
#include "envelope/keys.h"
#include "gateway/authentication.h"
#include "gateway/config.h"
#include "transparency/checkpoint.h"
#include "transparency/cosignature.h"

namespace safeshare::gateway {

absl::StatusOr<std::unique_ptr<GatewayServer>> GatewayServer::Start(
    const safeshare::v1::GatewayConfig& config) {
  std::unique_ptr<GatewayServer> gw(new GatewayServer());

  auto ca = ReadFile(config.tls().ca_cert_file());
  if (!ca.ok()) return ca.status();
  gw->federation_file_ = config.federation_file();
  gw->trust_.ca_bundle_pem = *ca;
  gw->trust_.accept_development = config.development();
  auto directory = FederationDirectory::Load(gw->federation_file_, gw->trust_);
  if (!directory.ok()) return directory.status();
  gw->directory_ = std::make_unique<FederationHolder>(std::move(*directory));
  const std::shared_ptr<const FederationDirectory> federation = gw->directory_->Current();

  auto store = OpenStore(config.store());
  if (!store.ok()) return store.status();
  gw->store_ = std::move(*store);
  gw->metrics_ = std::make_unique<GatewayMetrics>(gw->registry_);
  gw->store_->SetCommitObserver(
      [m = gw->metrics_.get()](size_t jobs, absl::Duration took, bool ok) {
        if (!ok) {
          m->commit_failures->Inc();
          return;
        }
        m->commit_seconds->Observe(absl::ToDoubleSeconds(took));
        m->commit_jobs->Observe(static_cast<double>(jobs));
      });
  gw->store_->SetSyncObserver([m = gw->metrics_.get()](absl::Duration took) {
    m->fsync_seconds->Observe(absl::ToDoubleSeconds(took));
  });

  // Checkpoints are signed with the federation's audit key; its public half
  // in the federation file is what verifiers trust.
  const auto& log_identity = federation->federation().audit_log();
  if (log_identity.origin().empty() || log_identity.public_key().size() != 32) {
    return absl::FailedPreconditionError(
        "federation file has no audit_log identity (origin and checkpoint public key)");
  }
  auto audit_key = LoadAuditSigningKey(config.audit_signing_key_file(), log_identity);
  if (!audit_key.ok()) return audit_key.status();
  gw->store_->SetCheckpointSigner(
      [key = *audit_key, origin = log_identity.origin()](
          uint64_t size, const std::string& root) -> absl::StatusOr<std::string> {
        return transparency::SignCheckpoint({origin, size, root}, origin, key.get());
      });
  // After the signer: registering keys appends key events to the log.
  auto keys = KeyDirectory::Load(gw->store_.get(), *federation, absl::Now());
  if (!keys.ok()) return keys.status();
  gw->keys_ = std::move(*keys);

  gw->isa_dir_ = config.isa_dir();
  gw->commencement_ = config.rule_commencement();
  if (auto st = gw->policy_.Reload(gw->isa_dir_, federation->policy_view(), gw->commencement_);
      !st.ok()) {
    return st;
  }
  policy::RulePack pack = policy::kDefaultRulePack;
  policy::ParseRulePack(config.rule_pack(), &pack);  // validated by FinalizeGatewayConfig

  auto cert = ReadFile(config.tls().cert_file());
  if (!cert.ok()) return cert.status();
  auto key = ReadFile(config.tls().key_file());
  if (!key.ok()) return key.status();

  if (auto own = ParsePeerCertificate(*cert); own.ok()) {
    gw->cert_not_after_ = own->not_after;
    const int64_t days = DaysToExpiry(own->not_after, absl::Now());
    LogEvent(days < 30 ? "warn" : "info", "certificate.expiry",
             {{"certificate", config.tls().cert_file()}, {"days_to_expiry", absl::StrCat(days)}});
  }
  grpc::SslServerCredentialsOptions tls(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  // Peer federations' CAs verify their gateways (and vouch for nothing else:
  // CheckCertificate matches each certificate to the CA that issued it).
  tls.pem_root_certs = *ca;
  for (const auto& peer : federation->federation().peers()) {
    tls.pem_root_certs += "\n" + federation->PeerCaPem(peer.id());
  }
  tls.pem_key_cert_pairs.push_back({*key, *cert});

  auto deadlines = DeadlinePolicy::FromConfig(config.delivery());
  if (!deadlines.ok()) return deadlines.status();
  gw->calendars_ = deadlines->calendars();
  gw->school_calendar_dir_ = config.delivery().school_calendar_dir();
  gw->advice_ =
      std::make_unique<AdviceService>(gw->directory_.get(), gw->store_.get(), &gw->notifier_,
                                      *deadlines, config.limits().max_reply_bytes());
  gw->referrals_ = std::make_unique<ReferralsService>(
      gw->directory_.get(), gw->keys_.get(), &gw->policy_, pack, gw->store_.get(), &gw->notifier_,
      std::move(*deadlines), config.max_message_bytes(), config.limits());
  gw->referrals_->SetMetrics(gw->metrics_.get());
  gw->mailbox_ = std::make_unique<MailboxService>(gw->directory_.get(), gw->store_.get(),
                                                  &gw->notifier_, config.limits());
  gw->peer_clients_ = std::make_unique<PeerClients>(*cert, *key);
  gw->directory_service_ = std::make_unique<DirectoryService>(gw->directory_.get(), gw->keys_.get(),
                                                              config.limits().max_reply_bytes(),
                                                              gw->peer_clients_.get());
  gw->peer_gateway_ = std::make_unique<PeerGatewayService>(gw->directory_.get(), gw->keys_.get(),
                                                           gw->store_.get(), gw->referrals_.get());

  gw->audit_ = std::make_unique<AuditService>(gw->directory_.get(), gw->store_.get(),
                                              config.limits().max_reply_bytes());

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(config.listen_address(), grpc::SslServerCredentials(tls), &gw->port_);
  // Leave headroom over the envelope limit so an oversized envelope reaches
  // Submit and gets a precise RESOURCE_EXHAUSTED instead of a transport error.
  builder.SetMaxReceiveMessageSize(static_cast<int>(config.max_message_bytes() + 64 * 1024));
  // Back-pressure at the transport: bounded memory for all calls, streams per
  // connection, and how long a connection may take to finish its handshake
  // (an idle pre-authentication connection is dropped after it).
  const auto& limits = config.limits();
  grpc::ResourceQuota quota("safeshare-gateway");
  quota.Resize(limits.transport_memory_bytes());
  builder.SetResourceQuota(quota);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             static_cast<int>(limits.max_concurrent_streams_per_connection()));
  builder.AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS,
                             static_cast<int>(limits.handshake_timeout_ms()));
  // A Subscribe stream with no mail sends nothing, and a load balancer's idle
  // timeout would cut it. Pinging while a call is open (never on a connection
  // with none) lets the balancer keep idle timeouts of minutes, not hours.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 60 * 1000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20 * 1000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 0);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  gw->notifier_.SetLimits(limits.max_streams_per_principal(), limits.max_streams_total());
  gw->store_->SetCommitQueueLimit(limits.max_commit_queue());
  gw->keys_->SetMaxKeysPerAgency(limits.max_keys_per_agency());
  builder.RegisterService(gw->referrals_.get());
  builder.RegisterService(gw->mailbox_.get());
  builder.RegisterService(gw->directory_service_.get());
  builder.RegisterService(gw->audit_.get());
  builder.RegisterService(gw->advice_.get());
  builder.RegisterService(gw->peer_gateway_.get());
  gw->server_ = builder.BuildAndStart();
  if (gw->server_ == nullptr || gw->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", config.listen_address(),
                     " (address in use, or certificate and key do not match)"));
  }
  gw->server_->GetHealthCheckService()->SetServingStatus(true);
  const uint32_t scan_ms = config.delivery().escalation_scan_ms();
  // Other replicas' mail and key changes (a no-op on the embedded store).
  gw->store_->SetEventListener(
      {[notifier = &gw->notifier_](const std::string& recipient) { notifier->Notify(recipient); },
       [keys = gw->keys_.get()] {
         if (auto st = keys->Reload(); !st.ok()) {
           LogEvent("error", "keys.reload_failed", {{"detail", std::string(st.message())}});
         }
       },
       [notifier = &gw->notifier_] { notifier->NotifyAll(); }});
  gw->escalator_ =
      std::make_unique<Escalator>(gw->store_.get(), gw->directory_.get(), &gw->notifier_,
                                  absl::Milliseconds(scan_ms ? scan_ms : 30000));
  if (config.development()) {
    LogEvent("warn", "gateway.development_mode",
             {{"detail", "development certificates are accepted; never run so in production"}});
  }
  if (auto st = gw->StartWitnessing(config, log_identity); !st.ok()) return st;
  gw->AddGauges();
  if (const std::string& at = config.metrics().listen_address(); !at.empty()) {
    auto listener =
        MetricsListener::Start(at, &gw->registry_, [gw = gw.get()] { return gw->Readiness(); });
    if (!listener.ok()) return listener.status();
    gw->metrics_listener_ = *std::move(listener);
  }
  // Always running, so that a peer added on SIGHUP is forwarded to (its
  // gateway's certificate is trusted from the next restart).
  gw->forwarder_ =
      std::make_unique<Forwarder>(gw->store_.get(), gw->directory_.get(), gw->keys_.get(),
                                  gw->peer_clients_.get(), config.peering());
  LogEvent(
      "info", "gateway.started",
      {{"listen", config.listen_address()},
       {"port", absl::StrCat(gw->port_)},
       {"store", RedactStoreUri(config.store())},
       {"federation", federation->id()},
       {"agencies", absl::StrCat(federation->federation().agencies_size())},
       {"revoked_certificates", absl::StrCat(federation->revocations().size())},
       {"development", config.development() ? "true" : "false"},
       {"agreements", absl::StrCat(gw->policy_.Current()->isa_count())},
       {"rule_pack", std::string(policy::RulePackName(pack))},
       {"witness_port", absl::StrCat(gw->witness_port())},
       {"peers", absl::StrCat(federation->federation().peers_size())},
       {"metrics_port", absl::StrCat(gw->metrics_listener_ ? gw->metrics_listener_->port() : 0)}});
  return gw;
}

absl::Status GatewayServer::StartWitnessing(const safeshare::v1::GatewayConfig& config,
                                            const safeshare::v1::AuditLogIdentity& log) {
  const auto& w = config.witnessing();
  bool asks_witnesses = false;
  if (!w.witness_policy_file().empty()) {
    auto policy = LoadWitnessPolicy(w.witness_policy_file());
    if (!policy.ok()) return policy.status();
    for (const auto& witness : policy->witnesses()) asks_witnesses |= !witness.url.empty();
    cosignatures_ = std::make_unique<CosignatureCollector>(*std::move(policy), w.witness_ca_file(),
                                                           store_.get(), store_.get());
    cosignatures_->Start(absl::Milliseconds(w.cosign_interval_ms()));
  }
  if (w.listen_address().empty()) return absl::OkStatus();
  WitnessListenerOptions options;
  options.listen_address = w.listen_address();
  options.cert_file = config.tls().cert_file();
  options.key_file = config.tls().key_file();
  options.witness_name = w.witness_name();
  options.serve_cosigned_checkpoint = asks_witnesses;
  auto key = LoadWitnessKey(w.witness_key_file(), log);
  if (!key.ok()) return key.status();
  options.witness_key = *std::move(key);
  for (const auto& vkey : w.followed_logs()) {
    auto parsed = transparency::ParseVerifierKey(vkey);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("witnessing.followed_logs \"", vkey, "\": ", parsed.status().message()));
    }
    options.logs.push_back({parsed->name, parsed->name, parsed->public_key});
  }
  auto listener = WitnessListener::Start(std::move(options), store_.get(), store_.get());
  if (!listener.ok()) return listener.status();
  witness_ = *std::move(listener);
  return absl::OkStatus();
}

absl::Status GatewayServer::Reload() {
  absl::Status federation = ReloadFederation();
  // Calls check every time; open streams are told to check again.
  if (federation.ok()) mailbox_->ReauthenticateSubscriptions();
  absl::Status policy = ReloadPolicy();
  const absl::Status st = federation.ok() ? policy : federation;
  metrics_->policy_reloads->Inc({st.ok() ? "ok" : "failed"});
  return st;
}

absl::Status GatewayServer::Readiness() {
  if (draining_) return absl::UnavailableError("draining");
  if (policy_.Current() == nullptr) return absl::UnavailableError("no sharing policy loaded");
  if (auto latest = store_->LatestCheckpoint(); !latest.ok()) {
    return absl::UnavailableError(absl::StrCat("store: ", latest.status().message()));
  }
  return absl::OkStatus();
}

void GatewayServer::AddGauges() {
  using Samples = MetricRegistry::Samples;
  auto one = [](double v) { return Samples{{{}, v}}; };
  registry_.AddGauge("safeshare_commit_queue_jobs", "Jobs waiting for the store's committer", {},
                     [this, one] { return one(static_cast<double>(store_->QueuedCommits())); });
  registry_.AddGauge("safeshare_store_bytes",
                     "Bytes the store takes (SQLite: database and WAL; PostgreSQL: database)", {},
                     [this, one] {
                       auto bytes = store_->SizeBytes();
                       return bytes.ok() ? one(static_cast<double>(*bytes)) : Samples{};
                     });
  registry_.AddGauge("safeshare_subscribers", "Open Mailbox.Subscribe streams", {},
                     [this, one] { return one(static_cast<double>(notifier_.subscribers())); });
  registry_.AddGauge("safeshare_agreements", "Information sharing agreements in force", {},
                     [this, one] {
                       auto engine = policy_.Current();
                       return one(engine ? static_cast<double>(engine->isa_count()) : 0);
                     });
  registry_.AddGauge("safeshare_audit_log_entries",
                     "Records in the audit log (the latest checkpoint's size)", {}, [this, one] {
                       auto latest = store_->LatestCheckpoint();
                       return latest.ok() ? one(static_cast<double>(latest->tree_size)) : Samples{};
                     });
  registry_.AddGauge(
      "safeshare_audit_log_last_record_timestamp_seconds",
      "When the newest audit record was written (Unix time): the log's age is now minus this", {},
      [this, one] {
        auto latest = store_->LatestCheckpoint();
        if (!latest.ok() || latest->tree_size == 0) return Samples{};
        auto leaf = store_->GetAuditLeaf(latest->tree_size - 1);
        safeshare::v1::AuditRecord r;
        if (!leaf.ok() || !r.ParseFromString(leaf->record)) return Samples{};
        return one(static_cast<double>(r.time().seconds()));
      });
  registry_.AddGauge(
      "safeshare_certificate_expiry_timestamp_seconds",
      "When a TLS certificate expires (Unix time): the gateway's, and each agency's as last "
      "presented",
      {"certificate"}, [this] {
        Samples out{{{"gateway"}, static_cast<double>(absl::ToUnixSeconds(cert_not_after_))}};
        for (const auto& [agency, not_after] : AgencyCertificateExpiries()) {
          out.push_back(
              {{"agency:" + agency}, static_cast<double>(absl::ToUnixSeconds(not_after))});
        }
        return out;
      });
  // One query per scrape for the three mailbox gauges (sampled in turn).
  auto mailboxes = [this]() -> std::vector<MailboxSummary> {
    absl::MutexLock lock(&mailbox_cache_mu_);
    const absl::Time now = absl::Now();
    if (now - mailbox_cache_time_ > absl::Seconds(1)) {
      auto fresh = store_->Mailboxes(now);
      mailbox_cache_ = fresh.ok() ? *std::move(fresh) : std::vector<MailboxSummary>{};
      mailbox_cache_time_ = now;
    }
    return mailbox_cache_;
  };
  registry_.AddGauge("safeshare_mailbox_waiting", "Unacknowledged messages per recipient agency",
                     {"agency"}, [mailboxes] {
                       Samples out;
                       for (const auto& m : mailboxes()) {
                         out.push_back({{m.agency_id}, static_cast<double>(m.waiting)});
                       }
                       return out;
                     });
  registry_.AddGauge(
      "safeshare_mailbox_oldest_unacknowledged_seconds",
      "Age of the oldest unacknowledged message per recipient agency", {"agency"}, [mailboxes] {
        Samples out;
        const absl::Time now = absl::Now();
        for (const auto& m : mailboxes()) {
          out.push_back({{m.agency_id}, absl::ToDoubleSeconds(now - m.oldest_accepted)});
        }
        return out;
      });
  registry_.AddGauge("safeshare_mailbox_overdue",
                     "Unacknowledged messages past their acknowledgement deadline per agency",
                     {"agency"}, [mailboxes] {
                       Samples out;
                       for (const auto& m : mailboxes()) {
                         out.push_back({{m.agency_id}, static_cast<double>(m.overdue)});
                       }
                       return out;
                     });
  registry_.AddGauge("process_resident_memory_bytes", "Resident set size of the gateway", {},
                     [one] {
                       std::ifstream statm("/proc/self/statm");
                       uint64_t pages = 0, resident = 0;
                       statm >> pages >> resident;
                       return one(static_cast<double>(resident * sysconf(_SC_PAGESIZE)));
                     });
}

absl::Status GatewayServer::ReloadFederation() {
  auto next = FederationDirectory::Load(federation_file_, trust_);
  absl::Status st = next.status();
  if (st.ok() && next->id() != directory_->Current()->id()) {
    // Every certificate, audit record and checkpoint names the federation.
    st = absl::FailedPreconditionError(
        absl::StrCat(federation_file_, ": the federation id changed from '",
                     directory_->Current()->id(), "' to '", next->id(), "'; restart to change it"));
  }
  if (st.ok() && next->federation().audit_log().SerializeAsString() !=
                     directory_->Current()->federation().audit_log().SerializeAsString()) {
    st = absl::FailedPreconditionError(absl::StrCat(
        federation_file_, ": audit_log changed; restart with the matching audit signing key"));
  }
  if (!st.ok()) {
    LogEvent("error", "federation.reload_failed",
             {{"file", federation_file_},
              {"detail", std::string(st.message())},
              {"in_force", "previous federation file kept"}});
    return st;
  }
  // New agencies' keys first, so they can be sealed to once they are members.
  if (absl::Status keys = keys_->Seed(*next, absl::Now()); !keys.ok()) {
    LogEvent("error", "federation.reload_failed",
             {{"file", federation_file_},
              {"detail", std::string(keys.message())},
              {"in_force", "previous federation file kept"}});
    return keys;
  }
  const CertificateRevocations& revoked = next->revocations();
  LogEvent("info", "federation.reloaded",
           {{"file", federation_file_},
            {"agencies", absl::StrCat(next->federation().agencies_size())},
            {"revoked_certificates", absl::StrCat(revoked.size())},
            {"crl_next_update",
             revoked.has_crl() ? absl::FormatTime(revoked.crl_next_update()) : "none"}});
  directory_->Replace(*std::move(next));
  return absl::OkStatus();
}

absl::Status GatewayServer::ReloadPolicy() {
  absl::Status st = policy_.Reload(isa_dir_, directory_->Current()->policy_view(), commencement_);
  if (absl::Status calendars = calendars_->Load(school_calendar_dir_); !calendars.ok()) {
    LogEvent("error", "school_calendars.reload_failed",
             {{"dir", school_calendar_dir_},
              {"detail", std::string(calendars.message())},
              {"in_force", "previous calendars kept"}});
    if (st.ok()) st = calendars;
  }
  if (st.ok()) {
    LogEvent("info", "policy.reloaded",
             {{"isa_dir", isa_dir_}, {"agreements", absl::StrCat(policy_.Current()->isa_count())}});
  } else {
    LogEvent("error", "policy.reload_failed",
             {{"isa_dir", isa_dir_},
              {"detail", std::string(st.message())},
              {"in_force", "previous policy kept"}});
  }
  return st;
}

void GatewayServer::Shutdown(absl::Duration grace) {
  draining_ = true;  // /readyz answers 503 from now
  escalator_.reset();
  forwarder_.reset();
  cosignatures_.reset();
  witness_.reset();
  if (store_ != nullptr) store_->SetEventListener({});
  if (server_ == nullptr) return;
  server_->GetHealthCheckService()->SetServingStatus(false);
  server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  server_->Wait();
  server_.reset();
  LogEvent("info", "gateway.stopped");
}

GatewayServer::~GatewayServer() { Shutdown(absl::ZeroDuration()); }

}  // namespace safeshare::gateway
