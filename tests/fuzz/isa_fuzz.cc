// Outside bytes an IG officer or a partner authority writes: an information
// sharing agreement in JSON, as the gateway loads and `safeshare policy lint`
// checks it. Never crashes; an agreement that validates prints as JSON that
// parses to the same agreement, and the policy engine builds from it.
#include "google/protobuf/util/json_util.h"
#include "policy/isa.h"
#include "policy/policy_engine.h"
#include "tests/fuzz/fuzz_support.h"

namespace sf = safeshare::fuzz;
namespace sp = safeshare::policy;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto isa = sp::ParseIsaJson(sf::Bytes(data, size));
  if (!isa.ok()) return 0;
  (void)sp::ValidateIsa(*isa, nullptr);
  if (!sp::ValidateIsa(*isa, &sf::DevFederation()).ok()) return 0;
  std::string printed;
  FUZZ_REQUIRE(google::protobuf::util::MessageToJsonString(*isa, &printed).ok(),
               "a valid agreement prints as JSON");
  auto again = sp::ParseIsaJson(printed);
  FUZZ_REQUIRE(again.ok() && sf::SameMessage(*isa, *again),
               "a printed agreement parses to the same");
  sp::IsaSet set;
  set.agreements.push_back(*isa);
  auto engine = sp::PolicyEngine::Create(std::move(set), sf::DevFederation());
  FUZZ_REQUIRE(engine.ok(), "a valid agreement builds a policy engine");
  return 0;
}
