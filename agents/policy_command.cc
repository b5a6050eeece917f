#include "agents/policy_command.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/time_util.h"
#include "policy/isa.h"
#include "policy/policy_engine.h"

namespace safeshare::agents {
namespace {

namespace v1 = safeshare::v1;
using safeshare::policy::RulePack;

constexpr int kAllow = 0, kDeny = 1, kHold = 2, kBadInput = 3;
constexpr const char* kUsage =
    "usage: safeshare policy check --envelope FILE [--isa-dir DIR] [--pack 2018|2024] "
    "[--at RFC3339_TIME] [--federation FILE]\n"
    "       safeshare policy lint DIR [--federation FILE]\n";

absl::StatusOr<std::string> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat(path, ": cannot be read"));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

class FirstError : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (error.empty()) error = absl::StrCat(line + 1, ":", column + 1, ": ", message);
  }
  std::string error;
};

absl::StatusOr<v1::Federation> LoadFederation(const std::string& path) {
  auto text = ReadAll(path);
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
  auto text = ReadAll(path);
  if (!text.ok()) return text.status();
  v1::Envelope envelope;
  absl::Status st = safeshare::policy::ParseProtoJson(*text, &envelope);
  if (!st.ok()) return absl::InvalidArgumentError(absl::StrCat(path, ": ", st.message()));
  return envelope;
}

std::string Quote(absl::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          absl::StrAppendFormat(&out, "\\u%04x", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string Suffix(const std::string& name, absl::string_view prefix) {
  return absl::StartsWith(name, prefix) ? name.substr(prefix.size()) : name;
}

// Splits "--flag value" / "--flag=value" options after the subcommand; bare
// words go to `positional`. False (with a message) on anything unknown.
bool ParseOptions(int argc, char** argv, const std::vector<std::string>& known,
                  std::map<std::string, std::string>* flags, std::vector<std::string>* positional,
                  std::ostream& err) {
  for (int i = 3; i < argc; ++i) {
    std::string arg = argv[i];
    if (!absl::StartsWith(arg, "--")) {
      positional->push_back(arg);
      continue;
    }
    std::string name = arg.substr(2), value;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      err << "safeshare policy: --" << name << " needs a value\n" << kUsage;
      return false;
    }
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      err << "safeshare policy: unknown option --" << name << "\n" << kUsage;
      return false;
    }
    (*flags)[name] = value;
  }
  return true;
}

std::string Get(const std::map<std::string, std::string>& flags, const std::string& name,
                const std::string& fallback) {
  auto it = flags.find(name);
  return it == flags.end() ? fallback : it->second;
}

int BadInput(std::ostream& err, absl::string_view what) {
  err << "safeshare policy: " << what << "\n";
  return kBadInput;
}

int Check(int argc, char** argv, std::ostream& out, std::ostream& err) {
  std::map<std::string, std::string> flags;
  std::vector<std::string> positional;
  if (!ParseOptions(argc, argv, {"envelope", "isa-dir", "pack", "at", "federation"}, &flags,
                    &positional, err)) {
    return kBadInput;
  }
  if (!positional.empty()) return BadInput(err, absl::StrCat("unexpected '", positional[0], "'"));
  const std::string envelope_path = Get(flags, "envelope", "");
  if (envelope_path.empty()) return BadInput(err, "check needs --envelope FILE");
  RulePack pack = safeshare::policy::kDefaultRulePack;
  if (!safeshare::policy::ParseRulePack(Get(flags, "pack", "2024"), &pack)) {
    return BadInput(err, "--pack must be 2018 or 2024");
  }
  absl::Time at = absl::Now();
  if (flags.count("at")) {
    std::string why;
    if (!absl::ParseTime(absl::RFC3339_full, flags["at"], &at, &why)) {
      return BadInput(err, absl::StrCat("--at must be an RFC 3339 time, e.g. "
                                        "2026-11-25T09:00:00Z: ",
                                        why));
    }
  }
  auto envelope = LoadEnvelope(envelope_path);
  if (!envelope.ok()) return BadInput(err, envelope.status().message());
  auto federation = LoadFederation(Get(flags, "federation", "deploy/dev-federation.textproto"));
  if (!federation.ok()) return BadInput(err, federation.status().message());
  auto isas =
      safeshare::policy::LoadIsaDirectory(Get(flags, "isa-dir", "deploy/isa"), &*federation);
  if (!isas.ok()) return BadInput(err, isas.status().message());
  auto engine = safeshare::policy::PolicyEngine::Create(*std::move(isas), *federation);
  if (!engine.ok()) return BadInput(err, engine.status().message());

  const v1::PolicyDecision d = (*engine)->Decide(*envelope, at, pack);
  std::vector<std::string> findings;
  for (const auto& f : d.findings()) {
    findings.push_back(absl::StrCat(
        "    {\"check\": ", Quote(f.check()), ", \"rule\": ", Quote(f.rule()),
        ", \"outcome\": ", Quote(Suffix(v1::FindingOutcome_Name(f.outcome()), "FINDING_OUTCOME_")),
        ", \"reason\": ", Quote(f.reason()), "}"));
  }
  out << "{\n  \"decision\": " << Quote(Suffix(v1::Decision_Name(d.decision()), "DECISION_"))
      << ",\n  \"pack\": " << Quote(d.rule_pack())
      << ",\n  \"pack_version\": " << Quote(d.rule_pack_version())
      << ",\n  \"isa\": " << (d.isa_id().empty() ? "null" : Quote(d.isa_id()))
      << ",\n  \"isa_version\": " << (d.isa_id().empty() ? "null" : Quote(d.isa_version()))
      << ",\n  \"findings\": [\n"
      << absl::StrJoin(findings, ",\n") << "\n  ]\n}\n";
  switch (d.decision()) {
    case v1::DECISION_ALLOW:
      return kAllow;
    case v1::DECISION_HOLD_FOR_ADVICE:
      return kHold;
    default:
      return kDeny;
  }
}

int Lint(int argc, char** argv, std::ostream& out, std::ostream& err) {
  std::map<std::string, std::string> flags;
  std::vector<std::string> positional;
  if (!ParseOptions(argc, argv, {"federation"}, &flags, &positional, err)) return kBadInput;
  if (positional.size() != 1) return BadInput(err, "lint needs exactly one DIR");
  auto federation = LoadFederation(Get(flags, "federation", "deploy/dev-federation.textproto"));
  if (!federation.ok()) return BadInput(err, federation.status().message());
  auto isas = safeshare::policy::LoadIsaDirectory(positional[0], &*federation);
  if (isas.status().code() == absl::StatusCode::kInvalidArgument) {
    err << isas.status().message() << "\n";
    return 1;
  }
  if (!isas.ok()) return BadInput(err, isas.status().message());
  for (const auto& isa : isas->agreements) {
    out << "ok  " << isa.id() << " v" << isa.version() << "  review by "
        << google::protobuf::util::TimeUtil::ToString(isa.review_by()).substr(0, 10) << "  "
        << isa.title() << "\n";
  }
  out << isas->agreements.size() << " agreements valid in " << positional[0] << "\n";
  return 0;
}

}  // namespace

int RunPolicyCommand(int argc, char** argv, std::ostream& out, std::ostream& err) {
  const std::string sub = argc > 2 ? argv[2] : "";
  if (sub == "check") return Check(argc, argv, out, err);
  if (sub == "lint") return Lint(argc, argv, out, err);
  if (sub == "help" || sub == "--help" || sub == "-h") {
    out << kUsage;
    return 0;
  }
  err << "safeshare policy: expected check or lint\n" << kUsage;
  return kBadInput;
}

}  // namespace safeshare::agents
