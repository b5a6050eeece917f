#include "gateway/tls13.h"

#include <fcntl.h>
#include <openssl/conf.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace safeshare::gateway {

namespace {
constexpr char kOpensslConf[] =
    "# Written by safeshare-gateway at start: TLS 1.3 only.\n"
    "openssl_conf = safeshare_init\n"
    "[safeshare_init]\n"
    "ssl_conf = safeshare_ssl\n"
    "[safeshare_ssl]\n"
    "system_default = safeshare_tls\n"
    "[safeshare_tls]\n"
    "Protocol = -ALL, TLSv1.3\n"
    "MinProtocol = TLSv1.3\n";

absl::Status Unwritable(absl::string_view what, const std::string& path) {
  return absl::UnavailableError(absl::StrCat("cannot write the TLS 1.3 configuration: ", what, " ",
                                             path, ": ", std::strerror(errno),
                                             " (set --runtime_dir to a writable directory)"));
}

// Writes the configuration into a fresh 0700 directory under `runtime_dir`
// (mkdtemp: an unguessable name, so nothing can be planted there first) with
// O_EXCL|O_NOFOLLOW, and returns the directory.
absl::StatusOr<std::string> WritePrivateConf(const std::string& runtime_dir) {
  std::string dir = absl::StrCat(runtime_dir, "/safeshare-tls13.XXXXXX");
  std::vector<char> buf(dir.begin(), dir.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) return Unwritable("mkdtemp in", runtime_dir);
  dir = buf.data();
  const std::string path = dir + "/openssl-tls13.cnf";
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    const absl::Status st = Unwritable("open", path);
    rmdir(dir.c_str());
    return st;
  }
  const size_t size = sizeof(kOpensslConf) - 1;
  bool ok = write(fd, kOpensslConf, size) == static_cast<ssize_t>(size);
  ok = close(fd) == 0 && ok;
  if (!ok) {
    const absl::Status st = Unwritable("write", path);
    unlink(path.c_str());
    rmdir(dir.c_str());
    return st;
  }
  return dir;
}

}  // namespace

absl::Status RestrictProcessToTls13(const std::string& runtime_dir) {
  auto dir = WritePrivateConf(runtime_dir);
  if (!dir.ok()) return dir.status();
  const std::string path = *dir + "/openssl-tls13.cnf";
  setenv("OPENSSL_CONF", path.c_str(), 1);
  // Load it now (OpenSSL reads its configuration once per process) and check
  // a new context is TLS 1.3 only, so the file can go at once.
  OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, nullptr);
  // A library loaded with the binary (the HTTPS listener's) may have
  // initialised OpenSSL already, reading the system configuration: load ours
  // explicitly, which takes effect for every context made from now on.
  if (CONF_modules_load_file(path.c_str(), nullptr, 0) <= 0) ERR_clear_error();
  SSL_CTX* probe = SSL_CTX_new(TLS_method());
  const bool in_force = probe != nullptr && SSL_CTX_get_min_proto_version(probe) == TLS1_3_VERSION;
  SSL_CTX_free(probe);
  unlink(path.c_str());
  rmdir(dir->c_str());
  unsetenv("OPENSSL_CONF");
  if (!in_force) {
    return absl::FailedPreconditionError(
        "the TLS 1.3 configuration did not take effect: OpenSSL was initialised before "
        "RestrictProcessToTls13, or rejected the configuration");
  }
  return absl::OkStatus();
}

}  // namespace safeshare::gateway
