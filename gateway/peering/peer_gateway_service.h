#ifndef SAFESHARE_GATEWAY_PEERING_PEER_GATEWAY_SERVICE_H_
#define SAFESHARE_GATEWAY_PEERING_PEER_GATEWAY_SERVICE_H_

// PeerGateway: what a peer federation's gateway may ask of this one —
// forward a message from one of its agencies to one of ours, ask where a
// forwarded message now is, and read one of our agencies with its key
// history. Callers are peer gateways only (AuthenticatePeerGatewayCertificate).

#include <memory>

#include "gateway/federation_directory.h"
#include "gateway/key_directory.h"
#include "gateway/services/referrals_service.h"
#include "gateway/store/store.h"
#include "safeshare/v1/peering.grpc.pb.h"

namespace safeshare::gateway {

// The sender's signing key `key_id` as the sender's federation's key log
// proves it: `sender` (a GetAgency answer from that federation's gateway)
// verifies under the audit-log key `peer` lists, replays to the keys it
// serves, and holds the key. UNAUTHENTICATED or FAILED_PRECONDITION with the
// reason otherwise.
absl::StatusOr<std::shared_ptr<const DirectoryKey>> PeerSenderKey(
    const safeshare::v1::PeerFederation& peer, const std::string& sender_agency_id,
    const safeshare::v1::GetAgencyResponse& sender, const std::string& key_id);

class PeerGatewayService final : public safeshare::v1::PeerGateway::CallbackService {
 public:
  PeerGatewayService(const FederationHolder* directory, const KeyDirectory* keys, Store* store,
                     ReferralsService* referrals)
      : directory_(directory), keys_(keys), store_(store), referrals_(referrals) {}

  grpc::ServerUnaryReactor* Forward(grpc::CallbackServerContext* ctx,
                                    const safeshare::v1::ForwardRequest* request,
                                    safeshare::v1::SubmitResponse* response) override;
  grpc::ServerUnaryReactor* GetForwarded(grpc::CallbackServerContext* ctx,
                                         const safeshare::v1::GetForwardedRequest* request,
                                         safeshare::v1::GetStatusResponse* response) override;
  grpc::ServerUnaryReactor* GetAgency(grpc::CallbackServerContext* ctx,
                                      const safeshare::v1::GetAgencyRequest* request,
                                      safeshare::v1::GetAgencyResponse* response) override;

 private:
  const FederationHolder* directory_;
  const KeyDirectory* keys_;
  Store* store_;
  ReferralsService* referrals_;
};

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_PEERING_PEER_GATEWAY_SERVICE_H_
