// The golden-rules test cases: every outcome of every check in both rule
// packs, as rows.

#include "tests/policy/golden_rules_cases.h"

namespace safeshare::policy::cases {

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

// A share that passes every check in both packs.
v1::Envelope Base() {
  v1::Envelope e;
  e.set_kind(v1::MESSAGE_KIND_REFERRAL);
  e.set_sender_agency_id("hiow-police");
  e.set_recipient_agency_id("portsmouth-mash");
  e.mutable_sender_practitioner()->set_id("pc-4471");
  e.mutable_sender_practitioner()->set_role(v1::PRACTITIONER_ROLE_POLICE_OFFICER);
  auto& d = *e.mutable_declaration();
  d.set_purpose(v1::PURPOSE_SAFEGUARDING_REFERRAL);
  d.set_lawful_basis(v1::LAWFUL_BASIS_PUBLIC_TASK);
  d.set_statutory_gateway(v1::STATUTORY_GATEWAY_CHILDREN_ACT_2004_S11);
  d.set_consent_status(v1::CONSENT_STATUS_NOT_SOUGHT);
  d.set_consent_not_sought_reason(v1::CONSENT_NOT_SOUGHT_REASON_WOULD_INCREASE_RISK);
  d.set_informed(false);
  d.set_not_informed_reason(v1::NOT_INFORMED_REASON_WOULD_INCREASE_RISK);
  d.add_data_categories(v1::DATA_CATEGORY_IDENTITY);
  d.add_data_categories(v1::DATA_CATEGORY_CONCERN_DETAILS);
  d.set_necessity_justification("Incident attended last night; front door must assess today.");
  d.set_threshold_level(v1::THRESHOLD_LEVEL_4_CHILDRENS_SOCIAL_CARE);
  d.set_urgency(v1::URGENCY_URGENT);
  d.set_advice_status(v1::ADVICE_STATUS_NOT_SOUGHT);
  return e;
}

// No risk: threshold 2, early help, s17 gateway, standard urgency.
namespace {

void NoRisk(v1::SharingDeclaration& d) {
  d.set_threshold_level(v1::THRESHOLD_LEVEL_2_EARLY_HELP);
  d.set_purpose(v1::PURPOSE_EARLY_HELP);
  d.set_statutory_gateway(v1::STATUTORY_GATEWAY_CHILDREN_ACT_1989_S17);
  d.set_urgency(v1::URGENCY_STANDARD);
}

}  // namespace

// A table of data, one row per outcome (longer than a function should be:
// the rows read best side by side).
const std::vector<Case>& Cases() {
  using E = v1::Envelope;
  using D = v1::SharingDeclaration;
  static const auto* cases = new std::vector<Case>{
      // lawful_basis
      {"BasisAllowed",
       {},
       [](E&, D&) {},
       "lawful_basis",
       PASS,
       "public task is allowed by ISA police-pm v3",
       ALLOW},
      {"NoBasis",
       {},
       [](E&, D& d) { d.clear_lawful_basis(); },
       "lawful_basis",
       FAIL,
       "No UK GDPR Art 6 lawful basis",
       DENY},
      {"BasisNotInIsa",
       {},
       [](E&, D& d) { d.set_lawful_basis(v1::LAWFUL_BASIS_LEGAL_OBLIGATION); },
       "lawful_basis",
       FAIL,
       "ISA police-pm v3 does not allow Art 6 basis legal obligation",
       DENY},
      {"SpecialCategoryWithoutArt9",
       {},
       [](E&, D& d) { d.add_data_categories(v1::DATA_CATEGORY_HEALTH); },
       "lawful_basis",
       FAIL,
       "Special-category data (health) needs an Art 9",
       DENY},
      {"SpecialCategoryWithArt9",
       {},
       [](E&, D& d) {
         d.add_data_categories(v1::DATA_CATEGORY_HEALTH);
         d.set_special_category_condition(v1::SPECIAL_CATEGORY_CONDITION_SAFEGUARDING_SCH1_PARA18);
       },
       "lawful_basis",
       PASS,
       "has an Art 9 condition",
       ALLOW},
      {"ExplicitConsentConditionWithoutConsent",
       {},
       [](E&, D& d) {
         d.add_data_categories(v1::DATA_CATEGORY_HEALTH);
         d.set_special_category_condition(v1::SPECIAL_CATEGORY_CONDITION_EXPLICIT_CONSENT);
       },
       "lawful_basis",
       FAIL,
       "Explicit consent is the Art 9 condition",
       DENY},
      {"CriminalOffenceWithoutArt10",
       {},
       [](E&, D& d) { d.add_data_categories(v1::DATA_CATEGORY_CRIMINAL_OFFENCE); },
       "lawful_basis",
       FAIL,
       "Criminal-offence data needs an Art 10",
       DENY},
      {"CriminalOffenceWithArt10",
       {},
       [](E&, D& d) {
         d.add_data_categories(v1::DATA_CATEGORY_CRIMINAL_OFFENCE);
         d.set_criminal_offence_condition(v1::CRIMINAL_OFFENCE_CONDITION_SAFEGUARDING_SCH1_PARA18);
       },
       "lawful_basis",
       PASS,
       "has an Art 10 condition",
       ALLOW},
      {"BasisWithoutAgreement",
       {},
       [](E& e, D&) { e.set_recipient_agency_id("southsea-academy"); },
       "lawful_basis",
       FAIL,
       "cannot be confirmed",
       DENY},

      // openness
      {"Informed",
       {},
       [](E&, D& d) { d.set_informed(true); },
       "openness",
       PASS,
       "were told what is shared",
       ALLOW},
      {"NotInformedWithReason",
       {},
       [](E&, D&) {},
       "openness",
       PASS,
       "Not informed, because: would increase risk",
       ALLOW},
      {"NotInformedWithoutReason",
       {},
       [](E&, D& d) { d.clear_not_informed_reason(); },
       "openness",
       FAIL,
       "no reason is given",
       DENY},

      // consent
      {"NoConsentStatus",
       {},
       [](E&, D& d) { d.clear_consent_status(); },
       "consent",
       FAIL,
       "No consent status",
       DENY},
      {"ConsentGiven",
       {},
       [](E&, D& d) { d.set_consent_status(v1::CONSENT_STATUS_GIVEN); },
       "consent",
       PASS,
       "Consent is given",
       ALLOW},
      {"ConsentOnlyBasisRefused",
       {},
       [](E&, D& d) {
         d.set_lawful_basis(v1::LAWFUL_BASIS_CONSENT);
         d.set_consent_status(v1::CONSENT_STATUS_REFUSED);
       },
       "consent",
       FAIL,
       "Consent is the only Art 6 basis declared but consent is refused",
       DENY},
      {"RefusedAtThreshold4", RulePack::k2024,
       [](E&, D& d) { d.set_consent_status(v1::CONSENT_STATUS_REFUSED); }, "consent", PASS,
       "allowed because the child is at risk (threshold level 4)", ALLOW},
      {"RefusedAtThreshold4", RulePack::k2018,
       [](E&, D& d) { d.set_consent_status(v1::CONSENT_STATUS_REFUSED); }, "consent", PASS,
       "justified by risk of significant harm (threshold level 4)", ALLOW},
      {"RefusedAtThreshold2", RulePack::k2024,
       [](E&, D& d) {
         NoRisk(d);
         d.set_consent_status(v1::CONSENT_STATUS_REFUSED);
       },
       "consent", ADVICE, "an IG officer must confirm the lawful basis", HOLD},
      {"RefusedAtThreshold2", RulePack::k2018,
       [](E&, D& d) {
         NoRisk(d);
         d.set_consent_status(v1::CONSENT_STATUS_REFUSED);
       },
       "consent", ADVICE, "respect the family's wishes where possible", HOLD},
      {"WithdrawnWithS47Gateway",
       {},
       [](E&, D& d) {
         NoRisk(d);
         d.set_consent_status(v1::CONSENT_STATUS_WITHDRAWN);
         d.set_statutory_gateway(v1::STATUTORY_GATEWAY_CHILDREN_ACT_1989_S47);
       },
       "consent",
       PASS,
       "(Children Act 1989 s47 gateway)",
       ALLOW},
      {"NotRequiredForStrategyDiscussion",
       {},
       [](E&, D& d) {
         NoRisk(d);
         d.set_consent_status(v1::CONSENT_STATUS_NOT_REQUIRED);
         d.set_purpose(v1::PURPOSE_STRATEGY_DISCUSSION);
       },
       "consent",
       PASS,
       "(strategy discussion)",
       ALLOW},
      {"NotSoughtAtImmediateUrgency",
       {},
       [](E&, D& d) {
         NoRisk(d);
         d.set_urgency(v1::URGENCY_IMMEDIATE);
       },
       "consent",
       PASS,
       "(immediate urgency)",
       ALLOW},
      {"NotSoughtWithoutReason",
       {},
       [](E&, D& d) { d.clear_consent_not_sought_reason(); },
       "consent",
       FAIL,
       "not sought and no reason is given",
       DENY},
      {"Para18WithoutConsentOrReason",
       {},
       [](E&, D& d) {
         d.add_data_categories(v1::DATA_CATEGORY_HEALTH);
         d.set_special_category_condition(v1::SPECIAL_CATEGORY_CONDITION_SAFEGUARDING_SCH1_PARA18);
         d.set_consent_status(v1::CONSENT_STATUS_REFUSED);
         d.clear_consent_not_sought_reason();
       },
       "consent",
       FAIL,
       "Sch 1 para 18 without consent (consent refused) needs the reason",
       DENY},

      // advice
      {"AdviceNotSought", {}, [](E&, D&) {}, "advice", PASS, "No advice is requested", ALLOW},
      {"AdviceRequested",
       {},
       [](E&, D& d) { d.set_advice_status(v1::ADVICE_STATUS_REQUESTED); },
       "advice",
       ADVICE,
       "Advice was requested. Held until an IG officer decides.",
       HOLD},
      {"AdviceRequestedAtImmediateUrgency",
       {},
       [](E&, D& d) {
         d.set_advice_status(v1::ADVICE_STATUS_REQUESTED);
         d.set_urgency(v1::URGENCY_IMMEDIATE);
       },
       "advice",
       PASS,
       "Flagged for IG review: Advice was requested",
       ALLOW},
      {"AdviceSoughtWithReference",
       {},
       [](E&, D& d) {
         d.set_advice_status(v1::ADVICE_STATUS_SOUGHT);
         d.set_advice_reference("IG-2026-0113");
       },
       "advice",
       PASS,
       "reference is recorded",
       ALLOW},
      {"AdviceSoughtWithoutReference",
       {},
       [](E&, D& d) { d.set_advice_status(v1::ADVICE_STATUS_SOUGHT); },
       "advice",
       FAIL,
       "no advice reference",
       DENY},

      // protect_identities
      {"NoProtectedIdentities",
       {},
       [](E&, D&) {},
       "protect_identities",
       PASS,
       "No protected identities",
       ALLOW},
      {"ProtectedToRecipientNotAllowed", RulePack::k2024,
       [](E&, D& d) { d.add_protected_identities(v1::PROTECTED_IDENTITY_REFERRER); },
       "protect_identities", ADVICE,
       "ISA police-pm v3 does not allow portsmouth-mash to hold protected identities (referrer)",
       HOLD},
      {"ProtectedToRecipientNotAllowed", RulePack::k2018,
       [](E&, D& d) { d.add_protected_identities(v1::PROTECTED_IDENTITY_REFERRER); },
       "protect_identities", PASS, "recorded (referrer); not checked under the 2018 pack", ALLOW},
      {"ProtectedToRecipientAllowed", RulePack::k2024,
       [](E& e, D& d) {
         e.set_recipient_agency_id("hampshire-crt");
         d.add_protected_identities(v1::PROTECTED_IDENTITY_WITNESS);
       },
       "protect_identities", PASS, "allows hampshire-crt to hold protected identities (witness)",
       ALLOW},
      {"ProtectedNotAllowedAtImmediateUrgency", RulePack::k2024,
       [](E&, D& d) {
         d.add_protected_identities(v1::PROTECTED_IDENTITY_REFERRER);
         d.set_urgency(v1::URGENCY_IMMEDIATE);
       },
       "protect_identities", PASS, "Flagged for IG review: ISA police-pm v3 does not allow", ALLOW},

      // necessity_proportionality
      {"WithinAgreement",
       {},
       [](E&, D&) {},
       "necessity_proportionality",
       PASS,
       "ISA police-pm v3 (in force until 2027-12-30 10:00 UTC) covers the share",
       ALLOW},
      {"NoAgreementForPair",
       {},
       [](E& e, D&) { e.set_recipient_agency_id("southsea-academy"); },
       "necessity_proportionality",
       FAIL,
       "No information sharing agreement covers hiow-police to southsea-academy for "
       "safeguarding referral",
       DENY},
      {"NoAgreementForPurpose",
       {},
       [](E&, D& d) { d.set_purpose(v1::PURPOSE_CHILD_IN_NEED_ASSESSMENT); },
       "necessity_proportionality",
       FAIL,
       "for child in need assessment",
       DENY},
      {"KindNotCovered",
       {},
       [](E& e, D&) { e.set_kind(v1::MESSAGE_KIND_INFORMATION_RESPONSE); },
       "necessity_proportionality",
       FAIL,
       "but not information response messages",
       DENY},
      {"IsaExpiredYesterday",
       {},
       [](E& e, D&) { e.set_recipient_agency_id("southampton-mash"); },
       "necessity_proportionality",
       FAIL,
       "ISA police-soton v3 covered hiow-police to southampton-mash for safeguarding referral "
       "but reached its review date on 2026-11-24",
       DENY},
      {"IsaNotYetInForce",
       {},
       [](E& e, D&) { e.set_recipient_agency_id("iow-mash"); },
       "necessity_proportionality",
       FAIL,
       "is not in force until 2026-12-05",
       DENY},
      {"UnknownSender",
       {},
       [](E& e, D&) { e.set_sender_agency_id("nowhere-police"); },
       "necessity_proportionality",
       FAIL,
       "'nowhere-police' is not in the federation",
       DENY},
      {"CategoriesBeyondIsa",
       {},
       [](E&, D& d) {
         d.add_data_categories(v1::DATA_CATEGORY_RELIGION);
         d.add_data_categories(v1::DATA_CATEGORY_DOMESTIC_ABUSE);
         d.set_special_category_condition(v1::SPECIAL_CATEGORY_CONDITION_SAFEGUARDING_SCH1_PARA18);
       },
       "necessity_proportionality",
       FAIL,
       "Categories beyond ISA police-pm v3 for safeguarding referral: domestic abuse, religion.",
       DENY},
      {"UnrecognisedCategory",
       {},
       [](E&, D& d) { d.add_data_categories(static_cast<v1::DataCategory>(99)); },
       "necessity_proportionality",
       FAIL,
       "unrecognised category 99",
       DENY},
      {"FullCaseRecordNotInIsa",
       {},
       [](E&, D& d) { d.add_data_categories(v1::DATA_CATEGORY_FULL_CASE_RECORD); },
       "necessity_proportionality",
       ADVICE,
       "A full case record is not allowed by ISA police-pm v3",
       HOLD},
      {"FullCaseRecordInIsa",
       {},
       [](E& e, D& d) {
         e.set_recipient_agency_id("hampshire-crt");
         d.add_data_categories(v1::DATA_CATEGORY_FULL_CASE_RECORD);
       },
       "necessity_proportionality",
       PASS,
       "ISA police-crt v3 allows a full case record",
       ALLOW},
      {"FullCaseRecordAtImmediateUrgency",
       {},
       [](E&, D& d) {
         d.add_data_categories(v1::DATA_CATEGORY_FULL_CASE_RECORD);
         d.set_urgency(v1::URGENCY_IMMEDIATE);
       },
       "necessity_proportionality",
       PASS,
       "Flagged for IG review: A full case record",
       ALLOW},
      {"ShortJustification",
       {},
       [](E&, D& d) { d.set_necessity_justification("   see notes      \n"); },
       "necessity_proportionality",
       FAIL,
       "at least 20 characters; 9 given",
       DENY},

      // record
      {"RecordComplete", {}, [](E&, D&) {}, "record", PASS, "are recorded", ALLOW},
      {"NoPractitioner",
       {},
       [](E& e, D&) { e.clear_sender_practitioner(); },
       "record",
       FAIL,
       "missing practitioner id, practitioner role.",
       DENY},
      {"NoCategories",
       {},
       [](E&, D& d) { d.clear_data_categories(); },
       "record",
       FAIL,
       "missing data categories",
       DENY},
      {"DeclineWithoutReasons",
       {},
       [](E& e, D&) { e.set_kind(v1::MESSAGE_KIND_DECLINE_TO_SHARE); },
       "record",
       FAIL,
       "must record its reasons",
       DENY},
      {"DeclineWithReasons",
       {},
       [](E& e, D& d) {
         e.set_kind(v1::MESSAGE_KIND_DECLINE_TO_SHARE);
         d.add_decline_reasons(v1::DECLINE_REASON_NOT_NECESSARY);
       },
       "record",
       PASS,
       "records its reasons",
       ALLOW},

      // The decision: FAIL outranks ADVICE.
      {"FailOutranksAdvice",
       {},
       [](E&, D& d) {
         d.set_advice_status(v1::ADVICE_STATUS_REQUESTED);
         d.set_necessity_justification("short");
       },
       "advice",
       ADVICE,
       "Advice was requested. Held until an IG officer decides.",
       DENY},
  };
  return *cases;
}

}  // namespace safeshare::policy::cases
