// End-to-end over real mutual TLS on loopback, a real safeshare-gateway
// process driven by the real agent code. The Audit service: receipts' proofs, officers' scopes, the
// record of every event, exports and flow reports.

#include "tests/e2e/gateway_fixture.h"

namespace safeshare {
namespace {

// Officers at work: the fixture's Officer() and Query() helpers.
using AuditE2eTest = GatewayE2eTest;

TEST_F(AuditE2eTest, ReceiptsProveTheDecisionIsInTheSignedLog) {
  auto police = Agent("hiow-police");
  auto allowed = police->Send(Message("hiow-police", "portsmouth-mash", "audited-1"));
  ASSERT_TRUE(allowed.ok()) << allowed.status();
  EXPECT_TRUE(agents::VerifyReceipt(*allowed, AuditLog()).ok())
      << agents::VerifyReceipt(*allowed, AuditLog());

  auto m = Message("hiow-police", "portsmouth-mash", "audited-2");
  m.declaration.clear_lawful_basis();
  v1::SubmitResponse denied;
  ASSERT_EQ(police->Send(m, &denied).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(agents::VerifyReceipt(denied, AuditLog()).ok()) << "a refusal is recorded too";
  EXPECT_GT(denied.audit_inclusion_proof().leaf_index(),
            allowed->audit_inclusion_proof().leaf_index());

  // A receipt whose decision was altered no longer matches its record.
  v1::SubmitResponse forged = denied;
  forged.mutable_decision()->set_decision(v1::DECISION_ALLOW);
  EXPECT_EQ(agents::VerifyReceipt(forged, AuditLog()).code(), absl::StatusCode::kDataLoss);
  // Nor one whose message id was changed (a receipt for another message).
  v1::SubmitResponse renamed = *allowed;
  renamed.set_message_id("audited-2");
  auto wrong_id = agents::VerifyReceipt(renamed, AuditLog());
  EXPECT_EQ(wrong_id.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(wrong_id.message().find("not this message's decision"), std::string::npos) << wrong_id;
  // Nor does one checked against another federation's key.
  v1::AuditLogIdentity other = AuditLog();
  other.set_public_key(std::string(32, '\x07'));
  EXPECT_FALSE(agents::VerifyReceipt(*allowed, other).ok());
}

TEST_F(AuditE2eTest, OnlyOfficersReadTheAuditAndEachWithinTheirScope) {
  auto police = Agent("hiow-police");
  ASSERT_TRUE(police->Send(Message("hiow-police", "portsmouth-mash")).ok());
  ASSERT_TRUE(police->Send(Message("hiow-police", "iow-mash")).ok());
  ASSERT_TRUE(police->Send(Message("hiow-police", "hampshire-crt")).ok());
  // Between two agencies of Portsmouth's area other than the IG lead's own
  // (refused or not, a decision is recorded against both).
  auto hospital = Agent("portsmouth-hospitals");
  (void)hospital->Send(Message("portsmouth-hospitals", "southsea-academy", "pht-1"));

  EXPECT_EQ(Agency("portsmouth-mash")->GetCheckpoint().status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Agency("portsmouth-mash")->QueryRecords({}, 0, "").status().code(),
            absl::StatusCode::kPermissionDenied);

  // The Portsmouth IG lead (area scope) sees the flows of every agency in
  // Portsmouth: its own MASH's and those between the hospital and the school.
  auto portsmouth = Officer("portsmouth-mash.ig-lead");
  auto mine = Query(*portsmouth);
  ASSERT_EQ(mine.size(), 2u);
  EXPECT_EQ(mine[0].recipient_agency_id(), "portsmouth-mash");
  EXPECT_EQ(mine[1].message_id(), "pht-1");
  v1::AuditQuery iow;
  iow.set_agency_id("iow-mash");
  EXPECT_TRUE(Query(*portsmouth, iow).empty()) << "asking does not widen the scope";

  // The constabulary's DPO (agency scope) sees the police's three flows and
  // nothing of the hospital's, even when asking for it.
  auto police_dpo = Officer("hiow-police.dpo");
  auto own = Query(*police_dpo);
  ASSERT_EQ(own.size(), 3u);
  for (const auto& r : own) EXPECT_EQ(r.sender_agency_id(), "hiow-police");
  v1::AuditQuery school;
  school.set_agency_id("southsea-academy");
  EXPECT_TRUE(Query(*police_dpo, school).empty());
  EXPECT_EQ(Query(*portsmouth, school).size(), 1u);

  // The partnership DPO (federation scope) sees all four, and can filter.
  auto dpo = Officer("hampshire-crt.dpo");
  EXPECT_EQ(Query(*dpo).size(), 4u);
  EXPECT_EQ(Query(*dpo, iow).size(), 1u);
  v1::AuditQuery area;
  area.set_area_id("hampshire");
  EXPECT_EQ(Query(*dpo, area).size(), 3u) << "the police are in Hampshire";
  v1::AuditQuery denied;
  denied.set_decision(v1::DECISION_DENY);
  auto refused = Query(*dpo, denied);
  ASSERT_EQ(refused.size(), 1u) << "no agreement covers a hospital writing to a school";
  EXPECT_EQ(refused[0].message_id(), "pht-1");
}

TEST_F(AuditE2eTest, EveryEventAndRefusalIsRecordedAndTheLogVerifiesAfterAKill) {
  auto police = Agent("hiow-police");
  ASSERT_TRUE(police->Send(Message("hiow-police", "portsmouth-mash", "life-1")).ok());
  auto mash = Agent("portsmouth-mash");
  auto inbox = mash->Receive();
  ASSERT_TRUE(inbox.ok());
  ASSERT_TRUE(mash->client().Ack("life-1").ok());
  // A refused Submit from a known sender: bad signature.
  v1::SignedEnvelope bad = Referral("hiow-police", "portsmouth-mash", "bad-sig");
  (*bad.mutable_signature())[0] ^= 1;
  ASSERT_EQ(police->client().Submit(bad).status().code(), absl::StatusCode::kUnauthenticated);

  auto dpo = Officer("hampshire-crt.dpo");
  auto records = Query(*dpo);
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[0].event(), v1::AUDIT_EVENT_TYPE_DECISION);
  EXPECT_EQ(records[0].decision().findings_size(), 7);
  EXPECT_EQ(records[0].payload_sha256().size(), 32u);
  EXPECT_EQ(records[0].sender_practitioner().id(), "pc-4471");
  EXPECT_EQ(records[1].event(), v1::AUDIT_EVENT_TYPE_DELIVERED);
  EXPECT_EQ(records[2].event(), v1::AUDIT_EVENT_TYPE_ACKNOWLEDGED);
  EXPECT_EQ(records[3].event(), v1::AUDIT_EVENT_TYPE_SUBMIT_REFUSED);
  EXPECT_EQ(records[3].status_code(), "UNAUTHENTICATED");
  // The key registrations of the federation file come first.
  const uint64_t keys = KeyEventCount();
  EXPECT_GT(keys, 0u);
  for (uint64_t i = 0; i < records.size(); ++i) EXPECT_EQ(records[i].sequence(), keys + i);

  gateway_->Kill();
  ASSERT_TRUE(gateway_->Start());
  ASSERT_TRUE(Agent("hiow-police")->Send(Message("hiow-police", "iow-mash", "after-kill")).ok());
  ASSERT_EQ(gateway_->Stop(), 0);
  const std::string copy = data_.path() + "/copy.db";
  std::filesystem::copy_file(gateway_->db_path(), copy);
  auto v = agents::VerifyAuditDatabase(copy, AuditLog());
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->records, keys + 5u);
  EXPECT_EQ(v->tree_size, keys + 5u);
}

TEST_F(AuditE2eTest, ExportsStreamAndVerifyOffline) {
  auto police = Agent("hiow-police");
  for (int i = 0; i < 7; ++i) {
    ASSERT_TRUE(police->Send(Message("hiow-police", i % 2 ? "portsmouth-mash" : "iow-mash")).ok());
  }
  auto dpo = Officer("hampshire-crt.dpo");
  std::string jsonl, csv, filtered;
  auto collect = [](std::string& into) {
    return [&into](const std::string& chunk) {
      into += chunk;
      return absl::OkStatus();
    };
  };
  ASSERT_TRUE(dpo->ExportRecords({}, v1::EXPORT_FORMAT_JSON_LINES, collect(jsonl)).ok());
  ASSERT_TRUE(dpo->ExportRecords({}, v1::EXPORT_FORMAT_CSV, collect(csv)).ok());
  const size_t keys = KeyEventCount();
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 8 + keys)
      << "header, the key registrations and seven rows";
  EXPECT_EQ(csv.rfind("sequence,time,event,message_id", 0), 0u);

  const std::string full = data_.path() + "/full.jsonl";
  std::ofstream(full) << jsonl;
  auto v = agents::VerifyAuditExport(full, AuditLog());
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->records, 7u + keys);
  EXPECT_TRUE(v->complete);

  // The Portsmouth lead's export is filtered by scope: each record carries a proof.
  auto portsmouth = Officer("portsmouth-mash.ig-lead");
  absl::Status exported =
      portsmouth->ExportRecords({}, v1::EXPORT_FORMAT_JSON_LINES, collect(filtered));
  ASSERT_TRUE(exported.ok()) << exported.code() << " " << exported.message();
  const std::string part = data_.path() + "/part.jsonl";
  std::ofstream(part) << filtered;
  v = agents::VerifyAuditExport(part, AuditLog());
  ASSERT_TRUE(v.ok()) << v.status();
  size_t area_keys = 0;
  for (const auto& r : Query(*portsmouth, {}, true)) area_keys += IsKeyEvent(r);
  EXPECT_GT(area_keys, 0u);
  EXPECT_EQ(v->records, 3u + area_keys);
  EXPECT_FALSE(v->complete);

  // Dropping a line from the full export is caught.
  std::string cut = jsonl;
  size_t second = cut.find('\n', cut.find('\n') + 1);
  cut.erase(cut.find('\n') + 1, second - cut.find('\n'));
  std::ofstream(full) << cut;
  v = agents::VerifyAuditExport(full, AuditLog());
  EXPECT_EQ(v.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(v.status().message().find("record 0 is missing"), std::string::npos) << v.status();
}

TEST_F(AuditE2eTest, AnExportIsOneSnapshotWhileWritesContinue) {
  // More than one export chunk (500 records), so the gateway reads the log
  // several times during one export while the police keep submitting.
  auto police = Agent("hiow-police");
  std::vector<v1::SignedEnvelope> sealed;
  for (int i = 0; i < 1300; ++i) {
    auto s = police->Seal(
        Message("hiow-police", i % 2 ? "portsmouth-mash" : "iow-mash", absl::StrCat("snap-", i)));
    ASSERT_TRUE(s.ok()) << s.status();
    sealed.push_back(*s);
  }
  // 1,100 records first, from four connections at once (group commit).
  std::vector<std::thread> fill;
  for (int t = 0; t < 4; ++t) {
    fill.emplace_back([&, t] {
      auto client = Agency("hiow-police");
      for (size_t i = t; i < 1100; i += 4) EXPECT_TRUE(client->Submit(sealed[i]).ok()) << i;
    });
  }
  for (auto& th : fill) th.join();

  std::atomic<bool> exporting{true};
  std::atomic<int> during{0};
  std::thread writer([&] {
    auto client = Agency("hiow-police");
    for (size_t i = 1100; i < sealed.size() && exporting; ++i) {
      if (client->Submit(sealed[i]).ok()) ++during;
    }
  });
  std::string jsonl;
  int chunks = 0;
  absl::Status exported =
      Officer("hampshire-crt.dpo")
          ->ExportRecords({}, v1::EXPORT_FORMAT_JSON_LINES, [&](const std::string& chunk) {
            jsonl += chunk;
            // A slow reader: writes land between chunks.
            if (++chunks < 3) {
              const int before = during;
              testing::WaitFor([&] { return during > before + 20; }, 5);
            }
            return absl::OkStatus();
          });
  exporting = false;
  writer.join();
  ASSERT_TRUE(exported.ok()) << exported;
  EXPECT_GE(chunks, 3);
  EXPECT_GT(during.load(), 0) << "the log grew while it was exported";

  const std::string path = data_.path() + "/snapshot.jsonl";
  std::ofstream(path) << jsonl;
  auto v = agents::VerifyAuditExport(path, AuditLog());
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_TRUE(v->complete);
  EXPECT_EQ(v->records, v->tree_size) << "every record of the snapshot, and none after it";
  EXPECT_GE(v->tree_size, 1100u);
  auto now = Officer("hampshire-crt.dpo")->GetCheckpoint();
  ASSERT_TRUE(now.ok());
  EXPECT_GT(now->tree_size(), v->tree_size);
}

TEST_F(AuditE2eTest, FlowReportCountsDecisionsByAreaAndCheck) {
  auto police = Agent("hiow-police");
  ASSERT_TRUE(police->Send(Message("hiow-police", "portsmouth-mash")).ok());
  auto m = Message("hiow-police", "portsmouth-mash");
  m.declaration.clear_lawful_basis();
  ASSERT_FALSE(police->Send(m).ok());
  auto report = Officer("hampshire-crt.dpo")->FlowReport({});
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->flows_size(), 1);
  EXPECT_EQ(report->flows(0).from_area_id(), "hampshire");
  EXPECT_EQ(report->flows(0).to_area_id(), "portsmouth");
  EXPECT_EQ(report->flows(0).allowed(), 1u);
  EXPECT_EQ(report->flows(0).denied(), 1u);
  bool lawful_basis_failed = false;
  for (const auto& c : report->checks()) {
    if (c.check() == "lawful_basis") lawful_basis_failed = c.failed() == 1;
  }
  EXPECT_TRUE(lawful_basis_failed);
}

}  // namespace
}  // namespace safeshare
