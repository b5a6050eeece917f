// Outside bytes: an audit export (JSON lines) as an IG officer verifies it
// offline, trusting only the federation's audit key. Never crashes; what does
// not verify is DATA_LOSS; an export that verifies stops verifying without
// its checkpoint line or, when complete, without its last record.
#include <sstream>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tests/fuzz/fuzz_support.h"
#include "verification/audit_verifier.h"

namespace sf = safeshare::fuzz;
using safeshare::verification::VerifyAuditExport;

namespace {

absl::StatusOr<safeshare::verification::AuditVerification> Verify(const std::string& text) {
  std::istringstream in(text);
  return VerifyAuditExport(in, "export", sf::AuditLog());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(sf::Bytes(data, size));
  auto verified = Verify(text);
  if (!verified.ok()) {
    FUZZ_REQUIRE(verified.status().code() == absl::StatusCode::kDataLoss,
                 "an export that does not verify is DATA_LOSS");
    return 0;
  }
  std::vector<std::string> lines = absl::StrSplit(text, '\n', absl::SkipEmpty());
  FUZZ_REQUIRE(!lines.empty(), "a verified export has its checkpoint line");
  // Every line is an AuditExportLine, so a record line may carry a note too:
  // blank the first line rather than drop it.
  std::vector<std::string> headless = lines;
  headless[0] = "{}";
  FUZZ_REQUIRE(!Verify(absl::StrJoin(headless, "\n")).ok(),
               "an export without its checkpoint does not verify");
  if (verified->complete && verified->records > 0) {
    std::vector<std::string> truncated(lines.begin(), lines.end() - 1);
    FUZZ_REQUIRE(!Verify(absl::StrJoin(truncated, "\n")).ok(),
                 "a complete export without its last record does not verify");
  }
  return 0;
}
