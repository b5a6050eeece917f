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
