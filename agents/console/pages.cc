#include "agents/console/pages.h"

#include <optional>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "agents/console/charts.h"
#include "agents/console/flow_summary.h"
#include "agents/web/assets.h"
#include "agents/web/html.h"
#include "agents/web/plain_language.h"
#include "common/time.h"
#include "policy/policy_engine.h"

namespace safeshare::console {
namespace {

namespace v1 = safeshare::v1;
using google::protobuf::FieldDescriptor;
using web::Escape;
using web::WebRequest;

std::string Param(const httplib::Request& req, const std::string& name) {
  return req.has_param(name.c_str()) ? req.get_param_value(name.c_str()) : "";
}

std::string When(const google::protobuf::Timestamp& t) {
  if (t.seconds() == 0 && t.nanos() == 0) return "";
  return absl::FormatTime("%e %b %Y %H:%M UTC", FromTimestamp(t), absl::UTCTimeZone());
}

std::string Duration(absl::Duration d) {
  if (d < absl::Hours(1)) return absl::StrCat(absl::ToInt64Minutes(d), " min");
  if (d < absl::Hours(48)) {
    return absl::StrCat(absl::ToInt64Hours(d), " h ", absl::ToInt64Minutes(d) % 60, " min");
  }
  return absl::StrCat(absl::ToInt64Hours(d) / 24, " days");
}

std::string H(int level, const std::string& text, const std::string& id = "") {
  const char* size = level == 1 ? "l" : level == 2 ? "m" : "s";
  return absl::StrCat("<h", level, " class=\"govuk-heading-", size, "\"",
                      id.empty() ? "" : absl::StrCat(" id=\"", id, "\""), ">", Escape(text), "</h",
                      level, ">");
}

std::string P(const std::string& html, const std::string& cls = "govuk-body") {
  return absl::StrCat("<p class=\"", cls, "\">", html, "</p>");
}

std::string Link(const std::string& href, const std::string& text) {
  return absl::StrCat("<a class=\"govuk-link\" href=\"", Escape(href), "\">", Escape(text), "</a>");
}

// A table: `heads` and rows of cell HTML; cells after the first are numeric
// when `numeric`. `ids[r][c]`, when given, becomes the cell's data-cell.
std::string Table(const std::string& caption, const std::vector<std::string>& heads,
                  const std::vector<std::vector<std::string>>& rows, bool numeric = true,
                  const std::vector<std::vector<std::string>>& ids = {}) {
  std::string out = absl::StrCat(
      "<table class=\"govuk-table\"><caption class=\"govuk-table__caption "
      "govuk-table__caption--s\">",
      Escape(caption),
      "</caption><thead class=\"govuk-table__head\"><tr class=\"govuk-table__row\">");
  for (size_t i = 0; i < heads.size(); ++i) {
    absl::StrAppend(&out, "<th scope=\"col\" class=\"govuk-table__header",
                    numeric && i > 0 ? " govuk-table__header--numeric" : "", "\">",
                    Escape(heads[i]), "</th>");
  }
  absl::StrAppend(&out, "</tr></thead><tbody class=\"govuk-table__body\">");
  if (rows.empty()) {
    absl::StrAppend(&out,
                    "<tr class=\"govuk-table__row\"><td class=\"govuk-table__cell\" colspan=\"",
                    heads.size(), "\">None in this period</td></tr>");
  }
  for (size_t r = 0; r < rows.size(); ++r) {
    absl::StrAppend(&out, "<tr class=\"govuk-table__row\">");
    for (size_t c = 0; c < rows[r].size(); ++c) {
      const std::string id = r < ids.size() && c < ids[r].size() && !ids[r][c].empty()
                                 ? absl::StrCat(" data-cell=\"", Escape(ids[r][c]), "\"")
                                 : "";
      if (c == 0) {
        absl::StrAppend(&out, "<th scope=\"row\" class=\"govuk-table__header\">", rows[r][c],
                        "</th>");
      } else {
        absl::StrAppend(&out, "<td class=\"govuk-table__cell",
                        numeric ? " govuk-table__cell--numeric" : "", "\"", id, ">", rows[r][c],
                        "</td>");
      }
    }
    absl::StrAppend(&out, "</tr>");
  }
  return out + "</tbody></table>";
}

std::string DecisionTag(v1::Decision d) {
  switch (d) {
    case v1::DECISION_ALLOW:
      return web::Tag("Shared", "green");
    case v1::DECISION_HOLD_FOR_ADVICE:
      return web::Tag("Held for IG advice", "yellow");
    case v1::DECISION_DENY:
      return web::Tag("Refused", "red");
    default:
      return web::Tag("None", "grey");
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

std::string FindingsHtml(const v1::PolicyDecision& d) {
  std::string out = "<ul class=\"govuk-list\">";
  for (const auto& f : d.findings()) {
    absl::StrAppend(&out, "<li class=\"safeshare-finding\"><strong>",
                    Escape(web::CheckTitle(f.check())), "</strong> ", OutcomeTag(f.outcome()),
                    f.reason().empty() ? "" : absl::StrCat("<br>", Escape(f.reason())), "</li>");
  }
  return out + "</ul>";
}

// Every field set in a declaration, labelled as a person reads it (enum
// values in plain language), in the proto's order: the whole declaration.
std::vector<std::pair<std::string, std::string>> DeclarationRows(const v1::SharingDeclaration& d) {
  std::vector<std::pair<std::string, std::string>> rows;
  const auto* desc = d.GetDescriptor();
  const auto* refl = d.GetReflection();
  for (int i = 0; i < desc->field_count(); ++i) {
    const FieldDescriptor* f = desc->field(i);
    std::vector<std::string> values;
    const int n = f->is_repeated() ? refl->FieldSize(d, f) : (refl->HasField(d, f) ? 1 : 0);
    for (int j = 0; j < n; ++j) {
      switch (f->cpp_type()) {
        case FieldDescriptor::CPPTYPE_ENUM: {
          const int v =
              f->is_repeated() ? refl->GetRepeatedEnumValue(d, f, j) : refl->GetEnumValue(d, f);
          values.push_back(web::Label(f->enum_type(), v));
          break;
        }
        case FieldDescriptor::CPPTYPE_STRING:
          values.push_back(f->is_repeated() ? refl->GetRepeatedString(d, f, j)
                                            : refl->GetString(d, f));
          break;
        case FieldDescriptor::CPPTYPE_BOOL:
          values.push_back(refl->GetBool(d, f) ? "Yes" : "No");
          break;
        case FieldDescriptor::CPPTYPE_MESSAGE:
          if (f->message_type()->full_name() == "google.protobuf.Timestamp") {
            values.push_back(When(static_cast<const google::protobuf::Timestamp&>(
                f->is_repeated() ? refl->GetRepeatedMessage(d, f, j) : refl->GetMessage(d, f))));
          } else {
            values.push_back(
                (f->is_repeated() ? refl->GetRepeatedMessage(d, f, j) : refl->GetMessage(d, f))
                    .ShortDebugString());
          }
          break;
        default:
          values.push_back("(set)");
      }
    }
    if (values.empty()) continue;
    std::string label = absl::StrReplaceAll(f->name(), {{"_", " "}});
    label[0] = static_cast<char>(toupper(label[0]));
    std::vector<std::string> escaped;
    for (const auto& v : values) escaped.push_back(Escape(v));
    rows.push_back({label, absl::StrJoin(escaped, "<br>")});
  }
  return rows;
}

// ---- the period of a page ----

struct Period {
  absl::Time start, end;  // end exclusive
  std::string from, to;   // as the form shows them (to inclusive)
  std::string error;
};

Period PeriodOf(const httplib::Request& req, int default_days) {
  Period p;
  const absl::Time today =
      absl::FromCivil(absl::ToCivilDay(absl::Now(), absl::UTCTimeZone()), absl::UTCTimeZone());
  p.end = today + absl::Hours(24);
  p.start = p.end - absl::Hours(24) * default_days;
  auto parse = [&](const std::string& name, absl::Time* t, absl::Duration add) {
    const std::string text = Param(req, name);
    if (text.empty()) return;
    absl::Time parsed;
    if (!absl::ParseTime("%Y-%m-%d", text, absl::UTCTimeZone(), &parsed, nullptr)) {
      p.error = absl::StrCat("Enter the ", name == "from" ? "start" : "end",
                             " date as year-month-day, for example 2026-12-01");
      return;
    }
    *t = parsed + add;
  };
  parse("from", &p.start, absl::ZeroDuration());
  parse("to", &p.end, absl::Hours(24));
  if (p.error.empty() && p.start >= p.end) p.error = "The start date must be before the end date";
  p.from = absl::FormatTime("%Y-%m-%d", p.start, absl::UTCTimeZone());
  p.to = absl::FormatTime("%Y-%m-%d", p.end - absl::Hours(24), absl::UTCTimeZone());
  return p;
}

std::string PeriodQuery(const Period& p) { return absl::StrCat("from=", p.from, "&to=", p.to); }

std::string PeriodFields(const Period& p) {
  return absl::StrCat("<div class=\"govuk-grid-row\"><div class=\"govuk-grid-column-one-quarter\">",
                      web::TextInput("from", "From", "For example 2026-12-01", p.from,
                                     absl::StartsWith(p.error, "Enter the start") ? p.error : ""),
                      "</div><div class=\"govuk-grid-column-one-quarter\">",
                      web::TextInput("to", "To (inclusive)", "For example 2026-12-31", p.to,
                                     absl::StartsWith(p.error, "Enter the start") ? "" : p.error),
                      "</div></div>");
}

// ---- the frame every page shares ----

class Pages {
 public:
  explicit Pages(Console* console) : c_(console) {}

  void Send(const WebRequest& r, httplib::Response& res, const std::string& title,
            const std::string& active, const std::string& body, const VerifiedRecords* read,
            int status = 200) {
    web::PageParts p;
    p.title = title;
    p.service_name = "safeshare IG console";
    p.nav = {{"/advice", "Advice queue"},
             {"/flows", "Flows"},
             {"/search", "Search"},
             {"/report", "Monthly report"},
             {"/integrity", "Integrity and export"}};
    p.active_href = active;
    p.signed_in_as =
        c_->officer().display_name().empty() ? r.user.id : c_->officer().display_name();
    p.body = absl::StrCat(Banner(c_->CheckIntegrity(), read), body);
    res.status = status;
    res.set_content(web::Page(p), "text/html; charset=utf-8");
  }

  void Error(const WebRequest& r, httplib::Response& res, const absl::Status& st) {
    const int status = st.code() == absl::StatusCode::kNotFound           ? 404
                       : st.code() == absl::StatusCode::kUnavailable      ? 503
                       : st.code() == absl::StatusCode::kPermissionDenied ? 403
                                                                          : 400;
    Send(r, res, "There is a problem", "",
         absl::StrCat(H(1, status == 503 ? "The gateway cannot be reached" : "There is a problem"),
                      P(Escape(st.message()))),
         nullptr, status);
  }

  // The integrity banner: green when the checkpoint verified and extends
  // the last one this officer saw and the records shown verified; a warning
  // saying what failed otherwise.
  static std::string Banner(const Integrity& i, const VerifiedRecords* read) {
    std::string problem = i.ok ? "" : i.problem;
    if (problem.empty() && read != nullptr && !read->verified) {
      problem = absl::StrCat("The records on this page did not verify against the signed log: ",
                             read->problem);
    }
    if (!problem.empty()) {
      return absl::StrCat(
          "<div class=\"govuk-error-summary\" id=\"integrity\" data-integrity=\"failed\" "
          "role=\"alert\"><div role=\"alert\"><h2 class=\"govuk-error-summary__title\">"
          "The audit log did not verify</h2><div class=\"govuk-error-summary__body\">",
          P(Escape(problem)),
          P("Do not rely on the figures below. Keep this console's state directory and the "
            "export, and report it to the partnership's data protection officer."),
          "</div></div></div>");
    }
    return absl::StrCat(
        "<div class=\"govuk-inset-text safeshare-integrity\" id=\"integrity\" "
        "data-integrity=\"verified\">",
        web::Tag("Log verified", "green"), " ", i.tree_size,
        " records under a checkpoint signed with the partnership's audit key",
        i.consistency_checked
            ? absl::StrCat(", consistent with the ", i.previous_size, " this console saw before")
            : ", the first this console has seen",
        read != nullptr ? absl::StrCat("; the ", read->records.size(),
                                       " records shown each verified by their inclusion proof")
                        : "",
        ".</div>");
  }

  Console* c_;
};

std::vector<web::Choice> AgencyChoices(Console* c) {
  std::vector<web::Choice> out = {{"", "Any agency"}};
  for (const auto& a : c->federation().agencies()) out.push_back({a.id(), c->AgencyName(a.id())});
  return out;
}

std::vector<web::Choice> AreaChoices(Console* c) {
  std::vector<web::Choice> out = {{"", "Any area"}};
  for (const auto& a : c->federation().areas()) out.push_back({a.id(), c->AreaName(a.id())});
  return out;
}

template <typename E>
std::vector<web::Choice> EnumChoices(const std::string& any) {
  std::vector<web::Choice> out = {{"", any}};
  for (auto& ch : web::Choices<E>()) out.push_back(ch);
  return out;
}

// ---- advice queue ----

std::string HeldRowState(const v1::HeldMessage& h) {
  if (h.has_escalated_time()) return web::Tag("Escalated", "red");
  if (h.has_decide_by() && FromTimestamp(h.decide_by()) < absl::Now()) {
    return web::Tag("Overdue", "red");
  }
  return web::Tag("Waiting", "yellow");
}

void AdviceList(Pages& pg, const WebRequest& r, httplib::Response& res) {
  auto held = pg.c_->Held();
  if (!held.ok()) return pg.Error(r, res, held.status());
  std::string body = H(1, "Advice queue");
  const std::string done = Param(r.http, "done");
  if (done == "approved" || done == "refused") {
    absl::StrAppend(
        &body,
        "<div class=\"govuk-notification-banner govuk-notification-banner--success\" "
        "role=\"alert\" aria-labelledby=\"done-title\" data-module=\"govuk-notification-banner\">"
        "<div class=\"govuk-notification-banner__header\"><h2 class=\"govuk-notification-"
        "banner__title\" id=\"done-title\">Success</h2></div><div class=\"govuk-notification-"
        "banner__content\"><p class=\"govuk-notification-banner__heading\">",
        Escape(Param(r.http, "id")),
        done == "approved" ? " approved: it has been delivered to the recipient."
                           : " refused: the sender sees your reason.",
        "</p></div></div>");
  }
  absl::StrAppend(&body,
                  P(absl::StrCat("Shares held for information governance advice in your scope (",
                                 Escape(pg.c_->ScopeText()),
                                 "). Escalated and overdue ones are first. You see each "
                                 "declaration, never the content.")));
  std::vector<std::vector<std::string>> rows;
  for (const auto& h : *held) {
    const auto& e = h.envelope_header();
    rows.push_back({Link("/advice/" + h.message_id(), h.message_id()), Escape(web::Label(e.kind())),
                    Escape(absl::StrCat(pg.c_->AgencyName(e.sender_agency_id()), " to ",
                                        pg.c_->AgencyName(e.recipient_agency_id()))),
                    Escape(When(h.held_time())), Escape(When(h.decide_by())), HeldRowState(h)});
  }
  absl::StrAppend(
      &body, Table(absl::StrCat(held->size(), " waiting"),
                   {"Message", "Kind", "From and to", "Held", "Decide by", "State"}, rows, false));
  pg.Send(r, res, "Advice queue", "/advice", body, nullptr);
}

void AdvicePage(Pages& pg, const WebRequest& r, httplib::Response& res, const std::string& id,
                const std::string& reason, const std::string& error, int status) {
  auto held = pg.c_->Held();
  if (!held.ok()) return pg.Error(r, res, held.status());
  const v1::HeldMessage* h = nullptr;
  for (const auto& m : *held) {
    if (m.message_id() == id) h = &m;
  }
  if (h == nullptr) {
    return pg.Error(r, res,
                    absl::NotFoundError(absl::StrCat("No held message ", id,
                                                     " in your scope: it may have been decided.")));
  }
  const auto& e = h->envelope_header();
  std::string body;
  if (!error.empty()) absl::StrAppend(&body, web::ErrorSummary({{"reason", error}}));
  absl::StrAppend(
      &body, "<span class=\"govuk-caption-l\">Held for advice</span>",
      H(1, absl::StrCat(web::Label(e.kind()), " ", id)), P(HeldRowState(*h)),
      web::SummaryList({
          {"From", Escape(pg.c_->AgencyName(e.sender_agency_id()))},
          {"To", Escape(pg.c_->AgencyName(e.recipient_agency_id()))},
          {"Practitioner", Escape(absl::StrCat(e.sender_practitioner().id(), " (",
                                               web::Label(e.sender_practitioner().role()), ")"))},
          {"Agreement", h->decision().isa_id().empty()
                            ? "None in force"
                            : Escape(absl::StrCat(h->decision().isa_id(), " version ",
                                                  h->decision().isa_version()))},
          {"Rules",
           Escape(absl::StrCat(h->decision().rule_pack(), " ", h->decision().rule_pack_version()))},
          {"Held", Escape(When(h->held_time()))},
          {"Decide by", Escape(When(h->decide_by()))},
      }),
      H(2, "Golden rules"), FindingsHtml(h->decision()), H(2, "Declaration"),
      web::SummaryList(DeclarationRows(e.declaration())), H(2, "Your decision"),
      "<form method=\"post\" action=\"/advice/", Escape(id), "/decide\" novalidate>",
      web::CsrfField(r.csrf_token),
      web::Textarea(
          "reason",
          "Reason",
          "Recorded in the audit log; on a refusal the sender reads it. No personal data.", reason,
          error),
      "<div class=\"govuk-button-group\"><button class=\"govuk-button\" "
      "data-module=\"govuk-button\" "
      "name=\"action\" value=\"approve\">Approve and deliver</button><button class=\"govuk-button "
      "govuk-button--warning\" data-module=\"govuk-button\" name=\"action\" value=\"refuse\">"
      "Refuse</button></div></form>");
  pg.Send(r, res, absl::StrCat("Held ", web::Label(e.kind())), "/advice", body, nullptr, status);
}

// ---- flows ----

struct Loaded {
  Period period;
  absl::StatusOr<VerifiedRecords> read = absl::InternalError("unset");
};

Loaded LoadPeriod(Console* c, const httplib::Request& req, int default_days) {
  Loaded l;
  l.period = PeriodOf(req, default_days);
  if (!l.period.error.empty()) {
    l.read = absl::InvalidArgumentError(l.period.error);
    return l;
  }
  v1::AuditQuery q;
  *q.mutable_start_time() = ToTimestamp(l.period.start);
  *q.mutable_end_time() = ToTimestamp(l.period.end);
  l.read = c->Read(q);
  return l;
}

std::string FlowsBody(Console* c, const FlowSummary& s, const Period& p,
                      const absl::StatusOr<v1::FlowReportResponse>& report) {
  std::string body;
  const std::string csv = "?" + PeriodQuery(p);
  auto csv_link = [&](const std::string& table) {
    return P(absl::StrCat("<a class=\"govuk-link\" href=\"/flows/", table, ".csv", Escape(csv),
                          "\" download>Download this table as CSV<span class=\"govuk-visually-"
                          "hidden\"> (",
                          table, ")</span></a>"));
  };
  // Does the gateway's own report agree with what the console counted from
  // verified records?
  bool agrees = report.ok();
  if (report.ok()) {
    std::map<std::pair<std::string, std::string>, std::array<uint64_t, 4>> theirs;
    for (const auto& f : report->flows()) {
      theirs[{f.from_area_id(), f.to_area_id()}] = {f.allowed(), f.denied(), f.held(),
                                                    f.not_shared()};
    }
    std::map<std::pair<std::string, std::string>, std::array<uint64_t, 4>> ours;
    for (const auto& [k, n] : s.area_flows) ours[k] = {n.allowed, n.denied, n.held, n.not_shared};
    agrees = theirs == ours;
  }
  absl::StrAppend(
      &body,
      agrees ? P("These figures match the gateway's own flow report (<code>safeshare audit "
                 "report</code>) for the period.",
                 "govuk-body-s")
             : "<div class=\"govuk-warning-text\"><span class=\"govuk-warning-text__icon\" "
               "aria-hidden=\"true\">!</span><strong class=\"govuk-warning-text__text\"><span "
               "class=\"govuk-visually-hidden\">Warning</span>The gateway's flow report does not "
               "match the verified records for this period.</strong></div>");

  // Area × area.
  std::set<std::string> areas;
  for (const auto& [k, n] : s.area_flows) {
    areas.insert(k.first);
    areas.insert(k.second);
  }
  std::vector<std::string> ids(areas.begin(), areas.end()), labels;
  for (const auto& a : ids) labels.push_back(c->AreaName(a));
  std::vector<std::vector<uint64_t>> matrix(ids.size(), std::vector<uint64_t>(ids.size()));
  std::vector<std::vector<std::string>> rows, cells;
  for (size_t i = 0; i < ids.size(); ++i) {
    for (size_t j = 0; j < ids.size(); ++j) {
      auto it = s.area_flows.find({ids[i], ids[j]});
      if (it == s.area_flows.end()) continue;
      matrix[i][j] = it->second.total();
      const auto& n = it->second;
      rows.push_back({Escape(labels[i]), Escape(labels[j]), absl::StrCat(n.allowed),
                      absl::StrCat(n.denied), absl::StrCat(n.held), absl::StrCat(n.total()),
                      absl::StrCat(n.not_shared)});
      cells.push_back({"", "", "", "", "", absl::StrCat(ids[i], "|", ids[j]), ""});
    }
  }
  absl::StrAppend(&body, H(2, "Between areas", "areas"),
                  P("Every share that reached the golden-rules check, by the sender's and the "
                    "recipient's area: shared, refused and held together; and the recorded "
                    "decisions not to share (nothing was sent)."),
                  ids.empty() ? ""
                              : MatrixSvg("Shares between areas: a matrix of counts, "
                                          "rows the sender's area, columns the recipient's. "
                                          "The table below gives the same figures.",
                                          ids, labels, ids, labels, matrix),
                  Table("Between areas", {"From", "To", "Shared", "Refused", "Held", "Total"}, rows,
                        true, cells),
                  csv_link("areas"));

  // Agency × agency.
  std::set<std::string> senders, recipients;
  for (const auto& [k, n] : s.agency_flows) {
    senders.insert(k.first);
    recipients.insert(k.second);
  }
  std::vector<std::string> from(senders.begin(), senders.end());
  std::vector<std::string> to(recipients.begin(), recipients.end()), from_l, to_l;
  for (const auto& a : from) from_l.push_back(c->AgencyName(a));
  for (const auto& a : to) to_l.push_back(c->AgencyName(a));
  std::vector<std::vector<uint64_t>> am(from.size(), std::vector<uint64_t>(to.size()));
  rows.clear();
  cells.clear();
  for (size_t i = 0; i < from.size(); ++i) {
    for (size_t j = 0; j < to.size(); ++j) {
      auto it = s.agency_flows.find({from[i], to[j]});
      if (it == s.agency_flows.end()) continue;
      am[i][j] = it->second.total();
      const auto& n = it->second;
      rows.push_back({Escape(from_l[i]), Escape(to_l[j]), absl::StrCat(n.allowed),
                      absl::StrCat(n.denied), absl::StrCat(n.held), absl::StrCat(n.total()),
                      absl::StrCat(n.not_shared)});
      cells.push_back({"", "", "", "", "", absl::StrCat(from[i], "|", to[j]), ""});
    }
  }
  absl::StrAppend(
      &body, H(2, "Between agencies", "agencies"),
      from.empty() ? ""
                   : MatrixSvg("Shares between agencies: rows the sender, "
                               "columns the recipient. The table below gives "
                               "the same figures.",
                               from, from_l, to, to_l, am),
      Table("Between agencies", {"From", "To", "Shared", "Refused", "Held", "Total", "Not shared"},
            rows, true, cells),
      csv_link("agencies"));

  // Decisions over time.
  const std::vector<BarSeries> decisions = {{"allowed", "Shared", "#00703c"},
                                            {"denied", "Refused", "#d4351c"},
                                            {"held", "Held", "#b58800"}};
  std::vector<std::string> days, day_l;
  std::vector<std::vector<uint64_t>> dv;
  rows.clear();
  cells.clear();
  for (const auto& [day, n] : s.by_day) {
    days.push_back(day);
    day_l.push_back(day);
    dv.push_back({n.allowed, n.denied, n.held});
    rows.push_back({day, absl::StrCat(n.allowed), absl::StrCat(n.denied), absl::StrCat(n.held),
                    absl::StrCat(n.total())});
    cells.push_back({"", day + "|allowed", day + "|denied", day + "|held", ""});
  }
  absl::StrAppend(&body, H(2, "Decisions over time", "days"),
                  days.empty() ? ""
                               : BarsSvg("Decisions each day: shared, refused and held. "
                                         "The table below gives the same figures.",
                                         days, day_l, decisions, dv),
                  Table("Decisions each day (UTC)", {"Day", "Shared", "Refused", "Held", "Total"},
                        rows, true, cells),
                  csv_link("days"));

  // Refusals and holds by golden rule.
  const std::vector<BarSeries> outcomes = {{"failed", "Not met (refused)", "#d4351c"},
                                           {"advice", "Needs advice (held)", "#b58800"}};
  std::vector<std::string> checks, check_l;
  std::vector<std::vector<uint64_t>> cv;
  rows.clear();
  cells.clear();
  const uint64_t total = s.decisions.total();
  auto rate = [total](uint64_t n) {
    return total == 0 ? std::string("0%") : absl::StrCat((n * 100 + total / 2) / total, "%");
  };
  for (const auto& [check, n] : s.by_check) {
    checks.push_back(check);
    check_l.push_back(web::CheckTitle(check));
    cv.push_back({n.first, n.second});
    rows.push_back({Escape(web::CheckTitle(check)), absl::StrCat(n.first), rate(n.first),
                    absl::StrCat(n.second), rate(n.second)});
    cells.push_back({"", check + "|failed", "", check + "|advice", ""});
  }
  absl::StrAppend(
      &body, H(2, "Refusals and holds by golden rule", "rules"),
      P(absl::StrCat("Of ", total,
                     " decisions: how often each rule was not met (the share was refused) or "
                     "needed advice (it was held). One share can fail more than one rule.")),
      BarsSvg("Refusals and holds by golden rule. The table below gives the same figures.", checks,
              check_l, outcomes, cv),
      Table("By golden rule", {"Rule", "Not met", "Refusal rate", "Needs advice", "Hold rate"},
            rows, true, cells),
      csv_link("rules"));

  // Acknowledgement against deadlines.
  rows.clear();
  for (const auto& [k, t] : s.timeliness) {
    rows.push_back({Escape(c->AgencyName(k.first)), Escape(web::Label(k.second)),
                    absl::StrCat(t.delivered), absl::StrCat(t.acknowledged),
                    absl::StrCat(t.escalated), t.acknowledge.empty() ? "–" : Duration(t.Median()),
                    t.acknowledge.empty() ? "–" : Duration(t.Longest())});
  }
  absl::StrAppend(
      &body, H(2, "Acknowledgement against deadlines", "timeliness"),
      P("Delivered messages by recipient and urgency: how many were acknowledged, how long it "
        "took, and how many missed their deadline and escalated."),
      Table("Acknowledgement",
            {"Recipient", "Urgency", "Delivered", "Acknowledged", "Missed deadline (escalated)",
             "Median time", "Longest time"},
            rows),
      csv_link("timeliness"));
  rows.clear();
  for (const auto& e : s.escalations) {
    rows.push_back({Escape(absl::FormatTime("%e %b %Y %H:%M", e.time, absl::UTCTimeZone())),
                    Escape(e.message_id), Escape(c->AgencyName(e.sender_agency_id)),
                    Escape(c->AgencyName(e.recipient_agency_id)), Escape(web::Label(e.urgency))});
  }
  absl::StrAppend(&body, H(2, "Escalations", "escalations"),
                  Table("Escalations", {"When", "Message", "From", "To", "Urgency"}, rows, false),
                  csv_link("escalations"));
  return body;
}

void FlowsPage(Pages& pg, const WebRequest& r, httplib::Response& res) {
  Loaded l = LoadPeriod(pg.c_, r.http, 30);
  std::string body = absl::StrCat(
      H(1, "Flows"), P(absl::StrCat("Within your scope: ", Escape(pg.c_->ScopeText()), ".")),
      l.period.error.empty() ? "" : web::ErrorSummary({{"from", l.period.error}}),
      "<form method=\"get\" action=\"/flows\" novalidate>", PeriodFields(l.period),
      "<button class=\"govuk-button govuk-button--secondary\" data-module=\"govuk-button\">"
      "Show this period</button></form>");
  if (!l.period.error.empty()) {
    return pg.Send(r, res, "Flows", "/flows", body, nullptr, 400);
  }
  if (!l.read.ok()) return pg.Error(r, res, l.read.status());
  const FlowSummary s = Summarise(l.read->records);
  absl::StrAppend(&body,
                  FlowsBody(pg.c_, s, l.period, pg.c_->FlowReport(l.period.start, l.period.end)));
  pg.Send(r, res, "Flows", "/flows", body, &*l.read);
}

void FlowsCsv(Pages& pg, const WebRequest& r, httplib::Response& res) {
  absl::string_view name = r.path.at("file");
  const bool csv = absl::ConsumeSuffix(&name, ".csv");
  const std::string file(name);
  if (!csv ||
      std::find(std::begin(kCsvTables), std::end(kCsvTables), file) == std::end(kCsvTables)) {
    return web::SetProblem(res, absl::NotFoundError(absl::StrCat(
                                    "no table '", r.path.at("file"),
                                    "': areas, agencies, days, rules, timeliness, escalations")));
  }
  Loaded l = LoadPeriod(pg.c_, r.http, 30);
  if (!l.read.ok()) return web::SetProblem(res, l.read.status());
  if (!l.read->verified) {
    return web::SetProblem(
        res, absl::DataLossError(absl::StrCat("the records did not verify: ", l.read->problem)));
  }
  res.set_header("Content-Disposition", absl::StrCat("attachment; filename=\"safeshare-", file, "-",
                                                     l.period.from, "-to-", l.period.to, ".csv\""));
  res.set_content(SummaryCsv(Summarise(l.read->records), file), "text/csv; charset=utf-8");
}

// ---- search ----

v1::AuditQuery SearchQuery(const httplib::Request& req, const Period& p, std::string* error) {
  v1::AuditQuery q;
  q.set_agency_id(Param(req, "agency"));
  q.set_area_id(Param(req, "area"));
  q.set_subject_reference(Param(req, "subject"));
  q.set_failed_check(Param(req, "failed_check"));
  if (!Param(req, "from").empty() || !Param(req, "to").empty()) {
    *q.mutable_start_time() = ToTimestamp(p.start);
    *q.mutable_end_time() = ToTimestamp(p.end);
  }
  v1::Purpose purpose;
  if (!Param(req, "purpose").empty()) {
    if (v1::Purpose_Parse(Param(req, "purpose"), &purpose)) {
      q.set_purpose(purpose);
    } else {
      *error = "Choose a purpose from the list";
    }
  }
  v1::Decision decision;
  if (!Param(req, "decision").empty()) {
    if (v1::Decision_Parse(Param(req, "decision"), &decision)) {
      q.set_decision(decision);
    } else {
      *error = "Choose a decision from the list";
    }
  }
  return q;
}

std::string RecordCard(Console* c, const ShownRecord& s,
                       const std::map<std::string, std::vector<const ShownRecord*>>& lives,
                       uint64_t tree_size) {
  const v1::AuditRecord& r = s.record;
  std::string out =
      absl::StrCat("<div class=\"govuk-summary-card\" data-message-id=\"", Escape(r.message_id()),
                   "\"><div class=\"govuk-summary-card__title-wrapper\"><h3 "
                   "class=\"govuk-summary-card__title\">",
                   Escape(web::Label(r.kind())), " ", Escape(r.message_id()), " ",
                   DecisionTag(r.decision().decision()),
                   "</h3></div><div class=\"govuk-summary-card__content\">");
  std::vector<std::pair<std::string, std::string>> rows = {
      {"Decided", Escape(When(r.time()))},
      {"From", Escape(absl::StrCat(c->AgencyName(r.sender_agency_id()), " (",
                                   c->AreaName(r.sender_area_id()), ")"))},
      {"To", Escape(absl::StrCat(c->AgencyName(r.recipient_agency_id()), " (",
                                 c->AreaName(r.recipient_area_id()), ")"))},
      {"Practitioner", Escape(absl::StrCat(r.sender_practitioner().id(), " (",
                                           web::Label(r.sender_practitioner().role()), ")"))},
      {"Rule pack",
       Escape(absl::StrCat(r.decision().rule_pack(), " ", r.decision().rule_pack_version()))},
      {"Agreement",
       r.decision().isa_id().empty()
           ? "None in force"
           : Escape(absl::StrCat(r.decision().isa_id(), " version ", r.decision().isa_version()))},
  };
  std::string timeline;
  auto it = lives.find(r.message_id());
  if (it != lives.end()) {
    for (const ShownRecord* e : it->second) {
      if (e->index == s.index) continue;
      absl::StrAppend(&timeline, Escape(When(e->record.time())), ": ",
                      Escape(web::Label(e->record.event())),
                      e->record.reason().empty() ? "" : " — " + Escape(e->record.reason()), "<br>");
    }
  }
  rows.push_back({"Delivery and acknowledgement", timeline.empty() ? "No later events" : timeline});
  rows.push_back({"Inclusion proof",
                  tree_size == 0 ? "Not verified"
                                 : absl::StrCat(web::Tag("Verified", "green"), " record ", s.index,
                                                " of the signed log of ", tree_size, " records")});
  absl::StrAppend(&out, web::SummaryList(rows), H(4, "Golden rules"), FindingsHtml(r.decision()),
                  "<details class=\"govuk-details\"><summary class=\"govuk-details__summary\">"
                  "<span class=\"govuk-details__summary-text\">The full declaration</span>"
                  "</summary><div class=\"govuk-details__text\">",
                  web::SummaryList(DeclarationRows(r.declaration())),
                  "</div></details></div></div>");
  return out;
}

void SearchPage(Pages& pg, const WebRequest& r, httplib::Response& res) {
  Console* c = pg.c_;
  Period p = PeriodOf(r.http, 365);
  std::string error = p.error;
  v1::AuditQuery q = SearchQuery(r.http, p, &error);
  const bool asked = Param(r.http, "search") == "1";
  std::vector<web::Choice> check_choices = {{"", "Any rule"}};
  for (const char* check : policy::kChecks)
    check_choices.push_back({check, web::CheckTitle(check)});
  std::string body = absl::StrCat(
      H(1, "Search the audit log"),
      P("Find what flowed to whom and when: by agency, area, period, purpose, decision, the rule "
        "that failed, or a child's subject reference (for a subject access request)."),
      error.empty() ? "" : web::ErrorSummary({{"from", error}}),
      "<form method=\"get\" action=\"/search\" novalidate><input type=\"hidden\" name=\"search\" "
      "value=\"1\">",
      web::TextInput(
          "subject", "Subject reference",
          "The 64-character reference (HMAC-SHA256 in hex) the agencies' systems give the child",
          Param(r.http, "subject")),
      web::Select("agency", "Agency", "", AgencyChoices(c), Param(r.http, "agency")),
      web::Select("area", "Area", "", AreaChoices(c), Param(r.http, "area")),
      web::Select("purpose", "Purpose", "", EnumChoices<v1::Purpose>("Any purpose"),
                  Param(r.http, "purpose")),
      web::Select("decision", "Decision", "", EnumChoices<v1::Decision>("Any decision"),
                  Param(r.http, "decision")),
      web::Select("failed_check", "Rule not met or needing advice", "", check_choices,
                  Param(r.http, "failed_check")),
      "<details class=\"govuk-details\"", Param(r.http, "from").empty() ? "" : " open",
      "><summary class=\"govuk-details__summary\"><span class=\"govuk-details__summary-text\">"
      "Period</span></summary><div class=\"govuk-details__text\">",
      PeriodFields({p.start, p.end, Param(r.http, "from"), Param(r.http, "to"), p.error}),
      "</div></details><button class=\"govuk-button\" data-module=\"govuk-button\">Search</button>"
      "</form>");
  if (!asked || !error.empty()) {
    return pg.Send(r, res, "Search", "/search", body, nullptr, error.empty() ? 200 : 400);
  }
  auto read = c->Read(q);
  if (!read.ok()) return pg.Error(r, res, read.status());
  // Later events of the messages found (delivered, acknowledged, decided by
  // an officer): one more read from the earliest of them.
  std::map<std::string, std::vector<const ShownRecord*>> lives;
  absl::StatusOr<VerifiedRecords> later = absl::NotFoundError("none");
  std::optional<google::protobuf::Timestamp> earliest;
  std::set<std::string> found;
  for (const auto& s : read->records) {
    if (s.record.event() != v1::AUDIT_EVENT_TYPE_DECISION) continue;
    found.insert(s.record.message_id());
    if (!earliest || FromTimestamp(s.record.time()) < FromTimestamp(*earliest)) {
      earliest = s.record.time();
    }
  }
  if (earliest) {
    v1::AuditQuery lq;
    *lq.mutable_start_time() = *earliest;
    later = c->Read(lq);
    if (later.ok()) {
      for (const auto& s : later->records) {
        if (found.count(s.record.message_id()) > 0) lives[s.record.message_id()].push_back(&s);
      }
    }
  }
  VerifiedRecords shown = *read;
  if (later.ok() && !later->verified) {
    shown.verified = false;
    shown.problem = later->problem;
  }
  std::string results;
  std::vector<std::vector<std::string>> others;
  for (const auto& s : read->records) {
    if (s.record.event() == v1::AUDIT_EVENT_TYPE_DECISION) {
      absl::StrAppend(&results, RecordCard(c, s, lives, read->verified ? read->tree_size : 0));
    } else if (s.record.event() != v1::AUDIT_EVENT_TYPE_KEY_REGISTERED &&
               s.record.event() != v1::AUDIT_EVENT_TYPE_KEY_PUBLISHED &&
               s.record.event() != v1::AUDIT_EVENT_TYPE_KEY_REVOKED) {
      others.push_back({Escape(When(s.record.time())), Escape(web::Label(s.record.event())),
                        Escape(s.record.message_id()),
                        Escape(s.record.actor().empty() ? c->AgencyName(s.record.sender_agency_id())
                                                        : s.record.actor())});
    }
  }
  absl::StrAppend(
      &body,
      H(2, absl::StrCat(found.size(), found.size() == 1 ? " share" : " shares", " found"),
        "results"),
      results);
  if (!others.empty()) {
    absl::StrAppend(
        &body, Table("Other records matching", {"When", "Event", "Message", "By"}, others, false));
  }
  std::string export_q = r.http.target.substr(r.http.target.find('?') + 1);
  absl::StrAppend(&body,
                  P(absl::StrCat("Export these records with their proofs: ",
                                 Link("/export?format=jsonl&" + export_q, "JSON lines"), " or ",
                                 Link("/export?format=csv&" + export_q, "CSV"), ".")));
  pg.Send(r, res, "Search", "/search", body, &shown);
}

// ---- integrity and export ----

void IntegrityPage(Pages& pg, const WebRequest& r, httplib::Response& res) {
  Console* c = pg.c_;
  // Everything in scope, read and verified: the banner covers it.
  auto all = c->Read(v1::AuditQuery());
  if (!all.ok()) return pg.Error(r, res, all.status());
  const Integrity i = c->CheckIntegrity();
  Period p = PeriodOf(r.http, 30);
  std::string body = absl::StrCat(
      H(1, "Integrity and export"),
      web::SummaryList({
          {"Checkpoint", i.ok ? absl::StrCat(i.tree_size, " records, root <code>", i.root_hex,
                                             "</code>, signature verified with the partnership's "
                                             "audit key")
                              : Escape(i.problem)},
          {"Consistency",
           i.consistency_checked
               ? absl::StrCat("Proved: the log extends the ", i.previous_size,
                              " records this console saw before")
               : (i.ok ? "This is the first checkpoint this console has seen; later ones "
                         "will be checked against it"
                       : "Not proved")},
          {"Records in your scope",
           all->verified ? absl::StrCat(all->records.size(),
                                        " records, each checked against the checkpoint, with every "
                                        "disclosed text against its commitment")
                         : Escape(absl::StrCat("Did not verify: ", all->problem))},
          {"Checked",
           Escape(absl::FormatTime("%e %b %Y %H:%M:%S UTC", i.checked_time, absl::UTCTimeZone()))},
      }),
      H(2, "Export with proofs"),
      P("An export holds every record in your scope for the period with its inclusion proof and "
        "the signed checkpoint it is under, so anyone holding the partnership's federation file "
        "can check it without the gateway."),
      "<form method=\"get\" action=\"/export\" novalidate>", PeriodFields(p),
      web::Radios("format", "Format", "",
                  {{"jsonl", "JSON lines (verifiable offline)"}, {"csv", "CSV (for spreadsheets)"}},
                  "jsonl"),
      "<button class=\"govuk-button\" data-module=\"govuk-button\">Download export</button></form>",
      H(2, "Verify an export offline"), P("Save the JSON lines export, then run:"),
      "<pre class=\"safeshare-command\" id=\"verify-command\"><code>safeshare audit verify "
      "--export_file safeshare-audit-export.jsonl --federation ",
      Escape(c->federation_file()), "</code></pre>",
      P("It prints <code>verified:</code> with the number of records, or <code>FAILED:</code> "
        "and the first record that does not match."));
  pg.Send(r, res, "Integrity", "/integrity", body, &*all);
}

void ExportDownload(Pages& pg, const WebRequest& r, httplib::Response& res) {
  const std::string format = Param(r.http, "format");
  if (format != "jsonl" && format != "csv") {
    return web::SetProblem(res, absl::InvalidArgumentError("format must be jsonl or csv"));
  }
  Period p = PeriodOf(r.http, 30);
  std::string error = p.error;
  v1::AuditQuery q = SearchQuery(r.http, p, &error);
  if (Param(r.http, "from").empty() && Param(r.http, "to").empty() &&
      Param(r.http, "search").empty()) {
    *q.mutable_start_time() = ToTimestamp(p.start);
    *q.mutable_end_time() = ToTimestamp(p.end);
  }
  if (!error.empty()) return web::SetProblem(res, absl::InvalidArgumentError(error));
  std::string data;
  auto st = pg.c_->Export(q, format == "csv" ? v1::EXPORT_FORMAT_CSV : v1::EXPORT_FORMAT_JSON_LINES,
                          [&](const std::string& chunk) {
                            data += chunk;
                            return absl::OkStatus();
                          });
  if (!st.ok()) return web::SetProblem(res, st);
  res.set_header("Content-Disposition",
                 absl::StrCat("attachment; filename=\"safeshare-audit-export.", format, "\""));
  res.set_content(data, format == "csv" ? "text/csv; charset=utf-8" : "application/jsonl");
}

// ---- the monthly report ----

void ReportPage(Pages& pg, const WebRequest& r, httplib::Response& res) {
  Console* c = pg.c_;
  absl::CivilMonth month = absl::ToCivilMonth(absl::Now(), absl::UTCTimeZone());
  std::string error;
  if (!Param(r.http, "month").empty() && !absl::ParseCivilTime(Param(r.http, "month"), &month)) {
    error = "Enter the month as year-month, for example 2026-12";
  }
  const absl::Time start = absl::FromCivil(month, absl::UTCTimeZone());
  const absl::Time end = absl::FromCivil(month + 1, absl::UTCTimeZone());
  const std::string month_text = absl::FormatCivilTime(month).substr(0, 7);
  const std::string title =
      absl::StrCat("Partnership report: ", absl::FormatTime("%B %Y", start, absl::UTCTimeZone()));
  std::string body = absl::StrCat(
      error.empty() ? "" : web::ErrorSummary({{"month", error}}),
      "<form method=\"get\" action=\"/report\" class=\"safeshare-no-print\" novalidate>",
      web::TextInput("month", "Month", "For example 2026-12", month_text, error,
                     "govuk-input--width-10"),
      "<div class=\"govuk-button-group\"><button class=\"govuk-button govuk-button--secondary\" "
      "data-module=\"govuk-button\">Show this month</button><button type=\"button\" "
      "class=\"govuk-button govuk-button--secondary\" data-print>Print this report</button>"
      "</div></form>");
  if (!error.empty()) return pg.Send(r, res, "Monthly report", "/report", body, nullptr, 400);
  v1::AuditQuery q;
  *q.mutable_start_time() = ToTimestamp(start);
  *q.mutable_end_time() = ToTimestamp(end);
  auto read = c->Read(q);
  if (!read.ok()) return pg.Error(r, res, read.status());
  const FlowSummary s = Summarise(read->records);
  absl::StrAppend(
      &body, H(1, title),
      P(absl::StrCat(Escape(c->federation().display_name()), ". Scope: ", Escape(c->ScopeText()),
                     ". Figures from ", read->records.size(), " audit records",
                     read->verified ? ", each verified against the "
                                      "signed log."
                                    : " that did NOT verify.")));
  std::vector<std::vector<std::string>> rows;
  for (const auto& [kind, n] : s.by_kind) {
    rows.push_back({Escape(web::Label(kind)), absl::StrCat(n.allowed), absl::StrCat(n.denied),
                    absl::StrCat(n.held), absl::StrCat(n.total())});
  }
  rows.push_back({"<strong>All</strong>", absl::StrCat(s.decisions.allowed),
                  absl::StrCat(s.decisions.denied), absl::StrCat(s.decisions.held),
                  absl::StrCat(s.decisions.total())});
  absl::StrAppend(
      &body, H(2, "Volumes"),
      Table("Decisions by kind of message", {"Kind", "Shared", "Refused", "Held", "Total"}, rows),
      web::SummaryList({
          {"Held shares approved by an officer", absl::StrCat(s.approved_by_officer)},
          {"Held shares refused by an officer", absl::StrCat(s.refused_by_officer)},
          {"Refused before the rules were checked (signature, sender, format)",
           absl::StrCat(s.refused_before_policy)},
          {"Content refused by the recipient", absl::StrCat(s.content_refused)},
      }));
  rows.clear();
  uint64_t cross = 0;
  for (const auto& [k, n] : s.area_flows) {
    if (k.first == k.second) continue;
    cross += n.total();
    rows.push_back({Escape(c->AreaName(k.first)), Escape(c->AreaName(k.second)),
                    absl::StrCat(n.allowed), absl::StrCat(n.denied), absl::StrCat(n.held),
                    absl::StrCat(n.total())});
  }
  absl::StrAppend(
      &body, H(2, "Cross-border flows"),
      P(absl::StrCat(cross, " of ", s.decisions.total(), " shares crossed an area border.")),
      Table("Between different areas", {"From", "To", "Shared", "Refused", "Held", "Total"}, rows));
  rows.clear();
  for (const auto& [check, n] : s.by_check) {
    if (n.first == 0 && n.second == 0) continue;
    rows.push_back({Escape(web::CheckTitle(check)), absl::StrCat(n.first), absl::StrCat(n.second)});
  }
  absl::StrAppend(
      &body, H(2, "Refusal and hold reasons"),
      Table("Golden rules not met or needing advice", {"Rule", "Not met", "Needs advice"}, rows));
  rows.clear();
  for (const auto& [reason, n] : s.not_shared_reasons) {
    rows.push_back({Escape(web::Label(reason)), absl::StrCat(n)});
  }
  absl::StrAppend(
      &body, H(2, "Decisions not to share"),
      Table("Recorded reasons not to share (golden rule 7)", {"Reason", "Decisions"}, rows));
  std::map<v1::Urgency, Timeliness> by_urgency;
  for (const auto& [k, t] : s.timeliness) {
    Timeliness& u = by_urgency[k.second];
    u.delivered += t.delivered;
    u.acknowledged += t.acknowledged;
    u.escalated += t.escalated;
    u.acknowledge.insert(u.acknowledge.end(), t.acknowledge.begin(), t.acknowledge.end());
  }
  rows.clear();
  for (auto& [u, t] : by_urgency) {
    std::sort(t.acknowledge.begin(), t.acknowledge.end());
    rows.push_back({Escape(web::Label(u)), absl::StrCat(t.delivered), absl::StrCat(t.acknowledged),
                    absl::StrCat(t.delivered - t.escalated), absl::StrCat(t.escalated),
                    t.acknowledge.empty() ? "–" : Duration(t.Median())});
  }
  absl::StrAppend(&body, H(2, "Timeliness"),
                  Table("Acknowledgement by urgency",
                        {"Urgency", "Delivered", "Acknowledged", "Within deadline",
                         "Missed (escalated)", "Median time"},
                        rows));
  pg.Send(r, res, title, "/report", body, &*read);
}

}  // namespace

void AddConsoleRoutes(Console* console, web::WebServer* server, const std::string& assets_dir) {
  web::AddAssetRoutes(server, assets_dir);
  auto pages = std::make_shared<Pages>(console);
  server->Get("/", [](const WebRequest&, httplib::Response& res) { res.set_redirect("/advice"); });
  server->Get("/advice",
              [pages](const WebRequest& r, httplib::Response& res) { AdviceList(*pages, r, res); });
  server->Get("/advice/{message_id}", [pages](const WebRequest& r, httplib::Response& res) {
    AdvicePage(*pages, r, res, r.path.at("message_id"), "", "", 200);
  });
  server->Post("/advice/{message_id}/decide", [pages](const WebRequest& r, httplib::Response& res) {
    const std::string id = r.path.at("message_id");
    const std::string reason = Param(r.http, "reason");
    const std::string action = Param(r.http, "action");
    if (reason.empty()) {
      return AdvicePage(*pages, r, res, id, reason, "Enter the reason for your decision", 400);
    }
    if (action != "approve" && action != "refuse") {
      return AdvicePage(*pages, r, res, id, reason, "Choose approve or refuse", 400);
    }
    const absl::Status st =
        action == "approve" ? pages->c_->Approve(id, reason) : pages->c_->Refuse(id, reason);
    if (!st.ok()) {
      return AdvicePage(*pages, r, res, id, reason, std::string(st.message()), 400);
    }
    res.set_redirect(
        absl::StrCat("/advice?done=", action == "approve" ? "approved" : "refused", "&id=", id),
        303);
  });
  server->Get("/flows",
              [pages](const WebRequest& r, httplib::Response& res) { FlowsPage(*pages, r, res); });
  server->Get("/flows/{file}",
              [pages](const WebRequest& r, httplib::Response& res) { FlowsCsv(*pages, r, res); });
  server->Get("/search",
              [pages](const WebRequest& r, httplib::Response& res) { SearchPage(*pages, r, res); });
  server->Get("/integrity", [pages](const WebRequest& r, httplib::Response& res) {
    IntegrityPage(*pages, r, res);
  });
  server->Get("/export", [pages](const WebRequest& r, httplib::Response& res) {
    ExportDownload(*pages, r, res);
  });
  server->Get("/report",
              [pages](const WebRequest& r, httplib::Response& res) { ReportPage(*pages, r, res); });
}

}  // namespace safeshare::console
