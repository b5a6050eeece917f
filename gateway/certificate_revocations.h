#ifndef SAFESHARE_GATEWAY_CERTIFICATE_REVOCATIONS_H_
#define SAFESHARE_GATEWAY_CERTIFICATE_REVOCATIONS_H_

// The client certificates the federation has revoked: serials and
// fingerprints listed in the federation file, and the entries of a CRL it
// names. Immutable once loaded; a reload builds a new one.

#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gateway/peer_certificate.h"
#include "safeshare/v1/directory.pb.h"

namespace safeshare::gateway {

class CertificateRevocations {
 public:
  // Normalizes every listed serial and fingerprint, and reads the CRL (PEM or
  // DER; a relative path is relative to `base_dir`). The CRL must be signed by
  // a CA in `ca_bundle_pem` with the cRLSign usage, and be current at `now`
  // (thisUpdate not in the future, nextUpdate present and later); otherwise
  // INVALID_ARGUMENT (FAILED_PRECONDITION when stale) saying what to fix.
  static absl::StatusOr<CertificateRevocations> Load(
      const safeshare::v1::CertificateRevocations& spec, const std::string& base_dir,
      const std::string& ca_bundle_pem, absl::Time now);

  // OK, or UNAUTHENTICATED naming the list that revokes the certificate and
  // its serial (never its subject).
  absl::Status Check(const PeerCertificate& cert) const;

  // Listed serials, fingerprints and CRL entries, for the reload log line.
  size_t size() const { return serials_.size() + fingerprints_.size() + crl_entries_.size(); }
  bool has_crl() const { return has_crl_; }
  absl::Time crl_next_update() const { return crl_next_update_; }

 private:
  absl::flat_hash_set<std::string> serials_;
  absl::flat_hash_set<std::string> fingerprints_;
  absl::flat_hash_set<std::string> crl_entries_;  // issuer DER, '\n', serial
  bool has_crl_ = false;
  absl::Time crl_next_update_ = absl::InfiniteFuture();
};

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_CERTIFICATE_REVOCATIONS_H_
