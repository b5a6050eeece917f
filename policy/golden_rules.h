// The Seven Golden Rules as a table of named checks: one function per check
// over one DecisionInput, in the order findings are returned.
#ifndef SAFESHARE_POLICY_GOLDEN_RULES_H_
#define SAFESHARE_POLICY_GOLDEN_RULES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "absl/types/span.h"
#include "policy/agreement_index.h"
#include "policy/policy_engine.h"
#include "safeshare/v1/envelope.pb.h"
#include "safeshare/v1/policy.pb.h"

namespace safeshare::policy {

// Everything a check reads, built once per decision.
struct DecisionInput {
  const safeshare::v1::Envelope& header;
  const safeshare::v1::SharingDeclaration& declaration;  // header.declaration()
  absl::Time now;
  RulePack pack;
  // For an INFORMATION_RESPONSE, the declaration of the request it answers.
  const safeshare::v1::SharingDeclaration* request;
  AgreementMatch match;           // match.chosen is the agreement applied, or null
  std::string isa_text;           // IsaText of it, empty when none
  uint64_t declared;              // the recognised declared categories
  std::vector<int> unrecognised;  // declared category numbers the enum does not name
  uint64_t special;               // declared & kSpecialCategories
  bool immediate;                 // URGENCY_IMMEDIATE: nothing is held, only flagged
  // Rule pack 2026's dated rules in force at `now` (false under 2018/2024).
  bool recognised_legitimate_interest = false;
  bool duty_to_share = false;
  bool consistent_identifier = false;
  bool operation_encompass_duty = false;
  bool sender_public_authority = true;  // the directory's sector
  uint64_t sender_roles = 0;            // the directory's roles (Bit(AgencyRole))
  uint64_t recipient_roles = 0;
};

// Derives the facts and looks up the agreement, once for all checks.
DecisionInput MakeDecisionInput(const safeshare::v1::Envelope& header, absl::Time now,
                                RulePack pack, const safeshare::v1::SharingDeclaration* request,
                                const AgreementIndex& agreements);

// One golden rule: its check name, its rule under each pack, and the function
// that returns its outcome and reason (check and rule are filled in by Decide).
struct GoldenRule {
  const char* check;
  const char* rule_2018;
  const char* rule_2024;
  safeshare::v1::Finding (*run)(const DecisionInput&);
};

// The checks in the order of kChecks.
absl::Span<const GoldenRule> GoldenRules();

// "2024 rule 3" etc.: the rule label the finding carries under `pack`.
// The 2026 pack is the 2024 advice with the law since: the same rules.
inline const char* RuleLabel(const GoldenRule& rule, RulePack pack) {
  return pack == RulePack::k2018 ? rule.rule_2018 : rule.rule_2024;
}

}  // namespace safeshare::policy

#endif  // SAFESHARE_POLICY_GOLDEN_RULES_H_
