// End-to-end over real mutual TLS on loopback, a real safeshare-gateway
// process driven by the real agent code. The safeshare CLI against a real gateway: send, inbox,
// ack, status --watch, and its exit codes.

#include "absl/strings/str_cat.h"
#include "tests/e2e/gateway_fixture.h"

namespace safeshare {
namespace {

uintmax_t fs_size(const std::string& path) {
  std::error_code ec;
  const uintmax_t n = std::filesystem::file_size(path, ec);
  return ec ? 0 : n;
}

TEST_F(GatewayE2eTest, CliSendsReceivesAcknowledgesAndTracks) {
  const std::string cli = testing::CliBinary();
  const std::string gw = "--gateway=" + gateway_->target();
  const std::string examples = testing::SourceDir() + "/deploy/examples/";
  CommandResult sent = RunCommand(
      {cli, "send", gw, "--identity=" + AgencyDir("southsea-academy"), "--to=portsmouth-mash",
       "--declaration=" + examples + "school-to-portsmouth-referral.json",
       "--payload=" + examples + "school-to-portsmouth-referral.payload.json",
       "--practitioner=dsl-01", "--role=designated_safeguarding_lead", "--message_id=cli-0001",
       "--json"});
  ASSERT_EQ(sent.exit_code, 0) << sent.err;
  EXPECT_NE(sent.out.find("MESSAGE_STATE_SUBMITTED"), std::string::npos) << sent.out;

  const std::string inbox_dir = data_.path() + "/inbox";
  CommandResult inbox = RunCommand(
      {cli, "inbox", gw, "--identity=" + AgencyDir("portsmouth-mash"), "--out=" + inbox_dir});
  ASSERT_EQ(inbox.exit_code, 0) << inbox.err;
  EXPECT_TRUE(std::filesystem::exists(inbox_dir + "/cli-0001.envelope.json"));
  EXPECT_NE(inbox.out.find("signature verified"), std::string::npos) << inbox.out;
  std::ifstream payload(inbox_dir + "/cli-0001.content.json");
  std::string content((std::istreambuf_iterator<char>(payload)), std::istreambuf_iterator<char>());
  EXPECT_NE(content.find("Attendance 71%"), std::string::npos);

  // The sender follows the message until it settles.
  testing::ChildProcess watch;
  const std::string watch_log = data_.path() + "/watch.log";
  ASSERT_TRUE(watch.Start(
      {cli, "status", "cli-0001", "--watch", gw, "--identity=" + AgencyDir("southsea-academy")},
      watch_log));
  ASSERT_TRUE(testing::WaitFor([&] { return fs_size(watch_log) > 0; }, 20));
  CommandResult ack =
      RunCommand({cli, "ack", "cli-0001", gw, "--identity=" + AgencyDir("portsmouth-mash")});
  ASSERT_EQ(ack.exit_code, 0) << ack.err;
  std::optional<int> watched;
  ASSERT_TRUE(testing::WaitFor([&] { return (watched = watch.Poll()).has_value(); }, 20))
      << "status --watch stops once the message is acknowledged";
  EXPECT_EQ(*watched, 0);
  std::ifstream watch_in(watch_log);
  std::string watched_text((std::istreambuf_iterator<char>(watch_in)),
                           std::istreambuf_iterator<char>());
  EXPECT_NE(watched_text.find("now DELIVERED"), std::string::npos) << watched_text;
  EXPECT_NE(watched_text.find("now ACKNOWLEDGED"), std::string::npos) << watched_text;
  CommandResult status =
      RunCommand({cli, "status", "cli-0001", gw, "--identity=" + AgencyDir("southsea-academy")});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("now ACKNOWLEDGED"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("DELIVERED"), std::string::npos) << status.out;

  // Refusals come back as a non-zero exit and the gateway's reason.
  CommandResult denied =
      RunCommand({cli, "ack", "cli-0001", gw, "--identity=" + AgencyDir("southampton-mash")});
  EXPECT_EQ(denied.exit_code, 1);
  EXPECT_NE(denied.err.find("PERMISSION_DENIED"), std::string::npos) << denied.err;
  // A reused message id (sealed again, so other bytes), with the reason a
  // script can act on.
  CommandResult reused = RunCommand(
      {cli, "send", gw, "--identity=" + AgencyDir("southsea-academy"), "--to=portsmouth-mash",
       "--declaration=" + examples + "school-to-portsmouth-referral.json",
       "--payload=" + examples + "school-to-portsmouth-referral.payload.json",
       "--practitioner=dsl-01", "--role=designated_safeguarding_lead", "--message_id=cli-0001"});
  EXPECT_EQ(reused.exit_code, 1) << reused.err;
  EXPECT_NE(reused.err.find("ALREADY_EXISTS"), std::string::npos) << reused.err;
  EXPECT_NE(reused.err.find("[MESSAGE_ID_TAKEN]"), std::string::npos) << reused.err;
  EXPECT_NE(reused.err.find("what to do: the message id is taken: send it under a new id"),
            std::string::npos)
      << reused.err;

  CommandResult bad_json = RunCommand(
      {cli, "send", gw, "--identity=" + AgencyDir("southsea-academy"), "--to=portsmouth-mash",
       "--declaration=" + examples + "school-to-portsmouth-referral.payload.json",
       "--payload=" + examples + "school-to-portsmouth-referral.payload.json",
       "--practitioner=dsl-01"});
  EXPECT_EQ(bad_json.exit_code, 2) << bad_json.err;
}

// safeshare audit erase / audit rectify through the real binary: the DPO
// corrects one text and erases another; the CLI's own export of the log then
// verifies offline with every disclosure checked.
TEST_F(GatewayE2eTest, CliErasesAndRectifiesAuditTextAndTheExportVerifies) {
  const std::string cli = testing::CliBinary();
  const std::string gw = "--gateway=" + gateway_->target();
  auto police = Agent("hiow-police");
  auto sent = police->Send(Message("hiow-police", "portsmouth-mash", "cli-text-1"));
  ASSERT_TRUE(sent.ok()) << sent.status();
  const std::string leaf = absl::StrCat(sent->audit_inclusion_proof().leaf_index());
  const std::string dpo = "--identity=" + federation_ + "/officers/hampshire-crt.dpo";
  const std::string lead = "--identity=" + federation_ + "/officers/portsmouth-mash.ig-lead";

  CommandResult refused =
      RunCommand({cli, "audit", "erase", gw, lead, "--leaf=" + leaf,
                  "--field=declaration.necessity_justification", "--reason=sar 12"});
  EXPECT_EQ(refused.exit_code, 1) << refused.err;
  EXPECT_NE(refused.err.find("PERMISSION_DENIED"), std::string::npos) << refused.err;
  CommandResult no_reason = RunCommand({cli, "audit", "erase", gw, dpo, "--leaf=" + leaf,
                                        "--field=declaration.necessity_justification"});
  EXPECT_EQ(no_reason.exit_code, 2) << no_reason.err;

  CommandResult rectified =
      RunCommand({cli, "audit", "rectify", gw, dpo, "--leaf=" + leaf,
                  "--field=declaration.necessity_justification",
                  "--text=Corrected by the DPO: the concern raised on 3 March, case ED-2291",
                  "--reason=typo in the date"});
  ASSERT_EQ(rectified.exit_code, 0) << rectified.err;
  EXPECT_NE(rectified.out.find("rectified: declaration.necessity_justification of record " + leaf),
            std::string::npos)
      << rectified.out;
  CommandResult erased =
      RunCommand({cli, "audit", "erase", gw, dpo, "--leaf=" + leaf,
                  "--field=declaration.consent_rationale", "--reason=named the parent"});
  ASSERT_EQ(erased.exit_code, 0) << erased.err;
  CommandResult again =
      RunCommand({cli, "audit", "erase", gw, dpo, "--leaf=" + leaf,
                  "--field=declaration.consent_rationale", "--reason=named the parent"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("FAILED_PRECONDITION"), std::string::npos) << again.err;

  CommandResult shown = RunCommand({cli, "audit", "query", gw, dpo});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_NE(shown.out.find("case ED-2291"), std::string::npos);
  EXPECT_NE(shown.out.find("erased on "), std::string::npos);
  EXPECT_NE(shown.out.find("AUDIT_EVENT_TYPE_TEXT_ERASED"), std::string::npos);

  const std::string out = data_.path() + "/cli.jsonl";
  CommandResult exported =
      RunCommand({cli, "audit", "export", gw, dpo, "--format=jsonl", "--out=" + out});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  CommandResult verified = RunCommand({cli, "audit", "verify", "--export_file=" + out,
                                       "--federation=" + federation_ + "/federation.textproto"});
  ASSERT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  EXPECT_NE(verified.out.find(" erased"), std::string::npos) << verified.out;
  EXPECT_NE(verified.out.find("1 erased"), std::string::npos) << verified.out;
}

}  // namespace
}  // namespace safeshare
