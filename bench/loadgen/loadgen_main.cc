// safeshare_loadgen: load generator for the gateway benchmark (bench/run.sh
// gateway). Sends sealed, signed referrals that the development federation's
// agreements allow, from N agencies on their own mutual-TLS channels, to the
// gateway's Submit or to safeshare_echo_server, and prints throughput and
// latency percentiles as a table and as one JSON line (the last line).
//
//   safeshare_loadgen --target gateway --address localhost:7443
//       --federation .safeshare-dev/federation --in_flight 32 --duration 10
//   safeshare_loadgen --target gateway ... --rate 500 --subscribers 5
//   safeshare_loadgen --target gateway --address localhost:7443,localhost:7444 ...
//
// With several addresses (gateway replicas on one database), agency i and
// subscriber i connect to address i % n.
//
// Closed loop (default): --in_flight calls always outstanding; before the
// warm-up a short calibration sizes the pool of pre-sealed envelopes, since
// every gateway call needs a fresh message id. Open loop: --rate calls per
// second on a fixed schedule, latency counted from each call's scheduled
// start.

#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "agents/agent_client.h"
#include "bench/loadgen/load_runner.h"
#include "bench/loadgen/workload.h"
#include "common/log.h"

ABSL_FLAG(std::string, target, "gateway", "gateway (Referrals.Submit) or echo (the baseline)");
ABSL_FLAG(std::string, address, "",
          "host:port of the server, or a comma-separated list (replicas; agency i uses the "
          "i % n-th); the host must match the server's certificate");
ABSL_FLAG(std::string, federation, "", "Development federation directory (safeshare pki init)");
ABSL_FLAG(std::string, examples_dir, SAFESHARE_SOURCE_DIR "/deploy/examples",
          "Where the example declarations are");
ABSL_FLAG(int, agencies, 4, "Sending agencies, each on its own channel (1-8)");
ABSL_FLAG(int, in_flight, 32, "Closed loop: calls outstanding at all times");
ABSL_FLAG(double, rate, 0, "Open loop: calls per second (0: closed loop)");
ABSL_FLAG(double, warmup, 2, "Seconds of load before the measured window");
ABSL_FLAG(double, duration, 10, "Seconds measured");
ABSL_FLAG(uint64_t, payload_bytes, 2048, "Referral content size before sealing");
ABSL_FLAG(int, subscribers, 0,
          "Recipient agencies that subscribe to their mailboxes and acknowledge (gateway)");
ABSL_FLAG(uint64_t, requests, 0,
          "Closed loop on the gateway: envelopes to pre-seal (0: size them by calibration)");
ABSL_FLAG(double, calibrate, 2, "Closed loop on the gateway: seconds of calibration load");
ABSL_FLAG(uint64_t, max_pool_mib, 4096,
          "Closed loop on the gateway: memory for pre-sealed envelopes at most");
ABSL_FLAG(double, timeout, 30, "Per-call deadline in seconds");
ABSL_FLAG(int, build_threads, 0, "Threads sealing envelopes (0: one per core)");
ABSL_FLAG(double, delivery_grace, 15, "Seconds to wait for subscribers to receive everything");
ABSL_FLAG(std::string, label, "", "Name of this run in the JSON line");
ABSL_FLAG(std::string, json_out, "", "Also append the JSON line to this file");
ABSL_FLAG(std::string, measure_start_file, "",
          "Touched when the measured window starts (for scripts sampling the server)");
ABSL_FLAG(bool, fail_on_error, false,
          "Exit 1 if any call failed or a subscribed message was not delivered");

namespace {

using safeshare::JsonString;
using safeshare::bench::DeliveryStats;
using safeshare::bench::LatencySummary;
using safeshare::bench::RunStats;

int Fail(const absl::Status& st) {
  std::fprintf(stderr, "safeshare_loadgen: %s\n", st.ToString().c_str());
  return 2;
}

std::string RunId() {
  std::random_device rd;
  return absl::StrFormat("%08x%04x", rd(), rd() & 0xffff);
}

absl::StatusOr<safeshare::bench::AgencyDirectory> Directory(bool gateway,
                                                            const std::string& federation,
                                                            const std::string& address,
                                                            const std::string& first_sender) {
  if (!gateway) return safeshare::bench::LoadDirectoryFile(federation + "/federation.textproto");
  // The gateway's directory names the keys currently in force.
  auto identity = safeshare::agents::LoadIdentity(federation + "/agencies/" + first_sender);
  if (!identity.ok()) return identity.status();
  auto client = safeshare::agents::AgentClient::Connect(address, *identity, absl::Seconds(10));
  auto listed = client->ListAgencies();
  if (!listed.ok()) return listed.status();
  safeshare::bench::AgencyDirectory directory;
  for (const auto& a : listed->agencies()) directory[a.id()] = a;
  return directory;
}

std::string LatencyRow(const char* what, const LatencySummary& s) {
  return absl::StrFormat("  %-11s %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f  (%d samples)\n", what,
                         s.mean_ms, s.p50_ms, s.p90_ms, s.p99_ms, s.p999_ms, s.max_ms, s.count);
}

// What the flags ask for, checked.
struct Settings {
  std::string target;
  bool gateway = true;
  std::string federation;
  std::vector<std::string> addresses;
  double rate = 0, warmup_s = 0, duration_s = 0;
  int subscribers = 0, agencies = 0, in_flight = 0;
};

absl::StatusOr<Settings> SettingsFromFlags() {
  Settings s;
  s.target = absl::GetFlag(FLAGS_target);
  if (s.target != "gateway" && s.target != "echo") {
    return absl::InvalidArgumentError("--target must be gateway or echo");
  }
  s.gateway = s.target == "gateway";
  s.federation = absl::GetFlag(FLAGS_federation);
  s.addresses = absl::StrSplit(absl::GetFlag(FLAGS_address), ',');
  if (absl::GetFlag(FLAGS_address).empty() || s.federation.empty()) {
    return absl::InvalidArgumentError("--address and --federation are required");
  }
  for (const std::string& a : s.addresses) {
    if (a.empty()) return absl::InvalidArgumentError("--address has an empty entry");
  }
  s.rate = absl::GetFlag(FLAGS_rate);
  s.warmup_s = absl::GetFlag(FLAGS_warmup);
  s.duration_s = absl::GetFlag(FLAGS_duration);
  s.subscribers = absl::GetFlag(FLAGS_subscribers);
  s.in_flight = absl::GetFlag(FLAGS_in_flight);
  if (s.rate < 0 || s.warmup_s < 0 || s.duration_s <= 0 || s.in_flight < 1) {
    return absl::InvalidArgumentError(
        "--rate and --warmup must be >= 0, --duration > 0, --in_flight >= 1");
  }
  if (s.subscribers > 0 && !s.gateway) {
    return absl::InvalidArgumentError("--subscribers needs --target gateway");
  }
  s.agencies = absl::GetFlag(FLAGS_agencies);
  if (s.agencies < 1 || s.agencies > safeshare::bench::kMaxAgencies) {
    return absl::InvalidArgumentError("--agencies must be 1 to 8");
  }
  return s;
}

// Closed loop on the gateway: sizes the pool of pre-sealed envelopes from the
// rate of the calibration's second half (the first connects and warms the
// server), doubled, since a warm server runs faster than a cold one. Returns
// the errors the calibration saw.
absl::StatusOr<uint64_t> Calibrate(const Settings& s, safeshare::bench::LoadRunner& load) {
  const double calibrate_s = absl::GetFlag(FLAGS_calibrate);
  uint64_t errors = 0;
  uint64_t batch = std::max<uint64_t>(4000, 20 * s.in_flight);
  uint64_t cap = 0;
  RunStats calibration;
  for (;;) {
    if (auto st = load.EnsureRequests(load.requests_used() + batch); !st.ok()) return st;
    cap = (absl::GetFlag(FLAGS_max_pool_mib) << 20) / load.request_bytes();
    calibration = load.Run(absl::Seconds(calibrate_s / 2), absl::Seconds(calibrate_s / 2));
    errors += calibration.errors + calibration.errors_outside_window;
    // Spent before the second half measured much (a fast server: its rate
    // would read as ~0 and the run's pool run out in the warm-up): more.
    if (!calibration.pool_exhausted || calibration.window_s >= calibrate_s / 4 || 4 * batch > cap) {
      break;
    }
    batch *= 4;
  }
  uint64_t more = static_cast<uint64_t>(
      std::ceil(std::max(calibration.throughput_per_s, 100.0) * (s.warmup_s + s.duration_s) * 2));
  if (more > cap) {
    std::fprintf(stderr, "safeshare_loadgen: sealing %llu envelopes (--max_pool_mib), not %llu\n",
                 static_cast<unsigned long long>(cap), static_cast<unsigned long long>(more));
    more = cap;
  }
  if (auto st = load.EnsureRequests(load.requests_used() + more + 2 * s.in_flight); !st.ok()) {
    return st;
  }
  return errors;
}

// Seals everything the measured run needs before it starts. Returns the
// errors seen on the way (calibration load).
absl::StatusOr<uint64_t> PreSeal(const Settings& s, safeshare::bench::LoadRunner& load) {
  if (!s.gateway) {
    if (auto st = load.EnsureRequests(0); !st.ok()) return st;
    return 0;
  }
  if (s.rate > 0) {
    auto st = load.EnsureRequests(
        static_cast<uint64_t>(std::ceil(s.rate * (s.warmup_s + s.duration_s))) + 16);
    if (!st.ok()) return st;
    return 0;
  }
  if (absl::GetFlag(FLAGS_requests) > 0) {
    if (auto st = load.EnsureRequests(absl::GetFlag(FLAGS_requests)); !st.ok()) return st;
    return 0;
  }
  return Calibrate(s, load);
}

// The human table, then the machine's JSON line (the last line printed).
struct Report {
  const Settings& s;
  uint64_t payload_bytes;
  uint64_t request_bytes;
  const RunStats& stats;
  const DeliveryStats& delivery;
  uint64_t other_errors;

  std::string Mode() const {
    return s.rate > 0 ? absl::StrFormat("open loop, %.0f/s", s.rate)
                      : absl::StrFormat("closed loop, %d in flight", s.in_flight);
  }

  std::string Table() const {
    std::string table = absl::StrFormat(
        "safeshare_loadgen: %s at %s, %s, %d agencies, %d B payload (%d B request)\n", s.target,
        absl::GetFlag(FLAGS_address), Mode(), s.agencies, payload_bytes, request_bytes);
    absl::StrAppendFormat(&table, "  window      %.2f s after %.1f s warm-up%s\n", stats.window_s,
                          s.warmup_s,
                          stats.pool_exhausted ? " (CUT SHORT: envelopes ran out)" : "");
    absl::StrAppendFormat(&table, "  calls       %d ok, %d errors (%d more before the window)\n",
                          stats.ok, stats.errors, other_errors);
    absl::StrAppendFormat(&table, "  throughput  %.1f /s\n", stats.throughput_per_s);
    absl::StrAppend(&table, "  ms              mean      p50      p90      p99    p99.9      max\n",
                    LatencyRow("latency", stats.latency));
    if (s.subscribers > 0) {
      absl::StrAppendFormat(&table,
                            "  delivered   %d of %d to %d subscribers, %d acked, %d ack errors\n",
                            delivery.delivered, delivery.expected, s.subscribers, delivery.acked,
                            delivery.ack_errors);
      absl::StrAppend(&table, LatencyRow("delivery", delivery.latency));
    }
    for (const auto& e : stats.error_samples) absl::StrAppend(&table, "  error: ", e, "\n");
    return table;
  }

  std::string Json() const {
    std::vector<std::string> samples;
    for (const auto& e : stats.error_samples) samples.push_back(JsonString(e));
    std::string json = absl::StrFormat(
        "{\"label\":%s,\"target\":\"%s\",\"mode\":\"%s\",\"in_flight\":%d,\"rate\":%.1f,"
        "\"agencies\":%d,\"subscribers\":%d,\"payload_bytes\":%d,\"request_bytes\":%d,"
        "\"warmup_s\":%.1f,\"duration_s\":%.1f,\"window_s\":%.3f,\"pool_exhausted\":%s,"
        "\"calls\":%d,\"ok\":%d,\"errors\":%d,\"errors_outside_window\":%d,"
        "\"throughput_per_s\":%.1f,%s",
        JsonString(absl::GetFlag(FLAGS_label)), s.target, s.rate > 0 ? "open" : "closed",
        s.rate > 0 ? 0 : s.in_flight, s.rate, s.agencies, s.subscribers, payload_bytes,
        request_bytes, s.warmup_s, s.duration_s, stats.window_s,
        stats.pool_exhausted ? "true" : "false", stats.started, stats.ok, stats.errors,
        other_errors, stats.throughput_per_s, safeshare::bench::JsonFields("", stats.latency));
    if (s.subscribers > 0) {
      absl::StrAppendFormat(&json,
                            ",\"expected\":%d,\"delivered\":%d,\"acked\":%d,\"ack_errors\":%d,"
                            "\"other_messages\":%d,%s",
                            delivery.expected, delivery.delivered, delivery.acked,
                            delivery.ack_errors, delivery.other_messages,
                            safeshare::bench::JsonFields("delivery_", delivery.latency));
    }
    absl::StrAppend(&json, ",\"error_samples\":[", absl::StrJoin(samples, ","), "]}");
    return json;
  }
};

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("load generator for the safeshare gateway benchmark");
  absl::ParseCommandLine(argc, argv);
  // As in the gateway: no run-time lock-order checks from Debian's Abseil.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  auto settings = SettingsFromFlags();
  if (!settings.ok()) return Fail(settings.status());
  const Settings& s = *settings;

  // Replicas share one database, so any of them has the directory.
  auto directory = Directory(s.gateway, s.federation, s.addresses[0],
                             safeshare::bench::DevFederationRoutes()[0].sender);
  if (!directory.ok()) return Fail(directory.status());
  safeshare::bench::WorkloadOptions workload;
  workload.federation_dir = s.federation;
  workload.examples_dir = absl::GetFlag(FLAGS_examples_dir);
  workload.agencies = s.agencies;
  workload.payload_bytes = absl::GetFlag(FLAGS_payload_bytes);
  workload.run_id = RunId();
  auto factory = safeshare::bench::EnvelopeFactory::Create(workload, *directory);
  if (!factory.ok()) return Fail(factory.status());

  safeshare::bench::LoadRunner::Options options;
  options.target = s.gateway ? safeshare::bench::Target::kGateway : safeshare::bench::Target::kEcho;
  options.addresses = s.addresses;
  options.in_flight = s.in_flight;
  options.rate = s.rate;
  options.call_timeout = absl::Seconds(absl::GetFlag(FLAGS_timeout));
  options.build_threads = absl::GetFlag(FLAGS_build_threads) > 0
                              ? absl::GetFlag(FLAGS_build_threads)
                              : std::max(1u, std::thread::hardware_concurrency());
  auto runner = safeshare::bench::LoadRunner::Create(options, factory->get());
  if (!runner.ok()) return Fail(runner.status());
  safeshare::bench::LoadRunner& load = **runner;
  if (s.subscribers > 0) {
    if (auto st = load.StartSubscribers(s.subscribers); !st.ok()) return Fail(st);
  }
  auto calibration_errors = PreSeal(s, load);
  if (!calibration_errors.ok()) return Fail(calibration_errors.status());

  if (!absl::GetFlag(FLAGS_measure_start_file).empty()) {
    load.set_measure_start_file(absl::GetFlag(FLAGS_measure_start_file));
  }
  RunStats stats = load.Run(absl::Seconds(s.warmup_s), absl::Seconds(s.duration_s));
  DeliveryStats delivery;
  if (s.subscribers > 0) {
    delivery = load.StopSubscribers(absl::Seconds(absl::GetFlag(FLAGS_delivery_grace)));
  }
  const Report report{s,
                      workload.payload_bytes,
                      load.request_bytes(),
                      stats,
                      delivery,
                      *calibration_errors + stats.errors_outside_window};
  std::fputs(report.Table().c_str(), stdout);
  const std::string json = report.Json();
  std::printf("%s\n", json.c_str());
  std::fflush(stdout);
  if (const std::string path = absl::GetFlag(FLAGS_json_out); !path.empty()) {
    std::ofstream(path, std::ios::app) << json << "\n";
  }

  if (stats.pool_exhausted) {
    // A shorter window is still a measurement; under half of it is not.
    std::fprintf(stderr,
                 "safeshare_loadgen: the pre-sealed envelopes ran out %.1f s into the window; "
                 "pass --requests\n",
                 stats.window_s);
    if (stats.window_s < s.duration_s / 2) return 3;
  }
  const bool failed = stats.errors + report.other_errors + delivery.ack_errors > 0 ||
                      delivery.delivered < delivery.expected;
  return failed && absl::GetFlag(FLAGS_fail_on_error) ? 1 : 0;
}
