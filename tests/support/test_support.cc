#include "tests/support/test_support.h"

#include <fcntl.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "gtest/gtest.h"

namespace safeshare::testing {

namespace fs = std::filesystem;

TempDir::TempDir() {
  const char* base = std::getenv("TEST_TMPDIR");
  std::string tmpl = std::string(base ? base : "/tmp") + "/safeshare-test-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  char* made = mkdtemp(buf.data());
  path_ = made ? made : "";
}

TempDir::~TempDir() {
  std::error_code ec;
  if (!path_.empty()) fs::remove_all(path_, ec);
}

namespace {

std::string ReadFd(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, n);
  return out;
}

// Forks and execs argv (no shell) with stdin from /dev/null and stdout and
// stderr on the given descriptors. The child's pid, or -1.
pid_t Spawn(const std::vector<std::string>& argv, int out_fd, int err_fd) {
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

// Spawns with stdout and stderr appended to `log_path`.
pid_t SpawnLogged(const std::vector<std::string>& argv, const std::string& log_path) {
  int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  pid_t pid = Spawn(argv, log, log);
  close(log);
  return pid;
}

}  // namespace

CommandResult RunCommand(const std::vector<std::string>& argv) {
  CommandResult result;
  char out_tmpl[] = "/tmp/safeshare-out-XXXXXX";
  char err_tmpl[] = "/tmp/safeshare-err-XXXXXX";
  int out_fd = mkstemp(out_tmpl);
  int err_fd = mkstemp(err_tmpl);
  unlink(out_tmpl);
  unlink(err_tmpl);
  pid_t pid = Spawn(argv, out_fd, err_fd);
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  lseek(out_fd, 0, SEEK_SET);
  lseek(err_fd, 0, SEEK_SET);
  result.out = ReadFd(out_fd);
  result.err = ReadFd(err_fd);
  close(out_fd);
  close(err_fd);
  return result;
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    Wait();
  }
}

bool ChildProcess::Start(const std::vector<std::string>& argv, const std::string& log_path) {
  pid_ = SpawnLogged(argv, log_path);
  return pid_ > 0;
}

int ChildProcess::Wait() {
  if (pid_ <= 0) return -1;
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::optional<int> ChildProcess::Poll() {
  if (pid_ <= 0) return -1;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) != pid_) return std::nullopt;
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void ChildProcess::Signal(int sig) {
  if (pid_ > 0) kill(pid_, sig);
}

bool WaitFor(const std::function<bool()>& condition, double seconds) {
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(static_cast<int>(seconds * 1000));
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return condition();
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

std::string GatewayBinary() { return SAFESHARE_GATEWAY_BIN; }
std::string CliBinary() { return SAFESHARE_CLI_BIN; }
std::string SourceDir() { return SAFESHARE_SOURCE_DIR; }

std::string MakeFederation(const TempDir& dir) {
  std::string fed = dir.path() + "/federation";
  CommandResult r = RunCommand({CliBinary(), "pki", "init", "--dir", fed, "--federation_template",
                                SourceDir() + "/deploy/dev-federation.textproto"});
  return r.exit_code == 0 ? fed : "";
}

GatewayProcess::GatewayProcess(std::string federation_dir, std::string data_dir,
                               std::vector<std::string> extra_flags)
    : federation_dir_(std::move(federation_dir)),
      data_dir_(std::move(data_dir)),
      extra_flags_(std::move(extra_flags)) {}

GatewayProcess::~GatewayProcess() {
  if (pid_ > 0) Kill();
}

bool GatewayProcess::Start() {
  fs::create_directories(data_dir_);
  const std::string port_file = data_dir_ + "/port";
  fs::remove(port_file);
  // A restart keeps the port, as a real restart would, so that connected
  // clients find the gateway again.
  const std::string listen = "--listen=127.0.0.1:" + std::to_string(port_);
  // `safeshare pki` issues development certificates: --development, which a
  // test turns off by passing --development=false after it.
  std::vector<std::string> argv = {GatewayBinary(),
                                   listen,
                                   "--ca=" + federation_dir_ + "/gateway/ca.pem",
                                   "--cert=" + federation_dir_ + "/gateway/cert.pem",
                                   "--key=" + federation_dir_ + "/gateway/key.pem",
                                   "--store=sqlite://" + db_path(),
                                   "--federation=" + federation_dir_ + "/federation.textproto",
                                   "--isa_dir=" + TestAgreements(data_dir_ + "-agreements"),
                                   "--audit_key=" + federation_dir_ + "/gateway/audit-signing.pem",
                                   "--port_file=" + port_file,
                                   "--development"};
  argv.insert(argv.end(), extra_flags_.begin(), extra_flags_.end());
  pid_ = SpawnLogged(argv, log_path());
  for (int i = 0; i < 300; ++i) {  // up to 30 s on a loaded machine
    std::ifstream in(port_file);
    int port = 0;
    if (in >> port && port > 0) {
      port_ = port;
      return true;
    }
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  Kill();
  return false;
}

int GatewayProcess::Stop() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void GatewayProcess::Signal(int sig) {
  if (pid_ > 0) kill(pid_, sig);
}

void GatewayProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string FreshPostgresDatabase(std::string* error) {
  error->clear();
  const char* admin = std::getenv("SAFESHARE_TEST_POSTGRES");
  if (admin == nullptr || *admin == '\0') {
    if (std::getenv("SAFESHARE_REQUIRE_POSTGRES") != nullptr) {
      *error = "SAFESHARE_REQUIRE_POSTGRES is set but SAFESHARE_TEST_POSTGRES is not";
    }
    return "";
  }
  static std::atomic<int> counter{0};
  const std::string name =
      "safeshare_test_" + std::to_string(getpid()) + "_" + std::to_string(counter++) + "_" +
      std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1000000);
  PGconn* conn = PQconnectdb(admin);
  if (PQstatus(conn) != CONNECTION_OK) {
    *error = std::string("cannot reach the test PostgreSQL: ") + PQerrorMessage(conn);
    PQfinish(conn);
    return "";
  }
  PGresult* r = PQexec(conn, ("CREATE DATABASE " + name).c_str());
  if (PQresultStatus(r) != PGRES_COMMAND_OK) {
    *error = std::string("CREATE DATABASE failed: ") + PQresultErrorMessage(r);
  }
  PQclear(r);
  PQfinish(conn);
  if (!error->empty()) return "";
  std::string uri = admin;
  return uri.substr(0, uri.rfind('/') + 1) + name;
}

std::string TestAgreements(const std::string& dir) {
  fs::create_directories(dir);
  const auto review_by = std::chrono::system_clock::now() + std::chrono::hours(24 * 365 * 3);
  const std::time_t t = std::chrono::system_clock::to_time_t(review_by);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char date[64];
  std::strftime(date, sizeof date, "\"review_by\": \"%Y-%m-%dT00:00:00Z\"", &utc);
  const std::regex field(R"re("review_by"\s*:\s*"[^"]*")re");
  for (const auto& f : fs::directory_iterator(SourceDir() + "/deploy/isa")) {
    if (f.path().extension() != ".json") continue;
    std::ifstream in(f.path());
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(dir + "/" + f.path().filename().string())
        << std::regex_replace(text, field, date);
  }
  return dir;
}

std::string ExecSqlite(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    std::string error = db ? sqlite3_errmsg(db) : "cannot open";
    sqlite3_close(db);
    return error;
  }
  char* err = nullptr;
  std::string error;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    error = err ? err : "failed";
  }
  sqlite3_free(err);
  sqlite3_close(db);
  return error;
}

}  // namespace safeshare::testing
