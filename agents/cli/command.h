#ifndef SAFESHARE_AGENTS_CLI_COMMAND_H_
#define SAFESHARE_AGENTS_CLI_COMMAND_H_

// The `safeshare` command table: every command names the flags it takes, so
// help shows only those and anything else is refused (exit 2) by name.

#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace safeshare::cli {

// Exit status of every command (policy check adds its verdicts, see there).
constexpr int kExitDone = 0;
constexpr int kExitRefused = 1;  // refused by the gateway, or unreachable
constexpr int kExitBadInput = 2;

// Fields after the first two default, so table entries may stop early.
struct FlagSpec {
  std::string name;        // spelled with underscores, e.g. "isa_dir"
  std::string value_name;  // e.g. "DIR"; empty for a switch (--json)
  std::string help = "";
  std::string default_value = "";  // used, and shown in help, when not given
  bool required = false;
  std::string old_name = "";  // a deprecated spelling still accepted, with a warning
};

struct Invocation;

struct Command {
  std::string name;                      // "send", or two words: "keys rotate"
  std::string summary;                   // one line, for `safeshare help`
  std::vector<std::string> positionals;  // required, in order, e.g. "MESSAGE_ID"
  std::vector<FlagSpec> flags;
  int (*run)(const Invocation&);
  std::string details = "";  // optional paragraph after the flags in help
};

// A parsed command line, handed to Command::run.
struct Invocation {
  const Command* command;
  std::vector<std::string> args;              // the positionals
  std::map<std::string, std::string> values;  // flags given, by canonical name
  std::ostream& out;
  std::ostream& err;

  // The flag's value, or its default. The flag must be one the command takes.
  std::string Flag(const std::string& name) const;
  bool Has(const std::string& name) const { return values.count(name) > 0; }
  bool Switch(const std::string& name) const;  // --json, --json=true|false
  absl::StatusOr<int> Int(const std::string& name) const;
  // Prints "safeshare CMD: why (see 'safeshare help CMD')"; returns 2.
  int BadUsage(const std::string& why) const;
};

// The full table, in the order `safeshare help` lists it.
const std::vector<Command>& CommandTable();

// Runs `safeshare ARGS...` (args[0] is the program name) and returns the
// exit status. Printing goes to `out` and `err`.
int Run(const std::vector<std::string>& args, std::ostream& out = std::cout,
        std::ostream& err = std::cerr);

// Each group's commands (agents/cli/<group>.cc).
std::vector<Command> PkiCommands();
std::vector<Command> MessageCommands();
std::vector<Command> MailboxCommands();
std::vector<Command> KeysCommands();
std::vector<Command> AuditCommands();
std::vector<Command> AgentCommands();
std::vector<Command> AdviceCommands();
std::vector<Command> PolicyCommands();
std::vector<Command> ConsoleCommands();

}  // namespace safeshare::cli

#endif  // SAFESHARE_AGENTS_CLI_COMMAND_H_
