#include "gateway/tls13.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/files.h"

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
  if (absl::Status st = WriteFileAtomically(conf_path, kOpensslConf, 0644); !st.ok()) {
    return absl::UnavailableError(absl::StrCat("cannot write TLS configuration: ", st.message()));
  }
  setenv("OPENSSL_CONF", conf_path.c_str(), 1);
  return absl::OkStatus();
}

}  // namespace safeshare::gateway
