#include "gateway/delivery/deadlines.h"

#include <cstdio>
#include <cstdlib>

#include "gtest/gtest.h"

namespace safeshare::gateway {
namespace {

absl::Time Utc(int y, int mo, int d, int h, int mi = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, 0), absl::UTCTimeZone());
}

TEST(DeadlinesTest, DefaultsByUrgency) {
  v1::DeliveryConfig c;
  c.set_time_zone("UTC");
  auto p = DeadlinePolicy::FromConfig(c);
  ASSERT_TRUE(p.ok());
  const absl::Time wed = Utc(2026, 11, 25, 10);
  EXPECT_EQ(p->Deadline(v1::URGENCY_IMMEDIATE, wed), wed + absl::Hours(1));
  EXPECT_EQ(p->Deadline(v1::URGENCY_URGENT, wed), wed + absl::Hours(4));
  EXPECT_EQ(p->Deadline(v1::URGENCY_STANDARD, wed), Utc(2026, 11, 26, 10));
}

TEST(DeadlinesTest, StandardSkipsWeekendsAndBankHolidays) {
  v1::DeliveryConfig c;
  c.set_time_zone("UTC");
  c.add_bank_holidays("2026-12-25");
  c.add_bank_holidays("2026-12-28");
  auto p = DeadlinePolicy::FromConfig(c);
  ASSERT_TRUE(p.ok());
  // Friday afternoon -> Monday afternoon.
  EXPECT_EQ(p->Deadline(v1::URGENCY_STANDARD, Utc(2026, 11, 27, 15, 30)),
            Utc(2026, 11, 30, 15, 30));
  // Christmas Eve (Thursday) -> Christmas Day and the weekend and the Monday
  // bank holiday are skipped -> Tuesday 29th.
  EXPECT_EQ(p->Deadline(v1::URGENCY_STANDARD, Utc(2026, 12, 24, 9)), Utc(2026, 12, 29, 9));
  // Unspecified urgency counts as standard.
  EXPECT_EQ(p->Deadline(v1::URGENCY_UNSPECIFIED, Utc(2026, 11, 27, 15, 30)),
            Utc(2026, 11, 30, 15, 30));
}

TEST(DeadlinesTest, ConfiguredSpansAndBadConfig) {
  v1::DeliveryConfig c;
  c.set_immediate_ack_seconds(60);
  c.set_standard_ack_seconds(7200);
  auto p = DeadlinePolicy::FromConfig(c);
  ASSERT_TRUE(p.ok());
  const absl::Time t = Utc(2026, 11, 28, 12);  // a Saturday: fixed span ignores days
  EXPECT_EQ(p->Deadline(v1::URGENCY_IMMEDIATE, t), t + absl::Minutes(1));
  EXPECT_EQ(p->Deadline(v1::URGENCY_STANDARD, t), t + absl::Hours(2));
  v1::DeliveryConfig bad;
  bad.add_bank_holidays("25/12/2026");
  EXPECT_EQ(DeadlinePolicy::FromConfig(bad).status().code(), absl::StatusCode::kInvalidArgument);
  v1::DeliveryConfig zone;
  zone.set_time_zone("Mars/Olympus_Mons");
  EXPECT_EQ(DeadlinePolicy::FromConfig(zone).status().code(), absl::StatusCode::kInvalidArgument);
}

// With no zone configured, working days are London's: Friday 23:30 UTC in
// October is already Saturday in British Summer Time, so the deadline is
// Monday 00:30 (the clocks went back on the Sunday); in UTC it would be
// Monday 23:30.
TEST(DeadlinesTest, TheDefaultZoneIsEuropeLondon) {
  auto london = DeadlinePolicy::FromConfig({});
  ASSERT_TRUE(london.ok());
  EXPECT_EQ(london->Deadline(v1::URGENCY_STANDARD, Utc(2026, 10, 23, 23, 30)),
            Utc(2026, 10, 26, 0, 30));
  v1::DeliveryConfig c;
  c.set_time_zone("UTC");
  auto utc = DeadlinePolicy::FromConfig(c);
  ASSERT_TRUE(utc.ok());
  EXPECT_EQ(utc->Deadline(v1::URGENCY_STANDARD, Utc(2026, 10, 23, 23, 30)),
            Utc(2026, 10, 26, 23, 30));
}

// A machine without time-zone data still starts: the default falls back to
// UTC, while a zone the operator named is refused rather than ignored. Run in
// a fresh process (zones are cached once loaded) with TZDIR pointing nowhere.
TEST(DeadlinesDeathTest, WithoutZoneDataTheDefaultFallsBackToUtc) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        setenv("TZDIR", "/nonexistent/zoneinfo", 1);
        auto fallback = DeadlinePolicy::FromConfig({});
        const bool utc =
            fallback.ok() && fallback->Deadline(v1::URGENCY_STANDARD, Utc(2026, 10, 23, 23, 30)) ==
                                 Utc(2026, 10, 26, 23, 30);
        v1::DeliveryConfig named;
        named.set_time_zone("Europe/London");
        const bool refused =
            DeadlinePolicy::FromConfig(named).status().code() == absl::StatusCode::kInvalidArgument;
        std::fprintf(stderr, "utc=%d refused=%d\n", utc, refused);
        std::exit(utc && refused ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "utc=1 refused=1");
}

}  // namespace
}  // namespace safeshare::gateway
