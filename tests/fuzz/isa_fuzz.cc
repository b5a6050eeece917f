// Outside bytes an IG officer or a partner authority writes: an information
// sharing agreement in JSON, as the gateway loads and `safeshare policy lint`
// checks it. Never crashes; an agreement that validates prints as JSON that
// parses and validates the same, and the policy engine builds from it.
#include "google/protobuf/util/json_util.h"
#include "policy/isa.h"
#include "policy/policy_engine.h"
#include "tests/fuzz/fuzz_support.h"

namespace sf = safeshare::fuzz;
namespace sp = safeshare::policy;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto isa = sp::ParseIsaJson(sf::Bytes(data, size));
  if (!isa.ok()) {
    FUZZ_REQUIRE(isa.status().code() == absl::StatusCode::kInvalidArgument,
                 "an agreement that does not parse is INVALID_ARGUMENT");
    return 0;
  }
  const absl::Status valid = sp::ValidateIsa(*isa, &sf::DevFederation());
  (void)sp::ValidateIsa(*isa, nullptr);
  std::string printed;
  FUZZ_REQUIRE(google::protobuf::util::MessageToJsonString(*isa, &printed).ok(),
               "a parsed agreement prints as JSON");
  auto again = sp::ParseIsaJson(printed);
  FUZZ_REQUIRE(again.ok() && sf::SameMessage(*isa, *again),
               "a printed agreement parses to the same");
  FUZZ_REQUIRE(sp::ValidateIsa(*again, &sf::DevFederation()).code() == valid.code(),
               "validity does not depend on the encoding");
  if (!valid.ok()) return 0;
  sp::IsaSet set;
  set.agreements.push_back(*isa);
  auto engine = sp::PolicyEngine::Create(std::move(set), sf::DevFederation());
  FUZZ_REQUIRE(engine.ok(), "a valid agreement builds a policy engine");
  return 0;
}
