#ifndef SAFESHARE_AGENTS_PKI_DEV_PKI_H_
#define SAFESHARE_AGENTS_PKI_DEV_PKI_H_

// A federation's certificate authority for development and tests: a CA, the
// gateway's server certificate and one client certificate per agency and IG
// officer, each naming its principal in a safeshare:// URI SAN
// (envelope/identity_uri.h). ECDSA P-256, X.509 v3, OpenSSL 3. Private keys
// are written 0600. Every certificate but the CA's carries the development
// marker (the certificate policy envelope::kDevelopmentCertificatePolicyOid),
// which a gateway accepts only when started with --development, and lives at
// most 30 days.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace safeshare::agents {

inline constexpr absl::Duration kDevelopmentCertificateValidity = absl::Hours(24 * 30);

// Creates `dir` with:
//   ca/ca.pem, ca/ca.key                  the federation CA
//   gateway/{ca,cert,key}.pem             server cert for localhost / 127.0.0.1
//   gateway/audit-signing.pem             Ed25519 key signing audit checkpoints
//   gateway/audit-log.vkey                its checkpoint verifier key (for witnesses)
//   gateway/witness-signing.pem           Ed25519 key cosigning peers' checkpoints
//   gateway/witness.vkey                  its cosignature verifier key
//   agencies/<id>/{ca,cert,key}.pem       safeshare://<federation>/agency/<id>
//   agencies/<id>/audit-log.pub           the audit log's verifier key (also
//                                         for officers and every issued identity)
//   agencies/<id>/keys/{signing,encryption}-<key_id>.pem  envelope keys
//   officers/<agency>.<id>/{ca,cert,key}.pem
//                                         safeshare://<federation>/officer/<agency>/<id>
//   federation.textproto                  the directory the gateway loads, with
//                                         each agency's public envelope keys
// from the agencies and officers in `federation_template`, whose id must be a
// valid federation id. FAILED_PRECONDITION if `dir` already holds a CA, unless
// `force`.
absl::Status CreateDevFederation(const std::string& federation_template, const std::string& dir,
                                 bool force);

struct IssueOptions {
  // Validity starts at now + not_before_offset (tests use this for expired
  // certificates) and lasts `validity`, at most 30 days.
  absl::Duration not_before_offset = absl::Minutes(-5);
  absl::Duration validity = kDevelopmentCertificateValidity;
  // For tests only: more SANs, and no development marker (what a production
  // CA would issue). Each is encoded as one SAN of its type, never parsed.
  std::vector<std::string> extra_uri_sans;
  std::vector<std::string> extra_dns_sans;
  std::vector<std::string> extra_email_sans;
  bool development_marker = true;
};

// Issues one more client certificate from the CA in `federation_dir` for
// `principal_uri` into `out_dir` ({ca,cert,key}.pem). INVALID_ARGUMENT unless
// `principal_uri` is exactly an identity URI of that federation (the grammar
// of envelope/identity_uri.h, nothing more), or the validity is over 30 days.
absl::Status IssueClientCertificate(const std::string& federation_dir,
                                    const std::string& principal_uri, const std::string& out_dir,
                                    const IssueOptions& options);
absl::Status IssueClientCertificate(const std::string& federation_dir,
                                    const std::string& principal_uri, const std::string& out_dir,
                                    absl::Duration not_before_offset, absl::Duration validity);

// Writes a CRL (PEM) signed by the CA in `federation_dir` to `out_path`,
// revoking the certificates with the given hex serials, with thisUpdate at
// now + this_update_offset and nextUpdate at now + next_update_offset (tests
// pass a negative one for a stale CRL). The gateway reads it when the
// federation file's revoked_certificates.crl_file names it.
absl::Status IssueDevelopmentCrl(const std::string& federation_dir,
                                 const std::vector<std::string>& revoked_serials,
                                 const std::string& out_path,
                                 absl::Duration this_update_offset = absl::Minutes(-5),
                                 absl::Duration next_update_offset = absl::Hours(24 * 7));

}  // namespace safeshare::agents

#endif  // SAFESHARE_AGENTS_PKI_DEV_PKI_H_
