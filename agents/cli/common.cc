#include "agents/cli/common.h"

#include <pthread.h>
#include <signal.h>

#include <cstring>

#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "agents/outgoing_message.h"
#include "common/enum_text.h"
#include "common/error_reason.h"
#include "common/files.h"
#include "common/refusal_reasons.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"

namespace safeshare::cli {

using safeshare::agents::AgentClient;

FlagSpec Required(FlagSpec f) {
  f.required = true;
  return f;
}

std::vector<FlagSpec> NetworkFlags(const std::string& identity) {
  return {{"gateway", "HOST:PORT", "the gateway's address", "localhost:7443"},
          Required({"identity", identity, "directory with ca.pem, cert.pem and key.pem"})};
}

std::vector<FlagSpec> Flags(std::initializer_list<std::vector<FlagSpec>> lists) {
  std::vector<FlagSpec> all;
  for (const auto& list : lists) all.insert(all.end(), list.begin(), list.end());
  return all;
}

FlagSpec JsonFlag() { return {"json", "", "print proto3 JSON instead of text"}; }

int Failed(const Invocation& inv, const absl::Status& st) {
  inv.err << "safeshare: " << absl::StatusCodeToString(st.code()) << ": " << st.message();
  // The gateway's machine-readable reason, for scripts (docs/envelope-format.md).
  std::string_view advice;
  if (auto reason = safeshare::ReasonOf(st); reason.has_value()) {
    inv.err << " [" << reason->reason() << "]";
    if (reason->domain() == safeshare::kReasonDomain) {
      advice = safeshare::reason::AdviceFor(reason->reason());
    }
  }
  inv.err << "\n";
  if (!advice.empty()) inv.err << "safeshare: what to do: " << advice << "\n";
  return st.code() == absl::StatusCode::kInvalidArgument ? kExitBadInput : kExitRefused;
}

absl::StatusOr<std::string> ReadAll(const std::string& path) {
  auto text = safeshare::ReadFile(path);
  // A file the user named and we cannot read is bad input (exit 2).
  if (!text.ok()) return absl::InvalidArgumentError(text.status().message());
  return text;
}

std::string ToJson(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions opts;
  opts.add_whitespace = false;
  opts.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, opts);
  return out;
}

std::string StateName(safeshare::v1::MessageState s) { return EnumShortName(s); }

std::string KindName(safeshare::v1::MessageKind k) { return EnumShortName(k); }

std::string TimeText(const google::protobuf::Timestamp& t) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%E3S UTC",
                          absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos()),
                          absl::UTCTimeZone());
}

void PrintDecision(std::ostream& out, const safeshare::v1::PolicyDecision& d) {
  out << "          decision " << EnumShortName(d.decision()) << " under " << d.rule_pack() << " "
      << d.rule_pack_version();
  if (!d.isa_id().empty()) out << ", agreement " << d.isa_id() << " v" << d.isa_version();
  out << "\n";
  for (const auto& f : d.findings()) {
    if (f.outcome() == safeshare::v1::FINDING_OUTCOME_PASS &&
        !absl::StartsWith(f.reason(), "Flagged")) {
      continue;
    }
    out << "          " << EnumShortName(f.outcome()) << "  " << f.check() << " (" << f.rule()
        << "): " << f.reason() << "\n";
  }
}

absl::StatusOr<std::unique_ptr<AgentClient>> Connect(const Invocation& inv) {
  auto id = safeshare::agents::LoadIdentity(inv.Flag("identity"));
  if (!id.ok()) return absl::InvalidArgumentError(id.status().message());
  return AgentClient::Connect(inv.Flag("gateway"), *id);
}

absl::StatusOr<std::unique_ptr<safeshare::agents::AgencyAgent>> OpenAgent(const Invocation& inv) {
  return safeshare::agents::AgencyAgent::Open(inv.Flag("identity"), inv.Flag("gateway"));
}

absl::StatusOr<safeshare::v1::AuditLogIdentity> TrustedLog(const Invocation& inv) {
  const std::string path = inv.Flag("federation");
  if (path.empty()) {
    return absl::InvalidArgumentError(
        "--federation FILE is required: it names the trusted audit key");
  }
  auto text = ReadAll(path);
  if (!text.ok()) return text.status();
  safeshare::v1::Federation federation;
  if (!google::protobuf::TextFormat::ParseFromString(*text, &federation)) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is not a safeshare.v1.Federation"));
  }
  return federation.audit_log();
}

// SIGTERM and SIGINT, blocked before any thread starts so that every thread
// inherits the mask; sigwait() takes them.
sigset_t BlockStopSignals() {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  return stop_signals;
}

}  // namespace safeshare::cli
