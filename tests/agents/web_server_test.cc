// The shared web stack (agents/web/): who the user is, CSRF, the security
// headers, host names, path parameters and problem details, over real HTTP
// on loopback.

#include "agents/web/web_server.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "agents/web/problem.h"

namespace safeshare::web {
namespace {

class WebServerTest : public ::testing::Test {
 protected:
  void Serve(WebServerOptions options) {
    server_ = std::make_unique<WebServer>(std::move(options));
    server_->Get("/api/v1/who", [](const WebRequest& r, httplib::Response& res) {
      SetJson(res, 200,
              absl::StrCat("{\"id\": \"", r.user.id, "\", \"role\": \"", r.user.role, "\"}"));
    });
    server_->Post("/api/v1/items/{item_id}/touch", [](const WebRequest& r, httplib::Response& res) {
      SetJson(res, 200, absl::StrCat("{\"item\": \"", r.path.at("item_id"), "\"}"));
    });
    server_->Get("/api/v1/fail", [](const WebRequest&, httplib::Response& res) {
      SetProblem(res, absl::InternalError("/var/lib/secret/path exploded"));
    });
    auto port = server_->Start("127.0.0.1", 0);
    ASSERT_TRUE(port.ok()) << port.status();
    port_ = *port;
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }
  static WebServerOptions LocalUser() {
    WebServerOptions o;
    o.local_user = {"dsl-17", "designated_safeguarding_lead", "Sam Lead"};
    return o;
  }

  std::unique_ptr<WebServer> server_;
  std::unique_ptr<httplib::Client> client_;
  int port_ = 0;
};

TEST(ProblemTest, CodesMapToHttpStatusesAndInternalDetailIsHidden) {
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kAlreadyExists), 409);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kFailedPrecondition), 422);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kDataLoss), 500);
  const std::string p = ProblemJson(absl::NotFoundError("no message m-1 \"here\""));
  EXPECT_EQ(p,
            "{\"type\": \"urn:safeshare:problem:not-found\", \"title\": \"Not Found\", "
            "\"status\": 404, \"detail\": \"no message m-1 \\\"here\\\"\"}");
  EXPECT_FALSE(absl::StrContains(ProblemJson(absl::InternalError("/etc/x")), "/etc/x"));
  EXPECT_TRUE(absl::StrContains(ProblemJson(absl::FailedPreconditionError("no"), {{"sent", "{}"}}),
                                ", \"sent\": {}}"));
}

TEST(CsrfTokensTest, ATokenIsValidOnlyForItsUserAndItsServer) {
  CsrfTokens a, b;
  const std::string t = a.For("dsl-17");
  EXPECT_FALSE(t.empty());
  EXPECT_TRUE(a.Valid("dsl-17", t));
  EXPECT_FALSE(a.Valid("dsl-18", t));
  EXPECT_FALSE(b.Valid("dsl-17", t));  // another process: another key
  EXPECT_FALSE(a.Valid("dsl-17", ""));
  EXPECT_FALSE(a.Valid("dsl-17", t.substr(1)));
}

TEST_F(WebServerTest, TheLocalUserIsEveryRequestsUserAndEveryResponseIsLockedDown) {
  Serve(LocalUser());
  auto r = client_->Get("/api/v1/who");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "{\"id\": \"dsl-17\", \"role\": \"designated_safeguarding_lead\"}");
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(r->get_header_value("Cache-Control"), "no-store");
  EXPECT_EQ(r->get_header_value("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(r->get_header_value("X-Frame-Options"), "DENY");
  const std::string csp = r->get_header_value("Content-Security-Policy");
  EXPECT_TRUE(absl::StartsWith(csp, "default-src 'none'; script-src 'self';")) << csp;
  EXPECT_TRUE(absl::StrContains(csp, "frame-ancestors 'none'")) << csp;
  EXPECT_FALSE(absl::StrContains(csp, "unsafe-inline")) << csp;
}

TEST_F(WebServerTest, APostWithoutTheUsersCsrfTokenIsRefused) {
  Serve(LocalUser());
  auto none = client_->Post("/api/v1/items/a-1/touch", "", "application/json");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 403);
  EXPECT_EQ(none->get_header_value("Content-Type"), "application/problem+json");
  EXPECT_TRUE(absl::StrContains(none->body, "CSRF")) << none->body;

  httplib::Headers wrong = {{"X-CSRF-Token", server_->csrf().For("someone-else")}};
  auto other = client_->Post("/api/v1/items/a-1/touch", wrong, "", "application/json");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 403);

  httplib::Headers right = {{"X-CSRF-Token", server_->csrf().For("dsl-17")}};
  auto ok = client_->Post("/api/v1/items/a-1/touch", right, "", "application/json");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
  EXPECT_EQ(ok->body, "{\"item\": \"a-1\"}");

  // A form carries it as a field.
  auto form = client_->Post("/api/v1/items/b.2/touch",
                            httplib::Params{{"csrf_token", server_->csrf().For("dsl-17")}});
  ASSERT_TRUE(form);
  EXPECT_EQ(form->status, 200) << form->body;
}

TEST_F(WebServerTest, IdentityHeadersFromAnAddressThatIsNotTheProxyAreIgnored) {
  WebServerOptions o = LocalUser();
  o.proxy.addresses = {"10.9.9.9"};  // the proxy is elsewhere
  Serve(o);
  auto r = client_->Get("/api/v1/who",
                        {{"X-Forwarded-User", "intruder"}, {"X-Forwarded-Role", "team_manager"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(absl::StrContains(r->body, "\"dsl-17\"")) << r->body;
  EXPECT_FALSE(absl::StrContains(r->body, "intruder")) << r->body;
}

TEST_F(WebServerTest, ATrustedProxyNamesTheUserAndWithoutItNobodyIsSignedIn) {
  WebServerOptions o;
  o.proxy.addresses = {"127.0.0.1"};
  Serve(o);
  auto r = client_->Get("/api/v1/who", {{"X-Forwarded-User", "mash-pc-4"},
                                        {"X-Forwarded-Role", "mash_practitioner"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "{\"id\": \"mash-pc-4\", \"role\": \"mash_practitioner\"}");
  auto anonymous = client_->Get("/api/v1/who");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
  EXPECT_TRUE(absl::StrContains(anonymous->body, "X-Forwarded-User")) << anonymous->body;
}

TEST_F(WebServerTest, NoUserConfiguredAndNoProxyMeansUnauthenticated) {
  WebServerOptions o;
  o.proxy.addresses = {"10.9.9.9"};
  Serve(o);
  auto r = client_->Get("/api/v1/who", {{"X-Forwarded-User", "someone"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
}

TEST_F(WebServerTest, AnotherHostNameIsRefused) {
  Serve(LocalUser());
  // What a page on a rebinding domain would send.
  auto r = client_->Get("/api/v1/who", {{"Host", "evil.example:80"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  auto local = client_->Get("/api/v1/who", {{"Host", absl::StrCat("localhost:", port_)}});
  ASSERT_TRUE(local);
  EXPECT_EQ(local->status, 200);
}

TEST_F(WebServerTest, UnknownPathsAndInternalErrorsAreProblemsThatRevealNothing) {
  Serve(LocalUser());
  auto missing = client_->Get("/api/v1/nothing-here");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(missing->get_header_value("Content-Type"), "application/problem+json");
  EXPECT_EQ(missing->get_header_value("Cache-Control"), "no-store");
  auto bad_param = client_->Post("/api/v1/items/a%2Fb/touch", "", "application/json");
  ASSERT_TRUE(bad_param);
  EXPECT_EQ(bad_param->status, 404);
  auto fail = client_->Get("/api/v1/fail");
  ASSERT_TRUE(fail);
  EXPECT_EQ(fail->status, 500);
  EXPECT_FALSE(absl::StrContains(fail->body, "secret")) << fail->body;
}

TEST_F(WebServerTest, TheRouteTableListsEveryRouteInOpenApiForm) {
  Serve(LocalUser());
  EXPECT_EQ(server_->routes(),
            (std::vector<std::string>{"GET /api/v1/who", "POST /api/v1/items/{item_id}/touch",
                                      "GET /api/v1/fail"}));
}

}  // namespace
}  // namespace safeshare::web
