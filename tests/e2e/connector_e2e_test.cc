// The agency connector (`safeshare agent serve`) end to end: two connector
// processes, a school's and Portsmouth MASH's, each under its agency's real
// keys, in front of a real gateway over mutual TLS, driven over their local
// HTTP API as a case-management system would. Every answer is checked
// against agents/connector/openapi.json.

#include <atomic>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "envelope/content.h"
#include "httplib.h"
#include "safeshare/v1/connector.pb.h"
#include "tests/e2e/gateway_fixture.h"
#include "tests/support/json_schema_check.h"

namespace safeshare {
namespace {

using google::protobuf::util::JsonStringToMessage;

std::string ToJson(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, opts);
  return out;
}

v1::SharingDeclaration Example(const std::string& name) {
  v1::SharingDeclaration d;
  std::ifstream in(testing::SourceDir() + "/deploy/examples/" + name);
  std::string json((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(JsonStringToMessage(json, &d).ok()) << name;
  return d;
}

// One connector process and an HTTP client for it.
class ConnectorProcess {
 public:
  ConnectorProcess(const std::string& dir, const std::string& identity_dir,
                   const std::string& config)
      : dir_(dir) {
    std::filesystem::create_directories(dir);
    std::ofstream(dir + "/connector.textproto") << config << "port_file: \"" << dir << "/port\"\n";
    started_ = proc_.Start({testing::CliBinary(), "agent", "serve", "--identity", identity_dir,
                            "--config", dir + "/connector.textproto"},
                           dir + "/connector.log");
    started_ =
        started_ && testing::WaitFor([&] { return std::filesystem::exists(dir + "/port"); }, 30);
    if (started_) {
      std::ifstream(dir + "/port") >> port_;
      http_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
      http_->set_read_timeout(30, 0);
    }
  }
  ~ConnectorProcess() {
    if (proc_.running()) {
      proc_.Signal(SIGTERM);
      proc_.Wait();
    }
  }
  bool started() const { return started_; }
  int port() const { return port_; }
  httplib::Client& http() { return *http_; }
  std::string log() const {
    std::ifstream in(dir_ + "/connector.log");
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }

 private:
  std::string dir_;
  testing::ChildProcess proc_;
  bool started_ = false;
  int port_ = 0;
  std::unique_ptr<httplib::Client> http_;
};

class ConnectorE2eTest : public GatewayE2eTest {
 protected:
  void SetUp() override {
    GatewayE2eTest::SetUp();
    auto doc = testing::LoadOpenApi(testing::SourceDir() + "/agents/connector/openapi.json");
    ASSERT_TRUE(doc.ok()) << doc.status();
    doc_ = *doc;
    isa_dir_ = testing::TestAgreements(data_.path() + "/connector-isa");
  }

  std::string Config(const std::string& user, const std::string& role) {
    return absl::StrCat("gateway: \"", gateway_->target(), "\"\nlisten: \"127.0.0.1:0\"\n",
                        "federation_file: \"", federation_, "/federation.textproto\"\n",
                        "isa_dir: \"", isa_dir_, "\"\nmax_retry_seconds: 1\n",
                        "local_user { id: \"", user, "\" role: ", role, " }\n");
  }
  std::unique_ptr<ConnectorProcess> Start(const std::string& agency, const std::string& user,
                                          const std::string& role, const std::string& extra = "") {
    const std::string dir = data_.path() + "/connector-" + agency;
    auto c = std::make_unique<ConnectorProcess>(
        dir, AgencyDir(agency), Config(user, role) + "data_dir: \"" + dir + "/data\"\n" + extra);
    EXPECT_TRUE(c->started()) << c->log();
    return c;
  }
  std::unique_ptr<ConnectorProcess> School() {
    return Start("southsea-academy", "dsl-17", "PRACTITIONER_ROLE_DESIGNATED_SAFEGUARDING_LEAD");
  }
  std::unique_ptr<ConnectorProcess> Mash() {
    return Start("portsmouth-mash", "mash-pc-4", "PRACTITIONER_ROLE_MASH_PRACTITIONER");
  }

  // The answer, after checking its status and body against the document
  // (`route` is the path template, e.g. "/api/v1/inbox/{message_id}").
  std::string Checked(const httplib::Result& r, const std::string& method,
                      const std::string& route) {
    EXPECT_TRUE(r) << method << " " << route << ": no answer";
    if (!r) return "";
    const bool problem = r->status >= 400;
    const std::string type = problem ? "application/problem+json" : "application/json";
    EXPECT_EQ(r->get_header_value("Content-Type"), type) << route;
    auto schema = testing::ResponseSchema(doc_, method, route, r->status, type);
    EXPECT_TRUE(schema.ok()) << schema.status() << "\n" << r->body;
    if (schema.ok()) {
      auto st = testing::CheckJsonAgainst(r->body, *schema, doc_);
      EXPECT_TRUE(st.ok()) << method << " " << route << " " << r->status << ": " << st << "\n"
                           << r->body;
    }
    return r->body;
  }

  // The sent message once its connector has stopped retrying it (up to 60 s).
  v1::SentMessage AwaitSent(ConnectorProcess& c, const std::string& message_id) {
    v1::SentMessage sent;
    EXPECT_TRUE(testing::WaitFor(
        [&] {
          auto g = c.http().Get("/api/v1/sent/" + message_id);
          return g && JsonStringToMessage(g->body, &sent).ok() &&
                 sent.send_state() != v1::SEND_STATE_QUEUED;
        },
        60))
        << c.log();
    return sent;
  }

  template <typename M>
  M Get(ConnectorProcess& c, const std::string& route, const std::string& path, int want = 200) {
    auto r = c.http().Get(path.c_str());
    std::string body = Checked(r, "get", route);
    M m;
    if (r && r->status == want && want < 400) {
      EXPECT_TRUE(JsonStringToMessage(body, &m).ok()) << body;
    }
    EXPECT_EQ(r ? r->status : 0, want) << path << "\n" << body;
    return m;
  }

  std::string Csrf(ConnectorProcess& c) {
    return Get<v1::Session>(c, "/api/v1/session", "/api/v1/session").csrf_token();
  }

  // POSTs `body` with the user's CSRF token; the status and the body.
  std::pair<int, std::string> Post(ConnectorProcess& c, const std::string& route,
                                   const std::string& path, const std::string& body) {
    httplib::Headers h = {{"X-CSRF-Token", Csrf(c)}};
    auto r = c.http().Post(path.c_str(), h, body, "application/json");
    std::string out = Checked(r, "post", route);
    return {r ? r->status : 0, out};
  }

  v1::Draft SchoolReferral(const std::string& id,
                           const std::string& example = "school-to-portsmouth-referral.json") {
    v1::Draft d;
    d.set_message_id(id);
    d.set_kind(v1::MESSAGE_KIND_REFERRAL);
    d.set_recipient_agency_id("portsmouth-mash");
    *d.mutable_declaration() = Example(example);
    auto* r = d.mutable_content()->mutable_referral()->mutable_record();
    r->mutable_child()->set_given_names("Noah");
    r->set_concern_details("Persistent absence and visible weight loss this term.");
    r->set_education("Attendance 71% this term.");
    return d;
  }

  // Waits until `c` has opened message `id` into its inbox.
  v1::InboxMessage AwaitInbox(ConnectorProcess& c, const std::string& id) {
    v1::InboxMessage m;
    testing::WaitFor(
        [&] {
          auto r = c.http().Get(("/api/v1/inbox/" + id).c_str());
          return r && r->status == 200 && JsonStringToMessage(r->body, &m).ok();
        },
        30);
    EXPECT_EQ(m.message_id(), id) << c.log();
    return m;
  }

  google::protobuf::Struct doc_;
  std::string isa_dir_;
};

TEST_F(ConnectorE2eTest, AReferralGoesFromTheSchoolToMashAndTheOutcomeComesBack) {
  auto school = School();
  auto mash = Mash();
  ASSERT_TRUE(school->started() && mash->started());

  auto session = Get<v1::Session>(*school, "/api/v1/session", "/api/v1/session");
  EXPECT_EQ(session.agency_id(), "southsea-academy");
  EXPECT_EQ(session.user_id(), "dsl-17");
  EXPECT_EQ(session.role(), v1::PRACTITIONER_ROLE_DESIGNATED_SAFEGUARDING_LEAD);
  auto agencies = Get<v1::AgencyList>(*school, "/api/v1/agencies", "/api/v1/agencies");
  EXPECT_GE(agencies.agencies_size(), 8);

  auto [status, body] =
      Post(*school, "/api/v1/messages", "/api/v1/messages", ToJson(SchoolReferral("ref-school-1")));
  ASSERT_EQ(status, 201) << body;
  v1::SentMessage sent;
  ASSERT_TRUE(JsonStringToMessage(body, &sent).ok());
  EXPECT_EQ(sent.send_state(), v1::SEND_STATE_DECIDED);
  EXPECT_EQ(sent.receipt().state(), v1::MESSAGE_STATE_SUBMITTED);
  EXPECT_EQ(sent.receipt().decision().isa_id(), "portsmouth-schools-mash");
  EXPECT_TRUE(sent.receipt_verified());
  EXPECT_EQ(sent.practitioner_id(), "dsl-17");

  // MASH's connector opens it on arrival; the content is the school's.
  v1::InboxMessage got = AwaitInbox(*mash, "ref-school-1");
  EXPECT_EQ(got.content().referral().record().child().given_names(), "Noah");
  EXPECT_EQ(got.header().sender_agency_id(), "southsea-academy");
  EXPECT_EQ(got.header().sender_practitioner().id(), "dsl-17");
  EXPECT_FALSE(got.has_acknowledged_time());
  EXPECT_TRUE(got.has_purge_time());
  EXPECT_GT(got.acknowledge_deadline().seconds(), got.accepted_time().seconds());
  auto page = Get<v1::InboxPage>(*mash, "/api/v1/inbox", "/api/v1/inbox");
  ASSERT_EQ(page.messages_size(), 1);
  EXPECT_FALSE(page.messages(0).has_content());  // a list shows no content

  auto [ack_status, ack_body] = Post(*mash, "/api/v1/inbox/{message_id}/acknowledge",
                                     "/api/v1/inbox/ref-school-1/acknowledge", "");
  ASSERT_EQ(ack_status, 200) << ack_body;
  v1::InboxMessage acked;
  ASSERT_TRUE(JsonStringToMessage(ack_body, &acked).ok());
  EXPECT_EQ(acked.acknowledged_by(), "mash-pc-4");
  auto state = Get<v1::MessageStatus>(*school, "/api/v1/messages/{message_id}",
                                      "/api/v1/messages/ref-school-1");
  EXPECT_EQ(state.status().state(), v1::MESSAGE_STATE_ACKNOWLEDGED);

  // MASH answers with an outcome; the school's connector receives it.
  v1::Draft outcome;
  outcome.set_message_id("out-school-1");
  outcome.set_kind(v1::MESSAGE_KIND_OUTCOME);
  outcome.set_recipient_agency_id("southsea-academy");
  outcome.set_in_reply_to("ref-school-1");
  *outcome.mutable_declaration() = Example("school-to-portsmouth-referral.json");
  outcome.mutable_declaration()->set_purpose(v1::PURPOSE_OUTCOME_FEEDBACK);
  outcome.mutable_declaration()->clear_data_categories();
  outcome.mutable_declaration()->add_data_categories(v1::DATA_CATEGORY_IDENTITY);
  outcome.mutable_declaration()->clear_special_category_condition();
  outcome.mutable_declaration()->set_outcome_decision(v1::OUTCOME_DECISION_EARLY_HELP);
  outcome.mutable_content()->mutable_outcome();
  auto [out_status, out_body] =
      Post(*mash, "/api/v1/messages", "/api/v1/messages", ToJson(outcome));
  ASSERT_EQ(out_status, 201) << out_body;
  v1::InboxMessage at_school = AwaitInbox(*school, "out-school-1");
  EXPECT_EQ(at_school.header().in_reply_to(), "ref-school-1");
  EXPECT_EQ(at_school.header().declaration().outcome_decision(), v1::OUTCOME_DECISION_EARLY_HELP);
  auto thread = Get<v1::MessageThread>(*school, "/api/v1/messages/{message_id}/thread",
                                       "/api/v1/messages/ref-school-1/thread");
  ASSERT_EQ(thread.messages_size(), 2);
  EXPECT_EQ(thread.messages(1).message_id(), "out-school-1");
  auto referral = Get<v1::MessageStatus>(*school, "/api/v1/messages/{message_id}",
                                         "/api/v1/messages/ref-school-1");
  EXPECT_EQ(referral.status().state(), v1::MESSAGE_STATE_OUTCOME_RECEIVED);
  // The school's own record follows the gateway's state.
  v1::SentMessage followed;
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        auto g = school->http().Get("/api/v1/sent/ref-school-1");
        return g && JsonStringToMessage(g->body, &followed).ok() &&
               followed.state() == v1::MESSAGE_STATE_OUTCOME_RECEIVED;
      },
      30))
      << followed.DebugString();
  auto sent_page = Get<v1::SentPage>(*mash, "/api/v1/sent", "/api/v1/sent");
  ASSERT_EQ(sent_page.messages_size(), 1);
  EXPECT_EQ(sent_page.messages(0).message_id(), "out-school-1");
  auto one = Get<v1::SentMessage>(*mash, "/api/v1/sent/{message_id}", "/api/v1/sent/out-school-1");
  EXPECT_EQ(one.receipt().state(), v1::MESSAGE_STATE_SUBMITTED);
  Get<v1::EscalationPage>(*mash, "/api/v1/escalations", "/api/v1/escalations");
}

// Across the Southampton-Hampshire border: a request answered through the API,
// and another declined with its reasons.
TEST_F(ConnectorE2eTest, ARequestIsAnsweredAndAnotherDeclinedThroughTheApi) {
  auto southampton = Start("southampton-mash", "soton-sw-0311", "PRACTITIONER_ROLE_SOCIAL_WORKER");
  auto hampshire = Start("hampshire-crt", "crt-sw-2231", "PRACTITIONER_ROLE_SOCIAL_WORKER");
  ASSERT_TRUE(southampton->started() && hampshire->started());
  auto read = [](const std::string& name, google::protobuf::Message* m) {
    std::ifstream in(testing::SourceDir() + "/deploy/examples/" + name);
    std::string json((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_TRUE(JsonStringToMessage(json, m).ok()) << name;
  };
  auto request = [&](const std::string& id) {
    v1::Draft d;
    d.set_message_id(id);
    d.set_kind(v1::MESSAGE_KIND_INFORMATION_REQUEST);
    d.set_recipient_agency_id("hampshire-crt");
    *d.mutable_declaration() = Example("southampton-request-to-hampshire.json");
    d.mutable_declaration()->clear_requested_categories();
    for (auto c : {v1::DATA_CATEGORY_EDUCATION, v1::DATA_CATEGORY_SOCIAL_CARE_HISTORY,
                   v1::DATA_CATEGORY_HEALTH}) {
      d.mutable_declaration()->add_requested_categories(c);
    }
    read("southampton-request-to-hampshire.payload.json",
         d.mutable_content()->mutable_information_request());
    return d;
  };
  for (const char* id : {"req-c1", "req-c2"}) {
    auto [status, body] =
        Post(*southampton, "/api/v1/messages", "/api/v1/messages", ToJson(request(id)));
    ASSERT_EQ(status, 201) << body;
    AwaitInbox(*hampshire, id);
  }

  v1::Draft response;
  response.set_message_id("resp-c1");
  response.set_kind(v1::MESSAGE_KIND_INFORMATION_RESPONSE);
  response.set_recipient_agency_id("southampton-mash");
  response.set_in_reply_to("req-c1");
  *response.mutable_declaration() = Example("hampshire-response-to-southampton.json");
  read("hampshire-response-to-southampton.payload.json",
       response.mutable_content()->mutable_information_response());
  // The connector weighs a response against what was asked, as the gateway does.
  auto [check_status, check_body] =
      Post(*hampshire, "/api/v1/checks", "/api/v1/checks", ToJson(response));
  ASSERT_EQ(check_status, 200);
  EXPECT_TRUE(absl::StrContains(check_body, "DECISION_ALLOW")) << check_body;
  auto [resp_status, resp_body] =
      Post(*hampshire, "/api/v1/messages", "/api/v1/messages", ToJson(response));
  ASSERT_EQ(resp_status, 201) << resp_body;

  v1::Draft decline = response;
  decline.set_message_id("decl-c1");
  decline.set_kind(v1::MESSAGE_KIND_DECLINE_TO_SHARE);
  decline.set_in_reply_to("req-c2");
  decline.mutable_declaration()->clear_data_categories();
  decline.mutable_declaration()->add_data_categories(v1::DATA_CATEGORY_CONCERN_DETAILS);
  decline.mutable_declaration()->add_decline_reasons(v1::DECLINE_REASON_NO_INFORMATION_HELD);
  decline.mutable_declaration()->add_decline_reasons(v1::DECLINE_REASON_NOT_NECESSARY);
  decline.mutable_content()->mutable_decline()->set_explanation("We hold nothing more on Jayden.");
  auto [decl_status, decl_body] =
      Post(*hampshire, "/api/v1/messages", "/api/v1/messages", ToJson(decline));
  ASSERT_EQ(decl_status, 201) << decl_body;

  v1::InboxMessage answered = AwaitInbox(*southampton, "resp-c1");
  EXPECT_TRUE(absl::StrContains(answered.content().information_response().record().education(),
                                "Hampshire primary school"));
  v1::InboxMessage declined = AwaitInbox(*southampton, "decl-c1");
  EXPECT_EQ(declined.header().declaration().decline_reasons_size(), 2);
  EXPECT_EQ(declined.content().decline().explanation(), "We hold nothing more on Jayden.");
  auto thread = Get<v1::MessageThread>(*southampton, "/api/v1/messages/{message_id}/thread",
                                       "/api/v1/messages/req-c1/thread");
  ASSERT_EQ(thread.messages_size(), 2);
  EXPECT_EQ(thread.messages(1).message_id(), "resp-c1");
}

TEST_F(ConnectorE2eTest, TheCheckGivesTheGatewaysAnswerAndARefusalSendsNothing) {
  auto school = School();
  ASSERT_TRUE(school->started());
  v1::Draft overshare = SchoolReferral("", "school-overshare-referral.json");
  auto [status, body] = Post(*school, "/api/v1/checks", "/api/v1/checks", ToJson(overshare));
  ASSERT_EQ(status, 200) << body;
  v1::DraftCheck check;
  ASSERT_TRUE(JsonStringToMessage(body, &check).ok());
  EXPECT_EQ(check.decision().decision(), v1::DECISION_DENY);
  EXPECT_TRUE(check.problems().empty()) << body;

  // Fixed: the categories the agreement allows.
  v1::Draft fixed = SchoolReferral("");
  auto [fixed_status, fixed_body] =
      Post(*school, "/api/v1/checks", "/api/v1/checks", ToJson(fixed));
  ASSERT_EQ(fixed_status, 200);
  v1::DraftCheck ok;
  ASSERT_TRUE(JsonStringToMessage(fixed_body, &ok).ok());
  EXPECT_EQ(ok.decision().decision(), v1::DECISION_ALLOW) << fixed_body;

  // Sent anyway: the gateway refuses with the same findings, nothing reaches MASH.
  overshare.set_message_id("over-1");
  auto [sent_status, sent_body] =
      Post(*school, "/api/v1/messages", "/api/v1/messages", ToJson(overshare));
  ASSERT_EQ(sent_status, 422) << sent_body;
  EXPECT_TRUE(absl::StrContains(sent_body, "DECISION_DENY")) << sent_body;
  auto refused = Get<v1::SentMessage>(*school, "/api/v1/sent/{message_id}", "/api/v1/sent/over-1");
  EXPECT_EQ(refused.receipt().state(), v1::MESSAGE_STATE_REFUSED);
  ASSERT_EQ(refused.receipt().decision().findings_size(), check.decision().findings_size());
  for (int i = 0; i < check.decision().findings_size(); ++i) {
    EXPECT_EQ(refused.receipt().decision().findings(i).outcome(),
              check.decision().findings(i).outcome())
        << refused.receipt().decision().findings(i).check();
  }
  ExpectMailboxEmpty("portsmouth-mash");

  // A draft the gateway would not even weigh is bad input, and nothing is stored.
  v1::Draft self = SchoolReferral("self-1");
  self.set_recipient_agency_id("southsea-academy");
  auto [self_status, self_body] =
      Post(*school, "/api/v1/messages", "/api/v1/messages", ToJson(self));
  EXPECT_EQ(self_status, 400) << self_body;
  Get<v1::SentMessage>(*school, "/api/v1/sent/{message_id}", "/api/v1/sent/self-1", 404);
}

TEST_F(ConnectorE2eTest, AShareNeedingAdviceIsHeld) {
  auto school = School();
  ASSERT_TRUE(school->started());
  auto [status, body] =
      Post(*school, "/api/v1/messages", "/api/v1/messages",
           ToJson(SchoolReferral("held-1", "school-advice-requested-referral.json")));
  ASSERT_EQ(status, 201) << body;
  v1::SentMessage sent;
  ASSERT_TRUE(JsonStringToMessage(body, &sent).ok());
  EXPECT_EQ(sent.receipt().state(), v1::MESSAGE_STATE_HELD);
  EXPECT_EQ(sent.receipt().decision().decision(), v1::DECISION_HOLD_FOR_ADVICE);
}

TEST_F(ConnectorE2eTest, ASendWhileTheGatewayIsDownIsQueuedAndGoesOnceItIsBack) {
  auto school = School();
  auto mash = Mash();
  ASSERT_TRUE(school->started() && mash->started());
  const std::string csrf = Csrf(*school);
  gateway_->Stop();
  auto r = school->http().Post("/api/v1/messages", {{"X-CSRF-Token", csrf}},
                               ToJson(SchoolReferral("queued-1")), "application/json");
  std::string body = Checked(r, "post", "/api/v1/messages");
  ASSERT_EQ(r->status, 202) << body;
  v1::SentMessage queued;
  ASSERT_TRUE(JsonStringToMessage(body, &queued).ok());
  EXPECT_EQ(queued.send_state(), v1::SEND_STATE_QUEUED);
  EXPECT_FALSE(queued.error().empty());

  ASSERT_TRUE(gateway_->Start());
  v1::SentMessage decided = AwaitSent(*school, "queued-1");
  EXPECT_EQ(decided.send_state(), v1::SEND_STATE_DECIDED) << decided.error();
  EXPECT_EQ(decided.receipt().state(), v1::MESSAGE_STATE_SUBMITTED);
  EXPECT_GE(decided.attempts(), 2u);
  AwaitInbox(*mash, "queued-1");
}

// Bytes sealed and then kept in the queue past the gateway's created-time
// window are sealed again under the same id, once GetReceipt says the first
// attempt was not accepted; a practitioner's referral is not lost to an outage.
// A refusal that would come back the same at every retry fails at once, with
// the reason a case-management system branches on, instead of waiting forever.
TEST_F(ConnectorE2eTest, AMessageTooLargeFailsAtOnceWithItsReason) {
  gateway_->Stop();
  StartGateway({"--max_message_bytes=16384"});
  auto school = School();
  ASSERT_TRUE(school->started());
  v1::Draft big = SchoolReferral("too-large-1");
  big.mutable_content()->mutable_referral()->mutable_record()->set_concern_details(
      std::string(20000, 'c'));
  auto r = school->http().Post("/api/v1/messages", {{"X-CSRF-Token", Csrf(*school)}}, ToJson(big),
                               "application/json");
  std::string body = Checked(r, "post", "/api/v1/messages");
  EXPECT_GE(r->status, 400) << body;
  v1::SentMessage sent =
      Get<v1::SentMessage>(*school, "/api/v1/sent/{message_id}", "/api/v1/sent/too-large-1");
  EXPECT_EQ(sent.send_state(), v1::SEND_STATE_FAILED) << sent.error();
  EXPECT_EQ(sent.error_reason(), "MESSAGE_TOO_LARGE");
  EXPECT_EQ(sent.attempts(), 1u) << "not retried";
}

TEST_F(ConnectorE2eTest, BytesThatAgeInTheQueueAreSealedAgainUnderTheSameId) {
  const std::string config = data_.path() + "/gateway-limits.textproto";
  auto limits = [&](const std::string& text) {
    std::ofstream(config) << "limits { max_created_age_seconds: 2 " << text << " }\n";
  };
  limits("");
  gateway_->Stop();
  StartGateway({"--config=" + config});
  auto school = School();
  ASSERT_TRUE(school->started());
  const std::string csrf = Csrf(*school);
  // MASH's mailbox is full: the Submit is refused as busy (retryable), after
  // the connector has sealed and stored the bytes.
  limits("mailbox_quota_bytes: 1");
  gateway_->Stop();
  ASSERT_TRUE(gateway_->Start());
  auto r = school->http().Post("/api/v1/messages", {{"X-CSRF-Token", csrf}},
                               ToJson(SchoolReferral("aged-1")), "application/json");
  std::string body = Checked(r, "post", "/api/v1/messages");
  ASSERT_EQ(r->status, 202) << body;
  // The case-management system sees why it waits, as a reason it can branch on.
  v1::SentMessage waiting;
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        waiting = Get<v1::SentMessage>(*school, "/api/v1/sent/{message_id}", "/api/v1/sent/aged-1");
        return !waiting.error().empty();
      },
      10));
  EXPECT_EQ(waiting.send_state(), v1::SEND_STATE_QUEUED);
  EXPECT_EQ(waiting.error_reason(), "MAILBOX_FULL") << waiting.error();
  // Long enough for the sealed bytes to age past the window at a retry.
  absl::SleepFor(absl::Seconds(4));
  limits("");
  gateway_->Stop();
  ASSERT_TRUE(gateway_->Start());
  v1::SentMessage decided = AwaitSent(*school, "aged-1");
  EXPECT_EQ(decided.send_state(), v1::SEND_STATE_DECIDED) << decided.error();
  EXPECT_EQ(decided.receipt().state(), v1::MESSAGE_STATE_SUBMITTED);
  EXPECT_TRUE(decided.error_reason().empty()) << "cleared once decided";
  // The gateway saw the stale bytes and said so before the fresh ones went in.
  bool refused_as_old = false;
  for (const auto& rec : Audit()) {
    refused_as_old = refused_as_old || (rec.message_id() == "aged-1" &&
                                        rec.event() == v1::AUDIT_EVENT_TYPE_SUBMIT_REFUSED &&
                                        absl::StrContains(rec.reason(), "created_time"));
  }
  EXPECT_TRUE(refused_as_old);
  auto mash = Mash();
  AwaitInbox(*mash, "aged-1");
}

TEST_F(ConnectorE2eTest, NewMailArrivesAsAnEventWithoutPolling) {
  auto school = School();
  auto mash = Mash();
  ASSERT_TRUE(school->started() && mash->started());
  std::atomic<bool> seen{false};
  std::string stream;
  std::thread listener([&] {
    httplib::Client c("127.0.0.1", mash->port());
    c.set_read_timeout(60, 0);
    c.Get("/api/v1/events", [&](const char* data, size_t n) {
      stream.append(data, n);
      if (absl::StrContains(stream, "event: message\ndata: sse-1\n")) seen = true;
      return !seen.load();
    });
  });
  // The stream is open once the connector has sent its first bytes or a
  // moment has passed; events before it opened are not replayed.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto [status, body] =
      Post(*school, "/api/v1/messages", "/api/v1/messages", ToJson(SchoolReferral("sse-1")));
  ASSERT_EQ(status, 201) << body;
  EXPECT_TRUE(testing::WaitFor([&] { return seen.load(); }, 30)) << stream;
  listener.join();
}

TEST_F(ConnectorE2eTest, EventStreamsAreLimitedSoPagesAlwaysHaveThreads) {
  auto mash = Mash();
  ASSERT_TRUE(mash->started());
  std::atomic<int> open{0};
  std::vector<std::unique_ptr<httplib::Client>> clients;
  std::vector<std::thread> streams;
  for (int i = 0; i < 8; ++i) {
    clients.push_back(std::make_unique<httplib::Client>("127.0.0.1", mash->port()));
    clients.back()->set_read_timeout(60, 0);
  }
  for (auto& c : clients) {
    streams.emplace_back([&open, client = c.get()] {
      client->Get(
          "/api/v1/events",
          [&](const httplib::Response& r) {
            if (r.status == 200) ++open;
            return true;
          },
          [](const char*, size_t) { return true; });
    });
  }
  ASSERT_TRUE(testing::WaitFor([&] { return open.load() == 8; }, 30));
  auto ninth = mash->http().Get("/api/v1/events");
  ASSERT_TRUE(ninth);
  EXPECT_EQ(ninth->status, 503);
  Checked(ninth, "get", "/api/v1/events");
  // Pages and API calls still have threads.
  Get<v1::InboxPage>(*mash, "/api/v1/inbox", "/api/v1/inbox");
  for (auto& c : clients) c->stop();
  for (auto& t : streams) t.join();
}

TEST_F(ConnectorE2eTest, RefusedRequestsAndOtherAgenciesMail) {
  auto school = School();
  ASSERT_TRUE(school->started());
  auto& http = school->http();

  // No CSRF token, or another's.
  auto none = http.Post("/api/v1/messages", ToJson(SchoolReferral("x-1")), "application/json");
  EXPECT_EQ(none->status, 403);
  Checked(none, "post", "/api/v1/messages");
  auto forged = http.Post("/api/v1/messages", {{"X-CSRF-Token", "AAAA"}},
                          ToJson(SchoolReferral("x-1")), "application/json");
  EXPECT_EQ(forged->status, 403);
  Get<v1::SentMessage>(*school, "/api/v1/sent/{message_id}", "/api/v1/sent/x-1", 404);

  // Identity headers from an address that is not the proxy change nothing.
  auto who = http.Get("/api/v1/session",
                      {{"X-Forwarded-User", "intruder"}, {"X-Forwarded-Role", "team_manager"}});
  v1::Session s;
  ASSERT_TRUE(JsonStringToMessage(Checked(who, "get", "/api/v1/session"), &s).ok());
  EXPECT_EQ(s.user_id(), "dsl-17");

  // Bad bodies.
  const std::string csrf = Csrf(*school);
  auto not_json = http.Post("/api/v1/checks", {{"X-CSRF-Token", csrf}}, "{", "application/json");
  EXPECT_EQ(not_json->status, 400);
  Checked(not_json, "post", "/api/v1/checks");
  auto unknown = http.Post("/api/v1/checks", {{"X-CSRF-Token", csrf}},
                           R"({"kind": "MESSAGE_KIND_REFERRAL", "sender_agency_id": "x"})",
                           "application/json");
  EXPECT_EQ(unknown->status, 400) << unknown->body;  // the sender is never the body's to say
  auto form = http.Post("/api/v1/checks", {{"X-CSRF-Token", csrf}}, "kind=1",
                        "application/x-www-form-urlencoded");
  EXPECT_EQ(form->status, 400);

  // A reused id is a conflict, and the first message stands.
  ASSERT_EQ(
      Post(*school, "/api/v1/messages", "/api/v1/messages", ToJson(SchoolReferral("dup-1"))).first,
      201);
  EXPECT_EQ(Post(*school, "/api/v1/messages", "/api/v1/messages",
                 ToJson(SchoolReferral("dup-1", "school-advice-requested-referral.json")))
                .first,
            409);

  // Mail between two other agencies: not in this inbox, and the gateway
  // confirms nothing about it.
  auto police = Agent("hiow-police");
  ASSERT_TRUE(police->Send(Message("hiow-police", "portsmouth-mash", "police-1")).ok());
  Get<v1::InboxMessage>(*school, "/api/v1/inbox/{message_id}", "/api/v1/inbox/police-1", 404);
  auto status = http.Get("/api/v1/messages/police-1");
  Checked(status, "get", "/api/v1/messages/{message_id}");
  EXPECT_TRUE(status->status == 403 || status->status == 404) << status->body;
  EXPECT_FALSE(absl::StrContains(status->body, "portsmouth-mash")) << status->body;
  Get<v1::InboxPage>(*school, "/api/v1/inbox", "/api/v1/inbox?page_token=x", 400);
}

// Every documented route answers 401 when nobody is signed in (a shared
// connector whose proxy is elsewhere), and the routes that need the gateway
// answer 503 while it is down; each answer as the document describes it.
TEST_F(ConnectorE2eTest, EveryRouteRefusesNobodyAndSaysWhenTheGatewayIsAway) {
  const std::string dir = data_.path() + "/connector-shared";
  ConnectorProcess shared(
      dir, AgencyDir("portsmouth-mash"),
      absl::StrCat("gateway: \"", gateway_->target(), "\"\nlisten: \"127.0.0.1:0\"\n",
                   "federation_file: \"", federation_, "/federation.textproto\"\n", "isa_dir: \"",
                   isa_dir_, "\"\ndata_dir: \"", dir, "/data\"\n",
                   "proxy { addresses: \"10.9.9.9\" }\n"));
  ASSERT_TRUE(shared.started()) << shared.log();
  int routes = 0;
  for (const auto& [path, item] : doc_.fields().at("paths").struct_value().fields()) {
    std::string concrete = path;
    const size_t brace = concrete.find("{message_id}");
    if (brace != std::string::npos) concrete.replace(brace, 12, "m-1");
    for (const auto& [method, op] : item.struct_value().fields()) {
      auto r = method == "get" ? shared.http().Get(concrete.c_str(), {{"X-Forwarded-User", "x"}})
                               : shared.http().Post(concrete.c_str(), "{}", "application/json");
      ASSERT_TRUE(r) << method << " " << path;
      EXPECT_EQ(r->status, 401) << method << " " << path << "\n" << r->body;
      Checked(r, method, path);
      ++routes;
    }
  }
  EXPECT_EQ(routes, 14);

  auto mash = Mash();
  ASSERT_TRUE(mash->started());
  gateway_->Stop();
  for (const auto& [route, path] : std::vector<std::pair<std::string, std::string>>{
           {"/api/v1/agencies", "/api/v1/agencies"},
           {"/api/v1/messages/{message_id}", "/api/v1/messages/m-1"},
           {"/api/v1/messages/{message_id}/thread", "/api/v1/messages/m-1/thread"}}) {
    auto r = mash->http().Get(path.c_str());
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 503) << path << "\n" << r->body;
    Checked(r, "get", route);
  }
  v1::DecisionNotToShare d;
  d.set_considered_agency_id("southsea-academy");
  d.mutable_declaration()->set_purpose(v1::PURPOSE_EARLY_HELP);
  d.mutable_declaration()->add_data_categories(v1::DATA_CATEGORY_EDUCATION);
  d.mutable_declaration()->add_decline_reasons(v1::DECLINE_REASON_NOT_NECESSARY);
  d.set_rationale("The school already holds the same information.");
  EXPECT_EQ(
      Post(*mash, "/api/v1/decisions-not-to-share", "/api/v1/decisions-not-to-share", ToJson(d))
          .first,
      503);
  // SIGTERM stops it while its subscription waits for the absent gateway
  // (it once waited for ever, and so did this test).
  mash.reset();
}

// Golden rule 7 through the API: a decision not to share is recorded at the
// gateway (its proof verified by the connector), nothing is sent, and the
// subject reference is derived from the child's NHS number when none is given.
TEST_F(ConnectorE2eTest, ADecisionNotToShareIsRecordedThroughTheApi) {
  auto school = School();
  ASSERT_TRUE(school->started());
  v1::DecisionNotToShare d;
  d.set_considered_agency_id("portsmouth-mash");
  d.mutable_declaration()->set_purpose(v1::PURPOSE_EARLY_HELP);
  d.mutable_declaration()->add_data_categories(v1::DATA_CATEGORY_EDUCATION);
  d.mutable_declaration()->add_decline_reasons(v1::DECLINE_REASON_NOT_NECESSARY);
  d.set_rationale("Attendance has recovered; the early help plan is closing.");
  auto [status, body] =
      Post(*school, "/api/v1/decisions-not-to-share", "/api/v1/decisions-not-to-share", ToJson(d));
  ASSERT_EQ(status, 201) << body;
  v1::RecordedDecision recorded;
  ASSERT_TRUE(JsonStringToMessage(body, &recorded).ok()) << body;
  EXPECT_FALSE(recorded.decision_id().empty());
  EXPECT_TRUE(recorded.receipt_verified());
  d.set_rationale("no");
  EXPECT_EQ(
      Post(*school, "/api/v1/decisions-not-to-share", "/api/v1/decisions-not-to-share", ToJson(d))
          .first,
      400);
  int found = 0;
  for (const auto& r : Audit()) {
    if (r.event() == v1::AUDIT_EVENT_TYPE_DECIDED_NOT_TO_SHARE) {
      ++found;
      EXPECT_EQ(r.message_id(), recorded.decision_id());
      EXPECT_EQ(r.sender_practitioner().id(), "dsl-17");  // the signed-in user
    }
  }
  EXPECT_EQ(found, 1);
  ExpectMailboxEmpty("portsmouth-mash");

  // A referral with the child's NHS number and no subject reference: the
  // connector derives it under the federation's subject key.
  v1::Draft draft = SchoolReferral("ref-with-nhs");
  draft.mutable_declaration()->clear_subject_reference();
  draft.mutable_content()->mutable_referral()->mutable_record()->mutable_child()->set_nhs_number(
      "943 476 5919");
  auto [sent, sent_body] = Post(*school, "/api/v1/messages", "/api/v1/messages", ToJson(draft));
  ASSERT_EQ(sent, 201) << sent_body;
  std::ifstream key_in(AgencyDir("southsea-academy") + "/subject.key");
  std::string key_hex;
  key_in >> key_hex;
  auto expected = envelope::SubjectReferenceFor("9434765919", absl::HexStringToBytes(key_hex));
  ASSERT_TRUE(expected.ok()) << expected.status();
  v1::AuditQuery q;
  q.set_subject_reference(*expected);
  auto found_by_subject = Query(*Officer("hampshire-crt.dpo"), q);
  ASSERT_EQ(found_by_subject.size(), 1u);
  EXPECT_EQ(found_by_subject[0].message_id(), "ref-with-nhs");
}

}  // namespace
}  // namespace safeshare

namespace safeshare {
namespace {

// The practitioners' pages, as people use them: tests/web/connector_journey.py
// drives both connectors in headless Chromium and runs axe-core on every page.
// Screenshots are kept in <build>/tests/web-screenshots/connector/.
TEST_F(ConnectorE2eTest, PractitionersReferAcknowledgeAndAnswerInTheirBrowsers) {
  auto school = School();
  auto mash = Mash();
  ASSERT_TRUE(school->started() && mash->started());
  // The police notify the school under Operation Encompass (through their
  // own systems, not a connector): the lead opens it in the journey.
  ASSERT_TRUE(Agent("hiow-police")
                  ->Send(ExampleMessage(v1::MESSAGE_KIND_OPERATION_ENCOMPASS, "hiow-police",
                                        "southsea-academy", "police-operation-encompass-to-school",
                                        "encompass-1", v1::PRACTITIONER_ROLE_POLICE_OFFICER))
                  .ok());
  const std::string out = std::filesystem::absolute("web-screenshots/connector").string();
  std::filesystem::remove_all(out);
  testing::CommandResult r = testing::RunCommand(
      {"/usr/bin/python3", testing::SourceDir() + "/tests/web/connector_journey.py", "--school",
       absl::StrCat("http://127.0.0.1:", school->port()), "--mash",
       absl::StrCat("http://127.0.0.1:", mash->port()), "--out", out, "--axe",
       testing::SourceDir() + "/agents/web/node_modules/axe-core/axe.min.js", "--encompass",
       "encompass-1"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err << "\nschool:\n"
                            << school->log() << "\nmash:\n"
                            << mash->log();
  EXPECT_TRUE(absl::StrContains(r.out, "journey passed")) << r.out;
}

}  // namespace
}  // namespace safeshare
