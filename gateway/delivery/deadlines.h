#ifndef SAFESHARE_GATEWAY_DELIVERY_DEADLINES_H_
#define SAFESHARE_GATEWAY_DELIVERY_DEADLINES_H_

#include <set>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "safeshare/v1/enums.pb.h"
#include "safeshare/v1/gateway_config.pb.h"

namespace safeshare::gateway {

// When a recipient must have acknowledged a message, by its urgency:
// immediate 1 hour, urgent 4 hours, standard one working day (the same time
// on the next day that is not a weekend or a bank holiday), all configurable.
class DeadlinePolicy {
 public:
  static absl::StatusOr<DeadlinePolicy> FromConfig(const safeshare::v1::DeliveryConfig& config);
  absl::Time Deadline(safeshare::v1::Urgency urgency, absl::Time accepted) const;
  bool IsWorkingDay(absl::CivilDay day) const;

 private:
  absl::Duration immediate_ = absl::Hours(1), urgent_ = absl::Hours(4);
  absl::Duration standard_fixed_ = absl::ZeroDuration();
  absl::TimeZone zone_ = absl::UTCTimeZone();
  std::set<absl::CivilDay> holidays_;
};

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_DELIVERY_DEADLINES_H_
