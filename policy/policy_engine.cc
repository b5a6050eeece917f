#include "policy/policy_engine.h"

#include <algorithm>
#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/enum_text.h"
#include "policy/enum_bits.h"

namespace safeshare::policy {
namespace {

namespace v1 = safeshare::v1;
using common::EnumText;

std::string CategoriesText(uint64_t mask) {
  std::vector<std::string> names;
  for (int c = 1; c < 64; ++c) {
    if (mask & Bit(c)) names.push_back(EnumText(v1::DataCategory_descriptor(), c));
  }
  return absl::StrJoin(names, ", ");
}

std::string IdentitiesText(const v1::SharingDeclaration& d) {
  std::vector<std::string> names;
  for (int p : d.protected_identities()) {
    names.push_back(EnumText(v1::ProtectedIdentity_descriptor(), p));
  }
  return absl::StrJoin(names, ", ");
}

// Accumulates one check's verdict: the worst outcome wins, every part of the
// reason is kept so that a practitioner sees everything to fix at once.
class Check {
 public:
  explicit Check(bool immediate) : immediate_(immediate) {}
  void Pass(std::string why) { passes_.push_back(std::move(why)); }
  void Fail(std::string why) {
    problems_.push_back(std::move(why));
    failed_ = true;
  }
  // Needs an IG officer: the message is held. At immediate urgency it goes
  // ahead instead, flagged for review: a hold must never leave a child at risk.
  void Hold(const std::string& why) {
    if (immediate_) {
      flagged_ = true;
      passes_.insert(passes_.begin(),
                     absl::StrCat(why, " Immediate urgency: shared now, reviewed afterwards."));
    } else {
      holds_.push_back(why);
      held_ = true;
    }
  }

  v1::Finding Finish(const char* check, std::string rule) const {
    v1::Finding f;
    f.set_check(check);
    f.set_rule(std::move(rule));
    if (failed_) {
      // A refusal must not read as a hold; what would need advice comes after.
      f.set_outcome(v1::FINDING_OUTCOME_FAIL);
      f.set_reason(absl::StrCat(
          absl::StrJoin(problems_, " "),
          holds_.empty() ? "" : " Once that is fixed, an IG officer must also decide: ",
          absl::StrJoin(holds_, " ")));
    } else if (held_) {
      f.set_outcome(v1::FINDING_OUTCOME_ADVICE);
      f.set_reason(absl::StrCat(absl::StrJoin(holds_, " "), " Held until an IG officer decides."));
    } else {
      f.set_outcome(v1::FINDING_OUTCOME_PASS);
      f.set_reason(absl::StrCat(flagged_ ? kFlaggedForReview : "", absl::StrJoin(passes_, " ")));
    }
    return f;
  }

 private:
  bool immediate_;
  bool failed_ = false, held_ = false, flagged_ = false;
  std::vector<std::string> passes_, problems_, holds_;
};

std::string RuleLabel(RulePack pack, int check) {
  // Rule numbers per check, in kChecks order.
  static constexpr const char* k2024[] = {"rules 1 & 3", "rule 2", "rule 3", "rule 4",
                                          "rule 5",      "rule 6", "rule 7"};
  static constexpr const char* k2018[] = {"rules 1 & 4", "rule 2", "rule 4", "rule 3",
                                          "rule 5",      "rule 6", "rule 7"};
  return pack == RulePack::k2024 ? absl::StrCat("2024 ", k2024[check])
                                 : absl::StrCat("2018 ", k2018[check]);
}

}  // namespace

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
  const v1::SharingDeclaration& d = h.declaration();
  const bool immediate = d.urgency() == v1::URGENCY_IMMEDIATE;
  uint64_t declared = 0;
  std::vector<int> unrecognised;
  for (int c : d.data_categories()) {
    if (c == 0 || !v1::DataCategory_IsValid(c)) {
      unrecognised.push_back(c);
    } else {
      declared |= Bit(c);
    }
  }
  const uint64_t special = declared & kSpecialCategories;
  const AgreementMatch match = agreements_.Find(h, now, declared);
  const AgreementCandidate* isa = match.chosen;
  const std::string isa_text = isa ? IsaText(*isa->isa) : "";

  v1::PolicyDecision out;
  out.set_rule_pack(std::string(RulePackName(pack)));
  out.set_rule_pack_version(std::string(RulePackVersion(pack)));
  if (isa) {
    out.set_isa_id(isa->isa->id());
    out.set_isa_version(isa->isa->version());
  }
  auto add = [&](int index, const Check& check) {
    *out.add_findings() = check.Finish(kChecks[index], RuleLabel(pack, index));
  };

  {  // lawful_basis: Art 6 basis allowed by the ISA; Art 9 and Art 10 conditions.
    Check c(immediate);
    const v1::LawfulBasis basis = d.lawful_basis();
    if (basis == v1::LAWFUL_BASIS_UNSPECIFIED || !v1::LawfulBasis_IsValid(basis)) {
      c.Fail("No UK GDPR Art 6 lawful basis is declared.");
    } else if (!isa) {
      c.Fail(absl::StrCat("Art 6 basis ", EnumText(basis),
                          " cannot be confirmed: no agreement in force covers this share "
                          "(see necessity_proportionality)."));
    } else if (!(isa->bases & Bit(basis))) {
      c.Fail(absl::StrCat(isa_text, " does not allow Art 6 basis ", EnumText(basis), " for ",
                          EnumText(d.purpose()), "."));
    } else {
      c.Pass(absl::StrCat("Art 6 basis ", EnumText(basis), " is allowed by ", isa_text, "."));
    }
    const auto art9 = d.special_category_condition();
    if (special && (art9 == 0 || !v1::SpecialCategoryCondition_IsValid(art9))) {
      c.Fail(absl::StrCat("Special-category data (", CategoriesText(special),
                          ") needs an Art 9 / DPA 2018 Sch 1 condition; none is declared."));
    } else if (special && art9 == v1::SPECIAL_CATEGORY_CONDITION_EXPLICIT_CONSENT &&
               d.consent_status() != v1::CONSENT_STATUS_GIVEN) {
      c.Fail("Explicit consent is the Art 9 condition declared but consent is not given.");
    } else if (special) {
      c.Pass("Special-category data has an Art 9 condition.");
    }
    const auto art10 = d.criminal_offence_condition();
    if ((declared & kCriminalOffence) &&
        (art10 == 0 || !v1::CriminalOffenceCondition_IsValid(art10))) {
      c.Fail("Criminal-offence data needs an Art 10 / DPA 2018 Sch 1 condition; none is declared.");
    } else if ((declared & kCriminalOffence) &&
               art10 == v1::CRIMINAL_OFFENCE_CONDITION_CONSENT_SCH1_PARA29 &&
               d.consent_status() != v1::CONSENT_STATUS_GIVEN) {
      c.Fail("Consent (Sch 1 para 29) is the Art 10 condition declared but consent is not given.");
    } else if (declared & kCriminalOffence) {
      c.Pass("Criminal-offence data has an Art 10 condition.");
    }
    add(0, c);
  }

  {  // openness: informed, or a listed reason why not.
    Check c(immediate);
    if (d.informed()) {
      c.Pass("The child or family were told what is shared and why.");
    } else if (d.not_informed_reason() != 0 &&
               v1::NotInformedReason_IsValid(d.not_informed_reason())) {
      c.Pass(absl::StrCat("Not informed, because: ", EnumText(d.not_informed_reason()), "."));
    } else {
      c.Fail(
          "The child or family were not told about the share and no reason is given "
          "(unsafe, would increase risk, would prejudice an investigation, not practicable).");
    }
    add(1, c);
  }

  {  // consent: not needed where the child is at risk; a lawful basis still is.
    Check c(immediate);
    const v1::ConsentStatus status = d.consent_status();
    const bool has_reason = d.consent_not_sought_reason() != 0 &&
                            v1::ConsentNotSoughtReason_IsValid(d.consent_not_sought_reason());
    std::vector<std::string> risk;
    if (d.threshold_level() == v1::THRESHOLD_LEVEL_4_CHILDRENS_SOCIAL_CARE) {
      risk.push_back("threshold level 4");
    }
    if (d.purpose() == v1::PURPOSE_S47_ENQUIRY || d.purpose() == v1::PURPOSE_STRATEGY_DISCUSSION) {
      risk.push_back(EnumText(d.purpose()));
    }
    if (d.statutory_gateway() == v1::STATUTORY_GATEWAY_CHILDREN_ACT_1989_S47) {
      risk.push_back("Children Act 1989 s47 gateway");
    }
    if (immediate) risk.push_back("immediate urgency");

    if (status == v1::CONSENT_STATUS_UNSPECIFIED || !v1::ConsentStatus_IsValid(status)) {
      c.Fail("No consent status is declared.");
    } else if (d.lawful_basis() == v1::LAWFUL_BASIS_CONSENT && status != v1::CONSENT_STATUS_GIVEN) {
      c.Fail(absl::StrCat("Consent is the only Art 6 basis declared but consent is ",
                          EnumText(status), ": rely on another basis or do not share."));
    } else if (status == v1::CONSENT_STATUS_NOT_SOUGHT && !has_reason) {
      c.Fail("Consent was not sought and no reason is given.");
    } else if (special &&
               d.special_category_condition() ==
                   v1::SPECIAL_CATEGORY_CONDITION_SAFEGUARDING_SCH1_PARA18 &&
               status != v1::CONSENT_STATUS_GIVEN && !has_reason) {
      c.Fail(
          absl::StrCat("Special-category data under DPA 2018 Sch 1 para 18 without consent "
                       "(consent ",
                       EnumText(status),
                       ") needs the reason consent was not obtained: would increase risk, "
                       "would prejudice an investigation, cannot give, cannot reasonably "
                       "obtain."));
    } else if (status == v1::CONSENT_STATUS_GIVEN) {
      c.Pass("Consent is given.");
    } else if (!risk.empty()) {
      c.Pass(absl::StrCat("Consent ", EnumText(status), ": sharing without consent is ",
                          pack == RulePack::k2024 ? "allowed because the child is at risk ("
                                                  : "justified by risk of significant harm (",
                          absl::StrJoin(risk, ", "), ")."));
    } else {
      // Held in both packs; what the IG officer is asked differs.
      c.Hold(absl::StrCat(
          "Consent ", EnumText(status),
          " and no risk to the child is declared (threshold below 4, no s47 or strategy "
          "discussion, not immediate): ",
          pack == RulePack::k2024
              ? "an IG officer must confirm the lawful basis before sharing."
              : "respect the family's wishes where possible; an IG officer must advise before "
                "sharing."));
    }
    add(2, c);
  }

  {  // advice: requested -> held, except at immediate urgency.
    Check c(immediate);
    switch (d.advice_status()) {
      case v1::ADVICE_STATUS_REQUESTED:
        c.Hold("Advice was requested.");
        break;
      case v1::ADVICE_STATUS_SOUGHT:
        if (absl::StripAsciiWhitespace(d.advice_reference()).empty()) {
          c.Fail("Advice was taken but no advice reference is recorded.");
        } else {
          c.Pass("Advice was taken; its reference is recorded.");
        }
        break;
      case v1::ADVICE_STATUS_UNSPECIFIED:
      case v1::ADVICE_STATUS_NOT_SOUGHT:
        c.Pass("No advice is requested.");
        break;
      default:
        c.Fail("The advice status is not recognised.");
    }
    add(3, c);
  }

  {  // protect_identities (2024 rule 5; the 2018 pack only records them).
    Check c(immediate);
    if (d.protected_identities().empty()) {
      c.Pass("No protected identities are declared.");
    } else if (pack == RulePack::k2018) {
      c.Pass(absl::StrCat("Protected identities recorded (", IdentitiesText(d),
                          "); not checked under the 2018 pack."));
    } else if (isa && isa->protected_identities_allowed) {
      c.Pass(absl::StrCat(isa_text, " allows ", h.recipient_agency_id(),
                          " to hold protected identities (", IdentitiesText(d), ")."));
    } else {
      c.Hold(absl::StrCat(isa ? isa_text : std::string("No agreement in force"),
                          isa ? " does not allow " : " allows ", h.recipient_agency_id(),
                          " to hold protected identities (", IdentitiesText(d),
                          "): an IG officer must advise how to shield them."));
    }
    add(4, c);
  }

  {  // necessity_proportionality: an ISA in force, categories within it, a justification.
    Check c(immediate);
    if (!isa) {
      c.Fail(match.why_none);
    } else {
      const uint64_t excess = declared & ~kFullCaseRecord & ~isa->categories;
      if (excess || !unrecognised.empty()) {
        std::string names = CategoriesText(excess);
        for (int u : unrecognised) {
          absl::StrAppend(&names, names.empty() ? "" : ", ", "unrecognised category ", u);
        }
        c.Fail(absl::StrCat("Categories beyond ", isa_text, " for ", EnumText(d.purpose()), ": ",
                            names, "."));
      }
      if (declared & kFullCaseRecord) {
        if (isa->categories & kFullCaseRecord) {
          c.Pass(absl::StrCat(isa_text, " allows a full case record."));
        } else {
          c.Hold(absl::StrCat("A full case record is not allowed by ", isa_text,
                              ": an IG officer must confirm it is necessary and proportionate."));
        }
      }
      if (request != nullptr && h.kind() == v1::MESSAGE_KIND_INFORMATION_RESPONSE) {
        const uint64_t unasked = declared & ~Mask(request->requested_categories());
        if (unasked) {
          c.Hold(absl::StrCat("The response shares ", CategoriesText(unasked),
                              ", which the request did not ask for: an IG officer must confirm "
                              "it is necessary and proportionate."));
        } else {
          c.Pass("The response shares no more than the request asked for.");
        }
      }
      c.Pass(absl::StrCat(isa_text, " (in force until ", DateText(isa->until),
                          ") covers the share and the declared categories."));
    }
    const size_t length = absl::StripAsciiWhitespace(d.necessity_justification()).size();
    if (length < 20) {
      c.Fail(
          absl::StrCat("The necessity justification must say why this information, for this "
                       "recipient, now (at least 20 characters; ",
                       length, " given)."));
    }
    add(5, c);
  }

  {  // record: the declaration makes a complete record; a refusal names its reasons.
    Check c(immediate);
    std::vector<std::string> missing;
    if (h.sender_practitioner().id().empty()) missing.push_back("practitioner id");
    if (h.sender_practitioner().role() == v1::PRACTITIONER_ROLE_UNSPECIFIED) {
      missing.push_back("practitioner role");
    }
    if (d.purpose() == v1::PURPOSE_UNSPECIFIED) missing.push_back("purpose");
    if (h.recipient_agency_id().empty()) missing.push_back("recipient agency");
    if (d.data_categories().empty()) missing.push_back("data categories");
    if (h.kind() == v1::MESSAGE_KIND_UNSPECIFIED) missing.push_back("message kind");
    if (!missing.empty()) {
      c.Fail(absl::StrCat("The record is incomplete: missing ", absl::StrJoin(missing, ", "), "."));
    }
    if (h.kind() == v1::MESSAGE_KIND_DECLINE_TO_SHARE) {
      const bool named = std::any_of(d.decline_reasons().begin(), d.decline_reasons().end(),
                                     [](int r) { return r != v1::DECLINE_REASON_UNSPECIFIED; });
      if (named) {
        c.Pass("The decision not to share records its reasons.");
      } else {
        c.Fail("A decision not to share must record its reasons (decline_reasons).");
      }
    }
    if (h.kind() == v1::MESSAGE_KIND_OUTCOME) {
      const v1::OutcomeDecision o = d.outcome_decision();
      if (o == v1::OUTCOME_DECISION_UNSPECIFIED || !v1::OutcomeDecision_IsValid(o)) {
        c.Fail("An outcome must record what the front door decided (outcome_decision).");
      } else {
        c.Pass("The outcome records the front door's decision.");
      }
    }
    c.Pass("Practitioner, role, purpose, recipient and categories are recorded.");
    add(6, c);
  }

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
