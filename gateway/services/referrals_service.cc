#include "gateway/services/referrals_service.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/error_reason.h"
#include "common/log.h"
#include "common/refusal_reasons.h"
#include "common/time.h"
#include "envelope/digest.h"
#include "envelope/envelope_shape.h"
#include "envelope/key_statement.h"
#include "envelope/sealing.h"
#include "gateway/audit/audit_records.h"
#include "gateway/audit/receipt_proofs.h"
#include "gateway/authentication.h"
#include "gateway/delivery/hand_over.h"
#include "gateway/grpc_status.h"
#include "google/protobuf/any.pb.h"
#include "google/rpc/status.pb.h"

namespace safeshare::gateway {

using safeshare::v1::SubmitRequest;
using safeshare::v1::SubmitResponse;

namespace {

absl::Status DuplicateMarker() { return absl::AbortedError("duplicate message id"); }

// What the sender must fix, from the findings that failed.
absl::Status DeniedStatus(const SubmitResponse& receipt) {
  const auto& d = receipt.decision();
  std::string why;
  for (const auto& f : d.findings()) {
    if (f.outcome() != safeshare::v1::FINDING_OUTCOME_FAIL) continue;
    absl::StrAppend(&why, why.empty() ? "" : "; ", f.check(), " (", f.rule(), "): ", f.reason());
  }
  return WithReason(
      absl::FailedPreconditionError(absl::StrCat(
          "not shared: the declaration fails ", d.rule_pack(), " ", d.rule_pack_version(),
          d.isa_id().empty() ? std::string()
                             : absl::StrCat(" under ", d.isa_id(), " v", d.isa_version()),
          ": ", why)),
      reason::kPolicyDenied);
}

// A refused Submit still carries its receipt, in the standard rich error
// details (grpc-status-details-bin).
grpc::Status WithReceipt(const absl::Status& status, const SubmitResponse& receipt) {
  google::rpc::Status rich = RichStatus(status);
  rich.add_details()->PackFrom(receipt);
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()),
                      rich.SerializeAsString());
}

}  // namespace

grpc::ServerUnaryReactor* ReferralsService::Submit(grpc::CallbackServerContext* ctx,
                                                   const SubmitRequest* request,
                                                   SubmitResponse* response) {
  auto* reactor = ctx->DefaultReactor();
  auto caller = AuthenticateAgency(*ctx, *directory_->Current());
  if (!caller.ok()) {
    LogEvent("warn", "submit.refused",
             {{"caller", "unauthenticated"},
              {"code", absl::StatusCodeToString(caller.status().code())}});
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  const std::string uri = caller->uri;
  GatewayMetrics* metrics = metrics_;
  SubmitAsync(*caller, *request, response,
              [reactor, response, uri, metrics](const absl::Status& status) {
                if (!status.ok()) {
                  LogEvent("warn", "submit.refused",
                           {{"caller", uri}, {"code", absl::StatusCodeToString(status.code())}});
                  if (metrics) metrics->refusals->Inc({absl::StatusCodeToString(status.code())});
                }
                reactor->Finish(ToSubmitStatus(status, *response));
              });
  return reactor;
}

grpc::Status ReferralsService::ToSubmitStatus(const absl::Status& status,
                                              const SubmitResponse& response) {
  if (status.ok()) return grpc::Status::OK;
  return response.state() == safeshare::v1::MESSAGE_STATE_REFUSED ? WithReceipt(status, response)
                                                                  : ToGrpcStatus(status);
}

absl::Status ReferralsService::Validate(const Principal& caller, const SubmitRequest& request,
                                        const FederationDirectory& directory, absl::Time now,
                                        safeshare::v1::Envelope* envelope, RefusedAt* at,
                                        safeshare::v1::SharingDeclaration* answered,
                                        const DirectoryKey* forwarded_sender_key,
                                        bool* to_peer) const {
  *at = RefusedAt::kBeforeShape;
  const auto& signed_envelope = request.signed_envelope();
  const size_t size = signed_envelope.ByteSizeLong();
  if (size > max_message_bytes_) {
    return WithReason(absl::ResourceExhaustedError(absl::StrCat(
                          "signed envelope is ", size, " bytes; this gateway accepts at most ",
                          max_message_bytes_, " bytes")),
                      reason::kMessageTooLarge,
                      {{"maxMessageBytes", absl::StrCat(max_message_bytes_)}});
  }
  auto parsed_envelope = envelope::ParseEnvelope(signed_envelope.envelope_bytes());
  if (!parsed_envelope.ok()) return parsed_envelope.status();
  *envelope = std::move(*parsed_envelope);
  if (absl::Status st = envelope::ValidateEnvelopeShape(*envelope, declaration_limits_); !st.ok()) {
    return st;
  }
  if (absl::Status st = envelope::ValidateSealedShape(signed_envelope, *envelope); !st.ok()) {
    return st;
  }
  *at = RefusedAt::kBeforeSignature;
  if (envelope->sender_agency_id() != caller.agency_id) {
    return WithReason(absl::PermissionDeniedError(absl::StrCat(
                          "envelope.sender_agency_id is ", envelope->sender_agency_id(),
                          " but the client certificate belongs to ", caller.agency_id)),
                      reason::kSenderNotCaller);
  }
  // A peer gateway forwards to this federation's agencies only; an agency
  // here may also send to a peer federation's.
  const auto* recipient = directory.FindAgency(envelope->recipient_agency_id());
  *to_peer = false;
  if (recipient == nullptr && !caller.is_gateway()) {
    recipient = directory.FindAnyAgency(envelope->recipient_agency_id());
    *to_peer = recipient != nullptr;
  }
  if (recipient == nullptr) {
    return WithReason(
        absl::NotFoundError(absl::StrCat("recipient agency ", envelope->recipient_agency_id(),
                                         " is not in the federation directory")),
        reason::kRecipientUnknown);
  }
  if (recipient->revoked()) {
    return WithReason(
        absl::FailedPreconditionError(absl::StrCat(
            "recipient agency ", recipient->id(), " has been revoked and cannot receive messages")),
        reason::kRecipientRevoked);
  }
  if (!envelope->team_id().empty()) {
    const auto* team = directory.FindTeam(envelope->team_id());
    if (team == nullptr) {
      return WithReason(absl::NotFoundError(absl::StrCat("team ", envelope->team_id(),
                                                         " is not in the federation directory")),
                        reason::kTeamUnknown);
    }
    const auto& members = team->member_agency_ids();
    if (std::find(members.begin(), members.end(), recipient->id()) == members.end()) {
      return WithReason(
          absl::InvalidArgumentError(absl::StrCat("recipient agency ", recipient->id(),
                                                  " is not a member of team ", team->id())),
          reason::kNotTeamMember);
    }
  }
  if (absl::Status st =
          VerifySealing(signed_envelope, *envelope, forwarded_sender_key, *to_peer, now);
      !st.ok()) {
    return st;
  }
  *at = RefusedAt::kAfterSignature;
  // Signed, so the date is the sender's own claim. A peer gateway forwards
  // what its partnership accepted within its window, perhaps after an outage
  // between the two: only the clock-skew bound applies to it.
  envelope::CreatedTimeWindow window = created_window_;
  if (caller.is_gateway()) window.max_age = absl::InfiniteDuration();
  if (absl::Status st = envelope::CheckCreatedTime(*envelope, now, window); !st.ok()) {
    return st;
  }
  return envelope->in_reply_to().empty() ? absl::OkStatus() : CheckReply(*envelope, answered);
}

absl::Status ReferralsService::CheckReply(const safeshare::v1::Envelope& envelope,
                                          safeshare::v1::SharingDeclaration* answered) const {
  const std::string& id = envelope.in_reply_to();
  auto original = store_->GetMessage(id);
  if (!original.ok() && original.status().code() != absl::StatusCode::kNotFound) {
    return original.status();
  }
  // Absent, someone else's, or never delivered look the same: a reply reveals
  // nothing about other agencies' traffic.
  if (!original.ok() || original->recipient_agency_id != envelope.sender_agency_id() ||
      original->state == safeshare::v1::MESSAGE_STATE_HELD ||
      original->state == safeshare::v1::MESSAGE_STATE_REFUSED) {
    return WithReason(absl::FailedPreconditionError(absl::StrCat(
                          "in_reply_to names no message that ", envelope.sender_agency_id(),
                          " received: ", id, "; a reply answers a message sent to your agency")),
                      reason::kReplyNotReceived, {{"inReplyTo", id}});
  }
  const auto wanted = envelope.kind() == safeshare::v1::MESSAGE_KIND_OUTCOME
                          ? safeshare::v1::MESSAGE_KIND_REFERRAL
                          : safeshare::v1::MESSAGE_KIND_INFORMATION_REQUEST;
  if (original->kind != wanted) {
    return WithReason(absl::FailedPreconditionError(absl::StrCat(
                          "a ", safeshare::v1::MessageKind_Name(envelope.kind()), " answers a ",
                          safeshare::v1::MessageKind_Name(wanted), ", but ", id, " is a ",
                          safeshare::v1::MessageKind_Name(original->kind))),
                      reason::kReplyKindMismatch, {{"inReplyTo", id}});
  }
  if (envelope.recipient_agency_id() != original->sender_agency_id) {
    return WithReason(absl::PermissionDeniedError(absl::StrCat(
                          "a reply to ", id, " goes back to the agency that sent it, ",
                          original->sender_agency_id, ", not to ", envelope.recipient_agency_id())),
                      reason::kReplyWrongRecipient, {{"inReplyTo", id}});
  }
  if (!answered->ParseFromString(original->declaration)) {
    return absl::DataLossError(absl::StrCat("the stored declaration of ", id, " is corrupt"));
  }
  return absl::OkStatus();
}

void ReferralsService::SubmitAsync(const Principal& caller, const SubmitRequest& request,
                                   SubmitResponse* response,
                                   std::function<void(const absl::Status&)> done,
                                   std::shared_ptr<const DirectoryKey> forwarded_sender_key) {
  const std::shared_ptr<const FederationDirectory> directory = directory_->Current();
  safeshare::v1::Envelope envelope;
  safeshare::v1::SharingDeclaration answered;
  RefusedAt at = RefusedAt::kBeforeShape;
  // A peer federation's agency: the message waits here until its gateway
  // accepts it, and that gateway keeps the acknowledgement deadline and
  // escalates on its side.
  bool to_peer = false;
  // One clock reading: the created-time window is judged at the time the
  // receipt states as accepted_time, which the recipient checks again (R18).
  const absl::Time now = absl::Now();
  if (absl::Status invalid = Validate(caller, request, *directory, now, &envelope, &at, &answered,
                                      forwarded_sender_key.get(), &to_peer);
      !invalid.ok()) {
    // Refused before policy: still audited, since the sender is known.
    auto record = std::make_shared<safeshare::v1::AuditRecord>(SubmitRefusedRecord(
        caller.agency_id, caller.uri, request.signed_envelope().envelope_bytes(), &envelope, at,
        invalid, *directory));
    store_->Commit([record](StoreTransaction& tx) { return tx.AppendAudit(*record).status(); },
                   [invalid, done](const absl::Status& st, const CommitInfo&) {
                     done(st.ok() ? invalid : st);
                   });
    return;
  }

  const auto& signed_envelope = request.signed_envelope();
  std::shared_ptr<const policy::PolicyEngine> engine = policy_->Current();
  if (engine == nullptr) {
    done(absl::UnavailableError("no sharing policy is loaded"));  // only while starting
    return;
  }
  safeshare::v1::PolicyDecision decision =
      engine->Decide(envelope, now, pack_, envelope.in_reply_to().empty() ? nullptr : &answered);

  // Shared by the transaction and its completion.
  struct State {
    StoredMessage message;
    SubmitResponse receipt;
    safeshare::v1::AuditRecord record;
    std::optional<StoredMessage> existing;
    // Over a quota (replies per thread, mailbox bytes): refused and audited,
    // not stored.
    absl::Status over_quota;
  };
  auto state = std::make_shared<State>();
  StoredMessage& m = state->message;
  m.message_id = envelope.message_id();
  m.sender_agency_id = caller.agency_id;
  m.recipient_agency_id = envelope.recipient_agency_id();
  m.kind = envelope.kind();
  m.envelope_sha256 = envelope::Sha256(signed_envelope.envelope_bytes());
  m.accepted_time = now;
  m.urgency = envelope.declaration().urgency();
  m.in_reply_to = envelope.in_reply_to();
  m.declaration = envelope.declaration().SerializeAsString();
  switch (decision.decision()) {
    case safeshare::v1::DECISION_ALLOW:
      m.state = safeshare::v1::MESSAGE_STATE_SUBMITTED;
      m.signed_envelope = signed_envelope.SerializeAsString();
      if (!to_peer) {
        m.acknowledge_deadline = deadlines_.Deadline(m.kind, m.recipient_agency_id, m.urgency, now);
      }
      if (const auto* isa = engine->FindIsa(decision.isa_id()); isa != nullptr) {
        m.retention = absl::Hours(24) * static_cast<int64_t>(isa->content_retention_days());
      }
      break;
    case safeshare::v1::DECISION_HOLD_FOR_ADVICE:
      // Kept out of the mailbox until an IG officer decides, by a deadline.
      m.state = safeshare::v1::MESSAGE_STATE_HELD;
      m.signed_envelope = signed_envelope.SerializeAsString();
      m.acknowledge_deadline = deadlines_.Deadline(m.kind, m.recipient_agency_id, m.urgency, now);
      // Its retention applies if an officer approves it.
      if (const auto* isa = engine->FindIsa(decision.isa_id()); isa != nullptr) {
        m.retention = absl::Hours(24) * static_cast<int64_t>(isa->content_retention_days());
      }
      break;
    default:
      // Refused: the sealed content is not kept; the decision is.
      m.state = safeshare::v1::MESSAGE_STATE_REFUSED;
      break;
  }
  state->record = DecisionRecord(envelope, decision, m.state, caller.uri, *directory);
  SubmitResponse& receipt = state->receipt;
  receipt.set_message_id(m.message_id);
  receipt.set_state(to_peer && m.state == safeshare::v1::MESSAGE_STATE_SUBMITTED
                        ? safeshare::v1::MESSAGE_STATE_FORWARDING
                        : m.state);
  *receipt.mutable_accepted_time() = ToTimestamp(now);
  receipt.set_envelope_sha256(m.envelope_sha256);
  *receipt.mutable_decision() = std::move(decision);

  const size_t size = signed_envelope.ByteSizeLong();
  Store* store = store_;
  MailboxNotifier* notifier = notifier_;
  const uint32_t max_replies = max_replies_per_thread_;
  const uint64_t mailbox_quota = mailbox_quota_bytes_;
  store_->Commit(
      [state, max_replies, mailbox_quota](StoreTransaction& tx) -> absl::Status {
        // Counted inside the transaction (writes are serialized), so two
        // racing Submits cannot both take the last place.
        absl::Status room = state->message.in_reply_to.empty()
                                ? absl::OkStatus()
                                : tx.CheckReplyQuota(state->message, max_replies);
        if (room.ok()) room = tx.CheckMailboxQuota(state->message, mailbox_quota);
        if (room.code() == absl::StatusCode::kResourceExhausted) {
          // The decision's record, marked refused: what policy said, and why
          // the message was still not taken.
          state->over_quota = room;
          safeshare::v1::AuditRecord refused = state->record;
          refused.set_event(safeshare::v1::AUDIT_EVENT_TYPE_SUBMIT_REFUSED);
          refused.set_status_code(absl::StatusCodeToString(room.code()));
          refused.set_reason(std::string(room.message()));
          refused.set_state(safeshare::v1::MESSAGE_STATE_REFUSED);
          return tx.AppendAudit(std::move(refused)).status();
        }
        if (!room.ok()) return room;
        // Audit first: nothing reaches a mailbox without its record.
        auto index = tx.AppendAudit(state->record, state->receipt.mutable_audit_record());
        if (!index.ok()) return index.status();
        state->receipt.mutable_audit_inclusion_proof()->set_leaf_index(*index);
        state->message.receipt = state->receipt.SerializeAsString();
        auto inserted = tx.InsertMessage(state->message);
        if (!inserted.ok()) return inserted.status();
        if (!inserted->inserted) {
          state->existing = std::move(inserted->message);
          return DuplicateMarker();  // undoes the audit append
        }
        return absl::OkStatus();
      },
      [state, store, notifier, response, done, size, metrics = metrics_](const absl::Status& st,
                                                                         const CommitInfo& info) {
        const StoredMessage& m = state->message;
        if (!state->over_quota.ok() && st.ok()) {
          done(state->over_quota);  // the refusal is recorded; nothing else is
          return;
        }
        // Only this job's own duplicate verdict counts: if the batch failed,
        // the row it saw was never stored either.
        if (state->existing.has_value() && st == DuplicateMarker()) {
          const StoredMessage& first = *state->existing;
          // Message ids are one space for the whole federation (the key of
          // Ack, GetStatus and in_reply_to), so another agency's id cannot be
          // reused; the answer says only that, never whose it is or that it
          // was sent, and is the one a sender's own different envelope gets.
          if (first.sender_agency_id != m.sender_agency_id ||
              first.envelope_sha256 != m.envelope_sha256) {
            done(WithReason(absl::AlreadyExistsError(absl::StrCat(
                                "message id ", m.message_id,
                                " cannot be used for this envelope; choose a new, random "
                                "message id (a UUID)")),
                            reason::kMessageIdTaken, {{"messageId", m.message_id}}));
            return;
          }
          if (!response->ParseFromString(first.receipt)) {
            done(absl::DataLossError(
                absl::StrCat("stored receipt for ", m.message_id, " is corrupt")));
            return;
          }
          LogEvent("info", "submit.duplicate", {{"message_id", m.message_id}});
          auto latest = store->LatestCheckpoint();
          if (latest.ok()) (void)AttachAuditProof(*store, *latest, response);
          done(response->state() == safeshare::v1::MESSAGE_STATE_REFUSED ? DeniedStatus(*response)
                                                                         : absl::OkStatus());
          return;
        }
        if (!st.ok()) {
          LogEvent("error", "store.write_failed",
                   {{"message_id", m.message_id},
                    {"code", absl::StatusCodeToString(st.code())},
                    {"detail", std::string(st.message())}});
          done(st);
          return;
        }
        if (m.state == safeshare::v1::MESSAGE_STATE_SUBMITTED) {
          notifier->Notify(m.recipient_agency_id);  // live subscribers get it now
        }
        *response = std::move(state->receipt);
        if (absl::Status proof = AttachAuditProof(*store, info, response); !proof.ok()) {
          // Committed and audited; only the proof is missing from the reply.
          LogEvent("error", "audit.proof_failed",
                   {{"message_id", m.message_id}, {"detail", std::string(proof.message())}});
        }
        if (metrics != nullptr) {
          const char* outcome = m.state == safeshare::v1::MESSAGE_STATE_REFUSED ? "denied"
                                : m.state == safeshare::v1::MESSAGE_STATE_HELD  ? "held"
                                                                                : "accepted";
          metrics->submits->Inc({outcome, safeshare::v1::MessageKind_Name(m.kind)});
        }
        const char* event = m.state == safeshare::v1::MESSAGE_STATE_REFUSED ? "submit.denied"
                            : m.state == safeshare::v1::MESSAGE_STATE_HELD  ? "submit.held"
                                                                            : "submit.accepted";
        LogEvent("info", event,
                 {{"message_id", m.message_id},
                  {"sender", m.sender_agency_id},
                  {"recipient", m.recipient_agency_id},
                  {"kind", safeshare::v1::MessageKind_Name(m.kind)},
                  {"isa", response->decision().isa_id()},
                  {"audit_index", absl::StrCat(response->audit_inclusion_proof().leaf_index())},
                  {"bytes", absl::StrCat(size)}});
        done(m.state == safeshare::v1::MESSAGE_STATE_REFUSED ? DeniedStatus(*response)
                                                             : absl::OkStatus());
      });
}

namespace {

// What a decision not to share must carry; nothing is checked against an
// agreement (there is no share), only that the record is complete.
absl::Status ValidateDecisionNotToShare(const Principal& caller,
                                        const safeshare::v1::RecordDecisionNotToShareRequest& r,
                                        const FederationDirectory& directory,
                                        const envelope::DeclarationLimits& limits) {
  if (!envelope::IsValidMessageId(r.decision_id()) ||
      absl::StartsWith(r.decision_id(), envelope::kReservedMessageIdPrefix)) {
    return absl::InvalidArgumentError(
        "decision_id must be 1-128 characters of [A-Za-z0-9._:-], not starting gw- (a UUID)");
  }
  if (r.practitioner().id().empty() ||
      r.practitioner().role() == safeshare::v1::PRACTITIONER_ROLE_UNSPECIFIED ||
      !safeshare::v1::PractitionerRole_IsValid(r.practitioner().role())) {
    return absl::InvalidArgumentError("practitioner id and role are required");
  }
  if (r.considered_agency_id() == caller.agency_id) {
    return absl::InvalidArgumentError("considered_agency_id must be another agency");
  }
  if (directory.FindAnyAgency(r.considered_agency_id()) == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("considered agency ", r.considered_agency_id(), " is not in the directory"));
  }
  const auto& d = r.declaration();
  if (auto st = envelope::ValidateDeclaration(d, limits); !st.ok()) return st;
  if (d.purpose() == safeshare::v1::PURPOSE_UNSPECIFIED) {
    return absl::InvalidArgumentError("declaration.purpose is required");
  }
  if (d.data_categories().empty()) {
    return absl::InvalidArgumentError(
        "declaration.data_categories must name what was considered for sharing");
  }
  if (std::none_of(d.decline_reasons().begin(), d.decline_reasons().end(),
                   [](int x) { return x != safeshare::v1::DECLINE_REASON_UNSPECIFIED; })) {
    return absl::InvalidArgumentError(
        "declaration.decline_reasons must give at least one reason not to share");
  }
  const size_t length = absl::StripAsciiWhitespace(r.rationale()).size();
  if (length < 10 || r.rationale().size() > 1024) {
    return absl::InvalidArgumentError(
        "rationale must say why, in 10 to 1024 characters; it is recorded in the audit log");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ReferralsService::Sent> ReferralsService::SentBy(const Principal& caller,
                                                                const std::string& id) const {
  auto m = store_->GetMessage(id, MessageRead::kDecision);
  if (!m.ok() && !absl::IsNotFound(m.status())) return m.status();
  // The same answer whether absent or someone else's: ids are not probed.
  if (!m.ok() || m->sender_agency_id != caller.agency_id) {
    return absl::NotFoundError(absl::StrCat("you sent no message with id ", id));
  }
  Sent sent{*std::move(m), {}};
  if (!sent.receipt.ParseFromString(sent.message.receipt)) {
    return absl::DataLossError(absl::StrCat("stored receipt for ", id, " is corrupt"));
  }
  return sent;
}

grpc::ServerUnaryReactor* ReferralsService::WitnessReceipt(
    grpc::CallbackServerContext* ctx, const safeshare::v1::WitnessReceiptRequest* request,
    safeshare::v1::WitnessReceiptResponse* response) {
  auto* reactor = ctx->DefaultReactor();
  auto caller = AuthenticateAgency(*ctx, *directory_->Current());
  auto sent =
      caller.ok() ? SentBy(*caller, request->message_id()) : absl::StatusOr<Sent>(caller.status());
  absl::Status st = sent.status();
  if (st.ok() && !sent->receipt.has_audit_inclusion_proof()) {
    st = absl::FailedPreconditionError("this message's decision has no audit record");
  } else if (st.ok()) {
    auto witnessed =
        WitnessedInclusionFor(*store_, sent->receipt.audit_inclusion_proof().leaf_index());
    st = witnessed.status();
    if (witnessed.ok()) *response->mutable_witnessed() = *std::move(witnessed);
  }
  reactor->Finish(ToGrpcStatus(st));
  return reactor;
}

grpc::ServerUnaryReactor* ReferralsService::GetReceipt(
    grpc::CallbackServerContext* ctx, const safeshare::v1::GetReceiptRequest* request,
    SubmitResponse* response) {
  auto* reactor = ctx->DefaultReactor();
  const auto directory = directory_->Current();
  auto caller = AuthenticateAgency(*ctx, *directory);
  auto sent =
      caller.ok() ? SentBy(*caller, request->message_id()) : absl::StatusOr<Sent>(caller.status());
  if (sent.ok()) {
    // The state as it stands; the decision's proof against the latest
    // checkpoint.
    *response = std::move(sent->receipt);
    response->set_state(ForwardingOrState(*directory, sent->message));
    if (auto latest = store_->LatestCheckpoint(); latest.ok()) {
      (void)AttachAuditProof(*store_, *latest, response);
    }
  }
  reactor->Finish(ToGrpcStatus(sent.status()));
  return reactor;
}

grpc::ServerUnaryReactor* ReferralsService::RecordDecisionNotToShare(
    grpc::CallbackServerContext* ctx, const safeshare::v1::RecordDecisionNotToShareRequest* r,
    safeshare::v1::RecordDecisionNotToShareResponse* response) {
  auto* reactor = ctx->DefaultReactor();
  const auto directory = directory_->Current();
  auto caller = AuthenticateAgency(*ctx, *directory);
  absl::Status st = caller.status();
  if (st.ok()) st = ValidateDecisionNotToShare(*caller, *r, *directory, declaration_limits_);
  if (!st.ok()) {
    reactor->Finish(ToGrpcStatus(st));
    return reactor;
  }
  auto record = std::make_shared<safeshare::v1::AuditRecord>();
  record->set_event(safeshare::v1::AUDIT_EVENT_TYPE_DECIDED_NOT_TO_SHARE);
  record->set_message_id(r->decision_id());
  record->set_sender_agency_id(caller->agency_id);
  *record->mutable_sender_practitioner() = r->practitioner();
  record->set_recipient_agency_id(r->considered_agency_id());
  record->set_actor(caller->uri);
  record->set_reason(r->rationale());
  auto* d = record->mutable_declaration();
  d->set_purpose(r->declaration().purpose());
  *d->mutable_data_categories() = r->declaration().data_categories();
  *d->mutable_decline_reasons() = r->declaration().decline_reasons();
  d->set_subject_reference(r->declaration().subject_reference());
  if (const auto* a = directory->FindAgency(caller->agency_id)) {
    record->set_sender_area_id(a->area_id());
  }
  if (const auto* a = directory->FindAnyAgency(r->considered_agency_id())) {
    record->set_recipient_area_id(a->area_id());
  }
  auto receipt = std::make_shared<safeshare::v1::SubmitResponse>();
  Store* store = store_;
  const std::string id = r->decision_id();
  const std::string sender = caller->agency_id;
  store_->Commit(
      [record, receipt](StoreTransaction& tx) -> absl::Status {
        auto index = tx.AppendAudit(*record, receipt->mutable_audit_record());
        if (!index.ok()) return index.status();
        receipt->mutable_audit_inclusion_proof()->set_leaf_index(*index);
        return absl::OkStatus();
      },
      [reactor, receipt, response, store, id, sender](const absl::Status& st,
                                                      const CommitInfo& info) {
        if (!st.ok()) {
          LogEvent("error", "store.write_failed",
                   {{"decision_id", id}, {"code", absl::StatusCodeToString(st.code())}});
          reactor->Finish(ToGrpcStatus(st));
          return;
        }
        if (absl::Status proof = AttachAuditProof(*store, info, receipt.get()); !proof.ok()) {
          LogEvent("error", "audit.proof_failed",
                   {{"decision_id", id}, {"detail", std::string(proof.message())}});
        }
        response->set_decision_id(id);
        *response->mutable_recorded_time() = ToTimestamp(absl::Now());
        *response->mutable_audit_inclusion_proof() = receipt->audit_inclusion_proof();
        *response->mutable_audit_checkpoint() = receipt->audit_checkpoint();
        response->set_audit_record(receipt->audit_record());
        LogEvent("info", "decision_not_to_share.recorded",
                 {{"decision_id", id},
                  {"sender", sender},
                  {"audit_index", absl::StrCat(receipt->audit_inclusion_proof().leaf_index())}});
        reactor->Finish(grpc::Status::OK);
      });
  return reactor;
}

absl::Status ReferralsService::VerifySealing(const safeshare::v1::SignedEnvelope& signed_envelope,
                                             const safeshare::v1::Envelope& envelope,
                                             const DirectoryKey* forwarded_sender_key,
                                             bool peer_recipient, absl::Time now) const {
  const std::string& sender = envelope.sender_agency_id();
  // A forwarded envelope's key is the one its sender's log proved for this
  // key id (PeerSenderKey); otherwise our directory's.
  std::shared_ptr<const DirectoryKey> ours;
  const DirectoryKey* signing = forwarded_sender_key;
  if (signing == nullptr) {
    ours = keys_->Find(signed_envelope.signing_key_id());
    signing = ours.get();
  }
  if (signing == nullptr) {
    return WithReason(
        absl::UnauthenticatedError(absl::StrCat("signing key ", signed_envelope.signing_key_id(),
                                                " is not in the directory")),
        reason::kSigningKeyUnknown);
  }
  if (signing->agency_id != sender) {
    return WithReason(absl::PermissionDeniedError(absl::StrCat(
                          "signing key ", signed_envelope.signing_key_id(), " belongs to ",
                          signing->agency_id, ", not to the sender ", sender)),
                      reason::kSigningKeyNotSenders);
  }
  if (signing->key.purpose() != safeshare::v1::KEY_PURPOSE_SIGNING) {
    return WithReason(absl::PermissionDeniedError(absl::StrCat(
                          "key ", signed_envelope.signing_key_id(), " is not a signing key")),
                      reason::kSigningKeyNotSenders);
  }
  if (signing->key.revoked()) {
    return WithReason(absl::PermissionDeniedError(absl::StrCat(
                          "signing key ", signed_envelope.signing_key_id(), " of ", sender,
                          " has been revoked; sign with the agency's current key")),
                      reason::kSigningKeyRevoked);
  }
  if (!signing->verifier.has_value()) {
    // Keys are checked to be 32 bytes when registered and published: a
    // directory key that does not decode is the gateway's fault, not the sender's.
    return absl::InternalError(absl::StrCat("directory: signing key ",
                                            signed_envelope.signing_key_id(),
                                            " does not decode as an Ed25519 public key"));
  }
  if (absl::Status st = envelope::CheckKeyValidAt(signing->key, now); !st.ok()) {
    return WithReason(absl::PermissionDeniedError(absl::StrCat("signing ", st.message())),
                      reason::kSigningKeyNotValid);
  }
  // The exact bytes received, never a re-serialization.
  if (absl::Status st = envelope::VerifySignature(signed_envelope, *signing->verifier); !st.ok()) {
    return st;
  }
  if (peer_recipient) return absl::OkStatus();
  auto current =
      keys_->Current(envelope.recipient_agency_id(), safeshare::v1::KEY_PURPOSE_ENCRYPTION);
  if (!current.has_value()) {
    return WithReason(
        absl::FailedPreconditionError(absl::StrCat("recipient ", envelope.recipient_agency_id(),
                                                   " has no current encryption key")),
        reason::kRecipientKeyMissing);
  }
  if (envelope.payload().recipient_key_id() != current->key_id()) {
    return WithReason(absl::FailedPreconditionError(absl::StrCat(
                          "payload is sealed to key ", envelope.payload().recipient_key_id(),
                          " but ", envelope.recipient_agency_id(), "'s current encryption key is ",
                          current->key_id(), "; refresh the directory and seal again")),
                      reason::kRecipientKeyNotCurrent, {{"currentKeyId", current->key_id()}});
  }
  if (absl::Status st = envelope::CheckKeyValidAt(*current, now); !st.ok()) {
    return WithReason(
        absl::FailedPreconditionError(absl::StrCat("recipient ", envelope.recipient_agency_id(),
                                                   "'s encryption ", st.message())),
        reason::kRecipientKeyMissing);
  }
  return absl::OkStatus();
}

}  // namespace safeshare::gateway
