#ifndef SAFESHARE_AGENTS_WEB_PROBLEM_H_
#define SAFESHARE_AGENTS_WEB_PROBLEM_H_

// Errors at the HTTP edge: an absl::Status becomes an HTTP status and an RFC
// 9457 problem details object (application/problem+json).

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace safeshare::web {

// The HTTP status for a canonical code: INVALID_ARGUMENT 400,
// UNAUTHENTICATED 401, PERMISSION_DENIED 403, NOT_FOUND 404, ALREADY_EXISTS
// and ABORTED 409, FAILED_PRECONDITION 422, RESOURCE_EXHAUSTED 429,
// UNAVAILABLE 503, DEADLINE_EXCEEDED 504, anything else 500.
int HttpStatusFor(absl::StatusCode code);

// The short title of an HTTP status, e.g. "Bad Request".
std::string HttpStatusTitle(int http_status);

// {"type": "urn:safeshare:problem:<code>", "title", "status", "detail"},
// plus `extra` members (name, already-encoded JSON value). The detail of an
// internal error is not shown: it may name files or state the user cannot act on.
std::string ProblemJson(const absl::Status& status,
                        const std::vector<std::pair<std::string, std::string>>& extra = {});

}  // namespace safeshare::web

#endif  // SAFESHARE_AGENTS_WEB_PROBLEM_H_
