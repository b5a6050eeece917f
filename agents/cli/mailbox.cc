// safeshare inbox|ack|status|thread|agencies: reading mail and following
// messages.
#include <sys/stat.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <iomanip>
#include <thread>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "agents/cli/common.h"
#include "agents/keyring.h"
#include "common/enum_text.h"
#include "common/files.h"

namespace safeshare::cli {
namespace {

namespace v1 = safeshare::v1;

// Writes each opened message as <id>.content.json and <id>.envelope.json.
int WriteInbox(const Invocation& inv, const std::string& out,
               const safeshare::agents::Inbox& inbox) {
  for (const auto& msg : inbox.received) {
    const auto& e = msg.header;
    const std::string base = absl::StrCat(out, "/", msg.message_id);
    // Content first, so an envelope file never points at missing content.
    auto st =
        safeshare::WriteFileAtomically(base + ".content.json", ToJson(msg.content) + "\n", 0600);
    if (st.ok())
      st = safeshare::WriteFileAtomically(base + ".envelope.json", ToJson(e) + "\n", 0600);
    if (!st.ok()) return Failed(inv, st);
    inv.out << "delivered  " << msg.message_id << "  " << KindName(e.kind()) << " from "
            << e.sender_agency_id() << " (" << e.sender_practitioner().id() << ")"
            << (e.in_reply_to().empty() ? "" : absl::StrCat(" in reply to ", e.in_reply_to()))
            << ", signature verified, opened -> " << base << ".{envelope,content}.json\n";
  }
  return kExitDone;
}

const char* EscalationText(v1::EscalationReason reason) {
  switch (reason) {
    case v1::ESCALATION_REASON_HOLD_NOT_DECIDED:
      return "is held and no IG officer decided it";
    case v1::ESCALATION_REASON_NOT_ANSWERED:
      return "was not answered";
    default:
      return "was not acknowledged";
  }
}

int Inbox(const Invocation& inv) {
  auto agent = OpenAgent(inv);
  if (!agent.ok()) return Failed(inv, agent.status());
  const std::string out = inv.Flag("out");
  if (!out.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(out, ec);
    if (ec) return Failed(inv, absl::UnavailableError(absl::StrCat(out, ": ", ec.message())));
    chmod(out.c_str(), 0700);
  }
  auto inbox = (*agent)->Receive();
  if (!inbox.ok()) return Failed(inv, inbox.status());
  if (out.empty()) {
    for (const auto& msg : inbox->received) {
      inv.out << "{\"envelope\":" << ToJson(msg.header) << ",\"content\":" << ToJson(msg.content)
              << "}\n";
    }
  } else if (int code = WriteInbox(inv, out, *inbox); code != kExitDone) {
    return code;
  }
  for (const auto& e : inbox->escalations) {
    inv.out << "ESCALATION " << e.escalation().message_id() << " from "
            << e.escalation().sender_agency_id() << " to " << e.escalation().recipient_agency_id()
            << " " << EscalationText(e.escalation().reason()) << " by its deadline (alert id "
            << e.message_id() << ")\n";
  }
  for (const auto& r : inbox->refused) {
    inv.err << "refused    " << r.message_id << "  " << v1::ContentRefusalReason_Name(r.reason)
            << ": " << r.detail << " (reported to the gateway)\n";
  }
  inv.err << inbox->received.size() << " message(s) opened, " << inbox->refused.size()
          << " refused\n";
  return kExitDone;
}

int Ack(const Invocation& inv) {
  auto client = Connect(inv);
  if (!client.ok()) return Failed(inv, client.status());
  auto resp = (*client)->Ack(inv.args[0]);
  if (!resp.ok()) return Failed(inv, resp.status());
  if (inv.Switch("json")) {
    inv.out << ToJson(*resp) << "\n";
  } else {
    inv.out << "acknowledged  " << resp->message_id() << " at "
            << TimeText(resp->acknowledged_time()) << "\n";
  }
  return kExitDone;
}

void PrintStatus(std::ostream& out, const v1::GetStatusResponse& resp) {
  out << resp.message_id() << "  " << KindName(resp.kind()) << " to " << resp.recipient_agency_id()
      << "  now " << StateName(resp.state()) << "\n";
  if (resp.state() == v1::MESSAGE_STATE_CONTENT_REFUSED) {
    out << (resp.content_refusal_reason() == v1::CONTENT_REFUSAL_REASON_REFUSED_BY_PEER_GATEWAY
                ? "  refused by the recipient's partnership: "
                : "  refused by the recipient's agent: ")
        << v1::ContentRefusalReason_Name(resp.content_refusal_reason()) << ": "
        << resp.content_refusal_detail() << "\n";
  }
  if (resp.has_acknowledge_deadline()) {
    out << "  acknowledge by " << TimeText(resp.acknowledge_deadline()) << "\n";
  }
  for (const auto& h : resp.history()) {
    out << "  " << std::left << std::setw(18) << StateName(h.state()) << TimeText(h.time()) << "\n";
  }
}

bool Settled(v1::MessageState s) {
  return s == v1::MESSAGE_STATE_ACKNOWLEDGED || s == v1::MESSAGE_STATE_ANSWERED ||
         s == v1::MESSAGE_STATE_OUTCOME_RECEIVED || s == v1::MESSAGE_STATE_REFUSED ||
         s == v1::MESSAGE_STATE_CONTENT_REFUSED || s == v1::MESSAGE_STATE_EXPIRED;
}

int Status(const Invocation& inv) {
  auto client = Connect(inv);
  if (!client.ok()) return Failed(inv, client.status());
  int seen = -1;
  for (;;) {
    auto resp = (*client)->GetStatus(inv.args[0]);
    if (!resp.ok()) return Failed(inv, resp.status());
    if (resp->history_size() != seen) {  // print only when something changed
      seen = resp->history_size();
      if (inv.Switch("json")) {
        inv.out << ToJson(*resp) << "\n";
      } else {
        PrintStatus(inv.out, *resp);
      }
      inv.out.flush();
    }
    if (!inv.Switch("watch") || Settled(resp->state())) return kExitDone;
    std::this_thread::sleep_for(std::chrono::seconds(2));
  }
}

// Lower-case enum value names without their prefix, comma-separated.
std::string NameList(const google::protobuf::RepeatedField<int>& values, size_t prefix,
                     std::string (*name)(int)) {
  std::vector<std::string> names;
  for (int v : values) names.push_back(absl::AsciiStrToLower(name(v).substr(prefix)));
  return absl::StrJoin(names, ", ");
}

std::string CategoryName(int c) { return v1::DataCategory_Name(static_cast<v1::DataCategory>(c)); }

std::string DeclineReasonName(int r) {
  return v1::DeclineReason_Name(static_cast<v1::DeclineReason>(r));
}

void PrintDeclaration(std::ostream& out, const v1::GetStatusResponse& m,
                      const std::string& indent) {
  const auto& d = m.declaration();
  if (d.purpose() != v1::PURPOSE_UNSPECIFIED) {
    out << indent << "purpose " << absl::AsciiStrToLower(EnumShortName(d.purpose())) << "\n";
  }
  const size_t category = strlen("DATA_CATEGORY_");
  if (d.requested_categories_size() > 0) {
    out << indent << "asks for " << NameList(d.requested_categories(), category, CategoryName)
        << "\n";
  }
  if (m.kind() == v1::MESSAGE_KIND_INFORMATION_RESPONSE || m.kind() == v1::MESSAGE_KIND_REFERRAL) {
    out << indent << "shares " << NameList(d.data_categories(), category, CategoryName) << "\n";
  }
  if (d.decline_reasons_size() > 0) {
    out << indent << "declined: "
        << NameList(d.decline_reasons(), strlen("DECLINE_REASON_"), DeclineReasonName) << "\n";
  }
  if (d.outcome_decision() != v1::OUTCOME_DECISION_UNSPECIFIED) {
    out << indent << "decided: " << absl::AsciiStrToLower(EnumShortName(d.outcome_decision()))
        << "\n";
  }
}

// The whole exchange, with states and times; replies indented.
int Thread(const Invocation& inv) {
  auto client = Connect(inv);
  if (!client.ok()) return Failed(inv, client.status());
  auto thread = (*client)->GetThread(inv.args[0]);
  if (!thread.ok()) return Failed(inv, thread.status());
  if (inv.Switch("json")) {
    inv.out << ToJson(*thread) << "\n";
    return kExitDone;
  }
  for (const auto& m : thread->messages()) {
    inv.out << (m.in_reply_to().empty() ? "" : "  ") << m.message_id() << "  " << KindName(m.kind())
            << " " << m.sender_agency_id() << " -> " << m.recipient_agency_id() << "  "
            << TimeText(m.accepted_time()) << "  now " << StateName(m.state()) << "\n";
    const std::string indent = m.in_reply_to().empty() ? "    " : "      ";
    PrintDeclaration(inv.out, m, indent);
    for (const auto& h : m.history()) {
      inv.out << indent << std::left << std::setw(18) << StateName(h.state()) << TimeText(h.time())
              << "\n";
    }
  }
  return kExitDone;
}

int Agencies(const Invocation& inv) {
  auto client = Connect(inv);
  if (!client.ok()) return Failed(inv, client.status());
  auto resp = (*client)->ListAgencies(inv.Flag("area"));
  if (!resp.ok()) return Failed(inv, resp.status());
  for (const auto& a : resp->agencies()) {
    std::vector<std::string> roles;
    for (int r : a.roles()) {
      roles.push_back(absl::AsciiStrToLower(EnumShortName(static_cast<v1::AgencyRole>(r))));
    }
    inv.out << absl::StrFormat("%-22s %-14s %-28s %s\n", a.id(), a.area_id(),
                               absl::StrJoin(roles, ","), a.display_name());
  }
  return kExitDone;
}

}  // namespace

std::vector<Command> MailboxCommands() {
  return {
      {"inbox",
       "collect, verify and open the agency's mail (prints JSON unless --out is given)",
       {},
       Flags({{{"out", "DIR", "write <id>.envelope.json and <id>.content.json here (0600)"}},
              NetworkFlags()}),
       Inbox},
      {"ack",
       "acknowledge a message the agency received",
       {"MESSAGE_ID"},
       Flags({{JsonFlag()}, NetworkFlags()}),
       Ack},
      {"status",
       "a sent message's state and history",
       {"MESSAGE_ID"},
       Flags(
           {{{"watch", "", "follow the message until it is settled"}, JsonFlag()}, NetworkFlags()}),
       Status},
      {"thread",
       "the whole exchange a message belongs to, with states and times",
       {"MESSAGE_ID"},
       Flags({{JsonFlag()}, NetworkFlags()}),
       Thread},
      {"agencies",
       "the agencies in the federation directory",
       {},
       Flags({{{"area", "AREA", "only this area"}}, NetworkFlags()}),
       Agencies},
  };
}

}  // namespace safeshare::cli
