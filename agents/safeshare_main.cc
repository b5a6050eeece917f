// safeshare: the agency-side command line.
//
//   safeshare pki init --dir DIR [--federation_template FILE] [--force]
//   safeshare pki issue --dir DIR --principal safeshare://agency/ID --out DIR
//   safeshare send --to AGENCY --declaration FILE.json --payload CONTENT.json [--kind referral]
//   safeshare request --to AGENCY --ask CATEGORIES --declaration FILE --payload FILE
//   safeshare respond MESSAGE_ID --declaration FILE --payload FILE
//   safeshare decline MESSAGE_ID --reasons REASONS --declaration FILE [--explanation TEXT]
//   safeshare outcome MESSAGE_ID --outcome_decision DECISION --declaration FILE [--summary TEXT]
//   safeshare thread MESSAGE_ID
//   safeshare inbox [--out DIR]
//   safeshare keys gen --out DIR | keys rotate [--purpose both] | keys revoke KEY_ID
//   safeshare ack MESSAGE_ID
//   safeshare status MESSAGE_ID [--watch]
//   safeshare agencies [--area AREA]
//   safeshare policy check --envelope FILE [--isa-dir DIR] [--pack 2018|2024] [--at TIME]
//   safeshare policy lint DIR
//   safeshare audit checkpoint|query|export|report --identity OFFICER_DIR [filters]
//   safeshare audit verify --db COPY.db|--export_file EXPORT.jsonl --federation FILE
//   safeshare receipt verify --receipt RECEIPT.json --federation FILE
//   safeshare agent run --identity DIR --inbox DIR
//   safeshare advice list | approve ID --reason TEXT | refuse ID --reason TEXT
//
// Network commands take --identity DIR (ca.pem, cert.pem, key.pem) and
// --gateway host:port. Exit status: 0 success, 1 the gateway refused or could
// not be reached, 2 bad usage or input.

#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>

#include <thread>

#include <cstdio>
#include <cstring>
#include <iomanip>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "agents/agency_agent.h"
#include "agents/audit_verifier.h"
#include "agents/inbox_daemon.h"
#include "transparency/checkpoint.h"
#include "agents/agent_client.h"
#include "agents/outgoing_message.h"
#include "agents/pki/dev_pki.h"
#include "agents/policy_command.h"
#include "envelope/keys.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "agents/keyring.h"

ABSL_FLAG(std::string, gateway, "localhost:7443", "Gateway address host:port");
ABSL_FLAG(std::string, identity, "", "Directory with ca.pem, cert.pem and key.pem");
ABSL_FLAG(std::string, dir, "", "pki: federation directory");
ABSL_FLAG(std::string, federation_template, "deploy/dev-federation.textproto",
          "pki init: agencies and officers to issue certificates for");
ABSL_FLAG(bool, force, false, "pki init: replace an existing federation CA");
ABSL_FLAG(std::string, principal, "", "pki issue: safeshare://agency/<id> or officer URI");
ABSL_FLAG(std::string, out, "", "pki issue / inbox: output directory");
ABSL_FLAG(int, not_before_days, 0, "pki issue: validity starts this many days from now");
ABSL_FLAG(int, valid_days, 825, "pki issue: days of validity");
ABSL_FLAG(std::string, to, "", "send: recipient agency id");
ABSL_FLAG(std::string, from, "", "send: sender agency id (default: from the certificate)");
ABSL_FLAG(std::string, kind, "referral",
          "send: referral | information_request | information_response | decline_to_share | "
          "outcome");
ABSL_FLAG(std::string, declaration, "", "send: SharingDeclaration in proto3 JSON");
ABSL_FLAG(std::string, payload, "",
          "send: the content to seal, in proto3 JSON: a ReferralContent for a referral, "
          "InformationRequestContent, InformationResponseContent, DeclineContent or "
          "OutcomeContent for the other kinds");
ABSL_FLAG(std::string, purpose, "both", "keys rotate: signing | encryption | both");
ABSL_FLAG(std::string, federation, "",
          "audit, receipt: the federation file whose audit_log key is trusted");
ABSL_FLAG(std::string, receipt_out, "", "send: also write the receipt (JSON) to this file");
ABSL_FLAG(std::string, receipt, "", "receipt verify: a receipt JSON file (send --receipt_out)");
ABSL_FLAG(std::string, db, "", "audit verify: a copy of the gateway's SQLite database");
ABSL_FLAG(std::string, export_file, "", "audit verify: a JSON-lines export");
ABSL_FLAG(std::string, format, "jsonl", "audit export: csv | jsonl");
ABSL_FLAG(std::string, agency, "", "audit: flows to or from this agency");
ABSL_FLAG(std::string, since, "", "audit: from this time (RFC 3339 or YYYY-MM-DD)");
ABSL_FLAG(std::string, until, "", "audit: before this time (RFC 3339 or YYYY-MM-DD)");
ABSL_FLAG(std::string, of_kind, "", "audit: only this message kind, e.g. referral");
ABSL_FLAG(std::string, for_purpose, "", "audit: only this purpose, e.g. s47_enquiry");
ABSL_FLAG(std::string, decision, "", "audit: allow | deny | hold_for_advice");
ABSL_FLAG(std::string, failed_check, "", "audit: a check that failed or asked for advice");
ABSL_FLAG(std::string, subject, "", "audit: a subject reference");
ABSL_FLAG(int, limit, 1000, "audit query: at most this many records");
ABSL_FLAG(std::string, inbox, "", "agent run: the inbox directory messages are written to");
ABSL_FLAG(std::string, reason, "", "advice approve/refuse: why (recorded in the audit log)");
ABSL_FLAG(bool, watch, false, "status: follow the message until it is settled");
ABSL_FLAG(int, crash_after_writes, 0, "agent run (tests): exit after N writes, before the ack");
ABSL_FLAG(std::string, practitioner, "", "send: sending practitioner's staff id");
ABSL_FLAG(std::string, role, "social_worker", "send: practitioner role, e.g. police_officer");
ABSL_FLAG(std::string, message_id, "", "send: message id (default: a fresh UUID)");
ABSL_FLAG(std::string, in_reply_to, "", "send: the message a reply answers");
ABSL_FLAG(std::string, area, "", "agencies: only this area");
ABSL_FLAG(std::string, ask, "",
          "request: the data categories asked for, comma-separated, e.g. health,education");
ABSL_FLAG(std::string, reasons, "",
          "decline: why not, comma-separated, e.g. not_necessary,no_information_held");
ABSL_FLAG(std::string, explanation, "", "decline: explanation for the requester (sealed)");
ABSL_FLAG(std::string, outcome_decision, "",
          "outcome: no_further_action | early_help | child_in_need_assessment | "
          "strategy_discussion | s47_enquiry | referred_elsewhere");
ABSL_FLAG(std::string, summary, "", "outcome: what happens next, for the referrer (sealed)");
ABSL_FLAG(bool, json, false, "send, ack, status, inbox: print proto3 JSON instead of text");

namespace {

using safeshare::agents::AgentClient;

int Usage(const std::string& why) {
  std::cerr << "safeshare: " << why << "\n"
            << "usage: safeshare pki init|pki issue|send|request|respond|decline|outcome|thread|"
               "inbox|ack|status|agencies|keys|audit|agent|advice|receipt|policy "
               "(--helpfull for flags)\n";
  return 2;
}

int Failed(const absl::Status& st) {
  std::cerr << "safeshare: " << absl::StatusCodeToString(st.code()) << ": " << st.message()
            << "\n";
  return st.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
}

absl::StatusOr<std::string> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read ", path));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string ToJson(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions opts;
  opts.add_whitespace = false;
  opts.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, opts);
  return out;
}

std::string StateName(safeshare::v1::MessageState s) {
  return safeshare::v1::MessageState_Name(s).substr(strlen("MESSAGE_STATE_"));
}

std::string KindName(safeshare::v1::MessageKind k) {
  return safeshare::v1::MessageKind_Name(k).substr(strlen("MESSAGE_KIND_"));
}

std::string TimeText(const google::protobuf::Timestamp& t) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%E3S UTC",
                          absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos()),
                          absl::UTCTimeZone());
}

absl::StatusOr<std::unique_ptr<AgentClient>> Connect(std::string* principal_uri = nullptr) {
  if (absl::GetFlag(FLAGS_identity).empty()) {
    return absl::InvalidArgumentError("--identity DIR is required (ca.pem, cert.pem, key.pem)");
  }
  auto id = safeshare::agents::LoadIdentity(absl::GetFlag(FLAGS_identity));
  if (!id.ok()) return absl::InvalidArgumentError(id.status().message());
  if (principal_uri != nullptr) {
    auto uri = safeshare::agents::PrincipalUriOfCertificate(id->cert_pem);
    if (!uri.ok()) return uri.status();
    *principal_uri = *uri;
  }
  return AgentClient::Connect(absl::GetFlag(FLAGS_gateway), *id);
}

template <typename Enum, typename ParseFn>
absl::StatusOr<Enum> ParseEnumFlag(const std::string& prefix, const std::string& value,
                                   ParseFn parse) {
  Enum e;
  if (!parse(prefix + absl::AsciiStrToUpper(value), &e) || static_cast<int>(e) == 0) {
    return absl::InvalidArgumentError(absl::StrCat("unknown value '", value, "' for ", prefix));
  }
  return e;
}

int CmdPki(const std::vector<char*>& args) {
  if (args.size() < 3) return Usage("pki needs init or issue");
  const std::string dir = absl::GetFlag(FLAGS_dir);
  if (dir.empty()) return Usage("--dir is required");
  std::string sub = args[2];
  if (sub == "init") {
    auto st = safeshare::agents::CreateDevFederation(absl::GetFlag(FLAGS_federation_template),
                                                     dir, absl::GetFlag(FLAGS_force));
    if (!st.ok()) return Failed(st);
    std::cout << "federation created in " << dir
              << " (CA, gateway, agency and officer certificates; keys 0600)\n";
    return 0;
  }
  if (sub == "issue") {
    if (absl::GetFlag(FLAGS_principal).empty() || absl::GetFlag(FLAGS_out).empty()) {
      return Usage("pki issue needs --principal and --out");
    }
    auto st = safeshare::agents::IssueClientCertificate(
        dir, absl::GetFlag(FLAGS_principal), absl::GetFlag(FLAGS_out),
        absl::Hours(24) * absl::GetFlag(FLAGS_not_before_days),
        absl::Hours(24) * absl::GetFlag(FLAGS_valid_days));
    if (!st.ok()) return Failed(st);
    std::cout << "issued " << absl::GetFlag(FLAGS_principal) << " into "
              << absl::GetFlag(FLAGS_out) << "\n";
    return 0;
  }
  return Usage("pki needs init or issue");
}

// Parses the kind's content message from JSON into a SealedContent.
absl::Status ParseContentJson(safeshare::v1::MessageKind kind, const std::string& json,
                              safeshare::v1::SealedContent* out) {
  google::protobuf::Message* target = nullptr;
  switch (kind) {
    case safeshare::v1::MESSAGE_KIND_REFERRAL: target = out->mutable_referral(); break;
    case safeshare::v1::MESSAGE_KIND_INFORMATION_REQUEST: target = out->mutable_information_request(); break;
    case safeshare::v1::MESSAGE_KIND_INFORMATION_RESPONSE: target = out->mutable_information_response(); break;
    case safeshare::v1::MESSAGE_KIND_DECLINE_TO_SHARE: target = out->mutable_decline(); break;
    case safeshare::v1::MESSAGE_KIND_OUTCOME: target = out->mutable_outcome(); break;
    default: return absl::InvalidArgumentError("no content type for this kind");
  }
  auto st = google::protobuf::util::JsonStringToMessage(json, target);
  if (!st.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("not a ", target->GetTypeName(), ": ",
                                                   st.message().as_string()));
  }
  return absl::OkStatus();
}

// The decision and the findings a practitioner needs to see: every one that
// did not simply pass.
void PrintDecision(const safeshare::v1::PolicyDecision& d) {
  std::cout << "          decision "
            << safeshare::v1::Decision_Name(d.decision()).substr(strlen("DECISION_")) << " under "
            << d.rule_pack() << " " << d.rule_pack_version();
  if (!d.isa_id().empty()) std::cout << ", agreement " << d.isa_id() << " v" << d.isa_version();
  std::cout << "\n";
  for (const auto& f : d.findings()) {
    if (f.outcome() == safeshare::v1::FINDING_OUTCOME_PASS &&
        !absl::StartsWith(f.reason(), "Flagged")) {
      continue;
    }
    std::cout << "          "
              << safeshare::v1::FindingOutcome_Name(f.outcome()).substr(strlen("FINDING_OUTCOME_"))
              << "  " << f.check() << " (" << f.rule() << "): " << f.reason() << "\n";
  }
}

absl::StatusOr<std::unique_ptr<safeshare::agents::AgencyAgent>> OpenAgent() {
  if (absl::GetFlag(FLAGS_identity).empty()) {
    return absl::InvalidArgumentError("--identity DIR is required (ca.pem, cert.pem, key.pem, keys/)");
  }
  return safeshare::agents::AgencyAgent::Open(absl::GetFlag(FLAGS_identity),
                                             absl::GetFlag(FLAGS_gateway));
}

// Writes `data` to `path` atomically (write, fsync, rename), 0600.
absl::Status WriteOut(const std::string& path, const std::string& data) {
  return safeshare::agents::WritePrivateFile(path, data);
}

// The flags every sending command shares, into `m` (its kind already set):
// the declaration file, the payload file (unless the command built the
// content), the practitioner and the message id.
absl::Status ReadMessageFlags(safeshare::agents::OutgoingMessage* m) {
  if (absl::GetFlag(FLAGS_declaration).empty()) {
    return absl::InvalidArgumentError("--declaration FILE (a SharingDeclaration in JSON) is required");
  }
  auto json = ReadAll(absl::GetFlag(FLAGS_declaration));
  if (!json.ok()) return json.status();
  safeshare::v1::SharingDeclaration from_file;
  auto parsed = google::protobuf::util::JsonStringToMessage(*json, &from_file);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(absl::GetFlag(FLAGS_declaration),
                                                   ": not a SharingDeclaration: ",
                                                   parsed.message().as_string()));
  }
  from_file.MergeFrom(m->declaration);  // what the command set is added
  m->declaration = std::move(from_file);
  if (!absl::GetFlag(FLAGS_payload).empty()) {
    auto payload = ReadAll(absl::GetFlag(FLAGS_payload));
    if (!payload.ok()) return payload.status();
    if (auto st = ParseContentJson(m->kind, *payload, &m->content); !st.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(absl::GetFlag(FLAGS_payload), ": ", st.message()));
    }
  } else if (m->content.content_case() == safeshare::v1::SealedContent::CONTENT_NOT_SET) {
    return absl::InvalidArgumentError("--payload CONTENT.json (the content to seal) is required");
  }
  auto role = ParseEnumFlag<safeshare::v1::PractitionerRole>(
      "PRACTITIONER_ROLE_", absl::GetFlag(FLAGS_role), safeshare::v1::PractitionerRole_Parse);
  if (!role.ok()) return role.status();
  m->practitioner.set_role(*role);
  m->practitioner.set_id(absl::GetFlag(FLAGS_practitioner));
  if (m->practitioner.id().empty()) {
    return absl::InvalidArgumentError("--practitioner STAFF_ID is required");
  }
  m->message_id = absl::GetFlag(FLAGS_message_id);
  return absl::OkStatus();
}

// Seals, signs and submits `m`, then prints the receipt (or the refusal).
int SubmitAndPrint(safeshare::agents::AgencyAgent& agent, safeshare::agents::OutgoingMessage& m) {
  if (m.sender_agency_id.empty()) {
    m.sender_agency_id =
        absl::GetFlag(FLAGS_from).empty() ? agent.agency_id() : absl::GetFlag(FLAGS_from);
  }
  safeshare::v1::SubmitResponse refused;
  auto receipt = agent.Send(m, &refused);
  if (!receipt.ok()) {
    if (refused.state() == safeshare::v1::MESSAGE_STATE_REFUSED) {
      if (absl::GetFlag(FLAGS_json)) {
        std::cout << ToJson(refused) << "\n";
      } else {
        std::cout << "refused   " << refused.message_id() << "  not shared\n";
        PrintDecision(refused.decision());
      }
    }
    return Failed(receipt.status());
  }
  if (!absl::GetFlag(FLAGS_receipt_out).empty()) {
    if (auto st = WriteOut(absl::GetFlag(FLAGS_receipt_out), ToJson(*receipt) + "\n"); !st.ok()) {
      return Failed(st);
    }
  }
  if (absl::GetFlag(FLAGS_json)) {
    std::cout << ToJson(*receipt) << "\n";
    return 0;
  }
  const bool held = receipt->state() == safeshare::v1::MESSAGE_STATE_HELD;
  std::cout << (held ? "held      " : "accepted  ") << receipt->message_id() << "  "
            << KindName(m.kind) << " " << m.sender_agency_id << " -> " << m.recipient_agency_id
            << (m.in_reply_to.empty() ? "" : absl::StrCat(" (in reply to ", m.in_reply_to, ")"))
            << "  sealed, " << (held ? "waiting for IG advice" : "in the recipient's mailbox")
            << " at " << TimeText(receipt->accepted_time()) << "\n";
  PrintDecision(receipt->decision());
  std::cout << "          audit record " << receipt->audit_inclusion_proof().leaf_index()
            << " in the signed log of " << receipt->audit_checkpoint().tree_size() << "\n";
  return 0;
}

int CmdSend() {
  safeshare::agents::OutgoingMessage m;
  if (absl::GetFlag(FLAGS_to).empty()) return Usage("send needs --to AGENCY");
  auto kind = ParseEnumFlag<safeshare::v1::MessageKind>(
      "MESSAGE_KIND_", absl::GetFlag(FLAGS_kind), safeshare::v1::MessageKind_Parse);
  if (!kind.ok()) return Failed(kind.status());
  m.kind = *kind;
  if (auto st = ReadMessageFlags(&m); !st.ok()) return Failed(st);
  m.recipient_agency_id = absl::GetFlag(FLAGS_to);
  m.in_reply_to = absl::GetFlag(FLAGS_in_reply_to);
  auto agent = OpenAgent();
  if (!agent.ok()) return Failed(agent.status());
  return SubmitAndPrint(**agent, m);
}

// Parses a comma-separated list of enum value names (without their prefix).
template <typename Enum, typename ParseFn>
absl::StatusOr<std::vector<Enum>> ParseEnumList(const std::string& prefix,
                                                const std::string& list, ParseFn parse) {
  std::vector<Enum> out;
  for (absl::string_view item : absl::StrSplit(list, ',', absl::SkipWhitespace())) {
    auto e = ParseEnumFlag<Enum>(prefix, std::string(absl::StripAsciiWhitespace(item)), parse);
    if (!e.ok()) return e.status();
    out.push_back(*e);
  }
  return out;
}

// safeshare request --to AGENCY --ask CATEGORIES: "what do you hold?"
int CmdRequest() {
  safeshare::agents::OutgoingMessage m;
  m.kind = safeshare::v1::MESSAGE_KIND_INFORMATION_REQUEST;
  if (absl::GetFlag(FLAGS_to).empty()) return Usage("request needs --to AGENCY");
  auto asked = ParseEnumList<safeshare::v1::DataCategory>(
      "DATA_CATEGORY_", absl::GetFlag(FLAGS_ask), safeshare::v1::DataCategory_Parse);
  if (!asked.ok()) return Failed(asked.status());
  if (asked->empty()) return Usage("request needs --ask CATEGORIES (e.g. health,education)");
  for (auto c : *asked) m.declaration.add_requested_categories(c);
  if (auto st = ReadMessageFlags(&m); !st.ok()) return Failed(st);
  m.recipient_agency_id = absl::GetFlag(FLAGS_to);
  auto agent = OpenAgent();
  if (!agent.ok()) return Failed(agent.status());
  return SubmitAndPrint(**agent, m);
}

// safeshare respond|decline|outcome MESSAGE_ID: a reply, which goes back to
// the agency that sent MESSAGE_ID.
int CmdReply(const std::vector<char*>& args, safeshare::v1::MessageKind kind) {
  const std::string command = args[1];
  if (args.size() < 3) return Usage(command + " needs the MESSAGE_ID it answers");
  safeshare::agents::OutgoingMessage m;
  m.kind = kind;
  m.in_reply_to = args[2];
  auto& d = m.declaration;
  if (kind == safeshare::v1::MESSAGE_KIND_DECLINE_TO_SHARE) {
    auto reasons = ParseEnumList<safeshare::v1::DeclineReason>(
        "DECLINE_REASON_", absl::GetFlag(FLAGS_reasons), safeshare::v1::DeclineReason_Parse);
    if (!reasons.ok()) return Failed(reasons.status());
    if (reasons->empty()) return Usage("decline needs --reasons (e.g. not_necessary)");
    for (auto r : *reasons) d.add_decline_reasons(r);
    // The reasons travel in the declaration; the explanation is optional.
    m.content.mutable_decline()->set_explanation(absl::GetFlag(FLAGS_explanation));
  } else if (kind == safeshare::v1::MESSAGE_KIND_OUTCOME) {
    auto decided = ParseEnumFlag<safeshare::v1::OutcomeDecision>(
        "OUTCOME_DECISION_", absl::GetFlag(FLAGS_outcome_decision),
        safeshare::v1::OutcomeDecision_Parse);
    if (!decided.ok()) return Usage("outcome needs --outcome_decision (e.g. early_help)");
    d.set_outcome_decision(*decided);
    // The decision travels in the declaration; the summary is optional.
    m.content.mutable_outcome()->set_summary(absl::GetFlag(FLAGS_summary));
  }
  if (auto st = ReadMessageFlags(&m); !st.ok()) return Failed(st);
  if (d.purpose() == safeshare::v1::PURPOSE_UNSPECIFIED) {
    d.set_purpose(kind == safeshare::v1::MESSAGE_KIND_OUTCOME
                      ? safeshare::v1::PURPOSE_OUTCOME_FEEDBACK
                      : safeshare::v1::PURPOSE_RESPONSE_TO_REQUEST);
  }
  auto agent = OpenAgent();
  if (!agent.ok()) return Failed(agent.status());
  m.recipient_agency_id = absl::GetFlag(FLAGS_to);
  if (m.recipient_agency_id.empty()) {
    // Back to whoever asked.
    auto asked = (*agent)->client().GetStatus(m.in_reply_to);
    if (!asked.ok()) return Failed(asked.status());
    m.recipient_agency_id = asked->sender_agency_id();
  }
  return SubmitAndPrint(**agent, m);
}

std::string CategoryList(const google::protobuf::RepeatedField<int>& categories) {
  std::vector<std::string> names;
  for (int c : categories) {
    names.push_back(absl::AsciiStrToLower(
        safeshare::v1::DataCategory_Name(static_cast<safeshare::v1::DataCategory>(c))
            .substr(strlen("DATA_CATEGORY_"))));
  }
  return absl::StrJoin(names, ", ");
}

// safeshare thread MESSAGE_ID: the whole exchange, with states and times.
int CmdThread(const std::vector<char*>& args) {
  if (args.size() < 3) return Usage("thread needs a MESSAGE_ID");
  auto client = Connect();
  if (!client.ok()) return Failed(client.status());
  auto thread = (*client)->GetThread(args[2]);
  if (!thread.ok()) return Failed(thread.status());
  if (absl::GetFlag(FLAGS_json)) {
    std::cout << ToJson(*thread) << "\n";
    return 0;
  }
  for (const auto& m : thread->messages()) {
    const auto& d = m.declaration();
    std::cout << (m.in_reply_to().empty() ? "" : "  ") << m.message_id() << "  "
              << KindName(m.kind()) << " " << m.sender_agency_id() << " -> "
              << m.recipient_agency_id() << "  " << TimeText(m.accepted_time()) << "  now "
              << StateName(m.state()) << "\n";
    const std::string indent = m.in_reply_to().empty() ? "    " : "      ";
    if (d.purpose() != safeshare::v1::PURPOSE_UNSPECIFIED) {
      std::cout << indent << "purpose "
                << absl::AsciiStrToLower(safeshare::v1::Purpose_Name(d.purpose()).substr(8))
                << "\n";
    }
    if (d.requested_categories_size() > 0) {
      std::cout << indent << "asks for " << CategoryList(d.requested_categories()) << "\n";
    }
    if (m.kind() == safeshare::v1::MESSAGE_KIND_INFORMATION_RESPONSE ||
        m.kind() == safeshare::v1::MESSAGE_KIND_REFERRAL) {
      std::cout << indent << "shares " << CategoryList(d.data_categories()) << "\n";
    }
    if (d.decline_reasons_size() > 0) {
      std::vector<std::string> why;
      for (int r : d.decline_reasons()) {
        why.push_back(absl::AsciiStrToLower(
            safeshare::v1::DeclineReason_Name(static_cast<safeshare::v1::DeclineReason>(r))
                .substr(strlen("DECLINE_REASON_"))));
      }
      std::cout << indent << "declined: " << absl::StrJoin(why, ", ") << "\n";
    }
    if (d.outcome_decision() != safeshare::v1::OUTCOME_DECISION_UNSPECIFIED) {
      std::cout << indent << "decided: "
                << absl::AsciiStrToLower(safeshare::v1::OutcomeDecision_Name(d.outcome_decision())
                                             .substr(strlen("OUTCOME_DECISION_")))
                << "\n";
    }
    for (const auto& h : m.history()) {
      std::cout << indent << std::left << std::setw(18) << StateName(h.state())
                << TimeText(h.time()) << "\n";
    }
  }
  return 0;
}

int CmdInbox() {
  auto agent = OpenAgent();
  if (!agent.ok()) return Failed(agent.status());
  const std::string out = absl::GetFlag(FLAGS_out);
  if (!out.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(out, ec);
    if (ec) return Failed(absl::UnavailableError(absl::StrCat(out, ": ", ec.message())));
    chmod(out.c_str(), 0700);
  }
  auto inbox = (*agent)->Receive();
  if (!inbox.ok()) return Failed(inbox.status());
  for (const auto& msg : inbox->received) {
    const auto& e = msg.header;
    if (out.empty()) {
      std::cout << "{\"envelope\":" << ToJson(e) << ",\"content\":" << ToJson(msg.content)
                << "}\n";
      continue;
    }
    const std::string base = absl::StrCat(out, "/", msg.message_id);
    // Content first, so an envelope file never points at missing content.
    if (auto st = WriteOut(base + ".content.json", ToJson(msg.content) + "\n"); !st.ok()) {
      return Failed(st);
    }
    if (auto st = WriteOut(base + ".envelope.json", ToJson(e) + "\n"); !st.ok()) {
      return Failed(st);
    }
    std::cout << "delivered  " << msg.message_id << "  " << KindName(e.kind()) << " from "
              << e.sender_agency_id() << " (" << e.sender_practitioner().id() << ")"
              << (e.in_reply_to().empty() ? "" : absl::StrCat(" in reply to ", e.in_reply_to()))
              << ", signature verified, opened -> " << base << ".{envelope,content}.json\n";
  }
  for (const auto& e : inbox->escalations) {
    std::cout << "ESCALATION " << e.escalation().message_id() << " from "
              << e.escalation().sender_agency_id() << " to "
              << e.escalation().recipient_agency_id() << " "
              << (e.escalation().reason() == safeshare::v1::ESCALATION_REASON_HOLD_NOT_DECIDED
                      ? "is held and no IG officer decided it"
                  : e.escalation().reason() == safeshare::v1::ESCALATION_REASON_NOT_ANSWERED
                      ? "was not answered"
                      : "was not acknowledged")
              << " by its deadline (alert id " << e.message_id() << ")\n";
  }
  for (const auto& r : inbox->refused) {
    std::cerr << "refused    " << r.message_id << "  "
              << safeshare::v1::ContentRefusalReason_Name(r.reason) << ": " << r.detail
              << " (reported to the gateway)\n";
  }
  std::cerr << inbox->received.size() << " message(s) opened, " << inbox->refused.size()
            << " refused\n";
  return 0;
}

int CmdKeys(const std::vector<char*>& args) {
  if (args.size() < 3) return Usage("keys needs gen, rotate or revoke");
  const std::string sub = args[2];
  if (sub == "gen") {
    const std::string out = absl::GetFlag(FLAGS_out);
    if (out.empty()) return Usage("keys gen needs --out DIR");
    safeshare::agents::Keyring ring;
    safeshare::v1::Agency entry;
    for (auto type : {safeshare::envelope::PrivateKey::Type::kSigning,
                      safeshare::envelope::PrivateKey::Type::kEncryption}) {
      auto key = safeshare::envelope::PrivateKey::Generate(type);
      if (!key.ok()) return Failed(key.status());
      if (auto st = ring.Add(out, *key); !st.ok()) return Failed(st);
      *entry.add_keys() = safeshare::envelope::PublicKeyEntry(*key, absl::Now());
    }
    std::string text;
    google::protobuf::TextFormat::PrintToString(entry, &text);
    std::cout << "# private keys written 0600 to " << out
              << "/keys; public keys for the agency's federation entry:\n"
              << text;
    return 0;
  }
  auto agent = OpenAgent();
  if (!agent.ok()) return Failed(agent.status());
  if (sub == "rotate") {
    const std::string purpose = absl::GetFlag(FLAGS_purpose);
    if (purpose != "both" && purpose != "signing" && purpose != "encryption") {
      return Usage("--purpose must be signing, encryption or both");
    }
    auto keys = (*agent)->RotateKeys(purpose != "encryption", purpose != "signing");
    if (!keys.ok()) return Failed(keys.status());
    for (const auto& k : *keys) {
      std::cout << "published " << safeshare::v1::KeyPurpose_Name(k.purpose()) << " key "
                << k.key_id() << " for " << (*agent)->agency_id() << " (now current)\n";
    }
    return 0;
  }
  if (sub == "revoke") {
    if (args.size() < 4) return Usage("keys revoke needs a KEY_ID");
    auto k = (*agent)->client().RevokeKey(args[3]);
    if (!k.ok()) return Failed(k.status());
    std::cout << "revoked " << k->key_id() << "\n";
    return 0;
  }
  return Usage("keys needs gen, rotate or revoke");
}

absl::StatusOr<safeshare::v1::AuditLogIdentity> TrustedLog() {
  const std::string path = absl::GetFlag(FLAGS_federation);
  if (path.empty()) {
    return absl::InvalidArgumentError("--federation FILE is required: it names the trusted audit key");
  }
  auto text = ReadAll(path);
  if (!text.ok()) return text.status();
  safeshare::v1::Federation federation;
  if (!google::protobuf::TextFormat::ParseFromString(*text, &federation)) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is not a safeshare.v1.Federation"));
  }
  return federation.audit_log();
}

absl::StatusOr<google::protobuf::Timestamp> ParseTimeFlag(const std::string& text) {
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, text, &t, &err) &&
      !absl::ParseTime("%Y-%m-%d", text, absl::UTCTimeZone(), &t, &err)) {
    return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not an RFC 3339 time or date"));
  }
  google::protobuf::Timestamp ts;
  ts.set_seconds(absl::ToUnixSeconds(t));
  return ts;
}

absl::StatusOr<safeshare::v1::AuditQuery> QueryFromFlags() {
  safeshare::v1::AuditQuery q;
  q.set_agency_id(absl::GetFlag(FLAGS_agency));
  q.set_area_id(absl::GetFlag(FLAGS_area));
  q.set_failed_check(absl::GetFlag(FLAGS_failed_check));
  q.set_subject_reference(absl::GetFlag(FLAGS_subject));
  if (!absl::GetFlag(FLAGS_since).empty()) {
    auto t = ParseTimeFlag(absl::GetFlag(FLAGS_since));
    if (!t.ok()) return t.status();
    *q.mutable_start_time() = *t;
  }
  if (!absl::GetFlag(FLAGS_until).empty()) {
    auto t = ParseTimeFlag(absl::GetFlag(FLAGS_until));
    if (!t.ok()) return t.status();
    *q.mutable_end_time() = *t;
  }
  if (!absl::GetFlag(FLAGS_of_kind).empty()) {
    auto k = ParseEnumFlag<safeshare::v1::MessageKind>("MESSAGE_KIND_", absl::GetFlag(FLAGS_of_kind),
                                                       safeshare::v1::MessageKind_Parse);
    if (!k.ok()) return k.status();
    q.set_kind(*k);
  }
  if (!absl::GetFlag(FLAGS_for_purpose).empty()) {
    auto p = ParseEnumFlag<safeshare::v1::Purpose>("PURPOSE_", absl::GetFlag(FLAGS_for_purpose),
                                                   safeshare::v1::Purpose_Parse);
    if (!p.ok()) return p.status();
    q.set_purpose(*p);
  }
  if (!absl::GetFlag(FLAGS_decision).empty()) {
    auto d = ParseEnumFlag<safeshare::v1::Decision>("DECISION_", absl::GetFlag(FLAGS_decision),
                                                    safeshare::v1::Decision_Parse);
    if (!d.ok()) return d.status();
    q.set_decision(*d);
  }
  return q;
}

int CmdAudit(const std::vector<char*>& args) {
  if (args.size() < 3) return Usage("audit needs checkpoint, query, export, report or verify");
  const std::string sub = args[2];
  if (sub == "verify") {
    auto log = TrustedLog();
    if (!log.ok()) return Failed(log.status());
    absl::StatusOr<safeshare::agents::AuditVerification> v =
        absl::InvalidArgumentError("audit verify needs --db FILE or --export_file FILE");
    if (!absl::GetFlag(FLAGS_db).empty()) {
      v = safeshare::agents::VerifyAuditDatabase(absl::GetFlag(FLAGS_db), *log);
    } else if (!absl::GetFlag(FLAGS_export_file).empty()) {
      v = safeshare::agents::VerifyAuditExport(absl::GetFlag(FLAGS_export_file), *log);
    }
    if (!v.ok()) {
      std::cout << "FAILED: " << v.status().message() << "\n";
      return v.status().code() == absl::StatusCode::kDataLoss ? 1 : Failed(v.status());
    }
    std::cout << "verified: " << v->records << " records, " << v->checkpoints
              << " signed checkpoint(s); log size " << v->tree_size << ", root " << v->root_hex
              << (v->complete ? "" : " (filtered export: each record's inclusion proof checked)")
              << "\n";
    return 0;
  }
  if (absl::GetFlag(FLAGS_identity).empty()) return Usage("audit needs --identity OFFICER_DIR");
  auto id = safeshare::agents::LoadIdentity(absl::GetFlag(FLAGS_identity));
  if (!id.ok()) return Failed(absl::InvalidArgumentError(id.status().message()));
  auto client = AgentClient::Connect(absl::GetFlag(FLAGS_gateway), *id);
  if (sub == "checkpoint") {
    auto cp = client->GetCheckpoint();
    if (!cp.ok()) return Failed(cp.status());
    std::cout << cp->signed_note();
    if (!absl::GetFlag(FLAGS_federation).empty()) {
      auto log = TrustedLog();
      if (!log.ok()) return Failed(log.status());
      auto opened = safeshare::transparency::VerifyCheckpoint(cp->signed_note(), log->origin(),
                                                             log->public_key(), log->origin());
      if (!opened.ok()) return Failed(opened.status());
      std::cout << "signature verified against the federation's audit key\n";
    }
    return 0;
  }
  auto query = QueryFromFlags();
  if (!query.ok()) return Failed(query.status());
  if (sub == "query") {
    std::string token;
    int shown = 0;
    do {
      auto page = client->QueryRecords(*query, 0, token);
      if (!page.ok()) return Failed(page.status());
      for (const auto& r : page->records()) {
        if (shown++ >= absl::GetFlag(FLAGS_limit)) return 0;
        std::cout << ToJson(r) << "\n";
      }
      token = page->next_page_token();
    } while (!token.empty());
    return 0;
  }
  if (sub == "export") {
    const std::string format = absl::GetFlag(FLAGS_format);
    if (format != "csv" && format != "jsonl") return Usage("--format must be csv or jsonl");
    std::ofstream file;
    if (!absl::GetFlag(FLAGS_out).empty()) {
      file.open(absl::GetFlag(FLAGS_out), std::ios::binary | std::ios::trunc);
      if (!file) return Failed(absl::UnavailableError("cannot write " + absl::GetFlag(FLAGS_out)));
    }
    std::ostream& out = file.is_open() ? static_cast<std::ostream&>(file) : std::cout;
    auto st = client->ExportRecords(
        *query,
        format == "csv" ? safeshare::v1::EXPORT_FORMAT_CSV : safeshare::v1::EXPORT_FORMAT_JSON_LINES,
        [&](const std::string& chunk) {
          out << chunk;
          return out ? absl::OkStatus() : absl::UnavailableError("write failed");
        });
    if (!st.ok()) return Failed(st);
    return 0;
  }
  if (sub == "report") {
    safeshare::v1::FlowReportRequest req;
    if (query->has_start_time()) *req.mutable_start_time() = query->start_time();
    if (query->has_end_time()) *req.mutable_end_time() = query->end_time();
    auto report = client->FlowReport(req);
    if (!report.ok()) return Failed(report.status());
    if (absl::GetFlag(FLAGS_json)) {
      std::cout << ToJson(*report) << "\n";
      return 0;
    }
    std::printf("%-16s %-16s %8s %8s %8s\n", "from area", "to area", "allowed", "denied", "held");
    for (const auto& f : report->flows()) {
      std::printf("%-16s %-16s %8llu %8llu %8llu\n", f.from_area_id().c_str(), f.to_area_id().c_str(),
                  static_cast<unsigned long long>(f.allowed()),
                  static_cast<unsigned long long>(f.denied()),
                  static_cast<unsigned long long>(f.held()));
    }
    std::printf("\n%-28s %8s %8s\n", "check", "failed", "advice");
    for (const auto& c : report->checks()) {
      std::printf("%-28s %8llu %8llu\n", c.check().c_str(),
                  static_cast<unsigned long long>(c.failed()),
                  static_cast<unsigned long long>(c.advice()));
    }
    return 0;
  }
  return Usage("audit needs checkpoint, query, export, report or verify");
}

int CmdReceipt(const std::vector<char*>& args) {
  if (args.size() < 3 || std::string(args[2]) != "verify") return Usage("receipt needs verify");
  auto log = TrustedLog();
  if (!log.ok()) return Failed(log.status());
  if (absl::GetFlag(FLAGS_receipt).empty()) return Usage("receipt verify needs --receipt FILE");
  auto json = ReadAll(absl::GetFlag(FLAGS_receipt));
  if (!json.ok()) return Failed(json.status());
  safeshare::v1::SubmitResponse receipt;
  if (!google::protobuf::util::JsonStringToMessage(*json, &receipt).ok()) {
    return Failed(absl::InvalidArgumentError("the receipt file is not a SubmitResponse in JSON"));
  }
  if (auto st = safeshare::agents::VerifyReceipt(receipt, *log); !st.ok()) {
    std::cout << "FAILED: " << st.message() << "\n";
    return 1;
  }
  std::cout << "verified: " << receipt.message_id() << " decision "
            << safeshare::v1::Decision_Name(receipt.decision().decision()) << " is record "
            << receipt.audit_inclusion_proof().leaf_index() << " of the signed audit log (size "
            << receipt.audit_checkpoint().tree_size() << ")\n";
  return 0;
}

int CmdAgent(const std::vector<char*>& args) {
  if (args.size() < 3 || std::string(args[2]) != "run") return Usage("agent needs run");
  if (absl::GetFlag(FLAGS_inbox).empty()) return Usage("agent run needs --inbox DIR");
  // SIGTERM / SIGINT stop the daemon after the message in hand. Blocked
  // before any gRPC thread exists, so that every thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  auto agent = OpenAgent();
  if (!agent.ok()) return Failed(agent.status());
  safeshare::agents::InboxDaemonOptions options;
  options.inbox_dir = absl::GetFlag(FLAGS_inbox);
  options.crash_after_writes = absl::GetFlag(FLAGS_crash_after_writes);
  safeshare::agents::InboxDaemon daemon(agent->get(), options);
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    daemon.Stop();
  });
  std::cerr << "agent for " << (*agent)->agency_id() << " writing to " << options.inbox_dir
            << "\n";
  absl::Status st = daemon.Run();
  if (!st.ok()) {
    pthread_kill(waiter.native_handle(), SIGTERM);
    waiter.join();
    return Failed(st);
  }
  waiter.join();
  std::cerr << "stopped: " << daemon.stored() << " stored, " << daemon.refused() << " refused\n";
  return 0;
}

int CmdAdvice(const std::vector<char*>& args) {
  if (args.size() < 3) return Usage("advice needs list, approve or refuse");
  if (absl::GetFlag(FLAGS_identity).empty()) return Usage("advice needs --identity OFFICER_DIR");
  auto id = safeshare::agents::LoadIdentity(absl::GetFlag(FLAGS_identity));
  if (!id.ok()) return Failed(absl::InvalidArgumentError(id.status().message()));
  auto client = AgentClient::Connect(absl::GetFlag(FLAGS_gateway), *id);
  const std::string sub = args[2];
  if (sub == "list") {
    std::string token;
    do {
      auto page = client->ListHeld(token);
      if (!page.ok()) return Failed(page.status());
      for (const auto& h : page->messages()) {
        if (absl::GetFlag(FLAGS_json)) {
          std::cout << ToJson(h) << "\n";
          continue;
        }
        const auto& e = h.envelope_header();
        std::cout << h.message_id() << "  " << KindName(e.kind()) << " " << e.sender_agency_id()
                  << " -> " << e.recipient_agency_id() << "  held since "
                  << TimeText(h.held_time());
        if (h.has_decide_by()) std::cout << ", decide by " << TimeText(h.decide_by());
        if (h.has_escalated_time()) {
          std::cout << ", ESCALATED to the federation's officers at "
                    << TimeText(h.escalated_time());
        }
        std::cout << "\n";
        PrintDecision(h.decision());
      }
      token = page->next_page_token();
    } while (!token.empty());
    return 0;
  }
  if ((sub == "approve" || sub == "refuse") && args.size() >= 4) {
    const std::string reason = absl::GetFlag(FLAGS_reason);
    absl::Status st = sub == "approve" ? client->Approve(args[3], reason)
                                       : client->RefuseHeld(args[3], reason);
    if (!st.ok()) return Failed(st);
    std::cout << (sub == "approve" ? "approved " : "refused ") << args[3]
              << (sub == "approve" ? ": delivered to the recipient's mailbox\n"
                                   : ": the sender sees the refusal\n");
    return 0;
  }
  return Usage("advice needs list, approve ID --reason TEXT or refuse ID --reason TEXT");
}

int CmdAck(const std::vector<char*>& args) {
  if (args.size() < 3) return Usage("ack needs a MESSAGE_ID");
  auto client = Connect();
  if (!client.ok()) return Failed(client.status());
  auto resp = (*client)->Ack(args[2]);
  if (!resp.ok()) return Failed(resp.status());
  if (absl::GetFlag(FLAGS_json)) {
    std::cout << ToJson(*resp) << "\n";
  } else {
    std::cout << "acknowledged  " << resp->message_id() << " at "
              << TimeText(resp->acknowledged_time()) << "\n";
  }
  return 0;
}

void PrintStatus(const safeshare::v1::GetStatusResponse& resp) {
  std::cout << resp.message_id() << "  " << KindName(resp.kind()) << " to "
            << resp.recipient_agency_id() << "  now " << StateName(resp.state()) << "\n";
  if (resp.state() == safeshare::v1::MESSAGE_STATE_CONTENT_REFUSED) {
    std::cout << "  refused by the recipient's agent: "
              << safeshare::v1::ContentRefusalReason_Name(resp.content_refusal_reason()) << ": "
              << resp.content_refusal_detail() << "\n";
  }
  if (resp.has_acknowledge_deadline()) {
    std::cout << "  acknowledge by " << TimeText(resp.acknowledge_deadline()) << "\n";
  }
  for (const auto& h : resp.history()) {
    std::cout << "  " << std::left << std::setw(18) << StateName(h.state()) << TimeText(h.time())
              << "\n";
  }
}

bool Settled(safeshare::v1::MessageState s) {
  return s == safeshare::v1::MESSAGE_STATE_ACKNOWLEDGED ||
         s == safeshare::v1::MESSAGE_STATE_ANSWERED ||
         s == safeshare::v1::MESSAGE_STATE_OUTCOME_RECEIVED ||
         s == safeshare::v1::MESSAGE_STATE_REFUSED ||
         s == safeshare::v1::MESSAGE_STATE_CONTENT_REFUSED ||
         s == safeshare::v1::MESSAGE_STATE_EXPIRED;
}

int CmdStatus(const std::vector<char*>& args) {
  if (args.size() < 3) return Usage("status needs a MESSAGE_ID");
  auto client = Connect();
  if (!client.ok()) return Failed(client.status());
  int seen = -1;
  for (;;) {
    auto resp = (*client)->GetStatus(args[2]);
    if (!resp.ok()) return Failed(resp.status());
    if (resp->history_size() != seen) {  // print only when something changed
      seen = resp->history_size();
      if (absl::GetFlag(FLAGS_json)) {
        std::cout << ToJson(*resp) << "\n";
      } else {
        PrintStatus(*resp);
      }
      std::cout.flush();
    }
    if (!absl::GetFlag(FLAGS_watch) || Settled(resp->state())) return 0;
    std::this_thread::sleep_for(std::chrono::seconds(2));
  }
}

int CmdAgencies() {
  auto client = Connect();
  if (!client.ok()) return Failed(client.status());
  auto resp = (*client)->ListAgencies(absl::GetFlag(FLAGS_area));
  if (!resp.ok()) return Failed(resp.status());
  for (const auto& a : resp->agencies()) {
    std::vector<std::string> roles;
    for (int r : a.roles()) {
      roles.push_back(absl::AsciiStrToLower(
          safeshare::v1::AgencyRole_Name(static_cast<safeshare::v1::AgencyRole>(r)).substr(12)));
    }
    std::printf("%-22s %-14s %-28s %s\n", a.id().c_str(), a.area_id().c_str(),
                absl::StrJoin(roles, ",").c_str(), a.display_name().c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "safeshare: send and receive safeguarding messages through a safeshare gateway");
  // `policy` takes the issue's hyphenated flags (--isa-dir), which absl flags
  // cannot name, so it parses its own arguments.
  if (argc > 1 && std::string(argv[1]) == "policy") {
    return safeshare::agents::RunPolicyCommand(argc, argv);
  }
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() < 2) return Usage("no command given");
  const std::string cmd = args[1];
  if (cmd == "pki") return CmdPki(args);
  if (cmd == "send") return CmdSend();
  if (cmd == "request") return CmdRequest();
  if (cmd == "respond") return CmdReply(args, safeshare::v1::MESSAGE_KIND_INFORMATION_RESPONSE);
  if (cmd == "decline") return CmdReply(args, safeshare::v1::MESSAGE_KIND_DECLINE_TO_SHARE);
  if (cmd == "outcome") return CmdReply(args, safeshare::v1::MESSAGE_KIND_OUTCOME);
  if (cmd == "thread") return CmdThread(args);
  if (cmd == "inbox") return CmdInbox();
  if (cmd == "ack") return CmdAck(args);
  if (cmd == "status") return CmdStatus(args);
  if (cmd == "agencies") return CmdAgencies();
  if (cmd == "keys") return CmdKeys(args);
  if (cmd == "audit") return CmdAudit(args);
  if (cmd == "agent") return CmdAgent(args);
  if (cmd == "advice") return CmdAdvice(args);
  if (cmd == "receipt") return CmdReceipt(args);
  return Usage("unknown command '" + cmd + "'");
}
