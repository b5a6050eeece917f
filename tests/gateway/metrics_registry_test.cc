#include "gateway/metrics/registry.h"
#include "gtest/gtest.h"

namespace safeshare::gateway {
namespace {

TEST(MetricRegistryTest, RendersCountersHistogramsAndGaugesInTheExpositionFormat) {
  MetricRegistry r;
  auto* submits = r.AddCounter("x_submits_total", "Submits.", {"outcome", "kind"});
  submits->Inc({"accepted", "MESSAGE_KIND_REFERRAL"});
  submits->Inc({"accepted", "MESSAGE_KIND_REFERRAL"}, 2);
  r.AddCounter("x_untouched_total", "Never counted.");
  auto* h = r.AddHistogram("x_seconds", "Latency.", {0.1, 1});
  h->Observe(0.05);
  h->Observe(0.5);
  h->Observe(5);
  r.AddGauge("x_depth", "Depth.", {"agency"}, [] {
    return MetricRegistry::Samples{{{"a\"b\\c\nd"}, 4}, {{"plain"}, 0.25}};
  });
  const std::string text = r.Render();
  EXPECT_NE(text.find("# HELP x_submits_total Submits.\n# TYPE x_submits_total counter\n"),
            std::string::npos);
  EXPECT_NE(text.find("x_submits_total{outcome=\"accepted\",kind=\"MESSAGE_KIND_REFERRAL\"} 3\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("x_untouched_total 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("x_seconds_bucket{le=\"0.1\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("x_seconds_bucket{le=\"1\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("x_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("x_seconds_sum 5.55\n"), std::string::npos) << text;
  EXPECT_NE(text.find("x_seconds_count 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("x_depth{agency=\"a\\\"b\\\\c\\nd\"} 4\n"), std::string::npos) << text;
  EXPECT_NE(text.find("x_depth{agency=\"plain\"} 0.25\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace safeshare::gateway
