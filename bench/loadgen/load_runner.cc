#include "bench/loadgen/load_runner.h"

#include <algorithm>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "agents/agent_client.h"

namespace safeshare::bench {
namespace {

namespace v1 = safeshare::v1;
constexpr size_t kMaxErrorSamples = 5;
constexpr uint64_t kEchoRequestsPerAgency = 64;

int64_t Nanos(std::chrono::steady_clock::duration d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

std::string Describe(const grpc::Status& status) {
  std::string message = status.error_message().substr(0, 200);
  return absl::StrCat(absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code())),
                      ": ", message);
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::Channel>> AgencyChannel(const std::string& address,
                                                             const std::string& identity_dir) {
  auto identity = agents::LoadIdentity(identity_dir);
  if (!identity.ok()) return identity.status();
  grpc::SslCredentialsOptions tls;
  tls.pem_root_certs = identity->ca_pem;
  tls.pem_private_key = identity->key_pem;
  tls.pem_cert_chain = identity->cert_pem;
  // As AgentClient::Connect, plus a connection of its own: gRPC would
  // otherwise share one between channels with equal settings.
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 * 1024 * 1024);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 5000);
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto channel = grpc::CreateCustomChannel(address, grpc::SslCredentials(tls), args);
  if (!channel->WaitForConnected(absl::ToChronoTime(absl::Now() + absl::Seconds(10)))) {
    return absl::UnavailableError(
        absl::StrCat("cannot connect to ", address, " with the identity in ", identity_dir));
  }
  return channel;
}

struct LoadRunner::Call {
  grpc::ClientContext ctx;
  v1::SubmitResponse submit_response;
  echo::v1::EchoResponse echo_response;
  uint64_t index = 0;
  Clock::time_point start;
};

// A recipient's live subscription; acknowledges each message as it arrives.
class LoadRunner::Subscriber final : public grpc::ClientReadReactor<v1::SubscribeResponse> {
 public:
  Subscriber(LoadRunner* runner, std::shared_ptr<grpc::Channel> channel)
      : runner_(runner), channel_(std::move(channel)), mailbox_(v1::Mailbox::NewStub(channel_)) {}

  void Start() {
    mailbox_->async()->Subscribe(&ctx_, &request_, this);
    StartRead(&response_);
    StartCall();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // OnDone follows
    runner_->OnDelivered(response_.message(), this);
    StartRead(&response_);
  }

  void OnDone(const grpc::Status& status) override {
    absl::MutexLock lock(&mu_);
    status_ = status;
    done_ = true;
  }

  // Ends the subscription; OK if it ended because of this cancel.
  grpc::Status Stop() {
    ctx_.TryCancel();
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(&done_));
    return status_.error_code() == grpc::StatusCode::CANCELLED ? grpc::Status::OK : status_;
  }

  v1::Mailbox::Stub* mailbox() { return mailbox_.get(); }

 private:
  LoadRunner* runner_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Mailbox::Stub> mailbox_;
  grpc::ClientContext ctx_;
  v1::SubscribeRequest request_;
  v1::SubscribeResponse response_;
  absl::Mutex mu_;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
};

absl::StatusOr<std::unique_ptr<LoadRunner>> LoadRunner::Create(const Options& options,
                                                               const EnvelopeFactory* factory) {
  if (options.addresses.empty()) return absl::InvalidArgumentError("no server address");
  std::unique_ptr<LoadRunner> runner(new LoadRunner(options, factory));
  for (int a = 0; a < factory->agencies(); ++a) {
    auto channel = AgencyChannel(runner->address(a), factory->sender_dir(a));
    if (!channel.ok()) return channel.status();
    runner->referrals_.push_back(v1::Referrals::NewStub(*channel));
    runner->echo_.push_back(echo::v1::Echo::NewStub(*channel));
    runner->channels_.push_back(std::move(*channel));
  }
  return runner;
}

LoadRunner::LoadRunner(const Options& options, const EnvelopeFactory* factory)
    : options_(options), factory_(factory) {}

LoadRunner::~LoadRunner() {
  if (!subscribers_.empty()) StopSubscribers(absl::ZeroDuration());
}

absl::Status LoadRunner::EnsureRequests(uint64_t total) {
  if (options_.target == Target::kGateway) {
    const uint64_t have = requests_.size();
    if (total <= have) return absl::OkStatus();
    requests_.resize(total);
    if (auto st = BuildRange(*factory_, have, total - have, options_.build_threads, &requests_);
        !st.ok()) {
      return st;
    }
    if (request_bytes_ == 0) request_bytes_ = requests_[have]->ByteSizeLong();
    return absl::OkStatus();
  }
  // The echo server only needs bytes of the right size: a small pool is reused.
  const uint64_t want = std::min<uint64_t>(std::max<uint64_t>(total, factory_->agencies()),
                                           kEchoRequestsPerAgency * factory_->agencies());
  const uint64_t have = echo_requests_.size();
  if (want <= have) return absl::OkStatus();
  std::vector<std::unique_ptr<v1::SubmitRequest>> built(want);
  if (auto st = BuildRange(*factory_, have, want - have, options_.build_threads, &built);
      !st.ok()) {
    return st;
  }
  for (uint64_t i = have; i < want; ++i) {
    echo_requests_.emplace_back().set_payload(built[i]->SerializeAsString());
  }
  request_bytes_ = echo_requests_.front().payload().size();
  return absl::OkStatus();
}

bool LoadRunner::Issue(uint64_t index, Clock::time_point start) {
  const int agency = factory_->agency_of(index);
  auto* call = new Call();
  call->index = index;
  call->start = start;
  call->ctx.set_deadline(absl::ToChronoTime(absl::Now() + options_.call_timeout));
  auto done = [this, call](grpc::Status status) { Done(call, status); };
  if (options_.target == Target::kEcho) {
    if (echo_requests_.empty()) {
      delete call;
      return false;
    }
    const auto& request = echo_requests_[index % echo_requests_.size()];
    echo_[agency]->async()->Echo(&call->ctx, &request, &call->echo_response, std::move(done));
    return true;
  }
  if (index >= requests_.size() || requests_[index] == nullptr) {
    delete call;
    return false;
  }
  if (!subscribers_.empty() && start >= measure_from_ && start < end_) {
    absl::MutexLock lock(&delivery_mu_);
    submitted_at_[index] = start;
  }
  referrals_[agency]->async()->Submit(&call->ctx, requests_[index].get(), &call->submit_response,
                                      std::move(done));
  return true;
}

void LoadRunner::Done(Call* call, const grpc::Status& rpc_status) {
  const Clock::time_point now = Clock::now();
  // A held message is not the full path (nor delivered): count it as failed.
  grpc::Status status = rpc_status;
  if (status.ok() && options_.target == Target::kGateway &&
      call->submit_response.state() != v1::MESSAGE_STATE_SUBMITTED) {
    status = grpc::Status(
        grpc::StatusCode::FAILED_PRECONDITION,
        absl::StrCat("accepted as ", v1::MessageState_Name(call->submit_response.state()),
                     ", not SUBMITTED"));
  }
  const bool in_window = call->start >= measure_from_ && call->start < end_;
  const bool subscribed = options_.target == Target::kGateway && status.ok() &&
                          std::find(subscribed_ids_.begin(), subscribed_ids_.end(),
                                    factory_->recipient_of(call->index)) != subscribed_ids_.end();
  {
    absl::MutexLock lock(&mu_);
    if (in_window) {
      ++stats_.started;
      if (status.ok()) {
        ++stats_.ok;
        latencies_ns_.push_back(Nanos(now - call->start));
      } else {
        ++stats_.errors;
      }
    } else if (!status.ok()) {
      ++stats_.errors_outside_window;
    }
    if (!status.ok() && stats_.error_samples.size() < kMaxErrorSamples) {
      stats_.error_samples.push_back(Describe(status));
    }
    // After the pool ran out the window ends, so later completions (the
    // drain) would inflate the rate.
    if (status.ok() && now >= measure_from_ && now < end_ && !exhausted_) {
      ++ok_completions_in_window_;
    }
    if (subscribed) ++accepted_for_subscribers_;
  }
  // Free the envelope at once: a 64 KiB run holds thousands.
  if (options_.target == Target::kGateway) requests_[call->index].reset();
  delete call;

  // Closed loop: this call's slot goes to the next request.
  bool again = false;
  if (options_.rate <= 0 && now < end_) {
    absl::MutexLock lock(&mu_);
    again = !exhausted_;
  }
  if (again && !Issue(next_.fetch_add(1), Clock::now())) {
    absl::MutexLock lock(&mu_);
    if (!exhausted_) exhausted_at_ = Clock::now();
    exhausted_ = true;
    again = false;
  }
  if (!again) {
    absl::MutexLock lock(&mu_);
    --in_flight_;
  }
}

RunStats LoadRunner::Run(absl::Duration warmup, absl::Duration duration) {
  {
    absl::MutexLock lock(&mu_);
    stats_ = RunStats();
    latencies_ns_.clear();
    ok_completions_in_window_ = 0;
    exhausted_ = false;
  }
  const Clock::time_point t0 = Clock::now();
  measure_from_ = t0 + absl::ToChronoNanoseconds(warmup);
  end_ = measure_from_ + absl::ToChronoNanoseconds(duration);

  std::thread marker;
  if (!measure_start_file_.empty()) {
    marker = std::thread([this] {
      std::this_thread::sleep_until(measure_from_);
      std::ofstream(measure_start_file_) << "measuring\n";
    });
  }

  auto start_one = [this](Clock::time_point start) {
    {
      absl::MutexLock lock(&mu_);
      if (exhausted_) return false;
      ++in_flight_;
    }
    if (Issue(next_.fetch_add(1), start)) return true;
    absl::MutexLock lock(&mu_);
    --in_flight_;
    if (!exhausted_) exhausted_at_ = Clock::now();
    exhausted_ = true;
    return false;
  };
  if (options_.rate <= 0) {
    for (int i = 0; i < options_.in_flight; ++i) {
      if (!start_one(Clock::now())) break;
    }
  } else {
    // Each call has its slot on the schedule; a late start keeps its slot, so
    // a slow server shows in the latency instead of lowering the rate.
    const double interval_ns = 1e9 / options_.rate;
    for (uint64_t k = 0;; ++k) {
      const Clock::time_point due =
          t0 + std::chrono::nanoseconds(static_cast<int64_t>(static_cast<double>(k) * interval_ns));
      if (due >= end_) break;
      std::this_thread::sleep_until(due);
      if (!start_one(due)) break;
    }
  }
  {
    // Closed loop: calls stop replacing themselves at the end of the window.
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](int* n) { return *n == 0; }, &in_flight_));
  }
  if (marker.joinable()) marker.join();

  absl::MutexLock lock(&mu_);
  RunStats out = stats_;
  Clock::time_point window_end = end_;
  if (exhausted_ && exhausted_at_ < end_) {
    out.pool_exhausted = true;
    window_end = std::max(measure_from_, exhausted_at_);
  }
  out.window_s = std::chrono::duration<double>(window_end - measure_from_).count();
  out.throughput_per_s = out.window_s > 0 ? ok_completions_in_window_ / out.window_s : 0;
  out.latency = Summarize(latencies_ns_);
  return out;
}

absl::Status LoadRunner::StartSubscribers(int count) {
  if (options_.target != Target::kGateway) {
    return absl::InvalidArgumentError("subscribers need the gateway target");
  }
  std::vector<std::string> ids = factory_->Recipients();
  if (count > static_cast<int>(ids.size())) count = static_cast<int>(ids.size());
  for (int i = 0; i < count; ++i) {
    auto channel = AgencyChannel(address(i), factory_->AgencyDir(ids[i]));
    if (!channel.ok()) return channel.status();
    subscribers_.push_back(std::make_unique<Subscriber>(this, std::move(*channel)));
    subscribed_ids_.push_back(ids[i]);
  }
  for (auto& s : subscribers_) s->Start();
  return absl::OkStatus();
}

void LoadRunner::OnDelivered(const v1::MailboxMessage& message, Subscriber* from) {
  const Clock::time_point now = Clock::now();
  const int64_t index = factory_->IndexOf(message.message_id());
  {
    absl::MutexLock lock(&delivery_mu_);
    if (index < 0) {
      ++delivery_.other_messages;  // an earlier run's, or an escalation
    } else {
      ++delivery_.delivered;
      if (auto it = submitted_at_.find(static_cast<uint64_t>(index)); it != submitted_at_.end()) {
        delivery_ns_.push_back(Nanos(now - it->second));
        submitted_at_.erase(it);
      }
    }
    ++acks_in_flight_;
  }
  Ack(from, message.message_id());
}

void LoadRunner::Ack(Subscriber* from, const std::string& message_id) {
  struct AckCall {
    grpc::ClientContext ctx;
    v1::AckRequest request;
    v1::AckResponse response;
  };
  auto* ack = new AckCall();
  ack->ctx.set_deadline(absl::ToChronoTime(absl::Now() + options_.call_timeout));
  ack->request.set_message_id(message_id);
  from->mailbox()->async()->Ack(&ack->ctx, &ack->request, &ack->response,
                                [this, ack](grpc::Status status) {
                                  delete ack;
                                  absl::MutexLock lock(&delivery_mu_);
                                  ++(status.ok() ? delivery_.acked : delivery_.ack_errors);
                                  --acks_in_flight_;
                                });
}

DeliveryStats LoadRunner::StopSubscribers(absl::Duration grace) {
  uint64_t expected;
  {
    absl::MutexLock lock(&mu_);
    expected = accepted_for_subscribers_;
  }
  {
    absl::MutexLock lock(&delivery_mu_);
    auto all_in = [this, expected]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(delivery_mu_) {
      return delivery_.delivered >= expected && acks_in_flight_ == 0;
    };
    delivery_mu_.AwaitWithTimeout(absl::Condition(&all_in), grace);
  }
  for (auto& s : subscribers_) (void)s->Stop();
  absl::MutexLock lock(&delivery_mu_);
  delivery_mu_.Await(absl::Condition(
      +[](int* n) { return *n == 0; }, &acks_in_flight_));
  subscribers_.clear();
  DeliveryStats out = delivery_;
  out.expected = expected;
  out.latency = Summarize(delivery_ns_);
  return out;
}

}  // namespace safeshare::bench
