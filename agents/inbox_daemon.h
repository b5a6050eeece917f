#ifndef SAFESHARE_AGENTS_INBOX_DAEMON_H_
#define SAFESHARE_AGENTS_INBOX_DAEMON_H_

// `safeshare agent run`: keeps a subscription open, writes each verified
// message into an inbox directory atomically, then acknowledges it; refuses
// (and reports) content that does not open or was not declared; reconnects
// with back-off when the gateway goes away. At-least-once from the gateway
// becomes exactly-once in the directory: a message already there is only
// acknowledged again.

#include <atomic>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "agents/agency_agent.h"
#include "agents/call_canceller.h"

namespace safeshare::agents {

struct InboxDaemonOptions {
  std::string inbox_dir;
  absl::Duration min_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(5);
  // Test hook: exit the process (as a crash would) after writing this many
  // messages, before acknowledging the last. 0: never.
  int crash_after_writes = 0;
};

class InboxDaemon {
 public:
  InboxDaemon(AgencyAgent* agent, InboxDaemonOptions options)
      : agent_(agent), options_(std::move(options)) {}

  // Runs until Stop(). Returns the reason it could not start (bad inbox dir).
  absl::Status Run();
  // Ends Run() from any thread.
  void Stop();

  uint64_t stored() const { return stored_; }
  uint64_t refused() const { return refused_; }

  // Stores (once) and acknowledges one delivered message; Run() calls it for
  // each (public for tests that hand it what a faulty gateway could send).
  absl::Status Handle(const safeshare::v1::MailboxMessage& message);

 private:
  AgencyAgent* agent_;
  InboxDaemonOptions options_;
  std::atomic<bool> stopping_{false};
  CallCanceller canceller_;
  absl::Notification stopped_;  // wakes a back-off early
  std::atomic<uint64_t> stored_{0}, refused_{0};
  int writes_ = 0;
};

// Writes `data` to `dir`/`name` durably and atomically: a temporary file,
// fsync, rename, fsync of the directory.
absl::Status WriteFileDurably(const std::string& dir, const std::string& name,
                              const std::string& data);

}  // namespace safeshare::agents

#endif  // SAFESHARE_AGENTS_INBOX_DAEMON_H_
