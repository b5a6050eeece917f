#include "gateway/store/sqlite_store.h"

#include <sqlite3.h>

#include "gtest/gtest.h"
#include "tests/support/test_support.h"

namespace safeshare::gateway {
namespace {

StoredMessage Message(const std::string& id, const std::string& to,
                      const std::string& from = "hiow-police") {
  StoredMessage m;
  m.message_id = id;
  m.sender_agency_id = from;
  m.recipient_agency_id = to;
  m.kind = v1::MESSAGE_KIND_REFERRAL;
  m.signed_envelope = "envelope-" + id;
  m.envelope_sha256 = std::string(32, 'h');
  m.receipt = "receipt-" + id;
  m.state = v1::MESSAGE_STATE_SUBMITTED;
  m.accepted_time = absl::FromUnixSeconds(1764000000);
  return m;
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = OpenStore("sqlite://" + path_);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
  }
  safeshare::testing::TempDir dir_;
  std::string path_ = dir_.path() + "/store.db";
  std::unique_ptr<Store> store_;
};

TEST_F(SqliteStoreTest, InsertIsIdempotentByMessageId) {
  auto first = store_->InsertMessage(Message("m1", "portsmouth-mash"));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(first->inserted);
  StoredMessage again = Message("m1", "iow-mash");
  again.receipt = "other";
  auto second = store_->InsertMessage(again);
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->inserted);
  EXPECT_EQ(second->message.recipient_agency_id, "portsmouth-mash");
  EXPECT_EQ(second->message.receipt, "receipt-m1");
}

TEST_F(SqliteStoreTest, FetchReturnsOnlyTheRecipientsUnacknowledgedMailInOrder) {
  ASSERT_TRUE(store_->InsertMessage(Message("a", "portsmouth-mash")).ok());
  ASSERT_TRUE(store_->InsertMessage(Message("b", "iow-mash")).ok());
  ASSERT_TRUE(store_->InsertMessage(Message("c", "portsmouth-mash")).ok());
  const absl::Time now = absl::FromUnixSeconds(1764000100);
  auto got = store_->FetchForRecipient("portsmouth-mash", 0, 10, now);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].message_id, "a");
  EXPECT_EQ((*got)[1].message_id, "c");
  EXPECT_EQ((*got)[0].state, v1::MESSAGE_STATE_DELIVERED);
  EXPECT_EQ((*got)[0].first_delivered_time, now);

  // Paging by sequence.
  auto after = store_->FetchForRecipient("portsmouth-mash", (*got)[0].sequence, 10, now);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 1u);
  EXPECT_EQ((*after)[0].message_id, "c");

  // First delivery time is kept on redelivery.
  auto again = store_->FetchForRecipient("portsmouth-mash", 0, 10, now + absl::Hours(1));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)[0].first_delivered_time, now);

  ASSERT_TRUE(store_->Acknowledge("portsmouth-mash", "a", now).ok());
  auto rest = store_->FetchForRecipient("portsmouth-mash", 0, 10, now);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_EQ((*rest)[0].message_id, "c");
}

TEST_F(SqliteStoreTest, OnlyTheRecipientCanAcknowledge) {
  ASSERT_TRUE(store_->InsertMessage(Message("m", "portsmouth-mash")).ok());
  const absl::Time now = absl::FromUnixSeconds(1764000200);
  EXPECT_EQ(store_->Acknowledge("hiow-police", "m", now).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(store_->Acknowledge("iow-mash", "m", now).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(store_->Acknowledge("portsmouth-mash", "missing", now).status().code(),
            absl::StatusCode::kPermissionDenied);
  auto acked = store_->Acknowledge("portsmouth-mash", "m", now);
  ASSERT_TRUE(acked.ok());
  EXPECT_EQ(acked->state, v1::MESSAGE_STATE_ACKNOWLEDGED);
  auto twice = store_->Acknowledge("portsmouth-mash", "m", now + absl::Hours(1));
  ASSERT_TRUE(twice.ok());
  EXPECT_EQ(twice->acknowledged_time, now) << "the first acknowledgement stands";
}

TEST_F(SqliteStoreTest, HeldMessagesAreNotInTheMailbox) {
  StoredMessage held = Message("h", "portsmouth-mash");
  held.state = v1::MESSAGE_STATE_HELD;
  ASSERT_TRUE(store_->InsertMessage(held).ok());
  auto got = store_->FetchForRecipient("portsmouth-mash", 0, 10, absl::Now());
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->empty());
  EXPECT_EQ(store_->Acknowledge("portsmouth-mash", "h", absl::Now()).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(SqliteStoreTest, HistoryRecordsEachStateInOrder) {
  ASSERT_TRUE(store_->InsertMessage(Message("m", "iow-mash")).ok());
  ASSERT_TRUE(store_->FetchForRecipient("iow-mash", 0, 10, absl::Now()).ok());
  ASSERT_TRUE(store_->Acknowledge("iow-mash", "m", absl::Now()).ok());
  auto m = store_->GetMessage("m");
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->history.size(), 3u);
  EXPECT_EQ(m->history[0].state, v1::MESSAGE_STATE_SUBMITTED);
  EXPECT_EQ(m->history[1].state, v1::MESSAGE_STATE_DELIVERED);
  EXPECT_EQ(m->history[2].state, v1::MESSAGE_STATE_ACKNOWLEDGED);
  EXPECT_EQ(store_->GetMessage("nope").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(SqliteStoreTest, DataSurvivesReopening) {
  ASSERT_TRUE(store_->InsertMessage(Message("kept", "iow-mash")).ok());
  store_.reset();
  auto reopened = OpenStore("sqlite://" + path_);
  ASSERT_TRUE(reopened.ok());
  auto m = (*reopened)->GetMessage("kept");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->signed_envelope, "envelope-kept");
}

AgencyKey Key(const std::string& agency, const std::string& id, bool current = true) {
  AgencyKey k;
  k.agency_id = agency;
  k.key.set_key_id(id);
  k.key.set_purpose(v1::KEY_PURPOSE_ENCRYPTION);
  k.key.set_public_key(std::string(32, id[0]));
  k.key.set_current(current);
  return k;
}

TEST_F(SqliteStoreTest, PublishingAKeyDemotesThePreviousOne) {
  const absl::Time now = absl::FromUnixSeconds(1764000000);
  ASSERT_TRUE(store_->SeedKey(Key("iow-mash", "a1"), now).ok());
  auto published = store_->PublishKey(Key("iow-mash", "b2"), now);
  ASSERT_TRUE(published.ok()) << published.status();
  EXPECT_TRUE(published->current());
  auto keys = store_->ListKeys();
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_FALSE((*keys)[0].key.current()) << "a1 is now the previous key";
  EXPECT_TRUE((*keys)[1].key.current());
  // Idempotent for its owner, refused for anyone else.
  EXPECT_TRUE(store_->PublishKey(Key("iow-mash", "b2"), now).ok());
  EXPECT_EQ(store_->PublishKey(Key("hiow-police", "b2"), now).status().code(),
            absl::StatusCode::kAlreadyExists);
  // Reseeding the federation file's (older) key does not make it current again.
  ASSERT_TRUE(store_->SeedKey(Key("iow-mash", "a1"), now).ok());
  ASSERT_TRUE(store_->SeedKey(Key("iow-mash", "c3"), now).ok());
  keys = store_->ListKeys();
  int current = 0;
  for (const auto& k : *keys) current += k.key.current();
  EXPECT_EQ(current, 1);
}

TEST_F(SqliteStoreTest, RevocationIsOwnedAndFinal) {
  const absl::Time now = absl::FromUnixSeconds(1764000000);
  ASSERT_TRUE(store_->SeedKey(Key("iow-mash", "a1"), now).ok());
  EXPECT_EQ(store_->RevokeKey("hiow-police", "a1", now).status().code(),
            absl::StatusCode::kNotFound);
  auto revoked = store_->RevokeKey("iow-mash", "a1", now);
  ASSERT_TRUE(revoked.ok());
  EXPECT_TRUE(revoked->revoked());
  EXPECT_FALSE(revoked->current());
  EXPECT_EQ(store_->PublishKey(Key("iow-mash", "a1"), now).status().code(),
            absl::StatusCode::kAlreadyExists)
      << "a revoked key cannot come back";
}

TEST_F(SqliteStoreTest, ContentRefusalTakesTheMessageOutOfTheMailbox) {
  ASSERT_TRUE(store_->InsertMessage(Message("r", "iow-mash")).ok());
  EXPECT_EQ(store_->RefuseContent("hiow-police", "r", v1::CONTENT_REFUSAL_REASON_UNDECRYPTABLE,
                                  "x", absl::Now())
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
  auto refused = store_->RefuseContent("iow-mash", "r", v1::CONTENT_REFUSAL_REASON_UNDECRYPTABLE,
                                       "did not open", absl::Now());
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->state, v1::MESSAGE_STATE_CONTENT_REFUSED);
  auto m = store_->GetMessage("r");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->refusal_reason, v1::CONTENT_REFUSAL_REASON_UNDECRYPTABLE);
  EXPECT_EQ(m->refusal_detail, "did not open");
  auto pending = store_->FetchForRecipient("iow-mash", 0, 10, absl::Now());
  ASSERT_TRUE(pending.ok());
  EXPECT_TRUE(pending->empty());
}

TEST_F(SqliteStoreTest, OverdueMessagesEscalateOnceAndAcknowledgedContentExpires) {
  const absl::Time t0 = absl::FromUnixSeconds(1764000000);
  StoredMessage m = Message("late", "iow-mash");
  m.acknowledge_deadline = t0 + absl::Hours(1);
  m.retention = absl::Hours(24);
  ASSERT_TRUE(store_->InsertMessage(m).ok());
  StoredMessage on_time = Message("on-time", "iow-mash");
  on_time.acknowledge_deadline = t0 + absl::Hours(5);
  ASSERT_TRUE(store_->InsertMessage(on_time).ok());

  std::vector<StoredMessage> escalated;
  auto escalate = [&](absl::Time now) {
    return store_->CommitAndWait([&](StoreTransaction& tx) {
      auto got = tx.EscalateOverdue(now, 10);
      if (got.ok()) escalated = *got;
      return got.status();
    });
  };
  ASSERT_TRUE(escalate(t0 + absl::Minutes(59)).ok());
  EXPECT_TRUE(escalated.empty());
  ASSERT_TRUE(escalate(t0 + absl::Hours(2)).ok());
  ASSERT_EQ(escalated.size(), 1u);
  EXPECT_EQ(escalated[0].message_id, "late");
  EXPECT_EQ(escalated[0].state, v1::MESSAGE_STATE_ESCALATED);
  ASSERT_TRUE(escalate(t0 + absl::Hours(3)).ok());
  EXPECT_TRUE(escalated.empty()) << "escalated once";
  // Still in the mailbox until acknowledged: never dropped.
  auto pending = store_->FetchForRecipient("iow-mash", 0, 10, t0 + absl::Hours(3));
  ASSERT_TRUE(pending.ok());
  EXPECT_EQ(pending->size(), 2u);

  ASSERT_TRUE(store_->Acknowledge("iow-mash", "late", t0 + absl::Hours(4)).ok());
  std::vector<StoredMessage> purged;
  auto purge = [&](absl::Time now) {
    return store_->CommitAndWait([&](StoreTransaction& tx) {
      auto got = tx.PurgeExpired(now, 10);
      if (got.ok()) purged = *got;
      return got.status();
    });
  };
  ASSERT_TRUE(purge(t0 + absl::Hours(27)).ok());
  EXPECT_TRUE(purged.empty()) << "retention runs from the acknowledgement";
  ASSERT_TRUE(purge(t0 + absl::Hours(29)).ok());
  ASSERT_EQ(purged.size(), 1u);
  auto after = store_->GetMessage("late");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->state, v1::MESSAGE_STATE_EXPIRED);
  EXPECT_TRUE(after->signed_envelope.empty());
  EXPECT_EQ(after->history.back().state, v1::MESSAGE_STATE_EXPIRED);
}

TEST_F(SqliteStoreTest, ARequestStaysOpenUntilAnsweredAndTheReplyClosesIt) {
  const absl::Time t0 = absl::FromUnixSeconds(1764000000);
  StoredMessage request = Message("req", "hampshire-crt", "southampton-mash");
  request.kind = v1::MESSAGE_KIND_INFORMATION_REQUEST;
  request.acknowledge_deadline = t0 + absl::Hours(1);
  request.declaration = "declared";
  ASSERT_TRUE(store_->InsertMessage(request).ok());
  ASSERT_TRUE(store_->Acknowledge("hampshire-crt", "req", t0 + absl::Minutes(5)).ok());

  std::vector<StoredMessage> escalated;
  auto escalate = [&](absl::Time now) {
    return store_->CommitAndWait([&](StoreTransaction& tx) {
      auto got = tx.EscalateOverdue(now, 10);
      if (got.ok()) escalated = *got;
      return got.status();
    });
  };
  ASSERT_TRUE(escalate(t0 + absl::Hours(2)).ok());
  ASSERT_EQ(escalated.size(), 1u) << "acknowledged is not answered";
  EXPECT_EQ(escalated[0].state, v1::MESSAGE_STATE_ESCALATED);

  StoredMessage reply = Message("resp", "southampton-mash", "hampshire-crt");
  reply.kind = v1::MESSAGE_KIND_INFORMATION_RESPONSE;
  reply.in_reply_to = "req";
  reply.accepted_time = t0 + absl::Hours(3);
  ASSERT_TRUE(store_->InsertMessage(reply).ok());
  auto answered = store_->GetMessage("req");
  ASSERT_TRUE(answered.ok());
  EXPECT_EQ(answered->state, v1::MESSAGE_STATE_ANSWERED);
  ASSERT_TRUE(answered->answered_time.has_value());
  EXPECT_EQ(*answered->answered_time, t0 + absl::Hours(3));
  EXPECT_EQ(answered->declaration, "declared");

  auto thread = store_->ListThread("req");
  ASSERT_TRUE(thread.ok());
  ASSERT_EQ(thread->size(), 2u);
  EXPECT_EQ((*thread)[0].message_id, "req");
  EXPECT_EQ((*thread)[1].message_id, "resp");
  EXPECT_EQ((*thread)[1].in_reply_to, "req");
  EXPECT_FALSE((*thread)[1].history.empty());
  auto none = store_->ListThread("absent");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(SqliteStoreTest, AHeldReplyAnswersOnlyOnceApprovedAndAHoldEscalatesStillHeld) {
  const absl::Time t0 = absl::FromUnixSeconds(1764000000);
  StoredMessage referral = Message("ref", "portsmouth-mash");
  ASSERT_TRUE(store_->InsertMessage(referral).ok());
  ASSERT_TRUE(store_->Acknowledge("portsmouth-mash", "ref", t0).ok());
  StoredMessage outcome = Message("out", "hiow-police", "portsmouth-mash");
  outcome.kind = v1::MESSAGE_KIND_OUTCOME;
  outcome.in_reply_to = "ref";
  outcome.state = v1::MESSAGE_STATE_HELD;
  outcome.acknowledge_deadline = t0 + absl::Hours(4);  // decide by
  ASSERT_TRUE(store_->InsertMessage(outcome).ok());
  EXPECT_EQ(store_->GetMessage("ref")->state, v1::MESSAGE_STATE_ACKNOWLEDGED);

  std::vector<StoredMessage> escalated;
  ASSERT_TRUE(store_
                  ->CommitAndWait([&](StoreTransaction& tx) {
                    auto got = tx.EscalateOverdue(t0 + absl::Hours(5), 10);
                    if (got.ok()) escalated = *got;
                    return got.status();
                  })
                  .ok());
  ASSERT_EQ(escalated.size(), 1u);
  EXPECT_EQ(escalated[0].message_id, "out");
  EXPECT_EQ(escalated[0].state, v1::MESSAGE_STATE_HELD) << "only an officer moves a hold on";
  auto held = store_->ListHeld({}, 0, 10);
  ASSERT_TRUE(held.ok());
  ASSERT_EQ(held->size(), 1u);
  EXPECT_TRUE((*held)[0].escalated_time.has_value());

  ASSERT_TRUE(store_
                  ->CommitAndWait([&](StoreTransaction& tx) {
                    return tx
                        .ResolveHeld(
                            "out", true,
                            [&](v1::Urgency) { return t0 + absl::Hours(30); },
                            t0 + absl::Hours(6))
                        .status();
                  })
                  .ok());
  auto ref = store_->GetMessage("ref");
  ASSERT_TRUE(ref.ok());
  EXPECT_EQ(ref->state, v1::MESSAGE_STATE_OUTCOME_RECEIVED);
  EXPECT_EQ(ref->history.back().state, v1::MESSAGE_STATE_OUTCOME_RECEIVED);
  auto out = store_->GetMessage("out");
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->state, v1::MESSAGE_STATE_SUBMITTED);
  EXPECT_EQ(*out->acknowledge_deadline, t0 + absl::Hours(30));
}

TEST(SqliteStoreMigrationTest, AVersion4DatabaseGainsThreadsAndKeepsItsOpenDeadlines) {
  safeshare::testing::TempDir dir;
  const std::string path = dir.path() + "/v4.db";
  {
    auto s = OpenStore("sqlite://" + path);
    ASSERT_TRUE(s.ok()) << s.status();
    StoredMessage m = Message("old", "iow-mash");
    m.acknowledge_deadline = absl::FromUnixSeconds(1764000000) + absl::Hours(1);
    ASSERT_TRUE((*s)->InsertMessage(m).ok());
  }
  // Turn it back into what a version 4 gateway wrote.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  for (const char* sql :
       {"DROP INDEX messages_by_open_deadline", "DROP INDEX messages_by_reply",
        "ALTER TABLE messages DROP COLUMN in_reply_to",
        "ALTER TABLE messages DROP COLUMN declaration",
        "ALTER TABLE messages DROP COLUMN answered_us",
        "ALTER TABLE messages DROP COLUMN open_deadline_us",
        "CREATE INDEX messages_by_deadline ON messages (ack_deadline_us) "
        "WHERE acknowledged_us IS NULL AND escalated_us IS NULL",
        "PRAGMA user_version=4"}) {
    ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK)
        << sql << ": " << sqlite3_errmsg(db);
  }
  sqlite3_close(db);

  auto s = OpenStore("sqlite://" + path);
  ASSERT_TRUE(s.ok()) << s.status();
  std::vector<StoredMessage> escalated;
  ASSERT_TRUE((*s)->CommitAndWait([&](StoreTransaction& tx) {
                  auto got = tx.EscalateOverdue(absl::FromUnixSeconds(1764000000) +
                                                    absl::Hours(2), 10);
                  if (got.ok()) escalated = *got;
                  return got.status();
                }).ok());
  ASSERT_EQ(escalated.size(), 1u) << "the old message's deadline is still watched";
  EXPECT_TRUE(escalated[0].in_reply_to.empty());
}

TEST(OpenStoreTest, RefusesUnknownSchemesAndBadPaths) {
  EXPECT_EQ(OpenStore("mysql://x").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenStore("sqlite://").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenStore("sqlite:///nonexistent-dir/x/y.db").status().code(),
            absl::StatusCode::kUnavailable);
}

TEST(OpenStoreTest, RefusesAFileThatIsNotADatabase) {
  safeshare::testing::TempDir dir;
  std::string path = dir.path() + "/junk.db";
  FILE* f = fopen(path.c_str(), "w");
  fputs("this is not an sqlite database, just some text that is long enough....", f);
  fclose(f);
  auto s = OpenStore("sqlite://" + path);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kDataLoss) << s.status();
}

}  // namespace
}  // namespace safeshare::gateway
