#ifndef SAFESHARE_GATEWAY_DELIVERY_DEADLINES_H_
#define SAFESHARE_GATEWAY_DELIVERY_DEADLINES_H_

#include <memory>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gateway/delivery/school_calendars.h"
#include "safeshare/v1/enums.pb.h"
#include "safeshare/v1/gateway_config.pb.h"

namespace safeshare::gateway {

// When a recipient must have acknowledged a message, by its urgency:
// immediate 1 hour, urgent 4 hours, standard one working day (the same time
// on the next day that is not a weekend or a bank holiday), all configurable.
// An Operation Encompass notification is due by the start of the recipient
// school's next school day, from its calendar.
class DeadlinePolicy {
 public:
  // Without a calendar (a school that has none, the local authority for a
  // child in elective home education, a calendar past its last term), an
  // Operation Encompass notification is due at this time on the next
  // working day: the earliest usual school start, so never late.
  static constexpr absl::Duration kDefaultSessionStart = absl::Minutes(8 * 60 + 30);

  // Loads the school calendars of config.school_calendar_dir.
  static absl::StatusOr<DeadlinePolicy> FromConfig(const safeshare::v1::DeliveryConfig& config);
  absl::Time Deadline(safeshare::v1::Urgency urgency, absl::Time accepted) const;
  absl::Time Deadline(safeshare::v1::MessageKind kind, const std::string& recipient_agency_id,
                      safeshare::v1::Urgency urgency, absl::Time accepted) const;
  bool IsWorkingDay(absl::CivilDay day) const;
  // Shared by every copy: SIGHUP rereads the folder.
  std::shared_ptr<SchoolCalendars> calendars() const { return calendars_; }

 private:
  absl::Duration immediate_ = absl::Hours(1), urgent_ = absl::Hours(4);
  absl::Duration standard_fixed_ = absl::ZeroDuration();
  absl::TimeZone zone_ = absl::UTCTimeZone();
  std::set<absl::CivilDay> holidays_;
  std::shared_ptr<SchoolCalendars> calendars_ =
      std::make_shared<SchoolCalendars>(std::set<absl::CivilDay>{});
};

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_DELIVERY_DEADLINES_H_
