#include "gateway/tls13.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

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
}  // namespace

absl::Status RestrictProcessToTls13(const std::string& conf_path) {
  std::string tmp = absl::StrCat(conf_path, ".tmp.", getpid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot write TLS configuration ", tmp, ": ", std::strerror(errno)));
  }
  const size_t len = sizeof(kOpensslConf) - 1;
  bool ok = write(fd, kOpensslConf, len) == static_cast<ssize_t>(len) && fsync(fd) == 0;
  ok = (close(fd) == 0) && ok;
  if (!ok || std::rename(tmp.c_str(), conf_path.c_str()) != 0) {
    unlink(tmp.c_str());
    return absl::UnavailableError(
        absl::StrCat("cannot write TLS configuration ", conf_path, ": ", std::strerror(errno)));
  }
  setenv("OPENSSL_CONF", conf_path.c_str(), 1);
  return absl::OkStatus();
}

}  // namespace safeshare::gateway
