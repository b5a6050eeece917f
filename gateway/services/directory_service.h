#ifndef SAFESHARE_GATEWAY_SERVICES_DIRECTORY_SERVICE_H_
#define SAFESHARE_GATEWAY_SERVICES_DIRECTORY_SERVICE_H_

#include "gateway/federation_directory.h"
#include "gateway/key_directory.h"
#include "safeshare/v1/directory.grpc.pb.h"

namespace safeshare::gateway {

// Directory: who is in the federation, for any authenticated member.
class DirectoryService final : public safeshare::v1::Directory::CallbackService {
 public:
  DirectoryService(const FederationHolder* directory, KeyDirectory* keys, size_t max_reply_bytes)
      : directory_(directory), keys_(keys), max_reply_bytes_(max_reply_bytes) {}

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
};

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_SERVICES_DIRECTORY_SERVICE_H_
