// safeshare keys gen|rotate|revoke|history|monitor: an agency's envelope keys
// and their key events in the audit log (key transparency).
#include "envelope/keys.h"

#include <pthread.h>
#include <signal.h>

#include <set>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "agents/cli/common.h"
#include "agents/keyring.h"
#include "common/time.h"
#include "google/protobuf/text_format.h"

namespace safeshare::cli {
namespace {

int KeysGen(const Invocation& inv) {
  const std::string out = inv.Flag("out");
  safeshare::agents::Keyring ring;
  safeshare::v1::Agency entry;
  for (auto type : {safeshare::envelope::PrivateKey::Type::kSigning,
                    safeshare::envelope::PrivateKey::Type::kEncryption}) {
    auto key = safeshare::envelope::PrivateKey::Generate(type);
    if (!key.ok()) return Failed(inv, key.status());
    if (auto st = ring.Add(out, *key); !st.ok()) return Failed(inv, st);
    *entry.add_keys() = safeshare::envelope::PublicKeyEntry(*key, absl::Now());
  }
  std::string text;
  google::protobuf::TextFormat::PrintToString(entry, &text);
  inv.out << "# private keys written 0600 to " << out
          << "/keys; public keys for the agency's federation entry:\n"
          << text;
  return kExitDone;
}

int KeysRotate(const Invocation& inv) {
  const std::string purpose = inv.Flag("purpose");
  if (purpose != "both" && purpose != "signing" && purpose != "encryption") {
    return inv.BadUsage("--purpose must be signing, encryption or both");
  }
  auto agent = OpenAgent(inv);
  if (!agent.ok()) return Failed(inv, agent.status());
  auto keys = (*agent)->RotateKeys(purpose != "encryption", purpose != "signing");
  if (!keys.ok()) return Failed(inv, keys.status());
  for (const auto& k : *keys) {
    inv.out << "published " << safeshare::v1::KeyPurpose_Name(k.purpose()) << " key " << k.key_id()
            << " for " << (*agent)->agency_id() << " (now current)\n";
  }
  return kExitDone;
}

int KeysRevoke(const Invocation& inv) {
  auto agent = OpenAgent(inv);
  if (!agent.ok()) return Failed(inv, agent.status());
  auto k = (*agent)->RevokeKey(inv.args[0]);
  if (!k.ok()) return Failed(inv, k.status());
  inv.out << "revoked " << k->key_id() << "\n";
  return kExitDone;
}

// One line per key event: index, time, event, key, and who signed it.
std::string EventLine(const safeshare::agents::KeyEventView& view) {
  const auto& r = view.record;
  const auto& e = r.key_event();
  const std::string event(
      absl::StripPrefix(safeshare::v1::AuditEventType_Name(r.event()), "AUDIT_EVENT_TYPE_"));
  const std::string purpose(
      absl::StripPrefix(safeshare::v1::KeyPurpose_Name(e.key().purpose()), "KEY_PURPOSE_"));
  std::string line = absl::StrCat(
      view.leaf_index, "  ",
      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", FromTimestamp(r.time()), absl::UTCTimeZone()), "  ",
      event, "  ", absl::AsciiStrToLower(purpose), " ", e.key().key_id());
  if (e.key().has_not_after()) {
    absl::StrAppend(
        &line, "  valid until ",
        absl::FormatTime("%Y-%m-%d", FromTimestamp(e.key().not_after()), absl::UTCTimeZone()));
  }
  if (e.has_statement()) {
    absl::StrAppend(&line, "  signed by ", e.statement().signing_key_id());
  } else if (!e.registered_by().empty()) {
    absl::StrAppend(&line, "  (", e.registered_by(), ")");
  }
  return line;
}

int KeysHistory(const Invocation& inv) {
  auto agent = OpenAgent(inv);
  if (!agent.ok()) return Failed(inv, agent.status());
  const std::string agency =
      inv.Flag("agency").empty() ? (*agent)->agency_id() : inv.Flag("agency");
  auto history = (*agent)->KeyHistory(agency);
  if (!history.ok()) return Failed(inv, history.status());
  inv.out << "key events of " << agency << ", verified against the signed audit log:\n";
  for (const auto& e : history->events) inv.out << EventLine(e) << "\n";
  return kExitDone;
}

constexpr int kExitAlert = 3;

// Prints the events not printed before; true when one was not made here.
bool Report(const Invocation& inv,
            const std::vector<safeshare::agents::AgencyAgent::OwnKeyEvent>& events,
            std::set<uint64_t>& printed) {
  bool alert = false;
  for (const auto& e : events) {
    if (!e.made_here) alert = true;
    if (!printed.insert(e.event.leaf_index).second) continue;
    if (e.made_here) {
      inv.out << "ok     " << EventLine(e.event) << "\n";
    } else {
      inv.out << "ALERT  " << EventLine(e.event) << "  -- not made by this agency: " << e.why
              << "\n";
    }
  }
  return alert;
}

int KeysMonitor(const Invocation& inv) {
  auto interval = inv.Int("interval");
  if (!interval.ok() || *interval < 1)
    return inv.BadUsage("--interval must be a whole number of seconds, at least 1");
  const bool follow = inv.Switch("follow");
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  if (follow) pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  auto agent = OpenAgent(inv);
  if (!agent.ok()) return Failed(inv, agent.status());
  std::set<uint64_t> printed;
  bool alerted = false;
  auto check = [&]() -> absl::Status {
    auto events = (*agent)->MonitorOwnKeys();
    if (!events.ok()) return events.status();
    if (Report(inv, *events, printed)) alerted = true;
    inv.out.flush();
    return absl::OkStatus();
  };
  if (!follow) {
    if (auto st = check(); !st.ok()) return Failed(inv, st);
  } else {
    absl::Notification stop;
    std::thread waiter([&] {
      int sig = 0;
      sigwait(&stop_signals, &sig);
      stop.Notify();
    });
    inv.err << "watching the key events of " << (*agent)->agency_id() << " every " << *interval
            << " s\n";
    absl::Status failed;
    while (!stop.HasBeenNotified()) {
      // A gateway that cannot be reached or verified now is reported and
      // retried; a key event not made here is never forgotten.
      if (auto st = check(); !st.ok()) inv.err << "check failed: " << st.message() << "\n";
      stop.WaitForNotificationWithTimeout(absl::Seconds(*interval));
    }
    waiter.join();
  }
  if (alerted) {
    inv.err << "ALERT: the audit log holds key events about " << (*agent)->agency_id()
            << " that this agency did not make; tell your IG lead and the operator, and rotate "
               "keys\n";
    return kExitAlert;
  }
  if (!follow) inv.err << "every key event of " << (*agent)->agency_id() << " was made here\n";
  return kExitDone;
}

}  // namespace

std::vector<Command> KeysCommands() {
  return {
      {"keys gen",
       "generate an agency's signing and encryption keys (offline)",
       {},
       {Required({"out", "DIR", "the agency directory; keys go to DIR/keys, 0600"})},
       KeysGen},
      {"keys rotate",
       "new keys for the agency, published to the gateway as current",
       {},
       Flags({{{"purpose", "PURPOSE", "signing | encryption | both", "both"}}, NetworkFlags()}),
       KeysRotate},
      {"keys revoke", "revoke one of the agency's keys", {"KEY_ID"}, NetworkFlags(), KeysRevoke},
      {"keys history",
       "an agency's key events, verified against the signed audit log",
       {},
       Flags({{{"agency", "ID", "whose key events (default: this agency's)"}}, NetworkFlags()}),
       KeysHistory,
       "Lists every registration, publication and revocation of the agency's keys, after\n"
       "checking each against the signed log.\n"},
      {"keys monitor",
       "alert on key events about this agency that it did not make",
       {},
       Flags({{{"follow", "", "keep watching until SIGTERM or SIGINT"},
               {"interval", "SECONDS", "how often --follow checks", "60"}},
              NetworkFlags()}),
       KeysMonitor,
       "Checks this agency's key events in the audit log: a key registered or published\n"
       "that this keyring does not hold, or a revocation this agency did not sign, is an\n"
       "ALERT line. Exit status 3 when there was one, 0 when every event was made here.\n"},
  };
}

}  // namespace safeshare::cli
