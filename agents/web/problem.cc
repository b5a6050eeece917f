#include "agents/web/problem.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/log.h"

namespace safeshare::web {

int HttpStatusFor(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kFailedPrecondition:
      return 422;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnavailable:
      return 503;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    default:
      return 500;
  }
}

std::string HttpStatusTitle(int http_status) {
  switch (http_status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Internal Server Error";
  }
}

std::string ProblemJson(const absl::Status& status,
                        const std::vector<std::pair<std::string, std::string>>& extra) {
  const int http = HttpStatusFor(status.code());
  const std::string code = absl::StrReplaceAll(
      absl::AsciiStrToLower(absl::StatusCodeToString(status.code())), {{"_", "-"}});
  const std::string detail =
      http == 500 ? "the connector failed; its log says why" : std::string(status.message());
  std::string out = absl::StrCat("{\"type\": ", JsonString("urn:safeshare:problem:" + code),
                                 ", \"title\": ", JsonString(HttpStatusTitle(http)),
                                 ", \"status\": ", http, ", \"detail\": ", JsonString(detail));
  for (const auto& [name, value] : extra)
    absl::StrAppend(&out, ", ", JsonString(name), ": ", value);
  return out + "}";
}

}  // namespace safeshare::web
