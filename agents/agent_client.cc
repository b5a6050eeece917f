#include "agents/agent_client.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/error_reason.h"
#include "common/files.h"
#include "google/rpc/status.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace safeshare::agents {
absl::StatusOr<AgentIdentity> LoadIdentity(const std::string& dir) {
  AgentIdentity id;
  for (auto [name, field] : {std::pair{"ca.pem", &id.ca_pem}, std::pair{"cert.pem", &id.cert_pem},
                             std::pair{"key.pem", &id.key_pem}}) {
    auto data = ReadFile(absl::StrCat(dir, "/", name));
    if (!data.ok()) return data.status();
    *field = std::move(*data);
  }
  return id;
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  return FromRichStatus(static_cast<absl::StatusCode>(status.error_code()), status.error_message(),
                        status.error_details());
}

std::unique_ptr<AgentClient> AgentClient::Connect(const std::string& target,
                                                  const AgentIdentity& identity,
                                                  absl::Duration call_timeout) {
  grpc::SslCredentialsOptions tls;
  tls.pem_root_certs = identity.ca_pem;
  tls.pem_private_key = identity.key_pem;
  tls.pem_cert_chain = identity.cert_pem;
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 * 1024 * 1024);
  // Find a restarted gateway within seconds, not gRPC's default two minutes.
  // (Not GRPC_ARG_MIN_RECONNECT_BACKOFF_MS: gRPC takes it as the minimum
  // connect timeout, and 200 ms failed every connection to a busy gateway.)
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 5000);
  auto channel = grpc::CreateCustomChannel(target, grpc::SslCredentials(tls), args);
  return std::unique_ptr<AgentClient>(new AgentClient(std::move(channel), call_timeout));
}

AgentClient::AgentClient(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout)
    : channel_(std::move(channel)),
      timeout_(timeout),
      referrals_(safeshare::v1::Referrals::NewStub(channel_)),
      mailbox_(safeshare::v1::Mailbox::NewStub(channel_)),
      directory_(safeshare::v1::Directory::NewStub(channel_)),
      audit_(safeshare::v1::Audit::NewStub(channel_)),
      advice_(safeshare::v1::Advice::NewStub(channel_)) {}

std::unique_ptr<CallCanceller::Scope> AgentClient::Prepare(grpc::ClientContext& ctx,
                                                           bool wait_for_ready) const {
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  ctx.set_wait_for_ready(wait_for_ready);
  return std::make_unique<CallCanceller::Scope>(canceller_, &ctx);
}

absl::StatusOr<safeshare::v1::SubmitResponse> AgentClient::Submit(
    const safeshare::v1::SignedEnvelope& envelope, safeshare::v1::SubmitResponse* refused_receipt) {
  grpc::ClientContext ctx;
  auto cancellable = Prepare(ctx);
  safeshare::v1::SubmitRequest req;
  *req.mutable_signed_envelope() = envelope;
  safeshare::v1::SubmitResponse resp;
  grpc::Status st = referrals_->Submit(&ctx, req, &resp);
  if (!st.ok()) {
    google::rpc::Status rich;
    if (refused_receipt != nullptr && !st.error_details().empty() &&
        rich.ParseFromString(st.error_details())) {
      for (const auto& any : rich.details()) {
        if (any.UnpackTo(refused_receipt)) break;
      }
    }
    return FromGrpcStatus(st);
  }
  return resp;
}

absl::StatusOr<safeshare::v1::FetchResponse> AgentClient::Fetch(int page_size,
                                                                const std::string& page_token) {
  grpc::ClientContext ctx;
  auto cancellable = Prepare(ctx);
  safeshare::v1::FetchRequest req;
  req.set_page_size(page_size);
  req.set_page_token(page_token);
  safeshare::v1::FetchResponse resp;
  grpc::Status st = mailbox_->Fetch(&ctx, req, &resp);
  if (!st.ok()) return FromGrpcStatus(st);
  return resp;
}

absl::StatusOr<safeshare::v1::RecordDecisionNotToShareResponse>
AgentClient::RecordDecisionNotToShare(const safeshare::v1::RecordDecisionNotToShareRequest& req) {
  grpc::ClientContext ctx;
  auto cancellable = Prepare(ctx);
  safeshare::v1::RecordDecisionNotToShareResponse resp;
  grpc::Status st = referrals_->RecordDecisionNotToShare(&ctx, req, &resp);
  if (!st.ok()) return FromGrpcStatus(st);
  return resp;
}

absl::StatusOr<safeshare::v1::WitnessedInclusion> AgentClient::WitnessReceipt(
    const std::string& message_id) {
  grpc::ClientContext ctx;
  auto cancellable = Prepare(ctx);
  safeshare::v1::WitnessReceiptRequest req;
  req.set_message_id(message_id);
  safeshare::v1::WitnessReceiptResponse resp;
  grpc::Status st = referrals_->WitnessReceipt(&ctx, req, &resp);
  if (!st.ok()) return FromGrpcStatus(st);
  return resp.witnessed();
}

absl::StatusOr<safeshare::v1::SubmitResponse> AgentClient::GetReceipt(
    const std::string& message_id) {
  grpc::ClientContext ctx;
  auto cancellable = Prepare(ctx);
  safeshare::v1::GetReceiptRequest req;
  req.set_message_id(message_id);
  safeshare::v1::SubmitResponse resp;
  grpc::Status st = referrals_->GetReceipt(&ctx, req, &resp);
  if (!st.ok()) return FromGrpcStatus(st);
  return resp;
}

absl::StatusOr<safeshare::v1::AckResponse> AgentClient::Ack(const std::string& message_id) {
  grpc::ClientContext ctx;
  auto cancellable = Prepare(ctx);
  safeshare::v1::AckRequest req;
  req.set_message_id(message_id);
  safeshare::v1::AckResponse resp;
  grpc::Status st = mailbox_->Ack(&ctx, req, &resp);
  if (!st.ok()) return FromGrpcStatus(st);
  return resp;
}

absl::StatusOr<safeshare::v1::GetStatusResponse> AgentClient::GetStatus(
    const std::string& message_id) {
  grpc::ClientContext ctx;
  auto cancellable = Prepare(ctx);
  safeshare::v1::GetStatusRequest req;
  req.set_message_id(message_id);
  safeshare::v1::GetStatusResponse resp;
  grpc::Status st = mailbox_->GetStatus(&ctx, req, &resp);
  if (!st.ok()) return FromGrpcStatus(st);
  return resp;
}

absl::StatusOr<safeshare::v1::GetThreadResponse> AgentClient::GetThread(
    const std::string& message_id) {
  // Every page: a long thread comes in several replies.
  safeshare::v1::GetThreadResponse all;
  std::string token;
  do {
    grpc::ClientContext ctx;
    auto cancellable = Prepare(ctx);
    safeshare::v1::GetThreadRequest req;
    req.set_message_id(message_id);
    req.set_page_token(token);
    safeshare::v1::GetThreadResponse resp;
    grpc::Status st = mailbox_->GetThread(&ctx, req, &resp);
    if (!st.ok()) return FromGrpcStatus(st);
    for (auto& m : *resp.mutable_messages()) *all.add_messages() = std::move(m);
    token = resp.next_page_token();
  } while (!token.empty());
  return all;
}

absl::StatusOr<safeshare::v1::ListAgenciesResponse> AgentClient::ListAgencies(
    const std::string& area_id) {
  safeshare::v1::ListAgenciesResponse all;
  std::string token;
  do {
    grpc::ClientContext ctx;
    auto cancellable = Prepare(ctx);
    safeshare::v1::ListAgenciesRequest req;
    req.set_area_id(area_id);
    req.set_page_token(token);
    safeshare::v1::ListAgenciesResponse page;
    grpc::Status st = directory_->ListAgencies(&ctx, req, &page);
    if (!st.ok()) return FromGrpcStatus(st);
    for (auto& a : *page.mutable_agencies()) *all.add_agencies() = std::move(a);
    token = page.next_page_token();
  } while (!token.empty());
  return all;
}

absl::StatusOr<safeshare::v1::GetAgencyResponse> AgentClient::GetAgency(
    const std::string& agency_id, uint64_t known_tree_size) {
  grpc::ClientContext ctx;
  auto cancellable = Prepare(ctx);
  safeshare::v1::GetAgencyRequest req;
  req.set_agency_id(agency_id);
  req.set_known_tree_size(known_tree_size);
  safeshare::v1::GetAgencyResponse resp;
  grpc::Status st = directory_->GetAgency(&ctx, req, &resp);
  if (!st.ok()) return FromGrpcStatus(st);
  return resp;
}

absl::StatusOr<safeshare::v1::Team> AgentClient::GetTeam(const std::string& team_id) {
  grpc::ClientContext ctx;
  auto cancellable = Prepare(ctx);
  safeshare::v1::GetTeamRequest req;
  req.set_team_id(team_id);
  safeshare::v1::GetTeamResponse resp;
  grpc::Status st = directory_->GetTeam(&ctx, req, &resp);
  if (!st.ok()) return FromGrpcStatus(st);
  return resp.team();
}

absl::StatusOr<safeshare::v1::PublishKeyResponse> AgentClient::PublishKey(
    const safeshare::v1::SignedKeyStatement& statement) {
  grpc::ClientContext ctx;
  auto cancellable = Prepare(ctx);
  safeshare::v1::PublishKeyRequest req;
  *req.mutable_statement() = statement;
  safeshare::v1::PublishKeyResponse resp;
  grpc::Status st = directory_->PublishKey(&ctx, req, &resp);
  if (!st.ok()) return FromGrpcStatus(st);
  return resp;
}

absl::StatusOr<safeshare::v1::RevokeKeyResponse> AgentClient::RevokeKey(
    const safeshare::v1::SignedKeyStatement& statement) {
  grpc::ClientContext ctx;
  auto cancellable = Prepare(ctx);
  safeshare::v1::RevokeKeyRequest req;
  *req.mutable_statement() = statement;
  safeshare::v1::RevokeKeyResponse resp;
  grpc::Status st = directory_->RevokeKey(&ctx, req, &resp);
  if (!st.ok()) return FromGrpcStatus(st);
  return resp;
}

absl::Status AgentClient::RefuseContent(const std::string& message_id,
                                        safeshare::v1::ContentRefusalReason reason,
                                        const std::string& detail) {
  grpc::ClientContext ctx;
  auto cancellable = Prepare(ctx);
  safeshare::v1::RefuseContentRequest req;
  req.set_message_id(message_id);
  req.set_reason(reason);
  req.set_detail(detail);
  safeshare::v1::RefuseContentResponse resp;
  return FromGrpcStatus(mailbox_->RefuseContent(&ctx, req, &resp));
}

bool AgentClient::Subscription::Read(safeshare::v1::MailboxMessage* message) {
  safeshare::v1::SubscribeResponse r;
  if (!reader_->Read(&r)) return false;
  *message = std::move(*r.mutable_message());
  return true;
}

absl::Status AgentClient::Subscription::Finish() { return FromGrpcStatus(reader_->Finish()); }

std::unique_ptr<AgentClient::Subscription> AgentClient::Subscribe(uint64_t after_sequence) {
  // Cancellable before the call starts: waiting for a gateway that is down
  // blocks in the constructor below.
  std::unique_ptr<Subscription> sub(new Subscription(canceller_));
  // No deadline: a subscription lives as long as the agent. Wait for the
  // gateway to come back rather than failing at once.
  sub->ctx_.set_wait_for_ready(true);
  safeshare::v1::SubscribeRequest req;
  req.set_after_sequence(after_sequence);
  sub->reader_ = mailbox_->Subscribe(&sub->ctx_, req);
  return sub;
}

absl::StatusOr<safeshare::v1::Checkpoint> AgentClient::GetCheckpoint() {
  grpc::ClientContext ctx;
  auto cancellable = Prepare(ctx);
  safeshare::v1::GetCheckpointRequest req;
  safeshare::v1::GetCheckpointResponse resp;
  grpc::Status st = audit_->GetCheckpoint(&ctx, req, &resp);
  if (!st.ok()) return FromGrpcStatus(st);
  return resp.checkpoint();
}

absl::StatusOr<safeshare::v1::GetInclusionProofResponse> AgentClient::GetInclusionProof(
    uint64_t leaf_index, uint64_t tree_size) {
  grpc::ClientContext ctx;
  auto cancellable = Prepare(ctx);
  safeshare::v1::GetInclusionProofRequest req;
  req.set_leaf_index(leaf_index);
  req.set_tree_size(tree_size);
  safeshare::v1::GetInclusionProofResponse resp;
  grpc::Status st = audit_->GetInclusionProof(&ctx, req, &resp);
  if (!st.ok()) return FromGrpcStatus(st);
  return resp;
}

absl::StatusOr<safeshare::v1::QueryRecordsResponse> AgentClient::QueryRecords(
    const safeshare::v1::AuditQuery& query, int page_size, const std::string& page_token) {
  grpc::ClientContext ctx;
  auto cancellable = Prepare(ctx);
  safeshare::v1::QueryRecordsRequest req;
  *req.mutable_query() = query;
  req.set_page_size(page_size);
  req.set_page_token(page_token);
  safeshare::v1::QueryRecordsResponse resp;
  grpc::Status st = audit_->QueryRecords(&ctx, req, &resp);
  if (!st.ok()) return FromGrpcStatus(st);
  return resp;
}

absl::Status AgentClient::ExportRecords(const safeshare::v1::AuditQuery& query,
                                        safeshare::v1::ExportFormat format,
                                        const std::function<absl::Status(const std::string&)>& sink,
                                        bool witnessed) {
  grpc::ClientContext ctx;
  // An export may be long: no deadline beyond the connection's own.
  CallCanceller::Scope cancellable(canceller_, &ctx);
  safeshare::v1::ExportRecordsRequest req;
  *req.mutable_query() = query;
  req.set_format(format);
  req.set_witnessed(witnessed);
  auto reader = audit_->ExportRecords(&ctx, req);
  safeshare::v1::ExportRecordsResponse chunk;
  absl::Status sink_status;
  while (reader->Read(&chunk)) {
    sink_status = sink(chunk.data());
    if (!sink_status.ok()) {
      ctx.TryCancel();
      break;
    }
  }
  grpc::Status st = reader->Finish();
  if (!sink_status.ok()) return sink_status;
  return FromGrpcStatus(st);
}

absl::StatusOr<safeshare::v1::FlowReportResponse> AgentClient::FlowReport(
    const safeshare::v1::FlowReportRequest& request) {
  grpc::ClientContext ctx;
  auto cancellable = Prepare(ctx);
  safeshare::v1::FlowReportResponse resp;
  grpc::Status st = audit_->FlowReport(&ctx, request, &resp);
  if (!st.ok()) return FromGrpcStatus(st);
  return resp;
}

absl::StatusOr<uint64_t> AgentClient::EraseText(const safeshare::v1::EraseTextRequest& request) {
  grpc::ClientContext ctx;
  auto cancellable = Prepare(ctx);
  safeshare::v1::EraseTextResponse resp;
  grpc::Status st = audit_->EraseText(&ctx, request, &resp);
  if (!st.ok()) return FromGrpcStatus(st);
  return resp.leaf_index();
}

absl::StatusOr<uint64_t> AgentClient::RectifyText(
    const safeshare::v1::RectifyTextRequest& request) {
  grpc::ClientContext ctx;
  auto cancellable = Prepare(ctx);
  safeshare::v1::RectifyTextResponse resp;
  grpc::Status st = audit_->RectifyText(&ctx, request, &resp);
  if (!st.ok()) return FromGrpcStatus(st);
  return resp.leaf_index();
}

absl::StatusOr<safeshare::v1::GetConsistencyProofResponse> AgentClient::ConsistencyProof(
    uint64_t first, uint64_t second) {
  grpc::ClientContext ctx;
  auto cancellable = Prepare(ctx);
  safeshare::v1::GetConsistencyProofRequest req;
  req.set_first_tree_size(first);
  req.set_second_tree_size(second);
  safeshare::v1::GetConsistencyProofResponse resp;
  grpc::Status st = audit_->GetConsistencyProof(&ctx, req, &resp);
  if (!st.ok()) return FromGrpcStatus(st);
  return resp;
}

absl::StatusOr<safeshare::v1::ListHeldResponse> AgentClient::ListHeld(
    const std::string& page_token) {
  grpc::ClientContext ctx;
  auto cancellable = Prepare(ctx);
  safeshare::v1::ListHeldRequest req;
  req.set_page_token(page_token);
  safeshare::v1::ListHeldResponse resp;
  grpc::Status st = advice_->ListHeld(&ctx, req, &resp);
  if (!st.ok()) return FromGrpcStatus(st);
  return resp;
}

absl::Status AgentClient::Approve(const std::string& message_id, const std::string& reason) {
  grpc::ClientContext ctx;
  auto cancellable = Prepare(ctx);
  safeshare::v1::ApproveRequest req;
  req.set_message_id(message_id);
  req.set_reason(reason);
  safeshare::v1::ApproveResponse resp;
  return FromGrpcStatus(advice_->Approve(&ctx, req, &resp));
}

absl::Status AgentClient::RefuseHeld(const std::string& message_id, const std::string& reason) {
  grpc::ClientContext ctx;
  auto cancellable = Prepare(ctx);
  safeshare::v1::RefuseRequest req;
  req.set_message_id(message_id);
  req.set_reason(reason);
  safeshare::v1::RefuseResponse resp;
  return FromGrpcStatus(advice_->Refuse(&ctx, req, &resp));
}

absl::Status AgentClient::CheckHealth() {
  auto health = grpc::health::v1::Health::NewStub(channel_);
  grpc::ClientContext ctx;
  auto cancellable = Prepare(ctx, /*wait_for_ready=*/true);
  grpc::health::v1::HealthCheckRequest req;
  grpc::health::v1::HealthCheckResponse resp;
  grpc::Status st = health->Check(&ctx, req, &resp);
  if (!st.ok()) return FromGrpcStatus(st);
  if (resp.status() != grpc::health::v1::HealthCheckResponse::SERVING) {
    return absl::UnavailableError("gateway is not serving");
  }
  return absl::OkStatus();
}

}  // namespace safeshare::agents
