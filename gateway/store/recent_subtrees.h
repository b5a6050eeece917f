#ifndef SAFESHARE_GATEWAY_STORE_RECENT_SUBTREES_H_
#define SAFESHARE_GATEWAY_STORE_RECENT_SUBTREES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "transparency/merkle.h"

namespace safeshare::gateway {

// The lower audit-tree levels of the most recent records, as their batches
// commit. Every receipt's inclusion proof needs those for a record committed
// moments ago; without this it read them back from the database, one lookup
// per level, right after the writer wrote them. Only committed subtrees go in,
// and a complete subtree never changes, so a hit is always right. Thread-safe.
class RecentSubtrees {
 public:
  // Keeps levels below `levels` for the last `leaves` records (a power of two).
  RecentSubtrees(uint64_t leaves, uint64_t levels);

  // Subtrees of a committed batch; those of higher levels are ignored.
  void Add(const std::vector<transparency::Subtree>& committed);
  // Its hash, if still kept.
  std::optional<std::string> Find(uint64_t level, uint64_t index) const;

 private:
  struct Slot {
    bool used = false;
    uint64_t index = 0;
    std::string hash;
  };
  const uint64_t levels_;
  mutable absl::Mutex mu_;
  std::vector<std::vector<Slot>> rings_ ABSL_GUARDED_BY(mu_);  // per level: leaves >> level
};

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_STORE_RECENT_SUBTREES_H_
