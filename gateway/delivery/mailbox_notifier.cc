#include "gateway/delivery/mailbox_notifier.h"

#include <pthread.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace safeshare::gateway {

MailboxNotifier::MailboxNotifier(int threads) {
  for (int i = 0; i < threads; ++i) {
    workers_.emplace_back([this] {
      pthread_setname_np(pthread_self(), "mailbox-wake");
      WorkerLoop();
    });
  }
}

MailboxNotifier::~MailboxNotifier() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (auto& t : workers_) t.join();
}

void MailboxNotifier::SetLimits(size_t per_principal, size_t total) {
  absl::MutexLock lock(&mu_);
  max_per_principal_ = per_principal;
  max_total_ = total;
}

absl::StatusOr<uint64_t> MailboxNotifier::Add(const std::string& agency_id,
                                              const std::string& principal, Listener listener) {
  absl::MutexLock lock(&mu_);
  size_t& open = per_principal_[principal];
  if (open >= max_per_principal_) {
    if (open == 0) per_principal_.erase(principal);
    return absl::ResourceExhaustedError(absl::StrCat(
        "this certificate already has ", max_per_principal_,
        " open subscriptions (limits.max_streams_per_principal); close one before opening "
        "another: one agent per agency needs one"));
  }
  if (entries_.size() >= max_total_) {
    if (open == 0) per_principal_.erase(principal);
    return absl::ResourceExhaustedError(
        absl::StrCat("the gateway has ", max_total_,
                     " open subscriptions, its limit (limits.max_streams_total); retry later "
                     "with back-off, or fetch meanwhile"));
  }
  ++open;
  const uint64_t token = next_token_++;
  entries_[token] = {agency_id, principal, std::move(listener)};
  MarkReadyLocked(token);
  return token;
}

void MailboxNotifier::Remove(uint64_t token) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(token);
  if (it == entries_.end()) return;
  auto open = per_principal_.find(it->second.principal);
  if (--open->second == 0) per_principal_.erase(open);
  entries_.erase(it);
  rerun_.erase(token);
  // A queued mark finds no entry and is dropped; a running listener is
  // waited for.
  std::pair<MailboxNotifier*, uint64_t> removed(this, token);
  mu_.Await(absl::Condition(
      +[](std::pair<MailboxNotifier*, uint64_t>* arg)
           ABSL_NO_THREAD_SAFETY_ANALYSIS { return arg->first->running_.count(arg->second) == 0; },
      &removed));
}

void MailboxNotifier::MarkReadyLocked(uint64_t token) {
  // A running listener may have read before this mail: it runs once more.
  if (running_.count(token) != 0) {
    rerun_.insert(token);
  } else if (queued_.insert(token).second) {
    ready_.push_back(token);
  }
}

void MailboxNotifier::Wake(uint64_t token) {
  absl::MutexLock lock(&mu_);
  if (entries_.count(token) != 0) MarkReadyLocked(token);
}

void MailboxNotifier::Notify(const std::string& agency_id) {
  absl::MutexLock lock(&mu_);
  for (const auto& [token, entry] : entries_) {
    if (entry.agency_id == agency_id) MarkReadyLocked(token);
  }
}

void MailboxNotifier::NotifyAll() {
  absl::MutexLock lock(&mu_);
  for (const auto& [token, entry] : entries_) MarkReadyLocked(token);
}

size_t MailboxNotifier::subscribers() const {
  absl::MutexLock lock(&mu_);
  return entries_.size();
}

void MailboxNotifier::WorkerLoop() {
  for (;;) {
    uint64_t token = 0;
    Listener listener;
    {
      absl::MutexLock lock(&mu_);
      for (;;) {
        mu_.Await(absl::Condition(
            +[](MailboxNotifier* n)
                 ABSL_NO_THREAD_SAFETY_ANALYSIS { return n->stopping_ || !n->ready_.empty(); },
            this));
        if (ready_.empty()) return;  // stopping
        token = ready_.front();
        ready_.pop_front();
        queued_.erase(token);
        auto it = entries_.find(token);
        if (it == entries_.end()) continue;  // removed meanwhile
        running_.insert(token);
        listener = it->second.listener;
        break;
      }
    }
    listener();
    absl::MutexLock lock(&mu_);
    running_.erase(token);
    if (rerun_.erase(token) && entries_.count(token) != 0) MarkReadyLocked(token);
  }
}

}  // namespace safeshare::gateway
