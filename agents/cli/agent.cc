// safeshare agent run: the inbox daemon; safeshare agent serve: the agency
// connector (local API and practitioners' pages). Both until SIGTERM or SIGINT.
#include <pthread.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "agents/cli/common.h"
#include "agents/connector/connector.h"
#include "agents/connector/connector_api.h"
#include "agents/connector/pages.h"
#include "agents/inbox_daemon.h"
#include "agents/web/assets.h"
#include "agents/web/web_server.h"
#include "common/enum_text.h"
#include "common/files.h"
#include "google/protobuf/text_format.h"
#include "safeshare/v1/connector.pb.h"

namespace safeshare::cli {
namespace {

int AgentRun(const Invocation& inv) {
  auto crash_after = inv.Int("crash_after_writes");
  if (!crash_after.ok()) return inv.BadUsage(std::string(crash_after.status().message()));
  // SIGTERM / SIGINT stop the daemon after the message in hand.
  sigset_t stop_signals = BlockStopSignals();
  auto agent = OpenAgent(inv);
  if (!agent.ok()) return Failed(inv, agent.status());
  safeshare::agents::InboxDaemonOptions options;
  options.inbox_dir = inv.Flag("inbox");
  options.crash_after_writes = *crash_after;
  safeshare::agents::InboxDaemon daemon(agent->get(), options);
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    daemon.Stop();
  });
  inv.err << "agent for " << (*agent)->agency_id() << " writing to " << options.inbox_dir << "\n";
  absl::Status st = daemon.Run();
  if (!st.ok()) {
    pthread_kill(waiter.native_handle(), SIGTERM);
    waiter.join();
    return Failed(inv, st);
  }
  waiter.join();
  inv.err << "stopped: " << daemon.stored() << " stored, " << daemon.refused() << " refused\n";
  return kExitDone;
}

// A path in the config file, relative to the file's own directory.
std::string Resolve(const std::string& config_path, const std::string& p) {
  if (p.empty() || p[0] == '/') return p;
  return (std::filesystem::path(config_path).parent_path() / p).string();
}

int AgentServe(const Invocation& inv) {
  const std::string config_path = inv.Flag("config");
  auto text = safeshare::ReadFile(config_path);
  if (!text.ok()) return Failed(inv, absl::InvalidArgumentError(text.status().message()));
  safeshare::v1::ConnectorConfig config;
  if (!google::protobuf::TextFormat::ParseFromString(*text, &config)) {
    return Failed(inv, absl::InvalidArgumentError(absl::StrCat(
                           config_path, " is not a safeshare.v1.ConnectorConfig (text format)")));
  }
  std::string listen = config.listen().empty() ? "127.0.0.1:8480" : config.listen();
  const size_t colon = listen.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(listen.substr(colon + 1), &port) ||
      port < 0 || port > 65535) {
    return Failed(inv, absl::InvalidArgumentError(absl::StrCat(
                           "listen must be HOST:PORT, e.g. 127.0.0.1:8480, not ", listen)));
  }
  const std::string host = listen.substr(0, colon);
  safeshare::connector::ConnectorOptions options;
  options.identity_dir = inv.Flag("identity");
  options.gateway = config.gateway().empty() ? "localhost:7443" : config.gateway();
  options.data_dir = Resolve(config_path, config.data_dir());
  options.federation_file = Resolve(config_path, config.federation_file());
  options.isa_dir = Resolve(config_path, config.isa_dir());
  options.commencement = config.rule_commencement();
  if (config.max_retry_seconds() > 0) options.max_retry = absl::Seconds(config.max_retry_seconds());
  if (options.data_dir.empty() || options.federation_file.empty() || options.isa_dir.empty()) {
    return Failed(inv, absl::InvalidArgumentError(
                           "the config must name data_dir, federation_file and isa_dir"));
  }
  safeshare::web::WebServerOptions web;
  if (!config.local_user().id().empty()) {
    web.local_user.id = config.local_user().id();
    web.local_user.role = absl::AsciiStrToLower(EnumShortName(config.local_user().role()));
    web.local_user.display_name = config.local_user().display_name().empty()
                                      ? config.local_user().id()
                                      : config.local_user().display_name();
  }
  for (const auto& a : config.proxy().addresses()) web.proxy.addresses.push_back(a);
  for (const auto& h : config.allowed_hosts()) web.allowed_hosts.push_back(h);
  if (!config.proxy().user_header().empty()) web.proxy.user_header = config.proxy().user_header();
  if (!config.proxy().role_header().empty()) web.proxy.role_header = config.proxy().role_header();
  if (web.local_user.id.empty() && web.proxy.addresses.empty()) {
    return Failed(inv, absl::InvalidArgumentError(
                           "the config must name a local_user or a trusted proxy: nobody could "
                           "sign in"));
  }

  sigset_t stop_signals = BlockStopSignals();
  auto connector = safeshare::connector::Connector::Open(options);
  if (!connector.ok()) return Failed(inv, connector.status());
  safeshare::web::WebServer server(web);
  safeshare::connector::AddApiRoutes(connector->get(), &server);
  safeshare::connector::AddPageRoutes(connector->get(), &server,
                                      config.web_assets_dir().empty()
                                          ? safeshare::web::DefaultWebAssetsDir()
                                          : Resolve(config_path, config.web_assets_dir()));
  (*connector)->Start();
  auto bound = server.Start(host, port);
  if (!bound.ok()) return Failed(inv, bound.status());
  if (!config.port_file().empty()) {
    if (auto st = WriteFileAtomically(Resolve(config_path, config.port_file()),
                                      absl::StrCat(*bound, "\n"), 0644);
        !st.ok()) {
      return Failed(inv, st);
    }
  }
  inv.err << "connector for " << (*connector)->agency_id() << " on http://"
          << (host == "0.0.0.0" ? "127.0.0.1" : host) << ":" << *bound << "/\n";
  int sig = 0;
  sigwait(&stop_signals, &sig);
  (*connector)->Stop();
  server.Stop();
  inv.err << "connector stopped\n";
  return kExitDone;
}

}  // namespace

std::vector<Command> AgentCommands() {
  return {
      {"agent run",
       "the inbox daemon: receives live, writes each message once, then acknowledges it",
       {},
       Flags({{Required({"inbox", "DIR", "the inbox directory messages are written to"}),
               {"crash_after_writes", "N", "for tests: exit after N writes, before the ack", "0"}},
              NetworkFlags()}),
       AgentRun,
       "Runs until SIGTERM or SIGINT, which stop it after the message in hand.\n"},
      {"agent serve",
       "the agency connector: a local HTTP/JSON API and pages for practitioners",
       {},
       {Required({"identity", "DIR", "the agency's directory (ca.pem, cert.pem, key.pem, keys/)"}),
        Required({"config", "FILE",
                  "a safeshare.v1.ConnectorConfig in text format "
                  "(deploy/connector/*.textproto)"})},
       AgentServe,
       "Listens on 127.0.0.1 unless the config says otherwise; the API is under /api/v1\n"
       "(agents/connector/openapi.json). Runs until SIGTERM or SIGINT.\n"},
  };
}

}  // namespace safeshare::cli
