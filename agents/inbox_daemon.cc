#include "agents/inbox_daemon.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "agents/keyring.h"
#include "common/files.h"
#include "common/log.h"
#include "envelope/envelope_shape.h"
#include "google/protobuf/util/json_util.h"

namespace safeshare::agents {
namespace {

std::string Json(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, opts);
  return out + "\n";
}

void Log(absl::string_view event, absl::string_view detail) {
  LogEvent("warn", event, {{"detail", std::string(detail)}});
}

}  // namespace

absl::Status WriteFileDurably(const std::string& dir, const std::string& name,
                              const std::string& data) {
  if (auto st = WriteFileAtomically(absl::StrCat(dir, "/", name), data, 0600); !st.ok()) return st;
  return SyncDirectory(dir);  // make the rename itself durable
}

absl::Status InboxDaemon::Handle(const safeshare::v1::MailboxMessage& message) {
  namespace fs = std::filesystem;
  const std::string id = message.message_id();
  // The id names files here, so it must never be a path; a gateway that sends
  // such an id cannot take a refusal or an ack for it either.
  if (!envelope::IsValidMessageId(id)) {
    ++refused_;
    return absl::InvalidArgumentError(
        "the gateway delivered a message under an invalid message id; nothing written");
  }
  if (message.has_escalation()) {
    if (auto st = WriteFileDurably(options_.inbox_dir, absl::StrCat(id, ".escalation.json"),
                                   Json(message.escalation()));
        !st.ok()) {
      return st;
    }
    return agent_->client().Ack(id).status();
  }
  const std::string envelope_file = absl::StrCat(id, ".envelope.json");
  if (fs::exists(fs::path(options_.inbox_dir) / envelope_file)) {
    // Delivered again because the last ack was lost: keep the one we have.
    return agent_->client().Ack(id).status();
  }
  safeshare::v1::ContentRefusalReason reason;
  // Checks the signed id equals `id`: only then may `id` name the files.
  auto opened = agent_->OpenDelivered(message, &reason);
  if (!opened.ok()) {
    // A transient failure (directory unreachable) is no verdict: leave the
    // message unacknowledged and it comes again.
    if (!IsContentVerdict(opened.status())) return opened.status();
    ++refused_;
    Log("inbox.refused", opened.status().message());
    return agent_->client().RefuseContent(id, reason, std::string(opened.status().message()));
  }
  // Content first; the envelope file marks the message complete.
  if (auto st = WriteFileDurably(options_.inbox_dir, absl::StrCat(id, ".content.json"),
                                 Json(opened->content));
      !st.ok()) {
    return st;
  }
  if (auto st = WriteFileDurably(options_.inbox_dir, envelope_file, Json(opened->header));
      !st.ok()) {
    return st;
  }
  ++stored_;
  if (options_.crash_after_writes > 0 && ++writes_ >= options_.crash_after_writes) {
    std::_Exit(3);  // as if killed between storing and acknowledging
  }
  return agent_->client().Ack(id).status();
}

absl::Status InboxDaemon::Run() {
  std::error_code ec;
  std::filesystem::create_directories(options_.inbox_dir, ec);
  if (ec) return absl::UnavailableError(absl::StrCat(options_.inbox_dir, ": ", ec.message()));
  // Every call the agent makes from here on ends at once on Stop(): a
  // subscription waiting for a gateway that is down, a directory lookup, an
  // acknowledgement. A message being written is finished first (files are
  // written before its acknowledgement, which comes again if cancelled).
  agent_->client().set_canceller(&canceller_);
  absl::Duration backoff = options_.min_backoff;
  while (!canceller_.cancelled()) {
    auto subscription = agent_->client().Subscribe(0);
    safeshare::v1::MailboxMessage message;
    bool got_any = false;
    while (subscription->Read(&message)) {
      got_any = true;
      backoff = options_.min_backoff;
      if (auto st = Handle(message); !st.ok()) {
        // Not acknowledged: the gateway hands it over again on reconnect.
        Log("inbox.handle_failed", st.message());
      }
    }
    absl::Status st = subscription->Finish();
    subscription.reset();
    if (canceller_.cancelled()) break;
    Log("inbox.disconnected", st.message());
    if (!got_any) backoff = std::min(backoff * 2, options_.max_backoff);
    stopped_.WaitForNotificationWithTimeout(backoff);
  }
  agent_->client().set_canceller(nullptr);
  return absl::OkStatus();
}

void InboxDaemon::Stop() {
  if (stopping_.exchange(true)) return;
  canceller_.CancelAll();
  stopped_.Notify();
}

}  // namespace safeshare::agents
