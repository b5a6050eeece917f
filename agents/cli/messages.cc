// safeshare send|request|respond|decline|outcome: seal, sign and submit a
// message, then print the receipt or the refusal.
#include "absl/strings/str_cat.h"
#include "agents/cli/common.h"
#include "agents/keyring.h"
#include "agents/outgoing_message.h"
#include "common/files.h"
#include "envelope/content.h"
#include "google/protobuf/util/json_util.h"

namespace safeshare::cli {
namespace {

namespace v1 = safeshare::v1;
using safeshare::agents::OutgoingMessage;

// The flags every sending command shares, into `m` (its kind already set):
// the declaration file, the payload file (unless the command built the
// content), the practitioner and the message id.
absl::Status ReadMessageFlags(const Invocation& inv, OutgoingMessage* m) {
  const std::string declaration = inv.Flag("declaration");
  auto json = ReadAll(declaration);
  if (!json.ok()) return json.status();
  v1::SharingDeclaration from_file;
  auto parsed = google::protobuf::util::JsonStringToMessage(*json, &from_file);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(declaration, ": not a SharingDeclaration: ", parsed.message().as_string()));
  }
  from_file.MergeFrom(m->declaration);  // what the command set is added
  m->declaration = std::move(from_file);
  if (const std::string payload_path = inv.Flag("payload"); !payload_path.empty()) {
    auto payload = ReadAll(payload_path);
    if (!payload.ok()) return payload.status();
    auto content = safeshare::envelope::ParseContentJson(m->kind, *payload);
    if (!content.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(payload_path, ": ", content.status().message()));
    }
    m->content = *std::move(content);
  } else if (m->content.content_case() == v1::SealedContent::CONTENT_NOT_SET) {
    return absl::InvalidArgumentError("--payload CONTENT.json (the content to seal) is required");
  }
  auto role = ParseEnumFlag<v1::PractitionerRole>("PRACTITIONER_ROLE_", inv.Flag("role"),
                                                  v1::PractitionerRole_Parse);
  if (!role.ok()) return role.status();
  m->practitioner.set_role(*role);
  m->practitioner.set_id(inv.Flag("practitioner"));
  m->message_id = inv.Flag("message_id");
  return absl::OkStatus();
}

void PrintReceipt(const Invocation& inv, const OutgoingMessage& m,
                  const v1::SubmitResponse& receipt) {
  const bool held = receipt.state() == v1::MESSAGE_STATE_HELD;
  inv.out << (held ? "held      " : "accepted  ") << receipt.message_id() << "  "
          << KindName(m.kind) << " " << m.sender_agency_id << " -> " << m.recipient_agency_id
          << (m.in_reply_to.empty() ? "" : absl::StrCat(" (in reply to ", m.in_reply_to, ")"))
          << "  sealed, " << (held ? "waiting for IG advice" : "in the recipient's mailbox")
          << " at " << TimeText(receipt.accepted_time()) << "\n";
  PrintDecision(inv.out, receipt.decision());
  inv.out << "          audit record " << receipt.audit_inclusion_proof().leaf_index()
          << " in the signed log of " << receipt.audit_checkpoint().tree_size() << "\n";
}

// Seals, signs and submits `m`, then prints the receipt (or the refusal).
int SubmitAndPrint(const Invocation& inv, safeshare::agents::AgencyAgent& agent,
                   OutgoingMessage& m) {
  if (m.sender_agency_id.empty()) {
    m.sender_agency_id = inv.Flag("from").empty() ? agent.agency_id() : inv.Flag("from");
  }
  v1::SubmitResponse refused;
  auto receipt = agent.Send(m, &refused);
  if (!receipt.ok()) {
    if (refused.state() == v1::MESSAGE_STATE_REFUSED) {
      if (inv.Switch("json")) {
        inv.out << ToJson(refused) << "\n";
      } else {
        inv.out << "refused   " << refused.message_id() << "  not shared\n";
        PrintDecision(inv.out, refused.decision());
      }
    }
    return Failed(inv, receipt.status());
  }
  if (const std::string path = inv.Flag("receipt_out"); !path.empty()) {
    if (auto st = safeshare::WriteFileAtomically(path, ToJson(*receipt) + "\n", 0600); !st.ok()) {
      return Failed(inv, st);
    }
  }
  if (inv.Switch("json")) {
    inv.out << ToJson(*receipt) << "\n";
  } else {
    PrintReceipt(inv, m, *receipt);
  }
  return kExitDone;
}

// Opens the agent and submits; `m.recipient_agency_id` is set already.
int OpenAndSubmit(const Invocation& inv, OutgoingMessage& m) {
  auto agent = OpenAgent(inv);
  if (!agent.ok()) return Failed(inv, agent.status());
  return SubmitAndPrint(inv, **agent, m);
}

// One copy per member of a team; the exit code is a failure's if any copy
// was not accepted.
int SendToTeam(const Invocation& inv, OutgoingMessage& m) {
  auto agent = OpenAgent(inv);
  if (!agent.ok()) return Failed(inv, agent.status());
  if (m.sender_agency_id.empty()) {
    m.sender_agency_id = inv.Flag("from").empty() ? (*agent)->agency_id() : inv.Flag("from");
  }
  auto copies = (*agent)->SendToTeam(m, inv.Flag("to_team"));
  if (!copies.ok()) return Failed(inv, copies.status());
  absl::Status first_failure;
  for (const auto& copy : *copies) {
    OutgoingMessage shown = m;
    shown.recipient_agency_id = copy.member_agency_id;
    if (copy.receipt.ok()) {
      if (inv.Switch("json")) {
        inv.out << ToJson(*copy.receipt) << "\n";
      } else {
        PrintReceipt(inv, shown, *copy.receipt);
      }
      continue;
    }
    if (first_failure.ok()) first_failure = copy.receipt.status();
    inv.out << "refused   " << copy.member_agency_id << ": " << copy.receipt.status().message()
            << "\n";
    if (copy.refused.state() == v1::MESSAGE_STATE_REFUSED)
      PrintDecision(inv.out, copy.refused.decision());
  }
  return first_failure.ok() ? kExitDone : Failed(inv, first_failure);
}

int Send(const Invocation& inv) {
  OutgoingMessage m;
  auto kind =
      ParseEnumFlag<v1::MessageKind>("MESSAGE_KIND_", inv.Flag("kind"), v1::MessageKind_Parse);
  if (!kind.ok()) return Failed(inv, kind.status());
  m.kind = *kind;
  if (inv.Has("to") == inv.Has("to_team")) {
    return inv.BadUsage("give one recipient: --to AGENCY or --to_team TEAM");
  }
  if (auto st = ReadMessageFlags(inv, &m); !st.ok()) return Failed(inv, st);
  m.in_reply_to = inv.Flag("in_reply_to");
  if (inv.Has("to_team")) return SendToTeam(inv, m);
  m.recipient_agency_id = inv.Flag("to");
  return OpenAndSubmit(inv, m);
}

// "What do you hold?": the categories asked for travel in the declaration.
int Request(const Invocation& inv) {
  OutgoingMessage m;
  m.kind = v1::MESSAGE_KIND_INFORMATION_REQUEST;
  auto asked =
      ParseEnumList<v1::DataCategory>("DATA_CATEGORY_", inv.Flag("ask"), v1::DataCategory_Parse);
  if (!asked.ok()) return Failed(inv, asked.status());
  if (asked->empty()) return inv.BadUsage("--ask needs categories, e.g. health,education");
  for (auto c : *asked) m.declaration.add_requested_categories(c);
  if (auto st = ReadMessageFlags(inv, &m); !st.ok()) return Failed(inv, st);
  m.recipient_agency_id = inv.Flag("to");
  return OpenAndSubmit(inv, m);
}

// A reply goes back to the agency that sent MESSAGE_ID unless --to says
// otherwise.
int Reply(const Invocation& inv, OutgoingMessage& m) {
  m.in_reply_to = inv.args[0];
  if (auto st = ReadMessageFlags(inv, &m); !st.ok()) return Failed(inv, st);
  auto& d = m.declaration;
  if (d.purpose() == v1::PURPOSE_UNSPECIFIED) {
    d.set_purpose(m.kind == v1::MESSAGE_KIND_OUTCOME ? v1::PURPOSE_OUTCOME_FEEDBACK
                                                     : v1::PURPOSE_RESPONSE_TO_REQUEST);
  }
  auto agent = OpenAgent(inv);
  if (!agent.ok()) return Failed(inv, agent.status());
  m.recipient_agency_id = inv.Flag("to");
  if (m.recipient_agency_id.empty()) {
    auto asked = (*agent)->client().GetStatus(m.in_reply_to);
    if (!asked.ok()) return Failed(inv, asked.status());
    m.recipient_agency_id = asked->sender_agency_id();
  }
  return SubmitAndPrint(inv, **agent, m);
}

int Respond(const Invocation& inv) {
  OutgoingMessage m;
  m.kind = v1::MESSAGE_KIND_INFORMATION_RESPONSE;
  return Reply(inv, m);
}

int Decline(const Invocation& inv) {
  OutgoingMessage m;
  m.kind = v1::MESSAGE_KIND_DECLINE_TO_SHARE;
  auto reasons = ParseEnumList<v1::DeclineReason>("DECLINE_REASON_", inv.Flag("reasons"),
                                                  v1::DeclineReason_Parse);
  if (!reasons.ok()) return Failed(inv, reasons.status());
  if (reasons->empty()) return inv.BadUsage("--reasons needs reasons, e.g. not_necessary");
  for (auto r : *reasons) m.declaration.add_decline_reasons(r);
  // The reasons travel in the declaration; the explanation is optional.
  m.content.mutable_decline()->set_explanation(inv.Flag("explanation"));
  return Reply(inv, m);
}

int Outcome(const Invocation& inv) {
  OutgoingMessage m;
  m.kind = v1::MESSAGE_KIND_OUTCOME;
  auto decided = ParseEnumFlag<v1::OutcomeDecision>(
      "OUTCOME_DECISION_", inv.Flag("outcome_decision"), v1::OutcomeDecision_Parse);
  if (!decided.ok()) {
    return inv.BadUsage(
        "--outcome_decision must be one of no_further_action, early_help, "
        "child_in_need_assessment, strategy_discussion, s47_enquiry, "
        "referred_elsewhere");
  }
  m.declaration.set_outcome_decision(*decided);
  // The decision travels in the declaration; the summary is optional.
  m.content.mutable_outcome()->set_summary(inv.Flag("summary"));
  return Reply(inv, m);
}

// What every sending command takes; `payload_required` is false where the
// command builds the content from its own flags.
std::vector<FlagSpec> MessageFlags(bool payload_required) {
  FlagSpec payload{"payload", "FILE",
                   "the content to seal, in proto3 JSON: the kind's content message "
                   "(ReferralContent for a referral, InformationRequestContent, "
                   "InformationResponseContent, DeclineContent, OutcomeContent or "
                   "OperationEncompassContent)"};
  payload.required = payload_required;
  return Flags({{Required({"declaration", "FILE", "a SharingDeclaration in proto3 JSON"}),
                 payload,
                 Required({"practitioner", "STAFF_ID", "the sending practitioner's staff id"}),
                 {"role", "ROLE", "the practitioner's role, e.g. police_officer", "social_worker"},
                 {"message_id", "ID", "the message id (default: a fresh UUID)"},
                 {"from", "AGENCY", "the sending agency (default: the one in the certificate)"},
                 {"receipt_out", "FILE", "also write the receipt (JSON) to this file"},
                 JsonFlag()},
                NetworkFlags()});
}

FlagSpec ReplyToFlag() {
  return {"to", "AGENCY", "the recipient (default: the agency that sent MESSAGE_ID)"};
}

// A decision not to share: recorded in the audit log, nothing sent.
int NotShared(const Invocation& inv) {
  v1::RecordDecisionNotToShareRequest req;
  req.set_decision_id(inv.Flag("decision_id").empty() ? safeshare::agents::NewMessageId()
                                                      : inv.Flag("decision_id"));
  req.set_considered_agency_id(inv.Flag("with"));
  req.set_rationale(inv.Flag("rationale"));
  auto role = ParseEnumFlag<v1::PractitionerRole>("PRACTITIONER_ROLE_", inv.Flag("role"),
                                                  v1::PractitionerRole_Parse);
  if (!role.ok()) return Failed(inv, role.status());
  req.mutable_practitioner()->set_id(inv.Flag("practitioner"));
  req.mutable_practitioner()->set_role(*role);
  auto* d = req.mutable_declaration();
  auto purpose = ParseEnumFlag<v1::Purpose>("PURPOSE_", inv.Flag("purpose"), v1::Purpose_Parse);
  if (!purpose.ok()) return Failed(inv, purpose.status());
  d->set_purpose(*purpose);
  auto categories = ParseEnumList<v1::DataCategory>("DATA_CATEGORY_", inv.Flag("categories"),
                                                    v1::DataCategory_Parse);
  if (!categories.ok()) return Failed(inv, categories.status());
  for (auto c : *categories) d->add_data_categories(c);
  auto reasons = ParseEnumList<v1::DeclineReason>("DECLINE_REASON_", inv.Flag("reasons"),
                                                  v1::DeclineReason_Parse);
  if (!reasons.ok()) return Failed(inv, reasons.status());
  for (auto r : *reasons) d->add_decline_reasons(r);
  d->set_subject_reference(inv.Flag("subject"));
  auto client = Connect(inv);
  if (!client.ok()) return Failed(inv, client.status());
  auto recorded = (*client)->RecordDecisionNotToShare(req);
  if (!recorded.ok()) return Failed(inv, recorded.status());
  inv.out << "recorded  " << recorded->decision_id() << "  a decision not to share with "
          << req.considered_agency_id() << ": audit record "
          << recorded->audit_inclusion_proof().leaf_index() << "; nothing was sent\n";
  return kExitDone;
}

}  // namespace

std::vector<Command> MessageCommands() {
  return {
      {"send",
       "seal, sign and send a message (a referral unless --kind says otherwise)",
       {},
       Flags({{{"to", "AGENCY", "the recipient agency id"},
               {"to_team", "TEAM",
                "a multi-agency team instead: one copy to each member (but this agency), "
                "each under its agreement, with the id MESSAGE_ID:MEMBER"},
               {"kind", "KIND",
                "referral | information_request | information_response | decline_to_share | "
                "outcome | operation_encompass",
                "referral"},
               {"in_reply_to", "MESSAGE_ID", "the message this one answers"}},
              MessageFlags(true)}),
       Send},
      {"request",
       "ask another agency what it holds about a child",
       {},
       Flags({{Required({"to", "AGENCY", "the agency asked"}),
               Required({"ask", "CATEGORIES",
                         "the data categories asked for, comma-separated, e.g. "
                         "health,education"})},
              MessageFlags(true)}),
       Request},
      {"respond",
       "answer an information request with what you hold",
       {"MESSAGE_ID"},
       Flags({{ReplyToFlag()}, MessageFlags(true)}),
       Respond},
      {"decline",
       "decline an information request, saying why",
       {"MESSAGE_ID"},
       Flags({{Required({"reasons", "REASONS",
                         "why not, comma-separated, e.g. not_necessary,no_information_held"}),
               {"explanation", "TEXT", "an explanation for the requester (sealed)"},
               ReplyToFlag()},
              MessageFlags(false)}),
       Decline},
      {"outcome",
       "tell a referrer what was decided about their referral",
       {"MESSAGE_ID"},
       Flags({{Required({"outcome_decision", "DECISION",
                         "no_further_action | early_help | child_in_need_assessment | "
                         "strategy_discussion | s47_enquiry | referred_elsewhere"}),
               {"summary", "TEXT", "what happens next, for the referrer (sealed)"},
               ReplyToFlag()},
              MessageFlags(false)}),
       Outcome},
      {"not-shared",
       "record a decision not to share (golden rule 7): audited, nothing is sent",
       {},
       Flags(
           {{Required({"with", "AGENCY", "the agency sharing was considered with"}),
             Required({"purpose", "PURPOSE", "what sharing would have been for, e.g. early_help"}),
             Required(
                 {"categories", "CATEGORIES", "the data categories considered, comma-separated"}),
             Required({"reasons", "REASONS",
                       "why not, comma-separated, e.g. not_necessary or "
                       "more_detrimental_than_disclosing (Children Act 2004 s16LA(3))"}),
             Required({"rationale", "TEXT", "why, in 10 to 1024 characters (no names)"}),
             Required({"practitioner", "STAFF_ID", "who decided"}),
             {"role", "ROLE", "their role, e.g. designated_safeguarding_lead", "social_worker"},
             {"subject", "REFERENCE", "the child's subject reference (64 hex characters)"},
             {"decision_id", "ID", "an id for the decision (default: a new UUID)"}},
            NetworkFlags()}),
       NotShared},
  };
}

}  // namespace safeshare::cli
