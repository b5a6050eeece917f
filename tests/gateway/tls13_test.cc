// The TLS 1.3 restriction: written where nothing planted can redirect it, and
// in force. Its own binary: it changes the process's OpenSSL configuration.
#include "gateway/tls13.h"

#include <openssl/ssl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "gtest/gtest.h"
#include "tests/support/test_support.h"

namespace safeshare::gateway {
namespace {

namespace fs = std::filesystem;

std::string Read(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::set<std::string> Entries(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
  return names;
}

// The paths the gateway used to write (the file and its temporary name),
// planted as symlinks to a file of the operator's: neither is followed or
// replaced, and the restriction still takes effect.
TEST(Tls13Test, PlantedSymlinksAtTheOldPathsAreNotFollowed) {
  testing::TempDir tmp;
  const std::string victim = tmp.path() + "/victim";
  std::ofstream(victim) << "precious\n";
  const std::string runtime = tmp.path() + "/run";
  fs::create_directory(runtime);
  const std::string conf = runtime + "/openssl-tls13.cnf";
  const std::string temp = conf + ".tmp." + std::to_string(getpid());
  fs::create_symlink(victim, conf);
  fs::create_symlink(victim, temp);

  ASSERT_TRUE(RestrictProcessToTls13(runtime).ok());

  EXPECT_EQ(Read(victim), "precious\n");
  EXPECT_TRUE(fs::is_symlink(conf));
  EXPECT_TRUE(fs::is_symlink(temp));
  EXPECT_EQ(Entries(runtime),
            (std::set<std::string>{"openssl-tls13.cnf", fs::path(temp).filename()}))
      << "the private directory is removed once the configuration is loaded";
  SSL_CTX* ctx = SSL_CTX_new(TLS_method());
  ASSERT_NE(ctx, nullptr);
  EXPECT_EQ(SSL_CTX_get_min_proto_version(ctx), TLS1_3_VERSION);
  SSL_CTX_free(ctx);
}

TEST(Tls13Test, AnUnwritableRuntimeDirectoryIsNamedWithTheFlagToSet) {
  auto st = RestrictProcessToTls13("/nonexistent/run");
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
  EXPECT_NE(st.message().find("/nonexistent/run"), std::string::npos) << st;
  EXPECT_NE(st.message().find("--runtime_dir"), std::string::npos) << st;
}

}  // namespace
}  // namespace safeshare::gateway
