#ifndef SAFESHARE_AGENTS_WEB_WEB_SERVER_H_
#define SAFESHARE_AGENTS_WEB_WEB_SERVER_H_

// The local web server the connector and the IG console share: cpp-httplib
// (Debian's libcpp-httplib-dev) with what every route needs done the same
// way: who the user is, CSRF on every state-changing call, a strict
// Content-Security-Policy, no caching, problem details for errors, and a
// route table the OpenAPI test compares with the document.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "httplib.h"

namespace safeshare::web {

// The signed-in user: from the configuration (one practitioner's machine) or
// from a trusted proxy's headers.
struct WebUser {
  std::string id;
  std::string role;  // the role's short name, e.g. "designated_safeguarding_lead"
  std::string display_name;
};

struct ProxyTrust {
  std::vector<std::string> addresses;  // remote addresses whose headers count
  std::string user_header = "X-Forwarded-User";
  std::string role_header = "X-Forwarded-Role";
};

struct WebServerOptions {
  // A user for every request when no trusted proxy names one; empty id: none.
  WebUser local_user;
  ProxyTrust proxy;
  // Host headers accepted besides the loopback names with the bound port
  // (e.g. "safeshare.school.example" behind a proxy): a page on another
  // name that resolves here (DNS rebinding) is refused.
  std::vector<std::string> allowed_hosts;
  size_t max_body_bytes = 8 << 20;
  int threads = 16;  // server-sent event streams each hold one
};

// CSRF tokens bound to a user id: HMAC-SHA256 under a key drawn at start, so a
// token is worthless to another user and after a restart.
class CsrfTokens {
 public:
  CsrfTokens();
  std::string For(const std::string& user_id) const;
  bool Valid(const std::string& user_id, const std::string& token) const;

 private:
  std::string key_;
};

// What a handler gets besides the raw request.
struct WebRequest {
  const httplib::Request& http;
  WebUser user;
  std::map<std::string, std::string> path;  // {name} segments of the route
  std::string csrf_token;                   // the user's token, for forms
};

using WebHandler = std::function<void(const WebRequest&, httplib::Response&)>;

// Path templates use OpenAPI's form: "/api/v1/inbox/{message_id}"; a
// parameter matches one path segment of [A-Za-z0-9._~-] characters.
class WebServer {
 public:
  explicit WebServer(WebServerOptions options);
  ~WebServer();

  // Routes needing a signed-in user; POSTs also need the CSRF token.
  void Get(const std::string& path, WebHandler handler);
  void Post(const std::string& path, WebHandler handler);
  // A route anyone may fetch (static assets).
  void PublicGet(const std::string& path, WebHandler handler);

  // "GET /api/v1/inbox/{message_id}", ... in registration order.
  const std::vector<std::string>& routes() const { return routes_; }

  // Binds host:port (port 0: any free port) and serves on a thread of its
  // own. Returns the bound port.
  absl::StatusOr<int> Start(const std::string& host, int port);
  void Stop();

  const CsrfTokens& csrf() const { return csrf_; }

  // The user of a request: a trusted proxy's headers when it comes from a
  // proxy address, else the local user; UNAUTHENTICATED when neither names one.
  absl::StatusOr<WebUser> UserOf(const httplib::Request& request) const;

 private:
  void Add(const std::string& method, const std::string& path, WebHandler handler, bool is_public);

  WebServerOptions options_;
  CsrfTokens csrf_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::vector<std::string> routes_;
  std::vector<std::string> hosts_;  // set by Start, read-only after
};

// Sets the body as JSON (or problem JSON for an error status).
void SetJson(httplib::Response& response, int http_status, const std::string& json);
// An error as problem details, with `extra` members (already-encoded JSON).
void SetProblem(httplib::Response& response, const absl::Status& status,
                const std::vector<std::pair<std::string, std::string>>& extra = {});

}  // namespace safeshare::web

#endif  // SAFESHARE_AGENTS_WEB_WEB_SERVER_H_
