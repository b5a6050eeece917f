#ifndef SAFESHARE_COMMON_LOG_H_
#define SAFESHARE_COMMON_LOG_H_

// Structured logs: one JSON object a line on stderr. Callers pass ids, codes
// and counts only, never declaration text, content or personal data.

#include <initializer_list>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"

namespace safeshare {

using LogField = std::pair<absl::string_view, std::string>;

void LogEvent(absl::string_view level, absl::string_view event,
              std::initializer_list<LogField> fields = {});

// `s` as a JSON string literal, quotes included, every control character
// escaped.
std::string JsonString(absl::string_view s);

}  // namespace safeshare

#endif  // SAFESHARE_COMMON_LOG_H_
