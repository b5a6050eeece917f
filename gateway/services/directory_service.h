#ifndef SAFESHARE_GATEWAY_SERVICES_DIRECTORY_SERVICE_H_
#define SAFESHARE_GATEWAY_SERVICES_DIRECTORY_SERVICE_H_

#include <map>
#include <string>

#include "absl/synchronization/mutex.h"
#include "gateway/federation_directory.h"
#include "gateway/key_directory.h"
#include "gateway/peer_clients.h"
#include "safeshare/v1/directory.grpc.pb.h"

namespace safeshare::gateway {

// Directory: who is in the federation, for any authenticated member.
class DirectoryService final : public safeshare::v1::Directory::CallbackService {
 public:
  // GetAgency for a peer federation's agency asks that federation's gateway
  // through `peers` (null: no peers) and passes its answer on unchanged;
  // agents verify it with that federation's audit-log key.
  DirectoryService(const FederationHolder* directory, KeyDirectory* keys, size_t max_reply_bytes,
                   PeerClients* peers = nullptr)
      : directory_(directory), keys_(keys), max_reply_bytes_(max_reply_bytes), peers_(peers) {}

  grpc::ServerUnaryReactor* ListAgencies(grpc::CallbackServerContext* ctx,
                                         const safeshare::v1::ListAgenciesRequest* request,
                                         safeshare::v1::ListAgenciesResponse* response) override;
  grpc::ServerUnaryReactor* GetAgency(grpc::CallbackServerContext* ctx,
                                      const safeshare::v1::GetAgencyRequest* request,
                                      safeshare::v1::GetAgencyResponse* response) override;
  grpc::ServerUnaryReactor* ListAreas(grpc::CallbackServerContext* ctx,
                                      const safeshare::v1::ListAreasRequest* request,
                                      safeshare::v1::ListAreasResponse* response) override;
  grpc::ServerUnaryReactor* GetTeam(grpc::CallbackServerContext* ctx,
                                    const safeshare::v1::GetTeamRequest* request,
                                    safeshare::v1::GetTeamResponse* response) override;
  grpc::ServerUnaryReactor* PublishKey(grpc::CallbackServerContext* ctx,
                                       const safeshare::v1::PublishKeyRequest* request,
                                       safeshare::v1::PublishKeyResponse* response) override;
  grpc::ServerUnaryReactor* RevokeKey(grpc::CallbackServerContext* ctx,
                                      const safeshare::v1::RevokeKeyRequest* request,
                                      safeshare::v1::RevokeKeyResponse* response) override;

 private:
  // The agency as listed, with its keys from the key directory.
  safeshare::v1::Agency WithKeys(const safeshare::v1::Agency& agency) const;

  const FederationHolder* directory_;
  KeyDirectory* keys_;
  size_t max_reply_bytes_;
  PeerClients* peers_;
  // The last answer each peer gateway gave for its agencies, served while it
  // is unreachable: agents still seal to its agencies (the answer is proven
  // by its log, so a stale copy can only be older, never different), and
  // the message waits here, FORWARDING, until it returns.
  absl::Mutex peer_answers_mu_;
  std::map<std::string, safeshare::v1::GetAgencyResponse> peer_answers_
      ABSL_GUARDED_BY(peer_answers_mu_);
};

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_SERVICES_DIRECTORY_SERVICE_H_
