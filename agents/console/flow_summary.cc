#include "agents/console/flow_summary.h"

#include <algorithm>
#include <array>
#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/enum_text.h"
#include "common/time.h"
#include "policy/policy_engine.h"

namespace safeshare::console {
namespace {

namespace v1 = safeshare::v1;

void Add(DecisionCounts* c, v1::Decision d) {
  switch (d) {
    case v1::DECISION_ALLOW:
      ++c->allowed;
      break;
    case v1::DECISION_DENY:
      ++c->denied;
      break;
    case v1::DECISION_HOLD_FOR_ADVICE:
      ++c->held;
      break;
    default:
      break;
  }
}

std::string Minutes(absl::Duration d) { return absl::StrCat(absl::ToInt64Minutes(d)); }

}  // namespace

absl::Duration Timeliness::Median() const {
  return acknowledge.empty() ? absl::ZeroDuration() : acknowledge[acknowledge.size() / 2];
}

absl::Duration Timeliness::Longest() const {
  return acknowledge.empty() ? absl::ZeroDuration() : acknowledge.back();
}

FlowSummary Summarise(const std::vector<ShownRecord>& records) {
  FlowSummary s;
  std::map<std::string, std::array<uint64_t, 2>> checks;
  struct Life {
    std::string recipient;
    v1::Urgency urgency = v1::URGENCY_UNSPECIFIED;
    std::optional<absl::Time> delivered, acknowledged;
    bool escalated = false;
  };
  std::map<std::string, Life> lives;  // by message id
  std::set<std::pair<std::string, std::string>> not_shared_seen;
  for (const auto& shown : records) {
    const v1::AuditRecord& r = shown.record;
    switch (r.event()) {
      case v1::AUDIT_EVENT_TYPE_DECISION: {
        const v1::Decision d = r.decision().decision();
        Add(&s.decisions, d);
        Add(&s.area_flows[{r.sender_area_id(), r.recipient_area_id()}], d);
        Add(&s.agency_flows[{r.sender_agency_id(), r.recipient_agency_id()}], d);
        Add(&s.by_day[absl::FormatTime("%Y-%m-%d", FromTimestamp(r.time()), absl::UTCTimeZone())],
            d);
        Add(&s.by_kind[r.kind()], d);
        for (const auto& f : r.decision().findings()) {
          if (f.outcome() == v1::FINDING_OUTCOME_FAIL) ++checks[f.check()][0];
          if (f.outcome() == v1::FINDING_OUTCOME_ADVICE) ++checks[f.check()][1];
        }
        Life& l = lives[r.message_id()];
        l.recipient = r.recipient_agency_id();
        l.urgency = r.declaration().urgency();
        break;
      }
      case v1::AUDIT_EVENT_TYPE_DELIVERED: {
        Life& l = lives[r.message_id()];
        if (!l.delivered) l.delivered = FromTimestamp(r.time());
        if (l.recipient.empty()) l.recipient = r.recipient_agency_id();
        break;
      }
      case v1::AUDIT_EVENT_TYPE_ACKNOWLEDGED: {
        Life& l = lives[r.message_id()];
        if (!l.acknowledged) l.acknowledged = FromTimestamp(r.time());
        break;
      }
      case v1::AUDIT_EVENT_TYPE_ESCALATED: {
        lives[r.message_id()].escalated = true;
        s.escalations.push_back({FromTimestamp(r.time()), r.message_id(), r.sender_agency_id(),
                                 r.recipient_agency_id(), v1::URGENCY_UNSPECIFIED});
        break;
      }
      case v1::AUDIT_EVENT_TYPE_DECIDED_NOT_TO_SHARE: {
        if (!not_shared_seen.insert({r.sender_agency_id(), r.message_id()}).second) break;
        ++s.decisions.not_shared;
        ++s.area_flows[{r.sender_area_id(), r.recipient_area_id()}].not_shared;
        ++s.agency_flows[{r.sender_agency_id(), r.recipient_agency_id()}].not_shared;
        ++s.by_day[absl::FormatTime("%Y-%m-%d", FromTimestamp(r.time()), absl::UTCTimeZone())]
              .not_shared;
        for (int reason : r.declaration().decline_reasons()) {
          ++s.not_shared_reasons[static_cast<v1::DeclineReason>(reason)];
        }
        break;
      }
      case v1::AUDIT_EVENT_TYPE_APPROVED_BY_OFFICER:
        ++s.approved_by_officer;
        break;
      case v1::AUDIT_EVENT_TYPE_REFUSED_BY_OFFICER:
        ++s.refused_by_officer;
        break;
      case v1::AUDIT_EVENT_TYPE_SUBMIT_REFUSED:
        ++s.refused_before_policy;
        break;
      case v1::AUDIT_EVENT_TYPE_CONTENT_REFUSED_BY_RECIPIENT:
        ++s.content_refused;
        break;
      default:
        break;
    }
  }
  for (const char* check : policy::kChecks) {
    auto it = checks.find(check);
    s.by_check.push_back({check, it == checks.end() ? std::pair<uint64_t, uint64_t>{0, 0}
                                                    : std::pair{it->second[0], it->second[1]}});
  }
  for (auto& e : s.escalations) e.urgency = lives[e.message_id].urgency;
  for (const auto& [id, l] : lives) {
    if (!l.delivered) continue;  // not delivered (refused, held) or before the period
    Timeliness& t = s.timeliness[{l.recipient, l.urgency}];
    ++t.delivered;
    if (l.escalated) ++t.escalated;
    if (l.acknowledged) {
      ++t.acknowledged;
      t.acknowledge.push_back(*l.acknowledged - *l.delivered);
    }
  }
  for (auto& [key, t] : s.timeliness) std::sort(t.acknowledge.begin(), t.acknowledge.end());
  return s;
}

std::string CsvField(const std::string& value) {
  std::string v = value;
  if (!v.empty() && std::string("=+-@").find(v[0]) != std::string::npos) v = "'" + v;
  if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string SummaryCsv(const FlowSummary& s, const std::string& table) {
  std::vector<std::vector<std::string>> rows;
  auto counts = [](const DecisionCounts& c) {
    return std::vector<std::string>{absl::StrCat(c.allowed), absl::StrCat(c.denied),
                                    absl::StrCat(c.held), absl::StrCat(c.total()),
                                    absl::StrCat(c.not_shared)};
  };
  auto with = [](std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };
  if (table == "areas" || table == "agencies") {
    const bool areas = table == "areas";
    rows.push_back({areas ? "from_area" : "from_agency", areas ? "to_area" : "to_agency", "allowed",
                    "denied", "held", "total", "not_shared"});
    for (const auto& [k, c] : areas ? s.area_flows : s.agency_flows) {
      rows.push_back(with({k.first, k.second}, counts(c)));
    }
  } else if (table == "days") {
    rows.push_back({"date", "allowed", "denied", "held", "total", "not_shared"});
    for (const auto& [day, c] : s.by_day) rows.push_back(with({day}, counts(c)));
  } else if (table == "rules") {
    rows.push_back({"check", "failed", "advice", "decisions"});
    for (const auto& [check, n] : s.by_check) {
      rows.push_back({check, absl::StrCat(n.first), absl::StrCat(n.second),
                      absl::StrCat(s.decisions.total())});
    }
  } else if (table == "timeliness") {
    rows.push_back({"recipient_agency", "urgency", "delivered", "acknowledged", "escalated",
                    "median_minutes_to_acknowledge", "longest_minutes_to_acknowledge"});
    for (const auto& [k, t] : s.timeliness) {
      rows.push_back({k.first, EnumShortName(k.second), absl::StrCat(t.delivered),
                      absl::StrCat(t.acknowledged), absl::StrCat(t.escalated), Minutes(t.Median()),
                      Minutes(t.Longest())});
    }
  } else if (table == "escalations") {
    rows.push_back({"time", "message_id", "sender_agency", "recipient_agency", "urgency"});
    for (const auto& e : s.escalations) {
      rows.push_back({absl::FormatTime(absl::RFC3339_sec, e.time, absl::UTCTimeZone()),
                      e.message_id, e.sender_agency_id, e.recipient_agency_id,
                      EnumShortName(e.urgency)});
    }
  } else {
    return "";
  }
  std::string out;
  for (const auto& row : rows) {
    std::vector<std::string> fields;
    for (const auto& f : row) fields.push_back(CsvField(f));
    absl::StrAppend(&out, absl::StrJoin(fields, ","), "\r\n");
  }
  return out;
}

}  // namespace safeshare::console
