// End-to-end over mutual TLS: threads (requests, responses, declines,
// outcomes), replies that go to the wrong agency, and holds and requests that
// pass their deadlines. The audit log is verified offline after each scenario.

#include "tests/e2e/gateway_fixture.h"

namespace safeshare {
namespace {

class ThreadE2eTest : public GatewayE2eTest {
 protected:
  // A request for the child's records: it carries the child's identity and the
  // questions, and asks for `asked`.
  static agents::OutgoingMessage Request(const std::string& from, const std::string& to,
                                         const std::string& id,
                                         std::vector<v1::DataCategory> asked) {
    v1::SealedContent content;
    content.mutable_information_request()->mutable_child()->set_given_names("Amelia");
    content.mutable_information_request()->set_questions("Any school or health concerns?");
    auto m = Message(from, to, id, content);
    m.kind = v1::MESSAGE_KIND_INFORMATION_REQUEST;
    m.practitioner.set_role(v1::PRACTITIONER_ROLE_SOCIAL_WORKER);
    auto& d = m.declaration;
    d.set_purpose(v1::PURPOSE_CHILD_IN_NEED_ASSESSMENT);
    d.clear_data_categories();
    d.add_data_categories(v1::DATA_CATEGORY_IDENTITY);
    d.add_data_categories(v1::DATA_CATEGORY_CONCERN_DETAILS);
    for (auto c : asked) d.add_requested_categories(c);
    return m;
  }

  // A reply of `kind` to `in_reply_to`, sharing `categories`.
  static agents::OutgoingMessage Reply(v1::MessageKind kind, const std::string& from,
                                       const std::string& to, const std::string& in_reply_to,
                                       const std::string& id,
                                       std::vector<v1::DataCategory> categories) {
    v1::SealedContent content;
    if (kind == v1::MESSAGE_KIND_INFORMATION_RESPONSE) {
      auto* r = content.mutable_information_response()->mutable_record();
      for (auto c : categories) {
        if (c == v1::DATA_CATEGORY_EDUCATION) r->set_education("Attendance 71% this term.");
        if (c == v1::DATA_CATEGORY_SOCIAL_CARE_HISTORY) r->set_social_care_history("CIN 2023.");
        if (c == v1::DATA_CATEGORY_DOMESTIC_ABUSE) r->set_domestic_abuse("MARAC 2024.");
      }
    } else if (kind == v1::MESSAGE_KIND_DECLINE_TO_SHARE) {
      content.mutable_decline()->set_explanation("We hold nothing beyond what you have.");
    } else {
      content.mutable_outcome();  // the decision is in the declaration
    }
    auto m = Message(from, to, id, content);
    m.kind = kind;
    m.in_reply_to = in_reply_to;
    m.practitioner.set_role(v1::PRACTITIONER_ROLE_SOCIAL_WORKER);
    auto& d = m.declaration;
    d.set_purpose(kind == v1::MESSAGE_KIND_OUTCOME ? v1::PURPOSE_OUTCOME_FEEDBACK
                                                   : v1::PURPOSE_RESPONSE_TO_REQUEST);
    d.clear_data_categories();
    for (auto c : categories) d.add_data_categories(c);
    d.clear_protected_identities();
    return m;
  }

  const v1::AuditRecord* DecisionFor(const std::vector<v1::AuditRecord>& records,
                                     const std::string& id) {
    for (const auto& r : records) {
      if (r.message_id() == id && (r.event() == v1::AUDIT_EVENT_TYPE_DECISION ||
                                   r.event() == v1::AUDIT_EVENT_TYPE_SUBMIT_REFUSED)) {
        return &r;
      }
    }
    return nullptr;
  }
};

TEST_F(ThreadE2eTest, SouthamptonRequestIsAnsweredByHampshireWithFewerCategories) {
  auto southampton = Agent("southampton-mash");
  auto hampshire = Agent("hampshire-crt");
  auto asked = southampton->Send(Request("southampton-mash", "hampshire-crt", "req-1",
                                         {v1::DATA_CATEGORY_HEALTH, v1::DATA_CATEGORY_EDUCATION,
                                          v1::DATA_CATEGORY_SOCIAL_CARE_HISTORY}));
  ASSERT_TRUE(asked.ok()) << asked.status();
  ASSERT_EQ(asked->state(), v1::MESSAGE_STATE_SUBMITTED);

  auto inbox = hampshire->Receive();
  ASSERT_TRUE(inbox.ok()) << inbox.status();
  ASSERT_EQ(inbox->received.size(), 1u);
  EXPECT_EQ(inbox->received[0].header.declaration().requested_categories_size(), 3);

  // Education and social-care history only: fewer than asked, within the ISA.
  auto answered = hampshire->Send(
      Reply(v1::MESSAGE_KIND_INFORMATION_RESPONSE, "hampshire-crt", "southampton-mash", "req-1",
            "resp-1", {v1::DATA_CATEGORY_EDUCATION, v1::DATA_CATEGORY_SOCIAL_CARE_HISTORY}));
  ASSERT_TRUE(answered.ok()) << answered.status();
  EXPECT_EQ(answered->state(), v1::MESSAGE_STATE_SUBMITTED);

  auto got = southampton->Receive();
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->received.size(), 1u);
  EXPECT_EQ(got->received[0].header.in_reply_to(), "req-1");
  EXPECT_EQ(got->received[0].content.information_response().record().education(),
            "Attendance 71% this term.");

  auto request = southampton->client().GetStatus("req-1");
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->state(), v1::MESSAGE_STATE_ANSWERED);

  // The whole exchange, seen by either side.
  for (auto* side : {southampton.get(), hampshire.get()}) {
    auto thread = side->client().GetThread("resp-1");
    ASSERT_TRUE(thread.ok()) << thread.status();
    ASSERT_EQ(thread->messages_size(), 2);
    EXPECT_EQ(thread->messages(0).message_id(), "req-1");
    EXPECT_EQ(thread->messages(0).state(), v1::MESSAGE_STATE_ANSWERED);
    EXPECT_EQ(thread->messages(1).message_id(), "resp-1");
    EXPECT_EQ(thread->messages(1).in_reply_to(), "req-1");
    EXPECT_EQ(thread->messages(1).declaration().data_categories_size(), 2);
  }
  // A third agency sees none of it.
  EXPECT_EQ(Agency("iow-mash")->GetThread("req-1").status().code(),
            absl::StatusCode::kPermissionDenied);

  // The audit log links the response to the request.
  auto records = Audit();
  const auto* response_record = DecisionFor(records, "resp-1");
  ASSERT_NE(response_record, nullptr);
  EXPECT_EQ(response_record->in_reply_to(), "req-1");
  EXPECT_EQ(response_record->decision().decision(), v1::DECISION_ALLOW);
  ExpectAuditLogVerifies();
}

TEST_F(ThreadE2eTest, AResponseBeyondTheAskIsHeldAndBeyondTheAgreementIsRefused) {
  auto southampton = Agent("southampton-mash");
  auto hampshire = Agent("hampshire-crt");
  ASSERT_TRUE(southampton
                  ->Send(Request("southampton-mash", "hampshire-crt", "req-2",
                                 {v1::DATA_CATEGORY_EDUCATION}))
                  .ok());
  // Domestic abuse is within the ISA but was not asked for: an officer decides.
  auto more = hampshire->Send(
      Reply(v1::MESSAGE_KIND_INFORMATION_RESPONSE, "hampshire-crt", "southampton-mash", "req-2",
            "resp-2a", {v1::DATA_CATEGORY_EDUCATION, v1::DATA_CATEGORY_DOMESTIC_ABUSE}));
  ASSERT_TRUE(more.ok()) << more.status();
  EXPECT_EQ(more->state(), v1::MESSAGE_STATE_HELD);
  bool named = false;
  for (const auto& f : more->decision().findings()) {
    named = named || (f.outcome() == v1::FINDING_OUTCOME_ADVICE &&
                      f.reason().find("did not ask for") != std::string::npos);
  }
  EXPECT_TRUE(named) << more->decision().DebugString();
  ExpectMailboxEmpty("southampton-mash");

  // Sexual health is outside the agreement: never shared, whatever was asked.
  auto m = Reply(v1::MESSAGE_KIND_INFORMATION_RESPONSE, "hampshire-crt", "southampton-mash",
                 "req-2", "resp-2b", {v1::DATA_CATEGORY_EDUCATION});
  m.declaration.add_data_categories(v1::DATA_CATEGORY_SEXUAL_HEALTH);
  v1::SubmitResponse refused;
  EXPECT_EQ(hampshire->Send(m, &refused).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.decision().decision(), v1::DECISION_DENY);

  // The held response, once approved, answers the request.
  auto request = southampton->client().GetStatus("req-2");
  ASSERT_TRUE(request.ok());
  EXPECT_NE(request->state(), v1::MESSAGE_STATE_ANSWERED);
  ASSERT_TRUE(Officer("hampshire-crt.dpo")
                  ->Approve("resp-2a", "The abuse history is needed for the CIN assessment.")
                  .ok());
  request = southampton->client().GetStatus("req-2");
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->state(), v1::MESSAGE_STATE_ANSWERED);
  ExpectAuditLogVerifies();
}

TEST_F(ThreadE2eTest, ADeclineCarriesItsReasonsAndIsAuditedLikeAShare) {
  auto southampton = Agent("southampton-mash");
  auto hampshire = Agent("hampshire-crt");
  ASSERT_TRUE(
      southampton
          ->Send(Request("southampton-mash", "hampshire-crt", "req-3", {v1::DATA_CATEGORY_HEALTH}))
          .ok());

  // A decline must say why.
  auto bare = Reply(v1::MESSAGE_KIND_DECLINE_TO_SHARE, "hampshire-crt", "southampton-mash", "req-3",
                    "decl-0", {v1::DATA_CATEGORY_CONCERN_DETAILS});
  v1::SubmitResponse refused;
  EXPECT_EQ(hampshire->Send(bare, &refused).status().code(), absl::StatusCode::kFailedPrecondition);

  auto decline = bare;
  decline.message_id = "decl-1";
  decline.declaration.add_decline_reasons(v1::DECLINE_REASON_NO_INFORMATION_HELD);
  decline.declaration.add_decline_reasons(v1::DECLINE_REASON_NOT_NECESSARY);
  auto sent = hampshire->Send(decline);
  ASSERT_TRUE(sent.ok()) << sent.status();

  auto got = southampton->Receive();
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->received.size(), 1u);
  EXPECT_EQ(got->received[0].header.kind(), v1::MESSAGE_KIND_DECLINE_TO_SHARE);
  EXPECT_EQ(got->received[0].header.declaration().decline_reasons_size(), 2);
  auto request = southampton->client().GetStatus("req-3");
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->state(), v1::MESSAGE_STATE_ANSWERED);

  auto records = Audit();
  const auto* record = DecisionFor(records, "decl-1");
  ASSERT_NE(record, nullptr);
  EXPECT_EQ(record->kind(), v1::MESSAGE_KIND_DECLINE_TO_SHARE);
  EXPECT_EQ(record->in_reply_to(), "req-3");
  EXPECT_EQ(record->declaration().decline_reasons_size(), 2);
  EXPECT_EQ(record->sender_practitioner().id(), "pc-4471");
  const auto* bare_record = DecisionFor(records, "decl-0");
  ASSERT_NE(bare_record, nullptr) << "the refused decline is recorded too";
  EXPECT_EQ(bare_record->decision().decision(), v1::DECISION_DENY);
  ExpectAuditLogVerifies();
}

TEST_F(ThreadE2eTest, AnOutcomeClosesAReferral) {
  auto police = Agent("hiow-police");
  ASSERT_TRUE(police->Send(Message("hiow-police", "portsmouth-mash", "ref-1")).ok());
  auto mash = Agent("portsmouth-mash");
  ASSERT_TRUE(mash->Receive().ok());

  // An outcome must say what was decided.
  auto outcome = Reply(v1::MESSAGE_KIND_OUTCOME, "portsmouth-mash", "hiow-police", "ref-1", "out-0",
                       {v1::DATA_CATEGORY_IDENTITY});
  EXPECT_EQ(mash->Send(outcome).status().code(), absl::StatusCode::kFailedPrecondition);

  outcome.message_id = "out-1";
  outcome.declaration.set_outcome_decision(v1::OUTCOME_DECISION_STRATEGY_DISCUSSION);
  auto sent = mash->Send(outcome);
  ASSERT_TRUE(sent.ok()) << sent.status();

  auto referral = police->client().GetStatus("ref-1");
  ASSERT_TRUE(referral.ok());
  EXPECT_EQ(referral->state(), v1::MESSAGE_STATE_OUTCOME_RECEIVED);
  auto got = police->Receive();
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->received.size(), 1u);
  EXPECT_EQ(got->received[0].header.declaration().outcome_decision(),
            v1::OUTCOME_DECISION_STRATEGY_DISCUSSION);
  auto thread = police->client().GetThread("ref-1");
  ASSERT_TRUE(thread.ok());
  ASSERT_EQ(thread->messages_size(), 2);
  EXPECT_EQ(thread->messages(1).kind(), v1::MESSAGE_KIND_OUTCOME);
  ExpectAuditLogVerifies();
}

TEST_F(ThreadE2eTest, RepliesGoOnlyBackToTheAgencyThatAsked) {
  auto police = Agent("hiow-police");
  ASSERT_TRUE(police->Send(Message("hiow-police", "portsmouth-mash", "ref-2")).ok());
  auto mash = Agent("portsmouth-mash");

  // Addressed to a third agency: refused, and the refusal is audited.
  auto astray = Reply(v1::MESSAGE_KIND_OUTCOME, "portsmouth-mash", "iow-mash", "ref-2", "astray-1",
                      {v1::DATA_CATEGORY_IDENTITY});
  astray.declaration.set_outcome_decision(v1::OUTCOME_DECISION_EARLY_HELP);
  auto r = mash->Send(astray);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied) << r.status();
  EXPECT_NE(r.status().message().find("goes back to the agency that sent it, hiow-police"),
            std::string::npos)
      << r.status();
  EXPECT_EQ(Reason(r.status()), "REPLY_WRONG_RECIPIENT");
  ExpectMailboxEmpty("iow-mash");

  // From an agency that never received it: the same answer as for no message.
  auto stranger = Reply(v1::MESSAGE_KIND_OUTCOME, "southampton-mash", "hiow-police", "ref-2",
                        "astray-2", {v1::DATA_CATEGORY_IDENTITY});
  stranger.declaration.set_outcome_decision(v1::OUTCOME_DECISION_EARLY_HELP);
  auto s = Agent("southampton-mash")->Send(stranger);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition) << s.status();
  EXPECT_EQ(Reason(s.status()), "REPLY_NOT_RECEIVED");
  auto missing = stranger;
  missing.message_id = "astray-3";
  missing.in_reply_to = "no-such-message";
  EXPECT_EQ(Agent("southampton-mash")->Send(missing).status().message(),
            absl::StrCat(s.status().message().substr(0, s.status().message().find(": ref-2")),
                         ": no-such-message; a reply answers a message sent to your agency"));

  // A response answers a request, not a referral.
  auto wrong_kind = Reply(v1::MESSAGE_KIND_INFORMATION_RESPONSE, "portsmouth-mash", "hiow-police",
                          "ref-2", "astray-4", {v1::DATA_CATEGORY_IDENTITY});
  auto wk = mash->Send(wrong_kind);
  EXPECT_EQ(wk.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Reason(wk.status()), "REPLY_KIND_MISMATCH");

  // A message held for advice, or refused, was never received: it cannot be
  // answered either, and the answer is the same as for no message (G10a).
  auto held = Message("hiow-police", "portsmouth-mash", "ref-held");
  held.declaration.set_advice_status(v1::ADVICE_STATUS_REQUESTED);
  auto held_receipt = police->Send(held);
  ASSERT_TRUE(held_receipt.ok()) << held_receipt.status();
  ASSERT_EQ(held_receipt->state(), v1::MESSAGE_STATE_HELD);
  auto denied = Message("hiow-police", "portsmouth-mash", "ref-denied");
  denied.declaration.clear_lawful_basis();
  ASSERT_EQ(police->Send(denied).status().code(), absl::StatusCode::kFailedPrecondition);
  for (const std::string original : {"ref-held", "ref-denied"}) {
    auto answer = Reply(v1::MESSAGE_KIND_OUTCOME, "portsmouth-mash", "hiow-police", original,
                        "answer-" + original, {v1::DATA_CATEGORY_IDENTITY});
    answer.declaration.set_outcome_decision(v1::OUTCOME_DECISION_EARLY_HELP);
    auto refused = mash->Send(answer);
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition) << original;
    EXPECT_EQ(Reason(refused.status()), "REPLY_NOT_RECEIVED") << original << refused.status();
  }

  auto records = Audit();
  const auto* record = DecisionFor(records, "astray-1");
  ASSERT_NE(record, nullptr);
  EXPECT_EQ(record->event(), v1::AUDIT_EVENT_TYPE_SUBMIT_REFUSED);
  EXPECT_EQ(record->status_code(), "PERMISSION_DENIED");
  EXPECT_EQ(record->in_reply_to(), "ref-2");
  auto referral = police->client().GetStatus("ref-2");
  ASSERT_TRUE(referral.ok());
  EXPECT_EQ(referral->state(), v1::MESSAGE_STATE_SUBMITTED) << "no reply reached the police";
  ExpectAuditLogVerifies();
}

TEST_F(ThreadE2eTest, AnUnansweredRequestEscalatesEvenOnceAcknowledged) {
  gateway_->Stop();
  StartGateway({"--urgent_ack_seconds=1", "--escalation_scan_ms=100"});
  auto southampton = Agent("southampton-mash");
  auto m = Request("southampton-mash", "hampshire-crt", "req-4", {v1::DATA_CATEGORY_EDUCATION});
  m.declaration.set_urgency(v1::URGENCY_URGENT);
  ASSERT_TRUE(southampton->Send(m).ok());
  ASSERT_TRUE(Agency("hampshire-crt")->Ack("req-4").ok());  // received, not answered
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        auto st = southampton->client().GetStatus("req-4");
        return st.ok() && st->state() == v1::MESSAGE_STATE_ESCALATED;
      },
      20));
  auto inbox = Agent("hampshire-crt")->Receive();
  ASSERT_TRUE(inbox.ok());
  ASSERT_EQ(inbox->escalations.size(), 1u);
  EXPECT_EQ(inbox->escalations[0].escalation().message_id(), "req-4");
  EXPECT_EQ(inbox->escalations[0].escalation().reason(), v1::ESCALATION_REASON_NOT_ANSWERED);

  // Answering late still closes it.
  ASSERT_TRUE(
      Agent("hampshire-crt")
          ->Send(Reply(v1::MESSAGE_KIND_INFORMATION_RESPONSE, "hampshire-crt", "southampton-mash",
                       "req-4", "resp-4", {v1::DATA_CATEGORY_EDUCATION}))
          .ok());
  auto request = southampton->client().GetStatus("req-4");
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->state(), v1::MESSAGE_STATE_ANSWERED);
  // Southampton takes the answer in time: nothing is left for the escalator.
  auto answer = southampton->Receive();
  ASSERT_TRUE(answer.ok()) << answer.status();
  ASSERT_EQ(answer->received.size(), 1u);
  ASSERT_TRUE(southampton->client().Ack("resp-4").ok());
  ExpectAuditLogVerifies();
}

TEST_F(ThreadE2eTest, AHoldPastItsDeadlineEscalatesToTheFederationOfficersAndStaysHeld) {
  gateway_->Stop();
  StartGateway({"--urgent_ack_seconds=1", "--escalation_scan_ms=100"});
  auto police = Agent("hiow-police");
  auto m = Message("hiow-police", "portsmouth-mash", "hold-1");
  m.declaration.set_advice_status(v1::ADVICE_STATUS_REQUESTED);
  m.declaration.set_urgency(v1::URGENCY_URGENT);
  auto held = police->Send(m);
  ASSERT_TRUE(held.ok());
  ASSERT_EQ(held->state(), v1::MESSAGE_STATE_HELD);

  // The partnership DPO (federation scope) works at Hampshire CRT: its
  // mailbox gets the alert; the hold is never silently released or dropped.
  std::vector<v1::MailboxMessage> alerts;
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        auto inbox = Agent("hampshire-crt")->Receive();
        if (inbox.ok())
          alerts.insert(alerts.end(), inbox->escalations.begin(), inbox->escalations.end());
        return !alerts.empty();
      },
      20));
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].escalation().message_id(), "hold-1");
  EXPECT_EQ(alerts[0].escalation().reason(), v1::ESCALATION_REASON_HOLD_NOT_DECIDED);
  ExpectMailboxEmpty("portsmouth-mash");
  auto status = police->client().GetStatus("hold-1");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->state(), v1::MESSAGE_STATE_HELD);

  auto dpo = Officer("hampshire-crt.dpo");
  auto list = dpo->ListHeld();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->messages_size(), 1);
  EXPECT_TRUE(list->messages(0).has_decide_by());
  EXPECT_TRUE(list->messages(0).has_escalated_time());
  ASSERT_TRUE(dpo->Approve("hold-1", "Proportionate: the front door needs this today.").ok());
  auto inbox = Agent("portsmouth-mash")->Receive();
  ASSERT_TRUE(inbox.ok());
  ASSERT_EQ(inbox->received.size(), 1u);
  EXPECT_EQ(inbox->received[0].message_id, "hold-1");
  ASSERT_TRUE(Agency("portsmouth-mash")->Ack("hold-1").ok());  // in time: no second escalation
  ExpectAuditLogVerifies();
}

TEST_F(ThreadE2eTest, NothingAtImmediateUrgencyIsHeld) {
  auto police = Agent("hiow-police");
  auto m = Message("hiow-police", "portsmouth-mash", "now-1");
  m.declaration.set_advice_status(v1::ADVICE_STATUS_REQUESTED);
  m.declaration.set_urgency(v1::URGENCY_IMMEDIATE);
  auto sent = police->Send(m);
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_EQ(sent->state(), v1::MESSAGE_STATE_SUBMITTED);
  EXPECT_EQ(sent->decision().decision(), v1::DECISION_ALLOW);
  bool flagged = false;
  for (const auto& f : sent->decision().findings()) {
    flagged = flagged || f.reason().find("Flagged for IG review") != std::string::npos;
  }
  EXPECT_TRUE(flagged) << "shared now, reviewed afterwards";
  auto list = Officer("hampshire-crt.dpo")->ListHeld();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->messages_size(), 0);
  ExpectAuditLogVerifies();
}

TEST_F(ThreadE2eTest, PractitionersRequestRespondDeclineAndFollowTheThreadFromTheCli) {
  const std::string cli = testing::CliBinary();
  const std::string gw = "--gateway=" + gateway_->target();
  const std::string dir = data_.path() + "/cli";
  std::filesystem::create_directories(dir);
  auto write = [&](const std::string& name, const google::protobuf::Message& m) {
    std::string json;
    EXPECT_TRUE(google::protobuf::util::MessageToJsonString(m, &json).ok());
    std::ofstream(dir + "/" + name) << json;
    return dir + "/" + name;
  };
  auto request = Request("southampton-mash", "hampshire-crt", "", {});
  const std::string request_decl = write("request.json", request.declaration);
  const std::string request_payload =
      write("request.payload.json", request.content.information_request());
  auto response = Reply(v1::MESSAGE_KIND_INFORMATION_RESPONSE, "hampshire-crt", "southampton-mash",
                        "", "", {v1::DATA_CATEGORY_EDUCATION});
  response.declaration.clear_purpose();  // the command fills it in
  const std::string response_decl = write("response.json", response.declaration);
  const std::string response_payload =
      write("response.payload.json", response.content.information_response());
  auto decline = Reply(v1::MESSAGE_KIND_DECLINE_TO_SHARE, "hampshire-crt", "southampton-mash", "",
                       "", {v1::DATA_CATEGORY_CONCERN_DETAILS});
  const std::string decline_decl = write("decline.json", decline.declaration);

  const std::string southampton = "--identity=" + AgencyDir("southampton-mash");
  const std::string hampshire = "--identity=" + AgencyDir("hampshire-crt");
  CommandResult asked =
      RunCommand({cli, "request", gw, southampton, "--to=hampshire-crt", "--ask=education,health",
                  "--declaration=" + request_decl, "--payload=" + request_payload,
                  "--practitioner=sw-0912", "--message_id=cli-req-1"});
  ASSERT_EQ(asked.exit_code, 0) << asked.err << asked.out;
  CommandResult asked_again =
      RunCommand({cli, "request", gw, southampton, "--to=hampshire-crt", "--ask=education",
                  "--declaration=" + request_decl, "--payload=" + request_payload,
                  "--practitioner=sw-0912", "--message_id=cli-req-2"});
  ASSERT_EQ(asked_again.exit_code, 0) << asked_again.err;

  // Replies need no --to: they go back to whoever asked.
  CommandResult responded = RunCommand(
      {cli, "respond", "cli-req-1", gw, hampshire, "--declaration=" + response_decl,
       "--payload=" + response_payload, "--practitioner=sw-2231", "--message_id=cli-resp-1"});
  ASSERT_EQ(responded.exit_code, 0) << responded.err << responded.out;
  EXPECT_NE(responded.out.find("hampshire-crt -> southampton-mash (in reply to cli-req-1)"),
            std::string::npos)
      << responded.out;
  CommandResult declined = RunCommand(
      {cli, "decline", "cli-req-2", gw, hampshire, "--reasons=no_information_held",
       "--explanation=No education record for this child.", "--declaration=" + decline_decl,
       "--practitioner=sw-2231", "--message_id=cli-decl-1"});
  ASSERT_EQ(declined.exit_code, 0) << declined.err << declined.out;
  CommandResult no_reasons =
      RunCommand({cli, "decline", "cli-req-2", gw, hampshire, "--declaration=" + decline_decl,
                  "--practitioner=sw-2231"});
  EXPECT_EQ(no_reasons.exit_code, 2) << no_reasons.err;

  CommandResult thread = RunCommand({cli, "thread", "cli-req-1", gw, southampton});
  ASSERT_EQ(thread.exit_code, 0) << thread.err;
  EXPECT_NE(thread.out.find("cli-req-1  INFORMATION_REQUEST southampton-mash -> hampshire-crt"),
            std::string::npos)
      << thread.out;
  EXPECT_NE(thread.out.find("now ANSWERED"), std::string::npos) << thread.out;
  EXPECT_NE(thread.out.find("asks for education, health"), std::string::npos) << thread.out;
  EXPECT_NE(thread.out.find("cli-resp-1  INFORMATION_RESPONSE hampshire-crt -> southampton-mash"),
            std::string::npos)
      << thread.out;
  EXPECT_NE(thread.out.find("shares education"), std::string::npos) << thread.out;
  CommandResult declined_thread = RunCommand({cli, "thread", "cli-decl-1", gw, hampshire});
  ASSERT_EQ(declined_thread.exit_code, 0) << declined_thread.err;
  EXPECT_NE(declined_thread.out.find("declined: no_information_held"), std::string::npos)
      << declined_thread.out;
  ExpectAuditLogVerifies();
}

}  // namespace
}  // namespace safeshare
