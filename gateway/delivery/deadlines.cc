#include "gateway/delivery/deadlines.h"

#include "absl/strings/str_cat.h"
#include "gateway/delivery/school_calendars.h"

namespace safeshare::gateway {

absl::StatusOr<DeadlinePolicy> DeadlinePolicy::FromConfig(
    const safeshare::v1::DeliveryConfig& config) {
  DeadlinePolicy p;
  if (config.immediate_ack_seconds() > 0)
    p.immediate_ = absl::Seconds(config.immediate_ack_seconds());
  if (config.urgent_ack_seconds() > 0) p.urgent_ = absl::Seconds(config.urgent_ack_seconds());
  if (config.standard_ack_seconds() > 0) {
    p.standard_fixed_ = absl::Seconds(config.standard_ack_seconds());
  }
  const std::string zone = config.time_zone().empty() ? "Europe/London" : config.time_zone();
  if (!absl::LoadTimeZone(zone, &p.zone_)) {
    if (!config.time_zone().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("config: delivery.time_zone '", zone, "' is not a known time zone"));
    }
    p.zone_ = absl::UTCTimeZone();  // no zone database installed
  }
  for (const auto& text : config.bank_holidays()) {
    auto day = ParseDay(text, "config: delivery.bank_holidays");
    if (!day.ok()) return day.status();
    p.holidays_.insert(*day);
  }
  p.calendars_ = std::make_shared<SchoolCalendars>(p.holidays_);
  if (absl::Status st = p.calendars_->Load(config.school_calendar_dir()); !st.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("config: delivery.school_calendar_dir: ", st.message()));
  }
  return p;
}

bool DeadlinePolicy::IsWorkingDay(absl::CivilDay day) const {
  const absl::Weekday w = absl::GetWeekday(day);
  return w != absl::Weekday::saturday && w != absl::Weekday::sunday && !holidays_.count(day);
}

absl::Time DeadlinePolicy::Deadline(safeshare::v1::Urgency urgency, absl::Time accepted) const {
  switch (urgency) {
    case safeshare::v1::URGENCY_IMMEDIATE:
      return accepted + immediate_;
    case safeshare::v1::URGENCY_URGENT:
      return accepted + urgent_;
    default:
      break;
  }
  if (standard_fixed_ > absl::ZeroDuration()) return accepted + standard_fixed_;
  const absl::CivilSecond local = absl::ToCivilSecond(accepted, zone_);
  absl::CivilDay day(local);
  do {
    ++day;
  } while (!IsWorkingDay(day));
  return absl::FromCivil(absl::CivilSecond(day.year(), day.month(), day.day(), local.hour(),
                                           local.minute(), local.second()),
                         zone_);
}

absl::Time DeadlinePolicy::Deadline(safeshare::v1::MessageKind kind,
                                    const std::string& recipient_agency_id,
                                    safeshare::v1::Urgency urgency, absl::Time accepted) const {
  if (kind != safeshare::v1::MESSAGE_KIND_OPERATION_ENCOMPASS) return Deadline(urgency, accepted);
  const auto calendars = calendars_->Current();
  if (auto it = calendars->find(recipient_agency_id); it != calendars->end()) {
    if (auto start = it->second.NextSessionStart(accepted)) return *start;
  }
  absl::CivilDay day(absl::ToCivilSecond(accepted, zone_));
  while (!IsWorkingDay(day) || absl::FromCivil(day, zone_) + kDefaultSessionStart <= accepted) {
    ++day;
  }
  return absl::FromCivil(day, zone_) + kDefaultSessionStart;
}

}  // namespace safeshare::gateway
