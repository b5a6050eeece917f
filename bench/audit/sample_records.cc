// Realistic decision records for the audit store benchmark.

#include "bench/audit/sample_records.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace safeshare::gateway {

uint64_t Mix(uint64_t x) {  // splitmix64
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

namespace {

namespace v1 = safeshare::v1;

struct Agency {
  const char* id;
  const char* area;
  v1::PractitionerRole role;
};
constexpr Agency kAgencies[] = {
    {"hiow-police", "hampshire-iow", v1::PRACTITIONER_ROLE_POLICE_OFFICER},
    {"portsmouth-mash", "portsmouth", v1::PRACTITIONER_ROLE_MASH_PRACTITIONER},
    {"southampton-mash", "southampton", v1::PRACTITIONER_ROLE_MASH_PRACTITIONER},
    {"hampshire-mash", "hampshire", v1::PRACTITIONER_ROLE_SOCIAL_WORKER},
    {"iow-mash", "isle-of-wight", v1::PRACTITIONER_ROLE_SOCIAL_WORKER},
    {"solent-nhs", "portsmouth", v1::PRACTITIONER_ROLE_HEALTH_VISITOR},
    {"portsmouth-schools", "portsmouth", v1::PRACTITIONER_ROLE_DESIGNATED_SAFEGUARDING_LEAD},
};
constexpr int kNumAgencies = sizeof(kAgencies) / sizeof(kAgencies[0]);

constexpr const char* kChecks[] = {
    "lawful_basis", "openness",           "consent",
    "advice",       "protect_identities", "necessity_proportionality",
    "record"};
constexpr const char* kRules[] = {"2024 rules 1 & 3", "2024 rule 2", "2024 rule 3", "2024 rule 4",
                                  "2024 rule 5",      "2024 rule 6", "2024 rule 7"};
constexpr const char* kReasons[] = {
    "UK GDPR Art 6(1)(e) public task is allowed by the agreement; DPA 2018 Sch 1 para 18 "
    "conditions are declared for special category and criminal offence data.",
    "The subject was not informed: informing them would increase the risk of harm.",
    "Consent was not sought: seeking it would increase the risk of harm to the child.",
    "Advice was not needed for a level 4 referral under the agreement.",
    "No protected identity is disclosed to the recipient.",
    "The declared categories are within the agreement for this purpose and recipient.",
    "The necessity justification and the decision are recorded.",
};

// A full sharing declaration, as a police referral to a front door carries.
void FillDeclaration(uint64_t h, v1::SharingDeclaration& d) {
  d.set_purpose(v1::PURPOSE_SAFEGUARDING_REFERRAL);
  d.set_lawful_basis(v1::LAWFUL_BASIS_PUBLIC_TASK);
  d.set_special_category_condition(v1::SPECIAL_CATEGORY_CONDITION_SAFEGUARDING_SCH1_PARA18);
  d.set_criminal_offence_condition(v1::CRIMINAL_OFFENCE_CONDITION_SAFEGUARDING_SCH1_PARA18);
  d.set_statutory_gateway(v1::STATUTORY_GATEWAY_CHILDREN_ACT_1989_S17);
  d.set_consent_status(v1::CONSENT_STATUS_NOT_SOUGHT);
  d.set_consent_not_sought_reason(v1::CONSENT_NOT_SOUGHT_REASON_WOULD_INCREASE_RISK);
  d.set_consent_rationale(
      "Parents are the alleged source of harm; seeking consent would place the child at "
      "greater risk.");
  d.set_informed(false);
  d.set_not_informed_reason(static_cast<v1::NotInformedReason>(1));
  d.add_data_categories(v1::DATA_CATEGORY_IDENTITY);
  d.add_data_categories(v1::DATA_CATEGORY_FAMILY_COMPOSITION);
  d.add_data_categories(v1::DATA_CATEGORY_CONCERN_DETAILS);
  d.add_data_categories(v1::DATA_CATEGORY_DOMESTIC_ABUSE);
  d.set_necessity_justification(
      "Police attended a domestic incident at the child's home overnight; the child was "
      "present and has disclosed injuries. Children's social care need the incident details, "
      "household composition and the child's account to decide on a strategy discussion "
      "today. Only the categories needed for that decision are shared.");
  d.set_threshold_level(v1::THRESHOLD_LEVEL_4_CHILDRENS_SOCIAL_CARE);
  d.set_urgency(v1::URGENCY_URGENT);
  d.add_concern_categories(v1::CONCERN_CATEGORY_PHYSICAL_ABUSE);
  d.add_concern_categories(v1::CONCERN_CATEGORY_EMOTIONAL_ABUSE);
  d.set_advice_status(v1::ADVICE_STATUS_NOT_SOUGHT);
  std::string subject;
  for (int i = 0; i < 4; ++i) absl::StrAppend(&subject, absl::StrFormat("%016x", Mix(h + i)));
  d.set_subject_reference(subject);
}

// The policy engine's 7 findings: 90% allowed, 7% held for advice, 3% denied.
void FillDecision(uint64_t h, const Agency& from, const Agency& to, v1::PolicyDecision& decision) {
  const int roll = static_cast<int>((h >> 40) % 100);
  decision.set_decision(roll < 90   ? v1::DECISION_ALLOW
                        : roll < 97 ? v1::DECISION_HOLD_FOR_ADVICE
                                    : v1::DECISION_DENY);
  for (int i = 0; i < 7; ++i) {
    v1::Finding& f = *decision.add_findings();
    f.set_check(kChecks[i]);
    f.set_rule(kRules[i]);
    f.set_outcome(v1::FINDING_OUTCOME_PASS);
    f.set_reason(kReasons[i]);
  }
  if (decision.decision() == v1::DECISION_HOLD_FOR_ADVICE) {
    decision.mutable_findings(3)->set_outcome(v1::FINDING_OUTCOME_ADVICE);
  } else if (decision.decision() == v1::DECISION_DENY) {
    decision.mutable_findings(5)->set_outcome(v1::FINDING_OUTCOME_FAIL);
  }
  decision.set_rule_pack("seven-golden-rules");
  decision.set_rule_pack_version("2024.1");
  decision.set_isa_id(absl::StrCat(from.area, "-", to.area, "-safeguarding-isa"));
  decision.set_isa_version("3");
}

// What DecisionRecord() builds for a Submit: a referral with a full sharing
// declaration and the policy engine's 7 findings. About 1.3 KB serialized.
}  // namespace

v1::AuditRecord MakeRecord(uint64_t n) {
  const uint64_t h = Mix(n);
  const Agency& from = kAgencies[h % kNumAgencies];
  const Agency& to = kAgencies[(h / kNumAgencies + 1 + h % kNumAgencies) % kNumAgencies];
  v1::AuditRecord r;
  r.set_event(v1::AUDIT_EVENT_TYPE_DECISION);
  r.set_message_id(absl::StrFormat("%08x-%04x-4%03x-8%03x-%012x", h >> 32, (h >> 16) & 0xffff,
                                   h & 0xfff, (h >> 12) & 0xfff, Mix(h) & 0xffffffffffffULL));
  r.set_kind(v1::MESSAGE_KIND_REFERRAL);
  r.set_sender_agency_id(from.id);
  r.set_sender_area_id(from.area);
  r.set_recipient_agency_id(to.id);
  r.set_recipient_area_id(to.area);
  r.mutable_sender_practitioner()->set_id(absl::StrFormat("pc-%04d", h % 10000));
  r.mutable_sender_practitioner()->set_role(from.role);
  FillDeclaration(h, *r.mutable_declaration());
  FillDecision(h, from, to, *r.mutable_decision());
  const v1::PolicyDecision& decision = r.decision();

  std::string sha(32, '\0');
  for (int i = 0; i < 4; ++i) {
    const uint64_t w = Mix(h ^ (0x5a5a + i));
    for (int b = 0; b < 8; ++b) sha[i * 8 + b] = static_cast<char>(w >> (8 * b));
  }
  r.set_payload_sha256(sha);
  r.set_payload_size(4096 + h % 60000);
  r.set_actor(absl::StrCat("safeshare://bench/agency/", from.id));
  r.set_state(decision.decision() == v1::DECISION_ALLOW  ? v1::MESSAGE_STATE_SUBMITTED
              : decision.decision() == v1::DECISION_DENY ? v1::MESSAGE_STATE_REFUSED
                                                         : v1::MESSAGE_STATE_HELD);
  return r;
}

}  // namespace safeshare::gateway
