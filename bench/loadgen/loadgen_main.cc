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

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += absl::StrFormat("\\u%04x", c);
    } else {
      out += c;
    }
  }
  return out + "\"";
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

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("load generator for the safeshare gateway benchmark");
  absl::ParseCommandLine(argc, argv);
  // As in the gateway: no run-time lock-order checks from Debian's Abseil.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  const std::string target = absl::GetFlag(FLAGS_target);
  if (target != "gateway" && target != "echo") {
    return Fail(absl::InvalidArgumentError("--target must be gateway or echo"));
  }
  const bool gateway = target == "gateway";
  const std::string federation = absl::GetFlag(FLAGS_federation);
  const std::vector<std::string> addresses = absl::StrSplit(absl::GetFlag(FLAGS_address), ',');
  if (absl::GetFlag(FLAGS_address).empty() || federation.empty()) {
    return Fail(absl::InvalidArgumentError("--address and --federation are required"));
  }
  for (const std::string& a : addresses) {
    if (a.empty()) return Fail(absl::InvalidArgumentError("--address has an empty entry"));
  }
  const double rate = absl::GetFlag(FLAGS_rate);
  const double warmup_s = absl::GetFlag(FLAGS_warmup);
  const double duration_s = absl::GetFlag(FLAGS_duration);
  const int subscribers = absl::GetFlag(FLAGS_subscribers);
  if (rate < 0 || warmup_s < 0 || duration_s <= 0 || absl::GetFlag(FLAGS_in_flight) < 1) {
    return Fail(absl::InvalidArgumentError(
        "--rate and --warmup must be >= 0, --duration > 0, --in_flight >= 1"));
  }
  if (subscribers > 0 && !gateway) {
    return Fail(absl::InvalidArgumentError("--subscribers needs --target gateway"));
  }
  const int agencies = absl::GetFlag(FLAGS_agencies);
  if (agencies < 1 || agencies > safeshare::bench::kMaxAgencies) {
    return Fail(absl::InvalidArgumentError("--agencies must be 1 to 8"));
  }

  // Replicas share one database, so any of them has the directory.
  auto directory = Directory(gateway, federation, addresses[0],
                             safeshare::bench::DevFederationRoutes()[0].sender);
  if (!directory.ok()) return Fail(directory.status());
  safeshare::bench::WorkloadOptions workload;
  workload.federation_dir = federation;
  workload.examples_dir = absl::GetFlag(FLAGS_examples_dir);
  workload.agencies = agencies;
  workload.payload_bytes = absl::GetFlag(FLAGS_payload_bytes);
  workload.run_id = RunId();
  auto factory = safeshare::bench::EnvelopeFactory::Create(workload, *directory);
  if (!factory.ok()) return Fail(factory.status());

  safeshare::bench::LoadRunner::Options options;
  options.target = gateway ? safeshare::bench::Target::kGateway : safeshare::bench::Target::kEcho;
  options.addresses = addresses;
  options.in_flight = absl::GetFlag(FLAGS_in_flight);
  options.rate = rate;
  options.call_timeout = absl::Seconds(absl::GetFlag(FLAGS_timeout));
  options.build_threads = absl::GetFlag(FLAGS_build_threads) > 0
                              ? absl::GetFlag(FLAGS_build_threads)
                              : std::max(1u, std::thread::hardware_concurrency());
  auto runner = safeshare::bench::LoadRunner::Create(options, factory->get());
  if (!runner.ok()) return Fail(runner.status());
  safeshare::bench::LoadRunner& load = **runner;
  if (subscribers > 0) {
    if (auto st = load.StartSubscribers(subscribers); !st.ok()) return Fail(st);
  }

  // Seal everything the measured run needs before it starts.
  uint64_t calibration_errors = 0;
  const double window_s = warmup_s + duration_s;
  if (!gateway) {
    if (auto st = load.EnsureRequests(0); !st.ok()) return Fail(st);
  } else if (rate > 0) {
    if (auto st = load.EnsureRequests(static_cast<uint64_t>(std::ceil(rate * window_s)) + 16);
        !st.ok()) {
      return Fail(st);
    }
  } else if (absl::GetFlag(FLAGS_requests) > 0) {
    if (auto st = load.EnsureRequests(absl::GetFlag(FLAGS_requests)); !st.ok()) return Fail(st);
  } else {
    // The rate of the calibration's second half (the first connects and warms
    // the server), doubled: a warm server runs faster than a cold one.
    const double calibrate_s = absl::GetFlag(FLAGS_calibrate);
    uint64_t batch = std::max<uint64_t>(4000, 20 * options.in_flight);
    uint64_t cap = 0;
    RunStats calibration;
    for (;;) {
      if (auto st = load.EnsureRequests(load.requests_used() + batch); !st.ok()) return Fail(st);
      cap = (absl::GetFlag(FLAGS_max_pool_mib) << 20) / load.request_bytes();
      calibration = load.Run(absl::Seconds(calibrate_s / 2), absl::Seconds(calibrate_s / 2));
      calibration_errors += calibration.errors + calibration.errors_outside_window;
      // Spent before the second half measured much (a fast server: its rate
      // would read as ~0 and the run's pool run out in the warm-up): more.
      if (!calibration.pool_exhausted || calibration.window_s >= calibrate_s / 4 ||
          4 * batch > cap) {
        break;
      }
      batch *= 4;
    }
    uint64_t more = static_cast<uint64_t>(
        std::ceil(std::max(calibration.throughput_per_s, 100.0) * window_s * 2));
    if (more > cap) {
      std::fprintf(stderr, "safeshare_loadgen: sealing %llu envelopes (--max_pool_mib), not %llu\n",
                   static_cast<unsigned long long>(cap), static_cast<unsigned long long>(more));
      more = cap;
    }
    if (auto st = load.EnsureRequests(load.requests_used() + more + 2 * options.in_flight);
        !st.ok()) {
      return Fail(st);
    }
  }

  if (!absl::GetFlag(FLAGS_measure_start_file).empty()) {
    load.set_measure_start_file(absl::GetFlag(FLAGS_measure_start_file));
  }
  RunStats stats = load.Run(absl::Seconds(warmup_s), absl::Seconds(duration_s));
  DeliveryStats delivery;
  if (subscribers > 0) {
    delivery = load.StopSubscribers(absl::Seconds(absl::GetFlag(FLAGS_delivery_grace)));
  }
  const uint64_t other_errors = calibration_errors + stats.errors_outside_window;

  const std::string mode = rate > 0
                               ? absl::StrFormat("open loop, %.0f/s", rate)
                               : absl::StrFormat("closed loop, %d in flight", options.in_flight);
  std::string table = absl::StrFormat(
      "safeshare_loadgen: %s at %s, %s, %d agencies, %d B payload (%d B request)\n", target,
      absl::GetFlag(FLAGS_address), mode, agencies, workload.payload_bytes, load.request_bytes());
  absl::StrAppendFormat(&table, "  window      %.2f s after %.1f s warm-up%s\n", stats.window_s,
                        warmup_s, stats.pool_exhausted ? " (CUT SHORT: envelopes ran out)" : "");
  absl::StrAppendFormat(&table, "  calls       %d ok, %d errors (%d more before the window)\n",
                        stats.ok, stats.errors, other_errors);
  absl::StrAppendFormat(&table, "  throughput  %.1f /s\n", stats.throughput_per_s);
  absl::StrAppend(&table, "  ms              mean      p50      p90      p99    p99.9      max\n",
                  LatencyRow("latency", stats.latency));
  if (subscribers > 0) {
    absl::StrAppendFormat(
        &table, "  delivered   %d of %d to %d subscribers, %d acked, %d ack errors\n",
        delivery.delivered, delivery.expected, subscribers, delivery.acked, delivery.ack_errors);
    absl::StrAppend(&table, LatencyRow("delivery", delivery.latency));
  }
  for (const auto& e : stats.error_samples) absl::StrAppend(&table, "  error: ", e, "\n");
  std::fputs(table.c_str(), stdout);

  std::vector<std::string> samples;
  for (const auto& e : stats.error_samples) samples.push_back(JsonString(e));
  std::string json = absl::StrFormat(
      "{\"label\":%s,\"target\":\"%s\",\"mode\":\"%s\",\"in_flight\":%d,\"rate\":%.1f,"
      "\"agencies\":%d,\"subscribers\":%d,\"payload_bytes\":%d,\"request_bytes\":%d,"
      "\"warmup_s\":%.1f,\"duration_s\":%.1f,\"window_s\":%.3f,\"pool_exhausted\":%s,"
      "\"calls\":%d,\"ok\":%d,\"errors\":%d,\"errors_outside_window\":%d,"
      "\"throughput_per_s\":%.1f,%s",
      JsonString(absl::GetFlag(FLAGS_label)), target, rate > 0 ? "open" : "closed",
      rate > 0 ? 0 : options.in_flight, rate, agencies, subscribers, workload.payload_bytes,
      load.request_bytes(), warmup_s, duration_s, stats.window_s,
      stats.pool_exhausted ? "true" : "false", stats.started, stats.ok, stats.errors, other_errors,
      stats.throughput_per_s, safeshare::bench::JsonFields("", stats.latency));
  if (subscribers > 0) {
    absl::StrAppendFormat(&json,
                          ",\"expected\":%d,\"delivered\":%d,\"acked\":%d,\"ack_errors\":%d,"
                          "\"other_messages\":%d,%s",
                          delivery.expected, delivery.delivered, delivery.acked,
                          delivery.ack_errors, delivery.other_messages,
                          safeshare::bench::JsonFields("delivery_", delivery.latency));
  }
  absl::StrAppend(&json, ",\"error_samples\":[", absl::StrJoin(samples, ","), "]}");
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
    if (stats.window_s < duration_s / 2) return 3;
  }
  const bool failed = stats.errors + other_errors + delivery.ack_errors > 0 ||
                      delivery.delivered < delivery.expected;
  return failed && absl::GetFlag(FLAGS_fail_on_error) ? 1 : 0;
}
