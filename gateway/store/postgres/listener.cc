// Other replicas' changes: NOTIFYs on the mail and key channels, heard on a
// connection of the listener's own.

#include <poll.h>

#include <cstring>

#include "common/log.h"
#include "gateway/store/postgres/postgres_store.h"

namespace safeshare::gateway {

using pg::Connect;
using pg::kKeysChannel;
using pg::kMailChannel;
using pg::Script;

void PostgresStore::SetEventListener(StoreEvents events) {
  absl::MutexLock lock(&events_mu_);
  events_ = std::move(events);
}

// LISTENs on its own connection; reconnects with a pause when the database
// goes away, and asks for a resync afterwards since notifications sent in
// between are lost.
void PostgresStore::ListenerLoop() {
  PGconn* conn = nullptr;
  bool resync = false;
  while (!stop_listening_.HasBeenNotified()) {
    if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
      if (conn != nullptr) PQfinish(conn);
      conn = nullptr;
      auto c = Connect(conninfo_);
      if (!c.ok() ||
          !Script(*c, absl::StrCat("LISTEN ", kMailChannel, "; LISTEN ", kKeysChannel).c_str(),
                  "listen")
               .ok()) {
        if (c.ok()) PQfinish(*c);
        LogEvent("warn", "store.listen_failed", {{"retry_in", "1s"}});
        stop_listening_.WaitForNotificationWithTimeout(absl::Seconds(1));
        resync = true;
        continue;
      }
      conn = *c;
      if (resync) {
        StoreEvents events;
        {
          absl::MutexLock lock(&events_mu_);
          events = events_;
        }
        if (events.resync) events.resync();
        if (events.keys) events.keys();
      }
      resync = true;  // any later reconnect may have missed something
    }
    pollfd p{PQsocket(conn), POLLIN, 0};
    if (poll(&p, 1, 200) < 0) continue;
    if (!PQconsumeInput(conn)) {  // broken: reconnect above
      PQfinish(conn);
      conn = nullptr;
      continue;
    }
    StoreEvents events;
    {
      absl::MutexLock lock(&events_mu_);
      events = events_;
    }
    while (PGnotify* n = PQnotifies(conn)) {
      if (std::strcmp(n->relname, kMailChannel) == 0) {
        if (events.mail) events.mail(n->extra);
      } else if (events.keys) {
        events.keys();
      }
      PQfreemem(n);
    }
  }
  if (conn != nullptr) PQfinish(conn);
}

}  // namespace safeshare::gateway
