#include "policy/golden_rules.h"

#include <algorithm>
#include <iterator>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/enum_text.h"
#include "policy/enum_bits.h"

namespace safeshare::policy {
namespace {

namespace v1 = safeshare::v1;

// How many unrecognised categories a reason names before it just counts them.
constexpr size_t kMaxUnrecognisedNamed = 8;

// "health, sexual health": the categories of `mask`, in enum order.
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
  explicit Check(const DecisionInput& in) : immediate_(in.immediate) {}
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

  // The outcome and reason; Decide names the check and rule.
  v1::Finding Finish() const {
    v1::Finding f;
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

// Art 9 (special categories) and Art 10 (criminal offence) conditions.
void AddArt9And10Conditions(const DecisionInput& in, Check& c) {
  const v1::SharingDeclaration& d = in.declaration;
  const auto art9 = d.special_category_condition();
  if (in.special && (art9 == 0 || !v1::SpecialCategoryCondition_IsValid(art9))) {
    c.Fail(absl::StrCat("Special-category data (", CategoriesText(in.special),
                        ") needs an Art 9 / DPA 2018 Sch 1 condition; none is declared."));
  } else if (in.special && art9 == v1::SPECIAL_CATEGORY_CONDITION_EXPLICIT_CONSENT &&
             d.consent_status() != v1::CONSENT_STATUS_GIVEN) {
    c.Fail("Explicit consent is the Art 9 condition declared but consent is not given.");
  } else if (in.special) {
    c.Pass("Special-category data has an Art 9 condition.");
  }
  const bool criminal = in.declared & kCriminalOffence;
  const auto art10 = d.criminal_offence_condition();
  if (criminal && (art10 == 0 || !v1::CriminalOffenceCondition_IsValid(art10))) {
    c.Fail("Criminal-offence data needs an Art 10 / DPA 2018 Sch 1 condition; none is declared.");
  } else if (criminal && art10 == v1::CRIMINAL_OFFENCE_CONDITION_CONSENT_SCH1_PARA29 &&
             d.consent_status() != v1::CONSENT_STATUS_GIVEN) {
    c.Fail("Consent (Sch 1 para 29) is the Art 10 condition declared but consent is not given.");
  } else if (criminal) {
    c.Pass("Criminal-offence data has an Art 10 condition.");
  }
}

// Art 6(1)(ea) (rule pack 2026): not for a public authority's own tasks; an
// Annex 1 condition; a public body's request carries its statement of need.
void AddRecognisedLegitimateInterest(const DecisionInput& in, Check& c) {
  const v1::SharingDeclaration& d = in.declaration;
  if (in.sender_public_authority) {
    c.Fail(absl::StrCat(in.header.sender_agency_id(),
                        " is a public authority: for its own functions it relies on public task "
                        "(Art 6(1)(e)), not a recognised legitimate interest (UK GDPR Art 6(1), "
                        "last subparagraph)."));
  }
  switch (d.legitimate_interest_condition()) {
    case v1::RECOGNISED_LEGITIMATE_INTEREST_CONDITION_SAFEGUARDING_VULNERABLE_INDIVIDUALS:
      c.Pass("The Annex 1 condition is safeguarding vulnerable individuals.");
      break;
    case v1::RECOGNISED_LEGITIMATE_INTEREST_CONDITION_PUBLIC_BODY_REQUEST: {
      const bool stated =
          !absl::StripAsciiWhitespace(d.public_body_statement()).empty() ||
          (in.request != nullptr &&
           !absl::StripAsciiWhitespace(in.request->public_body_statement()).empty());
      if (stated) {
        c.Pass(
            "The Annex 1 condition is a public body's request; its statement of need "
            "travels with it.");
      } else {
        c.Fail(
            "A disclosure on a public body's request (Annex 1) needs that body's statement "
            "that it needs the information for its public task (public_body_statement).");
      }
      break;
    }
    default:
      c.Fail(
          "A recognised legitimate interest needs its UK GDPR Annex 1 condition "
          "(legitimate_interest_condition).");
  }
}

// lawful_basis: Art 6 basis allowed by the ISA; Art 9 and Art 10 conditions.
v1::Finding CheckLawfulBasis(const DecisionInput& in) {
  Check c(in);
  const AgreementCandidate* isa = in.match.chosen;
  const v1::LawfulBasis basis = in.declaration.lawful_basis();
  if (basis == v1::LAWFUL_BASIS_UNSPECIFIED || !v1::LawfulBasis_IsValid(basis)) {
    c.Fail("No UK GDPR Art 6 lawful basis is declared.");
  } else if (basis == v1::LAWFUL_BASIS_RECOGNISED_LEGITIMATE_INTEREST &&
             !in.recognised_legitimate_interest) {
    c.Fail(in.pack == RulePack::k2026
               ? "Art 6(1)(ea) recognised legitimate interest is not in force on this date."
               : "Art 6(1)(ea) recognised legitimate interest is a basis of rule pack 2026, not "
                 "of the pack deciding this share.");
  } else if (!isa) {
    c.Fail(absl::StrCat("Art 6 basis ", EnumText(basis),
                        " cannot be confirmed: no agreement in force covers this share "
                        "(see necessity_proportionality)."));
  } else if (!(isa->bases & Bit(basis))) {
    c.Fail(absl::StrCat(in.isa_text, " does not allow Art 6 basis ", EnumText(basis), " for ",
                        EnumText(in.declaration.purpose()), "."));
  } else {
    c.Pass(absl::StrCat("Art 6 basis ", EnumText(basis), " is allowed by ", in.isa_text, "."));
  }
  if (basis == v1::LAWFUL_BASIS_RECOGNISED_LEGITIMATE_INTEREST &&
      in.recognised_legitimate_interest) {
    AddRecognisedLegitimateInterest(in, c);
  }
  AddArt9And10Conditions(in, c);
  return c.Finish();
}

// openness: informed, or a listed reason why not.
v1::Finding CheckOpenness(const DecisionInput& in) {
  Check c(in);
  const v1::SharingDeclaration& d = in.declaration;
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
  return c.Finish();
}

// What puts the child at risk, so that sharing without consent is allowed.
std::vector<std::string> DeclaredRisk(const DecisionInput& in) {
  const v1::SharingDeclaration& d = in.declaration;
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
  if (in.duty_to_share &&
      d.statutory_gateway() == v1::STATUTORY_GATEWAY_CHILDREN_ACT_2004_S16LA_DUTY_TO_SHARE) {
    risk.push_back("the Children Act 2004 s16LA duty to share");
  }
  if (in.operation_encompass_duty && in.header.kind() == v1::MESSAGE_KIND_OPERATION_ENCOMPASS &&
      d.statutory_gateway() == v1::STATUTORY_GATEWAY_DOMESTIC_ABUSE_ACT_2021_S49A) {
    risk.push_back("the Domestic Abuse Act 2021 s49A Operation Encompass duty");
  }
  if (in.immediate) risk.push_back("immediate urgency");
  return risk;
}

// consent: not needed where the child is at risk; a lawful basis still is.
v1::Finding CheckConsent(const DecisionInput& in) {
  Check c(in);
  const v1::SharingDeclaration& d = in.declaration;
  const v1::ConsentStatus status = d.consent_status();
  const bool has_reason = d.consent_not_sought_reason() != 0 &&
                          v1::ConsentNotSoughtReason_IsValid(d.consent_not_sought_reason());
  const std::vector<std::string> risk = DeclaredRisk(in);
  const bool k2024 = in.pack != RulePack::k2018;  // and 2026
  if (status == v1::CONSENT_STATUS_UNSPECIFIED || !v1::ConsentStatus_IsValid(status)) {
    c.Fail("No consent status is declared.");
  } else if (d.lawful_basis() == v1::LAWFUL_BASIS_CONSENT && status != v1::CONSENT_STATUS_GIVEN) {
    c.Fail(absl::StrCat("Consent is the only Art 6 basis declared but consent is ",
                        EnumText(status), ": rely on another basis or do not share."));
  } else if (status == v1::CONSENT_STATUS_NOT_SOUGHT && !has_reason) {
    c.Fail("Consent was not sought and no reason is given.");
  } else if (in.special &&
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
                        k2024 ? "allowed because the child is at risk ("
                              : "justified by risk of significant harm (",
                        absl::StrJoin(risk, ", "), ")."));
  } else {
    // Held in both packs; what the IG officer is asked differs.
    c.Hold(absl::StrCat(
        "Consent ", EnumText(status),
        " and no risk to the child is declared (threshold below 4, no s47 or strategy "
        "discussion, not immediate): ",
        k2024 ? "an IG officer must confirm the lawful basis before sharing."
              : "respect the family's wishes where possible; an IG officer must advise before "
                "sharing."));
  }
  return c.Finish();
}

// advice: requested -> held, except at immediate urgency.
v1::Finding CheckAdvice(const DecisionInput& in) {
  Check c(in);
  switch (in.declaration.advice_status()) {
    case v1::ADVICE_STATUS_REQUESTED:
      c.Hold("Advice was requested.");
      break;
    case v1::ADVICE_STATUS_SOUGHT:
      if (absl::StripAsciiWhitespace(in.declaration.advice_reference()).empty()) {
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
  return c.Finish();
}

// protect_identities (2024 rule 5; the 2018 pack only records them).
v1::Finding CheckProtectIdentities(const DecisionInput& in) {
  Check c(in);
  const v1::SharingDeclaration& d = in.declaration;
  const AgreementCandidate* isa = in.match.chosen;
  const std::string& recipient = in.header.recipient_agency_id();
  if (d.protected_identities().empty()) {
    c.Pass("No protected identities are declared.");
  } else if (in.pack == RulePack::k2018) {
    c.Pass(absl::StrCat("Protected identities recorded (", IdentitiesText(d),
                        "); not checked under the 2018 pack."));
  } else if (isa && isa->protected_identities_allowed) {
    c.Pass(absl::StrCat(in.isa_text, " allows ", recipient, " to hold protected identities (",
                        IdentitiesText(d), ")."));
  } else {
    c.Hold(absl::StrCat(isa ? in.isa_text : std::string("No agreement in force"),
                        isa ? " does not allow " : " allows ", recipient,
                        " to hold protected identities (", IdentitiesText(d),
                        "): an IG officer must advise how to shield them."));
  }
  return c.Finish();
}

// The agreement's part of necessity_proportionality: categories within it, a
// full case record only where allowed, a response no wider than its request.
void AddAgreementLimits(const DecisionInput& in, const AgreementCandidate& isa, Check& c) {
  const v1::SharingDeclaration& d = in.declaration;
  const uint64_t excess = in.declared & ~kFullCaseRecord & ~isa.categories;
  if (excess || !in.unrecognised.empty()) {
    std::string names = CategoriesText(excess);
    // Named a few at a time: the reason goes into the permanent audit log, and
    // a declaration that skipped the shape check could carry thousands.
    size_t shown = 0;
    for (int u : in.unrecognised) {
      if (shown == kMaxUnrecognisedNamed) break;
      absl::StrAppend(&names, names.empty() ? "" : ", ", "unrecognised category ", u);
      ++shown;
    }
    if (in.unrecognised.size() > shown) {
      absl::StrAppend(&names, " and ", in.unrecognised.size() - shown, " more unrecognised");
    }
    c.Fail(absl::StrCat("Categories beyond ", in.isa_text, " for ", EnumText(d.purpose()), ": ",
                        names, "."));
  }
  if (in.declared & kFullCaseRecord) {
    if (isa.categories & kFullCaseRecord) {
      c.Pass(absl::StrCat(in.isa_text, " allows a full case record."));
    } else {
      c.Hold(absl::StrCat("A full case record is not allowed by ", in.isa_text,
                          ": an IG officer must confirm it is necessary and proportionate."));
    }
  }
  if (in.request != nullptr && in.header.kind() == v1::MESSAGE_KIND_INFORMATION_RESPONSE) {
    const uint64_t unasked = in.declared & ~Mask(in.request->requested_categories());
    if (unasked) {
      c.Hold(absl::StrCat("The response shares ", CategoriesText(unasked),
                          ", which the request did not ask for: an IG officer must confirm "
                          "it is necessary and proportionate."));
    } else {
      c.Pass("The response shares no more than the request asked for.");
    }
  }
  c.Pass(absl::StrCat(in.isa_text, " (in force until ", DateText(isa.until),
                      ") covers the share and the declared categories."));
}

// Operation Encompass goes from police to the child's school, or to the local
// authority for a child in elective home education; nothing else uses s49A.
void AddOperationEncompass(const DecisionInput& in, Check& c) {
  const v1::SharingDeclaration& d = in.declaration;
  const std::string& recipient = in.header.recipient_agency_id();
  if (in.header.kind() != v1::MESSAGE_KIND_OPERATION_ENCOMPASS) {
    if (d.purpose() == v1::PURPOSE_OPERATION_ENCOMPASS ||
        d.statutory_gateway() == v1::STATUTORY_GATEWAY_DOMESTIC_ABUSE_ACT_2021_S49A) {
      c.Fail(
          "Operation Encompass (its purpose and the s49A duty) is for OPERATION_ENCOMPASS "
          "notifications only.");
    }
    return;
  }
  if (!(in.sender_roles & Bit(v1::AGENCY_ROLE_POLICE))) {
    c.Fail(
        absl::StrCat("Operation Encompass notifications come from the police (Domestic Abuse "
                     "Act 2021 s49A); ",
                     in.header.sender_agency_id(), " is not a police force."));
  }
  if (d.purpose() != v1::PURPOSE_OPERATION_ENCOMPASS) {
    c.Fail("An Operation Encompass notification's purpose must be PURPOSE_OPERATION_ENCOMPASS.");
  }
  const bool school = in.recipient_roles & Bit(v1::AGENCY_ROLE_EDUCATION);
  const bool local_authority =
      in.recipient_roles & (Bit(v1::AGENCY_ROLE_LOCAL_AUTHORITY) | Bit(v1::AGENCY_ROLE_FRONT_DOOR));
  if (d.elective_home_education()) {
    if (local_authority) {
      c.Pass(absl::StrCat("The child is in elective home education: the local authority (",
                          recipient, ") is notified instead of a school."));
    } else {
      c.Fail(
          absl::StrCat("For a child in elective home education the local authority is "
                       "notified; ",
                       recipient, " is not a local authority."));
    }
  } else if (school) {
    c.Pass(absl::StrCat("The notification goes to the child's school (", recipient,
                        "), for its designated safeguarding lead."));
  } else {
    c.Fail(absl::StrCat("Operation Encompass notifications go to the child's school; ", recipient,
                        " is not a school (for a child in elective home education, say so and "
                        "notify the local authority)."));
  }
}

// necessity_proportionality: an ISA in force, categories within it, a justification.
v1::Finding CheckNecessityProportionality(const DecisionInput& in) {
  Check c(in);
  AddOperationEncompass(in, c);
  if (in.match.chosen == nullptr) {
    c.Fail(in.match.why_none);
  } else {
    AddAgreementLimits(in, *in.match.chosen, c);
  }
  if (in.consistent_identifier && in.header.kind() == v1::MESSAGE_KIND_REFERRAL) {
    switch (in.declaration.consistent_identifier()) {
      case v1::CONSISTENT_IDENTIFIER_STATUS_INCLUDED:
        c.Pass("The child's consistent identifier (NHS number) is included.");
        break;
      case v1::CONSISTENT_IDENTIFIER_STATUS_NOT_HELPFUL:
      case v1::CONSISTENT_IDENTIFIER_STATUS_MORE_DETRIMENTAL:
      case v1::CONSISTENT_IDENTIFIER_STATUS_UNKNOWN_UNREASONABLE_DELAY:
        c.Pass(absl::StrCat("The consistent identifier is not included, because: ",
                            EnumText(in.declaration.consistent_identifier()), "."));
        break;
      default:
        c.Hold(
            "The referral neither includes the child's consistent identifier (NHS number) nor "
            "says which statutory reason applies (not helpful, more detrimental, unknown and "
            "finding it would cause unreasonable delay): an IG officer must decide.");
    }
  }
  const size_t length = absl::StripAsciiWhitespace(in.declaration.necessity_justification()).size();
  if (length < 20) {
    c.Fail(
        absl::StrCat("The necessity justification must say why this information, for this "
                     "recipient, now (at least 20 characters; ",
                     length, " given)."));
  }
  return c.Finish();
}

// record: the declaration makes a complete record; a refusal names its reasons.
v1::Finding CheckRecord(const DecisionInput& in) {
  Check c(in);
  const v1::Envelope& h = in.header;
  const v1::SharingDeclaration& d = in.declaration;
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
  return c.Finish();
}

// In rule order. The 2018 and 2024 editions number consent and advice
// differently; the checks are the same.
constexpr GoldenRule kGoldenRules[] = {
    {"lawful_basis", "2018 rules 1 & 4", "2024 rules 1 & 3", CheckLawfulBasis},
    {"openness", "2018 rule 2", "2024 rule 2", CheckOpenness},
    {"consent", "2018 rule 4", "2024 rule 3", CheckConsent},
    {"advice", "2018 rule 3", "2024 rule 4", CheckAdvice},
    {"protect_identities", "2018 rule 5", "2024 rule 5", CheckProtectIdentities},
    {"necessity_proportionality", "2018 rule 6", "2024 rule 6", CheckNecessityProportionality},
    {"record", "2018 rule 7", "2024 rule 7", CheckRecord},
};

// The public list of check names (policy_engine.h) is this table's.
constexpr bool NamesMatchChecks() {
  if (std::size(kGoldenRules) != std::size(kChecks)) return false;
  for (size_t i = 0; i < std::size(kChecks); ++i) {
    if (std::string_view(kGoldenRules[i].check) != kChecks[i]) return false;
  }
  return true;
}
static_assert(NamesMatchChecks(), "kGoldenRules must name the checks of kChecks, in order");

}  // namespace

DecisionInput MakeDecisionInput(const v1::Envelope& header, absl::Time now, RulePack pack,
                                const v1::SharingDeclaration* request,
                                const AgreementIndex& agreements) {
  const v1::SharingDeclaration& d = header.declaration();
  uint64_t declared = 0;
  std::vector<int> unrecognised;
  for (int c : d.data_categories()) {
    if (c == 0 || !v1::DataCategory_IsValid(c)) {
      unrecognised.push_back(c);
    } else {
      declared |= Bit(c);
    }
  }
  AgreementMatch match = agreements.Find(header, now, declared);
  std::string isa_text = match.chosen ? IsaText(*match.chosen->isa) : "";
  return DecisionInput{header,
                       d,
                       now,
                       pack,
                       request,
                       std::move(match),
                       std::move(isa_text),
                       declared,
                       std::move(unrecognised),
                       declared & kSpecialCategories,
                       d.urgency() == v1::URGENCY_IMMEDIATE};
}

absl::Span<const GoldenRule> GoldenRules() { return kGoldenRules; }

}  // namespace safeshare::policy
