#ifndef SAFESHARE_GATEWAY_PEER_CLIENTS_H_
#define SAFESHARE_GATEWAY_PEER_CLIENTS_H_

// Channels to peer federations' gateways: mutual TLS with this gateway's own
// certificate (safeshare://<federation>/gateway) and key, verifying the peer
// against the CA its federation file entry names, and nothing else.

#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "gateway/federation_directory.h"
#include "safeshare/v1/peering.grpc.pb.h"

namespace safeshare::gateway {

class PeerClients {
 public:
  PeerClients(std::string cert_pem, std::string key_pem)
      : cert_pem_(std::move(cert_pem)), key_pem_(std::move(key_pem)) {}

  // The stub for `federation_id`'s gateway as `directory` lists it (made
  // again when its address or CA changed on a reload). NOT_FOUND for a
  // federation that is not a peer.
  absl::StatusOr<std::shared_ptr<safeshare::v1::PeerGateway::Stub>> For(
      const FederationDirectory& directory, const std::string& federation_id);

 private:
  struct Channel {
    std::string address;
    std::string ca_pem;
    std::shared_ptr<safeshare::v1::PeerGateway::Stub> stub;
  };
  const std::string cert_pem_;
  const std::string key_pem_;
  absl::Mutex mu_;
  std::map<std::string, Channel> channels_ ABSL_GUARDED_BY(mu_);
};

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_PEER_CLIENTS_H_
