#include "agents/connector/connector_api.h"

#include <atomic>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "agents/web/problem.h"
#include "common/enum_text.h"
#include "google/protobuf/util/json_util.h"

namespace safeshare::connector {
namespace {

namespace v1 = safeshare::v1;
using web::SetJson;
using web::SetProblem;
using web::WebRequest;

std::string Json(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, opts);
  return out;
}

template <typename T>
void Reply(httplib::Response& res, const absl::StatusOr<T>& r, int ok_status = 200) {
  if (!r.ok()) return SetProblem(res, r.status());
  SetJson(res, ok_status, Json(*r));
}

// The body as `m`; INVALID_ARGUMENT naming what is wrong.
absl::Status ParseBody(const httplib::Request& req, google::protobuf::Message* m) {
  const std::string type = req.get_header_value("Content-Type");
  if (!absl::StartsWith(absl::AsciiStrToLower(type), "application/json")) {
    return absl::InvalidArgumentError("send the body as application/json");
  }
  google::protobuf::util::JsonParseOptions opts;
  opts.ignore_unknown_fields = false;
  auto st = google::protobuf::util::JsonStringToMessage(req.body, m, opts);
  if (!st.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("the body is not a ", m->GetTypeName(),
                                                   " in JSON: ", st.message().as_string()));
  }
  return absl::OkStatus();
}

int PageSizeParam(const httplib::Request& req) {
  int n = 0;
  if (!absl::SimpleAtoi(req.get_param_value("page_size"), &n)) return 0;
  return n;
}

// Server-sent events: one "event:" line a type, the message id as data,
// from after Last-Event-ID (or now) until the client goes away.
// Each open stream holds one of the server's threads: at most this many, so
// pages and API calls always have threads left.
constexpr int kMaxEventStreams = 8;

void StreamEvents(Connector* connector, const WebRequest& r, httplib::Response& res) {
  static std::atomic<int> open_streams{0};
  if (open_streams.fetch_add(1) >= kMaxEventStreams) {
    open_streams.fetch_sub(1);
    return SetProblem(
        res, absl::UnavailableError(absl::StrCat(kMaxEventStreams,
                                                 " event streams are open already; close one "
                                                 "(another tab?) or try again shortly")));
  }
  uint64_t after = 0;
  bool resume = absl::SimpleAtoi(r.http.get_header_value("Last-Event-ID"), &after);
  if (!resume) after = connector->LatestEventId();
  res.set_chunked_content_provider(
      "text/event-stream",
      [connector, after](size_t, httplib::DataSink& sink) mutable {
        if (connector->stopping()) return false;
        uint64_t latest = after;
        auto events = connector->EventsAfter(after, absl::Seconds(5), &latest);
        std::string out;
        for (const auto& e : events) {
          absl::StrAppend(&out, "id: ", e.id, "\nevent: ", e.type, "\ndata: ", e.message_id,
                          "\n\n");
        }
        if (out.empty()) out = ": keep-alive\n\n";  // finds a closed connection
        after = std::max(after, latest);
        return sink.write(out.data(), out.size());
      },
      [](bool) { open_streams.fetch_sub(1); });
}

}  // namespace

absl::StatusOr<v1::Practitioner> PractitionerOf(const web::WebUser& user) {
  v1::PractitionerRole role = v1::PRACTITIONER_ROLE_UNSPECIFIED;
  if (!v1::PractitionerRole_Parse("PRACTITIONER_ROLE_" + absl::AsciiStrToUpper(user.role), &role) ||
      role == v1::PRACTITIONER_ROLE_UNSPECIFIED) {
    return absl::PermissionDeniedError(
        absl::StrCat("your role ('", user.role,
                     "') is not one safeshare knows; ask your administrator to set it"));
  }
  v1::Practitioner p;
  p.set_id(user.id);
  p.set_role(role);
  return p;
}

void AddApiRoutes(Connector* c, web::WebServer* server) {
  server->Get("/api/v1/session", [c](const WebRequest& r, httplib::Response& res) {
    v1::Session s;
    s.set_agency_id(c->agency_id());
    s.set_user_id(r.user.id);
    v1::PractitionerRole role;
    if (v1::PractitionerRole_Parse("PRACTITIONER_ROLE_" + absl::AsciiStrToUpper(r.user.role),
                                   &role)) {
      s.set_role(role);
    }
    s.set_display_name(r.user.display_name);
    s.set_csrf_token(r.csrf_token);
    SetJson(res, 200, Json(s));
  });
  server->Get("/api/v1/agencies",
              [c](const WebRequest&, httplib::Response& res) { Reply(res, c->Agencies()); });
  server->Post("/api/v1/checks", [c](const WebRequest& r, httplib::Response& res) {
    auto who = PractitionerOf(r.user);
    if (!who.ok()) return SetProblem(res, who.status());
    v1::Draft draft;
    if (auto st = ParseBody(r.http, &draft); !st.ok()) return SetProblem(res, st);
    Reply(res, c->Check(*who, draft));
  });
  server->Post("/api/v1/decisions-not-to-share", [c](const WebRequest& r, httplib::Response& res) {
    auto who = PractitionerOf(r.user);
    if (!who.ok()) return SetProblem(res, who.status());
    v1::DecisionNotToShare decision;
    if (auto st = ParseBody(r.http, &decision); !st.ok()) return SetProblem(res, st);
    Reply(res, c->RecordNotToShare(*who, decision), 201);
  });
  server->Post("/api/v1/messages", [c](const WebRequest& r, httplib::Response& res) {
    auto who = PractitionerOf(r.user);
    if (!who.ok()) return SetProblem(res, who.status());
    v1::Draft draft;
    if (auto st = ParseBody(r.http, &draft); !st.ok()) return SetProblem(res, st);
    auto sent = c->Send(*who, std::move(draft));
    if (!sent.ok()) return SetProblem(res, sent.status());
    switch (sent->send_state()) {
      case v1::SEND_STATE_QUEUED:
        return SetJson(res, 202, Json(*sent));
      case v1::SEND_STATE_DECIDED:
        if (sent->receipt().state() != v1::MESSAGE_STATE_REFUSED)
          return SetJson(res, 201, Json(*sent));
        return SetProblem(res,
                          absl::FailedPreconditionError(
                              "the golden rules or the agreement do not allow this share; "
                              "nothing was sent (sent.receipt.decision has every finding)"),
                          {{"sent", Json(*sent)}});
      default:
        return SetProblem(res,
                          absl::FailedPreconditionError(absl::StrCat(
                              "the gateway did not take the message: ", sent->error())),
                          {{"sent", Json(*sent)}});
    }
  });
  server->Get("/api/v1/sent", [c](const WebRequest& r, httplib::Response& res) {
    Reply(res, c->Sent(r.http.get_param_value("page_token"), PageSizeParam(r.http)));
  });
  server->Get("/api/v1/sent/{message_id}", [c](const WebRequest& r, httplib::Response& res) {
    Reply(res, c->SentMessage(r.path.at("message_id")));
  });
  server->Get("/api/v1/inbox", [c](const WebRequest& r, httplib::Response& res) {
    Reply(res, c->Inbox(r.http.get_param_value("page_token"), PageSizeParam(r.http)));
  });
  server->Get("/api/v1/inbox/{message_id}", [c](const WebRequest& r, httplib::Response& res) {
    Reply(res, c->InboxMessage(r.path.at("message_id")));
  });
  server->Post("/api/v1/inbox/{message_id}/acknowledge",
               [c](const WebRequest& r, httplib::Response& res) {
                 auto who = PractitionerOf(r.user);
                 if (!who.ok()) return SetProblem(res, who.status());
                 Reply(res, c->Acknowledge(*who, r.path.at("message_id")));
               });
  server->Get("/api/v1/escalations",
              [c](const WebRequest&, httplib::Response& res) { Reply(res, c->Escalations()); });
  server->Get("/api/v1/messages/{message_id}", [c](const WebRequest& r, httplib::Response& res) {
    Reply(res, c->Status(r.path.at("message_id")));
  });
  server->Get("/api/v1/messages/{message_id}/thread",
              [c](const WebRequest& r, httplib::Response& res) {
                Reply(res, c->Thread(r.path.at("message_id")));
              });
  server->Get("/api/v1/events",
              [c](const WebRequest& r, httplib::Response& res) { StreamEvents(c, r, res); });
}

}  // namespace safeshare::connector
