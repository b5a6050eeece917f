#ifndef SAFESHARE_AGENTS_CLI_COMMON_H_
#define SAFESHARE_AGENTS_CLI_COMMON_H_

// Helpers the command groups share: flag specs every network command takes,
// reading files, printing protos and times, and turning a Status into an
// exit code.

#include <signal.h>

#include <initializer_list>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "agents/agency_agent.h"
#include "agents/agent_client.h"
#include "agents/cli/command.h"
#include "google/protobuf/message.h"
#include "google/protobuf/timestamp.pb.h"
#include "safeshare/v1/directory.pb.h"
#include "safeshare/v1/policy.pb.h"

namespace safeshare::cli {

// `f` marked required.
FlagSpec Required(FlagSpec f);

// --gateway and --identity; `identity` names what the directory holds
// (e.g. "DIR" for an agency, "OFFICER_DIR" for an IG officer).
std::vector<FlagSpec> NetworkFlags(const std::string& identity = "DIR");

// The lists concatenated.
std::vector<FlagSpec> Flags(std::initializer_list<std::vector<FlagSpec>> lists);

FlagSpec JsonFlag();

// Prints "safeshare: CODE: message"; 2 for INVALID_ARGUMENT, else 1.
int Failed(const Invocation& inv, const absl::Status& st);

// The whole file; INVALID_ARGUMENT naming the path and the reason if not.
absl::StatusOr<std::string> ReadAll(const std::string& path);
std::string ToJson(const google::protobuf::Message& m);
std::string StateName(safeshare::v1::MessageState s);
std::string KindName(safeshare::v1::MessageKind k);
std::string TimeText(const google::protobuf::Timestamp& t);

// The decision and every finding that did not simply pass, indented under a
// receipt or a held message.
void PrintDecision(std::ostream& out, const safeshare::v1::PolicyDecision& d);

// A gRPC client with --identity and --gateway.
absl::StatusOr<std::unique_ptr<safeshare::agents::AgentClient>> Connect(const Invocation& inv);
// An agent (keys and client) with --identity and --gateway.
absl::StatusOr<std::unique_ptr<safeshare::agents::AgencyAgent>> OpenAgent(const Invocation& inv);

// SIGTERM and SIGINT blocked (before any thread starts, so every thread
// inherits the mask), for a long-running command to sigwait() on.
sigset_t BlockStopSignals();

// The audit_log identity of the --federation file.
absl::StatusOr<safeshare::v1::AuditLogIdentity> TrustedLog(const Invocation& inv);

// An enum value from its lower-case name without the prefix, e.g. "referral".
template <typename Enum, typename ParseFn>
absl::StatusOr<Enum> ParseEnumFlag(const std::string& prefix, const std::string& value,
                                   ParseFn parse) {
  Enum e;
  if (!parse(prefix + absl::AsciiStrToUpper(value), &e) || static_cast<int>(e) == 0) {
    return absl::InvalidArgumentError(absl::StrCat("unknown value '", value, "' for ", prefix));
  }
  return e;
}

// A comma-separated list of enum value names (without their prefix).
template <typename Enum, typename ParseFn>
absl::StatusOr<std::vector<Enum>> ParseEnumList(const std::string& prefix, const std::string& list,
                                                ParseFn parse) {
  std::vector<Enum> out;
  for (absl::string_view item : absl::StrSplit(list, ',', absl::SkipWhitespace())) {
    auto e = ParseEnumFlag<Enum>(prefix, std::string(absl::StripAsciiWhitespace(item)), parse);
    if (!e.ok()) return e.status();
    out.push_back(*e);
  }
  return out;
}

}  // namespace safeshare::cli

#endif  // SAFESHARE_AGENTS_CLI_COMMON_H_
