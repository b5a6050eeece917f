// safeshare audit checkpoint|query|export|report|verify|erase|rectify and
// receipt verify: reading the signed audit log, online (IG officers) and
// offline, and correcting or erasing the personal text it holds.
#include <fstream>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "agents/cli/common.h"
#include "common/files.h"
#include "google/protobuf/util/json_util.h"
#include "transparency/checkpoint.h"
#include "transparency/cosignature.h"
#include "verification/audit_verifier.h"

namespace safeshare::cli {
namespace {

namespace v1 = safeshare::v1;

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

// --since and --until into `q`.
absl::Status TimeRange(const Invocation& inv, v1::AuditQuery* q) {
  for (const char* name : {"since", "until"}) {
    if (inv.Flag(name).empty()) continue;
    auto t = ParseTimeFlag(inv.Flag(name));
    if (!t.ok()) return t.status();
    *(std::string(name) == "since" ? q->mutable_start_time() : q->mutable_end_time()) = *t;
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::AuditQuery> QueryFromFlags(const Invocation& inv) {
  v1::AuditQuery q;
  q.set_agency_id(inv.Flag("agency"));
  q.set_area_id(inv.Flag("area"));
  q.set_failed_check(inv.Flag("failed_check"));
  q.set_subject_reference(inv.Flag("subject"));
  if (auto st = TimeRange(inv, &q); !st.ok()) return st;
  if (!inv.Flag("of_kind").empty()) {
    auto k =
        ParseEnumFlag<v1::MessageKind>("MESSAGE_KIND_", inv.Flag("of_kind"), v1::MessageKind_Parse);
    if (!k.ok()) return k.status();
    q.set_kind(*k);
  }
  if (!inv.Flag("for_purpose").empty()) {
    auto p = ParseEnumFlag<v1::Purpose>("PURPOSE_", inv.Flag("for_purpose"), v1::Purpose_Parse);
    if (!p.ok()) return p.status();
    q.set_purpose(*p);
  }
  if (!inv.Flag("decision").empty()) {
    auto d = ParseEnumFlag<v1::Decision>("DECISION_", inv.Flag("decision"), v1::Decision_Parse);
    if (!d.ok()) return d.status();
    q.set_decision(*d);
  }
  return q;
}

// --witness_policy FILE, if given: a C2SP tlog-policy ("k of these n").
absl::StatusOr<std::optional<transparency::WitnessPolicy>> WitnessPolicyFlag(
    const Invocation& inv) {
  if (inv.Flag("witness_policy").empty()) return std::optional<transparency::WitnessPolicy>();
  auto text = ReadAll(inv.Flag("witness_policy"));
  if (!text.ok()) return text.status();
  auto policy = transparency::WitnessPolicy::Parse(*text);
  if (!policy.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(inv.Flag("witness_policy"), ": ", policy.status().message()));
  }
  return std::optional<transparency::WitnessPolicy>(*std::move(policy));
}

FlagSpec WitnessPolicySpec() {
  return {"witness_policy", "FILE",
          "also require cosignatures meeting this C2SP tlog-policy (k of these n witnesses)"};
}

int AuditVerify(const Invocation& inv) {
  auto log = TrustedLog(inv);
  if (!log.ok()) return Failed(inv, log.status());
  absl::StatusOr<safeshare::verification::AuditVerification> v =
      absl::InvalidArgumentError("audit verify needs --db FILE or --export_file FILE");
  if (!inv.Flag("db").empty()) {
    v = safeshare::verification::VerifyAuditDatabase(inv.Flag("db"), *log);
  } else if (!inv.Flag("export_file").empty()) {
    v = safeshare::verification::VerifyAuditExport(inv.Flag("export_file"), *log);
  }
  auto witnesses = WitnessPolicyFlag(inv);
  if (!witnesses.ok()) return Failed(inv, witnesses.status());
  if (v.ok() && witnesses->has_value()) {
    if (auto st = safeshare::verification::CheckWitnessed(*v, **witnesses); !st.ok()) v = st;
  }
  if (!v.ok()) {
    inv.out << "FAILED: " << v.status().message() << "\n";
    return v.status().code() == absl::StatusCode::kDataLoss ? kExitRefused
                                                            : Failed(inv, v.status());
  }
  if (witnesses->has_value()) {
    auto note = transparency::ParseNote(v->witnessed_note);
    auto cp = note.ok() ? transparency::ParseCheckpointBody(note->text)
                        : absl::StatusOr<transparency::Checkpoint>(note.status());
    inv.out << "witnessed: the checkpoint for size " << (cp.ok() ? cp->size : 0)
            << " is cosigned by witnesses meeting the policy\n";
  }
  inv.out << "verified: " << v->records << " records, " << v->checkpoints
          << " signed checkpoint(s); log size " << v->tree_size << ", root " << v->root_hex
          << (v->complete ? "" : " (filtered export: each record's inclusion proof checked)")
          << "; " << v->texts_checked << " text(s) checked against their commitments, "
          << v->texts_erased << " erased";
  if (v->texts_unchecked > 0) {
    inv.out << ", " << v->texts_unchecked
            << " rectified text(s) not checked (their rectification record is not in this "
               "filtered export)";
  }
  inv.out << "\n";
  return kExitDone;
}

// audit erase / audit rectify: one committed text of one record.
int AuditChangeText(const Invocation& inv, bool rectify) {
  uint64_t leaf = 0;
  if (!absl::SimpleAtoi(inv.Flag("leaf"), &leaf)) {
    return inv.BadUsage("--leaf must be a record's leaf index (a number)");
  }
  if (inv.Flag("reason").empty()) return inv.BadUsage("--reason is required");
  if (rectify && inv.Flag("text").empty()) {
    return inv.BadUsage("--text is required (to remove the text, use audit erase)");
  }
  auto client = Connect(inv);
  if (!client.ok()) return Failed(inv, client.status());
  absl::StatusOr<uint64_t> recorded = absl::InternalError("unset");
  if (rectify) {
    v1::RectifyTextRequest req;
    req.set_leaf_index(leaf);
    req.set_field(inv.Flag("field"));
    req.set_new_text(inv.Flag("text"));
    req.set_reason(inv.Flag("reason"));
    recorded = (*client)->RectifyText(req);
  } else {
    v1::EraseTextRequest req;
    req.set_leaf_index(leaf);
    req.set_field(inv.Flag("field"));
    req.set_reason(inv.Flag("reason"));
    recorded = (*client)->EraseText(req);
  }
  if (!recorded.ok()) return Failed(inv, recorded.status());
  inv.out << (rectify ? "rectified" : "erased") << ": " << inv.Flag("field") << " of record "
          << leaf << "; the change is audit record " << *recorded << "\n";
  return kExitDone;
}

int AuditErase(const Invocation& inv) { return AuditChangeText(inv, false); }
int AuditRectify(const Invocation& inv) { return AuditChangeText(inv, true); }

int AuditCheckpoint(const Invocation& inv) {
  auto client = Connect(inv);
  if (!client.ok()) return Failed(inv, client.status());
  auto cp = (*client)->GetCheckpoint();
  if (!cp.ok()) return Failed(inv, cp.status());
  inv.out << cp->signed_note();
  if (inv.Flag("federation").empty()) return kExitDone;
  auto log = TrustedLog(inv);
  if (!log.ok()) return Failed(inv, log.status());
  auto opened = safeshare::transparency::VerifyCheckpoint(cp->signed_note(), log->origin(),
                                                          log->public_key(), log->origin());
  if (!opened.ok()) return Failed(inv, opened.status());
  inv.out << "signature verified against the federation's audit key\n";
  return kExitDone;
}

int AuditQuery(const Invocation& inv) {
  auto limit = inv.Int("limit");
  if (!limit.ok()) return inv.BadUsage(std::string(limit.status().message()));
  auto query = QueryFromFlags(inv);
  if (!query.ok()) return Failed(inv, query.status());
  auto client = Connect(inv);
  if (!client.ok()) return Failed(inv, client.status());
  std::string token;
  int shown = 0;
  do {
    auto page = (*client)->QueryRecords(*query, 0, token);
    if (!page.ok()) return Failed(inv, page.status());
    for (const auto& r : page->records()) {
      if (shown++ >= *limit) return kExitDone;
      inv.out << ToJson(r) << "\n";
    }
    token = page->next_page_token();
  } while (!token.empty());
  return kExitDone;
}

int AuditExport(const Invocation& inv) {
  const std::string format = inv.Flag("format");
  if (format != "csv" && format != "jsonl") return inv.BadUsage("--format must be csv or jsonl");
  auto query = QueryFromFlags(inv);
  if (!query.ok()) return Failed(inv, query.status());
  auto client = Connect(inv);
  if (!client.ok()) return Failed(inv, client.status());
  std::ofstream file;
  if (!inv.Flag("out").empty()) {
    file.open(inv.Flag("out"), std::ios::binary | std::ios::trunc);
    if (!file) return Failed(inv, absl::UnavailableError("cannot write " + inv.Flag("out")));
  }
  std::ostream& out = file.is_open() ? static_cast<std::ostream&>(file) : inv.out;
  auto st = (*client)->ExportRecords(
      *query, format == "csv" ? v1::EXPORT_FORMAT_CSV : v1::EXPORT_FORMAT_JSON_LINES,
      [&](const std::string& chunk) {
        out << chunk;
        return out ? absl::OkStatus() : absl::UnavailableError("write failed");
      },
      inv.Switch("witnessed"));
  if (!st.ok()) return Failed(inv, st);
  return kExitDone;
}

void PrintReport(std::ostream& out, const v1::FlowReportResponse& report) {
  out << absl::StrFormat("%-16s %-16s %8s %8s %8s %10s\n", "from area", "to area", "allowed",
                         "denied", "held", "not shared");
  for (const auto& f : report.flows()) {
    out << absl::StrFormat("%-16s %-16s %8d %8d %8d %10d\n", f.from_area_id(), f.to_area_id(),
                           f.allowed(), f.denied(), f.held(), f.not_shared());
  }
  out << absl::StrFormat("\n%-28s %8s %8s\n", "check", "failed", "advice");
  for (const auto& c : report.checks()) {
    out << absl::StrFormat("%-28s %8d %8d\n", c.check(), c.failed(), c.advice());
  }
}

int AuditReport(const Invocation& inv) {
  v1::AuditQuery range;
  if (auto st = TimeRange(inv, &range); !st.ok()) return Failed(inv, st);
  auto client = Connect(inv);
  if (!client.ok()) return Failed(inv, client.status());
  v1::FlowReportRequest req;
  if (range.has_start_time()) *req.mutable_start_time() = range.start_time();
  if (range.has_end_time()) *req.mutable_end_time() = range.end_time();
  auto report = (*client)->FlowReport(req);
  if (!report.ok()) return Failed(inv, report.status());
  if (inv.Switch("json")) {
    inv.out << ToJson(*report) << "\n";
  } else {
    PrintReport(inv.out, *report);
  }
  return kExitDone;
}

// A receipt file as `send --receipt_out` writes it (a SubmitResponse in JSON).
absl::StatusOr<v1::SubmitResponse> ReadReceipt(const std::string& path) {
  auto json = ReadAll(path);
  if (!json.ok()) return json.status();
  v1::SubmitResponse receipt;
  if (!google::protobuf::util::JsonStringToMessage(*json, &receipt).ok()) {
    return absl::InvalidArgumentError("the receipt file is not a SubmitResponse in JSON");
  }
  return receipt;
}

int ReceiptVerify(const Invocation& inv) {
  auto log = TrustedLog(inv);
  if (!log.ok()) return Failed(inv, log.status());
  auto receipt = ReadReceipt(inv.Flag("receipt"));
  if (!receipt.ok()) return Failed(inv, receipt.status());
  auto witnesses = WitnessPolicyFlag(inv);
  if (!witnesses.ok()) return Failed(inv, witnesses.status());
  if (auto st = safeshare::verification::VerifyReceipt(
          *receipt, *log, witnesses->has_value() ? &**witnesses : nullptr);
      !st.ok()) {
    inv.out << "FAILED: " << st.message() << "\n";
    return kExitRefused;
  }
  inv.out << "verified: " << receipt->message_id() << " decision "
          << v1::Decision_Name(receipt->decision().decision()) << " is record "
          << receipt->audit_inclusion_proof().leaf_index() << " of the signed audit log (size "
          << receipt->audit_checkpoint().tree_size() << ")";
  if (witnesses->has_value()) {
    inv.out << ", and of the checkpoint for size " << receipt->witnessed().checkpoint().tree_size()
            << " cosigned by witnesses meeting the policy";
  }
  inv.out << "\n";
  return kExitDone;
}

// Adds the decision's inclusion in a cosigned checkpoint to a kept receipt.
int ReceiptWitness(const Invocation& inv) {
  auto receipt = ReadReceipt(inv.Flag("receipt"));
  if (!receipt.ok()) return Failed(inv, receipt.status());
  auto client = Connect(inv);
  if (!client.ok()) return Failed(inv, client.status());
  auto witnessed = (*client)->WitnessReceipt(receipt->message_id());
  if (!witnessed.ok()) return Failed(inv, witnessed.status());
  *receipt->mutable_witnessed() = *std::move(witnessed);
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  if (!google::protobuf::util::MessageToJsonString(*receipt, &out, options).ok()) {
    return Failed(inv, absl::InternalError("the receipt cannot be written as JSON"));
  }
  if (auto st = WriteFileAtomically(inv.Flag("receipt"), out, 0600); !st.ok()) {
    return Failed(inv, st);
  }
  inv.out << "witnessed: " << receipt->message_id() << " is in the checkpoint for size "
          << receipt->witnessed().checkpoint().tree_size() << " with its cosignatures; written to "
          << inv.Flag("receipt") << " (check it: safeshare receipt verify --witness_policy FILE)\n";
  return kExitDone;
}

std::vector<FlagSpec> TimeFlags() {
  return {{"since", "TIME", "from this time (RFC 3339 or YYYY-MM-DD)"},
          {"until", "TIME", "before this time (RFC 3339 or YYYY-MM-DD)"}};
}

std::vector<FlagSpec> FilterFlags() {
  return Flags({{{"agency", "AGENCY", "flows to or from this agency"},
                 {"area", "AREA", "flows to or from this area"}},
                TimeFlags(),
                {{"of_kind", "KIND", "only this message kind, e.g. referral"},
                 {"for_purpose", "PURPOSE", "only this purpose, e.g. s47_enquiry"},
                 {"decision", "DECISION", "allow | deny | hold_for_advice"},
                 {"failed_check", "CHECK", "a check that failed or asked for advice"},
                 {"subject", "REFERENCE", "a subject reference"}}});
}

FlagSpec FederationFlag(bool required) {
  FlagSpec f{"federation", "FILE", "the federation file whose audit_log key is trusted"};
  f.required = required;
  return f;
}

}  // namespace

std::vector<Command> AuditCommands() {
  const std::vector<FlagSpec> officer = NetworkFlags("OFFICER_DIR");
  const std::vector<FlagSpec> agency = NetworkFlags();
  return {
      {"audit checkpoint",
       "the gateway's latest signed checkpoint (verified if --federation is given)",
       {},
       Flags({{FederationFlag(false)}, officer}),
       AuditCheckpoint},
      {"audit query",
       "audit records matching the filters, one JSON object a line",
       {},
       Flags({FilterFlags(), {{"limit", "N", "at most this many records", "1000"}}, officer}),
       AuditQuery},
      {"audit export",
       "export matching audit records with their proofs, for offline verification",
       {},
       Flags({FilterFlags(),
              {{"format", "FORMAT", "csv | jsonl", "jsonl"},
               {"out", "FILE", "write here instead of standard output"},
               {"witnessed", "",
                "up to the latest checkpoint witnesses cosigned (for audit verify "
                "--witness_policy)"}},
              officer}),
       AuditExport},
      {"audit report",
       "flows between areas and the checks that failed, counted",
       {},
       Flags({TimeFlags(), {JsonFlag()}, officer}),
       AuditReport},
      {"audit verify",
       "verify the whole audit log offline: a copy of the gateway's database, or an export",
       {},
       {{"db", "FILE", "a copy of the gateway's SQLite database"},
        {"export_file", "FILE", "a JSON-lines export (audit export --format jsonl)"},
        WitnessPolicySpec(),
        FederationFlag(true)},
       AuditVerify,
       "Give --db or --export_file. Exit 1 when the log does not verify.\n"},
      {"audit erase",
       "erase one committed text of an audit record (federation-scope officers)",
       {},
       Flags({{Required({"leaf", "N", "the record's leaf index"}),
               Required({"field", "FIELD",
                         "declaration.necessity_justification | declaration.consent_rationale | "
                         "declaration.advice_reference | declaration.subject_reference | "
                         "declaration.public_body_statement | reason | "
                         "read_query.subject_reference"}),
               Required({"reason", "TEXT", "why (kept, committed, in the erasure's record)"})},
              officer}),
       AuditErase,
       "The record as hashed is unchanged; reads show \"erased on DATE by OFFICER\".\n"},
      {"audit rectify",
       "replace one committed text of an audit record (federation-scope officers)",
       {},
       Flags(
           {{Required({"leaf", "N", "the record's leaf index"}),
             Required({"field", "FIELD", "a committed field, as for audit erase"}),
             Required({"text", "TEXT", "the corrected text"}),
             Required({"reason", "TEXT", "why (kept, committed, in the rectification's record)"})},
            officer}),
       AuditRectify,
       "Reads show the new text; its disclosure opens the rectification record's commitment.\n"},
      {"receipt verify",
       "check offline that a receipt's decision is in the signed audit log",
       {},
       {Required({"receipt", "FILE", "a receipt JSON file (send --receipt_out)"}),
        WitnessPolicySpec(), FederationFlag(true)},
       ReceiptVerify,
       "Exit 1 when the receipt does not verify.\n"},
      {"receipt witness",
       "add to a kept receipt its decision's proof in a checkpoint witnesses cosigned",
       {},
       Flags(
           {{Required({"receipt", "FILE", "a receipt JSON file (send --receipt_out), rewritten"})},
            agency}),
       ReceiptWitness,
       "FAILED_PRECONDITION until the gateway's witnesses have cosigned a checkpoint covering "
       "the decision: try again after the next round.\n"},
  };
}

}  // namespace safeshare::cli
