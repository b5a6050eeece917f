// safeshare_abuser: the hostile partner of the abuse soak (bench/run.sh
// abuse, issue 18). With one agency's development identity it attacks the
// gateway's limits in parallel for --duration seconds:
//
//   (a) subscribe: opens Subscribe streams in a loop over --channels
//       connections of its own and never reads them; a stream still open a
//       second after it started is held open until the end. Counts the
//       attempts, the streams held, and how each refused one ended
//       (RESOURCE_EXHAUSTED from limits.max_streams_per_principal).
//   (b) submit: floods Submits as fast as --submit_threads calls allow (each
//       thread on a connection of its own, waiting through reconnects), in
//       turn: an envelope one byte over --max_message_bytes (the gateway's
//       precise refusal), one well over the gRPC receive limit (the
//       transport's), and a malformed one (random bytes).
//   (c) publish_key: publishes freshly generated keys in a loop with TLS
//       credentials only, each statement signed by a key that is not the
//       agency's (all refused PERMISSION_DENIED).
//   (d) idle_tcp: keeps --idle_connections TCP connections that never send a
//       byte (no TLS ClientHello), reopening each one the gateway closes, and
//       measures how long the gateway took (limits.handshake_timeout_ms).
//
// Prints a summary and, last, one JSON line: per activity the attempts and a
// count per gRPC status code ("subscribe.RESOURCE_EXHAUSTED": N, ...).
//
//   safeshare_abuser --address localhost:7443 --federation .safeshare-dev/federation
//       --agency southsea-academy --duration 30

#include <grpcpp/grpcpp.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "agents/agent_client.h"
#include "agents/outgoing_message.h"
#include "bench/loadgen/load_runner.h"
#include "common/log.h"
#include "envelope/identity_uri.h"
#include "envelope/key_statement.h"
#include "envelope/keys.h"
#include "safeshare/v1/mailbox.grpc.pb.h"
#include "safeshare/v1/referrals.grpc.pb.h"

ABSL_FLAG(std::string, address, "",
          "host:port of the gateway (the host must match its certificate)");
ABSL_FLAG(std::string, federation, "", "Development federation directory (safeshare pki init)");
ABSL_FLAG(std::string, agency, "southsea-academy",
          "The abusing agency (its identity under agencies/)");
ABSL_FLAG(double, duration, 30, "Seconds of abuse");
ABSL_FLAG(bool, streams, true, "(a) open Subscribe streams in a loop");
ABSL_FLAG(int, channels, 16, "(a) connections the Subscribe attempts are spread over");
ABSL_FLAG(int, stream_in_flight, 64, "(a) Subscribe attempts not yet refused or held, at most");
ABSL_FLAG(double, stream_rate, 0, "(a) Subscribe attempts per second at most (0: no pacing)");
ABSL_FLAG(int, max_held, 20000, "(a) streams held open at most (should the gateway accept them)");
ABSL_FLAG(int, submit_threads, 2, "(b) threads each sending one Submit at a time (0: none)");
ABSL_FLAG(uint64_t, max_message_bytes, 4 << 20, "(b) the gateway's max_message_bytes");
ABSL_FLAG(bool, publish_keys, true, "(c) publish keys in a loop");
ABSL_FLAG(int, idle_connections, 100, "(d) TCP connections that never start TLS (0: none)");
ABSL_FLAG(double, timeout, 30, "Per-call deadline in seconds");
ABSL_FLAG(std::string, label, "", "Name of this run in the JSON line");
ABSL_FLAG(std::string, json_out, "", "Also append the JSON line to this file");

namespace {

namespace v1 = safeshare::v1;
using Clock = std::chrono::steady_clock;

// Attempts and outcomes of one activity, by status code name.
class Tally {
 public:
  // `detail`: the first one of each outcome is kept, to tell causes apart.
  void Count(const std::string& outcome, absl::string_view detail = "") {
    absl::MutexLock lock(&mu_);
    if (++counts_[outcome] == 1 && !detail.empty()) samples_[outcome] = std::string(detail);
  }
  void Attempt() { attempts_.fetch_add(1, std::memory_order_relaxed); }
  uint64_t attempts() const { return attempts_.load(); }
  std::map<std::string, uint64_t> counts() const {
    absl::MutexLock lock(&mu_);
    return counts_;
  }
  std::map<std::string, std::string> samples() const {
    absl::MutexLock lock(&mu_);
    return samples_;
  }
  uint64_t count(const std::string& outcome) const {
    absl::MutexLock lock(&mu_);
    auto it = counts_.find(outcome);
    return it == counts_.end() ? 0 : it->second;
  }

 private:
  std::atomic<uint64_t> attempts_{0};
  mutable absl::Mutex mu_;
  std::map<std::string, uint64_t> counts_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> samples_ ABSL_GUARDED_BY(mu_);
};

std::string CodeName(grpc::StatusCode code) {
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

std::atomic<bool> stop{false};

// ---- (a) Subscribe streams that are never read --------------------------

class StreamAbuse {
 public:
  struct Attempt final : grpc::ClientReadReactor<v1::SubscribeResponse> {
    StreamAbuse* owner = nullptr;
    grpc::ClientContext ctx;
    v1::SubscribeRequest request;
    Clock::time_point start;
    bool held = false;  // guarded by owner->mu_
    void OnDone(const grpc::Status& status) override { owner->Done(this, status); }
  };

  StreamAbuse(std::vector<std::shared_ptr<grpc::Channel>> channels, Tally* tally)
      : channels_(std::move(channels)), tally_(tally) {
    for (const auto& c : channels_) stubs_.push_back(v1::Mailbox::NewStub(c));
  }

  void Run(int in_flight, double rate, int max_held) {
    const auto t0 = Clock::now();
    uint64_t n = 0;
    while (!stop.load()) {
      {
        absl::MutexLock lock(&mu_);
        SweepLocked();
        graveyard_.clear();
        auto room = [&] { return pending_ < in_flight || stop.load(); };
        mu_.AwaitWithTimeout(absl::Condition(&room), absl::Milliseconds(100));
        if (pending_ >= in_flight) continue;
      }
      if (held_count() >= max_held) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        continue;
      }
      if (rate > 0) {
        const auto due = t0 + std::chrono::duration_cast<Clock::duration>(
                                  std::chrono::duration<double>(n / rate));
        if (Clock::now() < due) {
          std::this_thread::sleep_until(
              std::min(due, Clock::now() + std::chrono::milliseconds(50)));
          continue;
        }
      }
      auto attempt = std::make_unique<Attempt>();
      Attempt* a = attempt.get();
      a->owner = this;
      a->start = Clock::now();
      {
        absl::MutexLock lock(&mu_);
        live_[a] = std::move(attempt);
        ++pending_;
      }
      tally_->Attempt();
      stubs_[n % stubs_.size()]->async()->Subscribe(&a->ctx, &a->request, a);
      a->StartCall();  // and never StartRead
      ++n;
    }
  }

  // Cancels every stream still open and waits until each has ended.
  void End() {
    absl::MutexLock lock(&mu_);
    SweepLocked();
    held_at_end_ = held_;
    ending_ = true;
    for (auto& [a, owned] : live_) a->ctx.TryCancel();
    auto all_done = [this] { return live_.empty(); };
    mu_.AwaitWithTimeout(absl::Condition(&all_done), absl::Seconds(10));
    graveyard_.clear();
  }

  int held_count() {
    absl::MutexLock lock(&mu_);
    return held_;
  }
  int held_max() {
    absl::MutexLock lock(&mu_);
    return held_max_;
  }
  int held_at_end() {
    absl::MutexLock lock(&mu_);
    return held_at_end_;
  }

 private:
  // A stream open for a second was accepted: it stops counting as pending.
  void SweepLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const auto cutoff = Clock::now() - std::chrono::seconds(1);
    for (auto& [a, owned] : live_) {
      if (!a->held && a->start < cutoff) {
        a->held = true;
        --pending_;
        held_max_ = std::max(held_max_, ++held_);
      }
    }
  }

  void Done(Attempt* a, const grpc::Status& status) {
    absl::MutexLock lock(&mu_);
    if (a->held) {
      --held_;
      // Our own cancellation at the end is not an outcome; the gateway
      // ending a held stream is.
      if (!ending_) {
        tally_->Count(absl::StrCat("held_then_", CodeName(status.error_code())),
                      status.error_message());
      }
    } else {
      --pending_;
      tally_->Count(ending_ && status.error_code() == grpc::StatusCode::CANCELLED
                        ? "pending_at_end"
                        : CodeName(status.error_code()));
    }
    auto it = live_.find(a);
    graveyard_.push_back(std::move(it->second));  // freed outside its callback
    live_.erase(it);
  }

  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::unique_ptr<v1::Mailbox::Stub>> stubs_;
  Tally* tally_;
  absl::Mutex mu_;
  absl::flat_hash_map<Attempt*, std::unique_ptr<Attempt>> live_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<Attempt>> graveyard_ ABSL_GUARDED_BY(mu_);
  int pending_ ABSL_GUARDED_BY(mu_) = 0;
  int held_ ABSL_GUARDED_BY(mu_) = 0;
  int held_max_ ABSL_GUARDED_BY(mu_) = 0;
  int held_at_end_ ABSL_GUARDED_BY(mu_) = 0;
  bool ending_ ABSL_GUARDED_BY(mu_) = false;
};

// ---- (b) oversized and malformed Submits ---------------------------------

struct SubmitKind {
  std::string name;
  v1::SubmitRequest request;
  Tally tally;
};

std::string RandomBytes(size_t n, std::mt19937_64& rng) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// A channel of its own with gRPC's default connect timeout (20 s):
// AgentClient::Connect sets GRPC_ARG_MIN_RECONNECT_BACKOFF_MS to 200, which
// gRPC takes as the minimum connect timeout, so on a busy gateway its
// reconnects fail (bench/RESULTS.md, the abuse soak); the flood must not be
// throttled by that.
std::shared_ptr<grpc::Channel> FloodChannel(const std::string& address,
                                            const safeshare::agents::AgentIdentity& identity) {
  grpc::SslCredentialsOptions tls;
  tls.pem_root_certs = identity.ca_pem;
  tls.pem_private_key = identity.key_pem;
  tls.pem_cert_chain = identity.cert_pem;
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(address, grpc::SslCredentials(tls), args);
}

void SubmitFlood(v1::Referrals::Stub* stub, absl::Duration timeout, std::vector<SubmitKind>* kinds,
                 int offset) {
  for (size_t i = offset; !stop.load(); ++i) {
    SubmitKind& kind = (*kinds)[i % kinds->size()];
    kind.tally.Attempt();
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    ctx.set_wait_for_ready(true);  // through a reconnect
    v1::SubmitResponse response;
    grpc::Status st = stub->Submit(&ctx, kind.request, &response);
    kind.tally.Count(CodeName(st.error_code()), st.error_message());
  }
}

// ---- (c) keys published in a loop ----------------------------------------
// With TLS credentials only (key statements signed by a key of its own, not
// the agency's current signing key): every publish is refused.

void PublishKeys(safeshare::agents::AgentClient* client, const std::string& federation_id,
                 const std::string& agency_id, Tally* tally) {
  for (int i = 0; !stop.load(); ++i) {
    auto key = safeshare::envelope::PrivateKey::Generate(
        i % 2 == 0 ? safeshare::envelope::PrivateKey::Type::kSigning
                   : safeshare::envelope::PrivateKey::Type::kEncryption);
    if (!key.ok()) {
      tally->Count("GENERATE_FAILED");
      continue;
    }
    tally->Attempt();
    v1::KeyStatement statement;
    statement.set_federation_id(federation_id);
    statement.set_agency_id(agency_id);
    statement.set_action(v1::KeyStatement::ACTION_PUBLISH);
    *statement.mutable_key() = safeshare::envelope::PublicKeyEntry(*key, absl::Now());
    statement.mutable_key()->clear_current();
    const bool signing = key->type() == safeshare::envelope::PrivateKey::Type::kSigning;
    auto forger =
        safeshare::envelope::PrivateKey::Generate(safeshare::envelope::PrivateKey::Type::kSigning);
    if (!forger.ok()) continue;
    auto signed_statement =
        safeshare::envelope::SignKeyStatement(statement, *forger, signing ? &*key : nullptr);
    if (!signed_statement.ok()) continue;
    auto published = client->PublishKey(*signed_statement);
    tally->Count(published.ok() ? "OK" : absl::StatusCodeToString(published.status().code()),
                 published.status().message());
  }
}

// ---- (d) TCP connections that never start TLS ----------------------------

struct IdleStats {
  uint64_t opened = 0, connect_failed = 0, closed_by_gateway = 0, open_at_end = 0;
  std::vector<double> closed_after_ms;
};

int ConnectTcp(const addrinfo* ai) {
  int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
  if (fd < 0) return -1;
  if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

IdleStats IdleConnections(const std::string& address, int count) {
  IdleStats stats;
  const auto colon = address.rfind(':');
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* ai = nullptr;
  if (colon == std::string::npos ||
      getaddrinfo(address.substr(0, colon).c_str(), address.substr(colon + 1).c_str(), &hints,
                  &ai) != 0) {
    stats.connect_failed = 1;
    return stats;
  }
  std::vector<pollfd> fds;
  std::vector<Clock::time_point> opened_at;
  auto open_one = [&](size_t slot) {
    int fd = ConnectTcp(ai);
    if (fd < 0) {
      ++stats.connect_failed;
    } else {
      ++stats.opened;
    }
    fds[slot] = {fd, POLLIN, 0};  // a negative fd is ignored by poll
    opened_at[slot] = Clock::now();
  };
  fds.resize(count);
  opened_at.resize(count);
  for (int i = 0; i < count; ++i) open_one(i);
  while (!stop.load()) {
    if (poll(fds.data(), fds.size(), 100) < 0) continue;
    for (size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd < 0) {
        open_one(i);  // retry a failed connect
        continue;
      }
      if (fds[i].revents == 0) continue;
      char buf[256];
      ssize_t n = recv(fds[i].fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) continue;  // the gateway said something; keep waiting for the close
      stats.closed_after_ms.push_back(
          std::chrono::duration<double, std::milli>(Clock::now() - opened_at[i]).count());
      ++stats.closed_by_gateway;
      close(fds[i].fd);
      open_one(i);
    }
  }
  for (pollfd& p : fds) {
    if (p.fd >= 0) {
      ++stats.open_at_end;
      close(p.fd);
    }
  }
  freeaddrinfo(ai);
  return stats;
}

// ---- the report -----------------------------------------------------------

void AppendTally(const std::string& name, const Tally& tally, std::vector<std::string>* json,
                 std::string* text) {
  json->push_back(absl::StrFormat("\"%s.attempts\":%d", name, tally.attempts()));
  std::vector<std::string> parts;
  for (const auto& [code, n] : tally.counts()) {
    json->push_back(absl::StrFormat("\"%s.%s\":%d", name, code, n));
    parts.push_back(absl::StrCat(code, " ", n));
  }
  absl::StrAppendFormat(text, "  %-22s %8d attempts: %s\n", name, tally.attempts(),
                        absl::StrJoin(parts, ", "));
  for (const auto& [code, detail] : tally.samples()) {
    json->push_back(
        absl::StrFormat("\"%s.first.%s\":%s", name, code, safeshare::JsonString(detail)));
    absl::StrAppendFormat(text, "  %-22s first %s: %s\n", "", code, detail);
  }
}

int Fail(const absl::Status& st) {
  std::fprintf(stderr, "safeshare_abuser: %s\n", st.ToString().c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("the hostile agency of the safeshare abuse soak");
  absl::ParseCommandLine(argc, argv);
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  const std::string address = absl::GetFlag(FLAGS_address);
  const std::string agency = absl::GetFlag(FLAGS_agency);
  if (address.empty() || absl::GetFlag(FLAGS_federation).empty()) {
    return Fail(absl::InvalidArgumentError("--address and --federation are required"));
  }
  const double duration_s = absl::GetFlag(FLAGS_duration);
  if (duration_s <= 0 || absl::GetFlag(FLAGS_channels) < 1 ||
      absl::GetFlag(FLAGS_stream_in_flight) < 1) {
    return Fail(absl::InvalidArgumentError(
        "--duration must be > 0, --channels and --stream_in_flight >= 1"));
  }
  const std::string identity_dir =
      absl::StrCat(absl::GetFlag(FLAGS_federation), "/agencies/", agency);
  auto identity = safeshare::agents::LoadIdentity(identity_dir);
  if (!identity.ok()) return Fail(identity.status());
  auto uri = safeshare::agents::PrincipalUriOfCertificate(identity->cert_pem);
  if (!uri.ok()) return Fail(uri.status());
  auto named = safeshare::envelope::ParseIdentityUri(*uri);
  if (!named.ok()) return Fail(named.status());
  const std::string federation_id = named->federation_id;
  const absl::Duration timeout = absl::Seconds(absl::GetFlag(FLAGS_timeout));

  // (a) Connections of the abuser's own, opened before the clock starts.
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < absl::GetFlag(FLAGS_channels); ++i) {
    auto channel = safeshare::bench::AgencyChannel(address, identity_dir);
    if (!channel.ok()) return Fail(channel.status());
    channels.push_back(std::move(*channel));
  }
  Tally subscribe;
  StreamAbuse streams(std::move(channels), &subscribe);

  // (b) What the flood sends: built once, sent again and again.
  std::mt19937_64 rng(std::random_device{}());
  const uint64_t max_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  std::vector<SubmitKind> kinds(3);
  kinds[0].name = "submit_over_limit";  // reaches Submit's size check
  kinds[0].request.mutable_signed_envelope()->set_envelope_bytes(RandomBytes(max_bytes + 1, rng));
  kinds[1].name = "submit_over_transport";  // over gRPC's receive limit (max + 64 KiB)
  kinds[1].request.mutable_signed_envelope()->set_envelope_bytes(
      RandomBytes(max_bytes + (256 << 10), rng));
  kinds[2].name = "submit_malformed";  // not an Envelope at all
  kinds[2].request.mutable_signed_envelope()->set_envelope_bytes(RandomBytes(2048, rng));
  for (SubmitKind& k : kinds) {
    k.request.mutable_signed_envelope()->set_signature(RandomBytes(64, rng));
    k.request.mutable_signed_envelope()->set_signing_key_id(std::string(32, 'a'));
  }
  const int submit_threads = absl::GetFlag(FLAGS_submit_threads);
  std::vector<std::unique_ptr<v1::Referrals::Stub>> submitters;
  for (int i = 0; i < submit_threads; ++i) {
    submitters.push_back(v1::Referrals::NewStub(FloodChannel(address, *identity)));
  }
  auto keys_client = safeshare::agents::AgentClient::Connect(address, *identity, timeout);
  if (auto st = keys_client->CheckHealth(); !st.ok()) return Fail(st);

  Tally publish_key;
  IdleStats idle;
  const auto t0 = Clock::now();
  std::vector<std::thread> threads;
  if (absl::GetFlag(FLAGS_streams)) {
    threads.emplace_back([&] {
      streams.Run(absl::GetFlag(FLAGS_stream_in_flight), absl::GetFlag(FLAGS_stream_rate),
                  absl::GetFlag(FLAGS_max_held));
    });
  }
  for (int i = 0; i < submit_threads; ++i) {
    threads.emplace_back([&, i] { SubmitFlood(submitters[i].get(), timeout, &kinds, i); });
  }
  if (absl::GetFlag(FLAGS_publish_keys)) {
    threads.emplace_back(
        [&] { PublishKeys(keys_client.get(), federation_id, agency, &publish_key); });
  }
  if (absl::GetFlag(FLAGS_idle_connections) > 0) {
    threads.emplace_back(
        [&] { idle = IdleConnections(address, absl::GetFlag(FLAGS_idle_connections)); });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(duration_s));
  stop.store(true);
  for (std::thread& t : threads) t.join();
  const int held_max = streams.held_max();
  streams.End();
  const double elapsed_s = std::chrono::duration<double>(Clock::now() - t0).count();

  std::vector<std::string> json = {
      absl::StrFormat("\"label\":%s", safeshare::JsonString(absl::GetFlag(FLAGS_label))),
      absl::StrFormat("\"agency\":%s", safeshare::JsonString(agency)),
      absl::StrFormat("\"duration_s\":%.1f", elapsed_s)};
  std::string text =
      absl::StrFormat("safeshare_abuser: %s at %s for %.1f s\n", agency, address, elapsed_s);
  AppendTally("subscribe", subscribe, &json, &text);
  json.push_back(absl::StrFormat("\"subscribe.held_max\":%d", held_max));
  json.push_back(absl::StrFormat("\"subscribe.held_at_end\":%d", streams.held_at_end()));
  absl::StrAppendFormat(&text, "  %-22s %8d held open at most, %d at the end\n", "", held_max,
                        streams.held_at_end());
  for (const SubmitKind& k : kinds) AppendTally(k.name, k.tally, &json, &text);
  AppendTally("publish_key", publish_key, &json, &text);
  std::sort(idle.closed_after_ms.begin(), idle.closed_after_ms.end());
  const double close_min = idle.closed_after_ms.empty() ? 0 : idle.closed_after_ms.front();
  const double close_max = idle.closed_after_ms.empty() ? 0 : idle.closed_after_ms.back();
  json.push_back(absl::StrFormat(
      "\"idle_tcp.opened\":%d,\"idle_tcp.connect_failed\":%d,\"idle_tcp.closed_by_gateway\":%d,"
      "\"idle_tcp.open_at_end\":%d,\"idle_tcp.closed_after_ms_min\":%.0f,"
      "\"idle_tcp.closed_after_ms_max\":%.0f",
      idle.opened, idle.connect_failed, idle.closed_by_gateway, idle.open_at_end, close_min,
      close_max));
  absl::StrAppendFormat(&text,
                        "  %-22s %8d opened: %d closed by the gateway after %.0f-%.0f ms, %d open "
                        "at the end, %d connects failed\n",
                        "idle_tcp", idle.opened, idle.closed_by_gateway, close_min, close_max,
                        idle.open_at_end, idle.connect_failed);
  const std::string line = absl::StrCat("{", absl::StrJoin(json, ","), "}");
  std::fputs(text.c_str(), stdout);
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
  if (const std::string path = absl::GetFlag(FLAGS_json_out); !path.empty()) {
    std::ofstream(path, std::ios::app) << line << "\n";
  }
  return 0;
}
