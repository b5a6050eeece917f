// safeshare console: the IG console, a web interface on 127.0.0.1 for one
// officer (agents/console/), until SIGTERM or SIGINT.
#include "agents/console/console.h"

#include "absl/strings/numbers.h"
#include "agents/cli/common.h"
#include "agents/console/pages.h"
#include "agents/web/assets.h"
#include "agents/web/web_server.h"
#include "common/files.h"

namespace safeshare::cli {
namespace {

int Console(const Invocation& inv) {
  const std::string listen = inv.Flag("listen");
  const size_t colon = listen.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(listen.substr(colon + 1), &port) ||
      port < 0 || port > 65535) {
    return inv.BadUsage("--listen must be HOST:PORT, e.g. 127.0.0.1:8490");
  }
  const std::string host = listen.substr(0, colon);
  sigset_t stop_signals = BlockStopSignals();
  safeshare::console::ConsoleOptions options;
  options.identity_dir = inv.Flag("identity");
  options.gateway = inv.Flag("gateway");
  options.federation_file = inv.Flag("federation");
  options.state_dir = inv.Flag("state_dir");
  auto console = safeshare::console::Console::Open(options);
  if (!console.ok()) return Failed(inv, console.status());
  // One officer: every request is theirs; the console listens on loopback.
  safeshare::web::WebServerOptions web;
  const auto& officer = (*console)->officer();
  web.local_user.id = absl::StrCat(officer.agency_id(), "/", officer.id());
  web.local_user.role = "ig_officer";
  web.local_user.display_name = officer.display_name();
  safeshare::web::WebServer server(web);
  safeshare::console::AddConsoleRoutes(console->get(), &server,
                                       inv.Flag("web_assets").empty()
                                           ? safeshare::web::DefaultWebAssetsDir()
                                           : inv.Flag("web_assets"));
  auto bound = server.Start(host, port);
  if (!bound.ok()) return Failed(inv, bound.status());
  if (!inv.Flag("port_file").empty()) {
    if (auto st = WriteFileAtomically(inv.Flag("port_file"), absl::StrCat(*bound, "\n"), 0644);
        !st.ok()) {
      return Failed(inv, st);
    }
  }
  inv.err << "IG console for " << officer.display_name() << " on http://" << host << ":" << *bound
          << "/\n";
  int sig = 0;
  sigwait(&stop_signals, &sig);
  server.Stop();
  inv.err << "console stopped\n";
  return kExitDone;
}

}  // namespace

std::vector<Command> ConsoleCommands() {
  return {
      {"console",
       "the IG console: advice queue, flows, search, integrity and reports in a browser",
       {},
       Flags({NetworkFlags("OFFICER_DIR"),
              {Required({"federation", "FILE",
                         "the federation file: its audit key, agencies and areas"}),
               {"listen", "HOST:PORT", "where the pages are served", "127.0.0.1:8490"},
               {"state_dir", "DIR",
                "where the last checkpoint seen is kept (default "
                "OFFICER_DIR/console)"},
               {"port_file", "FILE", "write the bound port here (for --listen ...:0)"},
               {"web_assets", "DIR", "agents/web with node_modules (default: this checkout's)"}}}),
       Console,
       "For one officer on their own machine: listens on 127.0.0.1 and reads the gateway\n"
       "under the officer's certificate, within the officer's scope. Runs until SIGTERM.\n"},
  };
}

}  // namespace safeshare::cli
