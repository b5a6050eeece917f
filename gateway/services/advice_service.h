#ifndef SAFESHARE_GATEWAY_SERVICES_ADVICE_SERVICE_H_
#define SAFESHARE_GATEWAY_SERVICES_ADVICE_SERVICE_H_

#include "gateway/delivery/deadlines.h"
#include "gateway/delivery/mailbox_notifier.h"
#include "gateway/federation_directory.h"
#include "gateway/store/store.h"
#include "safeshare/v1/advice.grpc.pb.h"

namespace safeshare::gateway {

// Advice: IG officers list the held messages their scope covers (messages
// from agencies they oversee) and approve or refuse each, with a reason. Both
// are audited; an approved message enters the recipient's mailbox at once.
class AdviceService final : public safeshare::v1::Advice::CallbackService {
 public:
  AdviceService(const FederationHolder* directory, MailboxStore* store, MailboxNotifier* notifier,
                DeadlinePolicy deadlines, size_t max_reply_bytes)
      : directory_(directory),
        store_(store),
        notifier_(notifier),
        deadlines_(std::move(deadlines)),
        max_reply_bytes_(max_reply_bytes) {}

  grpc::ServerUnaryReactor* ListHeld(grpc::CallbackServerContext* ctx,
                                     const safeshare::v1::ListHeldRequest* request,
                                     safeshare::v1::ListHeldResponse* response) override;
  grpc::ServerUnaryReactor* Approve(grpc::CallbackServerContext* ctx,
                                    const safeshare::v1::ApproveRequest* request,
                                    safeshare::v1::ApproveResponse* response) override;
  grpc::ServerUnaryReactor* Refuse(grpc::CallbackServerContext* ctx,
                                   const safeshare::v1::RefuseRequest* request,
                                   safeshare::v1::RefuseResponse* response) override;

 private:
  grpc::ServerUnaryReactor* Resolve(grpc::CallbackServerContext* ctx, const std::string& id,
                                    const std::string& reason, bool approve,
                                    std::string* response_id);

  const FederationHolder* directory_;
  MailboxStore* store_;
  MailboxNotifier* notifier_;
  DeadlinePolicy deadlines_;
  size_t max_reply_bytes_;
};

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_SERVICES_ADVICE_SERVICE_H_
