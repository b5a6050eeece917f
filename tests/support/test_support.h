#ifndef SAFESHARE_TESTS_SUPPORT_TEST_SUPPORT_H_
#define SAFESHARE_TESTS_SUPPORT_TEST_SUPPORT_H_

// Helpers for tests that use real processes: scratch directories, running a
// command, and a real safeshare-gateway child process on a loopback port.

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace safeshare::testing {

// A fresh directory under $TEST_TMPDIR or /tmp, removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs argv[0] with arguments (no shell) and waits for it.
CommandResult RunCommand(const std::vector<std::string>& argv);

// A child process (no shell), its output appended to a log file.
class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  bool Start(const std::vector<std::string>& argv, const std::string& log_path);
  // Exit code, or -1 if killed by a signal. Waits.
  int Wait();
  // Non-blocking: the exit code if it has exited, else nullopt.
  std::optional<int> Poll();
  void Signal(int sig);
  bool running() const { return pid_ > 0; }

 private:
  pid_t pid_ = -1;
};

// Polls `condition` every 50 ms until it holds or `seconds` pass.
bool WaitFor(const std::function<bool()>& condition, double seconds);

// A fresh, empty PostgreSQL database on the test cluster named by
// $SAFESHARE_TEST_POSTGRES (an admin URI, set by deploy/test.sh), as a
// postgresql:// URI. Empty when there is none; then `error` is empty when no
// cluster is configured (and none is required), else it says what is wrong.
// Tests use SAFESHARE_FRESH_POSTGRES_OR_SKIP rather than this.
std::string FreshPostgresDatabase(std::string* error);

// A copy of the development agreements (deploy/isa) in `dir`, with every
// review date moved to three years from now: end-to-end tests decide at the
// gateway's clock, and must not all turn red on the day the shipped
// agreements reach their review date. Returns the directory.
std::string TestAgreements(const std::string& dir);

// A loopback port free now, for listeners whose address others must know
// before they start (peers, witnesses, scrapers).
int FreePort();

// Paths fixed at build time.
std::string GatewayBinary();
std::string CliBinary();
std::string SourceDir();

// A development federation in a temp dir (pki init with the dev template).
// Returns its path inside `dir`.
std::string MakeFederation(const TempDir& dir);

// A safeshare-gateway child process listening on 127.0.0.1 (port chosen by
// the kernel), with its SQLite database in `data_dir`, started with
// --development (the federation's certificates come from `safeshare pki`);
// `extra_flags` come after, so --development=false turns it off.
class GatewayProcess {
 public:
  GatewayProcess(std::string federation_dir, std::string data_dir,
                 std::vector<std::string> extra_flags = {});
  ~GatewayProcess();

  // Starts and waits until the port file appears. False if the process died.
  bool Start();
  // SIGTERM and wait; returns the exit status (or -1).
  int Stop();
  // SIGKILL and reap.
  void Kill();
  // Sends a signal without waiting (e.g. SIGHUP to reload policy).
  void Signal(int sig);
  bool running() const { return pid_ > 0; }
  int port() const { return port_; }
  std::string target() const { return "localhost:" + std::to_string(port_); }
  std::string db_path() const { return data_dir_ + "/gateway.db"; }
  std::string log_path() const { return data_dir_ + "/gateway.log"; }

 private:
  std::string federation_dir_;
  std::string data_dir_;
  std::vector<std::string> extra_flags_;
  pid_t pid_ = -1;
  int port_ = 0;
};

// Runs `sql` on the SQLite database at `path` (a stopped gateway's store, as
// anyone with its disk could): "" on success, else SQLite's error message.
std::string ExecSqlite(const std::string& path, const std::string& sql);

}  // namespace safeshare::testing

// In SetUp or a test body: sets `uri` to a fresh PostgreSQL database, skips
// the test when no cluster is configured, and fails it fatally (so the body
// never runs with no database) when $SAFESHARE_REQUIRE_POSTGRES is set
// without one or the cluster cannot be reached.
#define SAFESHARE_FRESH_POSTGRES_OR_SKIP(uri)                                            \
  do {                                                                                   \
    std::string safeshare_pg_error;                                                      \
    (uri) = ::safeshare::testing::FreshPostgresDatabase(&safeshare_pg_error);            \
    if (!safeshare_pg_error.empty()) GTEST_FAIL() << safeshare_pg_error;                 \
    if ((uri).empty()) GTEST_SKIP() << "no test PostgreSQL (deploy/test.sh starts one)"; \
  } while (0)

#endif  // SAFESHARE_TESTS_SUPPORT_TEST_SUPPORT_H_
