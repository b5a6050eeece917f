#ifndef SAFESHARE_POLICY_POLICY_REGISTRY_H_
#define SAFESHARE_POLICY_POLICY_REGISTRY_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "policy/policy_engine.h"

namespace safeshare::policy {

// The policy in force, replaced as a whole on reload (e.g. on SIGHUP).
// Thread-safe: callers take a snapshot with Current() and decide on it while
// a reload builds the next engine alongside.
class PolicyRegistry {
 public:
  // Loads `isa_dir` against `federation` and, only if every file is good,
  // puts the new engine in force. On error the previous engine stays in force
  // and the error (one line per bad file) is returned.
  absl::Status Reload(const std::string& isa_dir, const safeshare::v1::Federation& federation,
                      const safeshare::v1::RuleCommencement& commencement = {});

  // The engine in force; nullptr before the first successful Reload.
  std::shared_ptr<const PolicyEngine> Current() const;

 private:
  mutable absl::Mutex mu_;
  std::shared_ptr<const PolicyEngine> current_ ABSL_GUARDED_BY(mu_);
};

}  // namespace safeshare::policy

#endif  // SAFESHARE_POLICY_POLICY_REGISTRY_H_
