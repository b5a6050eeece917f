#ifndef SAFESHARE_GATEWAY_SERVICES_MAILBOX_SERVICE_H_
#define SAFESHARE_GATEWAY_SERVICES_MAILBOX_SERVICE_H_

#include "gateway/delivery/mailbox_notifier.h"
#include "gateway/federation_directory.h"
#include "gateway/principal.h"
#include "gateway/store/store.h"
#include "safeshare/v1/gateway_config.pb.h"
#include "safeshare/v1/mailbox.grpc.pb.h"

namespace safeshare::gateway {

// Mailbox: the caller's own mailbox only; the agency comes from the
// certificate, so no request can name another agency's mail.
class MailboxService final : public safeshare::v1::Mailbox::CallbackService {
 public:
  MailboxService(const FederationHolder* directory, MailboxStore* store, MailboxNotifier* notifier,
                 const safeshare::v1::LimitsConfig& limits)
      : directory_(directory),
        store_(store),
        notifier_(notifier),
        max_reply_bytes_(limits.max_reply_bytes()),
        max_replies_per_thread_(limits.max_replies_per_thread()) {}

  grpc::ServerUnaryReactor* Fetch(grpc::CallbackServerContext* ctx,
                                  const safeshare::v1::FetchRequest* request,
                                  safeshare::v1::FetchResponse* response) override;
  grpc::ServerWriteReactor<safeshare::v1::SubscribeResponse>* Subscribe(
      grpc::CallbackServerContext* ctx, const safeshare::v1::SubscribeRequest* request) override;
  grpc::ServerUnaryReactor* Ack(grpc::CallbackServerContext* ctx,
                                const safeshare::v1::AckRequest* request,
                                safeshare::v1::AckResponse* response) override;
  grpc::ServerUnaryReactor* RefuseContent(grpc::CallbackServerContext* ctx,
                                          const safeshare::v1::RefuseContentRequest* request,
                                          safeshare::v1::RefuseContentResponse* response) override;
  grpc::ServerUnaryReactor* GetStatus(grpc::CallbackServerContext* ctx,
                                      const safeshare::v1::GetStatusRequest* request,
                                      safeshare::v1::GetStatusResponse* response) override;
  grpc::ServerUnaryReactor* GetThread(grpc::CallbackServerContext* ctx,
                                      const safeshare::v1::GetThreadRequest* request,
                                      safeshare::v1::GetThreadResponse* response) override;

  // After the federation directory was replaced (SIGHUP): every open
  // subscription checks its client certificate against the new directory, and
  // one that no longer authenticates (revoked certificate or agency) ends with
  // UNAUTHENTICATED or PERMISSION_DENIED. Asynchronous: each stream checks on
  // its own wake-up.
  void ReauthenticateSubscriptions() { notifier_->NotifyAll(); }

 private:
  // The message if the caller's agency sent it or received it; otherwise
  // PERMISSION_DENIED, the same whether it exists or not.
  absl::StatusOr<StoredMessage> VisibleMessage(const Principal& caller, const std::string& id);
  const FederationHolder* directory_;
  MailboxStore* store_;
  MailboxNotifier* notifier_;
  size_t max_reply_bytes_;
  uint32_t max_replies_per_thread_;
};

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_SERVICES_MAILBOX_SERVICE_H_
