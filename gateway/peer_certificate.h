#ifndef SAFESHARE_GATEWAY_PEER_CERTIFICATE_H_
#define SAFESHARE_GATEWAY_PEER_CERTIFICATE_H_

// What the gateway reads from a caller's client certificate, which the TLS
// layer has already verified against the trust bundle: the identity URIs, and
// what revocation and the development check look at.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace safeshare::gateway {

struct PeerCertificate {
  // URI SANs of the safeshare:// scheme (compared without case), in
  // certificate order. DNS, e-mail, IP and other URI SANs are not identities.
  std::vector<std::string> identity_uris;
  // Upper-case hex without leading zeros (NormalizeSerial).
  std::string serial;
  // Upper-case hex of SHA-256 over the DER certificate (NormalizeFingerprint).
  std::string sha256_fingerprint;
  // The DER issuer name, to match CRL entries to the CA that issued them.
  std::string issuer_der;
  // Carries envelope::kDevelopmentCertificatePolicyOid.
  bool development = false;
  // Its validity (InfinitePast if unreadable).
  absl::Time not_before = absl::InfinitePast();
  absl::Time not_after = absl::InfinitePast();
};

// Whole days from `now` to `not_after` (negative once expired).
int64_t DaysToExpiry(absl::Time not_after, absl::Time now);

// Parses one PEM certificate (gRPC's x509_pem_cert). UNAUTHENTICATED if it
// does not parse.
absl::StatusOr<PeerCertificate> ParsePeerCertificate(absl::string_view pem);

// An operator's serial number or fingerprint as written in the federation
// file, in the form PeerCertificate holds: an optional "serial=" or
// "... Fingerprint=" prefix (as openssl prints them), colons and case
// ignored. INVALID_ARGUMENT if it is not hex of a plausible length (a serial
// at most 20 octets, a SHA-256 fingerprint exactly 32).
absl::StatusOr<std::string> NormalizeSerial(absl::string_view text);
absl::StatusOr<std::string> NormalizeFingerprint(absl::string_view text);

// The DER subject names of every certificate in a PEM bundle (a CA file):
// what a verified certificate's issuer_der is compared with to tell which CA
// issued it. INVALID_ARGUMENT if the bundle holds no certificate.
absl::StatusOr<std::vector<std::string>> SubjectNamesOf(absl::string_view pem_bundle);

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_PEER_CERTIFICATE_H_
