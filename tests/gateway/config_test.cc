#include "gateway/config.h"

#include <fstream>

#include "gtest/gtest.h"
#include "tests/support/test_support.h"

namespace safeshare::gateway {
namespace {

TEST(ConfigTest, LoadsTextFormatAndFillsDefaults) {
  safeshare::testing::TempDir tmp;
  std::string path = tmp.path() + "/gateway.textproto";
  std::ofstream(path) << R"(
    listen_address: "127.0.0.1:9443"
    tls { ca_cert_file: "ca.pem" cert_file: "cert.pem" key_file: "key.pem" }
    store: "sqlite:///var/lib/safeshare/gateway.db"
    federation_file: "federation.textproto"
    isa_dir: "deploy/isa"
    audit_signing_key_file: "audit.pem"
  )";
  auto config = LoadGatewayConfig(path);
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_TRUE(FinalizeGatewayConfig(*config).ok());
  EXPECT_EQ(config->listen_address(), "127.0.0.1:9443");
  EXPECT_EQ(config->max_message_bytes(), 4u * 1024 * 1024);
  EXPECT_EQ(config->limits().max_declaration_bytes(), 16u * 1024);
  EXPECT_EQ(config->limits().max_streams_per_principal(), 4u);
  EXPECT_EQ(config->limits().mailbox_quota_bytes(), uint64_t{2} << 30);
  EXPECT_EQ(config->rule_pack(), "2026");
  config->set_rule_pack("1999");
  absl::Status st = FinalizeGatewayConfig(*config);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("1999"), std::string::npos);
}

TEST(ConfigTest, LimitsSetInTheFileAreKept) {
  safeshare::v1::LimitsConfig limits;
  limits.set_max_streams_per_principal(9);
  FinalizeLimits(limits);
  EXPECT_EQ(limits.max_streams_per_principal(), 9u);
  EXPECT_EQ(limits.max_streams_total(), 1024u);
}

TEST(ConfigTest, MissingSettingsAreNamed) {
  v1::GatewayConfig config;
  config.mutable_tls()->set_ca_cert_file("ca.pem");
  config.mutable_tls()->set_cert_file("cert.pem");
  config.mutable_tls()->set_key_file("key.pem");
  config.set_federation_file("f");
  config.set_isa_dir("isa");
  config.set_audit_signing_key_file("audit.pem");
  absl::Status st = FinalizeGatewayConfig(config);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("store"), std::string::npos) << st;
}

// Agents hold delivered envelopes to the default created-time window, so a
// gateway may narrow it but not widen it.
TEST(ConfigTest, TheCreatedTimeWindowMayNarrowButNotWiden) {
  v1::GatewayConfig config;
  config.mutable_tls()->set_ca_cert_file("ca.pem");
  config.mutable_tls()->set_cert_file("cert.pem");
  config.mutable_tls()->set_key_file("key.pem");
  config.set_store("sqlite:///tmp/x.db");
  config.set_federation_file("f");
  config.set_isa_dir("isa");
  config.set_audit_signing_key_file("audit.pem");
  v1::GatewayConfig narrow = config;
  narrow.mutable_limits()->set_max_created_age_seconds(3600);
  narrow.mutable_limits()->set_max_created_ahead_seconds(60);
  EXPECT_TRUE(FinalizeGatewayConfig(narrow).ok());
  EXPECT_TRUE(FinalizeGatewayConfig(config).ok()) << "the defaults are the widest";
  EXPECT_EQ(config.limits().max_created_age_seconds(), 86400u);
  for (auto widen : {+[](v1::LimitsConfig& l) { l.set_max_created_age_seconds(86401); },
                     +[](v1::LimitsConfig& l) { l.set_max_created_ahead_seconds(301); }}) {
    v1::GatewayConfig wide = config;
    widen(*wide.mutable_limits());
    absl::Status st = FinalizeGatewayConfig(wide);
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
    EXPECT_NE(st.message().find("max_created_age_seconds"), std::string::npos) << st;
  }
}

TEST(ConfigTest, SyntaxErrorsGiveFileAndLine) {
  safeshare::testing::TempDir tmp;
  std::string path = tmp.path() + "/bad.textproto";
  std::ofstream(path) << "listen_address: \"x\"\nstore: 12 13\n";
  auto config = LoadGatewayConfig(path);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(config.status().message().find("bad.textproto:2:"), std::string::npos)
      << config.status();
}

}  // namespace
}  // namespace safeshare::gateway
