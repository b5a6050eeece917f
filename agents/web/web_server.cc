#include "agents/web/web_server.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "agents/web/problem.h"
#include "common/log.h"

namespace safeshare::web {
namespace {

std::string HmacSha256(const std::string& key, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  size_t out_len = 0;
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  EVP_MAC_CTX* ctx = mac ? EVP_MAC_CTX_new(mac) : nullptr;
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_end()};
  bool ok =
      ctx &&
      EVP_MAC_init(ctx, reinterpret_cast<const unsigned char*>(key.data()), key.size(), params) ==
          1 &&
      EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1 &&
      EVP_MAC_final(ctx, out, &out_len, sizeof out) == 1;
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(mac);
  if (!ok) return "";  // no token then matches: every POST is refused
  return std::string(reinterpret_cast<char*>(out), out_len);
}

// Every response: no framing, no sniffing, no referrer, nothing cached, and
// only this server's own scripts, styles, fonts and images.
httplib::Headers SecurityHeaders() {
  return {
      {"Content-Security-Policy",
       "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
       "base-uri 'none'"},
      {"Cache-Control", "no-store"},
      {"X-Content-Type-Options", "nosniff"},
      {"Referrer-Policy", "no-referrer"},
      {"X-Frame-Options", "DENY"},
      {"Cross-Origin-Opener-Policy", "same-origin"},
      {"Cross-Origin-Resource-Policy", "same-origin"},
  };
}

// "/a/{id}/b" -> "/a/([A-Za-z0-9._~-]+)/b" and the names in order.
std::string PathRegex(const std::string& path, std::vector<std::string>* names) {
  std::string out;
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '{') {
      size_t end = path.find('}', i);
      names->push_back(path.substr(i + 1, end - i - 1));
      out += "([A-Za-z0-9._~-]+)";
      i = end;
    } else if (std::string("\\^$.|?*+()[]").find(path[i]) != std::string::npos) {
      out += '\\';
      out += path[i];
    } else {
      out += path[i];
    }
  }
  return out;
}

}  // namespace

CsrfTokens::CsrfTokens() : key_(32, '\0') {
  if (RAND_bytes(reinterpret_cast<unsigned char*>(key_.data()), key_.size()) != 1) key_.clear();
}

std::string CsrfTokens::For(const std::string& user_id) const {
  if (key_.empty()) return "";
  return absl::WebSafeBase64Escape(HmacSha256(key_, "csrf\n" + user_id));
}

bool CsrfTokens::Valid(const std::string& user_id, const std::string& token) const {
  const std::string want = For(user_id);
  return !want.empty() && token.size() == want.size() &&
         CRYPTO_memcmp(token.data(), want.data(), want.size()) == 0;
}

void SetJson(httplib::Response& response, int http_status, const std::string& json) {
  response.status = http_status;
  response.set_content(json, http_status >= 400 ? "application/problem+json" : "application/json");
}

void SetProblem(httplib::Response& response, const absl::Status& status,
                const std::vector<std::pair<std::string, std::string>>& extra) {
  if (HttpStatusFor(status.code()) == 500) {
    LogEvent("error", "web.internal_error", {{"detail", std::string(status.message())}});
  }
  SetJson(response, HttpStatusFor(status.code()), ProblemJson(status, extra));
}

WebServer::WebServer(WebServerOptions options)
    : options_(std::move(options)), server_(std::make_unique<httplib::Server>()) {
  server_->set_default_headers(SecurityHeaders());
  server_->set_payload_max_length(options_.max_body_bytes);
  const int threads = options_.threads;
  server_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server_->set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        SetProblem(res, absl::InternalError("a handler threw"));
      });
  server_->set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    const absl::Status st =
        res.status == 404   ? absl::NotFoundError("there is nothing at this address")
        : res.status == 413 ? absl::InvalidArgumentError("the request body is too large")
                            : absl::InvalidArgumentError("the request could not be served");
    SetJson(res, res.status, ProblemJson(st));
  });
}

WebServer::~WebServer() { Stop(); }

absl::StatusOr<WebUser> WebServer::UserOf(const httplib::Request& request) const {
  const auto& proxies = options_.proxy.addresses;
  if (std::find(proxies.begin(), proxies.end(), request.remote_addr) != proxies.end()) {
    WebUser user;
    user.id = request.get_header_value(options_.proxy.user_header.c_str());
    user.role = request.get_header_value(options_.proxy.role_header.c_str());
    user.display_name = user.id;
    if (user.id.empty()) {
      return absl::UnauthenticatedError(
          absl::StrCat("the proxy sent no ", options_.proxy.user_header, " header"));
    }
    return user;
  }
  // Anyone else's identity headers are ignored.
  if (options_.local_user.id.empty()) {
    return absl::UnauthenticatedError("sign in through your organisation's proxy");
  }
  return options_.local_user;
}

void WebServer::Get(const std::string& path, WebHandler handler) {
  Add("GET", path, std::move(handler), false);
}
void WebServer::Post(const std::string& path, WebHandler handler) {
  Add("POST", path, std::move(handler), false);
}
void WebServer::PublicGet(const std::string& path, WebHandler handler) {
  Add("GET", path, std::move(handler), true);
}

void WebServer::Add(const std::string& method, const std::string& path, WebHandler handler,
                    bool is_public) {
  routes_.push_back(absl::StrCat(method, " ", path));
  std::vector<std::string> names;
  const std::string pattern = PathRegex(path, &names);
  const bool is_post = method == "POST";
  auto wrapped = [this, names, handler, is_public, is_post](const httplib::Request& req,
                                                            httplib::Response& res) {
    const std::string host = absl::AsciiStrToLower(req.get_header_value("Host"));
    if (std::find(hosts_.begin(), hosts_.end(), host) == hosts_.end()) {
      return SetProblem(
          res, absl::PermissionDeniedError("this server does not answer to that host name"));
    }
    WebRequest request{req, {}, {}, ""};
    for (size_t i = 0; i < names.size() && i + 1 < req.matches.size(); ++i) {
      request.path[names[i]] = req.matches[i + 1];
    }
    if (!is_public) {
      auto user = UserOf(req);
      if (!user.ok()) return SetProblem(res, user.status());
      request.user = *std::move(user);
      request.csrf_token = csrf_.For(request.user.id);
      if (is_post) {
        std::string token = req.get_header_value("X-CSRF-Token");
        if (token.empty()) token = req.get_param_value("csrf_token");
        if (!csrf_.Valid(request.user.id, token)) {
          return SetProblem(res, absl::PermissionDeniedError(
                                     "the CSRF token is missing or not this user's: reload the "
                                     "page, or send the X-CSRF-Token from GET /api/v1/session"));
        }
      }
    }
    handler(request, res);
  };
  if (is_post) {
    server_->Post(pattern, wrapped);
  } else {
    server_->Get(pattern, wrapped);
  }
}

absl::StatusOr<int> WebServer::Start(const std::string& host, int port) {
  int bound = port;
  if (port == 0) {
    bound = server_->bind_to_any_port(host);
    if (bound < 0) return absl::UnavailableError(absl::StrCat("cannot listen on ", host));
  } else if (!server_->bind_to_port(host, port)) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", host, ":", port,
                                               " (in use, or not this machine's address)"));
  }
  hosts_ = {absl::StrCat("127.0.0.1:", bound), absl::StrCat("localhost:", bound),
            absl::StrCat("[::1]:", bound)};
  for (const auto& h : options_.allowed_hosts) hosts_.push_back(absl::AsciiStrToLower(h));
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // Running before Start returns: a stop() that came first would be lost
  // and the listener would never end.
  for (int i = 0; i < 5000 && !server_->is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return bound;
}

void WebServer::Stop() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace safeshare::web
