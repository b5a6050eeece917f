// End-to-end over real mutual TLS on loopback, a real safeshare-gateway
// process driven by the real agent code. Referrals.Submit: what is accepted, refused and why, and
// what the receipt says.

#include <optional>
#include <set>

#include "common/error_reason.h"
#include "common/time.h"
#include "tests/e2e/gateway_fixture.h"

namespace safeshare {
namespace {

TEST_F(GatewayE2eTest, ReferralIsAcceptedDeliveredAndAcknowledged) {
  auto police = Agency("hiow-police");
  auto mash = Agency("portsmouth-mash");
  v1::SignedEnvelope sent = Referral("hiow-police", "portsmouth-mash");
  const std::string id = Open(sent).message_id();

  auto receipt = police->Submit(sent);
  ASSERT_TRUE(receipt.ok()) << receipt.status();
  EXPECT_EQ(receipt->message_id(), id);
  EXPECT_EQ(receipt->state(), v1::MESSAGE_STATE_SUBMITTED);
  EXPECT_EQ(receipt->envelope_sha256().size(), 32u);

  auto status = police->GetStatus(id);
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->state(), v1::MESSAGE_STATE_SUBMITTED);

  auto page = mash->Fetch();
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->messages_size(), 1);
  const auto& got = page->messages(0);
  EXPECT_EQ(got.message_id(), id);
  EXPECT_EQ(got.signed_envelope().envelope_bytes(), sent.envelope_bytes());  // byte-exact
  EXPECT_TRUE(got.has_first_delivered_time());
  // The gateway handed over a sealed payload; only the recipient can open it.
  EXPECT_EQ(Open(got.signed_envelope()).payload().ciphertext().find("sealed referral content"),
            std::string::npos);

  status = police->GetStatus(id);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->state(), v1::MESSAGE_STATE_DELIVERED);

  auto ack = mash->Ack(id);
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_TRUE(ack->has_acknowledged_time());
  EXPECT_TRUE(mash->Ack(id).ok()) << "Ack is idempotent";

  status = police->GetStatus(id);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->state(), v1::MESSAGE_STATE_ACKNOWLEDGED);
  ASSERT_EQ(status->history_size(), 3);
  EXPECT_EQ(status->history(0).state(), v1::MESSAGE_STATE_SUBMITTED);
  EXPECT_EQ(status->history(1).state(), v1::MESSAGE_STATE_DELIVERED);
  EXPECT_EQ(status->history(2).state(), v1::MESSAGE_STATE_ACKNOWLEDGED);

  ExpectMailboxEmpty("portsmouth-mash");
}

TEST_F(GatewayE2eTest, SameMessageIdTwiceIsStoredOnceWithTheFirstReceipt) {
  auto police = Agency("hiow-police");
  v1::SignedEnvelope sent = Referral("hiow-police", "portsmouth-mash", "dup-0001");
  auto first = police->Submit(sent);
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = police->Submit(sent);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(first->SerializeAsString(), second->SerializeAsString());
  auto page = Agency("portsmouth-mash")->Fetch();
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->messages_size(), 1);
}

TEST_F(GatewayE2eTest, ReusingAMessageIdForOtherContentIsAlreadyExists) {
  auto police = Agency("hiow-police");
  ASSERT_TRUE(police->Submit(Referral("hiow-police", "portsmouth-mash", "reuse-1")).ok());
  auto other =
      police->Submit(Referral("hiow-police", "portsmouth-mash", "reuse-1", Content("different")));
  EXPECT_EQ(other.status().code(), absl::StatusCode::kAlreadyExists) << other.status();
  EXPECT_EQ(Reason(other.status()), "MESSAGE_ID_TAKEN");
  // Another agency cannot take over (or probe) the id either.
  auto school = Agency("southsea-academy");
  auto hijack = school->Submit(Referral("southsea-academy", "portsmouth-mash", "reuse-1"));
  EXPECT_EQ(hijack.status().code(), absl::StatusCode::kAlreadyExists) << hijack.status();
}

// A sender cannot back-date or future-date what the log records it sent:
// created_time must be near the gateway's clock (5 minutes ahead, 24 hours
// back by default). The refusal says which, and is audited.
TEST_F(GatewayE2eTest, CreatedTimeOutsideTheWindowIsRefusedWithItsReason) {
  auto police = Agency("hiow-police");
  auto dated = [&](const std::string& id, int64_t seconds) {
    v1::Envelope header = Header("hiow-police", "portsmouth-mash", id);
    header.mutable_created_time()->set_seconds(seconds);
    header.mutable_created_time()->set_nanos(0);
    return police->Submit(
        SealByHand(header, Content().SerializeAsString(), "hiow-police", "portsmouth-mash"));
  };
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  auto epoch = dated("dated-1970", 0);
  EXPECT_EQ(epoch.status().code(), absl::StatusCode::kInvalidArgument) << epoch.status();
  EXPECT_EQ(Reason(epoch.status()), "CREATED_TIME_TOO_OLD") << epoch.status();
  auto far = dated("dated-9999", 253402300799);
  EXPECT_EQ(far.status().code(), absl::StatusCode::kInvalidArgument) << far.status();
  EXPECT_EQ(Reason(far.status()), "CREATED_TIME_IN_FUTURE") << far.status();
  EXPECT_EQ(Reason(dated("dated-25h", now - 25 * 3600).status()), "CREATED_TIME_TOO_OLD");
  EXPECT_EQ(Reason(dated("dated-ahead", now + 600).status()), "CREATED_TIME_IN_FUTURE");
  v1::Envelope bad_nanos = Header("hiow-police", "portsmouth-mash", "dated-bad-nanos");
  bad_nanos.mutable_created_time()->set_nanos(-1);
  auto invalid = police->Submit(
      SealByHand(bad_nanos, Content().SerializeAsString(), "hiow-police", "portsmouth-mash"));
  EXPECT_EQ(invalid.status().code(), absl::StatusCode::kInvalidArgument) << invalid.status();
  EXPECT_EQ(Reason(invalid.status()), "CREATED_TIME_INVALID");
  // Within the window: an hour-old envelope (a queued retry) and a clock a
  // minute fast both go through.
  EXPECT_TRUE(dated("dated-1h", now - 3600).ok());
  EXPECT_TRUE(dated("dated-fast", now + 60).ok());

  std::set<std::string> refused;
  for (const auto& rec : Audit()) {
    if (rec.event() == v1::AUDIT_EVENT_TYPE_SUBMIT_REFUSED &&
        rec.status_code() == "INVALID_ARGUMENT" &&
        rec.reason().find("created_time") != std::string::npos) {
      refused.insert(rec.message_id());
    }
  }
  EXPECT_EQ(refused, (std::set<std::string>{"dated-1970", "dated-9999", "dated-25h", "dated-ahead",
                                            "dated-bad-nanos"}));
  auto page = Agency("portsmouth-mash")->Fetch();
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->messages_size(), 2) << "only the two inside the window";
}

// The recipient's agent does not take the gateway's word for the window: a
// delivered envelope must be dated within it around the time the gateway says
// it accepted it, and never ahead of the recipient's own clock.
TEST_F(GatewayE2eTest, TheRecipientsAgentRefusesEnvelopesDatedOutsideTheWindow) {
  auto mash = Agent("portsmouth-mash");
  const absl::Time now = absl::Now();
  auto delivered = [&](const std::string& id, absl::Time created,
                       std::optional<absl::Time> accepted) {
    v1::Envelope header = Header("hiow-police", "portsmouth-mash", id);
    *header.mutable_created_time() = ToTimestamp(created);
    v1::MailboxMessage m;
    m.set_message_id(id);
    *m.mutable_signed_envelope() =
        SealByHand(header, Content().SerializeAsString(), "hiow-police", "portsmouth-mash");
    if (accepted.has_value()) *m.mutable_accepted_time() = ToTimestamp(*accepted);
    v1::ContentRefusalReason reason = v1::CONTENT_REFUSAL_REASON_UNSPECIFIED;
    auto opened = mash->OpenDelivered(m, &reason);
    return std::make_pair(opened.status(), reason);
  };
  // The development keys are minutes old and R8 wants the signing key valid at
  // created_time, so these move the acceptance rather than back-date.
  EXPECT_TRUE(delivered("in-window", now, now + absl::Minutes(2)).first.ok());
  EXPECT_TRUE(delivered("queued-23h", now, now + absl::Hours(23)).first.ok());
  EXPECT_TRUE(delivered("no-accepted-time", now, std::nullopt).first.ok());
  // Accepted more than the window after it was dated (a gateway that skipped
  // its check, or a back-dated envelope).
  auto [old, old_reason] = delivered("back-dated", now, now + absl::Hours(25));
  EXPECT_EQ(old.code(), absl::StatusCode::kInvalidArgument) << old;
  EXPECT_EQ(old_reason, v1::CONTENT_REFUSAL_REASON_CREATED_TIME_OUTSIDE_WINDOW);
  EXPECT_NE(old.message().find("the time the gateway accepted it"), std::string::npos) << old;
  // Dated after the gateway says it accepted it.
  auto [late, late_reason] = delivered("after-acceptance", now, now - absl::Hours(1));
  EXPECT_EQ(late_reason, v1::CONTENT_REFUSAL_REASON_CREATED_TIME_OUTSIDE_WINDOW) << late;
  // Ahead of this agency's clock, with a gateway clock that agrees: the two
  // clocks may just disagree, so it is no verdict (UNAVAILABLE: not refused,
  // opened once this clock catches up).
  auto [ahead, ahead_reason] =
      delivered("future-dated", now + absl::Hours(1), now + absl::Hours(1));
  EXPECT_EQ(ahead.code(), absl::StatusCode::kUnavailable) << ahead;
  EXPECT_NE(ahead.message().find("this agency's clock"), std::string::npos) << ahead;
}

TEST_F(GatewayE2eTest, SenderDifferentFromCertificateIsPermissionDenied) {
  // The police hold Hampshire CRT's signing key (stolen, or a shared
  // workstation) but their own certificate: a perfectly signed envelope in
  // Hampshire's name is still refused, by the sender check alone.
  auto police = Agency("hiow-police");
  v1::SignedEnvelope forged =
      SealByHand(Header("hampshire-crt", "portsmouth-mash", "forged-1"),
                 Content().SerializeAsString(), "hampshire-crt", "portsmouth-mash");
  auto r = police->Submit(forged);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied) << r.status();
  EXPECT_EQ(r.status().message(),
            "envelope.sender_agency_id is hampshire-crt but the client certificate belongs to "
            "hiow-police");
  EXPECT_EQ(Reason(r.status()), "SENDER_NOT_CALLER");
  ExpectMailboxEmpty("portsmouth-mash");
  // The same bytes from Hampshire's own certificate go through: only the caller differed.
  EXPECT_TRUE(Agency("hampshire-crt")->Submit(forged).ok());
  // The refusal is recorded against the caller who tried it.
  bool recorded = false;
  for (const auto& rec : Audit()) {
    recorded =
        recorded || (rec.event() == v1::AUDIT_EVENT_TYPE_SUBMIT_REFUSED &&
                     rec.message_id() == "forged-1" && rec.status_code() == "PERMISSION_DENIED" &&
                     rec.actor() == "safeshare://hips-dev/agency/hiow-police");
  }
  EXPECT_TRUE(recorded);
}

TEST_F(GatewayE2eTest, UnknownRecipientIsNotFound) {
  auto r = Agency("hiow-police")
               ->Submit(SealByHand(Header("hiow-police", "narnia-mash"), "x", "hiow-police",
                                   "portsmouth-mash"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound) << r.status();
  EXPECT_EQ(Reason(r.status()), "RECIPIENT_UNKNOWN");
}

// A revoked agency receives nothing: the refusal says so, so the sender stops
// rather than resealing.
TEST_F(GatewayE2eTest, ARevokedRecipientIsRefusedWithItsReason) {
  const v1::SignedEnvelope sealed = Referral("hiow-police", "iow-mash", "to-revoked");
  ASSERT_EQ(gateway_->Stop(), 0);
  v1::Federation fed = Federation();
  for (auto& a : *fed.mutable_agencies()) {
    if (a.id() == "iow-mash") a.set_revoked(true);
  }
  std::string text;
  ASSERT_TRUE(google::protobuf::TextFormat::PrintToString(fed, &text));
  std::ofstream(federation_ + "/federation.textproto") << text;
  StartGateway({});
  auto r = Agency("hiow-police")->Submit(sealed);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition) << r.status();
  EXPECT_EQ(Reason(r.status()), "RECIPIENT_REVOKED");
}

TEST_F(GatewayE2eTest, EmptyEnvelopeIsInvalidArgument) {
  auto r = Agency("hiow-police")->Submit(v1::SignedEnvelope());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  EXPECT_EQ(Reason(r.status()), "ENVELOPE_MALFORMED");
  EXPECT_EQ(FieldOf(r.status()), "signed_envelope.envelope_bytes");
}

TEST_F(GatewayE2eTest, MalformedEnvelopeBytesAreInvalidArgument) {
  auto police = Agency("hiow-police");
  v1::SignedEnvelope garbage;
  garbage.set_envelope_bytes(std::string("\xff\xff\xff\xff\x0f garbage", 13));
  EXPECT_EQ(police->Submit(garbage).status().code(), absl::StatusCode::kInvalidArgument);

  // Truncated: a valid envelope cut short.
  v1::SignedEnvelope cut = Referral("hiow-police", "portsmouth-mash");
  cut.set_envelope_bytes(cut.envelope_bytes().substr(0, cut.envelope_bytes().size() / 2));
  EXPECT_EQ(police->Submit(cut).status().code(), absl::StatusCode::kInvalidArgument);

  // Well-formed protobuf with a field the contract does not define.
  v1::SignedEnvelope extra = Referral("hiow-police", "portsmouth-mash");
  extra.mutable_envelope_bytes()->append(std::string("\xf8\x07\x01", 3));  // field 127 = 1
  EXPECT_EQ(police->Submit(extra).status().code(), absl::StatusCode::kInvalidArgument);

  // Shape: no declaration.
  v1::Envelope e = Open(Referral("hiow-police", "portsmouth-mash"));
  e.clear_declaration();
  v1::SignedEnvelope no_decl;
  no_decl.set_envelope_bytes(e.SerializeAsString());
  auto r = police->Submit(no_decl);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("declaration"), std::string::npos);
  EXPECT_EQ(Reason(r.status()), "ENVELOPE_MALFORMED");
  EXPECT_EQ(FieldOf(r.status()), "envelope.declaration");

  ExpectMailboxEmpty("portsmouth-mash");
}

TEST_F(GatewayE2eTest, OversizedEnvelopeIsResourceExhausted) {
  gateway_->Stop();
  StartGateway({"--max_message_bytes=65536"});
  auto police = Agency("hiow-police");
  // Just over the limit: the gateway's own check answers.
  auto r = police->Submit(
      Referral("hiow-police", "portsmouth-mash", "", Content(std::string(70000, 'x'))));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted) << r.status();
  EXPECT_NE(r.status().message().find("65536"), std::string::npos) << r.status();
  EXPECT_EQ(Reason(r.status()), "MESSAGE_TOO_LARGE");
  // Far over: gRPC's receive limit answers, with the same code.
  r = police->Submit(
      Referral("hiow-police", "portsmouth-mash", "", Content(std::string(1 << 20, 'x'))));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted) << r.status();
  // Under the limit still works.
  EXPECT_TRUE(
      police
          ->Submit(Referral("hiow-police", "portsmouth-mash", "", Content(std::string(60000, 'x'))))
          .ok());
}

TEST_F(GatewayE2eTest, SealedReferralOpensToExactlyWhatWasSentAndTheStoreHoldsNoPlaintext) {
  const std::string marker = "MARKER-7f3a9c-never-in-the-gateway";
  auto police = Agent("hiow-police");
  v1::SealedContent content = Content(marker);
  content.mutable_referral()->mutable_record()->set_domestic_abuse("DASH high risk");
  auto receipt = police->Send(Message("hiow-police", "portsmouth-mash", "sealed-1", content));
  ASSERT_TRUE(receipt.ok()) << receipt.status();

  auto inbox = Agent("portsmouth-mash")->Receive();
  ASSERT_TRUE(inbox.ok()) << inbox.status();
  ASSERT_EQ(inbox->received.size(), 1u);
  EXPECT_TRUE(inbox->refused.empty());
  const auto& got = inbox->received[0];
  EXPECT_EQ(got.message_id, "sealed-1");
  EXPECT_EQ(got.header.sender_agency_id(), "hiow-police");
  EXPECT_EQ(got.content.SerializeAsString(), content.SerializeAsString());

  // Stop the gateway so the WAL is checkpointed, then search every file of
  // the database for the marker.
  ASSERT_EQ(gateway_->Stop(), 0);
  for (const auto& entry : std::filesystem::directory_iterator(data_.path() + "/gw")) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(bytes.find(marker), std::string::npos) << entry.path();
    EXPECT_EQ(bytes.find("DASH high risk"), std::string::npos) << entry.path();
  }
  std::ifstream db(gateway_->db_path(), std::ios::binary);
  std::string db_bytes((std::istreambuf_iterator<char>(db)), std::istreambuf_iterator<char>());
  EXPECT_NE(db_bytes.find("sealed-1"), std::string::npos) << "the search can find what is there";
}

TEST_F(GatewayE2eTest, TamperedEnvelopesAreRefusedAtSubmit) {
  auto police = Agency("hiow-police");
  const v1::SignedEnvelope good = Referral("hiow-police", "portsmouth-mash");

  v1::Envelope e = Open(good);
  const size_t ct_at = good.envelope_bytes().find(e.payload().ciphertext());
  ASSERT_NE(ct_at, std::string::npos);

  v1::SignedEnvelope flipped_ct = good;
  (*flipped_ct.mutable_envelope_bytes())[ct_at + 3] ^= 0x01;
  EXPECT_EQ(police->Submit(flipped_ct).status().code(), absl::StatusCode::kUnauthenticated);

  v1::SignedEnvelope flipped_header = good;
  const size_t practitioner_at = good.envelope_bytes().find("pc-4471");
  ASSERT_NE(practitioner_at, std::string::npos);
  (*flipped_header.mutable_envelope_bytes())[practitioner_at] ^= 0x01;  // "qc-4471"
  EXPECT_EQ(police->Submit(flipped_header).status().code(), absl::StatusCode::kUnauthenticated);

  v1::SignedEnvelope flipped_sig = good;
  (*flipped_sig.mutable_signature())[10] ^= 0x80;
  auto r = police->Submit(flipped_sig);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(r.status().message().find("does not verify"), std::string::npos) << r.status();
  EXPECT_EQ(Reason(r.status()), "SIGNATURE_INVALID") << "a sender bug: stop";

  // Replayed to another recipient: the recipient is signed, so changing it breaks
  // the signature...
  v1::Envelope redirected = e;
  redirected.set_recipient_agency_id("iow-mash");
  v1::SignedEnvelope replay = good;
  replay.set_envelope_bytes(redirected.SerializeAsString());
  EXPECT_EQ(police->Submit(replay).status().code(), absl::StatusCode::kUnauthenticated);

  ExpectMailboxEmpty("portsmouth-mash");
  ExpectMailboxEmpty("iow-mash");
  // ...and the untouched envelope still goes through.
  EXPECT_TRUE(police->Submit(good).ok());
}

TEST_F(GatewayE2eTest, KeyProblemsAreRefusedWithPreciseCodes) {
  auto police = Agency("hiow-police");

  // Sealed to Portsmouth's key but addressed to the Isle of Wight (a sender
  // re-signing a replay): wrong recipient key id.
  v1::SignedEnvelope wrong_key =
      SealByHand(Header("hiow-police", "iow-mash"), Content().SerializeAsString(), "hiow-police",
                 "portsmouth-mash");
  auto r = police->Submit(wrong_key);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition) << r.status();
  EXPECT_NE(r.status().message().find("current encryption key"), std::string::npos);
  EXPECT_EQ(Reason(r.status()), "RECIPIENT_KEY_NOT_CURRENT") << "refresh and reseal";

  // Signed with another agency's key (the school's), sent as the police.
  v1::SignedEnvelope other_agency =
      SealByHand(Header("hiow-police", "portsmouth-mash"), Content().SerializeAsString(),
                 "southsea-academy", "portsmouth-mash");
  r = police->Submit(other_agency);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied) << r.status();
  EXPECT_NE(r.status().message().find("belongs to southsea-academy"), std::string::npos);
  EXPECT_EQ(Reason(r.status()), "SIGNING_KEY_NOT_SENDERS");

  // The sender's own key, but its encryption key named as the signer.
  v1::SignedEnvelope not_signing = Referral("hiow-police", "portsmouth-mash");
  const v1::Federation fed = Federation();
  for (const auto& a : fed.agencies()) {
    if (a.id() != "hiow-police") continue;
    for (const auto& k : a.keys()) {
      if (k.purpose() == v1::KEY_PURPOSE_ENCRYPTION) not_signing.set_signing_key_id(k.key_id());
    }
  }
  r = police->Submit(not_signing);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied) << r.status();
  EXPECT_NE(r.status().message().find("not a signing key"), std::string::npos) << r.status();
  EXPECT_EQ(Reason(r.status()), "SIGNING_KEY_NOT_SENDERS");

  // A signing key the directory has never seen.
  v1::SignedEnvelope unknown = Referral("hiow-police", "portsmouth-mash");
  unknown.set_signing_key_id(std::string(32, 'a'));
  r = police->Submit(unknown);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(Reason(r.status()), "SIGNING_KEY_UNKNOWN");

  // Truncated and oversized sealed fields.
  v1::SignedEnvelope short_sig = Referral("hiow-police", "portsmouth-mash");
  short_sig.mutable_signature()->pop_back();
  EXPECT_EQ(police->Submit(short_sig).status().code(), absl::StatusCode::kInvalidArgument);
  v1::SignedEnvelope short_nonce = Referral("hiow-police", "portsmouth-mash");
  v1::Envelope e = Open(short_nonce);
  e.mutable_payload()->mutable_nonce()->pop_back();
  short_nonce.set_envelope_bytes(e.SerializeAsString());
  auto nr = police->Submit(short_nonce);
  EXPECT_EQ(nr.status().code(), absl::StatusCode::kInvalidArgument) << nr.status();
  EXPECT_NE(nr.status().message().find("nonce"), std::string::npos);
  EXPECT_EQ(Reason(nr.status()), "ENVELOPE_MALFORMED");
  EXPECT_EQ(FieldOf(nr.status()), "envelope.payload.nonce");
  v1::SignedEnvelope raw = Referral("hiow-police", "portsmouth-mash");
  v1::Envelope bad = Open(raw);
  bad.mutable_payload()->mutable_ephemeral_public_key()->append("!");
  raw.set_envelope_bytes(bad.SerializeAsString());
  r = police->Submit(raw);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  EXPECT_NE(r.status().message().find("ephemeral_public_key"), std::string::npos);
}

// G9h: a recipient that has revoked its encryption key without publishing
// another can be sent nothing; the reason says to wait, not to reseal.
TEST_F(GatewayE2eTest, ARecipientWithNoCurrentEncryptionKeyIsRefusedWithItsReason) {
  const v1::SignedEnvelope sealed = Referral("hiow-police", "portsmouth-mash", "no-key-1");
  auto mash = Agent("portsmouth-mash");
  auto current = mash->keyring().Newest(envelope::PrivateKey::Type::kEncryption);
  ASSERT_TRUE(current.ok());
  ASSERT_TRUE(mash->RevokeKey(current->KeyId()).ok());
  auto r = Agency("hiow-police")->Submit(sealed);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition) << r.status();
  EXPECT_NE(r.status().message().find("no current encryption key"), std::string::npos)
      << r.status();
  EXPECT_EQ(Reason(r.status()), "RECIPIENT_KEY_MISSING");
}

// A1-A7 (docs/envelope-format.md, 6.1): the sender's agent seals nothing the
// gateway or the recipient would refuse, and says why locally.
TEST_F(GatewayE2eTest, TheSendersAgentSealsNothingItsPartnersWouldRefuse) {
  auto police = Agent("hiow-police");
  ASSERT_TRUE(police);
  // A2: content of another kind, and a category the declaration does not list.
  auto other_kind = Message("hiow-police", "portsmouth-mash", "a2-kind");
  other_kind.content.Clear();
  other_kind.content.mutable_information_request()->set_questions("q");
  EXPECT_EQ(police->Seal(other_kind).status().code(), absl::StatusCode::kInvalidArgument);
  auto undeclared = Message("hiow-police", "portsmouth-mash", "a2-category");
  undeclared.content.mutable_referral()->mutable_record()->set_health("h");
  auto r = police->Seal(undeclared);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  EXPECT_NE(r.status().message().find("categories"), std::string::npos) << r.status();
  // A3: a recipient the directory does not have.
  EXPECT_EQ(police->Seal(Message("hiow-police", "narnia-mash", "a3")).status().code(),
            absl::StatusCode::kNotFound);
  // A7: over the default declaration limits, refused before it is sent.
  auto long_text = Message("hiow-police", "portsmouth-mash", "a7");
  long_text.declaration.set_necessity_justification(std::string(2049, 'n'));
  r = police->Seal(long_text);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  EXPECT_NE(r.status().message().find("max_text_field_bytes"), std::string::npos) << r.status();
  // A4: a recipient with no current encryption key.
  auto mash = Agent("portsmouth-mash");
  auto mash_key = mash->keyring().Newest(envelope::PrivateKey::Type::kEncryption);
  ASSERT_TRUE(mash_key.ok());
  ASSERT_TRUE(mash->RevokeKey(mash_key->KeyId()).ok());
  r = police->Seal(Message("hiow-police", "portsmouth-mash", "a4"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition) << r.status();
  EXPECT_NE(r.status().message().find("no current encryption key"), std::string::npos);
  // A5: the private half of the agency's current signing key is missing.
  auto own = police->keyring().Newest(envelope::PrivateKey::Type::kSigning);
  ASSERT_TRUE(own.ok());
  ASSERT_TRUE(
      std::filesystem::remove(AgencyDir("hiow-police") + "/keys/signing-" + own->KeyId() + ".pem"));
  r = Agent("hiow-police")->Seal(Message("hiow-police", "hampshire-crt", "a5"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition) << r.status();
  EXPECT_NE(r.status().message().find("not in this keyring"), std::string::npos) << r.status();
  // A5: an agency that revoked its signing key without publishing another.
  auto school = Agent("southsea-academy");
  auto school_key = school->keyring().Newest(envelope::PrivateKey::Type::kSigning);
  ASSERT_TRUE(school_key.ok());
  auto revoked = school->RevokeKey(school_key->KeyId());
  ASSERT_TRUE(revoked.ok()) << revoked.status();
  r = Agent("southsea-academy")->Seal(Message("southsea-academy", "hampshire-crt", "a5-none"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition) << r.status();
  EXPECT_NE(r.status().message().find("no current signing key"), std::string::npos) << r.status();
  ExpectMailboxEmpty("portsmouth-mash");
  ExpectMailboxEmpty("hampshire-crt");
}

TEST_F(GatewayE2eTest, AllowedReferralCarriesTheDecisionInItsReceipt) {
  auto receipt = Agent("hiow-police")->Send(Message("hiow-police", "portsmouth-mash"));
  ASSERT_TRUE(receipt.ok()) << receipt.status();
  const auto& d = receipt->decision();
  EXPECT_EQ(d.decision(), v1::DECISION_ALLOW);
  EXPECT_EQ(d.rule_pack(), "golden-rules-2026");  // the default
  EXPECT_EQ(d.rule_pack_version(), "2026.1");
  // The receipt (and so the audit record) names the dated rules in force.
  EXPECT_NE(std::find(d.rules_in_force().begin(), d.rules_in_force().end(),
                      "duty_to_share (from 2026-09-30)"),
            d.rules_in_force().end());
  EXPECT_FALSE(d.isa_id().empty());
  EXPECT_EQ(d.findings_size(), 7);
}

TEST_F(GatewayE2eTest, DeniedShareIsFailedPreconditionWithFindingsAndNeverDelivered) {
  auto m = Message("hiow-police", "portsmouth-mash", "denied-1");
  m.declaration.clear_lawful_basis();
  v1::SubmitResponse refused;
  auto agent = Agent("hiow-police");
  auto r = agent->Send(m, &refused);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition) << r.status();
  EXPECT_NE(r.status().message().find("lawful_basis"), std::string::npos) << r.status();
  EXPECT_EQ(Reason(r.status()), "POLICY_DENIED") << "fix the declaration, do not reseal";
  EXPECT_EQ(refused.message_id(), "denied-1");
  EXPECT_EQ(refused.state(), v1::MESSAGE_STATE_REFUSED);
  EXPECT_EQ(refused.decision().decision(), v1::DECISION_DENY);
  bool failed_lawful_basis = false;
  for (const auto& f : refused.decision().findings()) {
    if (f.check() == "lawful_basis") failed_lawful_basis = f.outcome() == v1::FINDING_OUTCOME_FAIL;
  }
  EXPECT_TRUE(failed_lawful_basis);

  // The same bytes again (a retry after a lost answer): the first decision,
  // with its receipt and reason, not a second one (G13).
  auto m2 = Message("hiow-police", "portsmouth-mash", "denied-2");
  m2.declaration.clear_lawful_basis();
  auto denied = agent->Seal(m2);
  ASSERT_TRUE(denied.ok());
  v1::SubmitResponse once, twice;
  auto r1 = agent->client().Submit(*denied, &once);
  auto r2 = agent->client().Submit(*denied, &twice);
  EXPECT_EQ(r1.status().code(), absl::StatusCode::kFailedPrecondition) << r1.status();
  EXPECT_EQ(r2.status().code(), absl::StatusCode::kFailedPrecondition) << r2.status();
  EXPECT_EQ(Reason(r2.status()), "POLICY_DENIED");
  EXPECT_EQ(twice.state(), v1::MESSAGE_STATE_REFUSED);
  EXPECT_EQ(once.SerializeAsString(), twice.SerializeAsString()) << "the first receipt";

  // A retry gets the same answer; the sender can see the refusal.
  v1::SubmitResponse again;
  auto sealed = agent->Seal(m);
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(agent->client().Submit(*sealed, &again).status().code(),
            absl::StatusCode::kAlreadyExists)
      << "a reseal has new bytes: same id, other envelope";
  auto status = agent->client().GetStatus("denied-1");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->state(), v1::MESSAGE_STATE_REFUSED);
  ExpectMailboxEmpty("portsmouth-mash");
}

TEST_F(GatewayE2eTest, HeldShareStaysOutOfTheMailboxAndShowsInStatus) {
  auto m = Message("hiow-police", "portsmouth-mash", "held-1");
  m.declaration.set_advice_status(v1::ADVICE_STATUS_REQUESTED);
  m.declaration.set_urgency(v1::URGENCY_URGENT);
  auto agent = Agent("hiow-police");
  auto receipt = agent->Send(m);
  ASSERT_TRUE(receipt.ok()) << receipt.status();
  EXPECT_EQ(receipt->state(), v1::MESSAGE_STATE_HELD);
  EXPECT_EQ(receipt->decision().decision(), v1::DECISION_HOLD_FOR_ADVICE);
  auto status = agent->client().GetStatus("held-1");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->state(), v1::MESSAGE_STATE_HELD);
  ExpectMailboxEmpty("portsmouth-mash");
  EXPECT_EQ(Agency("portsmouth-mash")->Ack("held-1").status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Agency("portsmouth-mash")->GetStatus("held-1").status().code(),
            absl::StatusCode::kPermissionDenied)
      << "the recipient does not learn of a held message";

  // The same request at immediate urgency is never held.
  auto urgent = Message("hiow-police", "portsmouth-mash", "immediate-1");
  urgent.declaration.set_advice_status(v1::ADVICE_STATUS_REQUESTED);
  urgent.declaration.set_urgency(v1::URGENCY_IMMEDIATE);
  auto now = agent->Send(urgent);
  ASSERT_TRUE(now.ok()) << now.status();
  EXPECT_EQ(now->state(), v1::MESSAGE_STATE_SUBMITTED);
}

// Portsmouth MASH convenes a strategy discussion and asks the team (police
// and hospitals) what they hold (deploy/examples/portsmouth-strategy-team-*).
agents::OutgoingMessage TeamRequest(const std::string& id) {
  return ExampleMessage(v1::MESSAGE_KIND_INFORMATION_REQUEST, "portsmouth-mash", "",
                        "portsmouth-strategy-team-request", id,
                        v1::PRACTITIONER_ROLE_MASH_PRACTITIONER);
}

TEST_F(GatewayE2eTest, ATeamMessageReachesEveryMemberOnceEachAcknowledgingItsOwnCopy) {
  auto mash = Agent("portsmouth-mash");
  auto copies = mash->SendToTeam(TeamRequest("strategy-1"), "portsmouth-strategy-discussion");
  ASSERT_TRUE(copies.ok()) << copies.status();
  std::set<std::string> members;
  for (const auto& copy : *copies) {
    ASSERT_TRUE(copy.receipt.ok()) << copy.member_agency_id << ": " << copy.receipt.status();
    EXPECT_EQ(copy.receipt->message_id(), "strategy-1:" + copy.member_agency_id);
    EXPECT_EQ(copy.receipt->state(), v1::MESSAGE_STATE_SUBMITTED);
    members.insert(copy.member_agency_id);
  }
  // Every member but the sender, each under its own agreement.
  EXPECT_EQ(members, (std::set<std::string>{"hiow-police", "portsmouth-hospitals"}));
  EXPECT_NE((*copies)[0].receipt->decision().isa_id(), "");

  for (const std::string member : {"hiow-police", "portsmouth-hospitals"}) {
    auto inbox = Agent(member)->Receive();
    ASSERT_TRUE(inbox.ok()) << inbox.status();
    ASSERT_EQ(inbox->received.size(), 1u) << member;
    const auto& got = inbox->received[0];
    EXPECT_EQ(got.message_id, "strategy-1:" + member);
    EXPECT_EQ(got.header.team_id(), "portsmouth-strategy-discussion");
    EXPECT_EQ(got.header.team_message_id(), "strategy-1");
    EXPECT_FALSE(got.content.information_request().questions().empty());
  }
  // The police acknowledge; the hospitals have not yet: tracked per member.
  ASSERT_TRUE(Agency("hiow-police")->Ack("strategy-1:hiow-police").ok());
  auto police = mash->client().GetStatus("strategy-1:hiow-police");
  auto health = mash->client().GetStatus("strategy-1:portsmouth-hospitals");
  ASSERT_TRUE(police.ok() && health.ok());
  EXPECT_EQ(police->state(), v1::MESSAGE_STATE_ACKNOWLEDGED);
  EXPECT_NE(health->state(), v1::MESSAGE_STATE_ACKNOWLEDGED);
  // Once each: the police's mailbox has nothing more.
  auto again = Agent("hiow-police")->Receive();
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->received.empty());
}

// Each copy is decided under the member's own agreement: criminal-offence
// data may go to the police for a strategy discussion, not to the hospital.
TEST_F(GatewayE2eTest, EachTeamCopyIsDecidedUnderThatMembersAgreement) {
  auto m = Message("portsmouth-mash", "", "strategy-2");
  m.practitioner.set_role(v1::PRACTITIONER_ROLE_MASH_PRACTITIONER);
  m.declaration.set_purpose(v1::PURPOSE_STRATEGY_DISCUSSION);
  m.declaration.clear_protected_identities();
  auto copies = Agent("portsmouth-mash")->SendToTeam(m, "portsmouth-strategy-discussion");
  ASSERT_TRUE(copies.ok()) << copies.status();
  ASSERT_EQ(copies->size(), 2u);
  for (const auto& copy : *copies) {
    if (copy.member_agency_id == "hiow-police") {
      EXPECT_TRUE(copy.receipt.ok()) << copy.receipt.status();
    } else {
      EXPECT_EQ(copy.receipt.status().code(), absl::StatusCode::kFailedPrecondition);
      EXPECT_EQ(copy.refused.state(), v1::MESSAGE_STATE_REFUSED);
      EXPECT_NE(copy.receipt.status().message().find("criminal offence"), std::string::npos)
          << copy.receipt.status();
    }
  }
  auto hospital = Agent("portsmouth-hospitals")->Receive();
  ASSERT_TRUE(hospital.ok());
  EXPECT_TRUE(hospital->received.empty());

  // A copy for an agency outside the team, or under another id, is refused.
  auto outsider = Message("portsmouth-mash", "southsea-academy", "strategy-3:southsea-academy");
  outsider.practitioner.set_role(v1::PRACTITIONER_ROLE_MASH_PRACTITIONER);
  outsider.team_id = "portsmouth-strategy-discussion";
  outsider.team_message_id = "strategy-3";
  auto r = Agent("portsmouth-mash")->Send(outsider);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  EXPECT_NE(r.status().message().find("not a member of team"), std::string::npos) << r.status();
  EXPECT_EQ(Reason(r.status()), "NOT_TEAM_MEMBER");
  // A copy naming a team the directory does not have.
  auto no_team = Message("portsmouth-mash", "hiow-police", "strategy-5:hiow-police");
  no_team.practitioner.set_role(v1::PRACTITIONER_ROLE_MASH_PRACTITIONER);
  no_team.team_id = "no-such-team";
  no_team.team_message_id = "strategy-5";
  r = Agent("portsmouth-mash")->Send(no_team);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound) << r.status();
  EXPECT_EQ(Reason(r.status()), "TEAM_UNKNOWN");
  auto misnamed = Message("portsmouth-mash", "hiow-police", "strategy-4");
  misnamed.team_id = "portsmouth-strategy-discussion";
  misnamed.team_message_id = "strategy-3";
  r = Agent("portsmouth-mash")->Send(misnamed);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  EXPECT_EQ(Agent("portsmouth-mash")->SendToTeam(m, "no-such-team").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace safeshare
