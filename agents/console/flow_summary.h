#ifndef SAFESHARE_AGENTS_CONSOLE_FLOW_SUMMARY_H_
#define SAFESHARE_AGENTS_CONSOLE_FLOW_SUMMARY_H_

// The figures an IG officer reads, counted from verified audit records:
// flows between areas and agencies, decisions by day and kind, refusal and
// hold counts by golden rule, acknowledgement times by recipient and
// urgency, escalations. A pure function of the records; the pages draw it
// as charts and tables and offer each table as CSV.

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "agents/console/console.h"

namespace safeshare::console {

// Policy decisions (one per Submit that reached policy), as FlowReport
// counts them: the first decision, not an officer's later one.
struct DecisionCounts {
  uint64_t allowed = 0;
  uint64_t denied = 0;
  uint64_t held = 0;
  uint64_t total() const { return allowed + denied + held; }
  // Recorded decisions not to share (nothing sent; not in total()), each
  // decision id once.
  uint64_t not_shared = 0;
};

struct Timeliness {
  uint64_t delivered = 0;
  uint64_t acknowledged = 0;
  uint64_t escalated = 0;                   // the acknowledgement deadline passed
  std::vector<absl::Duration> acknowledge;  // delivered → acknowledged, sorted
  absl::Duration Median() const;
  absl::Duration Longest() const;
};

struct EscalationRow {
  absl::Time time;
  std::string message_id;
  std::string sender_agency_id;
  std::string recipient_agency_id;
  safeshare::v1::Urgency urgency = safeshare::v1::URGENCY_UNSPECIFIED;
};

struct FlowSummary {
  std::map<std::pair<std::string, std::string>, DecisionCounts> area_flows;
  std::map<std::pair<std::string, std::string>, DecisionCounts> agency_flows;
  std::map<std::string, DecisionCounts> by_day;  // "YYYY-MM-DD" (UTC)
  std::map<safeshare::v1::MessageKind, DecisionCounts> by_kind;
  // check name → (failed, advice), in policy's order of checks.
  std::vector<std::pair<std::string, std::pair<uint64_t, uint64_t>>> by_check;
  DecisionCounts decisions;
  uint64_t approved_by_officer = 0;
  uint64_t refused_by_officer = 0;
  uint64_t refused_before_policy = 0;  // SUBMIT_REFUSED
  uint64_t content_refused = 0;        // by the recipient's agent
  // Recorded decisions not to share by reason (DeclineReason), each once.
  std::map<safeshare::v1::DeclineReason, uint64_t> not_shared_reasons;
  // (recipient agency, urgency) → timeliness.
  std::map<std::pair<std::string, safeshare::v1::Urgency>, Timeliness> timeliness;
  std::vector<EscalationRow> escalations;
};

FlowSummary Summarise(const std::vector<ShownRecord>& records);

// The tables as CSV (RFC 4180, a header row): "areas", "agencies", "days",
// "rules", "timeliness", "escalations". Empty for another name.
std::string SummaryCsv(const FlowSummary& summary, const std::string& table);
inline constexpr const char* kCsvTables[] = {"areas", "agencies",   "days",
                                             "rules", "timeliness", "escalations"};

// One CSV field: quoted when it needs to be, and a leading = + - @ made
// inert so a spreadsheet does not run it as a formula.
std::string CsvField(const std::string& value);

}  // namespace safeshare::console

#endif  // SAFESHARE_AGENTS_CONSOLE_FLOW_SUMMARY_H_
