#include "gateway/services/mailbox_service.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "envelope/envelope_shape.h"
#include "gateway/log.h"
#include "gateway/services/caller.h"

namespace safeshare::gateway {
namespace {

constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 500;

absl::Status FetchMailbox(Store& store, const Principal& caller,
                          const safeshare::v1::FetchRequest& request,
                          safeshare::v1::FetchResponse* response) {
  if (request.page_size() < 0) {
    return absl::InvalidArgumentError("page_size must not be negative");
  }
  const int limit = request.page_size() == 0 ? kDefaultPageSize
                                             : std::min(request.page_size(), kMaxPageSize);
  uint64_t after = 0;
  if (!request.page_token().empty() && !absl::SimpleAtoi(request.page_token(), &after)) {
    return absl::InvalidArgumentError("page_token is not one this gateway issued");
  }
  auto messages = store.FetchForRecipient(caller.agency_id, after, limit, absl::Now());
  if (!messages.ok()) return messages.status();
  for (const StoredMessage& m : *messages) {
    auto* out = response->add_messages();
    out->set_sequence(m.sequence);
    out->set_message_id(m.message_id);
    if (!out->mutable_signed_envelope()->ParseFromString(m.signed_envelope)) {
      return absl::DataLossError(absl::StrCat("stored envelope ", m.message_id, " is corrupt"));
    }
    *out->mutable_accepted_time() = ToTimestamp(m.accepted_time);
    if (m.first_delivered_time) {
      *out->mutable_first_delivered_time() = ToTimestamp(*m.first_delivered_time);
    }
  }
  if (static_cast<int>(messages->size()) == limit) {
    response->set_next_page_token(absl::StrCat(messages->back().sequence));
  }
  return absl::OkStatus();
}

}  // namespace

grpc::ServerUnaryReactor* MailboxService::Fetch(grpc::CallbackServerContext* ctx,
                                                const safeshare::v1::FetchRequest* request,
                                                safeshare::v1::FetchResponse* response) {
  auto* reactor = ctx->DefaultReactor();
  auto caller = AuthenticateAgency(*ctx, *directory_);
  absl::Status st = caller.ok() ? FetchMailbox(*store_, *caller, *request, response)
                                : caller.status();
  if (st.ok()) {
    LogEvent("info", "mailbox.fetch",
             {{"agency", caller->agency_id}, {"count", absl::StrCat(response->messages_size())}});
  }
  reactor->Finish(ToGrpcStatus(st));
  return reactor;
}

grpc::ServerUnaryReactor* MailboxService::Ack(grpc::CallbackServerContext* ctx,
                                              const safeshare::v1::AckRequest* request,
                                              safeshare::v1::AckResponse* response) {
  auto* reactor = ctx->DefaultReactor();
  absl::Status st;
  auto caller = AuthenticateAgency(*ctx, *directory_);
  if (!caller.ok()) {
    st = caller.status();
  } else if (!envelope::IsValidMessageId(request->message_id())) {
    st = absl::InvalidArgumentError("message_id must be 1-128 characters of [A-Za-z0-9._:-]");
  } else {
    auto acked = store_->Acknowledge(caller->agency_id, request->message_id(), absl::Now());
    if (acked.ok()) {
      response->set_message_id(acked->message_id);
      *response->mutable_acknowledged_time() = ToTimestamp(*acked->acknowledged_time);
      LogEvent("info", "mailbox.ack",
               {{"agency", caller->agency_id}, {"message_id", acked->message_id}});
    }
    st = acked.status();
  }
  reactor->Finish(ToGrpcStatus(st));
  return reactor;
}

grpc::ServerUnaryReactor* MailboxService::RefuseContent(
    grpc::CallbackServerContext* ctx, const safeshare::v1::RefuseContentRequest* request,
    safeshare::v1::RefuseContentResponse* response) {
  auto* reactor = ctx->DefaultReactor();
  absl::Status st;
  auto caller = AuthenticateAgency(*ctx, *directory_);
  if (!caller.ok()) {
    st = caller.status();
  } else if (!envelope::IsValidMessageId(request->message_id())) {
    st = absl::InvalidArgumentError("message_id must be 1-128 characters of [A-Za-z0-9._:-]");
  } else if (request->reason() == safeshare::v1::CONTENT_REFUSAL_REASON_UNSPECIFIED ||
             !safeshare::v1::ContentRefusalReason_IsValid(request->reason())) {
    st = absl::InvalidArgumentError("reason must be set to a known ContentRefusalReason");
  } else if (request->detail().size() > 1024) {
    st = absl::InvalidArgumentError("detail must be at most 1024 characters");
  } else {
    auto refused = store_->RefuseContent(caller->agency_id, request->message_id(),
                                         request->reason(), request->detail(), absl::Now());
    st = refused.status();
    if (refused.ok()) {
      response->set_message_id(refused->message_id);
      LogEvent("warn", "mailbox.content_refused",
               {{"agency", caller->agency_id},
                {"message_id", refused->message_id},
                {"reason", safeshare::v1::ContentRefusalReason_Name(refused->refusal_reason)}});
    }
  }
  reactor->Finish(ToGrpcStatus(st));
  return reactor;
}

grpc::ServerUnaryReactor* MailboxService::GetStatus(
    grpc::CallbackServerContext* ctx, const safeshare::v1::GetStatusRequest* request,
    safeshare::v1::GetStatusResponse* response) {
  auto* reactor = ctx->DefaultReactor();
  absl::Status st;
  auto caller = AuthenticateAgency(*ctx, *directory_);
  if (!caller.ok()) {
    st = caller.status();
  } else if (!envelope::IsValidMessageId(request->message_id())) {
    st = absl::InvalidArgumentError("message_id must be 1-128 characters of [A-Za-z0-9._:-]");
  } else {
    auto m = store_->GetMessage(request->message_id());
    const bool visible = m.ok() && (m->sender_agency_id == caller->agency_id ||
                                    m->recipient_agency_id == caller->agency_id);
    if (!m.ok() && m.status().code() != absl::StatusCode::kNotFound) {
      st = m.status();
    } else if (!visible) {
      // Absent and someone else's look the same.
      st = absl::PermissionDeniedError(absl::StrCat(
          "agency ", caller->agency_id, " sent or received no message with id ",
          request->message_id()));
    } else {
      response->set_message_id(m->message_id);
      response->set_kind(m->kind);
      response->set_recipient_agency_id(m->recipient_agency_id);
      response->set_state(m->state);
      response->set_content_refusal_reason(m->refusal_reason);
      response->set_content_refusal_detail(m->refusal_detail);
      for (const auto& change : m->history) {
        auto* h = response->add_history();
        h->set_state(change.state);
        *h->mutable_time() = ToTimestamp(change.time);
      }
    }
  }
  reactor->Finish(ToGrpcStatus(st));
  return reactor;
}

}  // namespace safeshare::gateway
