// End-to-end over real mutual TLS on loopback, a real safeshare-gateway
// process driven by the real agent code. The Audit service: receipts' proofs, officers' scopes, the
// record of every event, exports and flow reports.

#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "tests/e2e/gateway_fixture.h"

namespace safeshare {
namespace {

// Officers at work: the fixture's Officer() and Query() helpers.
using AuditE2eTest = GatewayE2eTest;

TEST_F(AuditE2eTest, ReceiptsProveTheDecisionIsInTheSignedLog) {
  auto police = Agent("hiow-police");
  auto allowed = police->Send(Message("hiow-police", "portsmouth-mash", "audited-1"));
  ASSERT_TRUE(allowed.ok()) << allowed.status();
  EXPECT_TRUE(verification::VerifyReceipt(*allowed, AuditLog()).ok())
      << verification::VerifyReceipt(*allowed, AuditLog());

  auto m = Message("hiow-police", "portsmouth-mash", "audited-2");
  m.declaration.clear_lawful_basis();
  v1::SubmitResponse denied;
  ASSERT_EQ(police->Send(m, &denied).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(verification::VerifyReceipt(denied, AuditLog()).ok()) << "a refusal is recorded too";
  EXPECT_GT(denied.audit_inclusion_proof().leaf_index(),
            allowed->audit_inclusion_proof().leaf_index());

  // A receipt whose decision was altered no longer matches its record.
  v1::SubmitResponse forged = denied;
  forged.mutable_decision()->set_decision(v1::DECISION_ALLOW);
  EXPECT_EQ(verification::VerifyReceipt(forged, AuditLog()).code(), absl::StatusCode::kDataLoss);
  // Nor one whose message id was changed (a receipt for another message).
  v1::SubmitResponse renamed = *allowed;
  renamed.set_message_id("audited-2");
  auto wrong_id = verification::VerifyReceipt(renamed, AuditLog());
  EXPECT_EQ(wrong_id.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(wrong_id.message().find("not this message's decision"), std::string::npos) << wrong_id;
  // Nor does one checked against another federation's key.
  v1::AuditLogIdentity other = AuditLog();
  other.set_public_key(std::string(32, '\x07'));
  EXPECT_FALSE(verification::VerifyReceipt(*allowed, other).ok());
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

  // The partnership DPO (federation scope) sees all four flows, then the
  // five reads above (each officer read is a record; the refused agency
  // read is not one), and can filter.
  auto dpo = Officer("hampshire-crt.dpo");
  auto everything = Query(*dpo);
  ASSERT_EQ(everything.size(), 9u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(everything[i].event(), v1::AUDIT_EVENT_TYPE_DECISION);
  // Each read counted the key events in its scope too (asked after `everything`).
  auto keys_in = [&](AgentClient& officer, const v1::AuditQuery& q) {
    uint64_t n = 0;
    for (const auto& r : Query(officer, q, /*with_key_events=*/true)) n += IsKeyEvent(r);
    return n;
  };
  const uint64_t area_keys = keys_in(*portsmouth, {});
  const uint64_t school_keys = keys_in(*portsmouth, school);
  const uint64_t police_keys = keys_in(*police_dpo, {});
  EXPECT_GT(area_keys, school_keys);
  EXPECT_GT(school_keys, 0u);
  const std::vector<std::pair<std::string, uint64_t>> reads = {
      {"portsmouth-mash/ig-lead", 2 + area_keys},
      {"portsmouth-mash/ig-lead", 0},
      {"hiow-police/dpo", 3 + police_keys},
      {"hiow-police/dpo", 0},
      {"portsmouth-mash/ig-lead", 1 + school_keys}};
  for (size_t i = 0; i < reads.size(); ++i) {
    const auto& r = everything[4 + i];
    EXPECT_EQ(r.event(), v1::AUDIT_EVENT_TYPE_RECORDS_READ) << i;
    EXPECT_TRUE(absl::EndsWith(r.actor(), reads[i].first)) << r.actor();
    EXPECT_EQ(r.read_count(), reads[i].second) << i;
  }
  EXPECT_EQ(everything[5].read_query().agency_id(), "iow-mash") << "the filter as asked";
  // Reads belong to no flow: the scoped officers never see them.
  EXPECT_EQ(Query(*police_dpo).size(), 3u);
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
  ASSERT_EQ(records.size(), 4u) << "the query's own record comes after its answer";
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
  auto v = verification::VerifyAuditDatabase(copy, AuditLog());
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->records, keys + 7u)
      << "the key registrations, four events, two officer queries, one more decision";
  EXPECT_EQ(v->tree_size, keys + 7u);
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
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 9 + keys)
      << "header, the key registrations, seven rows and the record of the JSON-lines export "
         "before it";
  EXPECT_NE(csv.find("AUDIT_EVENT_TYPE_RECORDS_READ"), std::string::npos);
  EXPECT_EQ(csv.rfind("sequence,time,event,message_id", 0), 0u);

  const std::string full = data_.path() + "/full.jsonl";
  std::ofstream(full) << jsonl;
  auto v = verification::VerifyAuditExport(full, AuditLog());
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
  v = verification::VerifyAuditExport(part, AuditLog());
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
  v = verification::VerifyAuditExport(full, AuditLog());
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
  auto v = verification::VerifyAuditExport(path, AuditLog());
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

std::string FileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

v1::EraseTextRequest Erase(uint64_t leaf, const std::string& field, const std::string& reason) {
  v1::EraseTextRequest r;
  r.set_leaf_index(leaf);
  r.set_field(field);
  r.set_reason(reason);
  return r;
}

// Issue 19: a justification that names a child is erased by the partnership
// DPO; the log, on the database and in a full export, still verifies; the
// text is gone from the gateway's files; the erasure is itself a record.
TEST_F(AuditE2eTest, AnErasedJustificationLeavesAVerifiableLogAndNoTraceOnDisk) {
  constexpr char kNamed[] = "Quillon Zebrafinch (NHS 943 476 5919) was seen with injuries";
  auto police = Agent("hiow-police");
  auto m = Message("hiow-police", "portsmouth-mash", "named-1");
  m.declaration.clear_lawful_basis();  // denied: the sealed content is never stored
  m.declaration.set_necessity_justification(kNamed);
  v1::SubmitResponse denied;
  ASSERT_EQ(police->Send(m, &denied).status().code(), absl::StatusCode::kFailedPrecondition);
  const uint64_t leaf = denied.audit_inclusion_proof().leaf_index();
  EXPECT_EQ(denied.audit_record().find("Quillon"), std::string::npos)
      << "the receipt's record as hashed commits the text, never carries it";
  EXPECT_TRUE(verification::VerifyReceipt(denied, AuditLog()).ok());
  const std::string db = gateway_->db_path();
  ASSERT_NE((FileBytes(db) + FileBytes(db + "-wal")).find("Quillon Zebrafinch"), std::string::npos)
      << "before erasure the text is on disk (so the search below can fail)";

  const std::string field = "declaration.necessity_justification";
  // Below federation scope: refused, whoever's flow it is.
  EXPECT_EQ(
      Officer("portsmouth-mash.ig-lead")->EraseText(Erase(leaf, field, "sar")).status().code(),
      absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Officer("hiow-police.dpo")->EraseText(Erase(leaf, field, "sar")).status().code(),
            absl::StatusCode::kPermissionDenied);
  auto dpo = Officer("hampshire-crt.dpo");
  EXPECT_EQ(dpo->EraseText(Erase(leaf, field, "")).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(dpo->EraseText(Erase(leaf, "declaration.purpose", "sar")).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(dpo->EraseText(Erase(leaf + 1000, field, "sar")).status().code(),
            absl::StatusCode::kNotFound);
  auto erasure = dpo->EraseText(Erase(leaf, field, "named a child: DPO ticket 881"));
  ASSERT_TRUE(erasure.ok()) << erasure.status();
  EXPECT_EQ(dpo->EraseText(Erase(leaf, field, "again")).status().code(),
            absl::StatusCode::kFailedPrecondition);

  // Reads show who erased it and when; the erasure is in the log.
  auto records = Query(*dpo, {}, /*with_key_events=*/true);  // indexed by leaf
  ASSERT_GT(records.size(), *erasure);
  const std::string shown = records[leaf].declaration().necessity_justification();
  EXPECT_TRUE(absl::StartsWith(shown, "erased on ")) << shown;
  EXPECT_TRUE(absl::EndsWith(shown, "/officer/hampshire-crt/dpo")) << shown;
  EXPECT_EQ(records[*erasure].event(), v1::AUDIT_EVENT_TYPE_TEXT_ERASED);
  EXPECT_EQ(records[*erasure].target_leaf_index(), leaf);
  EXPECT_EQ(records[*erasure].target_field(), field);
  EXPECT_EQ(records[*erasure].reason(), "named a child: DPO ticket 881");
  EXPECT_EQ(records[*erasure].message_id(), "named-1");

  std::string jsonl;
  ASSERT_TRUE(dpo->ExportRecords({}, v1::EXPORT_FORMAT_JSON_LINES,
                                 [&](const std::string& chunk) {
                                   jsonl += chunk;
                                   return absl::OkStatus();
                                 })
                  .ok());
  EXPECT_EQ(jsonl.find("Quillon"), std::string::npos);
  const std::string full = data_.path() + "/full.jsonl";
  std::ofstream(full) << jsonl;
  auto v = verification::VerifyAuditExport(full, AuditLog());
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_TRUE(v->complete);
  EXPECT_EQ(v->texts_erased, 1u);
  EXPECT_GE(v->texts_checked, 1u) << "the erasure's own reason, at least";

  const std::string disk = FileBytes(db) + FileBytes(db + "-wal");
  EXPECT_EQ(disk.find("Quillon Zebrafinch"), std::string::npos);
  EXPECT_EQ(disk.find("943 476 5919"), std::string::npos);
  ASSERT_EQ(gateway_->Stop(), 0);
  const std::string copy = data_.path() + "/copy.db";
  std::filesystem::copy_file(db, copy);
  auto on_db = verification::VerifyAuditDatabase(copy, AuditLog());
  ASSERT_TRUE(on_db.ok()) << on_db.status();
  EXPECT_EQ(on_db->texts_erased, 1u);
}

TEST_F(AuditE2eTest, ARectifiedTextIsShownAndItsDisclosureVerifies) {
  auto police = Agent("hiow-police");
  auto sent = police->Send(Message("hiow-police", "portsmouth-mash", "typo-1"));
  ASSERT_TRUE(sent.ok()) << sent.status();
  const uint64_t leaf = sent->audit_inclusion_proof().leaf_index();
  auto dpo = Officer("hampshire-crt.dpo");
  v1::RectifyTextRequest fix;
  fix.set_leaf_index(leaf);
  fix.set_field("declaration.necessity_justification");
  fix.set_new_text("Corrected: the school's concern of 3 March, reference ED-2291, as agreed");
  fix.set_reason("sender asked to correct a mistyped date");
  auto rectified = dpo->RectifyText(fix);
  ASSERT_TRUE(rectified.ok()) << rectified.status();
  // A subject reference is corrected only to another keyed hash.
  v1::RectifyTextRequest bad = fix;
  bad.set_field("declaration.subject_reference");
  bad.set_new_text("Jane Doe");
  EXPECT_EQ(dpo->RectifyText(bad).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Officer("portsmouth-mash.ig-lead")->RectifyText(fix).status().code(),
            absl::StatusCode::kPermissionDenied);

  auto records = Query(*dpo, {}, /*with_key_events=*/true);  // indexed by leaf
  ASSERT_GT(records.size(), *rectified);
  EXPECT_EQ(records[leaf].declaration().necessity_justification(), fix.new_text());
  EXPECT_EQ(records[*rectified].event(), v1::AUDIT_EVENT_TYPE_TEXT_RECTIFIED);
  EXPECT_EQ(records[*rectified].reason(), fix.reason());
  std::string jsonl;
  ASSERT_TRUE(dpo->ExportRecords({}, v1::EXPORT_FORMAT_JSON_LINES,
                                 [&](const std::string& chunk) {
                                   jsonl += chunk;
                                   return absl::OkStatus();
                                 })
                  .ok());
  const std::string full = data_.path() + "/full.jsonl";
  std::ofstream(full) << jsonl;
  auto v = verification::VerifyAuditExport(full, AuditLog());
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->texts_unchecked, 0u);
  EXPECT_GE(v->texts_checked, 3u) << "the corrected text, the reason, the original's other texts";
  // The corrected text swapped for another in the export: caught.
  std::string forged = jsonl;
  const size_t at = forged.rfind("ED-2291");
  ASSERT_NE(at, std::string::npos);
  forged.replace(at, 7, "ED-9999");
  std::ofstream(full) << forged;
  EXPECT_EQ(verification::VerifyAuditExport(full, AuditLog()).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST_F(AuditE2eTest, AMalformedSubjectReferenceIsRefusedAtTheAgentAndAtTheGateway) {
  auto police = Agent("hiow-police");
  auto m = Message("hiow-police", "portsmouth-mash", "bad-subject");
  m.declaration.set_subject_reference("Jane Doe 2014-03-02");
  auto at_agent = police->Send(m);
  EXPECT_EQ(at_agent.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(at_agent.status().message().find("64 lowercase hex"), std::string::npos)
      << at_agent.status();
  EXPECT_EQ(at_agent.status().message().find("Jane"), std::string::npos);
  EXPECT_TRUE(Audit().empty()) << "the agent refused it before sending";

  // Sealed by hand past the agent's check: the gateway refuses it too.
  v1::Envelope header = Header("hiow-police", "portsmouth-mash", "bad-subject-2");
  header.mutable_declaration()->set_subject_reference("943 476 5919");
  auto refused = police->client().Submit(
      SealByHand(header, Content().SerializeAsString(), "hiow-police", "portsmouth-mash"));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("subject_reference"), std::string::npos);
  auto records = Audit();
  ASSERT_GE(records.size(), 2u);
  EXPECT_EQ(records[0].event(), v1::AUDIT_EVENT_TYPE_RECORDS_READ) << "the empty look above";
  EXPECT_EQ(records[1].event(), v1::AUDIT_EVENT_TYPE_SUBMIT_REFUSED);
  EXPECT_EQ(records[1].status_code(), "INVALID_ARGUMENT");
  EXPECT_TRUE(records[1].declaration().subject_reference().empty()) << "never logged";
}

// Officers' reads are records: a query naming a subject reference is found by
// the next query for that child (who looked, and how many records they saw).
TEST_F(AuditE2eTest, AnOfficersQueryIsItselfInTheLogUnderTheChildsReference) {
  const std::string subject = Declaration().subject_reference();
  auto police = Agent("hiow-police");
  ASSERT_TRUE(police->Send(Message("hiow-police", "portsmouth-mash", "child-1")).ok());
  auto dpo = Officer("hampshire-crt.dpo");
  v1::AuditQuery q;
  q.set_subject_reference(subject);
  auto first = Query(*dpo, q);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].declaration().subject_reference(), subject) << "shown back, not a hash";
  auto second = Query(*dpo, q);
  ASSERT_EQ(second.size(), 2u);
  const auto& read = second[1];
  EXPECT_EQ(read.event(), v1::AUDIT_EVENT_TYPE_RECORDS_READ);
  EXPECT_TRUE(absl::EndsWith(read.actor(), "/officer/hampshire-crt/dpo")) << read.actor();
  EXPECT_EQ(read.read_count(), 1u);
  EXPECT_EQ(read.read_query().subject_reference(), subject);
  // The flow report and the export are reads too.
  ASSERT_TRUE(dpo->FlowReport({}).ok());
  ASSERT_TRUE(dpo->ExportRecords({}, v1::EXPORT_FORMAT_CSV,
                                 [](const std::string&) { return absl::OkStatus(); })
                  .ok());
  auto all = Audit();
  ASSERT_GE(all.size(), 5u);
  EXPECT_EQ(all[3].event(), v1::AUDIT_EVENT_TYPE_RECORDS_READ) << "the report";
  EXPECT_EQ(all[3].read_count(), 1u) << "one decision counted";
  EXPECT_EQ(all[4].event(), v1::AUDIT_EVENT_TYPE_RECORDS_READ) << "the export";
  EXPECT_EQ(all[4].read_count(), 4u + KeyEventCount())
      << "the key registrations, the decision and the three reads before it";
  ExpectAuditLogVerifies();
}

}  // namespace
}  // namespace safeshare

namespace safeshare {
namespace {

// Golden rule 7: a decision not to share is a record like any decision. It
// is counted once per decision id (recording is at-least-once), its proof
// verifies offline, nothing is sent, and the CLI records one too.
TEST_F(GatewayE2eTest, ADecisionNotToShareIsRecordedCountedOnceAndVerifiable) {
  v1::RecordDecisionNotToShareRequest req;
  req.set_decision_id("dnts-1");
  req.mutable_practitioner()->set_id("pc-4471");
  req.mutable_practitioner()->set_role(v1::PRACTITIONER_ROLE_POLICE_OFFICER);
  req.set_considered_agency_id("hampshire-crt");
  req.mutable_declaration()->set_purpose(v1::PURPOSE_EARLY_HELP);
  req.mutable_declaration()->add_data_categories(v1::DATA_CATEGORY_CONCERN_DETAILS);
  req.mutable_declaration()->add_decline_reasons(
      v1::DECLINE_REASON_MORE_DETRIMENTAL_THAN_DISCLOSING);
  req.set_rationale("Disclosure now would alert the adult under investigation.");
  auto police = Agency("hiow-police");
  auto recorded = police->RecordDecisionNotToShare(req);
  ASSERT_TRUE(recorded.ok()) << recorded.status();
  EXPECT_EQ(recorded->decision_id(), "dnts-1");
  v1::Federation fed;
  std::ifstream in(federation_ + "/federation.textproto");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &fed));
  EXPECT_TRUE(verification::VerifyDecisionNotToShare(*recorded, fed.audit_log()).ok());
  // A retry with the same id (after a lost reply) is a second record, one decision.
  ASSERT_TRUE(police->RecordDecisionNotToShare(req).ok());

  // The CLI records another.
  CommandResult cli = RunCommand({testing::CliBinary(),
                                  "not-shared",
                                  "--with",
                                  "portsmouth-mash",
                                  "--purpose",
                                  "early_help",
                                  "--categories",
                                  "concern_details,health",
                                  "--reasons",
                                  "not_necessary",
                                  "--rationale",
                                  "The front door already holds the same information.",
                                  "--practitioner",
                                  "pc-4471",
                                  "--role",
                                  "police_officer",
                                  "--identity",
                                  AgencyDir("hiow-police"),
                                  "--gateway",
                                  gateway_->target()});
  EXPECT_EQ(cli.exit_code, 0) << cli.err;
  EXPECT_NE(cli.out.find("nothing was sent"), std::string::npos) << cli.out;

  auto dpo = Officer("hampshire-crt.dpo");
  v1::FlowReportRequest all;
  auto report = dpo->FlowReport(all);
  ASSERT_TRUE(report.ok()) << report.status();
  uint64_t not_shared = 0;
  for (const auto& f : report->flows()) not_shared += f.not_shared();
  EXPECT_EQ(not_shared, 2u);
  int records = 0;
  for (const auto& r : Audit()) {
    if (r.event() != v1::AUDIT_EVENT_TYPE_DECIDED_NOT_TO_SHARE) continue;
    ++records;
    EXPECT_EQ(r.sender_agency_id(), "hiow-police");
    EXPECT_FALSE(r.reason().empty()) << "the rationale is readable by officers";
  }
  EXPECT_EQ(records, 3);
  // Nothing reached anyone's mailbox.
  ExpectMailboxEmpty("hampshire-crt");
  ExpectMailboxEmpty("portsmouth-mash");

  // What a record must carry, and who may make one.
  auto bad = req;
  bad.set_rationale("no");
  EXPECT_EQ(police->RecordDecisionNotToShare(bad).status().code(),
            absl::StatusCode::kInvalidArgument);
  bad = req;
  bad.mutable_declaration()->clear_decline_reasons();
  EXPECT_EQ(police->RecordDecisionNotToShare(bad).status().code(),
            absl::StatusCode::kInvalidArgument);
  bad = req;
  bad.set_considered_agency_id("atlantis-mash");
  EXPECT_EQ(police->RecordDecisionNotToShare(bad).status().code(), absl::StatusCode::kNotFound);
  bad = req;
  bad.set_considered_agency_id("hiow-police");
  EXPECT_EQ(police->RecordDecisionNotToShare(bad).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(dpo->RecordDecisionNotToShare(req).status().code(),
            absl::StatusCode::kPermissionDenied);
  ExpectAuditLogVerifies();
}

}  // namespace
}  // namespace safeshare
