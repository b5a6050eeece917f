// Erasable text on a real SQLite file, checked by the agents' offline
// verifier: an erased text is gone from the database and its WAL, the log
// still verifies, a stored or exported text that does not open its
// commitment is caught, and a database from before erasable text (leaves
// carrying their text in place) migrates and verifies with new leaves after
// it.

#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "envelope/keys.h"
#include "gateway/audit/audit_service.h"
#include "gateway/audit/record_texts.h"
#include "gateway/store/sqlite_store.h"
#include "gateway/store/store_rows.h"
#include "gtest/gtest.h"
#include "tests/gateway/store_test_rows.h"
#include "tests/support/test_support.h"
#include "transparency/checkpoint.h"
#include "transparency/merkle.h"
#include "verification/audit_verifier.h"

namespace safeshare::gateway {
namespace {

using store_test::Message;
using store_test::Record;

constexpr char kOrigin[] = "safeshare.test/audit";
// Text no other byte of the file could hold by chance.
constexpr char kSecret[] = "Quillon Zebrafinch, NHS 943 476 5919, lives at 12 Orchard Row";

std::string FileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class AuditTextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log_.set_origin(kOrigin);
    log_.set_public_key(key_.RawPublicKey());
    Open();
  }

  void Open() {
    auto s = SqliteStore::Open(path_);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
    store_->SetCheckpointSigner([this](uint64_t size, const std::string& root) {
      return transparency::SignCheckpoint({kOrigin, size, root}, kOrigin, key_.get());
    });
  }

  // A DENY decision (its sealed content never stored) whose justification
  // names a child, and its message row with the declaration.
  void StoreDenied(const std::string& id, const std::string& justification) {
    v1::AuditRecord r = Record(id);
    r.mutable_decision()->set_decision(v1::DECISION_DENY);
    r.mutable_declaration()->set_necessity_justification(justification);
    StoredMessage m = Message(id, "portsmouth-mash");
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

  absl::StatusOr<uint64_t> Change(uint64_t leaf, std::optional<std::string> text) {
    AuditTextChange c;
    c.leaf_index = leaf;
    c.field = "declaration.necessity_justification";
    c.new_text = std::move(text);
    c.officer_uri = "safeshare://hips-dev/officer/hampshire-crt/dpo";
    c.reason = "rectification request 2026/88";
    c.now = absl::Now();
    uint64_t index = 0;
    absl::Status st = store_->CommitAndWait([&](StoreTransaction& tx) -> absl::Status {
      auto got = tx.ChangeAuditText(c);
      if (got.ok()) index = *got;
      return got.status();
    });
    if (!st.ok()) return st;
    return index;
  }

  // What is on disk now: the database, its WAL and its shared memory.
  std::string OnDisk() {
    std::string all = FileBytes(path_);
    for (const char* suffix : {"-wal", "-shm"}) {
      if (std::filesystem::exists(path_ + suffix)) all += FileBytes(path_ + suffix);
    }
    return all;
  }

  // A full JSON-lines export, built as the Audit service builds one.
  std::string Export() {
    auto cp = store_->LatestCheckpoint();
    EXPECT_TRUE(cp.ok());
    std::string out = AuditJsonCheckpointLine(*cp);
    std::vector<AuditLeaf> leaves;
    std::vector<v1::AuditRecord> records;
    EXPECT_TRUE(store_
                    ->ScanAudit({}, 0, 0,
                                [&](const AuditLeaf& leaf) {
                                  leaves.push_back(leaf);
                                  records.emplace_back().ParseFromString(leaf.record);
                                  return true;
                                })
                    .ok());
    auto texts = RecordTexts::Load(*store_, records);
    EXPECT_TRUE(texts.ok());
    for (size_t i = 0; i < leaves.size(); ++i) {
      texts->Show(records[i]);
      out += AuditJsonLine(leaves[i], records[i], nullptr, texts->Disclosures(leaves[i].index));
    }
    return out;
  }

  absl::StatusOr<verification::AuditVerification> VerifyExport(const std::string& jsonl) {
    const std::string file = dir_.path() + "/export.jsonl";
    std::ofstream(file) << jsonl;
    return verification::VerifyAuditExport(file, log_);
  }

  void Sql(const std::string& sql) {
    EXPECT_EQ(safeshare::testing::ExecSqlite(path_, sql), "") << sql;
  }

  envelope::PrivateKey key_ = *envelope::PrivateKey::Generate(envelope::PrivateKey::Type::kSigning);
  v1::AuditLogIdentity log_;
  safeshare::testing::TempDir dir_;
  std::string path_ = dir_.path() + "/gateway.db";
  std::unique_ptr<SqliteStore> store_;
};

TEST_F(AuditTextTest, AnErasedTextIsGoneFromTheFileAndItsWalAndTheLogStillVerifies) {
  StoreDenied("deny-1", kSecret);
  StoreDenied("deny-2", "A second referral, nobody named in it at all");
  // The test can fail: before erasure the text is on disk (the audit_text
  // row and the message's declaration).
  ASSERT_NE(OnDisk().find("Quillon Zebrafinch"), std::string::npos);
  auto erased = Change(0, std::nullopt);
  ASSERT_TRUE(erased.ok()) << erased.status();
  // With the store still open: the WAL was checkpointed and truncated.
  const std::string disk = OnDisk();
  EXPECT_EQ(disk.find("Quillon Zebrafinch"), std::string::npos);
  EXPECT_EQ(disk.find("943 476 5919"), std::string::npos);
  EXPECT_NE(disk.find("A second referral"), std::string::npos) << "the other text stays";
  EXPECT_EQ(std::filesystem::file_size(path_ + "-wal"), 0u);

  auto v = verification::VerifyAuditDatabase(path_, log_);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->records, 3u);
  EXPECT_EQ(v->texts_erased, 1u);
  EXPECT_EQ(v->texts_checked, 2u) << "deny-2's justification and the erasure's reason";

  const std::string jsonl = Export();
  EXPECT_EQ(jsonl.find("Quillon"), std::string::npos);
  EXPECT_NE(jsonl.find("erased on "), std::string::npos);
  auto ve = VerifyExport(jsonl);
  ASSERT_TRUE(ve.ok()) << ve.status();
  EXPECT_EQ(ve->texts_erased, 1u);
  EXPECT_EQ(ve->texts_checked, 2u);
}

TEST_F(AuditTextTest, ARectifiedTextOpensTheRectificationsCommitmentAndATamperedOneFails) {
  StoreDenied("deny-1", kSecret);
  auto rectified = Change(0, "Child at risk; see case 2026/114");
  ASSERT_TRUE(rectified.ok()) << rectified.status();
  const std::string jsonl = Export();
  EXPECT_NE(jsonl.find("Child at risk; see case 2026/114"), std::string::npos);
  EXPECT_EQ(jsonl.find("Quillon"), std::string::npos);
  auto v = VerifyExport(jsonl);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->texts_checked, 2u) << "the rectified text and the officer's reason";

  // The disclosed text altered: caught, and named.
  std::string forged = jsonl;
  const size_t at = forged.rfind("case 2026/114");
  ASSERT_NE(at, std::string::npos);
  forged.replace(at, 13, "case 2026/999");
  v = VerifyExport(forged);
  EXPECT_EQ(v.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(v.status().message().find("record 0"), std::string::npos) << v.status();

  // On the database, the same.
  store_.reset();
  ASSERT_TRUE(verification::VerifyAuditDatabase(path_, log_).ok());
  Sql("UPDATE audit_text SET text = 'Child at risk; see case 1999/1' WHERE seq = 0");
  auto d = verification::VerifyAuditDatabase(path_, log_);
  EXPECT_EQ(d.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(d.status().message().find("does not match its commitment"), std::string::npos)
      << d.status();
}

TEST_F(AuditTextTest, AnErasureTheStoreDoesNotShowIsCaught) {
  StoreDenied("deny-1", kSecret);
  ASSERT_TRUE(Change(0, std::nullopt).ok());
  store_.reset();
  // Someone puts the text back where the log says it was erased.
  Sql("UPDATE audit_text SET erased_us = NULL, text = 'x' WHERE seq = 0 AND "
      "field = 'declaration.necessity_justification'");
  auto v = verification::VerifyAuditDatabase(path_, log_);
  EXPECT_EQ(v.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(v.status().message().find("last change"), std::string::npos) << v.status();
}

// A database from before erasable text: its leaf carries the text in place,
// it has no audit_text table and schema version 7.
TEST_F(AuditTextTest, AnOldDatabaseMigratesAndOldAndNewLeavesVerifyTogether) {
  store_.reset();
  Sql("DROP TABLE audit_text");
  Sql("PRAGMA user_version=7");
  v1::AuditRecord old = Record("old-1");
  old.set_sequence(0);
  *old.mutable_time() = store_rows::Ts(1700000000000000);
  old.mutable_declaration()->set_necessity_justification("Old text, hashed in place");
  const std::string bytes = store_rows::SerializeRecord(old);
  const std::string leaf = transparency::LeafHash(bytes);
  auto note = transparency::SignCheckpoint({kOrigin, 1, leaf}, kOrigin, key_.get());
  ASSERT_TRUE(note.ok());
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db,
                                 "INSERT INTO audit_log (seq, record, leaf_hash, time_us, event, "
                                 "message_id, kind, sender, recipient, sender_area, "
                                 "recipient_area, purpose, decision, subject_reference, "
                                 "flagged_checks) VALUES (0, ?, ?, 1700000000000000, 1, 'old-1', "
                                 "1, 'hiow-police', 'portsmouth-mash', 'hampshire', 'portsmouth', "
                                 "0, 1, '', ',')",
                                 -1, &s, nullptr),
              SQLITE_OK);
    sqlite3_bind_blob(s, 1, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
    sqlite3_bind_blob(s, 2, leaf.data(), static_cast<int>(leaf.size()), SQLITE_TRANSIENT);
    EXPECT_EQ(sqlite3_step(s), SQLITE_DONE);
    sqlite3_finalize(s);
    ASSERT_EQ(sqlite3_prepare_v2(db,
                                 "INSERT INTO audit_checkpoints (tree_size, root_hash, note, "
                                 "time_us) VALUES (1, ?, ?, 1700000000000000)",
                                 -1, &s, nullptr),
              SQLITE_OK);
    sqlite3_bind_blob(s, 1, leaf.data(), static_cast<int>(leaf.size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, note->data(), static_cast<int>(note->size()), SQLITE_TRANSIENT);
    EXPECT_EQ(sqlite3_step(s), SQLITE_DONE);
    sqlite3_finalize(s);
    sqlite3_close(db);
  }
  auto before = verification::VerifyAuditDatabase(path_, log_);
  ASSERT_TRUE(before.ok()) << "the old database verifies before migrating: " << before.status();

  Open();  // migrates
  StoreDenied("new-1", kSecret);
  // The old leaf's text is in the hashed bytes: it has nothing to erase.
  EXPECT_EQ(Change(0, std::nullopt).status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(Change(1, std::nullopt).ok());
  const std::string jsonl = Export();
  EXPECT_NE(jsonl.find("Old text, hashed in place"), std::string::npos);
  auto ve = VerifyExport(jsonl);
  ASSERT_TRUE(ve.ok()) << ve.status();
  EXPECT_EQ(ve->records, 3u);
  store_.reset();
  auto v = verification::VerifyAuditDatabase(path_, log_);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->records, 3u);
  EXPECT_EQ(v->texts_erased, 1u);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(s, 0), 10);
  sqlite3_finalize(s);
  sqlite3_close(db);
}

}  // namespace
}  // namespace safeshare::gateway
