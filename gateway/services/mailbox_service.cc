#include "gateway/services/mailbox_service.h"

#include <deque>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "common/time.h"
#include "envelope/envelope_shape.h"
#include "gateway/audit/audit_records.h"
#include "gateway/authentication.h"
#include "gateway/delivery/hand_over.h"
#include "gateway/grpc_status.h"
#include "gateway/reply_budget.h"

namespace safeshare::gateway {
namespace {

constexpr int kDefaultPageSize = 50;

// The DELIVERED record of a message its recipient settles before its
// hand-over was recorded (the gateway was killed in between): every message
// acknowledged or refused was first delivered, and the log says so.
constexpr int kMaxPageSize = 500;

// How many rows Fetch reads at a time while it fills its byte budget: the
// sealed envelopes held in memory stay a few over what the reply carries.
constexpr int kFetchReadBatch = 8;

// Reads and converts the caller's waiting messages after `after`, at most
// `limit`, stopping before the one that would take the reply over `budget`.
// `more` says whether the reply was cut short (by either bound).
absl::Status ReadFetchPage(MailboxStore &store, const std::string &agency, uint64_t after,
                           int limit, ReplyBudget &budget, std::vector<StoredMessage> *rows,
                           std::vector<safeshare::v1::MailboxMessage> *page, bool *more) {
  *more = false;
  while (static_cast<int>(page->size()) < limit) {
    const int want = std::min(kFetchReadBatch, limit - static_cast<int>(page->size()));
    auto batch = store.PendingForRecipient(agency, after, want);
    if (!batch.ok()) return batch.status();
    for (StoredMessage &m : *batch) {
      safeshare::v1::MailboxMessage out;
      if (auto st = ToMailboxMessage(m, &out); !st.ok()) return st;
      const size_t bytes = out.ByteSizeLong();
      if (!budget.Take(bytes)) {
        if (page->empty()) {
          return OverReplyLimit(absl::StrCat("message ", m.message_id), bytes, budget.max_bytes());
        }
        *more = true;
        return absl::OkStatus();
      }
      after = m.sequence;
      m.signed_envelope.clear();  // converted; the copy in `out` is the one sent
      rows->push_back(std::move(m));
      page->push_back(std::move(out));
    }
    if (static_cast<int>(batch->size()) < want) return absl::OkStatus();
  }
  *more = true;  // a full page: there may be more
  return absl::OkStatus();
}

// One live subscription: sends the agency's pending messages, then new ones as
// they arrive. Store reads run on the notifier's threads (never on gRPC's or
// the committer's); one write in flight, and at most kSubscribeBatch messages
// or kReadAheadBytes (beyond the first) read ahead, so a slow consumer costs
// the gateway a bounded amount of memory.
class SubscribeReactor final : public grpc::ServerWriteReactor<safeshare::v1::SubscribeResponse> {
 public:
  static constexpr int kSubscribeBatch = 8;
  static constexpr size_t kReadAheadBytes = 1 << 20;

  SubscribeReactor(MailboxStore *store, MailboxNotifier *notifier,
                   const FederationHolder *directory, PeerCertificate cert,
                   std::shared_ptr<const FederationDirectory> authenticated_with,
                   std::string agency, std::string uri, uint64_t after)
      : store_(store),
        notifier_(notifier),
        directory_(directory),
        cert_(std::move(cert)),
        agency_(std::move(agency)),
        uri_(std::move(uri)),
        authenticated_with_(std::move(authenticated_with)),
        last_sequence_(after) {
    absl::MutexLock lock(&mu_);  // the first Wake waits for the token
    auto token = notifier_->Add(agency_, uri_, [this] { Wake(); });
    if (!token.ok()) {
      LogEvent("warn", "mailbox.subscribe_refused",
               {{"agency", agency_}, {"detail", std::string(token.status().message())}});
      FinishLocked(ToGrpcStatus(token.status()));
      return;
    }
    token_ = *token;
    LogEvent("info", "mailbox.subscribe", {{"agency", agency_}, {"after", absl::StrCat(after)}});
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (pending_finish_) {
      Finish(*pending_finish_);
      return;
    }
    if (!ok) {
      FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "subscriber went away"));
      return;
    }
    last_sequence_ = queue_.front().message().sequence();
    queue_.pop_front();
    if (!queue_.empty()) {
      WriteFrontLocked();
    } else {
      notifier_->Wake(token_);  // there may be more than one batch waiting
    }
  }

  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "subscription cancelled"));
  }

  void OnDone() override {
    notifier_->Remove(token_);  // waits out a running listener; none starts after
    delete this;
  }

 private:
  // While a write is in flight this does nothing: the next read happens when
  // the queue drains.
  void Wake() {
    absl::MutexLock lock(&mu_);
    if (!StillAuthenticatedLocked()) return;
    FetchLocked();
  }

  // After a reload (a new directory), the certificate is checked again: a
  // revoked one ends the stream with UNAUTHENTICATED.
  bool StillAuthenticatedLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    std::shared_ptr<const FederationDirectory> current = directory_->Current();
    if (current == authenticated_with_) return true;
    auto caller = AuthenticateCertificate(cert_, *current);
    if (caller.ok()) {
      authenticated_with_ = std::move(current);
      return true;
    }
    LogEvent("warn", "mailbox.subscription_ended",
             {{"agency", agency_}, {"code", absl::StatusCodeToString(caller.status().code())}});
    queue_.clear();
    FinishLocked(ToGrpcStatus(caller.status()));
    return false;
  }

  // Reads what is waiting straight from committed data (not through the
  // committer, so a new message goes out as soon as its Submit is durable),
  // starts writing, and records the hand-overs in the next batch. That record
  // is queued before the write starts, so it always precedes the recipient's
  // acknowledgement.
  void FetchLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_ || writing_) return;
    auto messages = store_->PendingForRecipient(agency_, last_sequence_, kSubscribeBatch);
    if (!messages.ok()) {
      FinishLocked(ToGrpcStatus(messages.status()));
      return;
    }
    size_t bytes = 0;
    for (StoredMessage &m : *messages) {
      if (!queue_.empty() && bytes + m.signed_envelope.size() > kReadAheadBytes) {
        messages->resize(&m - messages->data());  // read again on the next turn
        break;
      }
      bytes += m.signed_envelope.size();
      safeshare::v1::SubscribeResponse r;
      if (absl::Status bad = ToMailboxMessage(m, r.mutable_message()); !bad.ok()) {
        // Never skip silently: the stream would stall on it.
        LogEvent("error", "mailbox.corrupt_message", {{"message_id", m.message_id}});
        queue_.clear();
        FinishLocked(ToGrpcStatus(bad));
        return;
      }
      queue_.push_back(std::move(r));
    }
    if (std::vector<uint64_t> first = FirstHandOvers(*messages); !first.empty()) {
      store_->Commit(RecordHandOvers(agency_, std::move(first), uri_, directory_->Current()),
                     [agency = agency_](const absl::Status &st, const CommitInfo &) {
                       // The messages went out; only their hand-over record is
                       // late, and the next read records it.
                       if (!st.ok()) {
                         LogEvent("error", "mailbox.delivery_record_failed",
                                  {{"agency", agency}, {"detail", std::string(st.message())}});
                       }
                     });
    }
    if (!queue_.empty()) WriteFrontLocked();
  }

  void WriteFrontLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_ || writing_) return;
    writing_ = true;
    StartWrite(&queue_.front());
  }

  void FinishLocked(const grpc::Status &status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return;
    finished_ = true;
    if (writing_) {
      pending_finish_ = status;  // finish once the write in flight completes
    } else {
      Finish(status);
    }
  }

  MailboxStore *store_;
  MailboxNotifier *notifier_;
  const FederationHolder *directory_;
  const PeerCertificate cert_;
  const std::string agency_, uri_;
  uint64_t token_ = 0;
  absl::Mutex mu_;
  std::shared_ptr<const FederationDirectory> authenticated_with_ ABSL_GUARDED_BY(mu_);
  uint64_t last_sequence_ ABSL_GUARDED_BY(mu_);
  std::deque<safeshare::v1::SubscribeResponse> queue_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<grpc::Status> pending_finish_ ABSL_GUARDED_BY(mu_);
};

class RefusedSubscription final
    : public grpc::ServerWriteReactor<safeshare::v1::SubscribeResponse> {
 public:
  explicit RefusedSubscription(const absl::Status &st) { Finish(ToGrpcStatus(st)); }
  void OnDone() override { delete this; }
};

}  // namespace

grpc::ServerWriteReactor<safeshare::v1::SubscribeResponse> *MailboxService::Subscribe(
    grpc::CallbackServerContext *ctx, const safeshare::v1::SubscribeRequest *request) {
  auto directory = directory_->Current();
  auto cert = CallerCertificate(*ctx);
  if (!cert.ok()) return new RefusedSubscription(cert.status());
  auto caller = AuthenticateAgencyCertificate(*cert, *directory);  // parsed once
  if (!caller.ok()) return new RefusedSubscription(caller.status());
  return new SubscribeReactor(store_, notifier_, directory_, *std::move(cert), std::move(directory),
                              caller->agency_id, caller->uri, request->after_sequence());
}

grpc::ServerUnaryReactor *MailboxService::Fetch(grpc::CallbackServerContext *ctx,
                                                const safeshare::v1::FetchRequest *request,
                                                safeshare::v1::FetchResponse *response) {
  auto *reactor = ctx->DefaultReactor();
  const auto directory = directory_->Current();
  auto caller = AuthenticateAgency(*ctx, *directory);
  if (!caller.ok()) {
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  if (request->page_size() < 0) {
    reactor->Finish(ToGrpcStatus(absl::InvalidArgumentError("page_size must not be negative")));
    return reactor;
  }
  const int limit =
      request->page_size() == 0 ? kDefaultPageSize : std::min(request->page_size(), kMaxPageSize);
  uint64_t after = 0;
  if (!request->page_token().empty() && !absl::SimpleAtoi(request->page_token(), &after)) {
    reactor->Finish(
        ToGrpcStatus(absl::InvalidArgumentError("page_token is not one this gateway issued")));
    return reactor;
  }
  auto read = std::make_shared<std::vector<StoredMessage>>();
  auto page = std::make_shared<std::vector<safeshare::v1::MailboxMessage>>();
  ReplyBudget budget(max_reply_bytes_);
  bool more = false;
  if (absl::Status st = ReadFetchPage(*store_, caller->agency_id, after, limit, budget, read.get(),
                                      page.get(), &more);
      !st.ok()) {
    reactor->Finish(ToGrpcStatus(st));
    return reactor;
  }
  auto marked = std::make_shared<std::vector<StoredMessage>>();
  const std::string agency = caller->agency_id;
  auto reply = [=](const absl::Status &st, const CommitInfo &) {
    if (!st.ok()) {
      reactor->Finish(ToGrpcStatus(st));
      return;
    }
    for (size_t i = 0; i < read->size(); ++i) {
      safeshare::v1::MailboxMessage &out = (*page)[i];
      for (const StoredMessage &done : *marked) {
        if (done.sequence == out.sequence() && done.first_delivered_time) {
          *out.mutable_first_delivered_time() = ToTimestamp(*done.first_delivered_time);
        }
      }
      *response->add_messages() = std::move(out);
    }
    if (more && !read->empty()) response->set_next_page_token(absl::StrCat(read->back().sequence));
    LogEvent("info", "mailbox.fetch",
             {{"agency", agency}, {"count", absl::StrCat(response->messages_size())}});
    reactor->Finish(grpc::Status::OK);
  };
  // Only what this reply carries is recorded as handed over.
  std::vector<uint64_t> first = FirstHandOvers(*read);
  if (first.empty()) {
    reply(absl::OkStatus(), CommitInfo());  // nothing new to record
  } else {
    // Answer once the hand-over is recorded, so the reply carries its time.
    store_->Commit(RecordHandOvers(agency, std::move(first), caller->uri, directory, marked),
                   reply);
  }
  return reactor;
}

grpc::ServerUnaryReactor *MailboxService::Ack(grpc::CallbackServerContext *ctx,
                                              const safeshare::v1::AckRequest *request,
                                              safeshare::v1::AckResponse *response) {
  auto *reactor = ctx->DefaultReactor();
  const auto directory = directory_->Current();
  auto caller = AuthenticateAgency(*ctx, *directory);
  if (!caller.ok()) {
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  if (!envelope::IsValidMessageId(request->message_id())) {
    reactor->Finish(ToGrpcStatus(
        absl::InvalidArgumentError("message_id must be 1-128 characters of [A-Za-z0-9._:-]")));
    return reactor;
  }
  auto acked = std::make_shared<StoredMessage>();
  const std::string agency = caller->agency_id, uri = caller->uri, id = request->message_id();
  store_->Commit(
      [=](StoreTransaction &tx) -> absl::Status {
        const absl::Time now = absl::Now();
        auto m = tx.Acknowledge(agency, id, now);
        if (!m.ok()) return m.status();
        if (m->acknowledged_time == now) {  // this call acknowledged it
          if (auto st = AuditLateHandOver(tx, *m, now, uri, *directory); !st.ok()) return st;
          auto index = tx.AppendAudit(MessageEventRecord(
              *m, safeshare::v1::AUDIT_EVENT_TYPE_ACKNOWLEDGED, uri, *directory));
          if (!index.ok()) return index.status();
        }
        *acked = std::move(*m);
        return absl::OkStatus();
      },
      [=](const absl::Status &st, const CommitInfo &) {
        if (st.ok()) {
          response->set_message_id(acked->message_id);
          *response->mutable_acknowledged_time() = ToTimestamp(*acked->acknowledged_time);
          LogEvent("info", "mailbox.ack", {{"agency", agency}, {"message_id", id}});
        }
        reactor->Finish(ToGrpcStatus(st));
      });
  return reactor;
}

grpc::ServerUnaryReactor *MailboxService::RefuseContent(
    grpc::CallbackServerContext *ctx, const safeshare::v1::RefuseContentRequest *request,
    safeshare::v1::RefuseContentResponse *response) {
  auto *reactor = ctx->DefaultReactor();
  absl::Status invalid;
  const auto directory = directory_->Current();
  auto caller = AuthenticateAgency(*ctx, *directory);
  if (!caller.ok()) {
    invalid = caller.status();
  } else if (!envelope::IsValidMessageId(request->message_id())) {
    invalid = absl::InvalidArgumentError("message_id must be 1-128 characters of [A-Za-z0-9._:-]");
  } else if (request->reason() == safeshare::v1::CONTENT_REFUSAL_REASON_UNSPECIFIED ||
             !safeshare::v1::ContentRefusalReason_IsValid(request->reason())) {
    invalid = absl::InvalidArgumentError("reason must be set to a known ContentRefusalReason");
  } else if (request->reason() == safeshare::v1::CONTENT_REFUSAL_REASON_REFUSED_BY_PEER_GATEWAY) {
    invalid = absl::InvalidArgumentError(
        "REFUSED_BY_PEER_GATEWAY is recorded by the gateway itself, never by an agency");
  } else if (request->detail().size() > 1024) {
    invalid = absl::InvalidArgumentError("detail must be at most 1024 characters");
  }
  if (!invalid.ok()) {
    reactor->Finish(ToGrpcStatus(invalid));
    return reactor;
  }
  auto refused = std::make_shared<StoredMessage>();
  const std::string agency = caller->agency_id, uri = caller->uri, id = request->message_id();
  const auto reason = request->reason();
  const std::string detail = request->detail();
  store_->Commit(
      [=](StoreTransaction &tx) -> absl::Status {
        const absl::Time now = absl::Now();
        auto m = tx.RefuseContent(agency, id, reason, detail, now);
        if (!m.ok()) return m.status();
        if (m->acknowledged_time == now) {
          if (auto st = AuditLateHandOver(tx, *m, now, uri, *directory); !st.ok()) return st;
          auto index = tx.AppendAudit(MessageEventRecord(
              *m, safeshare::v1::AUDIT_EVENT_TYPE_CONTENT_REFUSED_BY_RECIPIENT, uri, *directory));
          if (!index.ok()) return index.status();
        }
        *refused = std::move(*m);
        return absl::OkStatus();
      },
      [=](const absl::Status &st, const CommitInfo &) {
        if (st.ok()) {
          response->set_message_id(refused->message_id);
          LogEvent("warn", "mailbox.content_refused",
                   {{"agency", agency},
                    {"message_id", id},
                    {"reason", safeshare::v1::ContentRefusalReason_Name(refused->refusal_reason)}});
        }
        reactor->Finish(ToGrpcStatus(st));
      });
  return reactor;
}

namespace {

// A recipient does not learn of messages policy kept from it.
bool VisibleTo(const StoredMessage &m, const std::string &agency) {
  return m.sender_agency_id == agency ||
         (m.recipient_agency_id == agency && m.state != safeshare::v1::MESSAGE_STATE_HELD &&
          m.state != safeshare::v1::MESSAGE_STATE_REFUSED);
}

}  // namespace

absl::StatusOr<StoredMessage> MailboxService::VisibleMessage(const Principal &caller,
                                                             const std::string &id) {
  if (!envelope::IsValidMessageId(id)) {
    return absl::InvalidArgumentError("message_id must be 1-128 characters of [A-Za-z0-9._:-]");
  }
  auto m = store_->GetMessage(id, MessageRead::kMetadata);
  if (!m.ok() && m.status().code() != absl::StatusCode::kNotFound) return m.status();
  if (!m.ok() || !VisibleTo(*m, caller.agency_id)) {
    // Absent and someone else's look the same.
    return absl::PermissionDeniedError(
        absl::StrCat("agency ", caller.agency_id, " sent or received no message with id ", id));
  }
  return m;
}

grpc::ServerUnaryReactor *MailboxService::GetStatus(grpc::CallbackServerContext *ctx,
                                                    const safeshare::v1::GetStatusRequest *request,
                                                    safeshare::v1::GetStatusResponse *response) {
  auto *reactor = ctx->DefaultReactor();
  const auto directory = directory_->Current();
  auto caller = AuthenticateAgency(*ctx, *directory);
  auto m = caller.ok() ? VisibleMessage(*caller, request->message_id())
                       : absl::StatusOr<StoredMessage>(caller.status());
  if (m.ok()) {
    ToMessageStatus(*m, response);
    response->set_state(ForwardingOrState(*directory, *m));
  }
  reactor->Finish(ToGrpcStatus(m.status()));
  return reactor;
}

grpc::ServerUnaryReactor *MailboxService::GetThread(grpc::CallbackServerContext *ctx,
                                                    const safeshare::v1::GetThreadRequest *request,
                                                    safeshare::v1::GetThreadResponse *response) {
  auto *reactor = ctx->DefaultReactor();
  const auto directory = directory_->Current();
  auto caller = AuthenticateAgency(*ctx, *directory);
  auto m = caller.ok() ? VisibleMessage(*caller, request->message_id())
                       : absl::StatusOr<StoredMessage>(caller.status());
  absl::Status st = m.status();
  uint64_t after = 0;
  if (st.ok() && !request->page_token().empty() &&
      !absl::SimpleAtoi(request->page_token(), &after)) {
    st = absl::InvalidArgumentError("page_token is not one this gateway issued");
  }
  if (st.ok()) {
    // A thread is its first message and at most max_replies_per_thread
    // replies; read no more than that whatever is stored.
    const int rows = static_cast<int>(std::min<uint64_t>(max_replies_per_thread_ + 1u, 100000));
    auto thread =
        store_->ListThread(m->in_reply_to.empty() ? m->message_id : m->in_reply_to, after, rows);
    st = thread.status();
    ReplyBudget budget(max_reply_bytes_);
    uint64_t last = after;
    for (const StoredMessage &t : thread.ok() ? *thread : std::vector<StoredMessage>{}) {
      if (!VisibleTo(t, caller->agency_id)) continue;
      safeshare::v1::GetStatusResponse one;
      ToMessageStatus(t, &one);
      const size_t bytes = one.ByteSizeLong();
      if (!budget.Take(bytes)) {
        if (response->messages_size() == 0) {
          st = OverReplyLimit(absl::StrCat("message ", t.message_id, "'s status"), bytes,
                              budget.max_bytes());
        } else {
          response->set_next_page_token(absl::StrCat(last));
        }
        break;
      }
      last = t.sequence;
      *response->add_messages() = std::move(one);
    }
  }
  reactor->Finish(ToGrpcStatus(st));
  return reactor;
}

}  // namespace safeshare::gateway
