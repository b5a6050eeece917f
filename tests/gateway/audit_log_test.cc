// The offline verifier on a real SQLite file: an untouched log verifies, and
// each kind of tamper is caught and named. (Appends, checkpoints and proofs
// are in the shared store suite, store_test.cc.)

#include <sqlite3.h>

#include <filesystem>

#include "envelope/keys.h"
#include "gateway/audit/audit_service.h"
#include "gateway/store/sqlite_store.h"
#include "gtest/gtest.h"
#include "tests/gateway/store_test_rows.h"
#include "tests/support/test_support.h"
#include "transparency/checkpoint.h"
#include "transparency/merkle.h"
#include "verification/audit_verifier.h"

namespace safeshare::gateway {
namespace {

using store_test::Record;

constexpr char kOrigin[] = "safeshare.test/audit";

class AuditLogTest : public ::testing::Test {
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

  // Appends `n` records in batches of `batch`.
  void Append(int n, int batch = 1) {
    for (int i = 0; i < n; i += batch) {
      ASSERT_TRUE(store_
                      ->CommitAndWait([&, i](StoreTransaction& tx) -> absl::Status {
                        for (int j = i; j < std::min(n, i + batch); ++j) {
                          auto idx = tx.AppendAudit(Record(absl::StrCat("m-", next_++)));
                          if (!idx.ok()) return idx.status();
                        }
                        return absl::OkStatus();
                      })
                      .ok());
    }
  }

  absl::StatusOr<verification::AuditVerification> VerifyCopy() {
    store_.reset();  // closes; WAL checkpointed
    return verification::VerifyAuditDatabase(path_, log_);
  }

  void Sql(const std::string& sql) {
    EXPECT_EQ(safeshare::testing::ExecSqlite(path_, sql), "") << sql;
  }

  envelope::PrivateKey key_ = *envelope::PrivateKey::Generate(envelope::PrivateKey::Type::kSigning);
  v1::AuditLogIdentity log_;
  safeshare::testing::TempDir dir_;
  std::string path_ = dir_.path() + "/gateway.db";
  std::unique_ptr<SqliteStore> store_;
  int next_ = 0;
};

TEST(AuditCsvTest, SenderTextCannotRunAsASpreadsheetFormula) {
  v1::AuditRecord r;
  r.mutable_declaration()->set_necessity_justification("=HYPERLINK(\"http://x\")");
  const std::string row = AuditCsvRow(r);
  EXPECT_NE(row.find("\"'=HYPERLINK(\"\"http://x\"\")\""), std::string::npos) << row;
  EXPECT_EQ(row.find(",=HYPERLINK"), std::string::npos) << row;
}

// ---- Tampering with a real database file: each is caught and named ----

TEST_F(AuditLogTest, AnUntouchedLogVerifies) {
  Append(20, 4);
  auto v = VerifyCopy();
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->records, 20u);
  EXPECT_EQ(v->checkpoints, 5u);
}

TEST_F(AuditLogTest, ChangingOneByteOfOneRecordIsCaught) {
  Append(20, 4);
  store_.reset();
  // Flip a byte inside record 7's message id, leaving its stored leaf hash.
  Sql("UPDATE audit_log SET record = CAST(REPLACE(CAST(record AS TEXT), 'm-7', 'm-8') AS BLOB) "
      "WHERE seq = 7");
  auto v = verification::VerifyAuditDatabase(path_, log_);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(v.status().message().find("record 7"), std::string::npos) << v.status();
}

TEST_F(AuditLogTest, RewritingARecordAndItsLeafHashIsCaughtByTheSignedRoots) {
  Append(20, 4);
  store_.reset();
  // A careful forger rewrites record 9 and recomputes its leaf hash; only the
  // signed checkpoints can tell.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  v1::AuditRecord forged = Record("m-9");
  forged.set_sequence(9);
  forged.set_recipient_agency_id("southampton-mash");
  const std::string bytes = forged.SerializeAsString();
  const std::string leaf = transparency::LeafHash(bytes);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, "UPDATE audit_log SET record = ?, leaf_hash = ? WHERE seq = 9", -1, &s,
                     nullptr);
  sqlite3_bind_blob(s, 1, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  sqlite3_bind_blob(s, 2, leaf.data(), static_cast<int>(leaf.size()), SQLITE_TRANSIENT);
  ASSERT_EQ(sqlite3_step(s), SQLITE_DONE);
  sqlite3_finalize(s);
  sqlite3_close(db);
  auto v = verification::VerifyAuditDatabase(path_, log_);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), absl::StatusCode::kDataLoss);
  // Batches of 4: checkpoints at 4, 8, 12, ...; record 9 is in [8, 12).
  EXPECT_NE(v.status().message().find("a record in [8, 12)"), std::string::npos) << v.status();
}

TEST_F(AuditLogTest, DeletingARecordIsCaught) {
  Append(20, 4);
  store_.reset();
  Sql("DELETE FROM audit_log WHERE seq = 11");
  auto v = verification::VerifyAuditDatabase(path_, log_);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("record 11 is missing"), std::string::npos) << v.status();
}

TEST_F(AuditLogTest, TruncatingTheTailIsCaught) {
  Append(20, 4);
  store_.reset();
  Sql("DELETE FROM audit_log WHERE seq >= 18");
  auto v = verification::VerifyAuditDatabase(path_, log_);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("truncated"), std::string::npos) << v.status();
}

TEST_F(AuditLogTest, ReorderingTwoRecordsIsCaught) {
  Append(20, 4);
  store_.reset();
  Sql("UPDATE audit_log SET seq = -1 WHERE seq = 3; UPDATE audit_log SET seq = 3 WHERE seq = 4; "
      "UPDATE audit_log SET seq = 4 WHERE seq = -1;");
  auto v = verification::VerifyAuditDatabase(path_, log_);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("record 3"), std::string::npos) << v.status();
  EXPECT_NE(v.status().message().find("reordered"), std::string::npos) << v.status();
}

TEST_F(AuditLogTest, ReplacingACheckpointSignatureIsCaught) {
  Append(20, 4);
  store_.reset();
  // Re-sign the third checkpoint with another key.
  envelope::PrivateKey mallory =
      *envelope::PrivateKey::Generate(envelope::PrivateKey::Type::kSigning);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db,
                     "SELECT tree_size, root_hash FROM audit_checkpoints ORDER BY tree_size "
                     "LIMIT 1 OFFSET 2",
                     -1, &s, nullptr);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  const uint64_t size = sqlite3_column_int64(s, 0);
  std::string root(static_cast<const char*>(sqlite3_column_blob(s, 1)), sqlite3_column_bytes(s, 1));
  sqlite3_finalize(s);
  auto forged = transparency::SignCheckpoint({kOrigin, size, root}, kOrigin, mallory.get());
  ASSERT_TRUE(forged.ok());
  sqlite3_prepare_v2(db, "UPDATE audit_checkpoints SET note = ? WHERE tree_size = ?", -1, &s,
                     nullptr);
  sqlite3_bind_text(s, 1, forged->c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(s, 2, size);
  ASSERT_EQ(sqlite3_step(s), SQLITE_DONE);
  sqlite3_finalize(s);
  sqlite3_close(db);
  auto v = verification::VerifyAuditDatabase(path_, log_);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("checkpoint #3 does not verify"), std::string::npos)
      << v.status();
}

TEST_F(AuditLogTest, RecordsAddedOutsideTheGatewayAreCaught) {
  Append(8, 4);
  store_.reset();
  Sql("INSERT INTO audit_log SELECT 8, record, leaf_hash, time_us, event, message_id, kind, "
      "sender, recipient, sender_area, recipient_area, purpose, decision, subject_reference, "
      "flagged_checks FROM audit_log WHERE seq = 7");
  auto v = verification::VerifyAuditDatabase(path_, log_);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("record 8"), std::string::npos) << v.status();
}

}  // namespace
}  // namespace safeshare::gateway
