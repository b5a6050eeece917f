#include "gateway/reply_budget.h"

#include "absl/strings/str_cat.h"

namespace safeshare::gateway {

absl::Status OverReplyLimit(absl::string_view what, size_t bytes, size_t max_bytes) {
  return absl::ResourceExhaustedError(absl::StrCat(
      what, " is ", bytes, " bytes, more than one reply may carry (max_reply_bytes is ", max_bytes,
      "); the operator can raise limits.max_reply_bytes"));
}

}  // namespace safeshare::gateway
