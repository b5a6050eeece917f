#ifndef SAFESHARE_COMMON_TIME_H_
#define SAFESHARE_COMMON_TIME_H_

// absl::Time <-> google.protobuf.Timestamp, at microsecond precision (what
// the stores keep).

#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"

namespace safeshare {

google::protobuf::Timestamp ToTimestamp(absl::Time t);
absl::Time FromTimestamp(const google::protobuf::Timestamp& ts);

}  // namespace safeshare

#endif  // SAFESHARE_COMMON_TIME_H_
