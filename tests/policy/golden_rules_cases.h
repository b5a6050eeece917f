#ifndef SAFESHARE_TESTS_POLICY_GOLDEN_RULES_CASES_H_
#define SAFESHARE_TESTS_POLICY_GOLDEN_RULES_CASES_H_

// The table of golden-rules cases that policy_engine_test runs in both packs.

#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "policy/policy_engine.h"

namespace safeshare::policy::cases {

namespace v1 = safeshare::v1;

constexpr auto PASS = v1::FINDING_OUTCOME_PASS;
constexpr auto FAIL = v1::FINDING_OUTCOME_FAIL;
constexpr auto ADVICE = v1::FINDING_OUTCOME_ADVICE;
constexpr auto ALLOW = v1::DECISION_ALLOW;
constexpr auto DENY = v1::DECISION_DENY;
constexpr auto HOLD = v1::DECISION_HOLD_FOR_ADVICE;

using Mutation = std::function<void(v1::Envelope&, v1::SharingDeclaration&)>;

// One row: change the base share, then expect `check` to give `outcome` with
// a reason containing `reason`, and the whole share `decision`.
struct Case {
  std::string name;
  std::optional<RulePack> only;  // both packs when empty
  Mutation mutate;
  std::string check;
  v1::FindingOutcome outcome;
  std::string reason;  // substring of the finding's reason
  v1::Decision decision;
};

void PrintTo(const Case& c, std::ostream* os);

// A share that passes every check in both packs.
v1::Envelope Base();

const std::vector<Case>& Cases();

}  // namespace safeshare::policy::cases

#endif  // SAFESHARE_TESTS_POLICY_GOLDEN_RULES_CASES_H_
