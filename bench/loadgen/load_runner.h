#ifndef SAFESHARE_BENCH_LOADGEN_LOAD_RUNNER_H_
#define SAFESHARE_BENCH_LOADGEN_LOAD_RUNNER_H_

// Drives unary calls on the gRPC callback API, one mutual-TLS channel per
// agency: a fixed number in flight (closed loop) or a fixed rate (open loop),
// a warm-up, then a measured window. Optionally, recipient agencies stay
// subscribed to their mailboxes and acknowledge what arrives. With several
// server addresses (gateway replicas), agencies and subscribers are spread
// over them round-robin.

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "bench/loadgen/latency_stats.h"
#include "bench/loadgen/workload.h"
#include "echo.grpc.pb.h"  // bench/echo-server/echo.proto
#include "safeshare/v1/mailbox.grpc.pb.h"
#include "safeshare/v1/referrals.grpc.pb.h"

namespace safeshare::bench {

enum class Target { kGateway, kEcho };

// A mutual-TLS channel under the identity in `identity_dir` (ca, cert and key
// PEM), with the agent library's settings, on its own connection.
absl::StatusOr<std::shared_ptr<grpc::Channel>> AgencyChannel(const std::string& address,
                                                             const std::string& identity_dir);

// What one Run measured. Counts are of calls started in the measured window,
// except `throughput_per_s` (successful completions inside the window).
struct RunStats {
  double window_s = 0;  // shorter than asked if the request pool ran out
  bool pool_exhausted = false;
  uint64_t started = 0, ok = 0, errors = 0;
  uint64_t errors_outside_window = 0;  // calibration and warm-up
  double throughput_per_s = 0;
  LatencySummary latency;  // open loop: from each call's scheduled start
  std::vector<std::string> error_samples;
};

struct DeliveryStats {
  uint64_t expected = 0, delivered = 0, acked = 0, ack_errors = 0, other_messages = 0;
  LatencySummary latency;  // Submit start to arrival, calls started in the window
};

class LoadRunner {
 public:
  struct Options {
    Target target = Target::kGateway;
    // Agency (or subscriber) i connects to addresses[i % size]: a fixed
    // spread, as agents pinned to replicas behind a layer-4 load balancer.
    std::vector<std::string> addresses;
    int in_flight = 32;  // closed loop
    double rate = 0;     // open loop when > 0: calls per second
    absl::Duration call_timeout = absl::Seconds(30);
    int build_threads = 2;
  };

  // Opens one channel per sending agency and waits until each is connected.
  // Needs at least one address.
  static absl::StatusOr<std::unique_ptr<LoadRunner>> Create(const Options& options,
                                                            const EnvelopeFactory* factory);
  ~LoadRunner();

  // Makes sure requests up to index `total` exist (built in parallel, before
  // any measuring). The echo target cycles through at most 64 per agency: it
  // does not care about message ids.
  absl::Status EnsureRequests(uint64_t total);
  uint64_t requests_used() const { return next_.load(); }
  size_t request_bytes() const { return request_bytes_; }

  // Calls for `warmup`, then measures for `duration`; returns once every call
  // has finished.
  RunStats Run(absl::Duration warmup, absl::Duration duration);

  // Subscribes the first `count` recipient agencies (gateway only).
  absl::Status StartSubscribers(int count);
  // Waits up to `grace` for every accepted message to a subscriber to arrive
  // and be acknowledged, then ends the subscriptions.
  DeliveryStats StopSubscribers(absl::Duration grace);

  // Touched when the measured window starts (for scripts sampling the server).
  void set_measure_start_file(std::string path) { measure_start_file_ = std::move(path); }

 private:
  using Clock = std::chrono::steady_clock;
  struct Call;
  class Subscriber;

  LoadRunner(const Options& options, const EnvelopeFactory* factory);
  // Where agency (or subscriber) `i` connects.
  const std::string& address(int i) const {
    return options_.addresses[i % options_.addresses.size()];
  }
  // Starts call `index` as if started at `start`. False when the pool is spent.
  bool Issue(uint64_t index, Clock::time_point start);
  void Done(Call* call, const grpc::Status& status);
  void OnDelivered(const safeshare::v1::MailboxMessage& message, Subscriber* from);
  void Ack(Subscriber* from, const std::string& message_id);

  const Options options_;
  const EnvelopeFactory* factory_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::unique_ptr<safeshare::v1::Referrals::Stub>> referrals_;
  std::vector<std::unique_ptr<echo::v1::Echo::Stub>> echo_;
  // Written only between runs; a gateway request is freed once answered.
  std::vector<std::unique_ptr<safeshare::v1::SubmitRequest>> requests_;
  std::vector<echo::v1::EchoRequest> echo_requests_;
  size_t request_bytes_ = 0;
  std::atomic<uint64_t> next_{0};

  // The current run's window, fixed before its first call.
  Clock::time_point measure_from_, end_;
  std::string measure_start_file_;

  absl::Mutex mu_;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  // The request pool ran out (gateway target): no more calls this run.
  bool exhausted_ ABSL_GUARDED_BY(mu_) = false;
  Clock::time_point exhausted_at_ ABSL_GUARDED_BY(mu_);
  std::vector<int64_t> latencies_ns_ ABSL_GUARDED_BY(mu_);
  RunStats stats_ ABSL_GUARDED_BY(mu_);
  uint64_t ok_completions_in_window_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t accepted_for_subscribers_ ABSL_GUARDED_BY(mu_) = 0;

  // Subscribers' side.
  std::vector<std::unique_ptr<Subscriber>> subscribers_;
  std::vector<std::string> subscribed_ids_;
  absl::Mutex delivery_mu_;
  absl::flat_hash_map<uint64_t, Clock::time_point> submitted_at_ ABSL_GUARDED_BY(delivery_mu_);
  std::vector<int64_t> delivery_ns_ ABSL_GUARDED_BY(delivery_mu_);
  DeliveryStats delivery_ ABSL_GUARDED_BY(delivery_mu_);
  int acks_in_flight_ ABSL_GUARDED_BY(delivery_mu_) = 0;
};

}  // namespace safeshare::bench

#endif  // SAFESHARE_BENCH_LOADGEN_LOAD_RUNNER_H_
