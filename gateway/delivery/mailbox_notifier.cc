#include "gateway/delivery/mailbox_notifier.h"

#include <vector>

namespace safeshare::gateway {

uint64_t MailboxNotifier::Add(const std::string& agency_id, Listener listener) {
  absl::MutexLock lock(&mu_);
  const uint64_t token = next_token_++;
  entries_[token] = {agency_id, std::move(listener)};
  return token;
}

void MailboxNotifier::Remove(uint64_t token) {
  absl::MutexLock lock(&mu_);
  entries_.erase(token);
}

void MailboxNotifier::Notify(const std::string& agency_id) {
  // Called with the lock held so that a listener cannot run after Remove
  // returned; listeners only flag work, they never block.
  absl::MutexLock lock(&mu_);
  for (auto& [token, entry] : entries_) {
    if (entry.agency_id == agency_id) entry.listener();
  }
}

void MailboxNotifier::NotifyAll() {
  absl::MutexLock lock(&mu_);
  for (auto& [token, entry] : entries_) entry.listener();
}

size_t MailboxNotifier::subscribers() const {
  absl::MutexLock lock(&mu_);
  return entries_.size();
}

}  // namespace safeshare::gateway
