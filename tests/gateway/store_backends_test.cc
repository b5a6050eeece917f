// What is particular to each store back-end: SQLite's schema versions, files
// and WAL, the proof cache, PostgreSQL's migrations and connection errors.
// The contract both keep is in store_test.cc.

#include <libpq-fe.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <atomic>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "envelope/keys.h"
#include "gateway/store/postgres/migrations.h"
#include "gateway/store/recent_subtrees.h"
#include "gateway/store/sqlite_store.h"
#include "gateway/store/store.h"
#include "gtest/gtest.h"
#include "tests/gateway/store_test_rows.h"
#include "tests/support/test_support.h"
#include "transparency/checkpoint.h"
#include "transparency/merkle.h"

namespace safeshare::gateway {
namespace {

using namespace store_test;  // NOLINT: the shared rows read as if local

// ---- SQLite only: its own schema versions and files ----

// The database holds declarations and sealed content: only the gateway's
// user reads it, whatever the umask, and a file left readable is narrowed.
TEST(SqliteStoreFileTest, TheDatabaseAndItsWalAreOwnerOnly) {
  safeshare::testing::TempDir dir;
  const std::string path = dir.path() + "/gateway.db";
  const std::string old_path = dir.path() + "/old.db";
  const mode_t old_umask = umask(022);
  FILE* f = fopen(old_path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  fclose(f);
  chmod(old_path.c_str(), 0644);
  for (const std::string& p : {path, old_path}) {
    auto s = OpenStore("sqlite://" + p);
    ASSERT_TRUE(s.ok()) << s.status();
    ASSERT_TRUE((*s)->InsertMessage(Message("m", "iow-mash")).ok());
    for (const std::string& file : {p, p + "-wal"}) {
      struct stat st {};
      ASSERT_EQ(stat(file.c_str(), &st), 0) << file;
      EXPECT_EQ(st.st_mode & 0777, 0600u) << file;
    }
  }
  umask(old_umask);
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
  for (const char* sql : {"DROP INDEX messages_by_open_deadline", "DROP INDEX messages_by_reply",
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
  auto escalated = Escalate(**s, absl::FromUnixSeconds(1764000000) + absl::Hours(2));
  ASSERT_TRUE(escalated.ok());
  ASSERT_EQ(escalated->size(), 1u) << "the old message's deadline is still watched";
  EXPECT_TRUE((*escalated)[0].in_reply_to.empty());
}

// The escalator purges every interval, and officers list holds: a scan of the
// whole table (every envelope's pages) took longer as the database grew.
TEST(SqliteStoreMigrationTest, AVersion5DatabaseFindsExpiredContentAndHoldsByIndex) {
  safeshare::testing::TempDir dir;
  const std::string path = dir.path() + "/v5.db";
  const absl::Time t0 = absl::FromUnixSeconds(1764000000);
  {
    auto s = OpenStore("sqlite://" + path);
    ASSERT_TRUE(s.ok()) << s.status();
    StoredMessage m = Message("kept-a-day", "iow-mash");
    m.retention = absl::Hours(24);
    ASSERT_TRUE((*s)->InsertMessage(m).ok());
    ASSERT_TRUE((*s)->Acknowledge("iow-mash", "kept-a-day", t0).ok());
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  for (const char* sql :
       {"DROP INDEX messages_by_purge", "DROP INDEX messages_held", "PRAGMA user_version=5"}) {
    ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sql;
  }
  sqlite3_close(db);

  auto s = OpenStore("sqlite://" + path);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  // The store's own query texts, unbound parameters and all.
  auto plan_of = [db](const std::string& query) {
    std::string plan;
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, ("EXPLAIN QUERY PLAN " + query).c_str(), -1, &stmt, nullptr) !=
        SQLITE_OK) {
      return std::string("does not prepare: ") + sqlite3_errmsg(db);
    }
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      plan += reinterpret_cast<const char*>(sqlite3_column_text(stmt, 3));
    }
    sqlite3_finalize(stmt);
    return plan;
  };
  const std::string purge = plan_of(absl::StrCat("SELECT sequence ", SqliteStore::kFindExpired));
  EXPECT_NE(purge.find("USING INDEX messages_by_purge"), std::string::npos) << purge;
  const std::string held = plan_of(
      absl::StrCat("SELECT sequence ", SqliteStore::kFindHeld, " ORDER BY sequence LIMIT ?"));
  EXPECT_NE(held.find("USING INDEX messages_held"), std::string::npos) << held;
  sqlite3_close(db);

  auto purged = Purge(**s, t0 + absl::Hours(25));
  ASSERT_TRUE(purged.ok()) << purged.status();
  ASSERT_EQ(purged->size(), 1u);
  EXPECT_EQ((*purged)[0].message_id, "kept-a-day");
}

// Under steady commits with readers, PASSIVE checkpoints alone never let
// SQLite restart the WAL: it grew without bound (710 MB in 90 s of load).
TEST(SqliteStoreWalTest, TheWalStaysBoundedUnderSteadyWritesAndReads) {
  safeshare::testing::TempDir dir;
  const std::string path = dir.path() + "/wal.db";
  auto s = OpenStore("sqlite://" + path);
  ASSERT_TRUE(s.ok()) << s.status();
  Store& store = **s;
  std::atomic<bool> writing{true};
  std::thread reader([&] {
    while (writing) {
      auto got = store.FetchForRecipient("iow-mash", 0, 20, absl::FromUnixSeconds(1764000000));
      ASSERT_TRUE(got.ok()) << got.status();
    }
  });
  constexpr int kWriters = 4, kPerWriter = 3000;
  const std::string body(8 * 1024, 'e');
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kPerWriter; ++i) {
        StoredMessage m = Message(absl::StrCat("w", w, "-", i), "iow-mash");
        m.signed_envelope = body;
        ASSERT_TRUE(store.InsertMessage(m).ok());
      }
    });
  }
  for (auto& t : writers) t.join();
  writing = false;
  reader.join();
  struct stat wal {};
  ASSERT_EQ(stat((path + "-wal").c_str(), &wal), 0);
  // The WAL is restarted after about 1,000 pages, so it only ever holds what
  // arrives during a checkpoint (39-61 MB here, against 98 MB of envelopes);
  // never restarted, it held every page written (200-340 MB).
  const int64_t envelope_bytes = int64_t{kWriters} * kPerWriter * static_cast<int64_t>(body.size());
  EXPECT_LT(wal.st_size, envelope_bytes) << "the WAL is " << wal.st_size << " bytes";
}

TEST(RecentSubtreesTest, KeepsTheLastLeavesLowerLevelsAndForgetsOlderOnes) {
  RecentSubtrees recent(/*leaves=*/4, /*levels=*/2);
  transparency::MemoryTree tree;
  transparency::Frontier frontier;
  for (int i = 0; i < 6; ++i) {
    auto completed = frontier.Append(tree.Append(absl::StrCat("record ", i)));
    ASSERT_TRUE(completed.ok());
    recent.Add(*completed);
  }
  for (auto [level, index] :
       std::vector<std::pair<uint64_t, uint64_t>>{{0, 2}, {0, 5}, {1, 1}, {1, 2}}) {
    auto hash = recent.Find(level, index);
    ASSERT_TRUE(hash.has_value()) << level << "," << index;
    EXPECT_EQ(*hash, *tree.CompleteSubtree(level, index));
  }
  EXPECT_FALSE(recent.Find(0, 1).has_value()) << "its slot now holds record 5";
  EXPECT_FALSE(recent.Find(1, 0).has_value()) << "its slot now holds (1, 2)";
  EXPECT_FALSE(recent.Find(2, 0).has_value()) << "a level not kept";
  EXPECT_FALSE(recent.Find(0, 6).has_value()) << "not added yet";
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

// ---- PostgreSQL only ----

// PostgreSQL migrations: applied once, recorded, safe to race, and a newer
// schema than this build knows is refused rather than misread.
TEST(PostgresMigrationTest, AppliedOnceRecordedAndANewerSchemaIsRefused) {
  std::string uri;
  SAFESHARE_FRESH_POSTGRES_OR_SKIP(uri);
  std::vector<std::thread> starting;
  std::vector<absl::Status> results(3);
  for (int i = 0; i < 3; ++i) {
    starting.emplace_back([&, i] { results[i] = OpenStore(uri).status(); });
  }
  for (auto& t : starting) t.join();
  for (const auto& st : results) EXPECT_TRUE(st.ok()) << st;

  PGconn* conn = PQconnectdb(uri.c_str());
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK);
  // Versions need not be contiguous (a number may be left to another branch).
  PGresult* r = PQexec(conn, "SELECT count(*), count(DISTINCT version) FROM safeshare_schema");
  ASSERT_EQ(PQresultStatus(r), PGRES_TUPLES_OK);
  EXPECT_EQ(std::string(PQgetvalue(r, 0, 0)), absl::StrCat(kPostgresMigrationCount))
      << "one row per migration, applied once";
  EXPECT_EQ(std::string(PQgetvalue(r, 0, 1)), absl::StrCat(kPostgresMigrationCount));
  PQclear(r);
  r = PQexec(conn, "INSERT INTO safeshare_schema VALUES (9999, '9999_future', 0)");
  ASSERT_EQ(PQresultStatus(r), PGRES_COMMAND_OK);
  PQclear(r);
  PQfinish(conn);
  auto refused = OpenStore(uri);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("newer than this gateway"), std::string::npos);
  EXPECT_EQ(refused.status().message().find("safeshare@"), std::string::npos)
      << "errors never echo the connection string";
}

TEST(PostgresStoreTest, AnUnreachableDatabaseIsUnavailableWithoutEchoingTheUri) {
  auto s = OpenStore("postgresql://someone:secret-pw@127.0.0.1:1/nowhere?connect_timeout=2");
  EXPECT_EQ(s.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(s.status().message().find("secret-pw"), std::string::npos) << s.status();
}

TEST(RedactStoreUriTest, LogLinesNeverCarryPasswordsOrOptions) {
  EXPECT_EQ(RedactStoreUri("postgresql://gw:s3cret@db.example:5432/safeshare?sslmode=verify-full"),
            "postgresql://gw:***@db.example:5432/safeshare");
  EXPECT_EQ(RedactStoreUri("postgresql://gw@db/safeshare?password=s3cret"),
            "postgresql://gw@db/safeshare");
  EXPECT_EQ(RedactStoreUri("sqlite:///var/lib/safeshare/gateway.db"),
            "sqlite:///var/lib/safeshare/gateway.db");
}

}  // namespace
}  // namespace safeshare::gateway
