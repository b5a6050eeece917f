#ifndef SAFESHARE_GATEWAY_PEERING_FORWARDER_H_
#define SAFESHARE_GATEWAY_PEERING_FORWARDER_H_

// Forwards messages to peer federations' agencies. The queue is the store:
// an allowed message to a peer's agency waits in that agency's mailbox here
// (shown to its sender as FORWARDING) until the peer's gateway accepts it
// (DELIVERED here, with the peer's receipt kept beside ours) or refuses it
// (CONTENT_REFUSED, REFUSED_BY_PEER_GATEWAY, with its findings). Forwarding
// is idempotent at the peer (message ids are global), so a crash between its
// acceptance and our record only forwards again and gets the same receipt.
// A delivered message's state is then asked for until the recipient
// acknowledges, refuses or answers it there, and recorded here too. A peer
// that is unreachable is retried with back-off; nothing is dropped.

#include <map>
#include <string>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gateway/federation_directory.h"
#include "gateway/key_directory.h"
#include "gateway/peer_clients.h"
#include "gateway/store/store.h"
#include "safeshare/v1/gateway_config.pb.h"

namespace safeshare::gateway {

class Forwarder {
 public:
  Forwarder(Store* store, const FederationHolder* directory, const KeyDirectory* keys,
            PeerClients* clients, const safeshare::v1::PeeringConfig& config);
  ~Forwarder();  // stops after the pass under way
  Forwarder(const Forwarder&) = delete;
  Forwarder& operator=(const Forwarder&) = delete;

 private:
  enum class Outcome { kDone, kPeerUnavailable };

  void RunOnce(absl::Time now);
  Outcome ForwardOne(const std::shared_ptr<const FederationDirectory>& directory,
                     const safeshare::v1::PeerFederation& peer,
                     safeshare::v1::PeerGateway::Stub& stub, const StoredMessage& m);
  Outcome PollOne(const std::shared_ptr<const FederationDirectory>& directory,
                  const safeshare::v1::PeerFederation& peer, safeshare::v1::PeerGateway::Stub& stub,
                  const StoredMessage& m);
  // Runs `work` in a store job and waits for it.
  absl::Status CommitAndWait(MailboxStore::Work work);

  Store* store_;
  const FederationHolder* directory_;
  const KeyDirectory* keys_;
  PeerClients* clients_;
  absl::Duration interval_;
  absl::Duration max_backoff_;
  struct Backoff {
    absl::Time next = absl::InfinitePast();
    absl::Duration delay = absl::ZeroDuration();
  };
  std::map<std::string, Backoff> backoff_;    // by peer federation; forwarder thread only
  std::map<std::string, absl::Time> polled_;  // by message id; forwarder thread only
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_PEERING_FORWARDER_H_
