#ifndef SAFESHARE_GATEWAY_FEDERATION_DIRECTORY_H_
#define SAFESHARE_GATEWAY_FEDERATION_DIRECTORY_H_

#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gateway/certificate_revocations.h"
#include "safeshare/v1/directory.pb.h"

namespace safeshare::gateway {

// What the gateway trusts beyond the federation file itself.
struct CertificateTrust {
  // The CA bundle of the TLS layer (tls.ca_cert_file): it verifies the CRL
  // the federation file names, if any.
  std::string ca_bundle_pem;
  // Started with --development: accept certificates with the development
  // marker.
  bool accept_development = false;
  // When the CRL must be current; InfinitePast means absl::Now() at load.
  absl::Time now = absl::InfinitePast();
};

// The federation's members and revoked certificates, loaded from the
// federation file and read-only afterwards (safe to share across threads). A
// reload builds a new one (FederationHolder).
class FederationDirectory {
 public:
  // Loads and validates a Federation text proto: a well-formed federation id,
  // unique ids, known areas, well-formed agency ids, revocations that parse
  // and a CRL that verifies and is current. INVALID_ARGUMENT (or
  // FAILED_PRECONDITION for a stale CRL) names the file and the problem.
  static absl::StatusOr<FederationDirectory> Load(const std::string& path,
                                                  const CertificateTrust& trust = {});
  static absl::StatusOr<FederationDirectory> FromProto(safeshare::v1::Federation federation,
                                                       const CertificateTrust& trust = {},
                                                       const std::string& base_dir = "");

  // The agency, or nullptr if unknown.
  const safeshare::v1::Agency* FindAgency(const std::string& id) const;
  // A multi-agency team, or nullptr.
  const safeshare::v1::Team* FindTeam(const std::string& id) const;
  const safeshare::v1::Officer* FindOfficer(const std::string& agency_id,
                                            const std::string& officer_id) const;
  const safeshare::v1::Federation& federation() const { return federation_; }

  // Peer federations (federation.peers): their gateways, CAs and agencies.
  const safeshare::v1::PeerFederation* FindPeer(const std::string& federation_id) const;
  // The peer federation serving `agency_id`, or nullptr (this federation's
  // own agencies included: FindAgency finds only those).
  const safeshare::v1::PeerFederation* PeerServing(const std::string& agency_id) const;
  // An agency of this federation or of a peer, or nullptr.
  const safeshare::v1::Agency* FindAnyAgency(const std::string& id) const;
  // The peer's CA bundle, as loaded (PEM); empty for an unknown peer.
  std::string PeerCaPem(const std::string& federation_id) const;
  // Which CA issued a certificate the TLS layer verified, by its issuer name:
  // this federation's (tls.ca_cert_file; true when it was not given, as in
  // unit tests) or a peer's ca_file.
  bool IssuedByOwnCa(const std::string& issuer_der) const;
  bool IssuedByPeerCa(const std::string& federation_id, const std::string& issuer_der) const;
  // The federation as policy sees it: this federation's agencies and areas
  // and every peer's, so that agreements can name parties on both sides.
  const safeshare::v1::Federation& policy_view() const { return policy_view_; }
  const std::string& id() const { return federation_.id(); }
  const CertificateRevocations& revocations() const { return revocations_; }
  bool accepts_development_certificates() const { return accept_development_; }

 private:
  absl::Status LoadPeers(const safeshare::v1::Federation& federation, const CertificateTrust& trust,
                         const std::string& base_dir, const std::set<std::string>& own_areas);

  safeshare::v1::Federation federation_;
  std::map<std::string, int> agency_index_;
  std::map<std::string, int> team_index_;
  std::map<std::string, int> peer_index_;
  std::map<std::string, std::pair<int, int>> peer_agency_index_;  // peer, agency
  std::map<std::string, std::string> peer_ca_pem_;
  std::map<std::string, std::vector<std::string>> peer_issuers_;
  std::vector<std::string> own_issuers_;
  safeshare::v1::Federation policy_view_;
  CertificateRevocations revocations_;
  bool accept_development_ = false;
};

// The directory in force, replaced whole on SIGHUP. Each call takes a
// snapshot with Current() and decides on it; the lock is held only to copy
// the pointer, never across a call, and a snapshot stays valid (and
// unchanged) for as long as someone holds it.
class FederationHolder {
 public:
  explicit FederationHolder(FederationDirectory initial)
      : current_(std::make_shared<const FederationDirectory>(std::move(initial))) {}

  std::shared_ptr<const FederationDirectory> Current() const {
    absl::ReaderMutexLock lock(&mu_);
    return current_;
  }
  void Replace(FederationDirectory next) {
    auto replacement = std::make_shared<const FederationDirectory>(std::move(next));
    absl::MutexLock lock(&mu_);
    current_.swap(replacement);
  }  // the previous directory goes when its last snapshot does, outside the lock

 private:
  mutable absl::Mutex mu_;
  std::shared_ptr<const FederationDirectory> current_ ABSL_GUARDED_BY(mu_);
};

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_FEDERATION_DIRECTORY_H_
