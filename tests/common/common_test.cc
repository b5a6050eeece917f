// The bottom library: files, time and the JSON log line.

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "common/error_reason.h"
#include "common/files.h"
#include "common/log.h"
#include "common/refusal_reasons.h"
#include "common/time.h"
#include "gtest/gtest.h"
#include "tests/support/test_support.h"

namespace safeshare {
namespace {

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  stat(path.c_str(), &st);
  return st.st_mode & 0777;
}

TEST(FilesTest, WritesAtomicallyWithExactlyTheModeAskedForAndReadsBack) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/key.pem";
  const mode_t old_umask = umask(0);  // a permissive umask must not widen a private file
  ASSERT_TRUE(WriteFileAtomically(path, "first", 0600).ok());
  umask(old_umask);
  EXPECT_EQ(ModeOf(path), 0600u);
  ASSERT_TRUE(WriteFileAtomically(path, std::string("sec\0ond", 7), 0644).ok());
  EXPECT_EQ(ModeOf(path), 0644u);
  auto back = ReadFile(path);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, std::string("sec\0ond", 7)) << "binary-safe";
  int files = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir.path())) {
    ++files;
    (void)f;
  }
  EXPECT_EQ(files, 1) << "no temporary file left behind";
  EXPECT_TRUE(SyncDirectory(dir.path()).ok());
}

TEST(FilesTest, ErrorsNameThePathAndTheReason) {
  testing::TempDir dir;
  auto missing = ReadFile(dir.path() + "/absent.pem");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("absent.pem"), std::string::npos);
  auto nowhere = WriteFileAtomically(dir.path() + "/no/such/dir/x", "x", 0600);
  EXPECT_EQ(nowhere.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(nowhere.message().find("no/such/dir"), std::string::npos) << nowhere;
  EXPECT_EQ(SyncDirectory(dir.path() + "/absent").code(), absl::StatusCode::kUnavailable);
}

TEST(FilesTest, DirectoryOfAPathWithAndWithoutOne) {
  EXPECT_EQ(DirectoryOf("/var/lib/safeshare/gateway.db"), "/var/lib/safeshare");
  EXPECT_EQ(DirectoryOf("data/gateway.db"), "data");
  EXPECT_EQ(DirectoryOf("gateway.db"), ".");
  EXPECT_EQ(DirectoryOf("/gateway.db"), "/");
}

TEST(TimeTest, TimestampsRoundTripAtMicrosecondsBeforeAndAfter1970) {
  for (absl::Time t : {absl::FromUnixMicros(1764000000123456), absl::FromUnixMicros(-1500001),
                       absl::UnixEpoch()}) {
    google::protobuf::Timestamp ts = ToTimestamp(t);
    EXPECT_GE(ts.nanos(), 0);
    EXPECT_LT(ts.nanos(), 1000000000);
    EXPECT_EQ(FromTimestamp(ts), t);
  }
  EXPECT_EQ(ToTimestamp(absl::FromUnixMicros(-1500001)).seconds(), -2);
}

TEST(LogTest, JsonStringsEscapeQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(JsonString("plain"), "\"plain\"");
  EXPECT_EQ(JsonString("a\"b\\c\nd\te\x01"), "\"a\\\"b\\\\c\\nd\\te\\u0001\"");
}

TEST(LogTest, EachEventIsOneEscapedJsonLine) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/stderr";
  std::fflush(stderr);
  const int saved = dup(2);
  FILE* f = std::freopen(path.c_str(), "w", stderr);
  ASSERT_NE(f, nullptr);
  LogEvent("warn", "inbox.refused", {{"detail", "line one\n\"two\""}});
  std::fflush(stderr);
  dup2(saved, 2);
  close(saved);
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.find('\n'), text.size() - 1) << "one line: " << text;
  EXPECT_NE(text.find("\"level\":\"warn\",\"event\":\"inbox.refused\""), std::string::npos) << text;
  EXPECT_NE(text.find("\"detail\":\"line one\\n\\\"two\\\"\""), std::string::npos) << text;
}

// A reason survives the trip: payload, wire form, payload again; a status
// without one stays without one, and other details are not mistaken for it.
TEST(ErrorReasonTest, TravelsFromStatusToWireAndBack) {
  absl::Status refused = WithReason(absl::FailedPreconditionError("sealed to an old key"),
                                    "RECIPIENT_KEY_NOT_CURRENT", {{"currentKeyId", "abc"}});
  auto info = ReasonOf(refused);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->reason(), "RECIPIENT_KEY_NOT_CURRENT");
  EXPECT_EQ(info->domain(), kReasonDomain);
  EXPECT_EQ(info->metadata().at("currentKeyId"), "abc");

  google::rpc::Status wire = RichStatus(refused);
  EXPECT_EQ(wire.code(), static_cast<int>(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(wire.message(), "sealed to an old key");
  absl::Status back = FromRichStatus(absl::StatusCode::kFailedPrecondition, "sealed to an old key",
                                     wire.SerializeAsString());
  EXPECT_EQ(back.code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(ReasonOf(back).has_value());
  EXPECT_EQ(ReasonOf(back)->reason(), "RECIPIENT_KEY_NOT_CURRENT");

  EXPECT_FALSE(ReasonOf(absl::InternalError("plain")).has_value());
  EXPECT_EQ(RichStatus(absl::InternalError("plain")).details_size(), 0);
  google::rpc::Status other;
  other.add_details()->PackFrom(wire);  // a details entry that is not an ErrorInfo
  EXPECT_FALSE(ReasonOf(FromRichStatus(absl::StatusCode::kInternal, "x", other.SerializeAsString()))
                   .has_value());
  EXPECT_FALSE(
      ReasonOf(FromRichStatus(absl::StatusCode::kInternal, "x", "not a proto \xff")).has_value());
  EXPECT_TRUE(WithReason(absl::OkStatus(), "NEVER").ok());
}

// The specification's reasons table (docs/envelope-format.md, 8.1) is what
// clients code against: it lists exactly the reasons the gateway sends.
TEST(ErrorReasonTest, TheSpecificationListsExactlyTheReasonsSent) {
  std::ifstream in(testing::SourceDir() + "/docs/envelope-format.md");
  ASSERT_TRUE(in) << "docs/envelope-format.md";
  std::set<std::string> listed;
  std::string line;
  bool in_table = false;
  while (std::getline(in, line)) {
    if (line.rfind("| reason | code |", 0) == 0) {
      in_table = true;
      continue;
    }
    if (!in_table) continue;
    if (line.empty() || line[0] != '|') break;
    const size_t end = line.find('|', 1);
    std::string cell = line.substr(1, end - 1);
    cell.erase(
        std::remove_if(cell.begin(), cell.end(), [](char c) { return c == ' ' || c == '`'; }),
        cell.end());
    if (cell.find_first_not_of("-:") != std::string::npos) listed.insert(cell);
  }
  std::set<std::string> sent;
  for (const auto& a : reason::kAllSubmitReasons) {
    sent.insert(std::string(a.reason));
    EXPECT_FALSE(a.action.empty()) << a.reason << " says what to do";
  }
  EXPECT_EQ(sent.size(), reason::kAllSubmitReasons.size()) << "each reason once";
  EXPECT_EQ(listed, sent);
  EXPECT_EQ(reason::AdviceFor("MESSAGE_ID_TAKEN"),
            "the message id is taken: send it under a new id");
  EXPECT_TRUE(reason::AdviceFor("NOT_A_REASON").empty());
}

}  // namespace
}  // namespace safeshare
