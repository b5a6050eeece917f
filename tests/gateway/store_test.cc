// The store: a shared suite that runs against both back-ends, the embedded
// SQLite store and PostgreSQL (a fresh database on the cluster that
// deploy/test.sh starts), so the two keep the same contract, and several
// replicas on one PostgreSQL database. What is particular to each back-end is
// in store_backends_test.cc.

#include "gateway/store/store.h"

#include <libpq-fe.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <atomic>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "envelope/keys.h"
#include "gateway/store/recent_subtrees.h"
#include "gateway/store/sqlite_store.h"
#include "gtest/gtest.h"
#include "tests/gateway/store_test_rows.h"
#include "tests/support/test_support.h"
#include "transparency/checkpoint.h"
#include "transparency/merkle.h"
#include "transparency/text_commitment.h"

namespace safeshare::gateway {
namespace {

constexpr char kOrigin[] = "safeshare.test/audit";

using namespace store_test;  // NOLINT: the shared rows read as if local

class StoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "postgresql") {
      SAFESHARE_FRESH_POSTGRES_OR_SKIP(uri_);
    } else {
      uri_ = "sqlite://" + dir_.path() + "/store.db";
    }
    store_ = OpenSigned();
    ASSERT_NE(store_, nullptr);
  }

  // Another handle on the same store: a reopened gateway, or a second replica.
  std::unique_ptr<Store> OpenSigned() {
    auto s = OpenStore(uri_);
    EXPECT_TRUE(s.ok()) << s.status();
    if (!s.ok()) return nullptr;
    (*s)->SetCheckpointSigner([this](uint64_t size, const std::string& root) {
      return transparency::SignCheckpoint({kOrigin, size, root}, kOrigin, key_.get());
    });
    return std::move(*s);
  }
  void Reopen() {
    store_.reset();
    store_ = OpenSigned();
    ASSERT_NE(store_, nullptr);
  }

  void Append(Store& store, int n, int batch = 1) {
    for (int i = 0; i < n; i += batch) {
      ASSERT_TRUE(store
                      .CommitAndWait([&, i](StoreTransaction& tx) -> absl::Status {
                        for (int j = i; j < std::min(n, i + batch); ++j) {
                          auto idx = tx.AppendAudit(Record(absl::StrCat("m-", next_++)));
                          if (!idx.ok()) return idx.status();
                        }
                        return absl::OkStatus();
                      })
                      .ok());
    }
  }

  // Recomputes the whole tree from the stored leaves and checks it against
  // the latest signed checkpoint and every earlier one: what an offline
  // verifier does, through the Store interface.
  void ExpectLogVerifies(uint64_t expected) {
    transparency::MemoryTree tree;
    uint64_t next = 0;
    ASSERT_TRUE(store_
                    ->ScanAudit({}, 0, 0,
                                [&](const AuditLeaf& leaf) {
                                  EXPECT_EQ(leaf.index, next++) << "no gaps, in order";
                                  v1::AuditRecord r;
                                  EXPECT_TRUE(r.ParseFromString(leaf.record));
                                  EXPECT_EQ(r.sequence(), leaf.index);
                                  EXPECT_EQ(transparency::LeafHash(leaf.record), leaf.leaf_hash);
                                  EXPECT_TRUE(tree.AppendLeafHash(leaf.leaf_hash).ok());
                                  return true;
                                })
                    .ok());
    EXPECT_EQ(tree.size(), expected);
    auto cp = store_->LatestCheckpoint();
    ASSERT_TRUE(cp.ok());
    EXPECT_EQ(cp->tree_size, expected);
    auto opened =
        transparency::VerifyCheckpoint(cp->checkpoint_note, kOrigin, key_.RawPublicKey(), kOrigin);
    ASSERT_TRUE(opened.ok()) << opened.status();
    EXPECT_EQ(opened->root_hash, *tree.Root());
    for (uint64_t i = 0; i < expected; ++i) {
      auto leaf = store_->GetAuditLeaf(i);
      auto proof = store_->InclusionProof(i, expected);
      ASSERT_TRUE(leaf.ok() && proof.ok()) << i;
      EXPECT_TRUE(
          transparency::VerifyInclusion(leaf->leaf_hash, i, expected, *proof, opened->root_hash)
              .ok())
          << "record " << i << " of " << expected;
    }
    auto all = store_->Checkpoints();
    ASSERT_TRUE(all.ok());
    uint64_t last = 0;
    for (const auto& note : *all) {
      auto c = transparency::VerifyCheckpoint(note, kOrigin, key_.RawPublicKey(), kOrigin);
      ASSERT_TRUE(c.ok()) << c.status();
      EXPECT_GT(c->size, last) << "one linear log: every checkpoint extends the last";
      last = c->size;
      EXPECT_EQ(c->root_hash, *tree.Root(c->size)) << "no fork at " << c->size;
    }
  }

  safeshare::testing::TempDir dir_;
  std::string uri_;
  envelope::PrivateKey key_ = *envelope::PrivateKey::Generate(envelope::PrivateKey::Type::kSigning);
  std::unique_ptr<Store> store_;
  int next_ = 0;
};

TEST_P(StoreTest, InsertIsIdempotentByMessageId) {
  auto first = store_->InsertMessage(Message("m1", "portsmouth-mash"));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(first->inserted);
  EXPECT_TRUE(first->message.signed_envelope.empty()) << "a new row is not copied back";
  StoredMessage again = Message("m1", "iow-mash");
  again.receipt = "other";
  auto second = store_->InsertMessage(again);
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->inserted);
  EXPECT_EQ(second->message.recipient_agency_id, "portsmouth-mash");
  EXPECT_EQ(second->message.receipt, "receipt-m1");
}

TEST_P(StoreTest, FetchReturnsOnlyTheRecipientsUnacknowledgedMailInOrder) {
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

TEST_P(StoreTest, MailboxesSummariseUnacknowledgedMailPerRecipient) {
  StoredMessage late = Message("late", "portsmouth-mash");
  late.accepted_time = absl::FromUnixSeconds(1763990000);
  late.acknowledge_deadline = absl::FromUnixSeconds(1763995000);
  StoredMessage on_time = Message("on-time", "portsmouth-mash");
  on_time.acknowledge_deadline = absl::FromUnixSeconds(1764090000);
  ASSERT_TRUE(store_->InsertMessage(late).ok());
  ASSERT_TRUE(store_->InsertMessage(on_time).ok());
  ASSERT_TRUE(store_->InsertMessage(Message("elsewhere", "iow-mash")).ok());
  StoredMessage held = Message("held", "iow-mash");
  held.state = v1::MESSAGE_STATE_HELD;
  ASSERT_TRUE(store_->InsertMessage(held).ok());
  const absl::Time now = absl::FromUnixSeconds(1764000100);
  ASSERT_TRUE(store_->Acknowledge("iow-mash", "elsewhere", now).ok());
  auto got = store_->Mailboxes(now);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), 1u);  // iow-mash: acknowledged or held only
  EXPECT_EQ((*got)[0].agency_id, "portsmouth-mash");
  EXPECT_EQ((*got)[0].waiting, 2u);
  EXPECT_EQ((*got)[0].oldest_accepted, absl::FromUnixSeconds(1763990000));
  EXPECT_EQ((*got)[0].overdue, 1u);
}

TEST_P(StoreTest, TheStoreReportsTheBytesItTakes) {
  auto before = store_->SizeBytes();
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_GT(*before, 0u);
  // Incompressible envelopes, 2 MiB in all: the size must grow by about that.
  std::string blob(64 * 1024, '\0');
  uint32_t x = 1;
  for (char& c : blob) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 24);
  }
  for (int i = 0; i < 32; ++i) {
    StoredMessage m = Message("big-" + std::to_string(i), "portsmouth-mash");
    m.signed_envelope = blob + std::to_string(i);
    ASSERT_TRUE(store_->InsertMessage(m).ok());
  }
  auto after = store_->SizeBytes();
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_GT(*after, *before + 1024 * 1024);
}

// The embedded store times its own fsyncs (the metrics' fsync histogram):
// at least one per commit, since every commit is synced (synchronous=FULL).
TEST_P(StoreTest, TheEmbeddedStoreReportsEachFsync) {
  if (GetParam() != "sqlite") GTEST_SKIP() << "PostgreSQL fsyncs on its server";
  std::atomic<int> syncs{0};
  store_->SetSyncObserver([&](absl::Duration) { ++syncs; });
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(store_->InsertMessage(Message("synced-" + std::to_string(i), "iow-mash")).ok());
  }
  EXPECT_GE(syncs.load(), 3);
  store_->SetSyncObserver(nullptr);
}

// The forwarder keeps a peer gateway's receipt beside the sender's.
TEST_P(StoreTest, AReceiptIsReplacedOnlyInItsRecipientsMailbox) {
  ASSERT_TRUE(store_->InsertMessage(Message("m", "portsmouth-mash")).ok());
  auto replace = [&](const std::string& recipient) {
    return store_->CommitAndWait([&](StoreTransaction& tx) {
      return tx.ReplaceReceipt(recipient, "m", "receipt-with-peer");
    });
  };
  EXPECT_EQ(replace("iow-mash").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(store_->GetMessage("m")->receipt, "receipt-m");
  ASSERT_TRUE(replace("portsmouth-mash").ok());
  auto m = store_->GetMessage("m");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->receipt, "receipt-with-peer");
  EXPECT_EQ(m->signed_envelope, "envelope-m");  // nothing else changes
  EXPECT_EQ(m->state, v1::MESSAGE_STATE_SUBMITTED);
}

TEST_P(StoreTest, OnlyTheRecipientCanAcknowledge) {
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

TEST_P(StoreTest, HeldMessagesAreNotInTheMailbox) {
  StoredMessage held = Message("h", "portsmouth-mash");
  held.state = v1::MESSAGE_STATE_HELD;
  ASSERT_TRUE(store_->InsertMessage(held).ok());
  auto got = store_->FetchForRecipient("portsmouth-mash", 0, 10, absl::Now());
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->empty());
  EXPECT_EQ(store_->Acknowledge("portsmouth-mash", "h", absl::Now()).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_P(StoreTest, HistoryRecordsEachStateInOrder) {
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

TEST_P(StoreTest, DataSurvivesReopening) {
  ASSERT_TRUE(store_->InsertMessage(Message("kept", "iow-mash")).ok());
  Reopen();
  auto m = store_->GetMessage("kept");
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

// One key change in a transaction of its own.
template <typename Fn>
auto InTransaction(MailboxStore& store, Fn fn) -> decltype(fn(std::declval<StoreTransaction&>())) {
  decltype(fn(std::declval<StoreTransaction&>())) out = absl::UnknownError("not run");
  absl::Status st = store.CommitAndWait([&](StoreTransaction& tx) {
    out = fn(tx);
    return out.status();
  });
  if (!st.ok()) return st;
  return out;
}
absl::StatusOr<SeedResult> SeedKey(Store& s, const AgencyKey& k, absl::Time now) {
  return InTransaction(s, [&](StoreTransaction& tx) { return tx.SeedKey(k, now); });
}
absl::StatusOr<v1::PublicKey> PublishKey(Store& s, const AgencyKey& k, absl::Time now) {
  return InTransaction(s, [&](StoreTransaction& tx) { return tx.PublishKey(k, now); });
}
absl::StatusOr<v1::PublicKey> RevokeKey(Store& s, const std::string& agency, const std::string& id,
                                        absl::Time now) {
  return InTransaction(s, [&](StoreTransaction& tx) { return tx.RevokeKey(agency, id, now); });
}

TEST_P(StoreTest, PublishingAKeyDemotesThePreviousOne) {
  const absl::Time now = absl::FromUnixSeconds(1764000000);
  ASSERT_TRUE(SeedKey(*store_, Key("iow-mash", "a1"), now).ok());
  auto published = PublishKey(*store_, Key("iow-mash", "b2"), now);
  ASSERT_TRUE(published.ok()) << published.status();
  EXPECT_TRUE(published->current());
  auto keys = store_->ListKeys();
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_FALSE((*keys)[0].key.current()) << "a1 is now the previous key";
  EXPECT_TRUE((*keys)[1].key.current());
  // Idempotent for its owner, refused for anyone else.
  EXPECT_TRUE(PublishKey(*store_, Key("iow-mash", "b2"), now).ok());
  EXPECT_EQ(PublishKey(*store_, Key("hiow-police", "b2"), now).status().code(),
            absl::StatusCode::kAlreadyExists);
  // Reseeding the federation file's (older) key does not make it current again.
  ASSERT_TRUE(SeedKey(*store_, Key("iow-mash", "a1"), now).ok());
  ASSERT_TRUE(SeedKey(*store_, Key("iow-mash", "c3"), now).ok());
  keys = store_->ListKeys();
  int current = 0;
  for (const auto& k : *keys) current += k.key.current();
  EXPECT_EQ(current, 1);
}

TEST_P(StoreTest, RevocationIsOwnedAndFinal) {
  const absl::Time now = absl::FromUnixSeconds(1764000000);
  ASSERT_TRUE(SeedKey(*store_, Key("iow-mash", "a1"), now).ok());
  EXPECT_EQ(RevokeKey(*store_, "hiow-police", "a1", now).status().code(),
            absl::StatusCode::kNotFound);
  auto revoked = RevokeKey(*store_, "iow-mash", "a1", now);
  ASSERT_TRUE(revoked.ok());
  EXPECT_TRUE(revoked->revoked());
  EXPECT_FALSE(revoked->current());
  EXPECT_EQ(PublishKey(*store_, Key("iow-mash", "a1"), now).status().code(),
            absl::StatusCode::kAlreadyExists)
      << "a revoked key cannot come back";
}

TEST_P(StoreTest, ContentRefusalTakesTheMessageOutOfTheMailbox) {
  ASSERT_TRUE(store_->InsertMessage(Message("r", "iow-mash")).ok());
  EXPECT_EQ(store_
                ->RefuseContent("hiow-police", "r", v1::CONTENT_REFUSAL_REASON_UNDECRYPTABLE, "x",
                                absl::Now())
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

// A recipient can settle a message whose hand-over was never recorded (the
// gateway was killed after sending it on a stream): it is marked handed over
// then, so that the caller audits the delivery before the settlement.
TEST_P(StoreTest, SettlingAMessageNeverMarkedHandedOverMarksItThen) {
  ASSERT_TRUE(store_->InsertMessage(Message("unmarked", "iow-mash")).ok());
  const absl::Time now = absl::FromUnixSeconds(1764000000);
  auto acked = store_->Acknowledge("iow-mash", "unmarked", now);
  ASSERT_TRUE(acked.ok()) << acked.status();
  ASSERT_TRUE(acked->first_delivered_time.has_value());
  EXPECT_EQ(*acked->first_delivered_time, now);
  auto m = store_->GetMessage("unmarked");
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->history.size(), 3u);
  EXPECT_EQ(m->history[1].state, v1::MESSAGE_STATE_DELIVERED);
  EXPECT_EQ(m->history[2].state, v1::MESSAGE_STATE_ACKNOWLEDGED);
  // Already handed over: the time stays the first one.
  ASSERT_TRUE(store_->InsertMessage(Message("marked", "iow-mash")).ok());
  ASSERT_TRUE(store_->FetchForRecipient("iow-mash", 0, 10, now - absl::Minutes(5)).ok());
  auto later = store_->RefuseContent("iow-mash", "marked", v1::CONTENT_REFUSAL_REASON_UNDECRYPTABLE,
                                     "x", now);
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(*later->first_delivered_time, now - absl::Minutes(5));
}

TEST_P(StoreTest, OverdueMessagesEscalateOnceAndAcknowledgedContentExpires) {
  const absl::Time t0 = absl::FromUnixSeconds(1764000000);
  StoredMessage m = Message("late", "iow-mash");
  m.acknowledge_deadline = t0 + absl::Hours(1);
  m.retention = absl::Hours(24);
  ASSERT_TRUE(store_->InsertMessage(m).ok());
  StoredMessage on_time = Message("on-time", "iow-mash");
  on_time.acknowledge_deadline = t0 + absl::Hours(5);
  ASSERT_TRUE(store_->InsertMessage(on_time).ok());

  auto escalated = Escalate(*store_, t0 + absl::Minutes(59));
  ASSERT_TRUE(escalated.ok());
  EXPECT_TRUE(escalated->empty());
  escalated = Escalate(*store_, t0 + absl::Hours(2));
  ASSERT_TRUE(escalated.ok());
  ASSERT_EQ(escalated->size(), 1u);
  EXPECT_EQ((*escalated)[0].message_id, "late");
  EXPECT_EQ((*escalated)[0].state, v1::MESSAGE_STATE_ESCALATED);
  escalated = Escalate(*store_, t0 + absl::Hours(3));
  ASSERT_TRUE(escalated.ok());
  EXPECT_TRUE(escalated->empty()) << "escalated once";
  // Still in the mailbox until acknowledged: never dropped.
  auto pending = store_->FetchForRecipient("iow-mash", 0, 10, t0 + absl::Hours(3));
  ASSERT_TRUE(pending.ok());
  EXPECT_EQ(pending->size(), 2u);

  ASSERT_TRUE(store_->Acknowledge("iow-mash", "late", t0 + absl::Hours(4)).ok());
  auto purged = Purge(*store_, t0 + absl::Hours(27));
  ASSERT_TRUE(purged.ok());
  EXPECT_TRUE(purged->empty()) << "retention runs from the acknowledgement";
  purged = Purge(*store_, t0 + absl::Hours(29));
  ASSERT_TRUE(purged.ok());
  ASSERT_EQ(purged->size(), 1u);
  auto after = store_->GetMessage("late");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->state, v1::MESSAGE_STATE_EXPIRED);
  EXPECT_TRUE(after->signed_envelope.empty());
  EXPECT_EQ(after->history.back().state, v1::MESSAGE_STATE_EXPIRED);
}

// Content a recipient refused is kept only as long as acknowledged content.
TEST_P(StoreTest, ContentTheRecipientRefusedIsPurgedWhenItsRetentionRunsOut) {
  const absl::Time t0 = absl::FromUnixSeconds(1764000000);
  StoredMessage m = Message("bad", "iow-mash");
  m.retention = absl::Hours(24);
  ASSERT_TRUE(store_->InsertMessage(m).ok());
  ASSERT_TRUE(
      store_->RefuseContent("iow-mash", "bad", v1::CONTENT_REFUSAL_REASON_UNDECRYPTABLE, "", t0)
          .ok());
  auto purged = Purge(*store_, t0 + absl::Hours(23));
  ASSERT_TRUE(purged.ok());
  EXPECT_TRUE(purged->empty());
  purged = Purge(*store_, t0 + absl::Hours(25));
  ASSERT_TRUE(purged.ok());
  ASSERT_EQ(purged->size(), 1u);
  auto after = store_->GetMessage("bad", MessageRead::kAll);
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->signed_envelope.empty());
}

// The mailbox quota counts unacknowledged content only, follows every change
// (acknowledged, refused, approved or refused holds), survives a reopen, and
// lets a retry of a stored message through.
TEST_P(StoreTest, TheMailboxQuotaCountsUnacknowledgedContent) {
  const absl::Time t0 = absl::FromUnixSeconds(1764000000);
  auto check = [&](const StoredMessage& m, uint64_t quota) {
    return store_->CommitAndWait(
        [&](StoreTransaction& tx) { return tx.CheckMailboxQuota(m, quota); });
  };
  StoredMessage a = Message("a", "iow-mash");  // "envelope-a": 10 bytes
  StoredMessage b = Message("b", "iow-mash");
  StoredMessage held = Message("held", "iow-mash");
  held.state = v1::MESSAGE_STATE_HELD;
  EXPECT_TRUE(check(a, 10).ok());
  EXPECT_EQ(check(a, 9).code(), absl::StatusCode::kResourceExhausted);
  ASSERT_TRUE(store_->InsertMessage(a).ok());
  ASSERT_TRUE(store_->InsertMessage(held).ok());
  EXPECT_TRUE(check(a, 1).ok()) << "a retry of a stored message passes";
  EXPECT_TRUE(check(b, 33).ok());  // 10 + 13 held + 10
  absl::Status over = check(b, 32);
  EXPECT_EQ(over.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(over.message().find("limits.mailbox_quota_bytes"), std::string::npos);
  EXPECT_TRUE(check(Message("c", "portsmouth-mash"), 10).ok()) << "another mailbox's own";

  ASSERT_TRUE(store_->Acknowledge("iow-mash", "a", t0).ok());
  EXPECT_TRUE(check(b, 23).ok());  // 13 held + 10
  EXPECT_EQ(check(b, 22).code(), absl::StatusCode::kResourceExhausted);
  ASSERT_TRUE(store_
                  ->CommitAndWait([&](StoreTransaction& tx) {
                    return tx
                        .ResolveHeld(
                            "held", {}, false, [&](const StoredMessage&) { return t0; }, t0)
                        .status();
                  })
                  .ok());
  Reopen();
  EXPECT_TRUE(check(b, 10).ok()) << "a refused hold's content is dropped";
  EXPECT_EQ(check(b, 9).code(), absl::StatusCode::kResourceExhausted);
}

// A Submit reads its mailbox's usage and its id's stored copy together, and
// its insert uses that copy; the next job in the same batch reads afresh.
TEST_P(StoreTest, ASubmitsQuotaCheckAlsoFindsItsDuplicateForThatJobOnly) {
  StoredMessage a = Message("a", "iow-mash");
  auto submit = [&](const StoredMessage& m) -> absl::StatusOr<InsertResult> {
    InsertResult out;
    absl::Status st = store_->CommitAndWait([&](StoreTransaction& tx) -> absl::Status {
      if (auto room = tx.CheckMailboxQuota(m, 1000); !room.ok()) return room;
      auto inserted = tx.InsertMessage(m);
      if (inserted.ok()) out = *std::move(inserted);
      return inserted.status();
    });
    if (!st.ok()) return st;
    return out;
  };
  auto first = submit(a);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(first->inserted);
  StoredMessage retry = a;
  retry.receipt = "a retry's receipt";
  auto second = submit(retry);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_FALSE(second->inserted);
  EXPECT_EQ(second->message.receipt, "receipt-a") << "the stored receipt answers the retry";

  // One batch: the first job only checks (and so reads a's receipt), the
  // second replaces that receipt, the third inserts a again without a check
  // of its own: it must see the second job's receipt, not the first job's read.
  absl::Notification blocking, released;
  store_->Commit(
      [&](StoreTransaction&) {
        blocking.Notify();
        released.WaitForNotification();
        return absl::OkStatus();
      },
      [](const absl::Status&, const CommitInfo&) {});
  blocking.WaitForNotification();  // the committer is busy: the next three queue
  absl::Notification done[3];
  absl::Status statuses[3];
  InsertResult third;
  std::vector<MailboxStore::Work> jobs = {
      [&](StoreTransaction& tx) { return tx.CheckMailboxQuota(a, 1000); },
      [&](StoreTransaction& tx) { return tx.ReplaceReceipt("iow-mash", "a", "receipt-replaced"); },
      [&](StoreTransaction& tx) -> absl::Status {
        auto inserted = tx.InsertMessage(a);
        if (inserted.ok()) third = *std::move(inserted);
        return inserted.status();
      }};
  for (int i = 0; i < 3; ++i) {
    store_->Commit(std::move(jobs[i]), [&, i](const absl::Status& st, const CommitInfo&) {
      statuses[i] = st;
      done[i].Notify();
    });
  }
  released.Notify();
  for (int i = 0; i < 3; ++i) {
    done[i].WaitForNotification();
    EXPECT_TRUE(statuses[i].ok()) << i << ": " << statuses[i];
  }
  EXPECT_FALSE(third.inserted);
  EXPECT_EQ(third.message.receipt, "receipt-replaced");
}

TEST_P(StoreTest, ARequestStaysOpenUntilAnsweredAndTheReplyClosesIt) {
  const absl::Time t0 = absl::FromUnixSeconds(1764000000);
  StoredMessage request = Message("req", "hampshire-crt", "southampton-mash");
  request.kind = v1::MESSAGE_KIND_INFORMATION_REQUEST;
  request.acknowledge_deadline = t0 + absl::Hours(1);
  request.declaration = "declared";
  ASSERT_TRUE(store_->InsertMessage(request).ok());
  ASSERT_TRUE(store_->Acknowledge("hampshire-crt", "req", t0 + absl::Minutes(5)).ok());

  auto escalated = Escalate(*store_, t0 + absl::Hours(2));
  ASSERT_TRUE(escalated.ok());
  ASSERT_EQ(escalated->size(), 1u) << "acknowledged is not answered";
  EXPECT_EQ((*escalated)[0].state, v1::MESSAGE_STATE_ESCALATED);

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

  auto thread = store_->ListThread("req", 0, 100);
  ASSERT_TRUE(thread.ok());
  ASSERT_EQ(thread->size(), 2u);
  EXPECT_EQ((*thread)[0].message_id, "req");
  EXPECT_EQ((*thread)[1].message_id, "resp");
  EXPECT_EQ((*thread)[1].in_reply_to, "req");
  EXPECT_FALSE((*thread)[1].history.empty());
  auto none = store_->ListThread("absent", 0, 100);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

// A reply checked and inserted in one job, as Submit does.
absl::Status InsertReplyWithin(Store& store, const StoredMessage& reply, uint32_t max_replies) {
  return store.CommitAndWait([&](StoreTransaction& tx) -> absl::Status {
    if (auto st = tx.CheckReplyQuota(reply, max_replies); !st.ok()) return st;
    return tx.InsertMessage(reply).status();
  });
}

StoredMessage Outcome(const std::string& id, const std::string& root) {
  StoredMessage m = Message(id, "hiow-police", "portsmouth-mash");
  m.kind = v1::MESSAGE_KIND_OUTCOME;
  m.in_reply_to = root;
  return m;
}

TEST_P(StoreTest, ARepliesQuotaIsCountedInTheTransaction) {
  ASSERT_TRUE(store_->InsertMessage(Message("root", "portsmouth-mash")).ok());
  ASSERT_TRUE(InsertReplyWithin(*store_, Outcome("r1", "root"), 2).ok());
  ASSERT_TRUE(InsertReplyWithin(*store_, Outcome("r2", "root"), 2).ok()) << "just under passes";
  absl::Status over = InsertReplyWithin(*store_, Outcome("r3", "root"), 2);
  EXPECT_EQ(over.code(), absl::StatusCode::kResourceExhausted) << over;
  EXPECT_NE(over.message().find("max_replies_per_thread"), std::string::npos) << over;
  EXPECT_EQ(store_->GetMessage("r3").status().code(), absl::StatusCode::kNotFound)
      << "nothing stored";
  // A retry of a stored reply is not counted against itself: it reaches the
  // insert, which reports the duplicate.
  EXPECT_TRUE(store_
                  ->CommitAndWait([&](StoreTransaction& tx) {
                    return tx.CheckReplyQuota(Outcome("r2", "root"), 2);
                  })
                  .ok());
  // Another thread is not affected.
  ASSERT_TRUE(store_->InsertMessage(Message("root-2", "portsmouth-mash")).ok());
  EXPECT_TRUE(InsertReplyWithin(*store_, Outcome("s1", "root-2"), 2).ok());
}

TEST_P(StoreTest, RacingRepliesCannotBothTakeTheLastPlace) {
  ASSERT_TRUE(store_->InsertMessage(Message("root", "portsmouth-mash")).ok());
  constexpr int kRacers = 8;
  std::vector<std::thread> racers;
  std::atomic<int> passed{0}, refused{0};
  for (int i = 0; i < kRacers; ++i) {
    racers.emplace_back([&, i] {
      absl::Status st = InsertReplyWithin(*store_, Outcome(absl::StrCat("race-", i), "root"), 3);
      if (st.ok()) ++passed;
      if (st.code() == absl::StatusCode::kResourceExhausted) ++refused;
    });
  }
  for (auto& t : racers) t.join();
  EXPECT_EQ(passed.load(), 3);
  EXPECT_EQ(refused.load(), kRacers - 3);
  auto thread = store_->ListThread("root", 0, 100);
  ASSERT_TRUE(thread.ok());
  EXPECT_EQ(thread->size(), 4u) << "the root and exactly three replies";
}

TEST_P(StoreTest, MetadataReadsSkipTheEnvelopeAndReceipt) {
  StoredMessage m = Message("big", "portsmouth-mash");
  m.signed_envelope = std::string(1 << 20, 'e');
  m.declaration = "declared";
  ASSERT_TRUE(store_->InsertMessage(m).ok());
  auto meta = store_->GetMessage("big", MessageRead::kMetadata);
  ASSERT_TRUE(meta.ok()) << meta.status();
  EXPECT_TRUE(meta->signed_envelope.empty());
  EXPECT_TRUE(meta->receipt.empty());
  EXPECT_EQ(meta->declaration, "declared");
  EXPECT_EQ(meta->recipient_agency_id, "portsmouth-mash");
  EXPECT_FALSE(meta->history.empty());
  auto all = store_->GetMessage("big");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->signed_envelope.size(), size_t{1} << 20);
  EXPECT_EQ(all->receipt, "receipt-big");

  auto pending = store_->PendingForRecipient("portsmouth-mash", 0, 10);
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].signed_envelope.size(), size_t{1} << 20) << "delivery needs content";
  EXPECT_TRUE((*pending)[0].receipt.empty());

  StoredMessage held = Message("held", "portsmouth-mash");
  held.state = v1::MESSAGE_STATE_HELD;
  held.signed_envelope = std::string(1 << 20, 'e');
  ASSERT_TRUE(store_->InsertMessage(held).ok());
  auto list = store_->ListHeld({}, 0, 10);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_TRUE((*list)[0].signed_envelope.empty());
  EXPECT_EQ((*list)[0].receipt, "receipt-held") << "the decision is in the receipt";
}

TEST_P(StoreTest, AThreadIsReadInBoundedPages) {
  ASSERT_TRUE(store_->InsertMessage(Message("root", "portsmouth-mash")).ok());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(store_->InsertMessage(Outcome(absl::StrCat("r", i), "root")).ok());
  }
  auto first = store_->ListThread("root", 0, 3);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 3u);
  EXPECT_EQ((*first)[0].message_id, "root");
  EXPECT_TRUE((*first)[0].signed_envelope.empty()) << "metadata only";
  auto rest = store_->ListThread("root", first->back().sequence, 10);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 3u);
  EXPECT_EQ((*rest)[0].message_id, "r2");
  EXPECT_EQ((*rest)[2].message_id, "r4");
}

TEST_P(StoreTest, AnOfficerOutsideTheScopeLearnsNothingOfAMessagesState) {
  ASSERT_TRUE(store_->InsertMessage(Message("sent", "portsmouth-mash")).ok());  // not held
  auto decide = [&](const std::string& id, std::vector<std::string> scope) {
    return store_->CommitAndWait([&](StoreTransaction& tx) {
      return tx
          .ResolveHeld(
              id, scope, true,
              [](const StoredMessage&) { return absl::FromUnixSeconds(1764100000); },
              absl::FromUnixSeconds(1764000000))
          .status();
    });
  };
  const absl::Status out_of_scope = decide("sent", {"hampshire-crt"});
  const absl::Status absent = decide("no-such", {"hampshire-crt"});
  EXPECT_EQ(out_of_scope.code(), absl::StatusCode::kNotFound) << out_of_scope;
  EXPECT_EQ(absent.code(), out_of_scope.code());
  EXPECT_EQ(out_of_scope.message().find("SUBMITTED"), std::string::npos) << out_of_scope;
  // In scope, the state is the officer's business.
  EXPECT_EQ(decide("sent", {"hiow-police"}).code(), absl::StatusCode::kFailedPrecondition);
}

TEST_P(StoreTest, AHeldReplyAnswersOnlyOnceApprovedAndAHoldEscalatesStillHeld) {
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

  auto escalated = Escalate(*store_, t0 + absl::Hours(5));
  ASSERT_TRUE(escalated.ok());
  ASSERT_EQ(escalated->size(), 1u);
  EXPECT_EQ((*escalated)[0].message_id, "out");
  EXPECT_EQ((*escalated)[0].state, v1::MESSAGE_STATE_HELD) << "only an officer moves a hold on";
  auto held = store_->ListHeld({}, 0, 10);
  ASSERT_TRUE(held.ok());
  ASSERT_EQ(held->size(), 1u);
  EXPECT_TRUE((*held)[0].escalated_time.has_value());

  ASSERT_TRUE(store_
                  ->CommitAndWait([&](StoreTransaction& tx) {
                    return tx
                        .ResolveHeld(
                            "out", {}, true,
                            [&](const StoredMessage&) { return t0 + absl::Hours(30); },
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

// A subscriber's cursor is a sequence: an approved hold must come after
// everything it has seen, or a live subscriber never gets it.
TEST_P(StoreTest, AnApprovedHoldTakesASequenceAfterEverythingStoredSoFar) {
  const absl::Time t0 = absl::FromUnixSeconds(1764000000);
  StoredMessage held = Message("held", "portsmouth-mash");
  held.state = v1::MESSAGE_STATE_HELD;
  ASSERT_TRUE(store_->InsertMessage(held).ok());
  ASSERT_TRUE(store_->InsertMessage(Message("seen", "portsmouth-mash")).ok());
  auto pending = store_->PendingForRecipient("portsmouth-mash", 0, 10);
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);
  const uint64_t cursor = (*pending)[0].sequence;

  StoredMessage approved;
  ASSERT_TRUE(store_
                  ->CommitAndWait([&](StoreTransaction& tx) {
                    auto m = tx.ResolveHeld(
                        "held", {}, true, [&](const StoredMessage&) { return t0 + absl::Hours(4); },
                        t0);
                    if (m.ok()) approved = *m;
                    return m.status();
                  })
                  .ok());
  EXPECT_GT(approved.sequence, cursor);
  auto after = store_->PendingForRecipient("portsmouth-mash", cursor, 10);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 1u);
  EXPECT_EQ((*after)[0].message_id, "held");
  EXPECT_EQ((*after)[0].sequence, approved.sequence);
  EXPECT_EQ(store_->GetMessage("held")->sequence, approved.sequence);
  // The next arrival still comes after it, also once reopened.
  Reopen();
  ASSERT_TRUE(store_->InsertMessage(Message("next", "portsmouth-mash")).ok());
  auto next = store_->PendingForRecipient("portsmouth-mash", approved.sequence, 10);
  ASSERT_TRUE(next.ok());
  ASSERT_EQ(next->size(), 1u);
  EXPECT_EQ((*next)[0].message_id, "next");
}

// A reader that has just read a checkpoint gets proofs at its size, even
// before the store has published that size (a full test run saw GetAgency fail with "the
// audit log has 17 records, not 18" in that window). A second handle, opened
// before the appends, is a store whose published size lags by the whole log.
TEST_P(StoreTest, AProofAtAVisibleCheckpointsSizeIsServedBeforeTheSizeIsPublished) {
  auto lagging = OpenSigned();
  ASSERT_NE(lagging, nullptr);
  Append(*store_, 18, 4);
  auto cp = lagging->LatestCheckpoint();
  ASSERT_TRUE(cp.ok()) << cp.status();
  ASSERT_EQ(cp->tree_size, 18u);
  auto leaf = lagging->GetAuditLeaf(17);
  ASSERT_TRUE(leaf.ok()) << leaf.status();
  auto proof = lagging->InclusionProof(17, 18);
  ASSERT_TRUE(proof.ok()) << proof.status();
  EXPECT_TRUE(transparency::VerifyInclusion(leaf->leaf_hash, 17, 18, *proof, cp->root_hash).ok());
  auto consistency = lagging->ConsistencyProof(5, 18);
  EXPECT_TRUE(consistency.ok()) << consistency.status();
  // Still nothing beyond the log.
  EXPECT_EQ(lagging->InclusionProof(1, 19).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(lagging->ConsistencyProof(1, 19).status().code(), absl::StatusCode::kOutOfRange);
}

TEST_P(StoreTest, CheckpointsAreSignedAndProofsVerify) {
  Append(*store_, 37, 5);
  auto cp = store_->LatestCheckpoint();
  ASSERT_TRUE(cp.ok());
  EXPECT_EQ(cp->tree_size, 37u);
  for (uint64_t i : {0, 1, 17, 36}) {
    auto leaf = store_->GetAuditLeaf(i);
    ASSERT_TRUE(leaf.ok());
    auto proof = store_->InclusionProof(i, 37);
    ASSERT_TRUE(proof.ok()) << proof.status();
    EXPECT_TRUE(transparency::VerifyInclusion(leaf->leaf_hash, i, 37, *proof, cp->root_hash).ok());
  }
  EXPECT_EQ(store_->InclusionProof(1, 38).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(store_->GetAuditLeaf(37).status().code(), absl::StatusCode::kNotFound);
  auto checkpoints = store_->Checkpoints();
  ASSERT_TRUE(checkpoints.ok());
  EXPECT_EQ(checkpoints->size(), 8u) << "one per batch of 5";
  auto first =
      transparency::VerifyCheckpoint((*checkpoints)[0], kOrigin, key_.RawPublicKey(), kOrigin);
  ASSERT_TRUE(first.ok());
  auto consistency = store_->ConsistencyProof(first->size, 37);
  ASSERT_TRUE(consistency.ok());
  EXPECT_TRUE(transparency::VerifyConsistency(first->size, 37, first->root_hash, cp->root_hash,
                                              *consistency)
                  .ok());
  ExpectLogVerifies(37);
}

TEST_P(StoreTest, ConcurrentCommitsShareBatchesAndLoseNothing) {
  // Jobs queued from eight threads without waiting: the committer takes
  // whatever is queued into one transaction, so fewer commits than jobs.
  constexpr int kThreads = 8, kEach = 20, kJobs = kThreads * kEach;
  absl::Mutex mu;
  std::set<uint64_t> commits;  // tree size after each commit a job was in
  int done = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto index = std::make_shared<uint64_t>(0);
        store_->Commit(
            [t, i, index](StoreTransaction& tx) -> absl::Status {
              auto got = tx.AppendAudit(Record(absl::StrCat("t", t, "-", i)));
              if (got.ok()) *index = *got;
              return got.status();
            },
            [&, index](const absl::Status& st, const CommitInfo& info) {
              EXPECT_TRUE(st.ok()) << st;
              EXPECT_GT(info.tree_size, *index) << "the commit's checkpoint covers the job";
              absl::MutexLock lock(&mu);
              commits.insert(info.tree_size);
              ++done;
            });
      }
    });
  }
  for (auto& th : threads) th.join();
  {
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(
        +[](int* d) { return *d == kJobs; }, &done));
    EXPECT_LT(commits.size(), static_cast<size_t>(kJobs)) << "no two jobs shared a commit";
    EXPECT_EQ(*commits.rbegin(), static_cast<uint64_t>(kJobs));
  }
  ExpectLogVerifies(kJobs);
}

// Commits `doomed` and then a job appending record "kept" (so in one batch
// or two), waits for both and checks that only the kept one is in the log, at
// leaf `kept_index`, and that no message "doomed" is stored. Returns the
// doomed job's status.
absl::Status CommitDoomedThenKept(Store& store, MailboxStore::Work doomed, uint64_t kept_index) {
  absl::Notification a, b;
  absl::Status sa, sb;
  store.Commit(std::move(doomed), [&](const absl::Status& st, const CommitInfo&) {
    sa = st;
    a.Notify();
  });
  store.Commit([](StoreTransaction& tx) { return tx.AppendAudit(Record("kept")).status(); },
               [&](const absl::Status& st, const CommitInfo&) {
                 sb = st;
                 b.Notify();
               });
  a.WaitForNotification();
  b.WaitForNotification();
  EXPECT_TRUE(sb.ok()) << sb;
  EXPECT_EQ(store.GetMessage("doomed").status().code(), absl::StatusCode::kNotFound);
  auto leaf = store.GetAuditLeaf(kept_index);
  EXPECT_TRUE(leaf.ok()) << leaf.status();
  v1::AuditRecord r;
  EXPECT_TRUE(leaf.ok() && r.ParseFromString(leaf->record));
  EXPECT_EQ(r.message_id(), "kept");
  return sa;
}

TEST_P(StoreTest, AFailedJobIsRolledBackAloneAndTheTreeStaysConsistent) {
  Append(*store_, 3);
  absl::Status doomed = CommitDoomedThenKept(
      *store_,
      [](StoreTransaction& tx) -> absl::Status {
        EXPECT_TRUE(tx.AppendAudit(Record("doomed")).ok());
        EXPECT_TRUE(tx.InsertMessage(Message("doomed", "iow-mash")).ok());
        return absl::AbortedError("changed my mind");
      },
      3);
  EXPECT_EQ(doomed.code(), absl::StatusCode::kAborted);
  ExpectLogVerifies(4);  // proofs straight after an undone record use the kept one
  Reopen();              // reloads the same tree
  Append(*store_, 2);
  ExpectLogVerifies(6);
}

// PostgreSQL's writes are pipelined: a job learns that one failed only at its
// end. The job must still fail, alone, with nothing of it kept. (Text that is
// not UTF-8 is the failure here: PostgreSQL refuses it, SQLite stores it; the
// edge never lets such ids through.)
TEST_P(StoreTest, AJobWhosePipelinedWriteFailsIsRolledBackAlone) {
  if (GetParam() != "postgresql") GTEST_SKIP() << "SQLite's writes are not pipelined";
  Append(*store_, 3);
  // Statements are prepared on first use, synchronously: use them once first.
  ASSERT_TRUE(store_->InsertMessage(Message("warm", "iow-mash")).ok());
  absl::Status doomed = CommitDoomedThenKept(
      *store_,
      [](StoreTransaction& tx) -> absl::Status {
        EXPECT_TRUE(tx.AppendAudit(Record("doomed")).ok());
        auto inserted = tx.InsertMessage(Message("doomed", "not-utf8-\xff"));
        EXPECT_TRUE(inserted.ok()) << "queued, not yet run: " << inserted.status();
        return inserted.status();
      },
      3);
  EXPECT_EQ(doomed.code(), absl::StatusCode::kInternal) << doomed;
  EXPECT_NE(doomed.message().find("insert message"), absl::string_view::npos) << doomed;
  ExpectLogVerifies(4);
  Append(*store_, 2);  // the session is usable again
  ExpectLogVerifies(6);
  EXPECT_TRUE(store_->GetMessage("warm").ok());
}

TEST_P(StoreTest, AuditQueriesFilterScopeAndLimit) {
  Append(*store_, 10, 3);
  AuditFilter portsmouth;
  portsmouth.agencies = {"portsmouth-mash", "portsmouth-hospitals"};
  int n = 0;
  ASSERT_TRUE(store_
                  ->ScanAudit(portsmouth, 0, 0,
                              [&](const AuditLeaf& leaf) {
                                v1::AuditRecord r;
                                EXPECT_TRUE(r.ParseFromString(leaf.record));
                                EXPECT_EQ(r.recipient_agency_id(), "portsmouth-mash");
                                ++n;
                                return true;
                              })
                  .ok());
  EXPECT_EQ(n, 5);
  AuditFilter area;
  area.area_id = "isle-of-wight";
  n = 0;
  ASSERT_TRUE(store_->ScanAudit(area, 0, 2, [&](const AuditLeaf&) { return ++n, true; }).ok());
  EXPECT_EQ(n, 2) << "limit";
  AuditFilter before;
  before.before_index = 4;
  n = 0;
  ASSERT_TRUE(store_->ScanAudit(before, 1, 0, [&](const AuditLeaf&) { return ++n, true; }).ok());
  EXPECT_EQ(n, 3) << "records 1, 2 and 3";
}

// Erasable text, on both back-ends: a DECISION whose justification names a
// child, its message stored with the declaration (a DENY keeps no sealed
// content), then erased, rectified and the errors of each.
class TextStoreTest : public StoreTest {
 protected:
  static constexpr char kJustification[] = "Named child Jane Doe, NHS 943 476 5919, is at risk";
  static constexpr char kSubject[] =
      "9f2c4e0a7b1d3f5e8a6c2b4d0e1f3a5c7b9d2e4f6a8c0b1d3e5f7a9c2b4d6e8f";

  // Leaf 0: the decision, and its refused message with the declaration.
  void StoreDecision() {
    v1::AuditRecord r = Record("deny-1");
    r.mutable_declaration()->set_necessity_justification(kJustification);
    r.mutable_declaration()->set_subject_reference(kSubject);
    StoredMessage m = Message("deny-1", "portsmouth-mash");
    m.state = v1::MESSAGE_STATE_REFUSED;
    m.signed_envelope.clear();
    m.declaration = r.declaration().SerializeAsString();
    ASSERT_TRUE(store_
                    ->CommitAndWait([&](StoreTransaction& tx) -> absl::Status {
                      auto idx = tx.AppendAudit(r);
                      if (!idx.ok()) return idx.status();
                      return tx.InsertMessage(m).status();
                    })
                    .ok());
  }

  absl::StatusOr<uint64_t> Change(uint64_t leaf, const std::string& field,
                                  std::optional<std::string> text,
                                  const std::string& reason = "subject access request 17") {
    AuditTextChange c;
    c.leaf_index = leaf;
    c.field = field;
    c.new_text = std::move(text);
    c.officer_uri = "safeshare://hips-dev/officer/hampshire-crt/dpo";
    c.reason = reason;
    c.now = absl::FromUnixSeconds(1764100000);
    uint64_t index = 0;
    absl::Status st = store_->CommitAndWait([&](StoreTransaction& tx) -> absl::Status {
      auto got = tx.ChangeAuditText(c);
      if (got.ok()) index = *got;
      return got.status();
    });
    if (!st.ok()) return st;
    return index;
  }

  std::map<std::string, AuditText> Texts(uint64_t leaf) {
    std::map<std::string, AuditText> out;
    auto texts = store_->ReadAuditTexts({leaf});
    EXPECT_TRUE(texts.ok()) << texts.status();
    if (texts.ok()) {
      for (auto& t : *texts) out[t.field] = t;
    }
    return out;
  }

  std::vector<uint64_t> BySubject(const std::string& subject) {
    AuditFilter f;
    f.subject_reference = subject;
    std::vector<uint64_t> out;
    EXPECT_TRUE(store_
                    ->ScanAudit(f, 0, 0,
                                [&](const AuditLeaf& leaf) {
                                  out.push_back(leaf.index);
                                  return true;
                                })
                    .ok());
    return out;
  }
};

TEST_P(TextStoreTest, TheLeafCommitsItsTextsAndTheTextTableHoldsThem) {
  StoreDecision();
  auto leaf = store_->GetAuditLeaf(0);
  ASSERT_TRUE(leaf.ok());
  EXPECT_EQ(leaf->record.find("Jane Doe"), std::string::npos) << "the text is not hashed";
  EXPECT_EQ(leaf->record.find(kSubject), std::string::npos);
  v1::AuditRecord hashed;
  ASSERT_TRUE(hashed.ParseFromString(leaf->record));
  auto texts = Texts(0);
  ASSERT_EQ(texts.size(), 2u);
  const AuditText& j = texts["declaration.necessity_justification"];
  EXPECT_EQ(j.text, kJustification);
  bool found = false;
  for (const auto& c : hashed.text_commitments()) {
    if (c.field() != j.field) continue;
    found = true;
    EXPECT_EQ(c.sha256(), *transparency::TextCommitment(j.field, j.salt, j.text));
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(BySubject(kSubject), std::vector<uint64_t>{0}) << "the query column keeps it";
}

TEST_P(TextStoreTest, ErasureClearsEveryCopyAndIsItselfARecord) {
  StoreDecision();
  const std::string leaf_before = store_->GetAuditLeaf(0)->record;
  auto erased = Change(0, "declaration.necessity_justification", std::nullopt);
  ASSERT_TRUE(erased.ok()) << erased.status();
  EXPECT_EQ(*erased, 1u);
  auto texts = Texts(0);
  const AuditText& j = texts["declaration.necessity_justification"];
  EXPECT_TRUE(j.erased);
  EXPECT_TRUE(j.text.empty());
  EXPECT_TRUE(j.salt.empty()) << "no salt left to test guesses against";
  EXPECT_EQ(j.erased_by, "safeshare://hips-dev/officer/hampshire-crt/dpo");
  EXPECT_EQ(j.erased_time, absl::FromUnixSeconds(1764100000));
  EXPECT_EQ(texts["declaration.subject_reference"].text, kSubject) << "only that field";
  EXPECT_EQ(store_->GetAuditLeaf(0)->record, leaf_before) << "the leaf never changes";
  // The message's copy of the declaration lost it too.
  auto m = store_->GetMessage("deny-1", MessageRead::kMetadata);
  ASSERT_TRUE(m.ok());
  v1::SharingDeclaration d;
  ASSERT_TRUE(d.ParseFromString(m->declaration));
  EXPECT_TRUE(d.necessity_justification().empty());
  EXPECT_EQ(d.subject_reference(), kSubject);
  // The erasure's record: the target, the officer, the reason committed.
  v1::AuditRecord change;
  ASSERT_TRUE(change.ParseFromString(store_->GetAuditLeaf(1)->record));
  EXPECT_EQ(change.event(), v1::AUDIT_EVENT_TYPE_TEXT_ERASED);
  EXPECT_EQ(change.target_leaf_index(), 0u);
  EXPECT_EQ(change.target_field(), "declaration.necessity_justification");
  EXPECT_EQ(change.message_id(), "deny-1");
  EXPECT_TRUE(change.reason().empty());
  EXPECT_EQ(Texts(1)["reason"].text, "subject access request 17");
  EXPECT_EQ(store_->GetAuditLeaf(1)->record.find("Jane Doe"), std::string::npos);
  ExpectLogVerifies(2);

  // Again: already erased.
  EXPECT_EQ(Change(0, "declaration.necessity_justification", std::nullopt).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Change(0, "declaration.necessity_justification", "new").status().code(),
            absl::StatusCode::kFailedPrecondition);
  // The subject reference: gone from the query column and the message too.
  ASSERT_TRUE(Change(0, "declaration.subject_reference", std::nullopt).ok());
  EXPECT_TRUE(BySubject(kSubject).empty());
  ASSERT_TRUE(d.ParseFromString(store_->GetMessage("deny-1", MessageRead::kMetadata)->declaration));
  EXPECT_TRUE(d.subject_reference().empty());
  ExpectLogVerifies(3);
}

TEST_P(TextStoreTest, RectificationCommitsTheNewTextInItsOwnRecord) {
  StoreDecision();
  const std::string corrected = "Child at risk: see case 2026/114";
  auto rectified = Change(0, "declaration.necessity_justification", corrected);
  ASSERT_TRUE(rectified.ok()) << rectified.status();
  const AuditText j = Texts(0)["declaration.necessity_justification"];
  EXPECT_EQ(j.text, corrected);
  EXPECT_EQ(j.rectified_in_leaf, *rectified);
  v1::AuditRecord change;
  ASSERT_TRUE(change.ParseFromString(store_->GetAuditLeaf(*rectified)->record));
  EXPECT_EQ(change.event(), v1::AUDIT_EVENT_TYPE_TEXT_RECTIFIED);
  EXPECT_EQ(store_->GetAuditLeaf(*rectified)->record.find(corrected), std::string::npos);
  std::string new_commitment;
  for (const auto& c : change.text_commitments()) {
    if (c.field() == "rectification.new_text") new_commitment = c.sha256();
  }
  EXPECT_EQ(new_commitment,
            *transparency::TextCommitment("rectification.new_text", j.salt, corrected));
  v1::SharingDeclaration d;
  ASSERT_TRUE(d.ParseFromString(store_->GetMessage("deny-1", MessageRead::kMetadata)->declaration));
  EXPECT_EQ(d.necessity_justification(), corrected);
  // A corrected subject reference is what queries find.
  const std::string other(64, 'b');
  ASSERT_TRUE(Change(0, "declaration.subject_reference", other).ok());
  EXPECT_TRUE(BySubject(kSubject).empty());
  EXPECT_EQ(BySubject(other), std::vector<uint64_t>{0});
  ExpectLogVerifies(3);
}

TEST_P(TextStoreTest, EachRefusalHasItsCodeAndChangesNothing) {
  StoreDecision();
  EXPECT_EQ(Change(0, "declaration.purpose", std::nullopt).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Change(0, "rectification.new_text", std::nullopt).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Change(0, "reason", std::nullopt, "").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Change(0, "declaration.necessity_justification", "").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Change(7, "reason", std::nullopt).status().code(), absl::StatusCode::kNotFound)
      << "no such leaf";
  EXPECT_EQ(Change(0, "declaration.consent_rationale", std::nullopt).status().code(),
            absl::StatusCode::kNotFound)
      << "the leaf has no such text";
  EXPECT_EQ(Texts(0)["declaration.necessity_justification"].text, kJustification);
  ExpectLogVerifies(1);
}

INSTANTIATE_TEST_SUITE_P(Backends, TextStoreTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

// Several handles on one PostgreSQL store, as gateway replicas (an embedded
// store belongs to one process, so these run on PostgreSQL only).
// The rows of tlog-tiles tiles: leaf hashes at height 0, and at height 8 the
// roots of each complete run of 256 leaves.
TEST_P(StoreTest, CompleteSubtreesAreTheTreesHashesAndStopAtTheLog) {
  Append(*store_, 600, 50);
  transparency::MemoryTree tree, first, second;
  ASSERT_TRUE(store_
                  ->ScanAudit({}, 0, 0,
                              [&](const AuditLeaf& leaf) {
                                EXPECT_TRUE(tree.AppendLeafHash(leaf.leaf_hash).ok());
                                auto& half = leaf.index < 256 ? first : second;
                                if (leaf.index < 512) {
                                  EXPECT_TRUE(half.AppendLeafHash(leaf.leaf_hash).ok());
                                }
                                return true;
                              })
                  .ok());
  auto leaves = store_->CompleteSubtrees(0, 5, 3);
  ASSERT_TRUE(leaves.ok()) << leaves.status();
  ASSERT_EQ(leaves->size(), 3u);
  EXPECT_EQ((*leaves)[0], store_->GetAuditLeaf(5)->leaf_hash);
  EXPECT_EQ((*leaves)[2], store_->GetAuditLeaf(7)->leaf_hash);
  auto tiles = store_->CompleteSubtrees(8, 0, 2);
  ASSERT_TRUE(tiles.ok()) << tiles.status();
  ASSERT_EQ(tiles->size(), 2u);
  EXPECT_EQ((*tiles)[0], *first.Root(256));
  EXPECT_EQ((*tiles)[1], *second.Root(256));
  EXPECT_TRUE(absl::IsOutOfRange(store_->CompleteSubtrees(8, 0, 3).status()))
      << "768 leaves are not in a log of 600";
  EXPECT_TRUE(absl::IsOutOfRange(store_->CompleteSubtrees(0, 598, 3).status()));
  EXPECT_TRUE(store_->CompleteSubtrees(0, 597, 3).ok());
}

// Witnessing: cosignatures kept beside the note as signed, and the witness's
// own state moved only from what it was (two replicas never cosign two
// histories), surviving a reopen.
TEST_P(StoreTest, CosignedCheckpointsAndWitnessedLogsAreKeptAndComparedBeforeSet) {
  auto none = store_->LatestCosignedCheckpoint();
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(none->has_value());
  EXPECT_TRUE(absl::IsNotFound(store_->StoreCosignedCheckpoint(1, "note\n", 1)))
      << "no checkpoint of size 1 yet";
  Append(*store_, 3);
  auto latest = store_->LatestCheckpoint();
  ASSERT_TRUE(latest.ok());
  const std::string cosigned = latest->checkpoint_note + "\u2014 w1 AAAA\n";
  ASSERT_TRUE(store_->StoreCosignedCheckpoint(latest->tree_size, cosigned, 1).ok());
  ASSERT_TRUE(store_->StoreCosignedCheckpoint(latest->tree_size, cosigned + "x", 2).ok())
      << "a later round replaces what an earlier one stored";
  Append(*store_, 1);  // a newer checkpoint, not cosigned
  auto found = store_->LatestCosignedCheckpoint();
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->tree_size, latest->tree_size);
  EXPECT_EQ((*found)->root_hash, latest->root_hash);
  EXPECT_EQ((*found)->checkpoint_note, cosigned + "x");
  auto as_signed = store_->LatestCheckpoint();
  ASSERT_TRUE(as_signed.ok());
  EXPECT_EQ(as_signed->tree_size, latest->tree_size + 1);
  ExpectLogVerifies(4);  // the log's own notes are untouched

  const std::string origin = "peer.example/audit";
  auto never = store_->GetWitnessedLog(origin);
  ASSERT_TRUE(never.ok());
  EXPECT_EQ(never->tree_size, 0u);
  EXPECT_TRUE(never->root_hash.empty());
  const WitnessedLog first{5, std::string(32, 'a')}, second{9, std::string(32, 'b')};
  ASSERT_TRUE(store_->UpdateWitnessedLog(origin, *never, first).ok());
  EXPECT_TRUE(absl::IsAborted(store_->UpdateWitnessedLog(origin, *never, second)))
      << "a second first cosignature must not overwrite the first";
  EXPECT_TRUE(absl::IsAborted(store_->UpdateWitnessedLog(origin, second, second)));
  ASSERT_TRUE(store_->UpdateWitnessedLog(origin, first, second).ok());
  Reopen();
  auto kept = store_->GetWitnessedLog(origin);
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->tree_size, 9u);
  EXPECT_EQ(kept->root_hash, second.root_hash);
  auto still = store_->LatestCosignedCheckpoint();
  ASSERT_TRUE(still.ok() && still->has_value());
  EXPECT_EQ((*still)->checkpoint_note, cosigned + "x");
}

class ReplicaStoreTest : public StoreTest {};

// Each replica appends in its own batches; the log stays one linear log that
// both see.
TEST_P(ReplicaStoreTest, TwoWritersKeepOneLinearLog) {
  auto replica = OpenSigned();
  ASSERT_NE(replica, nullptr);
  std::thread a([&] { Append(*store_, 40, 3); });
  std::thread b([&] { Append(*replica, 40, 4); });
  a.join();
  b.join();
  ExpectLogVerifies(80);
  auto seen = replica->LatestCheckpoint();
  ASSERT_TRUE(seen.ok());
  EXPECT_EQ(seen->tree_size, 80u);
  // Mail inserted through one replica is in the other's mailbox reads.
  ASSERT_TRUE(replica->InsertMessage(Message("via-b", "iow-mash")).ok());
  auto pending = store_->PendingForRecipient("iow-mash", 0, 10);
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].message_id, "via-b");
}

TEST_P(ReplicaStoreTest, OtherReplicasHearOfNewMailAndKeys) {
  auto replica = OpenSigned();
  ASSERT_NE(replica, nullptr);
  absl::Mutex mu;
  std::vector<std::string> mail;
  int keys = 0;
  store_->SetEventListener({[&](const std::string& r) {
                              absl::MutexLock lock(&mu);
                              mail.push_back(r);
                            },
                            [&] {
                              absl::MutexLock lock(&mu);
                              ++keys;
                            },
                            nullptr});
  auto heard = [&](const std::string& recipient) {
    absl::MutexLock lock(&mu);
    return std::find(mail.begin(), mail.end(), recipient) != mail.end();
  };
  ASSERT_TRUE(replica->InsertMessage(Message("n1", "portsmouth-mash")).ok());
  EXPECT_TRUE(safeshare::testing::WaitFor([&] { return heard("portsmouth-mash"); }, 10));
  StoredMessage held = Message("n2", "iow-mash");
  held.state = v1::MESSAGE_STATE_HELD;
  ASSERT_TRUE(replica->InsertMessage(held).ok());
  ASSERT_TRUE(replica->InsertMessage(Message("n3", "southampton-mash")).ok());
  EXPECT_TRUE(safeshare::testing::WaitFor([&] { return heard("southampton-mash"); }, 10));
  EXPECT_FALSE(heard("iow-mash")) << "a held message is not mail";
  AgencyKey k;
  k.agency_id = "iow-mash";
  k.key.set_key_id("k-new");
  k.key.set_purpose(v1::KEY_PURPOSE_ENCRYPTION);
  k.key.set_public_key(std::string(32, 'k'));
  ASSERT_TRUE(PublishKey(*replica, k, absl::Now()).ok());
  EXPECT_TRUE(safeshare::testing::WaitFor(
      [&] {
        absl::MutexLock lock(&mu);
        return keys > 0;
      },
      10));
  store_->SetEventListener({});
}

// A replica whose LISTEN connection is cut (a failover, an idle timeout)
// reconnects and asks its subscribers to resync, since notifications sent in
// between are lost; then it hears new mail again.
TEST_P(ReplicaStoreTest, ALostListenConnectionReconnectsAndResyncs) {
  auto replica = OpenSigned();
  ASSERT_NE(replica, nullptr);
  std::atomic<int> resyncs{0};
  absl::Mutex mu;
  std::vector<std::string> mail;
  store_->SetEventListener({[&](const std::string& r) {
                              absl::MutexLock lock(&mu);
                              mail.push_back(r);
                            },
                            nullptr, [&] { ++resyncs; }});
  auto heard = [&](const std::string& recipient) {
    absl::MutexLock lock(&mu);
    return std::find(mail.begin(), mail.end(), recipient) != mail.end();
  };
  // Wait until the listener is up (it hears its first mail).
  ASSERT_TRUE(replica->InsertMessage(Message("l1", "portsmouth-mash")).ok());
  ASSERT_TRUE(safeshare::testing::WaitFor([&] { return heard("portsmouth-mash"); }, 10));
  ASSERT_EQ(resyncs.load(), 0);

  PGconn* admin = PQconnectdb(uri_.c_str());
  ASSERT_EQ(PQstatus(admin), CONNECTION_OK);
  PGresult* r = PQexec(admin,
                       "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                       "AND query LIKE 'LISTEN%'");
  ASSERT_EQ(PQresultStatus(r), PGRES_TUPLES_OK) << PQresultErrorMessage(r);
  EXPECT_EQ(PQntuples(r), 2) << "each replica's listener";
  PQclear(r);
  PQfinish(admin);

  EXPECT_TRUE(safeshare::testing::WaitFor([&] { return resyncs.load() > 0; }, 15))
      << "no resync after the LISTEN connection was cut";
  ASSERT_TRUE(replica->InsertMessage(Message("l2", "southampton-mash")).ok());
  EXPECT_TRUE(safeshare::testing::WaitFor([&] { return heard("southampton-mash"); }, 10));
  store_->SetEventListener({});
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::Values("sqlite", "postgresql"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });
INSTANTIATE_TEST_SUITE_P(Replicas, ReplicaStoreTest, ::testing::Values("postgresql"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace safeshare::gateway
