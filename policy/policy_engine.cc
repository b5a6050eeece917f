#include "policy/policy_engine.h"

#include <algorithm>
#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "policy/golden_rules.h"

namespace safeshare::policy {

namespace v1 = safeshare::v1;

absl::string_view RulePackName(RulePack pack) {
  return pack == RulePack::k2024 ? "golden-rules-2024" : "golden-rules-2018";
}

absl::string_view RulePackVersion(RulePack pack) {
  return pack == RulePack::k2024 ? "2024.1" : "2018.1";
}

bool NeedsReview(const v1::PolicyDecision& decision) {
  return std::any_of(
      decision.findings().begin(), decision.findings().end(),
      [](const v1::Finding& f) { return absl::StartsWith(f.reason(), kFlaggedForReview); });
}

bool ParseRulePack(absl::string_view text, RulePack* pack) {
  for (RulePack p : {RulePack::k2018, RulePack::k2024}) {
    if (text == RulePackName(p) || text == RulePackName(p).substr(strlen("golden-rules-"))) {
      *pack = p;
      return true;
    }
  }
  return false;
}

absl::StatusOr<std::unique_ptr<PolicyEngine>> PolicyEngine::Create(
    IsaSet isas, const v1::Federation& federation) {
  absl::flat_hash_map<std::string, bool> ids;
  for (const auto& isa : isas.agreements) {
    absl::Status st = ValidateIsa(isa, &federation);
    if (st.ok() && !ids.emplace(isa.id(), true).second) {
      st = absl::InvalidArgumentError("id: duplicate agreement id");
    }
    if (!st.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("agreement '", isa.id(), "': ", st.message()));
    }
  }
  return std::unique_ptr<PolicyEngine>(new PolicyEngine(std::move(isas.agreements), federation));
}

const v1::InformationSharingAgreement* PolicyEngine::FindIsa(absl::string_view id) const {
  return agreements_.FindIsa(id);
}

v1::PolicyDecision PolicyEngine::Decide(const v1::Envelope& h, absl::Time now, RulePack pack,
                                        const v1::SharingDeclaration* request) const {
  const DecisionInput in = MakeDecisionInput(h, now, pack, request, agreements_);
  v1::PolicyDecision out;
  out.set_rule_pack(std::string(RulePackName(pack)));
  out.set_rule_pack_version(std::string(RulePackVersion(pack)));
  if (const AgreementCandidate* isa = in.match.chosen) {
    out.set_isa_id(isa->isa->id());
    out.set_isa_version(isa->isa->version());
  }
  for (const GoldenRule& rule : GoldenRules()) {
    v1::Finding* f = out.add_findings();
    *f = rule.run(in);
    f->set_check(rule.check);
    f->set_rule(RuleLabel(rule, pack));
  }
  // Any FAIL -> DENY; else any ADVICE -> HOLD_FOR_ADVICE; else ALLOW.
  bool fail = false, advice = false;
  for (const auto& f : out.findings()) {
    fail = fail || f.outcome() == v1::FINDING_OUTCOME_FAIL;
    advice = advice || f.outcome() == v1::FINDING_OUTCOME_ADVICE;
  }
  out.set_decision(fail     ? v1::DECISION_DENY
                   : advice ? v1::DECISION_HOLD_FOR_ADVICE
                            : v1::DECISION_ALLOW);
  return out;
}

}  // namespace safeshare::policy
