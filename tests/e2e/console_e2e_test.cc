// The IG console (`safeshare console`) end to end: a real gateway over
// mutual TLS, messages sent by the real agent code, and console processes
// for officers of different scopes, read over HTTP as a browser would (and
// in headless Chromium: tests/web/console_journey.py).

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "httplib.h"
#include "tests/e2e/gateway_fixture.h"

namespace safeshare {
namespace {

// A subject reference as agencies make them (an HMAC-SHA256 in hex): one
// per child in these tests.
std::string Child(char c) { return std::string(64, c); }

// One console process and an HTTP client for it.
class ConsoleProcess {
 public:
  ConsoleProcess(const std::string& dir, const std::vector<std::string>& args) : dir_(dir) {
    std::filesystem::create_directories(dir);
    std::vector<std::string> argv = {testing::CliBinary(), "console",     "--listen",
                                     "127.0.0.1:0",        "--port_file", dir + "/port"};
    argv.insert(argv.end(), args.begin(), args.end());
    started_ = proc_.Start(argv, dir + "/console.log") &&
               testing::WaitFor([&] { return std::filesystem::exists(dir + "/port"); }, 30);
    if (started_) {
      std::ifstream(dir + "/port") >> port_;
      http_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
      http_->set_read_timeout(60, 0);
    }
  }
  ~ConsoleProcess() {
    if (proc_.running()) {
      proc_.Signal(SIGTERM);
      proc_.Wait();
    }
  }
  bool started() const { return started_; }
  int port() const { return port_; }
  std::string log() const {
    std::ifstream in(dir_ + "/console.log");
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  // The body of a GET, after checking its status.
  std::string Get(const std::string& path, int want = 200) {
    auto r = http_->Get(path.c_str());
    EXPECT_TRUE(r) << path << ": no answer";
    if (!r) return "";
    EXPECT_EQ(r->status, want) << path << "\n" << r->body.substr(0, 4000);
    return r->body;
  }

 private:
  std::string dir_;
  testing::ChildProcess proc_;
  bool started_ = false;
  int port_ = 0;
  std::unique_ptr<httplib::Client> http_;
};

class ConsoleE2eTest : public GatewayE2eTest {
 protected:
  void SetUp() override {
    GatewayE2eTest::SetUp();
    auto police = Agent("hiow-police");
    auto school = Agent("southsea-academy");
    ASSERT_TRUE(police && school);
    auto send = [&](agents::AgencyAgent& a, agents::OutgoingMessage m, const std::string& subject,
                    bool advice = false) {
      m.declaration.set_subject_reference(subject);
      if (advice) m.declaration.set_advice_status(v1::ADVICE_STATUS_REQUESTED);
      v1::SubmitResponse refused;
      auto r = a.Send(m, &refused);
      EXPECT_TRUE(r.ok() || refused.decision().decision() == v1::DECISION_DENY)
          << m.message_id << ": " << r.status();
    };
    send(*police, Message("hiow-police", "portsmouth-mash", "pol-1"), Child('a'));
    send(*police, Message("hiow-police", "portsmouth-mash", "pol-2"), Child('b'));
    send(*police, Message("hiow-police", "portsmouth-mash", "pol-held"), Child('c'), true);
    send(*police, Message("hiow-police", "portsmouth-mash", "pol-held-2"), Child('d'), true);
    // Flows the police's officer must never see: school to Portsmouth MASH.
    auto from_school = [&](const std::string& id, const std::string& example) {
      auto m = Message("southsea-academy", "portsmouth-mash", id);
      m.practitioner.set_role(v1::PRACTITIONER_ROLE_DESIGNATED_SAFEGUARDING_LEAD);
      std::ifstream in(testing::SourceDir() + "/deploy/examples/" + example);
      std::string json((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      m.declaration.Clear();
      EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &m.declaration).ok());
      return m;
    };
    send(*school, from_school("school-1", "school-to-portsmouth-referral.json"), Child('a'));
    send(*school, from_school("school-refused", "school-overshare-referral.json"), Child('e'));
    // The police decide not to share with Hampshire's front door, and record it.
    v1::RecordDecisionNotToShareRequest not_shared;
    not_shared.set_decision_id("pol-not-shared");
    not_shared.mutable_practitioner()->set_id("pc-4471");
    not_shared.mutable_practitioner()->set_role(v1::PRACTITIONER_ROLE_POLICE_OFFICER);
    not_shared.set_considered_agency_id("hampshire-crt");
    not_shared.mutable_declaration()->set_purpose(v1::PURPOSE_EARLY_HELP);
    not_shared.mutable_declaration()->add_data_categories(v1::DATA_CATEGORY_CONCERN_DETAILS);
    not_shared.mutable_declaration()->add_decline_reasons(
        v1::DECLINE_REASON_MORE_DETRIMENTAL_THAN_DISCLOSING);
    not_shared.set_rationale("Disclosure now would alert the adult under investigation.");
    ASSERT_TRUE(police->client().RecordDecisionNotToShare(not_shared).ok());
    // Portsmouth MASH takes and acknowledges what reached it.
    auto mash = Agent("portsmouth-mash");
    auto inbox = mash->Receive();
    ASSERT_TRUE(inbox.ok()) << inbox.status();
    for (const auto& m : inbox->received) ASSERT_TRUE(mash->client().Ack(m.message_id).ok());
  }

  std::unique_ptr<ConsoleProcess> Console(const std::string& officer) {
    auto c = std::make_unique<ConsoleProcess>(
        data_.path() + "/console-" + officer,
        std::vector<std::string>{"--identity", federation_ + "/officers/" + officer, "--gateway",
                                 gateway_->target(), "--federation",
                                 federation_ + "/federation.textproto"});
    EXPECT_TRUE(c->started()) << c->log();
    return c;
  }

  // The CSRF token of a page's form.
  static std::string CsrfOf(const std::string& html) {
    const std::string marker = "name=\"csrf_token\" value=\"";
    const size_t at = html.find(marker);
    if (at == std::string::npos) return "";
    const size_t start = at + marker.size();
    return html.substr(start, html.find('"', start) - start);
  }

  // The message ids of the search results' cards.
  static std::set<std::string> CardIds(const std::string& html) {
    std::set<std::string> ids;
    const std::string marker = "data-message-id=\"";
    for (size_t at = html.find(marker); at != std::string::npos; at = html.find(marker, at + 1)) {
      const size_t start = at + marker.size();
      ids.insert(html.substr(start, html.find('"', start) - start));
    }
    return ids;
  }
};

TEST_F(ConsoleE2eTest, AnAgencyScopedOfficerNeverSeesAnotherAgencysFlows) {
  auto console = Console("hiow-police.dpo");
  ASSERT_TRUE(console->started());
  const std::vector<std::string> pages = {"/advice",
                                          "/flows",
                                          "/search?search=1",
                                          "/search?search=1&subject=" + Child('a'),
                                          "/report",
                                          "/integrity",
                                          "/flows/areas.csv",
                                          "/flows/agencies.csv",
                                          "/flows/days.csv",
                                          "/flows/rules.csv",
                                          "/flows/timeliness.csv",
                                          "/flows/escalations.csv",
                                          "/export?format=jsonl",
                                          "/export?format=csv"};
  for (const auto& page : pages) {
    const std::string body = console->Get(page);
    for (const std::string& other :
         {std::string("school-1"), std::string("school-refused"), Child('e')}) {
      EXPECT_FALSE(absl::StrContains(body, other)) << page << " shows " << other;
    }
    if (absl::StrContains(page, ".csv") || absl::StrContains(page, "export")) {
      EXPECT_FALSE(absl::StrContains(body, "southsea-academy")) << page;
    }
  }
  EXPECT_TRUE(absl::StrContains(console->Get("/flows/agencies.csv"),
                                "hiow-police,portsmouth-mash,2,0,2,4,0"))
      << console->Get("/flows/agencies.csv");
  EXPECT_EQ(CardIds(console->Get("/search?search=1&subject=" + Child('a'))),
            std::set<std::string>{"pol-1"});
  // The recorded decision not to share is counted with the police's flows.
  EXPECT_TRUE(
      absl::StrContains(console->Get("/flows/agencies.csv"), "hiow-police,hampshire-crt,0,0,0,0,1"))
      << console->Get("/flows/agencies.csv");
  const std::string report = console->Get("/report");
  EXPECT_TRUE(absl::StrContains(report, "more detrimental to the child")) << report;
  EXPECT_TRUE(absl::StrContains(console->Get("/advice"), "pol-held"));
}

TEST_F(ConsoleE2eTest, ASubjectAccessSearchFindsExactlyThatChildsFlowsWithVerifiedProofs) {
  auto console = Console("hampshire-crt.dpo");  // the whole federation
  ASSERT_TRUE(console->started());
  const std::string page = console->Get("/search?search=1&subject=" + Child('a'));
  EXPECT_EQ(CardIds(page), (std::set<std::string>{"pol-1", "school-1"}));
  EXPECT_TRUE(absl::StrContains(page, "data-integrity=\"verified\"")) << page;
  EXPECT_TRUE(absl::StrContains(page, "Verified</strong> record")) << page;
  // Delivery and acknowledgement times come with the record.
  EXPECT_TRUE(absl::StrContains(page, "Acknowledged")) << page;
  EXPECT_EQ(CardIds(console->Get("/search?search=1&subject=nobody")), std::set<std::string>{});
  EXPECT_EQ(CardIds(console->Get("/search?search=1&decision=DECISION_DENY")),
            std::set<std::string>{"school-refused"});
  console->Get("/search?search=1&decision=NOT_A_DECISION", 400);
}

TEST_F(ConsoleE2eTest, AnOfficerDecidesHeldSharesOnlyWithAReasonAndTheToken) {
  auto console = Console("hampshire-crt.dpo");
  ASSERT_TRUE(console->started());
  httplib::Client http("127.0.0.1", console->port());
  const std::string page = console->Get("/advice/pol-held");
  const std::string token = CsrfOf(page);
  ASSERT_FALSE(token.empty());
  // No token: refused before anything is decided.
  auto no_token = http.Post("/advice/pol-held/decide", "action=approve&reason=Necessary",
                            "application/x-www-form-urlencoded");
  ASSERT_TRUE(no_token);
  EXPECT_EQ(no_token->status, 403);
  // No reason: the form again, with the error.
  auto no_reason = http.Post("/advice/pol-held/decide", "action=approve&csrf_token=" + token,
                             "application/x-www-form-urlencoded");
  ASSERT_TRUE(no_reason);
  EXPECT_EQ(no_reason->status, 400);
  EXPECT_TRUE(absl::StrContains(no_reason->body, "Enter the reason")) << no_reason->body;
  auto ok = http.Post("/advice/pol-held/decide",
                      "action=refuse&reason=Not+necessary+for+this+enquiry&csrf_token=" + token,
                      "application/x-www-form-urlencoded");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 303) << ok->body;
  auto status = Agency("hiow-police")->GetStatus("pol-held");
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->state(), v1::MESSAGE_STATE_REFUSED);
  EXPECT_FALSE(absl::StrContains(console->Get("/advice"), "pol-held\""));
}

TEST_F(ConsoleE2eTest, ATamperedLogMakesTheIntegrityBannerFail) {
  auto console = Console("hampshire-crt.dpo");
  ASSERT_TRUE(console->started());
  EXPECT_TRUE(absl::StrContains(console->Get("/integrity"), "data-integrity=\"verified\""));
  // Someone with the gateway's disk rewrites a refusal as a share: the
  // decision record of school-refused replaced by pol-1's.
  ASSERT_EQ(gateway_->Stop(), 0);
  EXPECT_EQ(testing::ExecSqlite(
                gateway_->db_path(),
                "UPDATE audit_log SET record = (SELECT record FROM audit_log WHERE "
                "message_id = 'pol-1' AND event = 1) WHERE message_id = 'school-refused' AND "
                "event = 1;"),
            "");
  ASSERT_TRUE(gateway_->Start());
  const std::string page = console->Get("/integrity");
  EXPECT_TRUE(absl::StrContains(page, "data-integrity=\"failed\"")) << page;
  EXPECT_TRUE(absl::StrContains(page, "The audit log did not verify")) << page;
}

TEST_F(ConsoleE2eTest, AShrunkOrForkedLogFailsAgainstTheCheckpointThisOfficerSaw) {
  auto console = Console("hampshire-crt.dpo");
  ASSERT_TRUE(console->started());
  EXPECT_TRUE(absl::StrContains(console->Get("/advice"), "data-integrity=\"verified\""));
  // A fresh gateway on an empty store: a different history, signed with the
  // same key, now shorter than what the officer saw.
  ASSERT_EQ(gateway_->Stop(), 0);
  std::filesystem::remove(gateway_->db_path());
  ASSERT_TRUE(gateway_->Start());
  const std::string page = console->Get("/advice");
  EXPECT_TRUE(absl::StrContains(page, "data-integrity=\"failed\"")) << page;
  EXPECT_TRUE(absl::StrContains(page, "shrunk") || absl::StrContains(page, "not an extension"))
      << page;
}

// As officers use it: tests/web/console_journey.py in headless Chromium,
// axe-core on every page. Screenshots in <build>/tests/web-screenshots/console/.
TEST_F(ConsoleE2eTest, AnOfficerWorksThroughTheConsoleInABrowser) {
  auto console = Console("hampshire-crt.dpo");
  ASSERT_TRUE(console->started());
  // What the CLI reports, for the journey to compare with the chart.
  const std::string report = data_.path() + "/report.json";
  testing::CommandResult cli = testing::RunCommand(
      {testing::CliBinary(), "audit", "report", "--json", "--identity",
       federation_ + "/officers/hampshire-crt.dpo", "--gateway", gateway_->target()});
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  std::ofstream(report) << cli.out;
  const std::string out = std::filesystem::absolute("web-screenshots/console").string();
  std::filesystem::remove_all(out);
  testing::CommandResult r = testing::RunCommand(
      {"/usr/bin/python3", testing::SourceDir() + "/tests/web/console_journey.py", "--console",
       absl::StrCat("http://127.0.0.1:", console->port()), "--report", report, "--out", out,
       "--axe", testing::SourceDir() + "/agents/web/node_modules/axe-core/axe.min.js"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err << "\nconsole:\n" << console->log();
  EXPECT_TRUE(absl::StrContains(r.out, "journey passed")) << r.out;
  // The approved share reached Portsmouth MASH; the refused one shows the
  // police the refusal.
  auto inbox = Agent("portsmouth-mash")->Receive();
  ASSERT_TRUE(inbox.ok()) << inbox.status();
  ASSERT_EQ(inbox->received.size(), 1u);
  EXPECT_EQ(inbox->received[0].message_id, "pol-held");
  auto refused = Agency("hiow-police")->GetStatus("pol-held-2");
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_EQ(refused->state(), v1::MESSAGE_STATE_REFUSED);
}

}  // namespace
}  // namespace safeshare
