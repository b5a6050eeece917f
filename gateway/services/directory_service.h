#ifndef SAFESHARE_GATEWAY_SERVICES_DIRECTORY_SERVICE_H_
#define SAFESHARE_GATEWAY_SERVICES_DIRECTORY_SERVICE_H_

#include "gateway/federation_directory.h"
#include "safeshare/v1/directory.grpc.pb.h"

namespace safeshare::gateway {

// Directory: who is in the federation, for any authenticated member.
class DirectoryService final : public safeshare::v1::Directory::CallbackService {
 public:
  explicit DirectoryService(const FederationDirectory* directory) : directory_(directory) {}

  grpc::ServerUnaryReactor* ListAgencies(grpc::CallbackServerContext* ctx,
                                         const safeshare::v1::ListAgenciesRequest* request,
                                         safeshare::v1::ListAgenciesResponse* response) override;
  grpc::ServerUnaryReactor* GetAgency(grpc::CallbackServerContext* ctx,
                                      const safeshare::v1::GetAgencyRequest* request,
                                      safeshare::v1::GetAgencyResponse* response) override;
  grpc::ServerUnaryReactor* ListAreas(grpc::CallbackServerContext* ctx,
                                      const safeshare::v1::ListAreasRequest* request,
                                      safeshare::v1::ListAreasResponse* response) override;

 private:
  const FederationDirectory* directory_;
};

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_SERVICES_DIRECTORY_SERVICE_H_
