#ifndef SAFESHARE_GATEWAY_SERVICES_REFERRALS_SERVICE_H_
#define SAFESHARE_GATEWAY_SERVICES_REFERRALS_SERVICE_H_

#include "gateway/audit/audit_records.h"
#include "gateway/config.h"
#include "gateway/delivery/deadlines.h"
#include "gateway/delivery/mailbox_notifier.h"
#include "gateway/federation_directory.h"
#include "gateway/key_directory.h"
#include "gateway/metrics/gateway_metrics.h"
#include "gateway/principal.h"
#include "gateway/store/store.h"
#include "policy/policy_engine.h"
#include "policy/policy_registry.h"
#include "safeshare/v1/referrals.grpc.pb.h"

namespace safeshare::gateway {

// Referrals.Submit: authenticate, validate the envelope, store it durably in the
// recipient's mailbox, answer with a receipt. Idempotent by message id.
class ReferralsService final : public safeshare::v1::Referrals::CallbackService {
 public:
  ReferralsService(const FederationHolder* directory, const KeyDirectory* keys,
                   const policy::PolicyRegistry* policy, policy::RulePack pack, Store* store,
                   MailboxNotifier* notifier, DeadlinePolicy deadlines, uint64_t max_message_bytes,
                   const safeshare::v1::LimitsConfig& limits)
      : directory_(directory),
        notifier_(notifier),
        deadlines_(std::move(deadlines)),
        keys_(keys),
        policy_(policy),
        pack_(pack),
        store_(store),
        max_message_bytes_(max_message_bytes),
        declaration_limits_(DeclarationLimitsOf(limits)),
        max_replies_per_thread_(limits.max_replies_per_thread()),
        mailbox_quota_bytes_(limits.mailbox_quota_bytes()),
        created_window_{absl::Seconds(limits.max_created_ahead_seconds()),
                        absl::Seconds(limits.max_created_age_seconds())} {}

  grpc::ServerUnaryReactor* Submit(grpc::CallbackServerContext* ctx,
                                   const safeshare::v1::SubmitRequest* request,
                                   safeshare::v1::SubmitResponse* response) override;

  grpc::ServerUnaryReactor* WitnessReceipt(
      grpc::CallbackServerContext* ctx, const safeshare::v1::WitnessReceiptRequest* request,
      safeshare::v1::WitnessReceiptResponse* response) override;
  grpc::ServerUnaryReactor* RecordDecisionNotToShare(
      grpc::CallbackServerContext* ctx,
      const safeshare::v1::RecordDecisionNotToShareRequest* request,
      safeshare::v1::RecordDecisionNotToShareResponse* response) override;

  // The work of Submit: validate, decide, audit and store in one group
  // commit, then call `done` (on the store's committer thread). On a policy
  // DENY `response` holds the receipt and the status is FAILED_PRECONDITION.
  // A peer gateway forwarding (caller.is_gateway(), agency_id the sender)
  // passes the sender's signing key as its key log proved it.
  void SubmitAsync(const Principal& caller, const safeshare::v1::SubmitRequest& request,
                   safeshare::v1::SubmitResponse* response,
                   std::function<void(const absl::Status&)> done,
                   std::shared_ptr<const DirectoryKey> forwarded_sender_key = nullptr);

  // Counts decisions and refusals from now on (null: not counted).
  void SetMetrics(GatewayMetrics* metrics) { metrics_ = metrics; }

  // Submit's answer: a refusal carries its receipt in the status details.
  static grpc::Status ToSubmitStatus(const absl::Status& status,
                                     const safeshare::v1::SubmitResponse& response);

  grpc::ServerUnaryReactor* GetReceipt(grpc::CallbackServerContext* ctx,
                                       const safeshare::v1::GetReceiptRequest* request,
                                       safeshare::v1::SubmitResponse* response) override;

 private:
  // Everything checked before policy; `at` says how far it got (what a
  // refusal's audit record may take from `envelope`). For a reply, `answered`
  // receives the declaration of the message it answers; `to_peer` says
  // whether a peer federation's gateway serves the recipient. `now` is the
  // time the message is accepted at: keys and created_time are judged at it.
  absl::Status Validate(const Principal& caller, const safeshare::v1::SubmitRequest& request,
                        const FederationDirectory& directory, absl::Time now,
                        safeshare::v1::Envelope* envelope, RefusedAt* at,
                        safeshare::v1::SharingDeclaration* answered,
                        const DirectoryKey* forwarded_sender_key, bool* to_peer) const;
  // A message `caller` sent, with its stored receipt. NOT_FOUND when it sent
  // no message with that id (absent and another's look the same).
  struct Sent {
    StoredMessage message;
    safeshare::v1::SubmitResponse receipt;
  };
  absl::StatusOr<Sent> SentBy(const Principal& caller, const std::string& id) const;
  // A reply answers a message its sender received, of the matching kind, and
  // goes back to that message's sender.
  absl::Status CheckReply(const safeshare::v1::Envelope& envelope,
                          safeshare::v1::SharingDeclaration* answered) const;
  // Signature, signing key ownership and recipient key id.
  // A peer federation's recipient's key is that gateway's to check.
  absl::Status VerifySealing(const safeshare::v1::SignedEnvelope& signed_envelope,
                             const safeshare::v1::Envelope& envelope,
                             const DirectoryKey* forwarded_sender_key, bool peer_recipient,
                             absl::Time now) const;

  const FederationHolder* directory_;
  MailboxNotifier* notifier_;
  DeadlinePolicy deadlines_;
  const KeyDirectory* keys_;
  const policy::PolicyRegistry* policy_;
  policy::RulePack pack_;
  Store* store_;
  uint64_t max_message_bytes_;
  envelope::DeclarationLimits declaration_limits_;
  uint32_t max_replies_per_thread_;
  uint64_t mailbox_quota_bytes_;
  envelope::CreatedTimeWindow created_window_;
  GatewayMetrics* metrics_ = nullptr;
};

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_SERVICES_REFERRALS_SERVICE_H_
