// The IG console's figures (agents/console/flow_summary.h), its charts
// (charts.h) and the order of its advice queue, from records made here.

#include "agents/console/charts.h"
#include "agents/console/flow_summary.h"
#include "common/time.h"
#include "gtest/gtest.h"

namespace safeshare::console {
namespace {

namespace v1 = safeshare::v1;

const absl::Time kT0 = absl::FromUnixSeconds(1796400000);  // 2026-12-04

ShownRecord Decision(uint64_t index, const std::string& id, v1::Decision d,
                     const std::string& from_area = "portsmouth",
                     const std::string& to_area = "hampshire") {
  ShownRecord s;
  s.index = index;
  auto& r = s.record;
  r.set_event(v1::AUDIT_EVENT_TYPE_DECISION);
  r.set_message_id(id);
  r.set_kind(v1::MESSAGE_KIND_REFERRAL);
  r.set_sender_agency_id("southsea-academy");
  r.set_recipient_agency_id("hampshire-crt");
  r.set_sender_area_id(from_area);
  r.set_recipient_area_id(to_area);
  *r.mutable_time() = ToTimestamp(kT0 + absl::Minutes(index));
  r.mutable_declaration()->set_urgency(v1::URGENCY_URGENT);
  r.mutable_decision()->set_decision(d);
  auto* f = r.mutable_decision()->add_findings();
  f->set_check(d == v1::DECISION_DENY ? "necessity_proportionality" : "advice");
  f->set_outcome(d == v1::DECISION_DENY              ? v1::FINDING_OUTCOME_FAIL
                 : d == v1::DECISION_HOLD_FOR_ADVICE ? v1::FINDING_OUTCOME_ADVICE
                                                     : v1::FINDING_OUTCOME_PASS);
  return s;
}

ShownRecord Event(uint64_t index, const std::string& id, v1::AuditEventType e,
                  absl::Duration after) {
  ShownRecord s;
  s.index = index;
  s.record.set_event(e);
  s.record.set_message_id(id);
  s.record.set_sender_agency_id("southsea-academy");
  s.record.set_recipient_agency_id("hampshire-crt");
  *s.record.mutable_time() = ToTimestamp(kT0 + after);
  return s;
}

TEST(FlowSummaryTest, CountsDecisionsFlowsRulesAndTimeliness) {
  const std::vector<ShownRecord> records = {
      Decision(0, "a", v1::DECISION_ALLOW),
      Event(1, "a", v1::AUDIT_EVENT_TYPE_DELIVERED, absl::Minutes(1)),
      Event(2, "a", v1::AUDIT_EVENT_TYPE_ACKNOWLEDGED, absl::Minutes(31)),
      Decision(3, "b", v1::DECISION_DENY),
      Decision(4, "c", v1::DECISION_HOLD_FOR_ADVICE, "portsmouth", "portsmouth"),
      Event(5, "c", v1::AUDIT_EVENT_TYPE_APPROVED_BY_OFFICER, absl::Minutes(6)),
      Event(6, "c", v1::AUDIT_EVENT_TYPE_DELIVERED, absl::Minutes(6)),
      Event(7, "c", v1::AUDIT_EVENT_TYPE_ESCALATED, absl::Hours(5)),
  };
  const FlowSummary s = Summarise(records);
  EXPECT_EQ(s.decisions.total(), 3u);
  const auto& cross = s.area_flows.at({"portsmouth", "hampshire"});
  EXPECT_EQ(cross.allowed, 1u);
  EXPECT_EQ(cross.denied, 1u);
  EXPECT_EQ(cross.held, 0u);
  EXPECT_EQ(s.area_flows.at({"portsmouth", "portsmouth"}).held, 1u);
  EXPECT_EQ(s.agency_flows.at({"southsea-academy", "hampshire-crt"}).total(), 3u);
  EXPECT_EQ(s.by_day.at("2026-12-04").total(), 3u);
  EXPECT_EQ(s.approved_by_officer, 1u);
  // Every check named, in policy's order; one failed, one asked for advice.
  ASSERT_EQ(s.by_check.size(), 7u);
  EXPECT_EQ(s.by_check[0].first, "lawful_basis");
  for (const auto& [check, n] : s.by_check) {
    EXPECT_EQ(n.first, check == "necessity_proportionality" ? 1u : 0u) << check;
    EXPECT_EQ(n.second, check == "advice" ? 1u : 0u) << check;
  }
  const Timeliness& t = s.timeliness.at({"hampshire-crt", v1::URGENCY_URGENT});
  EXPECT_EQ(t.delivered, 2u);
  EXPECT_EQ(t.acknowledged, 1u);
  EXPECT_EQ(t.escalated, 1u);
  EXPECT_EQ(t.Median(), absl::Minutes(30));
  ASSERT_EQ(s.escalations.size(), 1u);
  EXPECT_EQ(s.escalations[0].message_id, "c");
  EXPECT_EQ(s.escalations[0].urgency, v1::URGENCY_URGENT);
}

TEST(FlowSummaryTest, EachDecisionNotToShareCountsOnce) {
  auto not_shared = [](uint64_t index, const std::string& id) {
    ShownRecord s = Event(index, id, v1::AUDIT_EVENT_TYPE_DECIDED_NOT_TO_SHARE, absl::Minutes(1));
    s.record.set_sender_area_id("portsmouth");
    s.record.set_recipient_area_id("hampshire");
    s.record.mutable_declaration()->add_decline_reasons(
        v1::DECLINE_REASON_MORE_DETRIMENTAL_THAN_DISCLOSING);
    return s;
  };
  // "x" recorded twice (a retried call), "y" once.
  const FlowSummary s = Summarise({not_shared(0, "x"), not_shared(1, "x"), not_shared(2, "y")});
  EXPECT_EQ(s.decisions.not_shared, 2u);
  EXPECT_EQ(s.decisions.total(), 0u) << "nothing was shared, refused or held";
  EXPECT_EQ(s.area_flows.at({"portsmouth", "hampshire"}).not_shared, 2u);
  EXPECT_EQ(s.not_shared_reasons.at(v1::DECLINE_REASON_MORE_DETRIMENTAL_THAN_DISCLOSING), 2u);
}

TEST(FlowSummaryTest, CsvTablesHaveHeadersAndSafeFields) {
  const FlowSummary s = Summarise({Decision(0, "a", v1::DECISION_ALLOW)});
  EXPECT_EQ(SummaryCsv(s, "areas"),
            "from_area,to_area,allowed,denied,held,total,not_shared\r\n"
            "portsmouth,hampshire,1,0,0,1,0\r\n");
  EXPECT_EQ(SummaryCsv(s, "no-such-table"), "");
  for (const char* table : kCsvTables) EXPECT_NE(SummaryCsv(s, table), "") << table;
  EXPECT_EQ(CsvField("plain"), "plain");
  EXPECT_EQ(CsvField("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvField("say \"hi\""), "\"say \"\"hi\"\"\"");
  // A spreadsheet would run these as formulas.
  EXPECT_EQ(CsvField("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
  EXPECT_EQ(CsvField("+1"), "'+1");
}

TEST(ChartsTest, EveryFigureIsLabelledAndEveryNameEscaped) {
  const std::string svg = MatrixSvg("Shares between areas", {"p", "h"}, {"<Portsmouth>", "Hants"},
                                    {"p", "h"}, {"<Portsmouth>", "Hants"}, {{0, 7}, {2, 0}});
  EXPECT_NE(svg.find("role=\"img\" aria-label=\"Shares between areas\""), std::string::npos);
  EXPECT_NE(svg.find("data-cell=\"p|h\">7<"), std::string::npos) << svg;
  EXPECT_NE(svg.find("data-cell=\"h|p\">2<"), std::string::npos) << svg;
  EXPECT_EQ(svg.find("<Portsmouth>"), std::string::npos);
  EXPECT_NE(svg.find("&lt;Portsmouth&gt;"), std::string::npos);
  const std::string bars =
      BarsSvg("Decisions", {"2026-12-04"}, {"4 Dec"},
              {{"allowed", "Shared", "#00703c"}, {"denied", "Refused", "#d4351c"}}, {{3, 1}});
  EXPECT_NE(bars.find("data-cell=\"2026-12-04|allowed\">3<"), std::string::npos) << bars;
  EXPECT_NE(bars.find("data-cell=\"2026-12-04|denied\">1<"), std::string::npos) << bars;
}

TEST(AdviceQueueTest, EscalatedThenOverdueThenByDeadline) {
  auto held = [](const std::string& id, absl::Duration decide_in, bool escalated) {
    v1::HeldMessage h;
    h.set_message_id(id);
    *h.mutable_decide_by() = ToTimestamp(kT0 + decide_in);
    if (escalated) *h.mutable_escalated_time() = ToTimestamp(kT0);
    return h;
  };
  std::vector<v1::HeldMessage> q = {
      held("later", absl::Hours(8), false), held("soon", absl::Hours(2), false),
      held("overdue", -absl::Hours(1), false), held("escalated", absl::Hours(9), true)};
  SortHeld(&q, kT0);
  std::vector<std::string> order;
  for (const auto& h : q) order.push_back(h.message_id());
  EXPECT_EQ(order, (std::vector<std::string>{"escalated", "overdue", "soon", "later"}));
}

}  // namespace
}  // namespace safeshare::console
