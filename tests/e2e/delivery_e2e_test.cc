// Reliable delivery end to end: live subscriptions, the agent daemon writing
// inbox directories, and crashes of the gateway and of agents (real processes).

#include <set>
#include <thread>

#include "agents/inbox_daemon.h"
#include "tests/e2e/gateway_fixture.h"

namespace safeshare {
namespace {

namespace fs = std::filesystem;

class DeliveryE2eTest : public GatewayE2eTest {
 protected:
  // Message ids with a complete envelope file in `dir`.
  static std::set<std::string> Stored(const std::string& dir) {
    std::set<std::string> ids;
    std::error_code ec;
    for (const auto& f : fs::directory_iterator(dir, ec)) {
      const std::string name = f.path().filename().string();
      const std::string suffix = ".envelope.json";
      if (name.size() > suffix.size() &&
          name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
        ids.insert(name.substr(0, name.size() - suffix.size()));
      }
    }
    return ids;
  }

  std::vector<std::string> DaemonArgv(const std::string& agency, const std::string& inbox) {
    return {testing::CliBinary(),
            "agent",
            "run",
            "--identity=" + AgencyDir(agency),
            "--inbox=" + inbox,
            "--gateway=" + gateway_->target()};
  }
};

TEST_F(DeliveryE2eTest, SubscribersGetPendingThenNewMessagesAsTheyAreAccepted) {
  auto police = Agent("hiow-police");
  ASSERT_TRUE(police->Send(Message("hiow-police", "portsmouth-mash", "before")).ok());
  auto mash = Agency("portsmouth-mash");
  auto sub = mash->Subscribe(0);
  v1::MailboxMessage got;
  ASSERT_TRUE(sub->Read(&got));
  EXPECT_EQ(got.message_id(), "before");
  ASSERT_TRUE(police->Send(Message("hiow-police", "portsmouth-mash", "after")).ok());
  ASSERT_TRUE(sub->Read(&got));
  EXPECT_EQ(got.message_id(), "after");
  EXPECT_GT(got.sequence(), 0u);
  // Another agency's subscription sees none of it.
  auto other = Agency("iow-mash")->Subscribe(0);
  ASSERT_TRUE(police->Send(Message("hiow-police", "iow-mash", "for-iow")).ok());
  ASSERT_TRUE(other->Read(&got));
  EXPECT_EQ(got.message_id(), "for-iow");
  sub->Cancel();
  other->Cancel();
  EXPECT_FALSE(sub->Read(&got));
  (void)sub->Finish();
  (void)other->Finish();
  // A new subscription resumes with what is still unacknowledged.
  auto again = mash->Subscribe(0);
  std::set<std::string> ids;
  ASSERT_TRUE(again->Read(&got));
  ids.insert(got.message_id());
  ASSERT_TRUE(again->Read(&got));
  ids.insert(got.message_id());
  EXPECT_EQ(ids, (std::set<std::string>{"before", "after"}));
  again->Cancel();
  (void)again->Finish();
}

// The main workflow: a referral held for advice, approved by an IG officer
// while the recipient's agent is connected, reaches it at once (not only on
// its next reconnection, by when it may have escalated).
TEST_F(DeliveryE2eTest, AnApprovedHoldReachesALiveSubscriberAtOnce) {
  auto police = Agent("hiow-police");
  auto held = Message("hiow-police", "portsmouth-mash", "held");
  held.declaration.set_advice_status(v1::ADVICE_STATUS_REQUESTED);
  auto r = police->Send(held);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->state(), v1::MESSAGE_STATE_HELD);
  ASSERT_TRUE(police->Send(Message("hiow-police", "portsmouth-mash", "seen")).ok());
  auto sub = Agency("portsmouth-mash")->Subscribe(0);
  v1::MailboxMessage got;
  ASSERT_TRUE(sub->Read(&got));
  EXPECT_EQ(got.message_id(), "seen");

  ASSERT_TRUE(Officer("hampshire-crt.dpo")
                  ->Approve("held", "Necessary and proportionate: the child is at risk.")
                  .ok());
  // A later message too: without the fix the stream skips "held" and shows
  // this one, so the test fails instead of waiting for ever.
  ASSERT_TRUE(police->Send(Message("hiow-police", "portsmouth-mash", "later")).ok());
  ASSERT_TRUE(sub->Read(&got));
  EXPECT_EQ(got.message_id(), "held");
  ASSERT_TRUE(sub->Read(&got));
  EXPECT_EQ(got.message_id(), "later");
  sub->Cancel();
  (void)sub->Finish();
}

TEST_F(DeliveryE2eTest, TheAgentDaemonStoresEachMessageOnceAndAcknowledgesIt) {
  const std::string inbox = data_.path() + "/inbox";
  auto mash = Agent("portsmouth-mash");
  agents::InboxDaemon daemon(mash.get(), {inbox});
  std::thread runner([&] { EXPECT_TRUE(daemon.Run().ok()); });
  auto police = Agent("hiow-police");
  std::set<std::string> sent;
  for (int i = 0; i < 5; ++i) {
    auto r = police->Send(Message("hiow-police", "portsmouth-mash"));
    ASSERT_TRUE(r.ok()) << r.status();
    sent.insert(r->message_id());
  }
  EXPECT_TRUE(testing::WaitFor([&] { return Stored(inbox) == sent; }, 20));
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        for (const auto& id : sent) {
          auto st = police->client().GetStatus(id);
          if (!st.ok() || st->state() != v1::MESSAGE_STATE_ACKNOWLEDGED) return false;
        }
        return true;
      },
      20));
  daemon.Stop();
  runner.join();
  EXPECT_EQ(daemon.stored(), 5u);
  // The content file holds the opened referral.
  std::ifstream content(inbox + "/" + *sent.begin() + ".content.json");
  std::string text((std::istreambuf_iterator<char>(content)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("sealed referral content"), std::string::npos) << text;
}

// The mailbox id is the gateway's word, the envelope's id the sender's: the
// daemon names files only after an id that is both, so a faulty or hostile
// gateway can neither write outside the inbox nor file one message as another.
TEST_F(DeliveryE2eTest, TheAgentDaemonNamesFilesOnlyAfterTheSignedMessageId) {
  const std::string inbox = data_.path() + "/deep/inbox";
  fs::create_directories(inbox);
  auto police = Agent("hiow-police");
  ASSERT_TRUE(police->Send(Message("hiow-police", "portsmouth-mash", "first")).ok());
  ASSERT_TRUE(police->Send(Message("hiow-police", "portsmouth-mash", "second")).ok());
  auto page = Agency("portsmouth-mash")->Fetch();
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->messages_size(), 2);
  v1::MailboxMessage second =
      page->messages(0).message_id() == "second" ? page->messages(0) : page->messages(1);
  auto mash = Agent("portsmouth-mash");
  agents::InboxDaemon daemon(mash.get(), {inbox});

  // A path for an id: nothing written anywhere, nothing acknowledged.
  v1::MailboxMessage escape = second;
  escape.set_message_id("../x");
  EXPECT_EQ(daemon.Handle(escape).code(), absl::StatusCode::kInvalidArgument);
  v1::MailboxMessage alert = escape;
  alert.mutable_escalation()->set_message_id("first");
  EXPECT_EQ(daemon.Handle(alert).code(), absl::StatusCode::kInvalidArgument);

  // "second" delivered as "first": refused as malformed, never filed.
  v1::MailboxMessage swapped = second;
  swapped.set_message_id("first");
  EXPECT_TRUE(daemon.Handle(swapped).ok());
  auto first = police->client().GetStatus("first");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->state(), v1::MESSAGE_STATE_CONTENT_REFUSED);
  EXPECT_EQ(first->content_refusal_reason(), v1::CONTENT_REFUSAL_REASON_MALFORMED_CONTENT);

  for (const auto& dir : {inbox, data_.path() + "/deep", data_.path()}) {
    for (const auto& f : fs::directory_iterator(dir)) {
      const std::string name = f.path().filename().string();
      EXPECT_EQ(name.find(".json"), std::string::npos) << dir << "/" << name;
    }
  }
  EXPECT_EQ(daemon.stored(), 0u);
  EXPECT_EQ(daemon.refused(), 3u);

  // The genuine delivery still goes in, under its signed id.
  EXPECT_TRUE(daemon.Handle(second).ok());
  EXPECT_EQ(Stored(inbox), std::set<std::string>{"second"});
}

TEST_F(DeliveryE2eTest, TheAgentRefusesAnEnvelopeWhoseSignedIdIsNotAMessageId) {
  v1::Envelope header = Header("hiow-police", "portsmouth-mash", "../../x");
  v1::SignedEnvelope sealed =
      SealByHand(header, Content().SerializeAsString(), "hiow-police", "portsmouth-mash");
  v1::ContentRefusalReason reason;
  auto opened = Agent("portsmouth-mash")->OpenEnvelope(sealed, &reason);
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kInvalidArgument) << opened.status();
  EXPECT_EQ(reason, v1::CONTENT_REFUSAL_REASON_MALFORMED_CONTENT);
}

// `agent run` stops within a second of SIGTERM or SIGINT in every state, with
// status 0 and nothing half-written (issue 27: with its gateway gone, it used
// to wait in gRPC's poller for ever).
TEST_F(DeliveryE2eTest, TheAgentDaemonStopsPromptlyInEveryState) {
  const std::string inbox = data_.path() + "/inbox";
  auto stops_promptly = [&](testing::ChildProcess& agent, int sig, const std::string& state) {
    agent.Signal(sig);
    std::optional<int> code;
    EXPECT_TRUE(testing::WaitFor([&] { return (code = agent.Poll()).has_value(); }, 1.0))
        << state << ": still running a second after the signal";
    if (!code) {
      agent.Signal(SIGKILL);
      agent.Wait();
      return;
    }
    EXPECT_EQ(*code, 0) << state;
  };
  auto police = Agent("hiow-police");
  ASSERT_TRUE(police->Send(Message("hiow-police", "iow-mash", "kept")).ok());

  {  // Subscribed, the gateway up.
    testing::ChildProcess agent;
    ASSERT_TRUE(agent.Start(DaemonArgv("iow-mash", inbox), data_.path() + "/a1.log"));
    // A bound, not a timing: under a loaded CI machine the daemon may back off once.
    ASSERT_TRUE(testing::WaitFor([&] { return Stored(inbox).count("kept") == 1; }, 60))
        << std::ifstream(data_.path() + "/a1.log").rdbuf();
    stops_promptly(agent, SIGTERM, "subscribed");
  }
  {  // The gateway killed: reconnecting with back-off.
    testing::ChildProcess agent;
    ASSERT_TRUE(agent.Start(DaemonArgv("iow-mash", inbox), data_.path() + "/a2.log"));
    absl::SleepFor(absl::Milliseconds(500));
    gateway_->Kill();
    absl::SleepFor(absl::Seconds(1));
    stops_promptly(agent, SIGTERM, "reconnecting after a kill");
  }
  {  // Connecting to a gateway that is not there, stopped with SIGINT.
    testing::ChildProcess agent;
    ASSERT_TRUE(agent.Start(DaemonArgv("iow-mash", inbox), data_.path() + "/a3.log"));
    absl::SleepFor(absl::Seconds(1));
    stops_promptly(agent, SIGINT, "connecting");
  }
  StartGateway({});
  {  // The gateway stopped gracefully under a subscribed agent.
    testing::ChildProcess agent;
    ASSERT_TRUE(agent.Start(DaemonArgv("iow-mash", inbox), data_.path() + "/a4.log"));
    absl::SleepFor(absl::Milliseconds(500));
    gateway_->Stop();
    absl::SleepFor(absl::Seconds(1));
    stops_promptly(agent, SIGTERM, "after a graceful gateway stop");
  }
  EXPECT_EQ(Stored(inbox), std::set<std::string>{"kept"});
  int files = 0;
  for (const auto& f : fs::directory_iterator(inbox)) files += f.is_regular_file();
  EXPECT_EQ(files, 2) << "no temporary or half-written file left";
}

TEST_F(DeliveryE2eTest, AnAgentKilledBetweenStoringAndAcknowledgingGetsTheMessageAgainOnce) {
  const std::string inbox = data_.path() + "/inbox";
  testing::ChildProcess crashing;
  auto argv = DaemonArgv("iow-mash", inbox);
  argv.push_back("--crash_after_writes=1");
  ASSERT_TRUE(crashing.Start(argv, data_.path() + "/agent1.log"));
  auto police = Agent("hiow-police");
  ASSERT_TRUE(police->Send(Message("hiow-police", "iow-mash", "crash-1")).ok());
  std::optional<int> code;
  ASSERT_TRUE(testing::WaitFor([&] { return (code = crashing.Poll()).has_value(); }, 20));
  EXPECT_EQ(*code, 3) << "the daemon died after writing, before acknowledging";
  EXPECT_EQ(Stored(inbox), std::set<std::string>{"crash-1"});
  auto status = police->client().GetStatus("crash-1");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->state(), v1::MESSAGE_STATE_DELIVERED) << "delivered, never acknowledged";

  testing::ChildProcess agent;
  ASSERT_TRUE(agent.Start(DaemonArgv("iow-mash", inbox), data_.path() + "/agent2.log"));
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        auto st = police->client().GetStatus("crash-1");
        return st.ok() && st->state() == v1::MESSAGE_STATE_ACKNOWLEDGED;
      },
      20));
  agent.Signal(SIGTERM);
  EXPECT_EQ(agent.Wait(), 0);
  EXPECT_EQ(Stored(inbox), std::set<std::string>{"crash-1"});
  int files = 0;
  for (const auto& f : fs::directory_iterator(inbox)) files += f.is_regular_file();
  EXPECT_EQ(files, 2) << "one envelope and one content file, not two copies";
}

// One story, kept whole (longer than a function should be) so that it reads
// as the crash it tests: senders, a SIGKILL mid-stream, a restart, then the
// accounting of every message.
TEST_F(DeliveryE2eTest, KillingTheGatewayMidStreamLosesAndDuplicatesNothing) {
  const std::string inbox_pm = data_.path() + "/inbox-pm", inbox_iow = data_.path() + "/inbox-iow";
  testing::ChildProcess pm, iow;
  ASSERT_TRUE(pm.Start(DaemonArgv("portsmouth-mash", inbox_pm), data_.path() + "/pm.log"));
  ASSERT_TRUE(iow.Start(DaemonArgv("iow-mash", inbox_iow), data_.path() + "/iow.log"));

  // Senders retry a failed Submit with the same sealed envelope (the message
  // id is the idempotency key) until the gateway answers; a policy refusal is
  // final and must never be delivered.
  std::mutex mu;
  std::set<std::string> accepted_pm, accepted_iow, denied;
  std::atomic<int> sent{0};
  // Calls that failed because the gateway was down, then were tried again.
  std::atomic<int> retried{0};
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  auto sender = [&](const std::string& from, int count) {
    auto agent = Agent(from);
    v1::SharingDeclaration school;
    std::ifstream in(testing::SourceDir() + "/deploy/examples/school-to-portsmouth-referral.json");
    std::string json((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &school).ok());
    for (int i = 0; i < count; ++i) {
      // The police refer to both front doors; the school to its own.
      const std::string to = from == "southsea-academy" || i % 2 ? "portsmouth-mash" : "iow-mash";
      auto m = Message(from, to, absl::StrCat(from, "-", i));
      if (from == "southsea-academy") {
        m.declaration = school;
        m.practitioner.set_role(v1::PRACTITIONER_ROLE_DESIGNATED_SAFEGUARDING_LEAD);
      }
      const bool deny = i == count - 1;
      if (deny) m.declaration.clear_lawful_basis();
      absl::StatusOr<v1::SignedEnvelope> sealed = agent->Seal(m);
      while (!sealed.ok() && std::chrono::steady_clock::now() < give_up) {
        ++retried;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        sealed = agent->Seal(m);  // the directory read failed while the gateway was down
      }
      while (sealed.ok() && std::chrono::steady_clock::now() < give_up) {
        auto r = agent->client().Submit(*sealed);
        if (r.ok()) {
          std::lock_guard<std::mutex> lock(mu);
          (to == "portsmouth-mash" ? accepted_pm : accepted_iow).insert(r->message_id());
          break;
        }
        if (r.status().code() == absl::StatusCode::kFailedPrecondition) {
          std::lock_guard<std::mutex> lock(mu);
          denied.insert(m.message_id);
          break;
        }
        ++retried;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      ++sent;
    }
  };
  std::thread police([&] { sender("hiow-police", 20); });
  std::thread school([&] { sender("southsea-academy", 20); });

  ASSERT_TRUE(testing::WaitFor([&] { return sent >= 12; }, 60));
  gateway_->Kill();  // SIGKILL mid-stream
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_TRUE(gateway_->Start());
  police.join();
  school.join();

  EXPECT_GT(retried.load(), 0) << "the kill came while the senders were still sending";
  EXPECT_EQ(denied.size(), 2u);
  EXPECT_EQ(accepted_pm.size() + accepted_iow.size(), 38u);
  EXPECT_TRUE(testing::WaitFor(
      [&] { return Stored(inbox_pm) == accepted_pm && Stored(inbox_iow) == accepted_iow; }, 60))
      << Stored(inbox_pm).size() << "/" << accepted_pm.size() << " and " << Stored(inbox_iow).size()
      << "/" << accepted_iow.size();
  for (const auto& id : denied) {
    EXPECT_FALSE(fs::exists(inbox_pm + "/" + id + ".envelope.json"));
    EXPECT_FALSE(fs::exists(inbox_iow + "/" + id + ".envelope.json"));
  }
  pm.Signal(SIGTERM);
  iow.Signal(SIGTERM);
  EXPECT_EQ(pm.Wait(), 0);
  EXPECT_EQ(iow.Wait(), 0);

  // Every acknowledgement landed and the audit log verifies.
  auto police_client = Agency("hiow-police");
  for (const auto& id : accepted_pm) {
    if (id.rfind("hiow-police", 0) != 0) continue;
    auto st = police_client->GetStatus(id);
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(st->state(), v1::MESSAGE_STATE_ACKNOWLEDGED) << id;
  }
  const size_t keys = FederationKeyCount();
  ASSERT_EQ(gateway_->Stop(), 0);
  const std::string copy = data_.path() + "/copy.db";
  fs::copy_file(gateway_->db_path(), copy);
  auto v = verification::VerifyAuditDatabase(copy, AuditLog());
  ASSERT_TRUE(v.ok()) << v.status();
  // The key registrations, 40 decisions, then a delivery and an
  // acknowledgement per accepted message.
  EXPECT_EQ(v->records, keys + 40u + 2 * 38u);
}

TEST_F(DeliveryE2eTest, AFullStoreFailsSubmitWithUnavailableAndWritesNothingHalfway) {
  gateway_->Stop();
  // Cap the database just above its empty size: a few commits fit, then full.
  StartGateway({"--store=sqlite://" + data_.path() + "/gw/gateway.db?max_pages=40"});
  auto police = Agent("hiow-police");
  int accepted = 0;
  absl::Status full;
  for (int i = 0; i < 200 && full.ok(); ++i) {
    auto r = police->Send(Message("hiow-police", "portsmouth-mash", absl::StrCat("fill-", i),
                                  Content(std::string(2000, 'x'))));
    if (r.ok()) {
      ++accepted;
    } else {
      full = r.status();
    }
  }
  ASSERT_FALSE(full.ok()) << "the cap was never reached";
  EXPECT_EQ(full.code(), absl::StatusCode::kUnavailable) << full;
  EXPECT_TRUE(Agency("portsmouth-mash")->CheckHealth().ok()) << "still serving";
  std::ifstream log(gateway_->log_path());
  std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  // Logged for the operator: the batch's commit, or the job's own write.
  EXPECT_TRUE(text.find("store.commit_failed") != std::string::npos ||
              text.find("store.write_failed") != std::string::npos);

  // While full, a read shows only what was accepted (it may fail: it writes
  // the hand-over).
  std::set<std::string> accepted_ids;
  for (int i = 0; i < accepted; ++i) accepted_ids.insert(absl::StrCat("fill-", i));
  std::set<std::string> got;
  std::string token;
  auto mash = Agency("portsmouth-mash");
  do {
    auto page = mash->Fetch(0, token);
    if (!page.ok()) {
      EXPECT_EQ(page.status().code(), absl::StatusCode::kUnavailable) << page.status();
      break;
    }
    for (const auto& m : page->messages()) got.insert(m.message_id());
    token = page->next_page_token();
  } while (!token.empty());
  for (const auto& id : got) EXPECT_TRUE(accepted_ids.count(id)) << id << " was never accepted";
  // Still full: the next Submit fails the same way, the gateway carries on.
  auto again = police->Send(
      Message("hiow-police", "portsmouth-mash", "fill-again", Content(std::string(2000, 'x'))));
  EXPECT_EQ(again.status().code(), absl::StatusCode::kUnavailable) << again.status();
  ASSERT_EQ(gateway_->Stop(), 0);
  StartGateway({});  // uncapped
  got.clear();
  token.clear();
  mash = Agency("portsmouth-mash");
  do {
    auto page = mash->Fetch(0, token);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const auto& m : page->messages()) got.insert(m.message_id());
    token = page->next_page_token();
  } while (!token.empty());
  EXPECT_EQ(got, accepted_ids);
  // The log holds a decision for each accepted message and for nothing the
  // full store refused, and it verifies.
  std::set<std::string> decided;
  for (const auto& r : Audit()) {
    if (r.event() == v1::AUDIT_EVENT_TYPE_DECISION) decided.insert(r.message_id());
  }
  EXPECT_EQ(decided, accepted_ids);
  ExpectAuditLogVerifies();
}

}  // namespace
}  // namespace safeshare

namespace safeshare {
namespace {

TEST_F(DeliveryE2eTest, AnUnacknowledgedImmediateReferralEscalatesOnceAndIsNeverDropped) {
  gateway_->Stop();
  StartGateway({"--immediate_ack_seconds=1", "--escalation_scan_ms=100"});
  auto police = Agent("hiow-police");
  auto m = Message("hiow-police", "iow-mash", "overdue-1");
  m.declaration.set_urgency(v1::URGENCY_IMMEDIATE);
  ASSERT_TRUE(police->Send(m).ok());
  auto status = police->client().GetStatus("overdue-1");
  ASSERT_TRUE(status.ok());
  EXPECT_TRUE(status->has_acknowledge_deadline());
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        auto st = police->client().GetStatus("overdue-1");
        return st.ok() && st->state() == v1::MESSAGE_STATE_ESCALATED;
      },
      20));

  // The recipient still has the referral, and its escalation contact (here
  // the front door's own managers' queue) has the alert.
  auto inbox = Agent("iow-mash")->Receive();
  ASSERT_TRUE(inbox.ok()) << inbox.status();
  ASSERT_EQ(inbox->received.size(), 1u);
  EXPECT_EQ(inbox->received[0].message_id, "overdue-1");
  ASSERT_EQ(inbox->escalations.size(), 1u);
  EXPECT_EQ(inbox->escalations[0].escalation().message_id(), "overdue-1");
  EXPECT_EQ(inbox->escalations[0].escalation().urgency(), v1::URGENCY_IMMEDIATE);

  // Escalated once, however many scans pass.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto again = Agent("iow-mash")->Receive();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->escalations.size(), 1u);

  ASSERT_TRUE(Agency("iow-mash")->Ack("overdue-1").ok());
  status = police->client().GetStatus("overdue-1");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->state(), v1::MESSAGE_STATE_ACKNOWLEDGED);
  std::vector<v1::MessageState> history;
  for (const auto& h : status->history()) history.push_back(h.state());
  EXPECT_EQ(history, (std::vector<v1::MessageState>{
                         v1::MESSAGE_STATE_SUBMITTED, v1::MESSAGE_STATE_ESCALATED,
                         v1::MESSAGE_STATE_DELIVERED, v1::MESSAGE_STATE_ACKNOWLEDGED}))
      << "escalated before anyone collected it, then delivered and acknowledged";

  // The escalation is in the audit log.
  auto dpo = Officer("hampshire-crt.dpo");
  auto records = dpo->QueryRecords({}, 0, "");
  ASSERT_TRUE(records.ok());
  int escalations = 0;
  for (const auto& r : records->records()) {
    escalations += r.event() == v1::AUDIT_EVENT_TYPE_ESCALATED && r.message_id() == "overdue-1";
  }
  EXPECT_EQ(escalations, 1);
}

// Operation Encompass (deploy/examples/police-operation-encompass-to-school*).
agents::OutgoingMessage Encompass(const std::string& to, const std::string& id) {
  return ExampleMessage(v1::MESSAGE_KIND_OPERATION_ENCOMPASS, "hiow-police", to,
                        "police-operation-encompass-to-school", id,
                        v1::PRACTITIONER_ROLE_POLICE_OFFICER);
}

std::string DayText(absl::CivilDay day) { return absl::FormatCivilTime(day); }

// The school is on holiday (its last term ended yesterday) and the next term
// starts on a Monday at least a week away: a notification sent now is due at
// that Monday's session start. Then the deadline passes (moved into the past
// in the stopped gateway's store, as the clock cannot be), and the escalation
// goes to Portsmouth's front door, which the school's own entry does not name.
TEST_F(DeliveryE2eTest, OperationEncompassIsDueAtTheStartOfTermAndEscalatesToTheFrontDoor) {
  const absl::CivilDay today(absl::ToCivilDay(absl::Now(), absl::UTCTimeZone()));
  absl::CivilDay monday = today + 7;
  while (absl::GetWeekday(monday) != absl::Weekday::monday) ++monday;
  const std::string calendars = data_.path() + "/school-calendars";
  std::filesystem::create_directories(calendars);
  std::ofstream(calendars + "/southsea-academy.json")
      << "{\"agency_id\": \"southsea-academy\", \"time_zone\": \"UTC\", \"session_start\": "
         "\"08:40\", \"terms\": [{\"first_day\": \""
      << DayText(today - 60) << "\", \"last_day\": \"" << DayText(today - 1)
      << "\"}, {\"first_day\": \"" << DayText(monday) << "\", \"last_day\": \""
      << DayText(monday + 40) << "\"}]}";
  gateway_->Stop();
  StartGateway({"--school_calendar_dir=" + calendars, "--escalation_scan_ms=100"});

  auto police = Agent("hiow-police");
  auto sent = police->Send(Encompass("southsea-academy", "oe-1"));
  ASSERT_TRUE(sent.ok()) << sent.status();
  ASSERT_EQ(sent->state(), v1::MESSAGE_STATE_SUBMITTED) << sent->decision().DebugString();
  auto status = police->client().GetStatus("oe-1");
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(absl::FromUnixSeconds(status->acknowledge_deadline().seconds()),
            absl::FromCivil(monday, absl::UTCTimeZone()) + absl::Minutes(8 * 60 + 40));

  // The school's designated safeguarding lead opens it: the content the
  // guidance lists.
  auto inbox = Agent("southsea-academy")->Receive();
  ASSERT_TRUE(inbox.ok()) << inbox.status();
  ASSERT_EQ(inbox->received.size(), 1u);
  const auto& oe = inbox->received[0].content.operation_encompass();
  EXPECT_EQ(oe.involvement(), v1::OperationEncompassContent::INVOLVEMENT_WITNESSED);
  EXPECT_EQ(oe.child().given_names(), "Amelia");
  EXPECT_FALSE(oe.incident_summary().empty());

  gateway_->Stop();
  ASSERT_EQ(testing::ExecSqlite(gateway_->db_path(),
                                "UPDATE messages SET ack_deadline_us = 1, open_deadline_us = 1 "
                                "WHERE message_id = 'oe-1'"),
            "");
  StartGateway({"--school_calendar_dir=" + calendars, "--escalation_scan_ms=100"});
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        auto st = Agent("hiow-police")->client().GetStatus("oe-1");
        return st.ok() && st->state() == v1::MESSAGE_STATE_ESCALATED;
      },
      20));
  auto front_door = Agent("portsmouth-mash")->Receive();
  ASSERT_TRUE(front_door.ok()) << front_door.status();
  ASSERT_EQ(front_door->escalations.size(), 1u);
  EXPECT_EQ(front_door->escalations[0].escalation().message_id(), "oe-1");
  EXPECT_EQ(front_door->escalations[0].escalation().kind(), v1::MESSAGE_KIND_OPERATION_ENCOMPASS);
  EXPECT_EQ(front_door->escalations[0].escalation().recipient_agency_id(), "southsea-academy");
}

// A child in elective home education: the local authority is notified, and a
// notification for such a child addressed to a school is refused.
TEST_F(DeliveryE2eTest, OperationEncompassForAChildInElectiveHomeEducationGoesToTheLocalAuthority) {
  auto police = Agent("hiow-police");
  auto ehe = Encompass("portsmouth-mash", "oe-ehe");
  ehe.declaration.set_elective_home_education(true);
  auto sent = police->Send(ehe);
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_EQ(sent->state(), v1::MESSAGE_STATE_SUBMITTED) << sent->decision().DebugString();
  auto inbox = Agent("portsmouth-mash")->Receive();
  ASSERT_TRUE(inbox.ok()) << inbox.status();
  ASSERT_EQ(inbox->received.size(), 1u);
  EXPECT_EQ(inbox->received[0].header.kind(), v1::MESSAGE_KIND_OPERATION_ENCOMPASS);

  auto wrong = Encompass("southsea-academy", "oe-ehe-school");
  wrong.declaration.set_elective_home_education(true);
  v1::SubmitResponse refused;
  auto r = police->Send(wrong, &refused);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition) << r.status();
  EXPECT_NE(r.status().message().find("is not a local authority"), std::string::npos) << r.status();
  EXPECT_EQ(refused.state(), v1::MESSAGE_STATE_REFUSED);
}

}  // namespace
}  // namespace safeshare
