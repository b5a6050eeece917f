#include "gateway/authentication.h"

#include <grpc/grpc_security_constants.h>

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/log.h"

namespace safeshare::gateway {
namespace {

// Parsed certificates by their PEM bytes: decoding one is most of the cost
// of a refused call, so a flood of calls under one certificate would
// otherwise take the cores from everyone. Only the parse is kept; revocation
// and membership are checked on every call. Bounded: emptied when full.
class ParsedCertificates {
 public:
  absl::StatusOr<PeerCertificate> Parse(absl::string_view pem) {
    {
      absl::MutexLock lock(&mu_);
      if (auto it = parsed_.find(pem); it != parsed_.end()) return it->second;
    }
    auto cert = ParsePeerCertificate(pem);
    if (!cert.ok()) return cert.status();
    // Once per certificate (this cache): a caller whose certificate is near
    // its end is logged, so the operator renews it before calls fail.
    if (const int64_t days = DaysToExpiry(cert->not_after, absl::Now()); days < 30) {
      LogEvent("warn", "certificate.expiring",
               {{"identity", cert->identity_uris.empty() ? "" : cert->identity_uris.front()},
                {"serial", cert->serial},
                {"days_to_expiry", absl::StrCat(days)}});
    }
    absl::MutexLock lock(&mu_);
    if (parsed_.size() >= kMaxEntries) parsed_.clear();
    parsed_.emplace(std::string(pem), *cert);
    return cert;
  }

 private:
  static constexpr size_t kMaxEntries = 4096;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, PeerCertificate> parsed_ ABSL_GUARDED_BY(mu_);
};

// Agencies' certificate expiry times, noted after authentication (so only
// members' ids ever become labels).
class SeenExpiries {
 public:
  // On every agency call (Submit's too): a shared lock and a lookup, and
  // the exclusive lock only when an agency presents a new certificate.
  void Note(const Principal& p, absl::Time not_after) {
    if (p.kind != Principal::Kind::kAgency) return;
    {
      absl::ReaderMutexLock lock(&mu_);
      if (auto it = expiries_.find(p.agency_id); it != expiries_.end() && it->second == not_after) {
        return;
      }
    }
    absl::MutexLock lock(&mu_);
    expiries_[p.agency_id] = not_after;
  }
  std::map<std::string, absl::Time> Get() {
    absl::ReaderMutexLock lock(&mu_);
    return {expiries_.begin(), expiries_.end()};
  }

 private:
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, absl::Time> expiries_ ABSL_GUARDED_BY(mu_);
};

SeenExpiries& Seen() {
  static auto* seen = new SeenExpiries();  // never destroyed: calls may outlive main
  return *seen;
}

}  // namespace

std::map<std::string, absl::Time> AgencyCertificateExpiries() { return Seen().Get(); }

absl::StatusOr<PeerCertificate> CallerCertificate(const grpc::CallbackServerContext& ctx) {
  auto auth = ctx.auth_context();
  if (auth == nullptr || !auth->IsPeerAuthenticated()) {
    return absl::UnauthenticatedError("a client certificate from the federation CA is required");
  }
  auto pem = auth->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME);
  if (pem.size() != 1) {
    return absl::UnauthenticatedError("a client certificate from the federation CA is required");
  }
  static auto* parsed = new ParsedCertificates();  // never destroyed: calls may outlive main
  return parsed->Parse(absl::string_view(pem.front().data(), pem.front().size()));
}

absl::StatusOr<Principal> AuthenticateCaller(const grpc::CallbackServerContext& ctx,
                                             const FederationDirectory& directory) {
  auto cert = CallerCertificate(ctx);
  if (!cert.ok()) return cert.status();
  auto principal = AuthenticateCertificate(*cert, directory);
  if (principal.ok()) Seen().Note(*principal, cert->not_after);
  return principal;
}

absl::StatusOr<Principal> AuthenticateAgency(const grpc::CallbackServerContext& ctx,
                                             const FederationDirectory& directory) {
  auto cert = CallerCertificate(ctx);
  if (!cert.ok()) return cert.status();
  return AuthenticateAgencyCertificate(*cert, directory);
}

absl::StatusOr<Principal> AuthenticateAgencyCertificate(const PeerCertificate& cert,
                                                        const FederationDirectory& directory) {
  auto principal = AuthenticateCertificate(cert, directory);
  if (principal.ok() && principal->is_officer()) {
    return absl::PermissionDeniedError(
        "this call is for agency certificates; officer certificates are for Audit and Advice");
  }
  if (principal.ok()) Seen().Note(*principal, cert.not_after);
  return principal;
}

}  // namespace safeshare::gateway
