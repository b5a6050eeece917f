#ifndef SAFESHARE_GATEWAY_DELIVERY_SCHOOL_CALENDARS_H_
#define SAFESHARE_GATEWAY_DELIVERY_SCHOOL_CALENDARS_H_

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "safeshare/v1/gateway_config.pb.h"

namespace safeshare::gateway {

// One school's days and session start, for Operation Encompass: a
// notification is due by the start of the school's next school day.
class SchoolCalendar {
 public:
  // `bank_holidays` are not school days even in term.
  static absl::StatusOr<SchoolCalendar> FromProto(const safeshare::v1::SchoolCalendar& proto,
                                                  const std::set<absl::CivilDay>& bank_holidays);

  bool IsSchoolDay(absl::CivilDay day) const;
  // The first session start strictly after `t`, or nullopt when the calendar
  // has no school day after `t` (its last term has ended: out of date).
  std::optional<absl::Time> NextSessionStart(absl::Time t) const;

  const std::string& agency_id() const { return agency_id_; }

 private:
  std::string agency_id_;
  absl::TimeZone zone_;
  absl::Duration session_start_;  // since local midnight
  std::vector<std::pair<absl::CivilDay, absl::CivilDay>> terms_;
  std::set<absl::CivilDay> not_school_days_;
};

// Every school's calendar, read from a folder of JSON files and replaced
// whole on reload (SIGHUP); shared by the services that compute deadlines.
class SchoolCalendars {
 public:
  using Map = std::map<std::string, SchoolCalendar>;

  explicit SchoolCalendars(std::set<absl::CivilDay> bank_holidays)
      : bank_holidays_(std::move(bank_holidays)) {}

  // Reads `dir` (every *.json); on any error keeps what it had. An empty
  // `dir` means no calendars.
  absl::Status Load(const std::string& dir);
  std::shared_ptr<const Map> Current() const;

 private:
  const std::set<absl::CivilDay> bank_holidays_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const Map> current_ ABSL_GUARDED_BY(mu_) = std::make_shared<Map>();
};

// Parses a "YYYY-MM-DD" calendar date; `field` names it in the error.
absl::StatusOr<absl::CivilDay> ParseDay(const std::string& text, const std::string& field);

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_DELIVERY_SCHOOL_CALENDARS_H_
