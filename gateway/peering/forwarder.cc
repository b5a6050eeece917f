#include "gateway/peering/forwarder.h"

#include <pthread.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "gateway/audit/audit_records.h"
#include "gateway/delivery/hand_over.h"
#include "google/rpc/status.pb.h"

namespace safeshare::gateway {
namespace {

constexpr int kPageSize = 64;
constexpr int kMaxPerPass = 2048;  // per agency, so one pass stays bounded
constexpr size_t kMaxDetail = 1024;

std::string GatewayUri(const std::string& federation_id) {
  return absl::StrCat("safeshare://", federation_id, "/gateway");
}

// A refusal the peer will give again (its policy, its checks), as opposed to
// one worth retrying (unreachable, overloaded, a certificate being fixed).
bool IsFinal(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::NOT_FOUND:
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::OUT_OF_RANGE:
      return true;
    default:
      return false;
  }
}

bool SettledAtPeer(safeshare::v1::MessageState s) {
  return s == safeshare::v1::MESSAGE_STATE_ACKNOWLEDGED ||
         s == safeshare::v1::MESSAGE_STATE_OUTCOME_RECEIVED ||
         s == safeshare::v1::MESSAGE_STATE_ANSWERED || s == safeshare::v1::MESSAGE_STATE_EXPIRED;
}

std::unique_ptr<grpc::ClientContext> CallContext() {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  return ctx;
}

// Records the peer's refusal (or its recipient's) here: the message leaves
// the queue as CONTENT_REFUSED with the peer's reason, audited.
MailboxStore::Work RefusedAtPeer(StoredMessage m, safeshare::v1::ContentRefusalReason reason,
                                 std::string detail, std::string actor,
                                 std::shared_ptr<const FederationDirectory> directory,
                                 std::string receipt) {
  if (detail.size() > kMaxDetail) detail.resize(kMaxDetail);
  return [=](StoreTransaction& tx) -> absl::Status {
    const absl::Time now = absl::Now();
    auto refused = tx.RefuseContent(m.recipient_agency_id, m.message_id, reason, detail, now);
    if (!refused.ok()) return refused.status();
    if (refused->acknowledged_time == now) {
      if (auto st = AuditLateHandOver(tx, *refused, now, actor, *directory); !st.ok()) return st;
      auto index = tx.AppendAudit(
          MessageEventRecord(*refused, safeshare::v1::AUDIT_EVENT_TYPE_CONTENT_REFUSED_BY_RECIPIENT,
                             actor, *directory));
      if (!index.ok()) return index.status();
    }
    if (receipt.empty()) return absl::OkStatus();
    return tx.ReplaceReceipt(m.recipient_agency_id, m.message_id, receipt);
  };
}

}  // namespace

Forwarder::Forwarder(Store* store, const FederationHolder* directory, const KeyDirectory* keys,
                     PeerClients* clients, const safeshare::v1::PeeringConfig& config)
    : store_(store),
      directory_(directory),
      keys_(keys),
      clients_(clients),
      interval_(
          absl::Milliseconds(config.forward_interval_ms() ? config.forward_interval_ms() : 1000)),
      max_backoff_(absl::Milliseconds(config.max_backoff_ms() ? config.max_backoff_ms() : 60000)) {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "forwarder");
    do {
      RunOnce(absl::Now());
    } while (!stop_.WaitForNotificationWithTimeout(interval_));
  });
}

Forwarder::~Forwarder() {
  stop_.Notify();
  thread_.join();
}

absl::Status Forwarder::CommitAndWait(MailboxStore::Work work) {
  absl::Notification done;
  absl::Status result;
  store_->Commit(std::move(work), [&](const absl::Status& st, const CommitInfo&) {
    result = st;
    done.Notify();
  });
  done.WaitForNotification();
  return result;
}

void Forwarder::RunOnce(absl::Time now) {
  const auto directory = directory_->Current();
  for (const auto& peer : directory->federation().peers()) {
    Backoff& backoff = backoff_[peer.id()];
    if (now < backoff.next) continue;
    auto stub = clients_->For(*directory, peer.id());
    if (!stub.ok()) continue;
    bool unavailable = false;
    for (const auto& agency : peer.agencies()) {
      uint64_t after = 0;
      int seen = 0;
      while (!unavailable && !stop_.HasBeenNotified() && seen < kMaxPerPass) {
        auto pending = store_->PendingForRecipient(agency.id(), after, kPageSize);
        if (!pending.ok()) {
          LogEvent("error", "forward.scan_failed",
                   {{"peer", peer.id()}, {"detail", std::string(pending.status().message())}});
          return;
        }
        for (const auto& m : *pending) {
          after = std::max(after, m.sequence);
          ++seen;
          Outcome outcome = Outcome::kDone;
          if (!m.first_delivered_time.has_value()) {
            outcome = ForwardOne(directory, peer, **stub, m);
          } else if (auto it = polled_.find(m.message_id);
                     it == polled_.end() || now - it->second >= interval_ * 5) {
            polled_[m.message_id] = now;
            outcome = PollOne(directory, peer, **stub, m);
          }
          if (outcome == Outcome::kPeerUnavailable) {
            unavailable = true;
            break;
          }
        }
        if (pending->size() < static_cast<size_t>(kPageSize)) break;
      }
    }
    if (unavailable) {
      backoff.delay =
          std::min(max_backoff_,
                   backoff.delay == absl::ZeroDuration() ? absl::Seconds(1) : backoff.delay * 2);
      backoff.next = now + backoff.delay;
    } else {
      backoff = Backoff{};
    }
  }
  if (polled_.size() > 100000) polled_.clear();  // bounded; only delays a poll
}

Forwarder::Outcome Forwarder::ForwardOne(
    const std::shared_ptr<const FederationDirectory>& directory,
    const safeshare::v1::PeerFederation& peer, safeshare::v1::PeerGateway::Stub& stub,
    const StoredMessage& m) {
  safeshare::v1::ForwardRequest request;
  if (!request.mutable_signed_envelope()->ParseFromString(m.signed_envelope)) {
    LogEvent("error", "forward.corrupt", {{"message_id", m.message_id}});
    return Outcome::kDone;
  }
  const auto* sender = directory->FindAgency(m.sender_agency_id);
  if (sender == nullptr ||
      !AgencyWithKeys(*sender, *keys_, directory->id(), 0, request.mutable_sender()).ok()) {
    LogEvent("error", "forward.sender_unknown",
             {{"message_id", m.message_id}, {"sender", m.sender_agency_id}});
    return Outcome::kDone;
  }
  safeshare::v1::SubmitResponse peer_receipt;
  auto ctx = CallContext();
  const grpc::Status call = stub.Forward(ctx.get(), request, &peer_receipt);
  const std::string actor = GatewayUri(peer.id());
  if (!call.ok() && !IsFinal(call.error_code())) {
    LogEvent("warn", "forward.retry",
             {{"peer", peer.id()},
              {"message_id", m.message_id},
              {"code", absl::StatusCodeToString(static_cast<absl::StatusCode>(call.error_code()))},
              {"detail", call.error_message()}});
    return Outcome::kPeerUnavailable;
  }
  // Our receipt, with the peer's beside it.
  auto kept = store_->GetMessage(m.message_id, MessageRead::kDecision);
  safeshare::v1::SubmitResponse receipt;
  if (!kept.ok() || !receipt.ParseFromString(kept->receipt)) {
    LogEvent("error", "forward.receipt_unreadable", {{"message_id", m.message_id}});
    return Outcome::kPeerUnavailable;  // retried: forwarding again is harmless
  }
  if (!call.ok()) {
    google::rpc::Status rich;
    if (rich.ParseFromString(call.error_details())) {
      for (const auto& any : rich.details()) {  // the reason's ErrorInfo comes first
        if (any.UnpackTo(&peer_receipt)) break;
      }
    }
  }
  if (peer_receipt.ByteSizeLong() > 0) {
    *receipt.mutable_peer_receipt() = peer_receipt;
    receipt.set_peer_federation_id(peer.id());
  }
  const std::string kept_receipt = receipt.SerializeAsString();
  absl::Status st;
  if (call.ok()) {
    auto hand_over = RecordHandOvers(m.recipient_agency_id, {m.sequence}, actor, directory);
    st = CommitAndWait([hand_over, m, kept_receipt](StoreTransaction& tx) -> absl::Status {
      if (auto st = hand_over(tx); !st.ok()) return st;
      return tx.ReplaceReceipt(m.recipient_agency_id, m.message_id, kept_receipt);
    });
    LogEvent("info", "forward.accepted",
             {{"peer", peer.id()},
              {"message_id", m.message_id},
              {"peer_state", safeshare::v1::MessageState_Name(peer_receipt.state())}});
  } else {
    st = CommitAndWait(RefusedAtPeer(m,
                                     safeshare::v1::CONTENT_REFUSAL_REASON_REFUSED_BY_PEER_GATEWAY,
                                     absl::StrCat(peer.id(), " refused it: ", call.error_message()),
                                     actor, directory, kept_receipt));
    LogEvent(
        "warn", "forward.refused",
        {{"peer", peer.id()},
         {"message_id", m.message_id},
         {"code", absl::StatusCodeToString(static_cast<absl::StatusCode>(call.error_code()))}});
  }
  if (!st.ok()) {
    LogEvent("error", "store.write_failed",
             {{"message_id", m.message_id}, {"detail", std::string(st.message())}});
  }
  return Outcome::kDone;
}

Forwarder::Outcome Forwarder::PollOne(const std::shared_ptr<const FederationDirectory>& directory,
                                      const safeshare::v1::PeerFederation& peer,
                                      safeshare::v1::PeerGateway::Stub& stub,
                                      const StoredMessage& m) {
  safeshare::v1::GetForwardedRequest request;
  request.set_message_id(m.message_id);
  safeshare::v1::GetStatusResponse status;
  auto ctx = CallContext();
  const grpc::Status call = stub.GetForwarded(ctx.get(), request, &status);
  if (call.error_code() == grpc::StatusCode::NOT_FOUND) {
    // The peer lost it (restored from an older backup): forward it again.
    auto full = store_->GetMessage(m.message_id, MessageRead::kContent);
    return full.ok() ? ForwardOne(directory, peer, stub, *full) : Outcome::kDone;
  }
  if (!call.ok()) return Outcome::kPeerUnavailable;
  const std::string actor = GatewayUri(peer.id());
  absl::Status st;
  if (SettledAtPeer(status.state())) {
    st = CommitAndWait([m, actor, directory](StoreTransaction& tx) -> absl::Status {
      const absl::Time now = absl::Now();
      auto acked = tx.Acknowledge(m.recipient_agency_id, m.message_id, now);
      if (!acked.ok()) return acked.status();
      if (acked->acknowledged_time != now) return absl::OkStatus();
      if (auto st = AuditLateHandOver(tx, *acked, now, actor, *directory); !st.ok()) {
        return st;
      }
      return tx
          .AppendAudit(MessageEventRecord(*acked, safeshare::v1::AUDIT_EVENT_TYPE_ACKNOWLEDGED,
                                          actor, *directory))
          .status();
    });
    if (st.ok()) {
      LogEvent("info", "forward.acknowledged", {{"peer", peer.id()}, {"message_id", m.message_id}});
    }
  } else if (status.state() == safeshare::v1::MESSAGE_STATE_CONTENT_REFUSED) {
    st = CommitAndWait(RefusedAtPeer(m, status.content_refusal_reason(),
                                     status.content_refusal_detail(), actor, directory, ""));
  } else if (status.state() == safeshare::v1::MESSAGE_STATE_REFUSED) {
    st = CommitAndWait(
        RefusedAtPeer(m, safeshare::v1::CONTENT_REFUSAL_REASON_REFUSED_BY_PEER_GATEWAY,
                      absl::StrCat(peer.id(), ": an information governance officer refused it"),
                      actor, directory, ""));
  }
  if (!st.ok()) {
    LogEvent("error", "store.write_failed",
             {{"message_id", m.message_id}, {"detail", std::string(st.message())}});
  }
  return Outcome::kDone;
}

}  // namespace safeshare::gateway
