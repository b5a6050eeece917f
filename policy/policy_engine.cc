#include "policy/policy_engine.h"

#include <algorithm>
#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "policy/enum_bits.h"
#include "policy/golden_rules.h"

namespace safeshare::policy {

namespace v1 = safeshare::v1;

absl::string_view RulePackName(RulePack pack) {
  switch (pack) {
    case RulePack::k2018:
      return "golden-rules-2018";
    case RulePack::k2024:
      return "golden-rules-2024";
    case RulePack::k2026:
      break;
  }
  return "golden-rules-2026";
}

absl::string_view RulePackVersion(RulePack pack) {
  switch (pack) {
    case RulePack::k2018:
      return "2018.1";
    case RulePack::k2024:
      return "2024.1";
    case RulePack::k2026:
      break;
  }
  return "2026.1";
}

Commencement ResolveCommencement(const v1::RuleCommencement& configured) {
  auto date = [&](bool set, const google::protobuf::Timestamp& ts,
                  std::optional<absl::CivilDay> fallback) -> std::optional<absl::Time> {
    if (set) return absl::FromUnixSeconds(ts.seconds());
    if (configured.no_defaults() || !fallback) return std::nullopt;
    return absl::FromCivil(*fallback, absl::UTCTimeZone());
  };
  Commencement c;
  // Data (Use and Access) Act 2025: Art 6(1)(ea) in force 5 February 2026.
  c.recognised_legitimate_interest =
      date(configured.has_recognised_legitimate_interest(),
           configured.recognised_legitimate_interest(), absl::CivilDay(2026, 2, 5));
  // Children's Wellbeing and Schools Act 2026 s.4 (s.16LA): partners were
  // told 30 September 2026.
  c.duty_to_share =
      date(configured.has_duty_to_share(), configured.duty_to_share(), absl::CivilDay(2026, 9, 30));
  // The consistent identifier awaits regulations: no default date.
  c.consistent_identifier = date(configured.has_consistent_identifier(),
                                 configured.consistent_identifier(), std::nullopt);
  // Domestic Abuse Act 2021 s.49A: its statutory guidance was issued in
  // November 2025.
  c.operation_encompass_duty =
      date(configured.has_operation_encompass_duty(), configured.operation_encompass_duty(),
           absl::CivilDay(2025, 11, 1));
  return c;
}

PolicyEngine::PolicyEngine(std::vector<v1::InformationSharingAgreement> isas,
                           const v1::Federation& federation, Commencement commencement)
    : agreements_(std::move(isas), federation), commencement_(commencement) {
  for (const auto& a : federation.agencies()) {
    if (a.sector() == v1::AGENCY_SECTOR_VOLUNTARY || a.sector() == v1::AGENCY_SECTOR_PRIVATE) {
      not_public_authorities_.insert(a.id());
    }
    uint64_t roles = 0;
    for (int r : a.roles()) roles |= Bit(r);
    roles_[a.id()] = roles;
  }
}

bool NeedsReview(const v1::PolicyDecision& decision) {
  return std::any_of(
      decision.findings().begin(), decision.findings().end(),
      [](const v1::Finding& f) { return absl::StartsWith(f.reason(), kFlaggedForReview); });
}

bool ParseRulePack(absl::string_view text, RulePack* pack) {
  for (RulePack p : {RulePack::k2018, RulePack::k2024, RulePack::k2026}) {
    if (text == RulePackName(p) || text == RulePackName(p).substr(strlen("golden-rules-"))) {
      *pack = p;
      return true;
    }
  }
  return false;
}

absl::StatusOr<std::unique_ptr<PolicyEngine>> PolicyEngine::Create(
    IsaSet isas, const v1::Federation& federation, const v1::RuleCommencement& commencement) {
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
  return std::unique_ptr<PolicyEngine>(
      new PolicyEngine(std::move(isas.agreements), federation, ResolveCommencement(commencement)));
}

const v1::InformationSharingAgreement* PolicyEngine::FindIsa(absl::string_view id) const {
  return agreements_.FindIsa(id);
}

v1::PolicyDecision PolicyEngine::Decide(const v1::Envelope& h, absl::Time now, RulePack pack,
                                        const v1::SharingDeclaration* request) const {
  DecisionInput in = MakeDecisionInput(h, now, pack, request, agreements_);
  v1::PolicyDecision out;
  out.set_rule_pack(std::string(RulePackName(pack)));
  out.set_rule_pack_version(std::string(RulePackVersion(pack)));
  if (pack == RulePack::k2026) {
    auto dated = [&](const char* rule, const std::optional<absl::Time>& from) {
      const bool in_force = from.has_value() && now >= *from;
      if (in_force) {
        out.add_rules_in_force(absl::StrCat(
            rule, " (from ", absl::FormatTime("%Y-%m-%d", *from, absl::UTCTimeZone()), ")"));
      }
      return in_force;
    };
    in.recognised_legitimate_interest =
        dated("recognised_legitimate_interest", commencement_.recognised_legitimate_interest);
    in.duty_to_share = dated("duty_to_share", commencement_.duty_to_share);
    in.consistent_identifier = dated("consistent_identifier", commencement_.consistent_identifier);
    in.operation_encompass_duty =
        dated("operation_encompass_duty", commencement_.operation_encompass_duty);
  }
  in.sender_public_authority = !not_public_authorities_.contains(h.sender_agency_id());
  auto roles = [&](const std::string& id) {
    auto it = roles_.find(id);
    return it == roles_.end() ? uint64_t{0} : it->second;
  };
  in.sender_roles = roles(h.sender_agency_id());
  in.recipient_roles = roles(h.recipient_agency_id());
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
