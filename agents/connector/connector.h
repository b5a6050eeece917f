#ifndef SAFESHARE_AGENTS_CONNECTOR_CONNECTOR_H_
#define SAFESHARE_AGENTS_CONNECTOR_CONNECTOR_H_

// The agency connector's work, whatever asks for it (the HTTP API or the
// practitioners' pages): one agency's agent (keys, sealing, opening and
// verification), a live subscription that opens what arrives into the local
// inbox, an outbox that retries a send the gateway did not take, the offline
// golden-rules check, and a feed of events for pages that update themselves.

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "agents/agency_agent.h"
#include "agents/call_canceller.h"
#include "agents/connector/connector_store.h"
#include "policy/policy_engine.h"
#include "safeshare/v1/connector.pb.h"

namespace safeshare::connector {

struct ConnectorOptions {
  std::string identity_dir;
  std::string gateway;
  std::string data_dir;
  std::string federation_file;
  std::string isa_dir;
  absl::Duration min_retry = absl::Milliseconds(200);
  absl::Duration max_retry = absl::Seconds(30);
  // How often the state of sent messages is asked of the gateway, for events.
  absl::Duration status_poll = absl::Seconds(2);
  // Content retention when no agreement in force names one.
  int default_retention_days = 30;
  // Rule pack 2026's dates (the gateway's configuration).
  safeshare::v1::RuleCommencement commencement;
};

// Something pages and integrators may want to react to.
struct ConnectorEvent {
  uint64_t id = 0;
  std::string type;  // "message", "escalation" or "sent"
  std::string message_id;
};

class Connector {
 public:
  static absl::StatusOr<std::unique_ptr<Connector>> Open(ConnectorOptions options);
  ~Connector();

  // Starts receiving and retrying; Stop() ends both (also on destruction).
  void Start();
  void Stop();

  const std::string& agency_id() const { return agent_->agency_id(); }
  // The partnership as the local federation file describes it (names and
  // areas for pages; keys always come from the gateway's verified log).
  const safeshare::v1::Federation& federation() const { return federation_; }

  // The partnership's agencies (from the gateway's directory).
  absl::StatusOr<safeshare::v1::AgencyList> Agencies();
  // The gateway's answer to this draft, computed here from the same
  // agreements: nothing is sealed or sent.
  // Records a decision not to share at the gateway (not queued: UNAVAILABLE
  // while the gateway is down) and checks its proof.
  absl::StatusOr<safeshare::v1::RecordedDecision> RecordNotToShare(
      const safeshare::v1::Practitioner& who, const safeshare::v1::DecisionNotToShare& decision);

  absl::StatusOr<safeshare::v1::DraftCheck> Check(const safeshare::v1::Practitioner& who,
                                                  safeshare::v1::Draft draft);
  // Seals, signs and submits. A draft that could never be sent is
  // INVALID_ARGUMENT and stores nothing; a reused message id ALREADY_EXISTS.
  // Otherwise the message is in the outbox: DECIDED with the receipt, QUEUED
  // when the gateway could not be reached (retried with the same bytes), or
  // FAILED with the reason.
  absl::StatusOr<safeshare::v1::SentMessage> Send(const safeshare::v1::Practitioner& who,
                                                  safeshare::v1::Draft draft);
  absl::StatusOr<safeshare::v1::SentPage> Sent(const std::string& page_token, int page_size);
  absl::StatusOr<safeshare::v1::SentMessage> SentMessage(const std::string& message_id);

  absl::StatusOr<safeshare::v1::InboxPage> Inbox(const std::string& page_token, int page_size);
  absl::StatusOr<safeshare::v1::InboxMessage> InboxMessage(const std::string& message_id);
  // Tells the gateway, then records who acknowledged. Idempotent.
  absl::StatusOr<safeshare::v1::InboxMessage> Acknowledge(const safeshare::v1::Practitioner& who,
                                                          const std::string& message_id);
  absl::StatusOr<safeshare::v1::EscalationPage> Escalations();

  // The gateway's view of a message this agency sent or received, and its
  // whole thread.
  absl::StatusOr<safeshare::v1::MessageStatus> Status(const std::string& message_id);
  absl::StatusOr<safeshare::v1::MessageThread> Thread(const std::string& message_id);

  // Events after `after_id`, waiting up to `timeout` for one. Events older
  // than the last 1,000 are gone; the newest id is in `latest`.
  std::vector<ConnectorEvent> EventsAfter(uint64_t after_id, absl::Duration timeout,
                                          uint64_t* latest);
  uint64_t LatestEventId();
  bool stopping() const { return stopping_.load(); }

 private:
  Connector() = default;
  void DeriveSubjectReference(safeshare::v1::Draft* draft) const;
  void ReceiveLoop();
  void RetryLoop();
  void StatusLoop();
  absl::Status Handle(const safeshare::v1::MailboxMessage& message);
  // Seals (once) and submits one outbox entry, and records the result.
  safeshare::v1::SentMessage Attempt(const std::string& message_id);
  safeshare::v1::PolicyDecision Decide(const safeshare::v1::Envelope& header, absl::Time at,
                                       const std::string& in_reply_to);
  void Publish(const std::string& type, const std::string& message_id);

  ConnectorOptions options_;
  safeshare::v1::Federation federation_;
  std::unique_ptr<policy::PolicyEngine> policy_;
  std::string subject_key_;  // the federation's, from subject.key; empty: none
  std::unique_ptr<ConnectorStore> store_;

  absl::Mutex agent_mu_;  // the agent's key log and directory cache
  std::unique_ptr<agents::AgencyAgent> agent_;

  // Ends every call in flight on Stop(), a subscription still waiting for a
  // gateway that is down among them.
  agents::CallCanceller canceller_;
  std::atomic<bool> stopping_{false};
  absl::Notification stopped_;
  absl::Mutex retry_mu_;
  bool retry_now_ ABSL_GUARDED_BY(retry_mu_) = false;
  std::vector<std::thread> threads_;
  absl::Mutex inflight_mu_;
  std::set<std::string> inflight_ ABSL_GUARDED_BY(inflight_mu_);

  absl::Mutex events_mu_;
  std::deque<ConnectorEvent> events_ ABSL_GUARDED_BY(events_mu_);
  uint64_t next_event_ ABSL_GUARDED_BY(events_mu_) = 1;
};

}  // namespace safeshare::connector

#endif  // SAFESHARE_AGENTS_CONNECTOR_CONNECTOR_H_
