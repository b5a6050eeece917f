#ifndef SAFESHARE_GATEWAY_REPLY_BUDGET_H_
#define SAFESHARE_GATEWAY_REPLY_BUDGET_H_

// Every list, query, export chunk and report the gateway builds stays within
// LimitsConfig.max_reply_bytes: it stops before the item that would cross the
// budget and hands out a page token for the rest. Agents accept 64 MiB; a
// reply must never be one they cannot read.

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace safeshare::gateway {

class ReplyBudget {
 public:
  // Room is kept for the reply's own fields (a page token, say).
  explicit ReplyBudget(size_t max_bytes)
      : max_bytes_(max_bytes), left_(max_bytes > kReserve ? max_bytes - kReserve : 0) {}

  // Whether one more item of `bytes` (serialized, or as written) fits; if so
  // it is counted. Each item is charged its field framing too.
  bool Take(size_t bytes) {
    const size_t framed = bytes + kFraming;
    if (framed > left_) return false;
    left_ -= framed;
    return true;
  }

  size_t max_bytes() const { return max_bytes_; }

 private:
  static constexpr size_t kReserve = 1024;
  static constexpr size_t kFraming = 16;  // tag and length, generously
  size_t max_bytes_;
  size_t left_;
};

// RESOURCE_EXHAUSTED for one item that alone is over the budget: `what`
// names it (e.g. "audit record 17"), the message names the limit.
absl::Status OverReplyLimit(absl::string_view what, size_t bytes, size_t max_bytes);

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_REPLY_BUDGET_H_
