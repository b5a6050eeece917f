#include "agents/connector/connector.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "agents/outgoing_message.h"
#include "agents/web/plain_language.h"
#include "common/error_reason.h"
#include "common/files.h"
#include "common/log.h"
#include "common/refusal_reasons.h"
#include "envelope/content.h"
#include "envelope/envelope_shape.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/time_util.h"
#include "policy/isa.h"
#include "verification/audit_verifier.h"

namespace safeshare::connector {
namespace {

namespace v1 = safeshare::v1;
using envelope::IsValidNhsNumber;
using google::protobuf::util::TimeUtil;

google::protobuf::Timestamp Stamp(absl::Time t) {
  return TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(t));
}

agents::OutgoingMessage ToOutgoing(const std::string& sender, const v1::Practitioner& who,
                                   const v1::Draft& d) {
  agents::OutgoingMessage m;
  m.message_id = d.message_id();
  m.kind = d.kind();
  m.sender_agency_id = sender;
  m.practitioner = who;
  m.recipient_agency_id = d.recipient_agency_id();
  m.in_reply_to = d.in_reply_to();
  m.declaration = d.declaration();
  m.content = d.content();
  return m;
}

// What the gateway would not even weigh: each problem a sentence the
// practitioner can act on.
std::vector<std::string> DraftProblems(const std::string& sender, const v1::Federation& federation,
                                       const v1::Draft& d) {
  std::vector<std::string> problems;
  if (d.kind() == v1::MESSAGE_KIND_UNSPECIFIED || d.kind() == v1::MESSAGE_KIND_ESCALATION) {
    problems.push_back("choose what kind of message this is (a referral, a request, ...)");
  }
  if (d.recipient_agency_id().empty()) {
    problems.push_back("choose the agency to send to");
  } else if (d.recipient_agency_id() == sender) {
    problems.push_back("a message cannot be sent to your own agency");
  } else if (std::none_of(federation.agencies().begin(), federation.agencies().end(),
                          [&](const v1::Agency& a) { return a.id() == d.recipient_agency_id(); })) {
    problems.push_back(
        absl::StrCat(d.recipient_agency_id(), " is not an agency of the partnership"));
  }
  const bool reply = d.kind() == v1::MESSAGE_KIND_INFORMATION_RESPONSE ||
                     d.kind() == v1::MESSAGE_KIND_DECLINE_TO_SHARE ||
                     d.kind() == v1::MESSAGE_KIND_OUTCOME;
  if (reply && d.in_reply_to().empty()) {
    problems.push_back("say which message this answers (in_reply_to)");
  }
  if (!d.message_id().empty() &&
      (!envelope::IsValidMessageId(d.message_id()) ||
       absl::StartsWith(d.message_id(), envelope::kReservedMessageIdPrefix))) {
    problems.push_back(
        "a message id is 1-128 characters of letters, digits and . _ : -, not starting gw-");
  }
  if (auto st = envelope::ValidateDeclaration(d.declaration()); !st.ok()) {
    problems.emplace_back(st.message());
  }
  for (const v1::PersonIdentity* child : {&d.content().referral().record().child(),
                                          &d.content().information_response().record().child(),
                                          &d.content().information_request().child()}) {
    if (!child->nhs_number().empty() && !IsValidNhsNumber(child->nhs_number())) {
      problems.push_back(
          "the NHS number is not valid: it has 10 digits and the last is a check digit; check "
          "it was copied correctly");
    }
  }
  if (d.has_content() && d.kind() != v1::MESSAGE_KIND_UNSPECIFIED) {
    if (auto st = envelope::CheckContentAgainstDeclaration(d.content(), d.kind(), d.declaration());
        !st.ok()) {
      problems.emplace_back(st.message());
    }
  }
  return problems;
}

// Refusals of sealed bytes that were right when sealed: the recipient's key
// changed, or they waited in the outbox past the gateway's created-time window.
bool SealedTooLongAgo(const absl::Status& st) {
  auto info = ReasonOf(st);
  return info.has_value() && info->domain() == kReasonDomain &&
         (info->reason() == reason::kRecipientKeyNotCurrent ||
          info->reason() == reason::kCreatedTimeTooOld);
}

// Failures that say nothing about the message: the gateway (or the
// directory behind sealing) could not be reached or was busy. A message too
// large, or a full thread, is refused the same way each time.
bool Retryable(const absl::Status& st) {
  if (auto info = ReasonOf(st);
      info.has_value() && info->domain() == kReasonDomain &&
      (info->reason() == reason::kMessageTooLarge || info->reason() == reason::kThreadFull)) {
    return false;
  }
  switch (st.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kUnknown:
      return true;
    default:
      return false;
  }
}

absl::StatusOr<int> ParseOffset(const std::string& token) {
  int offset = 0;
  if (token.empty()) return 0;
  if (!absl::SimpleAtoi(token, &offset) || offset < 0) {
    return absl::InvalidArgumentError("page_token is not one this connector gave out");
  }
  return offset;
}

int PageSize(int asked) { return asked <= 0 ? 50 : std::min(asked, 200); }

}  // namespace

absl::StatusOr<std::unique_ptr<Connector>> Connector::Open(ConnectorOptions options) {
  std::unique_ptr<Connector> c(new Connector());
  c->options_ = std::move(options);
  auto text = ReadFile(c->options_.federation_file);
  if (!text.ok()) return text.status();
  if (!google::protobuf::TextFormat::ParseFromString(*text, &c->federation_)) {
    return absl::InvalidArgumentError(
        absl::StrCat(c->options_.federation_file, " is not a federation file"));
  }
  auto isas = policy::LoadIsaDirectory(c->options_.isa_dir, &c->federation_);
  if (!isas.ok()) return isas.status();
  auto engine =
      policy::PolicyEngine::Create(*std::move(isas), c->federation_, c->options_.commencement);
  if (!engine.ok()) return engine.status();
  c->policy_ = *std::move(engine);
  if (auto key = ReadFile(c->options_.identity_dir + "/subject.key"); key.ok()) {
    const std::string hex(absl::StripAsciiWhitespace(*key));
    if (hex.size() % 2 == 0 &&
        hex.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos) {
      c->subject_key_ = absl::HexStringToBytes(hex);
    }
  }
  auto store = ConnectorStore::Open(c->options_.data_dir);
  if (!store.ok()) return store.status();
  c->store_ = *std::move(store);
  auto agent = agents::AgencyAgent::Open(c->options_.identity_dir, c->options_.gateway);
  if (!agent.ok()) return agent.status();
  c->agent_ = *std::move(agent);
  return c;
}

Connector::~Connector() { Stop(); }

void Connector::Start() {
  agent_->client().set_canceller(&canceller_);
  threads_.emplace_back([this] { ReceiveLoop(); });
  threads_.emplace_back([this] { RetryLoop(); });
  threads_.emplace_back([this] { StatusLoop(); });
}

void Connector::Stop() {
  if (stopping_.exchange(true)) return;
  canceller_.CancelAll();
  stopped_.Notify();
  {
    absl::MutexLock lock(&retry_mu_);
    retry_now_ = true;
  }
  { absl::MutexLock lock(&events_mu_); }  // waiters see stopping_ on release
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void Connector::Publish(const std::string& type, const std::string& message_id) {
  absl::MutexLock lock(&events_mu_);
  events_.push_back({next_event_++, type, message_id});
  if (events_.size() > 1000) events_.pop_front();
}

std::vector<ConnectorEvent> Connector::EventsAfter(uint64_t after_id, absl::Duration timeout,
                                                   uint64_t* latest) {
  absl::MutexLock lock(&events_mu_);
  auto ready = [this, after_id]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(events_mu_) {
    return next_event_ - 1 > after_id || stopping_.load();
  };
  events_mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
  std::vector<ConnectorEvent> out;
  for (const auto& e : events_) {
    if (e.id > after_id) out.push_back(e);
  }
  *latest = next_event_ - 1;
  return out;
}

uint64_t Connector::LatestEventId() {
  absl::MutexLock lock(&events_mu_);
  return next_event_ - 1;
}

v1::PolicyDecision Connector::Decide(const v1::Envelope& header, absl::Time at,
                                     const std::string& in_reply_to) {
  // A response is weighed against what was asked, as the gateway does.
  if (header.kind() == v1::MESSAGE_KIND_INFORMATION_RESPONSE && !in_reply_to.empty()) {
    auto request = store_->GetInbox(in_reply_to);
    if (request.ok()) {
      return policy_->Decide(header, at, policy::kDefaultRulePack,
                             &request->header().declaration());
    }
  }
  return policy_->Decide(header, at);
}

absl::StatusOr<v1::AgencyList> Connector::Agencies() {
  auto r = agent_->client().ListAgencies();
  if (!r.ok()) return r.status();
  v1::AgencyList out;
  for (const auto& a : r->agencies()) *out.add_agencies() = a;
  return out;
}

// The subject reference, when the draft gives none and the child's NHS number
// is in the content: derived under the federation's subject key (subject.key
// in the agency's directory), so every agency reaches the same one.
void Connector::DeriveSubjectReference(v1::Draft* d) const {
  if (!d->declaration().subject_reference().empty() || subject_key_.empty()) return;
  for (const v1::PersonIdentity* child : {&d->content().referral().record().child(),
                                          &d->content().information_response().record().child(),
                                          &d->content().information_request().child()}) {
    if (child->nhs_number().empty()) continue;
    auto ref = envelope::SubjectReferenceFor(child->nhs_number(), subject_key_);
    if (ref.ok()) d->mutable_declaration()->set_subject_reference(*ref);
    return;
  }
}

absl::StatusOr<v1::DraftCheck> Connector::Check(const v1::Practitioner& who, v1::Draft draft) {
  DeriveSubjectReference(&draft);
  v1::DraftCheck out;
  for (auto& p : DraftProblems(agency_id(), federation_, draft)) out.add_problems(std::move(p));
  const v1::Envelope header = agents::BuildEnvelopeHeader(ToOutgoing(agency_id(), who, draft));
  *out.mutable_decision() = Decide(header, absl::Now(), draft.in_reply_to());
  return out;
}

absl::StatusOr<v1::RecordedDecision> Connector::RecordNotToShare(
    const v1::Practitioner& who, const v1::DecisionNotToShare& decision) {
  v1::RecordDecisionNotToShareRequest req;
  req.set_decision_id(decision.decision_id().empty() ? agents::NewMessageId()
                                                     : decision.decision_id());
  *req.mutable_practitioner() = who;
  req.set_considered_agency_id(decision.considered_agency_id());
  *req.mutable_declaration() = decision.declaration();
  req.set_rationale(decision.rationale());
  auto recorded = agent_->client().RecordDecisionNotToShare(req);
  if (!recorded.ok()) return recorded.status();
  v1::RecordedDecision out;
  out.set_decision_id(recorded->decision_id());
  *out.mutable_recorded_time() = recorded->recorded_time();
  out.set_audit_index(recorded->audit_inclusion_proof().leaf_index());
  out.set_receipt_verified(
      verification::VerifyDecisionNotToShare(*recorded, federation_.audit_log()).ok());
  Publish("decision", out.decision_id());
  return out;
}

absl::StatusOr<v1::SentMessage> Connector::Send(const v1::Practitioner& who, v1::Draft draft) {
  DeriveSubjectReference(&draft);
  std::vector<std::string> problems = DraftProblems(agency_id(), federation_, draft);
  if (!draft.has_content()) problems.push_back("write the message's content");
  if (!problems.empty()) return absl::InvalidArgumentError(problems.front());
  if (draft.message_id().empty()) draft.set_message_id(agents::NewMessageId());
  OutboxEntry e;
  e.sent.set_message_id(draft.message_id());
  e.sent.set_kind(draft.kind());
  e.sent.set_recipient_agency_id(draft.recipient_agency_id());
  e.sent.set_in_reply_to(draft.in_reply_to());
  e.sent.set_send_state(v1::SEND_STATE_QUEUED);
  e.sent.set_practitioner_id(who.id());
  *e.sent.mutable_created_time() = Stamp(absl::Now());
  e.draft = std::move(draft);
  e.practitioner = who;
  if (auto st = store_->InsertOutbox(e); !st.ok()) return st;
  v1::SentMessage sent = Attempt(e.sent.message_id());
  if (sent.send_state() == v1::SEND_STATE_QUEUED) {
    absl::MutexLock lock(&retry_mu_);
    retry_now_ = true;
  }
  return sent;
}

v1::SentMessage Connector::Attempt(const std::string& message_id) {
  // One attempt at a time per message (a send and the retry loop may meet),
  // on the stored entry as it is now.
  {
    absl::MutexLock lock(&inflight_mu_);
    if (!inflight_.insert(message_id).second) {
      v1::SentMessage busy;
      busy.set_message_id(message_id);
      busy.set_send_state(v1::SEND_STATE_QUEUED);
      return busy;
    }
  }
  struct Done {
    Connector* c;
    const std::string& id;
    ~Done() {
      absl::MutexLock lock(&c->inflight_mu_);
      c->inflight_.erase(id);
    }
  } done{this, message_id};
  auto stored = store_->GetOutbox(message_id);
  if (!stored.ok()) {
    v1::SentMessage gone;
    gone.set_message_id(message_id);
    gone.set_send_state(v1::SEND_STATE_QUEUED);
    gone.set_error(std::string(stored.status().message()));
    return gone;
  }
  OutboxEntry e = *std::move(stored);
  if (e.sent.send_state() != v1::SEND_STATE_QUEUED) return e.sent;
  e.sent.set_attempts(e.sent.attempts() + 1);
  absl::Status failure;
  if (e.sealed_envelope.empty()) {
    absl::StatusOr<v1::SignedEnvelope> sealed;
    {
      absl::MutexLock lock(&agent_mu_);
      sealed = agent_->Seal(ToOutgoing(agency_id(), e.practitioner, e.draft));
    }
    if (sealed.ok()) {
      e.sealed_envelope = sealed->SerializeAsString();
      // Stored before it is submitted: every retry sends these bytes.
      if (auto st = store_->UpdateOutbox(e); !st.ok()) failure = st;
    } else {
      failure = sealed.status();
    }
  }
  if (failure.ok()) {
    v1::SignedEnvelope envelope;
    envelope.ParseFromString(e.sealed_envelope);
    v1::SubmitResponse refused;
    auto r = agent_->client().Submit(envelope, &refused);
    if (r.ok()) {
      *e.sent.mutable_receipt() = *std::move(r);
    } else if (refused.has_decision()) {
      *e.sent.mutable_receipt() = refused;  // a policy refusal is a decision
    } else if (SealedTooLongAgo(r.status())) {
      // The bytes went stale in the queue. Unless a lost answer hid that the
      // first attempt was accepted, seal again under the same id and retry.
      auto kept = agent_->client().GetReceipt(message_id);
      if (kept.ok()) {
        *e.sent.mutable_receipt() = *std::move(kept);
      } else if (absl::IsNotFound(kept.status())) {
        e.sealed_envelope.clear();
        failure = absl::UnavailableError(
            absl::StrCat("sealed again, to be sent at the next attempt: ", r.status().message()));
      } else {
        failure = kept.status();
      }
    } else {
      failure = r.status();
    }
  }
  if (failure.ok()) {
    e.sent.set_send_state(v1::SEND_STATE_DECIDED);
    e.sent.set_state(e.sent.receipt().state());
    e.sent.clear_error();
    e.sent.clear_error_reason();
    e.sent.set_receipt_verified(
        verification::VerifyReceipt(e.sent.receipt(), federation_.audit_log()).ok());
  } else {
    e.sent.set_send_state(Retryable(failure) ? v1::SEND_STATE_QUEUED : v1::SEND_STATE_FAILED);
    e.sent.set_error(std::string(failure.message()));
    const auto why = ReasonOf(failure);
    e.sent.set_error_reason(why.has_value() && why->domain() == kReasonDomain ? why->reason() : "");
    LogEvent(
        "warn", "connector.send_failed",
        {{"message_id", e.sent.message_id()}, {"code", absl::StatusCodeToString(failure.code())}});
  }
  if (auto st = store_->UpdateOutbox(e); !st.ok()) {
    LogEvent("error", "connector.outbox_write_failed", {{"detail", std::string(st.message())}});
  }
  Publish("sent", e.sent.message_id());
  return e.sent;
}

void Connector::RetryLoop() {
  absl::Duration backoff = options_.min_retry;
  absl::Duration wait = options_.max_retry;
  while (!stopping_) {
    {
      absl::MutexLock lock(&retry_mu_);
      retry_mu_.AwaitWithTimeout(absl::Condition(&retry_now_), wait);
      retry_now_ = false;
    }
    if (stopping_) break;
    auto queued = store_->Queued();
    bool blocked = false;
    if (queued.ok()) {
      for (const auto& id : *queued) {
        if (stopping_) return;
        if (Attempt(id).send_state() == v1::SEND_STATE_QUEUED) {
          blocked = true;  // the gateway is still away: the rest wait with it
          break;
        }
      }
    }
    if (blocked) {
      wait = backoff;
      backoff = std::min(backoff * 2, options_.max_retry);
    } else {
      backoff = options_.min_retry;
      wait = options_.max_retry;  // a new QUEUED send wakes it sooner
    }
  }
}

absl::Status Connector::Handle(const v1::MailboxMessage& message) {
  const std::string& id = message.message_id();
  if (!envelope::IsValidMessageId(id)) {
    return absl::InvalidArgumentError("the gateway delivered a message under an invalid id");
  }
  if (message.has_escalation()) {
    if (auto st = store_->PutEscalation(message.escalation()); !st.ok()) return st;
    Publish("escalation", message.escalation().message_id());
    return agent_->client().Ack(id).status();
  }
  if (store_->HasInbox(id)) return absl::OkStatus();  // waits for a practitioner's acknowledgement
  v1::ContentRefusalReason reason;
  absl::StatusOr<agents::ReceivedMessage> opened;
  {
    absl::MutexLock lock(&agent_mu_);
    opened = agent_->OpenDelivered(message, &reason);
  }
  if (!opened.ok()) {
    if (!agents::IsContentVerdict(opened.status())) return opened.status();
    LogEvent("warn", "connector.refused", {{"message_id", id}});
    return agent_->client().RefuseContent(id, reason, std::string(opened.status().message()));
  }
  v1::InboxMessage m;
  m.set_message_id(id);
  *m.mutable_header() = opened->header;
  *m.mutable_content() = opened->content;
  *m.mutable_accepted_time() = message.accepted_time();
  const absl::Time now = absl::Now();
  *m.mutable_received_time() = Stamp(now);
  // Kept as long as the agreement it came under says, then purged here.
  int days = options_.default_retention_days;
  const auto decision = Decide(opened->header, now, opened->header.in_reply_to());
  if (const auto* isa = policy_->FindIsa(decision.isa_id()); isa != nullptr) {
    days = static_cast<int>(isa->content_retention_days());
  }
  *m.mutable_purge_time() = Stamp(now + absl::Hours(24) * days);
  // The deadline is the gateway's to set; the inbox shows it at a glance.
  if (auto status = agent_->client().GetStatus(id); status.ok()) {
    *m.mutable_acknowledge_deadline() = status->acknowledge_deadline();
  }
  auto fresh = store_->PutInbox(m);
  if (!fresh.ok()) return fresh.status();
  if (*fresh) Publish("message", id);
  return absl::OkStatus();
}

void Connector::ReceiveLoop() {
  absl::Duration backoff = options_.min_retry;
  while (!stopping_) {
    auto subscription = agent_->client().Subscribe(0);
    v1::MailboxMessage message;
    bool got_any = false;
    while (subscription->Read(&message)) {
      got_any = true;
      backoff = options_.min_retry;
      if (auto st = Handle(message); !st.ok()) {
        // Not stored: the gateway hands it over again on reconnect.
        LogEvent("warn", "connector.receive_failed", {{"detail", std::string(st.message())}});
      }
    }
    absl::Status st = subscription->Finish();
    subscription.reset();
    if (stopping_) break;
    LogEvent("warn", "connector.disconnected", {{"detail", std::string(st.message())}});
    if (!got_any) backoff = std::min(backoff * 2, options_.max_retry);
    stopped_.WaitForNotificationWithTimeout(backoff);
  }
}

void Connector::StatusLoop() {
  while (!stopped_.WaitForNotificationWithTimeout(options_.status_poll)) {
    if (auto purged = store_->PurgeExpired(absl::Now()); purged.ok() && *purged > 0) {
      LogEvent("info", "connector.purged", {{"messages", absl::StrCat(*purged)}});
    }
    auto sent = store_->ListSent(0, 50);
    if (!sent.ok()) continue;
    for (const auto& m : sent->messages()) {
      if (stopping_) return;
      if (m.send_state() != v1::SEND_STATE_DECIDED ||
          m.receipt().state() == v1::MESSAGE_STATE_REFUSED) {
        continue;
      }
      auto status = agent_->client().GetStatus(m.message_id());
      if (!status.ok()) break;  // the gateway is away; try on the next round
      if (status->state() == m.state()) continue;
      // Recorded, so that lists show where each message is now.
      if (auto e = store_->GetOutbox(m.message_id()); e.ok()) {
        e->sent.set_state(status->state());
        if (auto st = store_->UpdateOutbox(*e); !st.ok()) continue;
      }
      Publish("sent", m.message_id());
    }
  }
}

absl::StatusOr<v1::SentPage> Connector::Sent(const std::string& page_token, int page_size) {
  auto offset = ParseOffset(page_token);
  if (!offset.ok()) return offset.status();
  return store_->ListSent(*offset, PageSize(page_size));
}

absl::StatusOr<v1::SentMessage> Connector::SentMessage(const std::string& message_id) {
  auto e = store_->GetOutbox(message_id);
  if (!e.ok()) return e.status();
  return e->sent;
}

absl::StatusOr<v1::InboxPage> Connector::Inbox(const std::string& page_token, int page_size) {
  auto offset = ParseOffset(page_token);
  if (!offset.ok()) return offset.status();
  return store_->ListInbox(*offset, PageSize(page_size));
}

absl::StatusOr<v1::InboxMessage> Connector::InboxMessage(const std::string& message_id) {
  return store_->GetInbox(message_id);
}

absl::StatusOr<v1::InboxMessage> Connector::Acknowledge(const v1::Practitioner& who,
                                                        const std::string& message_id) {
  auto m = store_->GetInbox(message_id);
  if (!m.ok()) return m.status();
  if (auto r = agent_->client().Ack(message_id); !r.ok()) return r.status();
  if (auto st = store_->MarkAcknowledged(message_id, who.id(), absl::Now()); !st.ok()) return st;
  Publish("message", message_id);
  return store_->GetInbox(message_id);
}

absl::StatusOr<v1::EscalationPage> Connector::Escalations() { return store_->ListEscalations(); }

absl::StatusOr<v1::MessageStatus> Connector::Status(const std::string& message_id) {
  auto r = agent_->client().GetStatus(message_id);
  if (!r.ok()) return r.status();
  v1::MessageStatus out;
  *out.mutable_status() = *std::move(r);
  return out;
}

absl::StatusOr<v1::MessageThread> Connector::Thread(const std::string& message_id) {
  auto r = agent_->client().GetThread(message_id);
  if (!r.ok()) return r.status();
  v1::MessageThread out;
  for (const auto& m : r->messages()) *out.add_messages() = m;
  return out;
}

}  // namespace safeshare::connector
