#ifndef SAFESHARE_AGENTS_PKI_DEV_PKI_H_
#define SAFESHARE_AGENTS_PKI_DEV_PKI_H_

// A federation's certificate authority for development and tests: a CA, the
// gateway's server certificate and one client certificate per agency and IG
// officer, each naming its principal in a safeshare:// URI SAN. ECDSA P-256,
// X.509 v3, OpenSSL 3. Private keys are written 0600.

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace safeshare::agents {

// Creates `dir` with:
//   ca/ca.pem, ca/ca.key                  the federation CA
//   gateway/{ca,cert,key}.pem             server cert for localhost / 127.0.0.1
//   gateway/audit-signing.pem             Ed25519 key signing audit checkpoints
//   agencies/<id>/{ca,cert,key}.pem       safeshare://agency/<id>
//   agencies/<id>/keys/{signing,encryption}-<key_id>.pem  envelope keys
//   officers/<agency>.<id>/{ca,cert,key}.pem  safeshare://officer/<agency>/<id>
//   federation.textproto                  the directory the gateway loads, with
//                                         each agency's public envelope keys
// from the agencies and officers in `federation_template`. FAILED_PRECONDITION
// if `dir` already holds a CA, unless `force`.
absl::Status CreateDevFederation(const std::string& federation_template, const std::string& dir,
                                 bool force);

// Issues one more client certificate from the CA in `federation_dir` for
// `principal_uri` into `out_dir` ({ca,cert,key}.pem), valid from now +
// not_before_offset for `validity` (tests use this for expired certificates).
absl::Status IssueClientCertificate(const std::string& federation_dir,
                                    const std::string& principal_uri, const std::string& out_dir,
                                    absl::Duration not_before_offset, absl::Duration validity);

}  // namespace safeshare::agents

#endif  // SAFESHARE_AGENTS_PKI_DEV_PKI_H_
