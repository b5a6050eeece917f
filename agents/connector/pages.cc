#include "agents/connector/pages.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "agents/connector/connector_api.h"
#include "agents/web/assets.h"
#include "agents/web/html.h"
#include "agents/web/plain_language.h"
#include "envelope/content.h"
#include "google/protobuf/util/time_util.h"

namespace safeshare::connector {
namespace {

namespace v1 = safeshare::v1;
using envelope::IsValidNhsNumber;
using google::protobuf::FieldDescriptor;
using web::CheckTitle;
using web::CheckWording;
using web::Choices;
using web::Escape;
using web::Label;
using web::WebRequest;

constexpr char kService[] = "safeshare";

std::string When(const google::protobuf::Timestamp& t) {
  if (t.seconds() == 0 && t.nanos() == 0) return "";
  return absl::FormatTime("%e %b %Y %H:%M UTC", absl::FromUnixSeconds(t.seconds()),
                          absl::UTCTimeZone());
}

std::string AgencyName(Connector* c, const std::string& id) {
  for (const auto& a : c->federation().agencies()) {
    if (a.id() == id) return a.display_name().empty() ? id : a.display_name();
  }
  return id;
}

void SendPage(Connector* c, const WebRequest& r, httplib::Response& res, const std::string& title,
              const std::string& active, const std::string& body, int status = 200) {
  web::PageParts p;
  p.title = title;
  p.service_name = absl::StrCat(kService, ": ", AgencyName(c, c->agency_id()));
  p.nav = {{"/inbox", "Inbox"}, {"/compose", "New referral"}, {"/sent", "Sent"}};
  p.active_href = active;
  p.signed_in_as = r.user.display_name.empty() ? r.user.id : r.user.display_name;
  p.body = body;
  res.status = status;
  res.set_content(web::Page(p), "text/html; charset=utf-8");
}

void ErrorPage(Connector* c, const WebRequest& r, httplib::Response& res, const absl::Status& st) {
  const int status = st.code() == absl::StatusCode::kNotFound      ? 404
                     : st.code() == absl::StatusCode::kUnavailable ? 503
                                                                   : 400;
  SendPage(c, r, res, "There is a problem", "",
           absl::StrCat("<h1 class=\"govuk-heading-l\">",
                        status == 404   ? "Page not found"
                        : status == 503 ? "The gateway cannot be reached"
                                        : "There is a problem",
                        "</h1><p class=\"govuk-body\">", Escape(st.message()), "</p>"),
           status);
}

std::string UrgencyTag(v1::Urgency u) {
  switch (u) {
    case v1::URGENCY_IMMEDIATE:
      return web::Tag("Immediate", "red");
    case v1::URGENCY_URGENT:
      return web::Tag("Urgent", "orange");
    default:
      return web::Tag("Standard", "grey");
  }
}

std::string StateTag(v1::MessageState s) {
  switch (s) {
    case v1::MESSAGE_STATE_SUBMITTED:
      return web::Tag("Waiting for the recipient", "blue");
    case v1::MESSAGE_STATE_FORWARDING:
      return web::Tag("Passing to the other partnership", "blue");
    case v1::MESSAGE_STATE_HELD:
      return web::Tag("Waiting for IG advice", "yellow");
    case v1::MESSAGE_STATE_REFUSED:
      return web::Tag("Refused", "red");
    case v1::MESSAGE_STATE_DELIVERED:
      return web::Tag("Delivered", "light-blue");
    case v1::MESSAGE_STATE_ACKNOWLEDGED:
      return web::Tag("Acknowledged", "green");
    case v1::MESSAGE_STATE_OUTCOME_RECEIVED:
      return web::Tag("Outcome received", "green");
    case v1::MESSAGE_STATE_ESCALATED:
      return web::Tag("Overdue: escalated", "red");
    default:
      return web::Tag(Label(s), "grey");
  }
}

std::string DecisionTag(v1::Decision d) {
  switch (d) {
    case v1::DECISION_ALLOW:
      return web::Tag("Can be shared", "green");
    case v1::DECISION_HOLD_FOR_ADVICE:
      return web::Tag("Needs IG advice first", "yellow");
    default:
      return web::Tag("Cannot be shared", "red");
  }
}

std::string OutcomeTag(v1::FindingOutcome o) {
  switch (o) {
    case v1::FINDING_OUTCOME_PASS:
      return web::Tag("Met", "green");
    case v1::FINDING_OUTCOME_ADVICE:
      return web::Tag("Needs advice", "yellow");
    default:
      return web::Tag("Not met", "red");
  }
}

// The golden-rules panel: the decision, problems with the draft, and each
// rule with its wording, outcome and what the engine found.
std::string FindingsHtml(const v1::DraftCheck& check) {
  const auto& d = check.decision();
  std::string out = absl::StrCat(
      "<h2 class=\"govuk-heading-m\">Golden rules</h2><p class=\"govuk-body\" id=\"decision\">",
      DecisionTag(d.decision()), "</p><p class=\"govuk-body-s\">",
      d.isa_id().empty() ? "No information sharing agreement covers this share."
                         : absl::StrCat("Agreement: ", Escape(d.isa_id()), " version ",
                                        Escape(d.isa_version()), "."),
      "</p>");
  if (!check.problems().empty()) {
    absl::StrAppend(&out,
                    "<div class=\"govuk-warning-text\"><span class=\"govuk-warning-text__icon\" "
                    "aria-hidden=\"true\">!</span><div class=\"govuk-warning-text__text\">"
                    "<span class=\"govuk-visually-hidden\">Warning</span>Fix before sending:"
                    "<ul class=\"govuk-list govuk-list--bullet\">");
    for (const auto& p : check.problems()) absl::StrAppend(&out, "<li>", Escape(p), "</li>");
    absl::StrAppend(&out, "</ul></div></div>");
  }
  absl::StrAppend(&out, "<ul class=\"govuk-list\" id=\"findings-list\">");
  for (const auto& f : d.findings()) {
    absl::StrAppend(&out, "<li class=\"safeshare-finding\" data-check=\"", Escape(f.check()),
                    "\" data-outcome=\"", Escape(Label(f.outcome())),
                    "\"><h3 class=\"govuk-heading-s\">", Escape(CheckTitle(f.check())), " ",
                    OutcomeTag(f.outcome()), "</h3><p class=\"govuk-body-s\">",
                    Escape(CheckWording(f.check())),
                    " <span "
                    "class=\"govuk-hint\">(",
                    Escape(f.rule()), ")</span></p>");
    if (f.outcome() != v1::FINDING_OUTCOME_PASS) {
      absl::StrAppend(&out, "<p class=\"govuk-body-s safeshare-reason\">", Escape(f.reason()),
                      "</p>");
    }
    absl::StrAppend(&out, "</li>");
  }
  return out + "</ul>";
}

// ---- compose: the form and what it becomes ----

std::string Param(const httplib::Request& req, const std::string& name) {
  return req.has_param(name.c_str()) ? req.get_param_value(name.c_str()) : "";
}

std::vector<std::string> Params(const httplib::Request& req, const std::string& name) {
  std::vector<std::string> out;
  const size_t n = req.get_param_value_count(name.c_str());
  for (size_t i = 0; i < n; ++i) out.push_back(req.get_param_value(name.c_str(), i));
  return out;
}

// The declaration's fields from "declaration.<field>" form values, by
// reflection: enums by value name, repeated enums as several values,
// booleans as yes/no, text as typed.
void FillDeclaration(const httplib::Request& req, v1::SharingDeclaration* d) {
  const auto* desc = d->GetDescriptor();
  const auto* refl = d->GetReflection();
  for (int i = 0; i < desc->field_count(); ++i) {
    const FieldDescriptor* f = desc->field(i);
    const std::string name = "declaration." + f->name();
    if (f->is_repeated() && f->type() == FieldDescriptor::TYPE_ENUM) {
      for (const auto& v : Params(req, name)) {
        if (const auto* ev = f->enum_type()->FindValueByName(v)) refl->AddEnum(d, f, ev);
      }
      continue;
    }
    const std::string v = Param(req, name);
    if (v.empty() || f->is_repeated()) continue;
    switch (f->type()) {
      case FieldDescriptor::TYPE_ENUM:
        if (const auto* ev = f->enum_type()->FindValueByName(v)) refl->SetEnum(d, f, ev);
        break;
      case FieldDescriptor::TYPE_BOOL:
        refl->SetBool(d, f, v == "yes");
        break;
      case FieldDescriptor::TYPE_STRING:
        refl->SetString(d, f, v);
        break;
      default:
        break;
    }
  }
}

void FillChild(const httplib::Request& req, v1::PersonIdentity* child) {
  child->set_given_names(Param(req, "child.given_names"));
  child->set_family_name(Param(req, "child.family_name"));
  child->set_date_of_birth(Param(req, "child.date_of_birth"));
  child->set_nhs_number(Param(req, "child.nhs_number"));
}

// A record with only the parts that were written: an empty field declares
// nothing.
void FillRecord(const httplib::Request& req, v1::CategorisedRecord* r) {
  v1::PersonIdentity child;
  FillChild(req, &child);
  if (child.ByteSizeLong() > 0) *r->mutable_child() = child;
  if (!Param(req, "record.address").empty()) {
    r->mutable_contact()->set_address(Param(req, "record.address"));
  }
  r->set_concern_details(Param(req, "record.concern_details"));
  r->set_childs_voice(Param(req, "record.childs_voice"));
  r->set_education(Param(req, "record.education"));
  r->set_health(Param(req, "record.health"));
  r->set_social_care_history(Param(req, "record.social_care_history"));
}

v1::Draft FormDraft(const httplib::Request& req) {
  v1::Draft d;
  v1::MessageKind kind = v1::MESSAGE_KIND_REFERRAL;
  v1::MessageKind_Parse(Param(req, "kind"), &kind);
  d.set_kind(kind);
  d.set_recipient_agency_id(Param(req, "recipient_agency_id"));
  d.set_in_reply_to(Param(req, "in_reply_to"));
  FillDeclaration(req, d.mutable_declaration());
  auto* c = d.mutable_content();
  switch (kind) {
    case v1::MESSAGE_KIND_INFORMATION_REQUEST: {
      auto* q = c->mutable_information_request();
      FillChild(req, q->mutable_child());
      q->set_questions(Param(req, "request.questions"));
      break;
    }
    case v1::MESSAGE_KIND_INFORMATION_RESPONSE:
      FillRecord(req, c->mutable_information_response()->mutable_record());
      break;
    case v1::MESSAGE_KIND_DECLINE_TO_SHARE:
      c->mutable_decline()->set_explanation(Param(req, "decline.explanation"));
      break;
    case v1::MESSAGE_KIND_OUTCOME:
      c->mutable_outcome()->set_summary(Param(req, "outcome.summary"));
      break;
    default:
      FillRecord(req, c->mutable_referral()->mutable_record());
  }
  return d;
}

std::string EnumValue(const google::protobuf::Message& m, const std::string& field) {
  const auto* f = m.GetDescriptor()->FindFieldByName(field);
  const int v = m.GetReflection()->GetEnumValue(m, f);
  return v == 0 ? "" : f->enum_type()->FindValueByNumber(v)->name();
}

std::vector<std::string> EnumValues(const google::protobuf::Message& m, const std::string& field) {
  const auto* f = m.GetDescriptor()->FindFieldByName(field);
  std::vector<std::string> out;
  for (int i = 0; i < m.GetReflection()->FieldSize(m, f); ++i) {
    out.push_back(m.GetReflection()->GetRepeatedEnum(m, f, i)->name());
  }
  return out;
}

template <typename E>
std::vector<web::Choice> WithNone(const std::string& none) {
  std::vector<web::Choice> c = {{"", none}};
  for (auto& x : Choices<E>()) c.push_back(std::move(x));
  return c;
}

std::string ComposeForm(Connector* c, const WebRequest& r, const v1::Draft& d,
                        const v1::DraftCheck& check,
                        const std::vector<std::pair<std::string, std::string>>& errors) {
  const auto& decl = d.declaration();
  const std::string kind = v1::MessageKind_Name(d.kind());
  std::vector<web::Choice> agencies = {{"", "Choose an agency"}};
  for (const auto& a : c->federation().agencies()) {
    if (a.id() == c->agency_id()) continue;
    agencies.emplace_back(a.id(), a.display_name().empty() ? a.id() : a.display_name());
  }
  auto error_for = [&](const std::string& field) {
    for (const auto& [f, m] : errors) {
      if (f == field) return m;
    }
    return std::string();
  };
  std::string kinds_nav;
  for (v1::MessageKind k : {v1::MESSAGE_KIND_REFERRAL, v1::MESSAGE_KIND_INFORMATION_REQUEST}) {
    if (k != d.kind()) {
      absl::StrAppend(&kinds_nav,
                      "<a class=\"govuk-link\" href=\"/compose?kind=", v1::MessageKind_Name(k),
                      "\">", Escape(Label(k)), "</a> ");
    }
  }
  std::string f = absl::StrCat(
      web::ErrorSummary(errors), "<h1 class=\"govuk-heading-l\">", Escape(Label(d.kind())), "</h1>",
      d.in_reply_to().empty()
          ? absl::StrCat("<p class=\"govuk-body\">Or send a ", kinds_nav, "</p>")
          : absl::StrCat(
                "<p class=\"govuk-body\">In reply to <a class=\"govuk-link\" href=\"/inbox/",
                Escape(d.in_reply_to()), "\">", Escape(d.in_reply_to()), "</a></p>"),
      "<div class=\"govuk-grid-row\"><div class=\"govuk-grid-column-two-thirds\">"
      "<form id=\"compose\" method=\"post\" action=\"/compose\" novalidate "
      "data-check-url=\"/compose/check\">",
      web::CsrfField(r.csrf_token), "<input type=\"hidden\" name=\"kind\" value=\"", kind, "\">",
      "<input type=\"hidden\" name=\"in_reply_to\" value=\"", Escape(d.in_reply_to()), "\">",
      web::Select("recipient_agency_id", "Send to", "", agencies, d.recipient_agency_id(),
                  error_for("recipient_agency_id")),
      web::Select("declaration.purpose", "Purpose", "Why you are sharing",
                  WithNone<v1::Purpose>("Choose a purpose"), EnumValue(decl, "purpose")),
      web::Checkboxes("declaration.data_categories", "What you are sharing",
                      "Tick each kind of information in the message, and only those",
                      Choices<v1::DataCategory>(), EnumValues(decl, "data_categories")),
      web::Radios("declaration.lawful_basis", "Lawful basis", "", Choices<v1::LawfulBasis>(),
                  EnumValue(decl, "lawful_basis")),
      web::Select("declaration.legitimate_interest_condition",
                  "If a recognised legitimate interest, its condition",
                  "Only for organisations that are not public authorities",
                  WithNone<v1::RecognisedLegitimateInterestCondition>("Not applicable"),
                  EnumValue(decl, "legitimate_interest_condition")),
      web::Select("declaration.special_category_condition",
                  "Condition for special category data (health, SEN, ethnicity, religion)",
                  "Needed when you share any of those",
                  WithNone<v1::SpecialCategoryCondition>("None"),
                  EnumValue(decl, "special_category_condition")),
      web::Select("declaration.criminal_offence_condition", "Condition for criminal offence data",
                  "", WithNone<v1::CriminalOffenceCondition>("None"),
                  EnumValue(decl, "criminal_offence_condition")),
      web::Select("declaration.statutory_gateway", "Statutory gateway", "",
                  WithNone<v1::StatutoryGateway>("Choose one"),
                  EnumValue(decl, "statutory_gateway")),
      web::Radios("declaration.consent_status", "Consent", "", Choices<v1::ConsentStatus>(),
                  EnumValue(decl, "consent_status")),
      web::Select("declaration.consent_not_sought_reason", "If consent was not sought, why", "",
                  WithNone<v1::ConsentNotSoughtReason>("Not applicable"),
                  EnumValue(decl, "consent_not_sought_reason")),
      web::Textarea("declaration.consent_rationale", "What was said about consent", "",
                    decl.consent_rationale()),
      web::Radios(
          "declaration.informed", "Does the family know you are sharing this?", "",
          {{"yes", "Yes"}, {"no", "No"}},
          decl.informed() ? "yes" : (Param(r.http, "declaration.informed") == "no" ? "no" : "")),
      web::Select("declaration.not_informed_reason", "If not, why not", "",
                  WithNone<v1::NotInformedReason>("Not applicable"),
                  EnumValue(decl, "not_informed_reason")),
      web::Select("declaration.threshold_level", "Threshold", "",
                  WithNone<v1::ThresholdLevel>("Choose a level"),
                  EnumValue(decl, "threshold_level")),
      web::Radios("declaration.urgency", "Urgency", "", Choices<v1::Urgency>(),
                  EnumValue(decl, "urgency")),
      web::Select("declaration.consistent_identifier",
                  "The child's NHS number (the consistent identifier)",
                  "Include it below, or say why not (Children Act 2004 as amended in 2026)",
                  WithNone<v1::ConsistentIdentifierStatus>("Not stated"),
                  EnumValue(decl, "consistent_identifier")),
      web::Checkboxes("declaration.concern_categories", "Concerns", "",
                      Choices<v1::ConcernCategory>(), EnumValues(decl, "concern_categories")),
      web::Checkboxes("declaration.protected_identities", "Identities to protect",
                      "People in the message who must not be identified to the family",
                      Choices<v1::ProtectedIdentity>(), EnumValues(decl, "protected_identities")),
      web::Radios("declaration.advice_status", "Advice", "", Choices<v1::AdviceStatus>(),
                  EnumValue(decl, "advice_status")),
      web::Textarea("declaration.necessity_justification", "Why sharing this is necessary",
                    "Specific to this child: what the recipient needs it for",
                    decl.necessity_justification()),
      d.kind() == v1::MESSAGE_KIND_OUTCOME
          ? web::Select("declaration.outcome_decision", "What was decided", "",
                        WithNone<v1::OutcomeDecision>("Choose one"),
                        EnumValue(decl, "outcome_decision"))
          : "",
      d.kind() == v1::MESSAGE_KIND_DECLINE_TO_SHARE
          ? web::Checkboxes("declaration.decline_reasons", "Why you are not sharing", "",
                            Choices<v1::DeclineReason>(), EnumValues(decl, "decline_reasons"))
          : "");
  const auto& content = d.content();
  const v1::CategorisedRecord& rec = d.kind() == v1::MESSAGE_KIND_INFORMATION_RESPONSE
                                         ? content.information_response().record()
                                         : content.referral().record();
  const v1::PersonIdentity& child = d.kind() == v1::MESSAGE_KIND_INFORMATION_REQUEST
                                        ? content.information_request().child()
                                        : rec.child();
  absl::StrAppend(
      &f, "<h2 class=\"govuk-heading-m\">The message</h2>",
      "<p class=\"govuk-body-s\">Sealed to the recipient: the gateway never sees it.</p>");
  if (d.kind() == v1::MESSAGE_KIND_DECLINE_TO_SHARE) {
    absl::StrAppend(&f, web::Textarea("decline.explanation", "Explanation", "",
                                      content.decline().explanation()));
  } else if (d.kind() == v1::MESSAGE_KIND_OUTCOME) {
    absl::StrAppend(
        &f, web::Textarea("outcome.summary", "What happens next", "", content.outcome().summary()));
  } else {
    absl::StrAppend(
        &f, web::TextInput("child.given_names", "Child's given names", "", child.given_names()),
        web::TextInput("child.family_name", "Child's family name", "", child.family_name()),
        web::TextInput("child.date_of_birth", "Date of birth", "For example, 2015-09-02",
                       child.date_of_birth(), "", "govuk-input--width-10"),
        web::TextInput("child.nhs_number", "NHS number", "10 digits, for example 943 476 5919",
                       child.nhs_number(), error_for("child.nhs_number"), "govuk-input--width-10"));
    if (d.kind() == v1::MESSAGE_KIND_INFORMATION_REQUEST) {
      absl::StrAppend(&f, web::Textarea("request.questions", "What you need to know", "",
                                        content.information_request().questions()));
    } else {
      absl::StrAppend(
          &f, web::Textarea("record.address", "Address", "", rec.contact().address()),
          web::Textarea("record.concern_details", "The concern", "", rec.concern_details()),
          web::Textarea("record.childs_voice", "What the child said", "", rec.childs_voice()),
          web::Textarea("record.education", "Education", "", rec.education()),
          web::Textarea("record.health", "Health", "", rec.health()),
          web::Textarea("record.social_care_history", "Social care history", "",
                        rec.social_care_history()));
    }
  }
  absl::StrAppend(&f,
                  "<div class=\"govuk-button-group\"><button type=\"submit\" name=\"action\" "
                  "value=\"send\" class=\"govuk-button\" data-module=\"govuk-button\">Send</button>"
                  "<button type=\"submit\" name=\"action\" value=\"check\" class=\"govuk-button "
                  "govuk-button--secondary\" data-module=\"govuk-button\">Check against the golden "
                  "rules</button></div></form></div>"
                  "<aside class=\"govuk-grid-column-one-third\" aria-label=\"Golden rules\">"
                  "<div id=\"findings\" aria-live=\"polite\">",
                  FindingsHtml(check), "</div></aside></div>");
  return f;
}

// Form errors the page shows by its fields (the rest is in the findings).
std::vector<std::pair<std::string, std::string>> FormErrors(const v1::Draft& d) {
  std::vector<std::pair<std::string, std::string>> errors;
  if (d.recipient_agency_id().empty()) {
    errors.emplace_back("recipient_agency_id", "Choose the agency to send to");
  }
  const auto& child = d.kind() == v1::MESSAGE_KIND_INFORMATION_REQUEST
                          ? d.content().information_request().child()
                      : d.kind() == v1::MESSAGE_KIND_INFORMATION_RESPONSE
                          ? d.content().information_response().record().child()
                          : d.content().referral().record().child();
  if (!child.nhs_number().empty() && !IsValidNhsNumber(child.nhs_number())) {
    errors.emplace_back("child.nhs_number",
                        "Enter a valid NHS number: 10 digits, the last a check digit");
  }
  return errors;
}

void ComposePage(Connector* c, const WebRequest& r, httplib::Response& res, const v1::Draft& d,
                 const std::vector<std::pair<std::string, std::string>>& errors, int status = 200) {
  auto who = PractitionerOf(r.user);
  if (!who.ok()) return ErrorPage(c, r, res, who.status());
  auto check = c->Check(*who, d);
  if (!check.ok()) return ErrorPage(c, r, res, check.status());
  SendPage(c, r, res, Label(d.kind()), "/compose", ComposeForm(c, r, d, *check, errors), status);
}

// ---- inbox ----

// The acknowledgement deadline, red once it has passed; nothing once acknowledged.
std::string DeadlineHtml(const v1::InboxMessage& m) {
  if (m.has_acknowledged_time() || !m.has_acknowledge_deadline()) return "";
  const bool overdue = absl::FromUnixSeconds(m.acknowledge_deadline().seconds()) < absl::Now();
  return absl::StrCat(overdue ? web::Tag("Overdue", "red") + " " : "",
                      When(m.acknowledge_deadline()));
}

std::string InboxHtml(Connector* c) {
  std::string out;
  auto escalations = c->Escalations();
  if (escalations.ok() && escalations->escalations_size() > 0) {
    absl::StrAppend(
        &out,
        "<div class=\"govuk-notification-banner\" role=\"region\" "
        "aria-labelledby=\"escalations-title\" data-module=\"govuk-notification-banner\">"
        "<div class=\"govuk-notification-banner__header\"><h2 class=\""
        "govuk-notification-banner__title\" id=\"escalations-title\">Overdue</h2></div>"
        "<div class=\"govuk-notification-banner__content\"><ul class=\"govuk-list\">");
    for (const auto& e : escalations->escalations()) {
      absl::StrAppend(&out, "<li>", Escape(Label(e.kind())), " ", Escape(e.message_id()), " from ",
                      Escape(AgencyName(c, e.sender_agency_id())), ": ", Escape(Label(e.reason())),
                      " (deadline ", When(e.acknowledge_deadline()), ")</li>");
    }
    absl::StrAppend(&out, "</ul></div></div>");
  }
  auto page = c->Inbox("", 200);
  if (!page.ok() || page->messages_size() == 0) {
    return out + "<p class=\"govuk-body\" id=\"inbox-empty\">Nothing has arrived yet.</p>";
  }
  absl::StrAppend(&out,
                  "<table class=\"govuk-table\" id=\"inbox-table\"><caption class=\""
                  "govuk-table__caption govuk-table__caption--m\">Received</caption><thead "
                  "class=\"govuk-table__head\"><tr class=\"govuk-table__row\">"
                  "<th scope=\"col\" class=\"govuk-table__header\">From</th>"
                  "<th scope=\"col\" class=\"govuk-table__header\">What</th>"
                  "<th scope=\"col\" class=\"govuk-table__header\">Urgency</th>"
                  "<th scope=\"col\" class=\"govuk-table__header\">Received</th>"
                  "<th scope=\"col\" class=\"govuk-table__header\">Acknowledge by</th>"
                  "<th scope=\"col\" class=\"govuk-table__header\">Status</th></tr></thead>"
                  "<tbody class=\"govuk-table__body\">");
  for (const auto& m : page->messages()) {
    absl::StrAppend(
        &out, "<tr class=\"govuk-table__row\" data-message-id=\"", Escape(m.message_id()), "\">",
        "<td class=\"govuk-table__cell\">", Escape(AgencyName(c, m.header().sender_agency_id())),
        "</td><td class=\"govuk-table__cell\"><a class=\"govuk-link\" href=\"/inbox/",
        Escape(m.message_id()), "\">", Escape(Label(m.header().kind())), " ",
        Escape(m.message_id()), "</a></td><td class=\"govuk-table__cell\">",
        UrgencyTag(m.header().declaration().urgency()), "</td><td class=\"govuk-table__cell\">",
        When(m.received_time()), "</td><td class=\"govuk-table__cell\">", DeadlineHtml(m),
        "</td><td class=\"govuk-table__cell\">",
        m.has_acknowledged_time() ? web::Tag("Acknowledged", "green") : web::Tag("New", "blue"),
        "</td></tr>");
  }
  return out + "</tbody></table>";
}

std::string ContentRows(const v1::InboxMessage& m) {
  std::vector<std::pair<std::string, std::string>> rows;
  auto add = [&](const std::string& k, const std::string& v) {
    if (!v.empty()) rows.emplace_back(k, Escape(v));
  };
  const auto& c = m.content();
  const v1::CategorisedRecord& rec =
      c.has_information_response() ? c.information_response().record() : c.referral().record();
  const v1::PersonIdentity& child = c.has_information_request()   ? c.information_request().child()
                                    : c.has_operation_encompass() ? c.operation_encompass().child()
                                                                  : rec.child();
  add("Child", absl::StrCat(child.given_names(), " ", child.family_name()));
  add("Date of birth", child.date_of_birth());
  add("NHS number", child.nhs_number());
  add("Address", rec.contact().address());
  add("The concern", rec.concern_details());
  add("What the child said", rec.childs_voice());
  add("Education", rec.education());
  add("Health", rec.health());
  add("Social care history", rec.social_care_history());
  add("Questions", c.information_request().questions());
  add("Explanation", c.decline().explanation());
  add("What happens next", c.outcome().summary());
  if (c.has_operation_encompass()) {
    const auto& oe = c.operation_encompass();
    // Local time as the police wrote it, read as a person would say it.
    absl::CivilMinute when;
    add("When the incident happened",
        absl::ParseCivilTime(oe.incident_time(), &when)
            ? absl::FormatTime("%e %b %Y, %H:%M", absl::FromCivil(when, absl::UTCTimeZone()),
                               absl::UTCTimeZone())
            : oe.incident_time());
    if (oe.involvement() != v1::OperationEncompassContent::INVOLVEMENT_UNSPECIFIED) {
      add("The child was", Label(oe.involvement()));
    }
    add("What happened", oe.incident_summary());
    add("What the police did", oe.police_action());
    add("Police reference", oe.police_reference());
    add("Police contact", oe.officer_contact());
  }
  if (rows.empty()) {
    return m.has_content()
               ? "<p class=\"govuk-body\">The message has no content beyond its declaration.</p>"
               : "<p class=\"govuk-body\">The content was purged at the end of its "
                 "retention period; the record of the share remains.</p>";
  }
  return web::SummaryList(rows);
}

std::string MessageHtml(Connector* c, const WebRequest& r, const v1::InboxMessage& m) {
  const auto& h = m.header();
  const auto& d = h.declaration();
  std::vector<std::string> categories, concerns, protected_ids;
  for (int v : d.data_categories())
    categories.push_back(Escape(Label(static_cast<v1::DataCategory>(v))));
  for (int v : d.concern_categories())
    concerns.push_back(Escape(Label(static_cast<v1::ConcernCategory>(v))));
  for (int v : d.protected_identities()) {
    protected_ids.push_back(Escape(Label(static_cast<v1::ProtectedIdentity>(v))));
  }
  std::string out = absl::StrCat(
      "<span class=\"govuk-caption-l\">From ", Escape(AgencyName(c, h.sender_agency_id())),
      "</span><h1 class=\"govuk-heading-l\">", Escape(Label(h.kind())), " ", Escape(m.message_id()),
      "</h1><p class=\"govuk-body\">", UrgencyTag(d.urgency()), " ",
      m.has_acknowledged_time()
          ? web::Tag(absl::StrCat("Acknowledged by ", m.acknowledged_by()), "green")
          : web::Tag("Not yet acknowledged", "blue"),
      "</p>",
      h.team_id().empty()
          ? ""
          : absl::StrCat("<p class=\"govuk-body\" id=\"team\">Sent to the team ",
                         Escape(h.team_id()), ": each member has its own copy (team message ",
                         Escape(h.team_message_id()), ").</p>"));
  if (!protected_ids.empty()) {
    absl::StrAppend(&out,
                    "<div class=\"govuk-warning-text\" id=\"protected-identities\"><span "
                    "class=\"govuk-warning-text__icon\" aria-hidden=\"true\">!</span><strong "
                    "class=\"govuk-warning-text__text\"><span class=\"govuk-visually-hidden\">"
                    "Warning</span>Protect these identities: do not reveal them to the family: ",
                    absl::StrJoin(protected_ids, ", "), ".</strong></div>");
  }
  absl::StrAppend(&out, "<h2 class=\"govuk-heading-m\">The message</h2>", ContentRows(m),
                  "<h2 class=\"govuk-heading-m\">Why it was shared</h2>",
                  web::SummaryList({
                      {"Sent by", Escape(absl::StrCat(h.sender_practitioner().id(), " (",
                                                      Label(h.sender_practitioner().role()), ")"))},
                      {"Purpose", Escape(Label(d.purpose()))},
                      {"Lawful basis", Escape(Label(d.lawful_basis()))},
                      {"Consent", Escape(Label(d.consent_status()))},
                      {"Information shared", absl::StrJoin(categories, "<br>")},
                      {"Concerns", absl::StrJoin(concerns, "<br>")},
                      {"Why it is necessary", Escape(d.necessity_justification())},
                      {"Accepted by the gateway", When(m.accepted_time())},
                      {"Kept here until", When(m.purge_time())},
                  }));
  if (!m.has_acknowledged_time()) {
    absl::StrAppend(&out, "<form method=\"post\" action=\"/inbox/", Escape(m.message_id()),
                    "/acknowledge\">", web::CsrfField(r.csrf_token),
                    "<button type=\"submit\" class=\"govuk-button\" data-module=\"govuk-button\">"
                    "Acknowledge</button></form>");
  }
  auto reply = [&](v1::MessageKind k, const std::string& text) {
    return absl::StrCat("<a class=\"govuk-button govuk-button--secondary\" href=\"/compose?kind=",
                        v1::MessageKind_Name(k), "&amp;in_reply_to=", Escape(m.message_id()), "\">",
                        text, "</a>");
  };
  absl::StrAppend(&out, "<div class=\"govuk-button-group\">");
  if (h.kind() == v1::MESSAGE_KIND_REFERRAL) {
    absl::StrAppend(&out, reply(v1::MESSAGE_KIND_OUTCOME, "Send the outcome"));
  } else if (h.kind() == v1::MESSAGE_KIND_INFORMATION_REQUEST) {
    absl::StrAppend(&out, reply(v1::MESSAGE_KIND_INFORMATION_RESPONSE, "Respond"),
                    reply(v1::MESSAGE_KIND_DECLINE_TO_SHARE, "Decline with reasons"));
  }
  return out + "</div>";
}

// ---- sent ----

std::string SentHtml(Connector* c) {
  auto page = c->Sent("", 200);
  if (!page.ok() || page->messages_size() == 0) {
    return "<p class=\"govuk-body\">Nothing sent yet.</p>";
  }
  std::string out =
      "<table class=\"govuk-table\" id=\"sent-table\"><caption class=\"govuk-table__caption "
      "govuk-table__caption--m\">Sent</caption><thead class=\"govuk-table__head\"><tr "
      "class=\"govuk-table__row\"><th scope=\"col\" class=\"govuk-table__header\">To</th>"
      "<th scope=\"col\" class=\"govuk-table__header\">What</th><th scope=\"col\" "
      "class=\"govuk-table__header\">Sent</th><th scope=\"col\" "
      "class=\"govuk-table__header\">State</th></tr></thead><tbody class=\"govuk-table__body\">";
  for (const auto& m : page->messages()) {
    std::string state = m.send_state() == v1::SEND_STATE_QUEUED
                            ? web::Tag("Queued: will retry", "grey")
                        : m.send_state() == v1::SEND_STATE_FAILED ? web::Tag("Not sent", "red")
                                                                  : StateTag(m.state());
    absl::StrAppend(&out, "<tr class=\"govuk-table__row\"><td class=\"govuk-table__cell\">",
                    Escape(AgencyName(c, m.recipient_agency_id())),
                    "</td><td class=\"govuk-table__cell\"><a class=\"govuk-link\" href=\"/sent/",
                    Escape(m.message_id()), "\">", Escape(Label(m.kind())), " ",
                    Escape(m.message_id()), "</a></td><td class=\"govuk-table__cell\">",
                    When(m.created_time()), "</td><td class=\"govuk-table__cell\">", state,
                    "</td></tr>");
  }
  return out + "</tbody></table>";
}

std::string SentMessageHtml(Connector* c, const v1::SentMessage& m) {
  std::string out = absl::StrCat("<span class=\"govuk-caption-l\">To ",
                                 Escape(AgencyName(c, m.recipient_agency_id())),
                                 "</span><h1 class=\"govuk-heading-l\">", Escape(Label(m.kind())),
                                 " ", Escape(m.message_id()), "</h1>");
  if (m.send_state() == v1::SEND_STATE_QUEUED) {
    return out + "<p class=\"govuk-body\" id=\"send-state\">" + web::Tag("Queued", "grey") +
           " The gateway could not be reached. The message is kept here and sent again, "
           "unchanged, until the gateway takes it.</p>";
  }
  if (m.send_state() == v1::SEND_STATE_FAILED) {
    return out + "<p class=\"govuk-body\" id=\"send-state\">" + web::Tag("Not sent", "red") + " " +
           Escape(m.error()) + "</p>";
  }
  auto status = c->Status(m.message_id());
  const v1::MessageState state = status.ok() ? status->status().state() : m.receipt().state();
  absl::StrAppend(&out, "<p class=\"govuk-body\" id=\"send-state\">", StateTag(state), "</p>");
  if (state == v1::MESSAGE_STATE_HELD) {
    absl::StrAppend(&out,
                    "<p class=\"govuk-body\">An information governance officer must approve "
                    "this share before it reaches ",
                    Escape(AgencyName(c, m.recipient_agency_id())),
                    ". You will see their decision here.</p>");
  }
  absl::StrAppend(
      &out,
      web::SummaryList({
          {"Agreement", m.receipt().decision().isa_id().empty()
                            ? "None in force"
                            : Escape(absl::StrCat(m.receipt().decision().isa_id(), " version ",
                                                  m.receipt().decision().isa_version()))},
          {"Rules", Escape(m.receipt().decision().rule_pack())},
          {"Audit receipt",
           m.receipt_verified() ? "Verified: the decision is in the partnership's signed audit log"
                                : "Not verified"},
      }));
  if (status.ok() && status->status().history_size() > 0) {
    absl::StrAppend(
        &out,
        "<h2 class=\"govuk-heading-m\">Timeline</h2><ol class=\"govuk-list\" id=\"timeline\">");
    for (const auto& h : status->status().history()) {
      absl::StrAppend(&out, "<li>", When(h.time()), ": ", StateTag(h.state()), "</li>");
    }
    absl::StrAppend(&out, "</ol>");
  }
  v1::DraftCheck check;
  *check.mutable_decision() = m.receipt().decision();
  return out + "<div>" + FindingsHtml(check) + "</div>";
}

}  // namespace

void AddPageRoutes(Connector* c, web::WebServer* server, const std::string& assets_dir) {
  web::AddAssetRoutes(server, assets_dir);

  server->Get("/", [](const WebRequest&, httplib::Response& res) { res.set_redirect("/inbox"); });
  server->Get("/inbox", [c](const WebRequest& r, httplib::Response& res) {
    SendPage(c, r, res, "Inbox", "/inbox",
             absl::StrCat("<h1 class=\"govuk-heading-l\">Inbox</h1><div id=\"live\" data-live>",
                          InboxHtml(c), "</div>"));
  });
  server->Get("/inbox/{message_id}", [c](const WebRequest& r, httplib::Response& res) {
    auto m = c->InboxMessage(r.path.at("message_id"));
    if (!m.ok()) return ErrorPage(c, r, res, m.status());
    SendPage(c, r, res, Label(m->header().kind()), "/inbox", MessageHtml(c, r, *m));
  });
  server->Post("/inbox/{message_id}/acknowledge", [c](const WebRequest& r, httplib::Response& res) {
    auto who = PractitionerOf(r.user);
    if (!who.ok()) return ErrorPage(c, r, res, who.status());
    auto m = c->Acknowledge(*who, r.path.at("message_id"));
    if (!m.ok()) return ErrorPage(c, r, res, m.status());
    res.set_redirect("/inbox/" + m->message_id(), 303);
  });
  server->Get("/compose", [c](const WebRequest& r, httplib::Response& res) {
    v1::Draft d;
    v1::MessageKind kind = v1::MESSAGE_KIND_REFERRAL;
    v1::MessageKind_Parse(Param(r.http, "kind"), &kind);
    d.set_kind(kind);
    d.set_in_reply_to(Param(r.http, "in_reply_to"));
    if (!d.in_reply_to().empty()) {
      // A reply goes back to the sender, for the purpose a reply has.
      auto original = c->InboxMessage(d.in_reply_to());
      if (original.ok()) d.set_recipient_agency_id(original->header().sender_agency_id());
      d.mutable_declaration()->set_purpose(kind == v1::MESSAGE_KIND_OUTCOME
                                               ? v1::PURPOSE_OUTCOME_FEEDBACK
                                               : v1::PURPOSE_RESPONSE_TO_REQUEST);
    }
    ComposePage(c, r, res, d, {});
  });
  server->Post("/compose/check", [c](const WebRequest& r, httplib::Response& res) {
    auto who = PractitionerOf(r.user);
    if (!who.ok()) return web::SetProblem(res, who.status());
    auto check = c->Check(*who, FormDraft(r.http));
    if (!check.ok()) return web::SetProblem(res, check.status());
    res.set_content(FindingsHtml(*check), "text/html; charset=utf-8");
  });
  server->Post("/compose", [c](const WebRequest& r, httplib::Response& res) {
    v1::Draft d = FormDraft(r.http);
    auto errors = FormErrors(d);
    if (Param(r.http, "action") != "send" || !errors.empty()) {
      return ComposePage(c, r, res, d, errors, errors.empty() ? 200 : 400);
    }
    auto who = PractitionerOf(r.user);
    if (!who.ok()) return ErrorPage(c, r, res, who.status());
    auto sent = c->Send(*who, d);
    if (!sent.ok()) {
      return ComposePage(c, r, res, d,
                         {{"recipient_agency_id", std::string(sent.status().message())}}, 400);
    }
    res.set_redirect("/sent/" + sent->message_id(), 303);
  });
  server->Get("/sent", [c](const WebRequest& r, httplib::Response& res) {
    SendPage(c, r, res, "Sent", "/sent",
             absl::StrCat("<h1 class=\"govuk-heading-l\">Sent</h1><div id=\"live\" data-live>",
                          SentHtml(c), "</div>"));
  });
  server->Get("/sent/{message_id}", [c](const WebRequest& r, httplib::Response& res) {
    auto m = c->SentMessage(r.path.at("message_id"));
    if (!m.ok()) return ErrorPage(c, r, res, m.status());
    SendPage(c, r, res, Label(m->kind()), "/sent",
             absl::StrCat("<div id=\"live\" data-live>", SentMessageHtml(c, *m), "</div>"));
  });
}

}  // namespace safeshare::connector
