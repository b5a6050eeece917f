// The limits of LimitsConfig, over the real gateway: each just under passes,
// just over is refused with its code and a message naming the limit, and
// nothing is stored or half-written.
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "envelope/digest.h"
#include "envelope/keys.h"
#include "tests/e2e/gateway_fixture.h"

namespace safeshare {
namespace {

class LimitsE2eTest : public GatewayE2eTest {
 protected:
  // Restarts the gateway with `limits` (proto text of LimitsConfig fields).
  void RestartWithLimits(const std::string& limits) {
    gateway_->Stop();
    const std::string config = data_.path() + "/limits.textproto";
    std::ofstream(config) << "limits { " << limits << " }\n";
    StartGateway({"--config=" + config});
  }

  std::vector<v1::AuditRecord> RecordsFor(const std::string& message_id) {
    std::vector<v1::AuditRecord> out;
    for (const auto& r : Audit()) {
      if (r.message_id() == message_id) out.push_back(r);
    }
    return out;
  }

  // An outcome from the MASH back to the police about `referral`.
  static agents::OutgoingMessage Outcome(const std::string& referral, const std::string& id) {
    v1::SealedContent content;
    content.mutable_outcome();
    auto m = Message("portsmouth-mash", "hiow-police", id, content);
    m.kind = v1::MESSAGE_KIND_OUTCOME;
    m.in_reply_to = referral;
    m.practitioner.set_role(v1::PRACTITIONER_ROLE_SOCIAL_WORKER);
    auto& d = m.declaration;
    d.set_purpose(v1::PURPOSE_OUTCOME_FEEDBACK);
    d.clear_data_categories();
    d.add_data_categories(v1::DATA_CATEGORY_IDENTITY);
    d.clear_protected_identities();
    d.set_outcome_decision(v1::OUTCOME_DECISION_STRATEGY_DISCUSSION);
    return m;
  }
};

TEST_F(LimitsE2eTest, ATextFieldJustOverTheLimitIsRefusedAndOnlyItsHashIsLogged) {
  auto police = Agency("hiow-police");
  v1::Envelope under = Header("hiow-police", "portsmouth-mash", "text-under");
  under.mutable_declaration()->set_necessity_justification(std::string(2048, 'n'));
  auto ok = police->Submit(SealByHand(under, "x", "hiow-police", "portsmouth-mash"));
  EXPECT_TRUE(ok.ok() || ok.status().code() == absl::StatusCode::kFailedPrecondition)
      << "just under reaches policy: " << ok.status();

  v1::Envelope over = Header("hiow-police", "portsmouth-mash", "text-over");
  // Recognisable text that must not reach the permanent log.
  over.mutable_declaration()->set_necessity_justification(std::string(2049, 'Z'));
  const v1::SignedEnvelope sent = SealByHand(over, "x", "hiow-police", "portsmouth-mash");
  auto r = police->Submit(sent);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  EXPECT_EQ(r.status().message(),
            "envelope.declaration.necessity_justification: is 2049 bytes; the limit "
            "(max_text_field_bytes) is 2048");
  EXPECT_EQ(Reason(r.status()), "DECLARATION_OVER_LIMIT");
  EXPECT_EQ(ReasonOf(r.status())->metadata().at("limit"), "max_text_field_bytes");
  EXPECT_EQ(FieldOf(r.status()), "envelope.declaration.necessity_justification");
  auto status = police->GetStatus("text-over");
  EXPECT_EQ(status.status().code(), absl::StatusCode::kPermissionDenied) << "nothing stored";

  // Refused at the shape check: not even its message id is taken from it.
  std::vector<v1::AuditRecord> records;
  for (const auto& r : Audit()) {
    if (r.submitted_sha256() == envelope::Sha256(sent.envelope_bytes())) records.push_back(r);
  }
  ASSERT_EQ(records.size(), 1u);
  const v1::AuditRecord& rec = records[0];
  EXPECT_TRUE(rec.message_id().empty());
  EXPECT_EQ(rec.event(), v1::AUDIT_EVENT_TYPE_SUBMIT_REFUSED);
  EXPECT_EQ(rec.status_code(), "INVALID_ARGUMENT");
  EXPECT_EQ(rec.sender_agency_id(), "hiow-police");
  EXPECT_EQ(rec.submitted_sha256(), envelope::Sha256(sent.envelope_bytes()));
  EXPECT_EQ(rec.submitted_size(), sent.envelope_bytes().size());
  EXPECT_FALSE(rec.has_declaration()) << "the unsigned declaration is not logged";
  EXPECT_EQ(rec.SerializeAsString().find("ZZZZZZZZ"), std::string::npos);
  ExpectAuditLogVerifies();
}

TEST_F(LimitsE2eTest, ARefusalBeforeTheSignatureVerifiesLogsAHashNotTheDeclaration) {
  auto police = Agency("hiow-police");
  v1::Envelope header = Header("hiow-police", "portsmouth-mash", "bad-sig-1");
  header.mutable_declaration()->set_necessity_justification(
      "Distinctive-text-that-stays-out-of-the-log: a concern about a child at school.");
  v1::SignedEnvelope sent = SealByHand(header, "x", "hiow-police", "portsmouth-mash");
  (*sent.mutable_signature())[0] ^= 1;
  auto r = police->Submit(sent);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kUnauthenticated) << r.status();
  const auto records = RecordsFor("bad-sig-1");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].event(), v1::AUDIT_EVENT_TYPE_SUBMIT_REFUSED);
  EXPECT_EQ(records[0].submitted_sha256(), envelope::Sha256(sent.envelope_bytes()));
  EXPECT_FALSE(records[0].has_declaration());
  EXPECT_FALSE(records[0].has_sender_practitioner());
  EXPECT_EQ(records[0].SerializeAsString().find("Distinctive-text"), std::string::npos);
}

TEST_F(LimitsE2eTest, UnknownEnumValuesAndTooManyEntriesAreRefusedAtTheShapeCheck) {
  auto police = Agency("hiow-police");
  v1::Envelope unknown = Header("hiow-police", "portsmouth-mash", "enum-1");
  unknown.mutable_declaration()->set_lawful_basis(static_cast<v1::LawfulBasis>(4242));
  auto r = police->Submit(SealByHand(unknown, "x", "hiow-police", "portsmouth-mash"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  EXPECT_TRUE(absl::StartsWith(r.status().message(), "envelope.declaration.lawful_basis: 4242"))
      << r.status();
  EXPECT_EQ(Reason(r.status()), "ENVELOPE_MALFORMED");

  v1::Envelope many = Header("hiow-police", "portsmouth-mash", "many-1");
  for (int i = 0; i < 65; ++i) {
    many.mutable_declaration()->add_concern_categories(v1::CONCERN_CATEGORY_PHYSICAL_ABUSE);
  }
  r = police->Submit(SealByHand(many, "x", "hiow-police", "portsmouth-mash"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  EXPECT_NE(r.status().message().find("max_repeated_entries"), std::string::npos) << r.status();
  EXPECT_EQ(Reason(r.status()), "DECLARATION_OVER_LIMIT");
  ExpectMailboxEmpty("portsmouth-mash");
}

TEST_F(LimitsE2eTest, ARepliesBeyondTheThreadLimitIsRefusedAuditedAndNotStored) {
  RestartWithLimits("max_replies_per_thread: 2");
  auto police = Agent("hiow-police");
  ASSERT_TRUE(police->Send(Message("hiow-police", "portsmouth-mash", "ref-q")).ok());
  auto mash = Agent("portsmouth-mash");
  ASSERT_TRUE(mash->Receive().ok());
  ASSERT_TRUE(mash->Send(Outcome("ref-q", "out-1")).ok());
  auto sealed = mash->Seal(Outcome("ref-q", "out-2"));
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  auto second = mash->client().Submit(*sealed);
  ASSERT_TRUE(second.ok()) << "just under passes: " << second.status();
  auto third = mash->Send(Outcome("ref-q", "out-3"));
  EXPECT_EQ(third.status().code(), absl::StatusCode::kResourceExhausted) << third.status();
  EXPECT_NE(third.status().message().find("max_replies_per_thread"), std::string::npos)
      << third.status();
  EXPECT_EQ(Reason(third.status()), "THREAD_FULL") << "start a new message";
  EXPECT_EQ(mash->client().GetStatus("out-3").status().code(), absl::StatusCode::kPermissionDenied)
      << "nothing stored";
  auto thread = police->client().GetThread("ref-q");
  ASSERT_TRUE(thread.ok()) << thread.status();
  EXPECT_EQ(thread->messages_size(), 3);
  const auto records = RecordsFor("out-3");
  ASSERT_EQ(records.size(), 1u) << "one refusal record, no decision";
  EXPECT_EQ(records[0].event(), v1::AUDIT_EVENT_TYPE_SUBMIT_REFUSED);
  EXPECT_EQ(records[0].status_code(), "RESOURCE_EXHAUSTED");
  // A retry of a stored reply is still answered with its receipt.
  auto retry = mash->client().Submit(*sealed);
  EXPECT_TRUE(retry.ok()) << retry.status();
  ExpectAuditLogVerifies();
}

// 19 messages of 3.5 MiB: one default page of 50 would be over the agent's
// own 64 MiB receive limit, so `safeshare inbox` failed every time.
TEST_F(LimitsE2eTest, AMailboxOfLargeMessagesIsFetchedInPagesWithinTheReplyLimit) {
  auto police = Agent("hiow-police");
  constexpr int kMessages = 19;
  for (int i = 0; i < kMessages; ++i) {
    auto sent = police->Send(Message("hiow-police", "portsmouth-mash", absl::StrCat("big-", i),
                                     Content(std::string(3500 * 1024, 'c'))));
    ASSERT_TRUE(sent.ok()) << i << ": " << sent.status();
  }
  auto mash = Agency("portsmouth-mash");
  std::string token;
  int pages = 0, seen = 0;
  do {
    auto page = mash->Fetch(0, token);
    ASSERT_TRUE(page.ok()) << page.status();
    EXPECT_LE(page->ByteSizeLong(), size_t{8} << 20) << "within max_reply_bytes";
    EXPECT_GT(page->messages_size(), 0);
    seen += page->messages_size();
    ++pages;
    token = page->next_page_token();
  } while (!token.empty() && pages < 100);
  EXPECT_EQ(seen, kMessages);
  EXPECT_GT(pages, 1);
  auto inbox = Agent("portsmouth-mash")->Receive();
  ASSERT_TRUE(inbox.ok()) << inbox.status();
  EXPECT_EQ(inbox->received.size(), static_cast<size_t>(kMessages));
}

TEST_F(LimitsE2eTest, AMessageLargerThanTheReplyLimitIsAPreciseError) {
  RestartWithLimits("max_reply_bytes: 65536");
  auto police = Agent("hiow-police");
  ASSERT_TRUE(police->Send(Message("hiow-police", "portsmouth-mash", "fits")).ok());
  ASSERT_TRUE(police
                  ->Send(Message("hiow-police", "portsmouth-mash", "too-big",
                                 Content(std::string(100 * 1024, 'c'))))
                  .ok());
  auto mash = Agency("portsmouth-mash");
  auto first = mash->Fetch();
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->messages_size(), 1);
  EXPECT_EQ(first->messages(0).message_id(), "fits");
  ASSERT_FALSE(first->next_page_token().empty());
  auto second = mash->Fetch(0, first->next_page_token());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kResourceExhausted) << second.status();
  EXPECT_NE(second.status().message().find("max_reply_bytes"), std::string::npos)
      << second.status();
  // Not handed over: the refused page recorded nothing.
  auto status = police->client().GetStatus("too-big");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->state(), v1::MESSAGE_STATE_SUBMITTED);
}

TEST_F(LimitsE2eTest, AuditQueriesAndExportsStayWithinTheReplyLimit) {
  RestartWithLimits("max_reply_bytes: 16384");
  auto police = Agent("hiow-police");
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(
        police->Send(Message("hiow-police", "portsmouth-mash", absl::StrCat("q-", i))).ok());
  }
  auto dpo = Officer("hampshire-crt.dpo");
  std::string token;
  size_t records = 0, reads = 0;
  int pages = 0;
  do {
    auto page = dpo->QueryRecords({}, 0, token);
    ASSERT_TRUE(page.ok()) << page.status();
    EXPECT_LE(page->ByteSizeLong(), 16384u);
    for (const auto& r : page->records()) {
      ++(r.event() == v1::AUDIT_EVENT_TYPE_RECORDS_READ ? reads : records);
    }
    token = page->next_page_token();
    ++pages;
  } while (!token.empty() && pages < 1000);
  EXPECT_EQ(records, 20u + KeyEventCount());
  // Each page is a read, recorded after it is answered: the later pages
  // reach the records of the earlier ones.
  EXPECT_EQ(reads, static_cast<size_t>(pages - 1));
  EXPECT_GT(pages, 1) << "one page of 100 would be over the limit";
  size_t chunks = 0;
  ASSERT_TRUE(dpo->ExportRecords({}, v1::EXPORT_FORMAT_JSON_LINES,
                                 [&](const std::string& chunk) {
                                   EXPECT_LE(chunk.size(), 16384u);
                                   ++chunks;
                                   return absl::OkStatus();
                                 })
                  .ok());
  EXPECT_GT(chunks, 1u);
  ExpectAuditLogVerifies();
}

// Streams: an agency that opens more than its allowance is refused with the
// limit named, others keep theirs, and a closed stream frees its place.
TEST_F(LimitsE2eTest, SubscriptionsBeyondThePrincipalsAllowanceAreRefused) {
  RestartWithLimits("max_streams_per_principal: 2 max_streams_total: 3");
  auto police = Agent("hiow-police");
  ASSERT_TRUE(police->Send(Message("hiow-police", "portsmouth-mash", "waiting")).ok());
  auto mash = Agency("portsmouth-mash");
  auto first = mash->Subscribe(0), second = mash->Subscribe(0);
  v1::MailboxMessage got;
  ASSERT_TRUE(first->Read(&got));
  ASSERT_TRUE(second->Read(&got));
  auto third = mash->Subscribe(0);
  EXPECT_FALSE(third->Read(&got));
  absl::Status refused = third->Finish();
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted) << refused;
  EXPECT_TRUE(absl::StrContains(refused.message(), "limits.max_streams_per_principal"));

  ASSERT_TRUE(police->Send(Message("hiow-police", "iow-mash", "for-iow")).ok());
  auto iow = Agency("iow-mash")->Subscribe(0);
  ASSERT_TRUE(iow->Read(&got)) << "another agency keeps its allowance";
  EXPECT_EQ(got.message_id(), "for-iow");
  auto over_total = Agency("southampton-mash")->Subscribe(0);
  EXPECT_FALSE(over_total->Read(&got));
  absl::Status total = over_total->Finish();
  EXPECT_EQ(total.code(), absl::StatusCode::kResourceExhausted) << total;
  EXPECT_TRUE(absl::StrContains(total.message(), "limits.max_streams_total"));

  first->Cancel();
  (void)first->Finish();
  // The place is freed once the gateway has seen the cancellation.
  std::unique_ptr<agents::AgentClient::Subscription> again;
  bool read = false;
  for (int i = 0; i < 50 && !read; ++i) {
    again = mash->Subscribe(0);
    read = again->Read(&got);
    if (!read) {
      (void)again->Finish();
      absl::SleepFor(absl::Milliseconds(100));
    }
  }
  EXPECT_TRUE(read);
  EXPECT_EQ(got.message_id(), "waiting");
  for (auto* s : {second.get(), again.get(), iow.get()}) {
    s->Cancel();
    (void)s->Finish();
  }
}

// Keys: an agency cannot grow the directory without end; republishing a key
// it has stays idempotent at the limit, and other agencies are unaffected.
TEST_F(LimitsE2eTest, KeysBeyondTheAgencysAllowanceAreRefused) {
  RestartWithLimits("max_keys_per_agency: 3");  // each dev agency starts with 2
  auto police = Agent("hiow-police");
  auto third = envelope::PrivateKey::Generate(envelope::PrivateKey::Type::kEncryption);
  ASSERT_TRUE(third.ok());
  ASSERT_TRUE(police->PublishKey(*third).ok());
  auto fourth = envelope::PrivateKey::Generate(envelope::PrivateKey::Type::kEncryption);
  ASSERT_TRUE(fourth.ok());
  auto over = police->PublishKey(*fourth);
  EXPECT_EQ(over.status().code(), absl::StatusCode::kResourceExhausted) << over.status();
  EXPECT_TRUE(absl::StrContains(over.status().message(), "limits.max_keys_per_agency"));
  EXPECT_TRUE(police->PublishKey(*third).ok()) << "the same key again is not a new one";
  auto listed = police->client().GetAgency("hiow-police");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->agency().keys_size(), 3);
  // Nothing of the refused key reached the directory, and others publish.
  EXPECT_TRUE(Agent("iow-mash")->RotateKeys(/*signing=*/false, /*encryption=*/true).ok());
}

// A full mailbox: the Submit is refused with the limit named, the refusal is
// audited with the decision, nothing is stored, and the same message goes
// through once there is room.
TEST_F(LimitsE2eTest, AMailboxOverItsQuotaRefusesNewMessagesAndStoresNothing) {
  RestartWithLimits("mailbox_quota_bytes: 1");
  auto police = Agent("hiow-police");
  auto sealed = police->Seal(Message("hiow-police", "portsmouth-mash", "over-quota"));
  ASSERT_TRUE(sealed.ok());
  auto r = police->client().Submit(*sealed);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted) << r.status();
  EXPECT_TRUE(absl::StrContains(r.status().message(), "limits.mailbox_quota_bytes"));
  EXPECT_EQ(Reason(r.status()), "MAILBOX_FULL") << "retry later with the same id";
  const auto records = RecordsFor("over-quota");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].event(), v1::AUDIT_EVENT_TYPE_SUBMIT_REFUSED);
  EXPECT_EQ(records[0].decision().decision(), v1::DECISION_ALLOW) << "policy allowed it";
  EXPECT_EQ(police->client().GetStatus("over-quota").status().code(),
            absl::StatusCode::kPermissionDenied)
      << "not stored";
  RestartWithLimits("mailbox_quota_bytes: 100000000");
  auto again = Agent("hiow-police")->client().Submit(*sealed);  // the gateway's new port
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->state(), v1::MESSAGE_STATE_SUBMITTED);
  ExpectAuditLogVerifies();
}

TEST_F(LimitsE2eTest, AnOfficerOutsideTheScopeCannotLearnAMessagesState) {
  ASSERT_TRUE(Agent("hiow-police")->Send(Message("hiow-police", "portsmouth-mash", "plain")).ok());
  auto portsmouth = Officer("portsmouth-mash.ig-lead");  // not the police's officer
  const absl::Status out_of_scope =
      portsmouth->Approve("plain", "Necessary and proportionate: the child is at risk.");
  const absl::Status absent =
      portsmouth->Approve("no-such-message", "Necessary and proportionate: the child is at risk.");
  EXPECT_EQ(out_of_scope.code(), absl::StatusCode::kPermissionDenied) << out_of_scope;
  EXPECT_EQ(out_of_scope.message(),
            absl::StrReplaceAll(absent.message(), {{"no-such-message", "plain"}}));
}

TEST_F(LimitsE2eTest, InclusionProofsAreScopedToTheOfficer) {
  ASSERT_TRUE(Agent("hiow-police")->Send(Message("hiow-police", "iow-mash", "iow-1")).ok());
  const auto records = RecordsFor("iow-1");
  ASSERT_FALSE(records.empty());
  const uint64_t leaf = records[0].sequence();
  EXPECT_TRUE(Officer("hampshire-crt.dpo")->GetInclusionProof(leaf).ok());
  auto other = Officer("portsmouth-mash.ig-lead")->GetInclusionProof(leaf);
  EXPECT_EQ(other.status().code(), absl::StatusCode::kNotFound) << other.status();
  EXPECT_TRUE(other.status().message().find("in this officer's scope") != std::string::npos);
}

TEST_F(LimitsE2eTest, AnotherAgencysMessageIdIsNotConfirmed) {
  ASSERT_TRUE(Agent("hiow-police")->Send(Message("hiow-police", "portsmouth-mash", "taken")).ok());
  auto school = Agent("southsea-academy");
  auto m = Message("southsea-academy", "portsmouth-mash", "taken");
  auto r = school->Send(m);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kAlreadyExists) << r.status();
  EXPECT_EQ(r.status().message().find("already used"), std::string::npos) << r.status();
  EXPECT_EQ(r.status().message().find("hiow-police"), std::string::npos) << r.status();
}

}  // namespace
}  // namespace safeshare
