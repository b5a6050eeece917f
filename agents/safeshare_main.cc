// safeshare: the agency-side command line. The commands, their flags and
// their help live in the command table (agents/cli/); `safeshare help` lists
// them.
#include <string>
#include <vector>

#include "agents/cli/command.h"

int main(int argc, char** argv) {
  return safeshare::cli::Run(std::vector<std::string>(argv, argv + argc));
}
