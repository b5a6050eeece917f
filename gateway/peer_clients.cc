#include "gateway/peer_clients.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"

namespace safeshare::gateway {

absl::StatusOr<std::shared_ptr<safeshare::v1::PeerGateway::Stub>> PeerClients::For(
    const FederationDirectory& directory, const std::string& federation_id) {
  const auto* peer = directory.FindPeer(federation_id);
  if (peer == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("federation ", federation_id, " is not a peer of this federation"));
  }
  const std::string ca = directory.PeerCaPem(federation_id);
  absl::MutexLock lock(&mu_);
  Channel& c = channels_[federation_id];
  if (c.stub == nullptr || c.address != peer->gateway_address() || c.ca_pem != ca) {
    grpc::SslCredentialsOptions tls;
    tls.pem_root_certs = ca;
    tls.pem_private_key = key_pem_;
    tls.pem_cert_chain = cert_pem_;
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(64 * 1024 * 1024);
    c.address = peer->gateway_address();
    c.ca_pem = ca;
    c.stub = safeshare::v1::PeerGateway::NewStub(
        grpc::CreateCustomChannel(c.address, grpc::SslCredentials(tls), args));
  }
  return c.stub;
}

}  // namespace safeshare::gateway
