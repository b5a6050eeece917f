#include "gateway/services/advice_service.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "common/time.h"
#include "envelope/envelope_shape.h"
#include "gateway/audit/audit_records.h"
#include "gateway/authentication.h"
#include "gateway/grpc_status.h"
#include "gateway/officer_scope.h"
#include "safeshare/v1/referrals.pb.h"

namespace safeshare::gateway {
namespace {

absl::StatusOr<Principal> Officer(const grpc::CallbackServerContext& ctx,
                                  const FederationDirectory& directory) {
  auto caller = AuthenticateCaller(ctx, directory);
  if (caller.ok() && !caller->is_officer()) {
    return absl::PermissionDeniedError("advice is given by IG officer certificates only");
  }
  return caller;
}

bool InScope(const std::vector<std::string>& scope, const std::string& agency) {
  return scope.empty() || std::find(scope.begin(), scope.end(), agency) != scope.end();
}

}  // namespace

grpc::ServerUnaryReactor* AdviceService::ListHeld(grpc::CallbackServerContext* ctx,
                                                  const safeshare::v1::ListHeldRequest* request,
                                                  safeshare::v1::ListHeldResponse* response) {
  auto* reactor = ctx->DefaultReactor();
  const auto directory = directory_->Current();
  auto officer = Officer(*ctx, *directory);
  absl::Status st = officer.status();
  absl::StatusOr<std::vector<std::string>> scope = absl::InternalError("unset");
  if (st.ok()) {
    scope = OfficerScope(*officer, *directory);
    st = scope.status();
  }
  uint64_t after = 0;
  if (st.ok() && !request->page_token().empty() &&
      !absl::SimpleAtoi(request->page_token(), &after)) {
    st = absl::InvalidArgumentError("page_token is not one this gateway issued");
  }
  if (st.ok()) {
    const int limit = request->page_size() <= 0 ? 50 : std::min(request->page_size(), 500);
    auto held = store_->ListHeld(*scope, after, limit);
    st = held.status();
    for (const StoredMessage& m : held.ok() ? *held : std::vector<StoredMessage>{}) {
      auto* out = response->add_messages();
      out->set_message_id(m.message_id);
      safeshare::v1::SignedEnvelope signed_envelope;
      safeshare::v1::SubmitResponse receipt;
      if (signed_envelope.ParseFromString(m.signed_envelope)) {
        out->mutable_envelope_header()->ParseFromString(signed_envelope.envelope_bytes());
        out->mutable_envelope_header()->clear_payload();  // the declaration, never content
      }
      if (receipt.ParseFromString(m.receipt)) *out->mutable_decision() = receipt.decision();
      *out->mutable_held_time() = ToTimestamp(m.accepted_time);
      if (m.acknowledge_deadline) *out->mutable_decide_by() = ToTimestamp(*m.acknowledge_deadline);
      if (m.escalated_time) *out->mutable_escalated_time() = ToTimestamp(*m.escalated_time);
    }
    if (held.ok() && static_cast<int>(held->size()) == limit) {
      response->set_next_page_token(absl::StrCat(held->back().sequence));
    }
  }
  reactor->Finish(ToGrpcStatus(st));
  return reactor;
}

grpc::ServerUnaryReactor* AdviceService::Approve(grpc::CallbackServerContext* ctx,
                                                 const safeshare::v1::ApproveRequest* request,
                                                 safeshare::v1::ApproveResponse* response) {
  return Resolve(ctx, request->message_id(), request->reason(), true,
                 response->mutable_message_id());
}

grpc::ServerUnaryReactor* AdviceService::Refuse(grpc::CallbackServerContext* ctx,
                                                const safeshare::v1::RefuseRequest* request,
                                                safeshare::v1::RefuseResponse* response) {
  return Resolve(ctx, request->message_id(), request->reason(), false,
                 response->mutable_message_id());
}

grpc::ServerUnaryReactor* AdviceService::Resolve(grpc::CallbackServerContext* ctx,
                                                 const std::string& id, const std::string& reason,
                                                 bool approve, std::string* response_id) {
  auto* reactor = ctx->DefaultReactor();
  std::shared_ptr<const FederationDirectory> directory = directory_->Current();
  auto officer = Officer(*ctx, *directory);
  absl::Status invalid = officer.status();
  if (invalid.ok() && !envelope::IsValidMessageId(id)) {
    invalid = absl::InvalidArgumentError("message_id must be 1-128 characters of [A-Za-z0-9._:-]");
  } else if (invalid.ok() && (reason.size() < 10 || reason.size() > 1024)) {
    invalid = absl::InvalidArgumentError(
        "reason must say why, in 10 to 1024 characters; it is recorded in the audit log");
  }
  absl::StatusOr<std::vector<std::string>> scope = absl::InternalError("unset");
  if (invalid.ok()) {
    scope = OfficerScope(*officer, *directory);
    invalid = scope.status();
  }
  if (!invalid.ok()) {
    reactor->Finish(ToGrpcStatus(invalid));
    return reactor;
  }
  auto resolved = std::make_shared<StoredMessage>();
  const std::string uri = officer->uri;
  const DeadlinePolicy* deadlines = &deadlines_;
  auto in_scope = std::make_shared<std::vector<std::string>>(std::move(*scope));
  store_->Commit(
      [=](StoreTransaction& tx) -> absl::Status {
        const absl::Time now = absl::Now();
        // The approved message's deadline to acknowledge runs from now.
        auto m = tx.ResolveHeld(
            id, approve, [&](safeshare::v1::Urgency u) { return deadlines->Deadline(u, now); },
            now);
        if (!m.ok() && m.status().code() == absl::StatusCode::kNotFound) {
          return absl::PermissionDeniedError(
              absl::StrCat("message ", id, " is not held in this officer's scope"));
        }
        if (!m.ok()) return m.status();
        // Out of scope: the job fails, so its change is rolled back.
        if (!InScope(*in_scope, m->sender_agency_id)) {
          return absl::PermissionDeniedError(
              absl::StrCat("message ", id, " is not held in this officer's scope"));
        }
        safeshare::v1::AuditRecord record =
            MessageEventRecord(*m,
                               approve ? safeshare::v1::AUDIT_EVENT_TYPE_APPROVED_BY_OFFICER
                                       : safeshare::v1::AUDIT_EVENT_TYPE_REFUSED_BY_OFFICER,
                               uri, *directory);
        record.set_reason(reason);
        auto index = tx.AppendAudit(record);
        if (!index.ok()) return index.status();
        *resolved = std::move(*m);
        return absl::OkStatus();
      },
      [=](const absl::Status& st, const CommitInfo&) {
        if (st.ok()) {
          *response_id = resolved->message_id;
          LogEvent("info", approve ? "advice.approved" : "advice.refused",
                   {{"officer", uri}, {"message_id", resolved->message_id}});
          if (approve) notifier_->Notify(resolved->recipient_agency_id);
        }
        reactor->Finish(ToGrpcStatus(st));
      });
  return reactor;
}

}  // namespace safeshare::gateway
