// The rules both back-ends share, without a database: the audit appender
// (what it assigns, hashes and hands over to be written, and in what order)
// and the key rules (publish, revoke, seed and their errors) over rows kept
// in memory.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gateway/store/audit_appender.h"
#include "gateway/store/key_rules.h"
#include "gateway/store/store_rows.h"
#include "gtest/gtest.h"
#include "transparency/merkle.h"
#include "transparency/text_commitment.h"

namespace safeshare::gateway {
namespace {

// docs/audit-log.md's worked example of the commitment layout.
constexpr char kDocumentedCommitmentHex[] =
    "b77e7649f66687111f74531771288078dfc3a43872a55ffda306a30a6985cce2";

// Records what the appender asks to write; fails on request.
class RecordingWriter : public AuditRowWriter {
 public:
  absl::Status WriteLeaf(const AuditLeafRow& row) override {
    if (fail_leaf) return absl::UnavailableError("disk full");
    order.push_back(absl::StrCat("leaf ", row.index));
    leaves.push_back(row);
    return absl::OkStatus();
  }
  absl::Status WriteNode(const transparency::Subtree& node) override {
    order.push_back(absl::StrCat("node ", node.level, " ", node.index));
    return absl::OkStatus();
  }
  absl::Status WriteText(const AuditText& text) override {
    texts.push_back(text);
    return absl::OkStatus();
  }
  absl::StatusOr<std::optional<std::string>> ReadLeafRecord(uint64_t) override {
    return absl::InternalError("unused");
  }
  absl::StatusOr<std::optional<AuditText>> ReadText(uint64_t, const std::string&) override {
    return absl::InternalError("unused");
  }
  absl::Status UpdateText(const AuditText&) override { return absl::InternalError("unused"); }
  absl::Status SetSubjectColumn(uint64_t, const std::string&) override {
    return absl::InternalError("unused");
  }

  bool fail_leaf = false;
  std::vector<AuditText> texts;
  std::vector<std::string> order;
  std::vector<AuditLeafRow> leaves;
};

safeshare::v1::AuditRecord Record(const std::string& message_id) {
  safeshare::v1::AuditRecord r;
  r.set_message_id(message_id);
  r.set_sender_agency_id("hampshire-police");
  r.set_recipient_agency_id("southampton-childrens");
  r.mutable_declaration()->set_subject_reference("subject-1");
  return r;
}

TEST(AuditAppenderTest, AssignsIndexAndTimeAndWritesTheLeafBeforeTheNodesItCompletes) {
  AuditAppender appender;
  RecordingWriter writer;
  transparency::MemoryTree tree;
  for (int i = 0; i < 4; ++i) {
    std::string hashed;
    std::vector<transparency::Subtree> completed;
    auto index = appender.Append(Record(absl::StrCat("m", i)), writer, &hashed, &completed);
    ASSERT_TRUE(index.ok()) << index.status();
    EXPECT_EQ(*index, static_cast<uint64_t>(i));
    safeshare::v1::AuditRecord stored;
    ASSERT_TRUE(stored.ParseFromString(hashed));
    EXPECT_EQ(stored.sequence(), static_cast<uint64_t>(i));
    EXPECT_TRUE(stored.has_time());
    EXPECT_EQ(writer.leaves.back().record, hashed);
    EXPECT_EQ(writer.leaves.back().leaf_hash, tree.Append(hashed));
    EXPECT_EQ(writer.leaves.back().message_id, absl::StrCat("m", i));
    EXPECT_EQ(writer.leaves.back().subject_reference, "subject-1");
    EXPECT_EQ(completed.front().level, 0u);  // the leaf itself, then what it completes
  }
  EXPECT_EQ(writer.order, (std::vector<std::string>{"leaf 0", "leaf 1", "node 1 0", "leaf 2",
                                                    "leaf 3", "node 1 1", "node 2 0"}));
  EXPECT_EQ(appender.size(), 4u);
  EXPECT_EQ(appender.frontier().Root(), *tree.Root());
}

TEST(AuditAppenderTest, FreeTextLeavesTheHashedRecordAsASaltedCommitment) {
  AuditAppender appender;
  RecordingWriter writer;
  safeshare::v1::AuditRecord r = Record("m");
  r.mutable_declaration()->set_necessity_justification("Jane Doe's school reported bruising");
  r.set_reason("officer's reason");
  std::string hashed;
  ASSERT_TRUE(appender.Append(r, writer, &hashed).ok());
  EXPECT_EQ(hashed.find("Jane Doe"), std::string::npos);
  EXPECT_EQ(hashed.find("officer's reason"), std::string::npos);
  EXPECT_EQ(hashed.find("subject-1"), std::string::npos);
  safeshare::v1::AuditRecord stored;
  ASSERT_TRUE(stored.ParseFromString(hashed));
  EXPECT_TRUE(stored.declaration().necessity_justification().empty());
  EXPECT_TRUE(stored.reason().empty());
  // Justification, subject reference, reason: consent rationale and advice
  // reference were empty, so not committed.
  ASSERT_EQ(stored.text_commitments_size(), 3);
  ASSERT_EQ(writer.texts.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    const auto& c = stored.text_commitments(i);
    const AuditText& t = writer.texts[i];
    EXPECT_EQ(c.field(), t.field);
    EXPECT_EQ(t.leaf_index, 0u);
    EXPECT_EQ(t.salt.size(), 32u);
    EXPECT_EQ(c.sha256(), *transparency::TextCommitment(t.field, t.salt, t.text)) << t.field;
  }
  EXPECT_EQ(writer.texts[0].field, "declaration.necessity_justification");
  EXPECT_EQ(writer.texts[0].text, "Jane Doe's school reported bruising");
  EXPECT_EQ(writer.texts[2].field, "reason");
  // The query column keeps the plain subject reference.
  EXPECT_EQ(writer.leaves.back().subject_reference, "subject-1");
  // Two salts never repeat: the same text commits differently.
  EXPECT_NE(writer.texts[0].salt, writer.texts[1].salt);
}

TEST(TextCommitmentTest, TheByteLayoutIsTheDocumentedOne) {
  // SHA-256("safeshare/audit-text/v1" 0x00 "reason" 0x00 salt "x"), salt = 32 x 0x01,
  // computed independently with: printf 'safeshare/audit-text/v1\0reason\0' ;
  // printf '\x01%.0s' {1..32}; printf x  | sha256sum
  const std::string salt(32, '\x01');
  auto c = transparency::TextCommitment("reason", salt, "x");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(absl::BytesToHexString(*c), kDocumentedCommitmentHex);
  EXPECT_NE(*transparency::TextCommitment("reasons", salt, "x"), *c);  // the field is bound
  EXPECT_EQ(transparency::TextCommitment("reason", "short", "x").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(AuditAppenderTest, AKeptTimeIsHashedAsGiven) {
  AuditAppender appender;
  RecordingWriter writer;
  safeshare::v1::AuditRecord r = Record("m");
  *r.mutable_time() = store_rows::Ts(1700000000123456);
  ASSERT_TRUE(appender.Append(r, writer, nullptr).ok());
  EXPECT_EQ(writer.leaves.back().time_us, 1700000000123456);
}

TEST(AuditAppenderTest, ALeafThatIsNotWrittenLeavesTheFrontierAlone) {
  AuditAppender appender;
  RecordingWriter writer;
  ASSERT_TRUE(appender.Append(Record("m0"), writer, nullptr).ok());
  const std::string root = appender.frontier().Root();
  writer.fail_leaf = true;
  auto index = appender.Append(Record("m1"), writer, nullptr);
  EXPECT_EQ(index.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(appender.size(), 1u);
  EXPECT_EQ(appender.frontier().Root(), root);
}

TEST(AuditAppenderTest, SealSignsOnlyWhenTheBatchGrewTheLogAndASignerIsSet) {
  AuditAppender appender;
  RecordingWriter writer;
  ASSERT_TRUE(appender.Append(Record("m0"), writer, nullptr).ok());
  CommitInfo info;
  auto sealed = appender.Seal(0, info);
  ASSERT_TRUE(sealed.ok());
  EXPECT_FALSE(*sealed);  // no signer
  EXPECT_EQ(info.tree_size, 1u);
  EXPECT_EQ(info.root_hash, appender.frontier().Root());

  int signed_count = 0;
  appender.SetSigner([&](uint64_t size, const std::string& root) -> absl::StatusOr<std::string> {
    ++signed_count;
    return absl::StrCat("note for ", size);
  });
  CommitInfo unchanged;
  ASSERT_FALSE(*appender.Seal(1, unchanged));
  EXPECT_TRUE(unchanged.checkpoint_note.empty());
  CommitInfo grown;
  ASSERT_TRUE(*appender.Seal(0, grown));
  EXPECT_EQ(grown.checkpoint_note, "note for 1");
  EXPECT_EQ(signed_count, 1);

  appender.SetSigner([](uint64_t, const std::string&) -> absl::StatusOr<std::string> {
    return absl::InternalError("no key");
  });
  CommitInfo failed;
  EXPECT_EQ(appender.Seal(0, failed).status().code(), absl::StatusCode::kInternal);
}

// agency_keys in memory, in insertion order.
class MemoryKeys : public KeyRows {
 public:
  absl::StatusOr<std::optional<AgencyKey>> Load(const std::string& key_id) override {
    for (const auto& k : keys) {
      if (k.key.key_id() == key_id) return std::optional<AgencyKey>(k);
    }
    return std::optional<AgencyKey>();
  }
  absl::Status Insert(const AgencyKey& key) override {
    keys.push_back(key);
    return absl::OkStatus();
  }
  absl::StatusOr<bool> HasCurrent(const std::string& agency_id,
                                  safeshare::v1::KeyPurpose purpose) override {
    for (const auto& k : keys) {
      if (k.agency_id == agency_id && k.key.purpose() == purpose && k.key.current()) return true;
    }
    return false;
  }
  absl::Status DemoteCurrent(const std::string& agency_id,
                             safeshare::v1::KeyPurpose purpose) override {
    for (auto& k : keys) {
      if (k.agency_id == agency_id && k.key.purpose() == purpose) k.key.set_current(false);
    }
    return absl::OkStatus();
  }
  absl::Status MakeCurrent(const std::string& key_id) override {
    for (auto& k : keys) {
      if (k.key.key_id() == key_id) k.key.set_current(true);
    }
    return absl::OkStatus();
  }
  absl::Status Revoke(const std::string& key_id, absl::Time) override {
    for (auto& k : keys) {
      if (k.key.key_id() == key_id) {
        k.key.set_revoked(true);
        k.key.set_current(false);
      }
    }
    return absl::OkStatus();
  }
  absl::StatusOr<std::optional<uint64_t>> LastEvent(const std::string& agency_id) override {
    std::optional<uint64_t> last;
    for (const auto& e : events) {
      if (e.agency_id == agency_id) last = e.leaf_index;
    }
    return last;
  }
  absl::Status AddEvent(const KeyEventRow& event) override {
    events.push_back(event);
    return absl::OkStatus();
  }

  std::vector<AgencyKey> keys;
  std::vector<KeyEventRow> events;
};

AgencyKey Key(const std::string& agency, const std::string& id, bool current = true) {
  AgencyKey k;
  k.agency_id = agency;
  k.key.set_key_id(id);
  k.key.set_purpose(safeshare::v1::KEY_PURPOSE_SIGNING);
  k.key.set_public_key(std::string(32, 'k'));
  k.key.set_current(current);
  return k;
}

const absl::Time kNow = absl::FromUnixSeconds(1700000000);

TEST(KeyRulesTest, PublishingDemotesThePreviousCurrentKeyAndIsIdempotent) {
  MemoryKeys rows;
  ASSERT_TRUE(key_rules::Publish(rows, Key("hants", "k1"), kNow).ok());
  auto second = key_rules::Publish(rows, Key("hants", "k2"), kNow);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->current());
  EXPECT_EQ(store_rows::TsMicros(second->not_before()), store_rows::ToMicros(kNow));
  ASSERT_EQ(rows.keys.size(), 2u);
  EXPECT_FALSE(rows.keys[0].key.current());
  EXPECT_TRUE(rows.keys[1].key.current());
  EXPECT_TRUE(key_rules::Publish(rows, Key("hants", "k2"), kNow).ok());
  EXPECT_EQ(rows.keys.size(), 2u);
  // Publishing the older key again makes it current once more.
  ASSERT_TRUE(key_rules::Publish(rows, Key("hants", "k1"), kNow).ok());
  EXPECT_TRUE(rows.keys[0].key.current());
  EXPECT_FALSE(rows.keys[1].key.current());
}

TEST(KeyRulesTest, AKeyIdBelongsToOneAgencyAndARevokedKeyIsNeverRepublished) {
  MemoryKeys rows;
  ASSERT_TRUE(key_rules::Publish(rows, Key("hants", "k1"), kNow).ok());
  auto taken = key_rules::Publish(rows, Key("soton", "k1"), kNow);
  EXPECT_EQ(taken.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(taken.status().message(),
            "key k1 is already in the directory and cannot be republished");
  ASSERT_TRUE(key_rules::Revoke(rows, "hants", "k1", kNow).ok());
  EXPECT_EQ(key_rules::Publish(rows, Key("hants", "k1"), kNow).status().code(),
            absl::StatusCode::kAlreadyExists);
}

TEST(KeyRulesTest, OnlyTheOwningAgencyRevokesAndRevocationIsFinal) {
  MemoryKeys rows;
  ASSERT_TRUE(key_rules::Publish(rows, Key("hants", "k1"), kNow).ok());
  auto other = key_rules::Revoke(rows, "soton", "k1", kNow);
  EXPECT_EQ(other.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(other.status().message(), "agency soton has no key k1 in the directory");
  EXPECT_FALSE(rows.keys[0].key.revoked());
  auto revoked = key_rules::Revoke(rows, "hants", "k1", kNow);
  ASSERT_TRUE(revoked.ok());
  EXPECT_TRUE(revoked->revoked());
  EXPECT_FALSE(revoked->current());
  auto again = key_rules::Revoke(rows, "hants", "k1", kNow);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->revoked());
  EXPECT_EQ(key_rules::Revoke(rows, "hants", "absent", kNow).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(KeyRulesTest, SeedingKeepsTheCurrentKeyAndAppliesTheFilesRevocations) {
  MemoryKeys rows;
  EXPECT_EQ(key_rules::Seed(rows, Key("hants", "k1"), kNow)->outcome, SeedOutcome::kInserted);
  EXPECT_EQ(key_rules::Seed(rows, Key("hants", "k1"), kNow)->outcome, SeedOutcome::kUnchanged);
  ASSERT_TRUE(key_rules::Seed(rows, Key("hants", "k2"), kNow).ok());
  ASSERT_EQ(rows.keys.size(), 2u);
  EXPECT_TRUE(rows.keys[0].key.current());
  EXPECT_FALSE(rows.keys[1].key.current());  // the agency already had a current key
  AgencyKey revoked = Key("hants", "k1");
  revoked.key.set_revoked(true);
  auto seeded = key_rules::Seed(rows, revoked, kNow);
  ASSERT_TRUE(seeded.ok());
  EXPECT_EQ(seeded->outcome, SeedOutcome::kRevoked);
  EXPECT_TRUE(seeded->key.revoked());
  EXPECT_FALSE(seeded->key.current());
  EXPECT_TRUE(rows.keys[0].key.revoked());
  EXPECT_EQ(key_rules::Seed(rows, revoked, kNow)->outcome, SeedOutcome::kUnchanged);
  EXPECT_EQ(rows.keys.size(), 2u);
  AgencyKey born_revoked = Key("soton", "k3");
  born_revoked.key.set_revoked(true);
  ASSERT_TRUE(key_rules::Seed(rows, born_revoked, kNow).ok());
  EXPECT_FALSE(rows.keys[2].key.current());
}

}  // namespace
}  // namespace safeshare::gateway
