// Outside bytes an operator writes: the gateway config and the federation
// file (proto text format), as the gateway loads them at start and on
// SIGHUP. Never crashes; what parses prints as text that parses the same,
// and loading refuses with INVALID_ARGUMENT, FAILED_PRECONDITION or
// NOT_FOUND only.
#include <algorithm>

#include "gateway/config.h"
#include "gateway/federation_directory.h"
#include "gateway/text_format_loader.h"
#include "google/protobuf/text_format.h"
#include "safeshare/v1/gateway_config.pb.h"
#include "tests/fuzz/fuzz_support.h"

namespace sf = safeshare::fuzz;
namespace sg = safeshare::gateway;

namespace {

bool RoundTrips(absl::string_view text, google::protobuf::Message* message,
                google::protobuf::Message* again) {
  if (!sg::ParseTextProto(text, "fuzz", message).ok()) return false;
  std::string printed;
  FUZZ_REQUIRE(google::protobuf::TextFormat::PrintToString(*message, &printed),
               "a parsed message prints as text");
  FUZZ_REQUIRE(sg::ParseTextProto(printed, "printed", again).ok(), "printed text parses");
  FUZZ_REQUIRE(sf::SameMessage(*message, *again), "printed text parses to the same message");
  return true;
}

void RefusedPrecisely(const absl::Status& st) {
  FUZZ_REQUIRE(st.ok() || st.code() == absl::StatusCode::kInvalidArgument ||
                   st.code() == absl::StatusCode::kFailedPrecondition ||
                   st.code() == absl::StatusCode::kNotFound,
               "a bad file is INVALID_ARGUMENT, FAILED_PRECONDITION or NOT_FOUND");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const absl::string_view text = sf::Bytes(data + 1, size - 1);
  // The first byte chooses: even a gateway config, odd a federation file.
  if (data[0] % 2 == 0) {
    safeshare::v1::GatewayConfig config, again;
    if (!RoundTrips(text, &config, &again)) return 0;
    RefusedPrecisely(sg::FinalizeGatewayConfig(config));
  } else {
    safeshare::v1::Federation federation, again;
    if (!RoundTrips(text, &federation, &again)) return 0;
    // Only file names under a directory that does not exist: an absolute CRL
    // path would have the target read /dev/zero or any file of the machine.
    if (federation.has_revoked_certificates()) {
      auto* crl = federation.mutable_revoked_certificates()->mutable_crl_file();
      std::replace(crl->begin(), crl->end(), '/', '_');
    }
    sg::CertificateTrust trust;
    trust.now = absl::FromUnixSeconds(1798761600);  // 2027-01-01: no clock in the result
    RefusedPrecisely(
        sg::FederationDirectory::FromProto(federation, trust, "/nonexistent-fuzz/").status());
  }
  return 0;
}
