#include "policy/policy_registry.h"

#include <utility>

namespace safeshare::policy {

absl::Status PolicyRegistry::Reload(const std::string& isa_dir,
                                    const safeshare::v1::Federation& federation,
                                    const safeshare::v1::RuleCommencement& commencement) {
  // Build outside the lock: deciding callers are never blocked by a reload.
  auto isas = LoadIsaDirectory(isa_dir, &federation);
  if (!isas.ok()) return isas.status();
  auto engine = PolicyEngine::Create(*std::move(isas), federation, commencement);
  if (!engine.ok()) return engine.status();
  std::shared_ptr<const PolicyEngine> next = *std::move(engine);
  absl::MutexLock lock(&mu_);
  current_ = std::move(next);
  return absl::OkStatus();
}

std::shared_ptr<const PolicyEngine> PolicyRegistry::Current() const {
  absl::MutexLock lock(&mu_);
  return current_;
}

}  // namespace safeshare::policy
