#ifndef SAFESHARE_AGENTS_POLICY_COMMAND_H_
#define SAFESHARE_AGENTS_POLICY_COMMAND_H_

#include <iostream>

namespace safeshare::agents {

// `safeshare policy ...`: asks "may I share this?" before sending. argv[0] is
// the program, argv[1] "policy", argv[2] the subcommand:
//
//   policy check --envelope FILE [--isa-dir DIR] [--pack 2018|2024]
//                [--at RFC3339_TIME] [--federation FILE]
//     FILE is an Envelope in proto3 JSON (kind, sender_agency_id,
//     sender_practitioner, recipient_agency_id, declaration; a payload is
//     ignored). Prints one JSON object {"decision", "pack", "pack_version",
//     "isa", "isa_version", "findings": [{"check", "rule", "outcome",
//     "reason"}]}. Exit 0 ALLOW, 1 DENY, 2 HOLD_FOR_ADVICE, 3 bad input.
//   policy lint DIR [--federation FILE]
//     Validates every ISA file in DIR. Exit 0 valid, 1 invalid (one line per
//     bad file on stderr: file: field: reason), 3 bad usage or input.
//
// Defaults: --isa-dir deploy/isa, --federation deploy/dev-federation.textproto
// (a safeshare.v1.Federation in text format), --pack 2024, --at now.
// Flags take "--flag value" or "--flag=value". Called before absl flag
// parsing, because these flag names have hyphens.
int RunPolicyCommand(int argc, char** argv, std::ostream& out = std::cout,
                     std::ostream& err = std::cerr);

}  // namespace safeshare::agents

#endif  // SAFESHARE_AGENTS_POLICY_COMMAND_H_
