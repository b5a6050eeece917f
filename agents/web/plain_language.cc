#include "agents/web/plain_language.h"

#include <map>

#include "absl/strings/ascii.h"
#include "common/enum_text.h"

namespace safeshare::web {
namespace {

const std::map<std::string, std::string>& Labels() {
  static const auto* labels = new std::map<std::string, std::string>{
      {"MESSAGE_KIND_REFERRAL", "Referral"},
      {"MESSAGE_KIND_INFORMATION_REQUEST", "Request for information"},
      {"MESSAGE_KIND_INFORMATION_RESPONSE", "Response to a request"},
      {"MESSAGE_KIND_DECLINE_TO_SHARE", "Decline to share"},
      {"MESSAGE_KIND_OUTCOME", "Outcome of a referral"},
      {"MESSAGE_KIND_OPERATION_ENCOMPASS", "Operation Encompass notification"},
      {"INVOLVEMENT_PRESENT", "Present in the home, not seeing or hearing it"},
      {"INVOLVEMENT_WITNESSED", "Saw or heard the incident"},
      {"INVOLVEMENT_DIRECTLY_INVOLVED", "Directly involved or injured"},
      {"INVOLVEMENT_NOT_PRESENT", "Not present, but lives in the household"},
      {"PURPOSE_OPERATION_ENCOMPASS",
       "Operation Encompass: a domestic abuse incident the child was involved in"},
      {"PURPOSE_S47_ENQUIRY", "Section 47 enquiry (significant harm)"},
      {"LAWFUL_BASIS_PUBLIC_TASK",
       "Public task: your organisation's statutory functions (UK GDPR Art 6(1)(e))"},
      {"LAWFUL_BASIS_LEGAL_OBLIGATION", "Legal obligation (UK GDPR Art 6(1)(c))"},
      {"LAWFUL_BASIS_VITAL_INTERESTS",
       "Vital interests: to protect someone's life (UK GDPR Art 6(1)(d))"},
      {"LAWFUL_BASIS_CONSENT", "Consent (UK GDPR Art 6(1)(a))"},
      {"LAWFUL_BASIS_RECOGNISED_LEGITIMATE_INTEREST",
       "Recognised legitimate interest: not for public authorities (UK GDPR Art 6(1)(ea))"},
      {"RECOGNISED_LEGITIMATE_INTEREST_CONDITION_SAFEGUARDING_VULNERABLE_INDIVIDUALS",
       "Safeguarding vulnerable individuals (UK GDPR Annex 1)"},
      {"RECOGNISED_LEGITIMATE_INTEREST_CONDITION_PUBLIC_BODY_REQUEST",
       "A public body asked for it for its public task, and said so (UK GDPR Annex 1)"},
      {"CONSISTENT_IDENTIFIER_STATUS_INCLUDED", "The child's NHS number is included"},
      {"CONSISTENT_IDENTIFIER_STATUS_NOT_HELPFUL",
       "Not included: it would not help safeguard the child"},
      {"CONSISTENT_IDENTIFIER_STATUS_MORE_DETRIMENTAL",
       "Not included: including it would be more detrimental to the child"},
      {"CONSISTENT_IDENTIFIER_STATUS_UNKNOWN_UNREASONABLE_DELAY",
       "Not included: not known, and finding it would cause unreasonable delay"},
      {"SPECIAL_CATEGORY_CONDITION_SAFEGUARDING_SCH1_PARA18",
       "Safeguarding children and individuals at risk (DPA 2018 Sch 1 para 18)"},
      {"SPECIAL_CATEGORY_CONDITION_HEALTH_OR_SOCIAL_CARE", "Health or social care (Art 9(2)(h))"},
      {"SPECIAL_CATEGORY_CONDITION_VITAL_INTERESTS", "Vital interests (Art 9(2)(c))"},
      {"SPECIAL_CATEGORY_CONDITION_EXPLICIT_CONSENT", "Explicit consent (Art 9(2)(a))"},
      {"CRIMINAL_OFFENCE_CONDITION_SAFEGUARDING_SCH1_PARA18",
       "Safeguarding children and individuals at risk (DPA 2018 Sch 1 para 18)"},
      {"CRIMINAL_OFFENCE_CONDITION_PREVENTING_CRIME_SCH1_PARA10",
       "Preventing or detecting crime (Sch 1 para 10)"},
      {"CRIMINAL_OFFENCE_CONDITION_VITAL_INTERESTS_SCH1_PARA30", "Vital interests (Sch 1 para 30)"},
      {"CRIMINAL_OFFENCE_CONDITION_CONSENT_SCH1_PARA29", "Consent (Sch 1 para 29)"},
      {"STATUTORY_GATEWAY_NONE", "No specific statutory gateway"},
      {"STATUTORY_GATEWAY_CHILDREN_ACT_1989_S17", "Children Act 1989 s17: child in need"},
      {"STATUTORY_GATEWAY_CHILDREN_ACT_1989_S47",
       "Children Act 1989 s47: enquiry into significant harm"},
      {"STATUTORY_GATEWAY_CHILDREN_ACT_2004_S10",
       "Children Act 2004 s10: co-operation to improve well-being"},
      {"STATUTORY_GATEWAY_CHILDREN_ACT_2004_S11",
       "Children Act 2004 s11: duty to safeguard and promote welfare"},
      {"STATUTORY_GATEWAY_CRIME_AND_DISORDER_ACT_1998_S115", "Crime and Disorder Act 1998 s115"},
      {"STATUTORY_GATEWAY_CHILDREN_ACT_2004_S16LA_DUTY_TO_SHARE",
       "Children Act 2004 s16LA: the duty to share information (from 30 September 2026)"},
      {"STATUTORY_GATEWAY_DOMESTIC_ABUSE_ACT_2021_S49A",
       "Domestic Abuse Act 2021 s49A: the Operation Encompass duty"},
      {"CONSENT_STATUS_GIVEN", "Consent was given"},
      {"CONSENT_STATUS_REFUSED", "Consent was refused"},
      {"CONSENT_STATUS_WITHDRAWN", "Consent was withdrawn"},
      {"CONSENT_STATUS_NOT_SOUGHT", "Consent was not sought"},
      {"CONSENT_STATUS_NOT_REQUIRED", "Consent is not needed: another lawful basis applies"},
      {"DATA_CATEGORY_IDENTITY", "Identity (name, date of birth, NHS number)"},
      {"DATA_CATEGORY_FAMILY_COMPOSITION", "Family members"},
      {"DATA_CATEGORY_CONCERN_DETAILS", "Details of the concern"},
      {"DATA_CATEGORY_CHILDS_VOICE", "The child's voice"},
      {"DATA_CATEGORY_HEALTH", "Health (special category)"},
      {"DATA_CATEGORY_SEXUAL_HEALTH", "Sexual health (special category)"},
      {"DATA_CATEGORY_ETHNICITY", "Ethnicity (special category)"},
      {"DATA_CATEGORY_RELIGION", "Religion (special category)"},
      {"DATA_CATEGORY_SEN_DISABILITY", "SEN or disability (special category)"},
      {"DATA_CATEGORY_CRIMINAL_OFFENCE", "Criminal offences (criminal offence data)"},
      {"DATA_CATEGORY_FULL_CASE_RECORD", "The full case record"},
      {"THRESHOLD_LEVEL_1_UNIVERSAL", "Level 1: universal services"},
      {"THRESHOLD_LEVEL_2_EARLY_HELP", "Level 2: early help"},
      {"THRESHOLD_LEVEL_3_TARGETED_EARLY_HELP", "Level 3: targeted early help"},
      {"THRESHOLD_LEVEL_4_CHILDRENS_SOCIAL_CARE", "Level 4: children's social care"},
      {"URGENCY_IMMEDIATE", "Immediate: a child is at risk now"},
      {"URGENCY_URGENT", "Urgent: today"},
      {"URGENCY_STANDARD", "Standard: by the next working day"},
      {"DECLINE_REASON_MORE_DETRIMENTAL_THAN_DISCLOSING",
       "Sharing would be more detrimental to the child than not (Children Act 2004 s16LA(3))"},
      {"ADVICE_STATUS_REQUESTED", "I am asking an IG officer for advice before this goes"},
  };
  return *labels;
}

std::string Capitalised(std::string s) {
  if (!s.empty()) s[0] = absl::ascii_toupper(s[0]);
  return s;
}

}  // namespace

std::string Label(const google::protobuf::EnumDescriptor* type, int value) {
  const auto* v = type->FindValueByNumber(value);
  if (v == nullptr) return "Not recognised";
  auto it = Labels().find(v->name());
  if (it != Labels().end()) return it->second;
  return Capitalised(EnumText(type, value));
}

std::vector<std::pair<std::string, std::string>> Choices(
    const google::protobuf::EnumDescriptor* type) {
  std::vector<std::pair<std::string, std::string>> out;
  for (int i = 0; i < type->value_count(); ++i) {
    const auto* v = type->value(i);
    if (v->number() == 0) continue;
    out.emplace_back(v->name(), Label(type, v->number()));
  }
  return out;
}

std::string CheckTitle(const std::string& check) {
  static const auto* titles = new std::map<std::string, std::string>{
      {"lawful_basis", "Lawful basis"},
      {"openness", "Openness"},
      {"consent", "Consent"},
      {"advice", "Advice"},
      {"protect_identities", "Protecting identities"},
      {"necessity_proportionality", "Necessary and proportionate"},
      {"record", "A record of the decision"},
  };
  auto it = titles->find(check);
  return it == titles->end() ? check : it->second;
}

std::string CheckWording(const std::string& check) {
  static const auto* words = new std::map<std::string, std::string>{
      {"lawful_basis",
       "Data protection law is not a barrier to sharing; you need a lawful basis, and a "
       "condition for special category or criminal offence data."},
      {"openness",
       "Be open and honest with the child and family about what you share and why, unless "
       "that would put someone at risk or harm an investigation."},
      {"consent",
       "Consent is not needed where a child is at risk; where you do not rely on it, record "
       "why."},
      {"advice", "Seek advice from your information governance lead when you are unsure."},
      {"protect_identities",
       "Protect the identities of people who asked to stay anonymous; share them only where "
       "the recipient may hold them."},
      {"necessity_proportionality",
       "Share only what is necessary, proportionate, relevant, adequate, accurate and timely, "
       "under an agreement that covers it."},
      {"record", "Record every decision, to share or not, and the reasons for it."},
  };
  auto it = words->find(check);
  return it == words->end() ? "" : it->second;
}

}  // namespace safeshare::web
