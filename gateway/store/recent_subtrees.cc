#include "gateway/store/recent_subtrees.h"

#include <algorithm>

namespace safeshare::gateway {

RecentSubtrees::RecentSubtrees(uint64_t leaves, uint64_t levels) : levels_(levels) {
  absl::MutexLock lock(&mu_);
  for (uint64_t level = 0; level < levels; ++level) {
    rings_.emplace_back(std::max<uint64_t>(1, leaves >> level));
  }
}

void RecentSubtrees::Add(const std::vector<transparency::Subtree>& committed) {
  absl::MutexLock lock(&mu_);
  for (const auto& node : committed) {
    if (node.level >= levels_) continue;
    auto& ring = rings_[node.level];
    Slot& slot = ring[node.index % ring.size()];
    slot.used = true;
    slot.index = node.index;
    slot.hash = node.hash;
  }
}

std::optional<std::string> RecentSubtrees::Find(uint64_t level, uint64_t index) const {
  absl::ReaderMutexLock lock(&mu_);
  if (level >= levels_) return std::nullopt;
  const auto& ring = rings_[level];
  const Slot& slot = ring[index % ring.size()];
  if (!slot.used || slot.index != index) return std::nullopt;
  return slot.hash;
}

}  // namespace safeshare::gateway
