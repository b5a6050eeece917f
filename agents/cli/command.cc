#include "agents/cli/command.h"

#include <algorithm>
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace safeshare::cli {
namespace {

constexpr const char* kExitContract =
    "exit status: 0 done, 1 refused by the gateway or it could not be reached, 2 bad input\n"
    "(an unknown flag, a missing or malformed value, an unreadable file).\n"
    "policy check instead exits with its verdict: 0 ALLOW, 1 DENY, 3 HOLD_FOR_ADVICE;\n"
    "2 is bad input there too.\n";

const FlagSpec* FindSpec(const Command& cmd, const std::string& name) {
  for (const FlagSpec& f : cmd.flags) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

// The spec a command-line spelling names, and whether that spelling is the
// deprecated one.
const FlagSpec* FindSpelling(const Command& cmd, const std::string& spelling, bool* deprecated) {
  for (const FlagSpec& f : cmd.flags) {
    if (f.name == spelling) return &f;
    if (!f.old_name.empty() && f.old_name == spelling) {
      *deprecated = true;
      return &f;
    }
  }
  return nullptr;
}

std::string FlagSynopsis(const FlagSpec& f) {
  return f.value_name.empty() ? "--" + f.name : absl::StrCat("--", f.name, " ", f.value_name);
}

std::string UsageLine(const Command& cmd) {
  std::string line = "usage: safeshare " + cmd.name;
  for (const std::string& p : cmd.positionals) absl::StrAppend(&line, " ", p);
  bool optional = false;
  for (const FlagSpec& f : cmd.flags) {
    if (f.required) {
      absl::StrAppend(&line, " ", FlagSynopsis(f));
    } else {
      optional = true;
    }
  }
  if (optional) line += " [flags]";
  return line + "\n";
}

// `text` in lines of at most kHelpWidth columns, each after the first
// indented by `indent` (the first starts at column `indent` already).
constexpr size_t kHelpWidth = 100;
std::string Wrap(const std::string& text, size_t indent) {
  std::string out, line;
  for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    if (!line.empty() && indent + line.size() + 1 + word.size() > kHelpWidth) {
      absl::StrAppend(&out, line, "\n", std::string(indent, ' '));
      line.clear();
    }
    absl::StrAppend(&line, line.empty() ? "" : " ", word);
  }
  return out + line;
}

void PrintCommandHelp(const Command& cmd, std::ostream& out) {
  out << UsageLine(cmd) << "\n" << cmd.summary << "\n";
  if (!cmd.flags.empty()) out << "\nflags:\n";
  size_t width = 0;
  for (const FlagSpec& f : cmd.flags) width = std::max(width, FlagSynopsis(f).size());
  width = std::min<size_t>(width, 30) + 2;
  for (const FlagSpec& f : cmd.flags) {
    std::string left = "  " + FlagSynopsis(f);
    // Long synopses get their help on the next line rather than a wide column.
    left += left.size() < width + 2 ? std::string(width + 2 - left.size(), ' ')
                                    : "\n" + std::string(width + 2, ' ');
    std::string help = f.help;
    if (f.required) help += " (required)";
    if (!f.default_value.empty()) absl::StrAppend(&help, " (default: ", f.default_value, ")");
    if (!f.old_name.empty()) absl::StrAppend(&help, " (was --", f.old_name, ", deprecated)");
    out << left << Wrap(help, width + 2) << "\n";
  }
  if (!cmd.details.empty()) out << "\n" << cmd.details;
  out << "\n" << kExitContract;
}

std::vector<const Command*> GroupMembers(const std::string& group) {
  std::vector<const Command*> members;
  for (const Command& c : CommandTable()) {
    if (absl::StartsWith(c.name, group + " ")) members.push_back(&c);
  }
  return members;
}

void PrintCommandList(const std::vector<const Command*>& commands, std::ostream& out) {
  size_t width = 0;
  for (const Command* c : commands) width = std::max(width, c->name.size());
  for (const Command* c : commands) {
    out << "  " << c->name << std::string(width + 2 - c->name.size(), ' ') << c->summary << "\n";
  }
}

void PrintOverview(std::ostream& out) {
  out << "safeshare: send and receive safeguarding messages through a safeshare gateway\n\n"
         "usage: safeshare COMMAND [ARGUMENTS] [FLAGS]\n\ncommands:\n";
  std::vector<const Command*> all;
  for (const Command& c : CommandTable()) all.push_back(&c);
  PrintCommandList(all, out);
  out << "\n'safeshare help COMMAND' (or 'safeshare COMMAND --help') shows a command's usage\n"
         "and the flags it takes. Flags take --flag=value or --flag value.\n\n"
      << kExitContract;
}

std::string SubcommandNames(const std::vector<const Command*>& members) {
  std::vector<std::string> names;
  for (const Command* c : members) names.push_back(c->name.substr(c->name.find(' ') + 1));
  return absl::StrJoin(names, ", ");
}

const Command* FindCommand(const std::string& name) {
  for (const Command& c : CommandTable()) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

// Resolves the command words at the front of `words` (one, or two for a
// group such as "keys rotate"); sets *used to how many it took.
const Command* Resolve(const std::vector<std::string>& words, size_t* used) {
  if (words.size() >= 2) {
    if (const Command* c = FindCommand(words[0] + " " + words[1])) {
      *used = 2;
      return c;
    }
  }
  *used = 1;
  return words.empty() ? nullptr : FindCommand(words[0]);
}

// `safeshare help [COMMAND...]`.
int Help(const std::vector<std::string>& words, std::ostream& out, std::ostream& err) {
  if (words.empty()) {
    PrintOverview(out);
    return kExitDone;
  }
  size_t used = 0;
  const Command* cmd = Resolve(words, &used);
  if (cmd != nullptr && used == words.size()) {
    PrintCommandHelp(*cmd, out);
    return kExitDone;
  }
  auto members = GroupMembers(words[0]);
  if (words.size() == 1 && !members.empty()) {
    out << "safeshare " << words[0] << " SUBCOMMAND: one of\n";
    PrintCommandList(members, out);
    out << "\n'safeshare help " << words[0] << " SUBCOMMAND' shows its usage and flags.\n";
    return kExitDone;
  }
  err << "safeshare help: unknown command '" << absl::StrJoin(words, " ")
      << "' (see 'safeshare help')\n";
  return kExitBadInput;
}

bool IsHelp(const std::string& arg) { return arg == "--help" || arg == "-h"; }

// Parses one flag argument at args[*i] into `inv`; advances *i past a
// separate value.
absl::Status ParseFlag(const std::vector<std::string>& args, size_t* i, Invocation* inv) {
  const std::string& arg = args[*i];
  const size_t start = arg.find_first_not_of('-');
  std::string spelling = start == std::string::npos ? "" : arg.substr(start);
  std::string value;
  const bool inline_value = spelling.find('=') != std::string::npos;
  if (inline_value) {
    value = spelling.substr(spelling.find('=') + 1);
    spelling.resize(spelling.find('='));
  }
  bool deprecated = false;
  const FlagSpec* spec = FindSpelling(*inv->command, spelling, &deprecated);
  if (spec == nullptr || !absl::StartsWith(arg, "--")) {
    return absl::InvalidArgumentError(absl::StrCat("unknown flag ", arg.substr(0, arg.find('='))));
  }
  if (deprecated) {
    inv->err << "safeshare: --" << spec->old_name << " is deprecated; use --" << spec->name << "\n";
  }
  if (spec->value_name.empty()) {  // a switch: never takes the next argument
    if (!inline_value) value = "true";
    if (value != "true" && value != "false" && value != "1" && value != "0") {
      return absl::InvalidArgumentError(
          absl::StrCat("--", spec->name, " is a switch: give it alone, or =true or =false"));
    }
  } else if (!inline_value) {
    if (*i + 1 >= args.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", spec->name, " needs a value (", spec->value_name, ")"));
    }
    value = args[++*i];
  }
  inv->values[spec->name] = value;
  return absl::OkStatus();
}

// Everything after the command words: flags, positionals, required checks.
absl::Status ParseArguments(const std::vector<std::string>& args, Invocation* inv) {
  bool only_positionals = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (only_positionals || arg == "-" || arg.empty() || arg[0] != '-') {
      inv->args.push_back(arg);
    } else if (arg == "--") {
      only_positionals = true;
    } else if (absl::Status st = ParseFlag(args, &i, inv); !st.ok()) {
      return st;
    }
  }
  const auto& wanted = inv->command->positionals;
  if (inv->args.size() < wanted.size()) {
    return absl::InvalidArgumentError("missing " + wanted[inv->args.size()]);
  }
  if (inv->args.size() > wanted.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unexpected argument '", inv->args[wanted.size()], "'"));
  }
  for (const FlagSpec& f : inv->command->flags) {
    auto it = inv->values.find(f.name);
    if (f.required && (it == inv->values.end() || it->second.empty())) {
      return absl::InvalidArgumentError(absl::StrCat(FlagSynopsis(f), " is required: ", f.help));
    }
  }
  return absl::OkStatus();
}

int RunCommand(const Command& cmd, const std::vector<std::string>& rest, std::ostream& out,
               std::ostream& err) {
  for (const std::string& arg : rest) {
    if (arg == "--") break;
    if (IsHelp(arg)) {
      PrintCommandHelp(cmd, out);
      return kExitDone;
    }
  }
  Invocation inv{&cmd, {}, {}, out, err};
  if (absl::Status st = ParseArguments(rest, &inv); !st.ok()) {
    return inv.BadUsage(std::string(st.message()));
  }
  return cmd.run(inv);
}

}  // namespace

std::string Invocation::Flag(const std::string& name) const {
  const FlagSpec* spec = FindSpec(*command, name);
  if (spec == nullptr) {  // a programming error: the table must list every flag read
    std::cerr << "safeshare: internal error: " << command->name << " reads undeclared --" << name
              << "\n";
    std::abort();
  }
  auto it = values.find(name);
  return it == values.end() ? spec->default_value : it->second;
}

bool Invocation::Switch(const std::string& name) const {
  const std::string v = Flag(name);
  return v == "true" || v == "1";
}

absl::StatusOr<int> Invocation::Int(const std::string& name) const {
  int n = 0;
  if (!absl::SimpleAtoi(Flag(name), &n)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, " must be a whole number, not '", Flag(name), "'"));
  }
  return n;
}

int Invocation::BadUsage(const std::string& why) const {
  err << "safeshare " << command->name << ": " << why << " (see 'safeshare help " << command->name
      << "')\n";
  return kExitBadInput;
}

const std::vector<Command>& CommandTable() {
  static const std::vector<Command>* table = [] {
    auto* t = new std::vector<Command>;
    for (auto group : {PkiCommands, MessageCommands, MailboxCommands, KeysCommands, AuditCommands,
                       AgentCommands, AdviceCommands, PolicyCommands, ConsoleCommands}) {
      for (Command& c : group()) t->push_back(std::move(c));
    }
    return t;
  }();
  return *table;
}

int Run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  std::vector<std::string> words(args.begin() + std::min<size_t>(1, args.size()), args.end());
  if (words.empty()) {
    err << "safeshare: no command given\n\n";
    PrintOverview(err);
    return kExitBadInput;
  }
  if (words[0] == "help" || IsHelp(words[0])) {
    return Help(std::vector<std::string>(words.begin() + 1, words.end()), out, err);
  }
  if (words[0][0] == '-') {
    err << "safeshare: " << words[0]
        << ": the command comes first, then its flags (see 'safeshare help')\n";
    return kExitBadInput;
  }
  size_t used = 0;
  if (const Command* cmd = Resolve(words, &used)) {
    return RunCommand(*cmd, std::vector<std::string>(words.begin() + used, words.end()), out, err);
  }
  auto members = GroupMembers(words[0]);
  if (members.empty()) {
    err << "safeshare: unknown command '" << words[0] << "' (see 'safeshare help')\n";
    return kExitBadInput;
  }
  if (words.size() > 1 && IsHelp(words[1])) return Help({words[0]}, out, err);
  err << "safeshare " << words[0] << ": "
      << (words.size() > 1 ? "unknown subcommand '" + words[1] + "'; " : "") << "expected one of "
      << SubcommandNames(members) << " (see 'safeshare help " << words[0] << "')\n";
  return kExitBadInput;
}

}  // namespace safeshare::cli
