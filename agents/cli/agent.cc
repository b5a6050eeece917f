// safeshare agent run: the inbox daemon, until SIGTERM or SIGINT.
#include <pthread.h>
#include <signal.h>

#include <thread>

#include "agents/cli/common.h"
#include "agents/inbox_daemon.h"

namespace safeshare::cli {
namespace {

int AgentRun(const Invocation& inv) {
  auto crash_after = inv.Int("crash_after_writes");
  if (!crash_after.ok()) return inv.BadUsage(std::string(crash_after.status().message()));
  // SIGTERM / SIGINT stop the daemon after the message in hand. Blocked
  // before any gRPC thread exists, so that every thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
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
  };
}

}  // namespace safeshare::cli
