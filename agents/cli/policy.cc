// safeshare policy check|lint: "may I share this?" before sending, and
// validating agreements, offline.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "agents/cli/command.h"
#include "common/enum_text.h"
#include "common/files.h"
#include "common/log.h"
#include "envelope/content.h"
#include "envelope/envelope_shape.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/time_util.h"
#include "policy/isa.h"
#include "policy/policy_engine.h"
#include "safeshare/v1/gateway_config.pb.h"

namespace safeshare::cli {
namespace {

namespace v1 = safeshare::v1;
using safeshare::policy::RulePack;

// Verdicts; bad input is kExitBadInput (2), as for every command.
constexpr int kAllow = 0, kDeny = 1, kHold = 3;

class FirstError : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (error.empty()) error = absl::StrCat(line + 1, ":", column + 1, ": ", message);
  }
  std::string error;
};

absl::StatusOr<v1::Federation> LoadFederation(const std::string& path) {
  auto text = safeshare::ReadFile(path);
  if (!text.ok()) return text.status();
  v1::Federation federation;
  google::protobuf::TextFormat::Parser parser;
  FirstError errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(*text, &federation)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ":", errors.error));
  }
  return federation;
}

absl::StatusOr<v1::Envelope> LoadEnvelope(const std::string& path) {
  auto text = safeshare::ReadFile(path);
  if (!text.ok()) return text.status();
  v1::Envelope envelope;
  absl::Status st = safeshare::policy::ParseProtoJson(*text, &envelope);
  if (!st.ok()) return absl::InvalidArgumentError(absl::StrCat(path, ": ", st.message()));
  return envelope;
}

// Bad input: "safeshare policy check: what" on stderr, exit 2.
int BadInput(const Invocation& inv, absl::string_view what) {
  inv.err << "safeshare " << inv.command->name << ": " << what << "\n";
  return kExitBadInput;
}

void PrintVerdict(std::ostream& out, const v1::PolicyDecision& d) {
  std::vector<std::string> findings;
  for (const auto& f : d.findings()) {
    findings.push_back(absl::StrCat("    {\"check\": ", JsonString(f.check()),
                                    ", \"rule\": ", JsonString(f.rule()),
                                    ", \"outcome\": ", JsonString(EnumShortName(f.outcome())),
                                    ", \"reason\": ", JsonString(f.reason()), "}"));
  }
  out << "{\n  \"decision\": " << JsonString(EnumShortName(d.decision()))
      << ",\n  \"pack\": " << JsonString(d.rule_pack())
      << ",\n  \"pack_version\": " << JsonString(d.rule_pack_version())
      << ",\n  \"rules_in_force\": ["
      << absl::StrJoin(d.rules_in_force(), ", ",
                       [](std::string* o, const std::string& r) { o->append(JsonString(r)); })
      << "]"
      << ",\n  \"isa\": " << (d.isa_id().empty() ? "null" : JsonString(d.isa_id()))
      << ",\n  \"isa_version\": " << (d.isa_id().empty() ? "null" : JsonString(d.isa_version()))
      << ",\n  \"findings\": [\n"
      << absl::StrJoin(findings, ",\n") << "\n  ]\n}\n";
}

int SubjectReference(const Invocation& inv) {
  auto key_hex = ReadFile(inv.Flag("identity") + "/subject.key");
  if (!key_hex.ok()) {
    return BadInput(inv, absl::StrCat("no subject.key in ", inv.Flag("identity"),
                                      ": the federation's subject key is issued to agencies"));
  }
  const std::string hex(absl::StripAsciiWhitespace(*key_hex));
  if (hex.size() % 2 != 0 || hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
    return BadInput(inv, "subject.key is not hex");
  }
  const std::string key = absl::HexStringToBytes(hex);
  auto ref = safeshare::envelope::SubjectReferenceFor(inv.Flag("nhs_number"), key);
  if (!ref.ok()) return BadInput(inv, ref.status().message());
  inv.out << *ref << "\n";
  return kExitDone;
}

int Check(const Invocation& inv) {
  RulePack pack = safeshare::policy::kDefaultRulePack;
  if (!safeshare::policy::ParseRulePack(inv.Flag("pack"), &pack)) {
    return BadInput(inv, "--pack must be 2018, 2024 or 2026");
  }
  absl::Time at = absl::Now();
  if (inv.Has("at")) {
    std::string why;
    if (!absl::ParseTime(absl::RFC3339_full, inv.Flag("at"), &at, &why)) {
      return BadInput(inv, absl::StrCat("--at must be an RFC 3339 time, e.g. "
                                        "2026-11-25T09:00:00Z: ",
                                        why));
    }
  }
  // The gateway's own rule pack and commencement dates, so that the check
  // gives the gateway's answer.
  v1::GatewayConfig config;
  if (inv.Has("config")) {
    auto text = ReadFile(inv.Flag("config"));
    if (!text.ok()) return BadInput(inv, text.status().message());
    if (!google::protobuf::TextFormat::ParseFromString(*text, &config)) {
      return BadInput(inv, absl::StrCat(inv.Flag("config"),
                                        " is not a gateway config (safeshare.v1.GatewayConfig "
                                        "in text format)"));
    }
    if (!inv.Has("pack") && !config.rule_pack().empty() &&
        !safeshare::policy::ParseRulePack(config.rule_pack(), &pack)) {
      return BadInput(inv,
                      absl::StrCat(inv.Flag("config"), ": rule_pack must be 2018, 2024 or 2026"));
    }
  }
  auto envelope = LoadEnvelope(inv.Flag("envelope"));
  if (!envelope.ok()) return BadInput(inv, envelope.status().message());
  // The default gateway's limits: what it would refuse before policy is bad
  // input here too, not a verdict.
  if (absl::Status st = safeshare::envelope::ValidateDeclaration(envelope->declaration());
      !st.ok()) {
    return BadInput(inv, st.message());
  }
  auto federation = LoadFederation(inv.Flag("federation"));
  if (!federation.ok()) return BadInput(inv, federation.status().message());
  auto isas = safeshare::policy::LoadIsaDirectory(inv.Flag("isa_dir"), &*federation);
  if (!isas.ok()) return BadInput(inv, isas.status().message());
  auto engine = safeshare::policy::PolicyEngine::Create(*std::move(isas), *federation,
                                                        config.rule_commencement());
  if (!engine.ok()) return BadInput(inv, engine.status().message());

  const v1::PolicyDecision d = (*engine)->Decide(*envelope, at, pack);
  PrintVerdict(inv.out, d);
  switch (d.decision()) {
    case v1::DECISION_ALLOW:
      return kAllow;
    case v1::DECISION_HOLD_FOR_ADVICE:
      return kHold;
    default:
      return kDeny;
  }
}

int Lint(const Invocation& inv) {
  const std::string dir = inv.args[0];
  auto federation = LoadFederation(inv.Flag("federation"));
  if (!federation.ok()) return BadInput(inv, federation.status().message());
  auto isas = safeshare::policy::LoadIsaDirectory(dir, &*federation);
  if (isas.status().code() == absl::StatusCode::kInvalidArgument) {
    inv.err << isas.status().message() << "\n";
    return 1;
  }
  if (!isas.ok()) return BadInput(inv, isas.status().message());
  for (const auto& isa : isas->agreements) {
    inv.out << "ok  " << isa.id() << " v" << isa.version() << "  review by "
            << google::protobuf::util::TimeUtil::ToString(isa.review_by()).substr(0, 10) << "  "
            << isa.title() << "\n";
  }
  inv.out << isas->agreements.size() << " agreements valid in " << dir << "\n";
  return kExitDone;
}

FlagSpec FederationFlag() {
  return {"federation", "FILE", "the federation (safeshare.v1.Federation, text format)",
          "deploy/dev-federation.textproto"};
}

}  // namespace

std::vector<Command> PolicyCommands() {
  return {
      {"policy check",
       "may I share this? the golden-rules and agreement decision for an envelope, offline",
       {},
       {{"envelope", "FILE",
         "an Envelope in proto3 JSON (kind, sender_agency_id, sender_practitioner, "
         "recipient_agency_id, declaration; a payload is ignored)",
         "", true},
        {"isa_dir", "DIR", "the information sharing agreements", "deploy/isa", false, "isa-dir"},
        {"pack", "2018|2024|2026", "the golden-rules pack", "2026"},
        {"at", "TIME", "decide as at this RFC 3339 time (default: now)"},
        {"config", "FILE",
         "the gateway's config (text format): its rule_pack (unless --pack is given) and "
         "rule_commencement dates"},
        FederationFlag()},
       Check,
       "Prints one JSON object {\"decision\", \"pack\", \"pack_version\", \"rules_in_force\", "
       "\"isa\", "
       "\"isa_version\",\n\"findings\": [{\"check\", \"rule\", \"outcome\", \"reason\"}]}.\n"
       "Exits with the verdict: 0 ALLOW, 1 DENY, 3 HOLD_FOR_ADVICE; 2 bad input.\n"},
      {"subject reference",
       "the subject reference of a child from their NHS number, as every agency derives it",
       {},
       {{"nhs_number", "NUMBER", "the child's NHS number (10 digits)", "", true},
        {"identity", "DIR", "the agency's directory, holding the federation's subject.key", "",
         true}},
       SubjectReference,
       "Prints 64 hex characters: HMAC-SHA256 under the federation's subject key\n"
       "(docs/domain.md, \"The consistent child identifier\"). The NHS number is not logged.\n"},
      {"policy lint",
       "validate every information sharing agreement in a directory",
       {"DIR"},
       {FederationFlag()},
       Lint,
       "Exit 0 all valid, 1 invalid (one line per bad file on stderr: file: field: reason),\n"
       "2 bad input.\n"},
  };
}

}  // namespace safeshare::cli
