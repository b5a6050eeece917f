#ifndef SAFESHARE_GATEWAY_STORE_BATCH_TRANSACTION_H_
#define SAFESHARE_GATEWAY_STORE_BATCH_TRANSACTION_H_

#include <string>
#include <utility>
#include <vector>

#include "gateway/store/store.h"

namespace safeshare::gateway {

// The StoreTransaction a back-end's committer hands to each job: every call
// goes to the back-end's *Tx method, run inside the batch's open transaction
// with the back-end's write lock held (hence no lock analysis here).
template <typename Backend>
class BatchTransaction final : public StoreTransaction {
 public:
  explicit BatchTransaction(Backend* b) : b_(b) {}
  absl::StatusOr<InsertResult> InsertMessage(const StoredMessage& m) override
      ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return b_->InsertMessageTx(m);
  }
  absl::StatusOr<StoredMessage> Acknowledge(const std::string& recipient, const std::string& id,
                                            absl::Time now) override
      ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return b_->AcknowledgeTx(recipient, id, now);
  }
  absl::StatusOr<StoredMessage> RefuseContent(const std::string& recipient,
                                              const std::string& id,
                                              safeshare::v1::ContentRefusalReason reason,
                                              const std::string& detail, absl::Time now) override
      ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return b_->RefuseContentTx(recipient, id, reason, detail, now);
  }
  absl::StatusOr<StoredMessage> ResolveHeld(
      const std::string& message_id, bool approve,
      const std::function<absl::Time(safeshare::v1::Urgency)>& deadline_for,
      absl::Time now) override ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return b_->ResolveHeldTx(message_id, approve, deadline_for, now);
  }
  absl::StatusOr<std::vector<StoredMessage>> MarkDelivered(const std::string& recipient,
                                                           const std::vector<uint64_t>& seqs,
                                                           absl::Time now) override
      ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return b_->MarkDeliveredTx(recipient, seqs, now);
  }
  absl::StatusOr<std::vector<StoredMessage>> EscalateOverdue(absl::Time now, int limit) override
      ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return b_->EscalateOverdueTx(now, limit);
  }
  absl::StatusOr<std::vector<StoredMessage>> PurgeExpired(absl::Time now, int limit) override
      ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return b_->PurgeExpiredTx(now, limit);
  }
  absl::StatusOr<uint64_t> AppendAudit(safeshare::v1::AuditRecord record,
                                       std::string* hashed_bytes) override
      ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return b_->AppendAuditTx(std::move(record), hashed_bytes);
  }

 private:
  Backend* b_;
};

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_STORE_BATCH_TRANSACTION_H_
