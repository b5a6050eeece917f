// safeshare-gateway: the mutual-TLS gRPC gateway.
//
//   safeshare-gateway --config /etc/safeshare/gateway.textproto
//   safeshare-gateway --listen 127.0.0.1:7443 --ca ca.pem --cert gw.pem --key gw.key
//       --store sqlite:///var/lib/safeshare/gateway.db --federation federation.textproto
//   safeshare-gateway check --config /etc/safeshare/gateway.textproto
//       checks everything it would load, starts nothing; exit 1 on any problem
//   safeshare-gateway backup --config C --out FILE
//       an online, verified copy of the SQLite store (the gateway may be running)
//   safeshare-gateway restore --config C --from FILE [--replace]
//       verifies a backup and puts it where the store is (the gateway stopped)

#include <malloc.h>
#include <signal.h>

#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/files.h"
#include "common/log.h"
#include "gateway/backup_restore.h"
#include "gateway/config.h"
#include "gateway/gateway_server.h"
#include "gateway/preflight.h"
#include "gateway/tls13.h"

ABSL_FLAG(std::string, config, "", "Gateway config file (proto text, safeshare.v1.GatewayConfig)");
ABSL_FLAG(std::string, listen, "", "host:port to listen on (overrides config)");
ABSL_FLAG(std::string, ca, "", "Federation CA certificate PEM (overrides config)");
ABSL_FLAG(std::string, cert, "", "Gateway certificate PEM (overrides config)");
ABSL_FLAG(std::string, key, "", "Gateway private key PEM (overrides config)");
ABSL_FLAG(std::string, store, "", "Store URI, e.g. sqlite:///var/lib/safeshare/gateway.db");
ABSL_FLAG(std::string, federation, "", "Federation file (proto text, safeshare.v1.Federation)");
ABSL_FLAG(uint64_t, max_message_bytes, 0, "Largest accepted envelope (default 4 MiB)");
ABSL_FLAG(std::string, isa_dir, "", "Information sharing agreements directory (overrides config)");
ABSL_FLAG(std::string, audit_key, "", "Audit checkpoint signing key PEM (overrides config)");
ABSL_FLAG(std::string, rule_pack, "", "Golden rules edition: 2024 (default) or 2018");
ABSL_FLAG(uint32_t, immediate_ack_seconds, 0, "Acknowledge deadline for immediate urgency");
ABSL_FLAG(uint32_t, urgent_ack_seconds, 0, "Acknowledge deadline for urgent messages");
ABSL_FLAG(uint32_t, standard_ack_seconds, 0,
          "Fixed deadline for standard messages (default: one working day)");
ABSL_FLAG(uint32_t, escalation_scan_ms, 0, "How often overdue messages are looked for");
ABSL_FLAG(std::string, school_calendar_dir, "",
          "School calendars for Operation Encompass deadlines (overrides config)");
ABSL_FLAG(std::string, runtime_dir, "",
          "Directory for runtime files (default: the SQLite file's directory, else /tmp)");
ABSL_FLAG(std::string, witness_listen, "",
          "host:port of the HTTPS witnessing listener (overrides witnessing.listen_address)");
ABSL_FLAG(std::string, witness_key, "", "PEM Ed25519 key this gateway cosigns peers' logs with");
ABSL_FLAG(std::string, witness_name, "", "This witness's key name");
ABSL_FLAG(std::vector<std::string>, follow_logs, {},
          "Checkpoint verifier keys of the logs this gateway witnesses, comma-separated");
ABSL_FLAG(std::string, witness_policy, "",
          "tlog-policy file: the witnesses (with URLs) asked to cosign this log");
ABSL_FLAG(std::string, witness_ca, "", "CA certificates (PEM) of the witnesses' listeners");
ABSL_FLAG(uint32_t, cosign_interval_ms, 0, "How often checkpoints go to the witnesses");
ABSL_FLAG(std::string, metrics_listen, "",
          "host:port (or a port, on 127.0.0.1) for /metrics, /healthz and /readyz over HTTP");
ABSL_FLAG(uint32_t, forward_interval_ms, 0,
          "How often messages for peer federations are forwarded and their states asked for");
ABSL_FLAG(std::string, out, "", "backup: the file to write (never overwritten)");
ABSL_FLAG(std::string, from, "", "restore: the backup to restore");
ABSL_FLAG(bool, replace, false, "restore: move an existing store aside and restore over it");
ABSL_FLAG(std::string, port_file, "", "Write the bound port here once serving (for tests)");
ABSL_FLAG(bool, development, false,
          "Accept development certificates (issued by safeshare pki); never in production");

namespace {

using safeshare::LogEvent;

int Fail(const absl::Status& st) {
  LogEvent("error", "gateway.start_failed",
           {{"code", absl::StatusCodeToString(st.code())}, {"detail", std::string(st.message())}});
  return 1;
}

std::string RuntimeDir(const safeshare::v1::GatewayConfig& config) {
  if (!absl::GetFlag(FLAGS_runtime_dir).empty()) return absl::GetFlag(FLAGS_runtime_dir);
  if (absl::StartsWith(config.store(), "sqlite://")) {
    return safeshare::DirectoryOf(config.store().substr(9));
  }
  return "/tmp";
}

// The configuration file, then each flag that was given over it.
absl::StatusOr<safeshare::v1::GatewayConfig> ConfigFromFlags() {
  safeshare::v1::GatewayConfig config;
  if (!absl::GetFlag(FLAGS_config).empty()) {
    auto loaded = safeshare::gateway::LoadGatewayConfig(absl::GetFlag(FLAGS_config));
    if (!loaded.ok()) return loaded.status();
    config = *loaded;
  }
  auto set = [](const absl::Flag<std::string>& flag, auto&& setter) {
    if (!absl::GetFlag(flag).empty()) setter(absl::GetFlag(flag));
  };
  auto* tls = config.mutable_tls();
  set(FLAGS_listen, [&](const std::string& v) { config.set_listen_address(v); });
  set(FLAGS_ca, [&](const std::string& v) { tls->set_ca_cert_file(v); });
  set(FLAGS_cert, [&](const std::string& v) { tls->set_cert_file(v); });
  set(FLAGS_key, [&](const std::string& v) { tls->set_key_file(v); });
  set(FLAGS_store, [&](const std::string& v) { config.set_store(v); });
  set(FLAGS_federation, [&](const std::string& v) { config.set_federation_file(v); });
  set(FLAGS_isa_dir, [&](const std::string& v) { config.set_isa_dir(v); });
  set(FLAGS_rule_pack, [&](const std::string& v) { config.set_rule_pack(v); });
  set(FLAGS_audit_key, [&](const std::string& v) { config.set_audit_signing_key_file(v); });
  if (absl::GetFlag(FLAGS_development)) config.set_development(true);
  if (absl::GetFlag(FLAGS_max_message_bytes) != 0) {
    config.set_max_message_bytes(absl::GetFlag(FLAGS_max_message_bytes));
  }
  auto* delivery = config.mutable_delivery();
  if (uint32_t v = absl::GetFlag(FLAGS_immediate_ack_seconds)) {
    delivery->set_immediate_ack_seconds(v);
  }
  if (uint32_t v = absl::GetFlag(FLAGS_urgent_ack_seconds)) delivery->set_urgent_ack_seconds(v);
  if (uint32_t v = absl::GetFlag(FLAGS_standard_ack_seconds)) delivery->set_standard_ack_seconds(v);
  if (uint32_t v = absl::GetFlag(FLAGS_escalation_scan_ms)) delivery->set_escalation_scan_ms(v);
  if (const std::string v = absl::GetFlag(FLAGS_school_calendar_dir); !v.empty()) {
    delivery->set_school_calendar_dir(v);
  }
  auto* witnessing = config.mutable_witnessing();
  set(FLAGS_witness_listen, [&](const std::string& v) { witnessing->set_listen_address(v); });
  set(FLAGS_witness_key, [&](const std::string& v) { witnessing->set_witness_key_file(v); });
  set(FLAGS_witness_name, [&](const std::string& v) { witnessing->set_witness_name(v); });
  set(FLAGS_witness_policy, [&](const std::string& v) { witnessing->set_witness_policy_file(v); });
  set(FLAGS_witness_ca, [&](const std::string& v) { witnessing->set_witness_ca_file(v); });
  for (const auto& vkey : absl::GetFlag(FLAGS_follow_logs)) witnessing->add_followed_logs(vkey);
  if (uint32_t v = absl::GetFlag(FLAGS_cosign_interval_ms)) witnessing->set_cosign_interval_ms(v);
  set(FLAGS_metrics_listen,
      [&](const std::string& v) { config.mutable_metrics()->set_listen_address(v); });
  if (uint32_t v = absl::GetFlag(FLAGS_forward_interval_ms)) {
    config.mutable_peering()->set_forward_interval_ms(v);
  }
  if (absl::Status st = safeshare::gateway::FinalizeGatewayConfig(config); !st.ok()) return st;
  return config;
}

// For tests and scripts: the bound port, written atomically once serving.
void WritePortFile(int port) {
  const std::string path = absl::GetFlag(FLAGS_port_file);
  if (path.empty()) return;
  (void)safeshare::WriteFileAtomically(path, absl::StrCat(port, "\n"), 0644);
}

// Waits for SIGTERM or SIGINT (returned), reloading the federation file and
// the policy on SIGHUP. glibc
// keeps what a burst allocated (a stall's backlog of calls) in its arenas
// after it is freed; trimming every 30 s returns those pages, so RSS follows
// what is in use instead of the highest burst so far.
int ServeUntilStopped(const sigset_t& stop_signals, safeshare::gateway::GatewayServer& server) {
  const timespec trim_interval{30, 0};
  for (;;) {
    const int sig = sigtimedwait(&stop_signals, nullptr, &trim_interval);
    if (sig < 0) {
      malloc_trim(0);
      continue;
    }
    if (sig != SIGHUP) return sig;
    (void)server.Reload();  // logged; what fails to load stays as it was
  }
}

// `check`: prints what the gateway would run with, then each warning and
// problem; exit 1 on any problem.
int Check(const safeshare::v1::GatewayConfig& config) {
  const auto report = safeshare::gateway::CheckConfiguration(config, absl::Now());
  for (const auto& f : report.facts) std::printf("ok       %s\n", f.c_str());
  for (const auto& w : report.warnings) std::printf("warning  %s\n", w.c_str());
  for (const auto& p : report.problems) std::printf("problem  %s\n", p.c_str());
  std::printf("%s\n", report.ok() ? "the gateway can start with this configuration"
                                  : "the gateway would not start or would fail; fix the above");
  return report.ok() ? 0 : 1;
}

// `backup` and `restore`: one line saying what was done, or why not.
int BackUpOrRestore(const std::string& command, const safeshare::v1::GatewayConfig& config) {
  absl::StatusOr<std::string> done =
      command == "backup"
          ? safeshare::gateway::BackUpStore(config, absl::GetFlag(FLAGS_out))
          : safeshare::gateway::RestoreStore(config, absl::GetFlag(FLAGS_from),
                                             absl::GetFlag(FLAGS_replace), absl::Now());
  if (!done.ok()) {
    std::fprintf(stderr, "%s failed (%s): %s\n", command.c_str(),
                 absl::StatusCodeToString(done.status().code()).c_str(),
                 std::string(done.status().message()).c_str());
    return 1;
  }
  std::printf("%s\n", done->c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "safeshare gateway: mutual-TLS gRPC broker for safeguarding referrals\n"
      "  safeshare-gateway [flags]         serve\n"
      "  safeshare-gateway check [flags]   check the configuration, start nothing\n"
      "  safeshare-gateway backup --out FILE [flags]     online, verified backup (SQLite)\n"
      "  safeshare-gateway restore --from FILE [--replace] [flags]   verify and restore");
  const std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  if (positional.size() > 1) {
    const std::string command = positional[1];
    if (positional.size() != 2 ||
        (command != "check" && command != "backup" && command != "restore")) {
      std::fprintf(stderr, "unknown command '%s'; the commands are check, backup and restore\n",
                   positional[1]);
      return 2;
    }
    auto config = ConfigFromFlags();
    if (!config.ok()) {
      std::printf("problem  %s\n", std::string(config.status().message()).c_str());
      return 1;
    }
    if (command == "check") return Check(*config);
    return BackUpOrRestore(command, *config);
  }
  // Debian's Abseil checks lock order on every Mutex operation (about 1% of a
  // Submit's CPU); the unit tests keep that check, the server skips it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  // Block the stop signals in every thread; main waits for them below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto config = ConfigFromFlags();
  if (!config.ok()) return Fail(config.status());
  // Must precede the first TLS context.
  if (absl::Status st = safeshare::gateway::RestrictProcessToTls13(RuntimeDir(*config)); !st.ok()) {
    return Fail(st);
  }
  auto server = safeshare::gateway::GatewayServer::Start(*config);
  if (!server.ok()) return Fail(server.status());
  WritePortFile((*server)->port());

  const int sig = ServeUntilStopped(stop_signals, **server);
  LogEvent("info", "gateway.stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  (*server)->Shutdown(absl::Seconds(10));
  return 0;
}
