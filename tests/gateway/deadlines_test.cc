#include "gateway/delivery/deadlines.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

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

// A school calendar like deploy/school-calendars/southsea-academy.json.
std::string WriteCalendar(const std::string& dir, const std::string& name,
                          const std::string& json) {
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/" + name) << json;
  return dir;
}

constexpr char kSouthsea[] = R"({
  "agency_id": "southsea-academy",
  "time_zone": "Europe/London",
  "session_start": "08:40",
  "terms": [
    {"first_day": "2026-11-02", "last_day": "2026-12-18"},
    {"first_day": "2027-01-05", "last_day": "2027-02-12"}
  ],
  "inset_days": ["2026-11-02", "2027-01-05"],
  "closures": ["2026-12-10"]
})";

absl::Time London(int y, int mo, int d, int h, int mi = 0) {
  absl::TimeZone london;
  EXPECT_TRUE(absl::LoadTimeZone("Europe/London", &london));
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, 0), london);
}

class OperationEncompassDeadlineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/calendars-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    WriteCalendar(dir_, "southsea-academy.json", kSouthsea);
    config_.set_school_calendar_dir(dir_);
    config_.add_bank_holidays("2026-12-25");
  }
  absl::Time Due(absl::Time sent, const std::string& school = "southsea-academy") {
    auto p = DeadlinePolicy::FromConfig(config_);
    EXPECT_TRUE(p.ok()) << p.status();
    return p->Deadline(v1::MESSAGE_KIND_OPERATION_ENCOMPASS, school, v1::URGENCY_URGENT, sent);
  }
  std::string dir_;
  v1::DeliveryConfig config_;
};

TEST_F(OperationEncompassDeadlineTest, FridayEveningIsDueAtMondaySessionStart) {
  EXPECT_EQ(Due(London(2026, 12, 4, 19, 30)), London(2026, 12, 7, 8, 40));
  // Before the session starts on a school day: that morning.
  EXPECT_EQ(Due(London(2026, 12, 8, 6, 15)), London(2026, 12, 8, 8, 40));
  // At or after it: the next school day.
  EXPECT_EQ(Due(London(2026, 12, 8, 8, 40)), London(2026, 12, 9, 8, 40));
  // A closure day is skipped (Thursday 10th closed -> Friday 11th).
  EXPECT_EQ(Due(London(2026, 12, 9, 16, 0)), London(2026, 12, 11, 8, 40));
}

TEST_F(OperationEncompassDeadlineTest, AfterAHolidayItIsDueAtTheStartOfTerm) {
  // Last day of the autumn term -> the INSET day 5 January has no pupils ->
  // Wednesday 6 January 2027.
  EXPECT_EQ(Due(London(2026, 12, 18, 17, 0)), London(2027, 1, 6, 8, 40));
  // During the holiday, Christmas Day included.
  EXPECT_EQ(Due(London(2026, 12, 25, 23, 0)), London(2027, 1, 6, 8, 40));
  // Half term (between the two listed terms' INSET day): the first pupil day.
  EXPECT_EQ(Due(London(2026, 10, 30, 12, 0)), London(2026, 11, 3, 8, 40));
}

TEST_F(OperationEncompassDeadlineTest, WithoutACalendarTheNextWorkingDayAtHalfPastEight) {
  // A school with no calendar, or the local authority for a child in
  // elective home education.
  config_.set_time_zone("Europe/London");
  EXPECT_EQ(Due(London(2026, 12, 4, 19, 30), "portsmouth-mash"), London(2026, 12, 7, 8, 30));
  EXPECT_EQ(Due(London(2026, 12, 24, 9, 0), "portsmouth-mash"), London(2026, 12, 28, 8, 30));
  EXPECT_EQ(Due(London(2026, 12, 8, 7, 0), "portsmouth-mash"), London(2026, 12, 8, 8, 30));
  // A calendar past its last term falls back the same way, never later.
  EXPECT_EQ(Due(London(2027, 3, 1, 19, 0)), London(2027, 3, 2, 8, 30));
  // Other kinds keep their urgency's deadline.
  auto p = DeadlinePolicy::FromConfig(config_);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->Deadline(v1::MESSAGE_KIND_REFERRAL, "southsea-academy", v1::URGENCY_URGENT,
                        London(2026, 12, 4, 19, 30)),
            London(2026, 12, 4, 23, 30));
}

TEST_F(OperationEncompassDeadlineTest, BadCalendarsAreRefusedWithTheirFileAndField) {
  WriteCalendar(dir_, "broken.json",
                R"({"agency_id": "x", "session_start": "8.40", "terms": [)"
                R"({"first_day": "2026-09-01", "last_day": "2026-10-01"}]})");
  auto p = DeadlinePolicy::FromConfig(config_);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(p.status().message().find("broken.json: session_start"), std::string::npos)
      << p.status();
  WriteCalendar(dir_, "broken.json",
                R"({"agency_id": "x", "session_start": "08:40", "terms": [)"
                R"({"first_day": "2026-10-01", "last_day": "2026-09-01"}]})");
  p = DeadlinePolicy::FromConfig(config_);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("terms[0]: last_day is before first_day"), std::string::npos)
      << p.status();
  WriteCalendar(dir_, "broken.json", std::string(kSouthsea));
  p = DeadlinePolicy::FromConfig(config_);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("a second calendar for southsea-academy"), std::string::npos)
      << p.status();
}

TEST_F(OperationEncompassDeadlineTest, AReloadReplacesCalendarsAndAFailedOneKeepsThem) {
  auto p = DeadlinePolicy::FromConfig(config_);
  ASSERT_TRUE(p.ok());
  const absl::Time friday = London(2026, 12, 4, 19, 30);
  // The school adds an INSET day on Monday 7th.
  std::string changed(kSouthsea);
  changed.insert(changed.find("\"2026-11-02\", \"2027"), "\"2026-12-07\", ");
  WriteCalendar(dir_, "southsea-academy.json", changed);
  ASSERT_TRUE(p->calendars()->Load(dir_).ok());
  EXPECT_EQ(p->Deadline(v1::MESSAGE_KIND_OPERATION_ENCOMPASS, "southsea-academy",
                        v1::URGENCY_URGENT, friday),
            London(2026, 12, 8, 8, 40));
  WriteCalendar(dir_, "southsea-academy.json", "{not json");
  EXPECT_FALSE(p->calendars()->Load(dir_).ok());
  EXPECT_EQ(p->Deadline(v1::MESSAGE_KIND_OPERATION_ENCOMPASS, "southsea-academy",
                        v1::URGENCY_URGENT, friday),
            London(2026, 12, 8, 8, 40));
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
