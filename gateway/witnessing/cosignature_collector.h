#ifndef SAFESHARE_GATEWAY_WITNESSING_COSIGNATURE_COLLECTOR_H_
#define SAFESHARE_GATEWAY_WITNESSING_COSIGNATURE_COLLECTOR_H_

// Collects witnesses' cosignatures on this gateway's checkpoints: every
// interval, the latest checkpoint goes to each witness of the policy that has
// a URL (C2SP tlog-witness add-checkpoint, with a consistency proof from the
// size that witness last cosigned), and the cosignatures that come back are
// verified and stored on the checkpoint. A witness that is down is asked
// again next time; one that answers 409 is asked again at once from the size
// it names.

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gateway/store/store.h"
#include "transparency/cosignature.h"

namespace safeshare::gateway {

class CosignatureCollector {
 public:
  // `ca_file`: the CA certificates the witnesses' listeners chain to.
  CosignatureCollector(transparency::WitnessPolicy policy, std::string ca_file, AuditLogStore* log,
                       WitnessStore* store);
  ~CosignatureCollector();

  void Start(absl::Duration interval);
  // One round: asks every witness to cosign the latest checkpoint. Returns
  // how many cosignatures the stored checkpoint now has.
  absl::StatusOr<int> CollectOnce();

 private:
  // POSTs the request to one witness: its cosignature line, or why not.
  absl::StatusOr<std::string> Ask(const transparency::Witness& witness, const CommitInfo& latest);

  transparency::WitnessPolicy policy_;
  std::string ca_file_;
  AuditLogStore* log_;
  WitnessStore* store_;
  // The size each witness last cosigned, as it told us (0 at start: a 409
  // corrects it).
  std::map<std::string, uint64_t> known_size_;
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_WITNESSING_COSIGNATURE_COLLECTOR_H_
