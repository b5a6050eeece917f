// The metrics and health port (docs/operator-guide.md, "Metrics and
// health"): a real gateway under a little load, scraped over HTTP; the
// exposition passes `promtool check metrics`, the probes answer as a load
// balancer needs, and nothing personal is in it.
#include <httplib.h>

#include <fstream>

#include "tests/e2e/gateway_fixture.h"

namespace safeshare {
namespace {

class MetricsE2eTest : public GatewayE2eTest {
 protected:
  void SetUp() override {
    UseOwnFederation();
    metrics_port_ = testing::FreePort();
    StartGateway({"--metrics_listen=" + std::to_string(metrics_port_)});
  }
  httplib::Result Get(const std::string& path) {
    httplib::Client client("127.0.0.1", metrics_port_);
    return client.Get(path.c_str());
  }
  int metrics_port_ = 0;
};

TEST_F(MetricsE2eTest, AScrapeUnderLoadPassesPromtoolAndCountsWhatHappened) {
  auto police = Agent("hiow-police");
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(police->Send(Message("hiow-police", "portsmouth-mash")).ok());
  }
  auto res = Get("/metrics");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  const std::string& text = res->body;
  EXPECT_NE(
      text.find("safeshare_submits_total{outcome=\"accepted\",kind=\"MESSAGE_KIND_REFERRAL\"} 5"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("safeshare_commit_seconds_count "), std::string::npos);
  // Each commit was synced, and the syncs were timed.
  EXPECT_EQ(text.find("safeshare_store_fsync_seconds_count 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("safeshare_store_fsync_seconds_count "), std::string::npos) << text;
  // Nobody has fetched them: five wait in the MASH's mailbox.
  EXPECT_NE(text.find("safeshare_mailbox_waiting{agency=\"portsmouth-mash\"} 5\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("safeshare_mailbox_overdue{agency=\"portsmouth-mash\"} 0\n"),
            std::string::npos);
  EXPECT_NE(text.find("safeshare_audit_log_entries "), std::string::npos);
  EXPECT_NE(text.find("\nsafeshare_store_bytes "), std::string::npos) << text;
  EXPECT_NE(text.find("safeshare_certificate_expiry_timestamp_seconds{certificate=\"gateway\"}"),
            std::string::npos);
  // And the certificate each agency that called presented.
  EXPECT_NE(text.find("safeshare_certificate_expiry_timestamp_seconds{certificate=\"agency:hiow-"
                      "police\"}"),
            std::string::npos)
      << text;
  // Ids and codes only: nothing from the declarations.
  EXPECT_EQ(text.find("subject_reference"), std::string::npos);
  EXPECT_EQ(text.find("pc-4471"), std::string::npos);

  const std::string file = data_.path() + "/scrape.txt";
  std::ofstream(file) << text;
  auto check = testing::RunCommand({"/bin/sh", "-c", "/usr/bin/promtool check metrics < " + file});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
}

TEST_F(MetricsE2eTest, HealthAndReadinessAnswerForProbes) {
  auto health = Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  auto ready = Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200) << ready->body;
  EXPECT_EQ(Get("/nothing-here")->status, 404);
}

TEST_F(MetricsE2eTest, TheAlertingRulesAreValid) {
  auto check = testing::RunCommand({"/usr/bin/promtool", "check", "rules",
                                    testing::SourceDir() + "/deploy/monitoring/alerts.yml"});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
}

}  // namespace
}  // namespace safeshare
