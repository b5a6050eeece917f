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
#include "gateway/reply_budget.h"
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

// What an officer sees of a held message, from its metadata and receipt.
safeshare::v1::HeldMessage Held(const StoredMessage& m) {
  safeshare::v1::HeldMessage out;
  out.set_message_id(m.message_id);
  safeshare::v1::SubmitResponse receipt;
  safeshare::v1::AuditRecord decided;
  if (receipt.ParseFromString(m.receipt)) {
    *out.mutable_decision() = receipt.decision();
    decided.ParseFromString(receipt.audit_record());
  }
  auto* h = out.mutable_envelope_header();  // the declaration, never content
  h->set_message_id(m.message_id);
  h->set_kind(m.kind);
  h->set_sender_agency_id(m.sender_agency_id);
  h->set_recipient_agency_id(m.recipient_agency_id);
  h->set_in_reply_to(m.in_reply_to);
  *h->mutable_sender_practitioner() = decided.sender_practitioner();
  h->mutable_declaration()->ParseFromString(m.declaration);
  *out.mutable_held_time() = ToTimestamp(m.accepted_time);
  if (m.acknowledge_deadline) *out.mutable_decide_by() = ToTimestamp(*m.acknowledge_deadline);
  if (m.escalated_time) *out.mutable_escalated_time() = ToTimestamp(*m.escalated_time);
  return out;
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
    // Without the sealed envelopes: the header comes from the decision's
    // audit record in the receipt, the fields policy decided on.
    auto held = store_->ListHeld(*scope, after, limit);
    st = held.status();
    ReplyBudget budget(max_reply_bytes_);
    uint64_t last = after;
    bool cut = false;
    for (const StoredMessage& m : held.ok() ? *held : std::vector<StoredMessage>{}) {
      safeshare::v1::HeldMessage out = Held(m);
      const size_t bytes = out.ByteSizeLong();
      if (!budget.Take(bytes)) {
        if (response->messages_size() == 0) {
          st = OverReplyLimit(absl::StrCat("held message ", m.message_id), bytes,
                              budget.max_bytes());
        }
        cut = true;
        break;
      }
      *response->add_messages() = std::move(out);
      last = m.sequence;
    }
    if (st.ok() && (cut || static_cast<int>(held->size()) == limit)) {
      response->set_next_page_token(absl::StrCat(last));
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
        // Scope is checked before state (in the store's rule), so absent and
        // out of scope give one answer and reveal nothing of the message.
        auto m = tx.ResolveHeld(
            id, *in_scope, approve,
            [&](const StoredMessage& held) {
              return deadlines->Deadline(held.kind, held.recipient_agency_id, held.urgency, now);
            },
            now);
        if (!m.ok() && m.status().code() == absl::StatusCode::kNotFound) {
          return absl::PermissionDeniedError(
              absl::StrCat("message ", id, " is not held in this officer's scope"));
        }
        if (!m.ok()) return m.status();
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
