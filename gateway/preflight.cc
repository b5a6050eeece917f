#include "gateway/preflight.h"

#include <libpq-fe.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <filesystem>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/files.h"
#include "envelope/keys.h"
#include "gateway/federation_directory.h"
#include "gateway/store/store.h"
#include "policy/policy_registry.h"
#include "transparency/cosignature.h"

namespace safeshare::gateway {
namespace {

using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;
using KeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

X509Ptr FirstCertificate(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  X509Ptr cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr, X509_free);
  ERR_clear_error();
  return cert;
}

// The certificate's days left: a problem when expired or not yet valid, a
// warning within kCertificateWarning.
void CheckValidity(const std::string& what, X509* cert, absl::Time now, PreflightReport& r) {
  int days = 0, seconds = 0;
  const time_t t = absl::ToTimeT(now);
  ASN1_TIME* at = ASN1_TIME_set(nullptr, t);
  const bool diffed = ASN1_TIME_diff(&days, &seconds, at, X509_get0_notAfter(cert)) == 1;
  const bool started = X509_cmp_time(X509_get0_notBefore(cert), const_cast<time_t*>(&t)) < 0;
  ASN1_TIME_free(at);
  if (!diffed) {
    r.problems.push_back(absl::StrCat(what, ": its validity cannot be read"));
  } else if (days < 0 || (days == 0 && seconds <= 0)) {
    r.problems.push_back(absl::StrCat(what, " has expired"));
  } else if (!started) {
    r.problems.push_back(absl::StrCat(what, " is not valid yet"));
  } else {
    r.facts.push_back(absl::StrCat(what, ": ", days, " days to expiry"));
    if (absl::Hours(24) * days < kCertificateWarning) {
      r.warnings.push_back(absl::StrCat(what, " expires in ", days, " days; renew it"));
    }
  }
}

void CheckTls(const safeshare::v1::GatewayConfig& config, absl::Time now, PreflightReport& r) {
  auto ca = ReadFile(config.tls().ca_cert_file());
  auto cert_pem = ReadFile(config.tls().cert_file());
  auto key_pem = ReadFile(config.tls().key_file());
  if (!ca.ok() || !cert_pem.ok() || !key_pem.ok()) {
    for (const auto* s : {&ca, &cert_pem, &key_pem}) {
      if (!s->ok()) r.problems.push_back(std::string(s->status().message()));
    }
    return;
  }
  X509Ptr ca_cert = FirstCertificate(*ca);
  X509Ptr cert = FirstCertificate(*cert_pem);
  if (ca_cert == nullptr) {
    r.problems.push_back(absl::StrCat(config.tls().ca_cert_file(), ": no PEM certificate"));
  } else {
    CheckValidity(absl::StrCat("the CA certificate (", config.tls().ca_cert_file(), ")"),
                  ca_cert.get(), now, r);
  }
  if (cert == nullptr) {
    r.problems.push_back(absl::StrCat(config.tls().cert_file(), ": no PEM certificate"));
    return;
  }
  CheckValidity(absl::StrCat("the gateway certificate (", config.tls().cert_file(), ")"),
                cert.get(), now, r);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(key_pem->data(), static_cast<int>(key_pem->size())), BIO_free);
  KeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr,
             EVP_PKEY_free);
  ERR_clear_error();
  if (key == nullptr) {
    r.problems.push_back(absl::StrCat(config.tls().key_file(), ": no PEM private key"));
  } else if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    r.problems.push_back(
        absl::StrCat(config.tls().key_file(), " does not match ", config.tls().cert_file()));
  }
  if (ca_cert != nullptr && X509_check_issued(ca_cert.get(), cert.get()) != X509_V_OK) {
    r.problems.push_back(
        absl::StrCat(config.tls().cert_file(), " was not issued by ", config.tls().ca_cert_file()));
  }
}

void CheckAuditKey(const safeshare::v1::GatewayConfig& config,
                   const safeshare::v1::AuditLogIdentity& log, PreflightReport& r) {
  auto pem = ReadFile(config.audit_signing_key_file());
  if (!pem.ok()) {
    r.problems.push_back(std::string(pem.status().message()));
    return;
  }
  auto key = envelope::PrivateKey::FromPem(*pem);
  if (!key.ok() || key->type() != envelope::PrivateKey::Type::kSigning) {
    r.problems.push_back(
        absl::StrCat(config.audit_signing_key_file(), ": not an Ed25519 private key"));
  } else if (key->RawPublicKey() != log.public_key()) {
    r.problems.push_back(
        absl::StrCat(config.audit_signing_key_file(),
                     " does not match the audit_log public key in the federation file"));
  } else {
    r.facts.push_back(absl::StrCat("audit log: ", log.origin()));
  }
}

// Reachable without changing anything: no file is created and no migration
// runs.
void CheckStore(const std::string& uri, PreflightReport& r) {
  const std::string shown = RedactStoreUri(uri);
  if (absl::StartsWith(uri, "sqlite://")) {
    std::string path = uri.substr(9);
    path.resize(std::min(path.size(), path.find('?')));
    const std::string dir = std::filesystem::path(path).parent_path().string();
    if (std::filesystem::exists(path)) {
      if (access(path.c_str(), R_OK | W_OK) != 0) {
        r.problems.push_back(absl::StrCat("store ", shown,
                                          ": the file is not readable and "
                                          "writable by this user"));
        return;
      }
    } else if (access(dir.empty() ? "." : dir.c_str(), W_OK) != 0) {
      r.problems.push_back(absl::StrCat("store ", shown, ": the directory ", dir,
                                        " does not exist or is not writable by this user"));
      return;
    }
    r.facts.push_back(absl::StrCat("store: ", shown));
    return;
  }
  if (absl::StartsWith(uri, "postgresql://") || absl::StartsWith(uri, "postgres://")) {
    PGconn* conn = PQconnectdb(uri.c_str());
    const bool up = PQstatus(conn) == CONNECTION_OK;
    // libpq's message names host and user, never the password.
    const std::string why =
        up ? "" : std::string(absl::StripTrailingAsciiWhitespace(PQerrorMessage(conn)));
    PQfinish(conn);
    if (!up) {
      r.problems.push_back(absl::StrCat("store ", shown, ": cannot connect: ", why));
    } else {
      r.facts.push_back(absl::StrCat("store: ", shown, " (connected)"));
    }
    return;
  }
  r.problems.push_back(absl::StrCat("store ", shown, ": unsupported scheme"));
}

}  // namespace

PreflightReport CheckConfiguration(const safeshare::v1::GatewayConfig& config, absl::Time now) {
  PreflightReport r;
  r.facts.push_back(absl::StrCat("listen: ", config.listen_address()));
  CheckTls(config, now, r);

  CertificateTrust trust;
  if (auto ca = ReadFile(config.tls().ca_cert_file()); ca.ok()) trust.ca_bundle_pem = *ca;
  trust.accept_development = config.development();
  trust.now = now;
  auto directory = FederationDirectory::Load(config.federation_file(), trust);
  if (!directory.ok()) {
    r.problems.push_back(std::string(directory.status().message()));
  } else {
    const auto& f = directory->federation();
    r.facts.push_back(absl::StrCat("federation: ", f.id(), ", ", f.agencies_size(), " agencies, ",
                                   f.officers_size(), " officers, ", f.teams_size(), " teams, ",
                                   f.peers_size(), " peer partnerships"));
    for (const auto& peer : f.peers()) {
      r.facts.push_back(absl::StrCat("peer ", peer.id(), ": ", peer.gateway_address(), ", ",
                                     peer.agencies_size(), " agencies"));
    }
    CheckAuditKey(config, f.audit_log(), r);
    policy::PolicyRegistry policy;
    if (absl::Status st =
            policy.Reload(config.isa_dir(), directory->policy_view(), config.rule_commencement());
        !st.ok()) {
      r.problems.push_back(std::string(st.message()));
    } else {
      r.facts.push_back(
          absl::StrCat("agreements: ", policy.Current()->isa_count(), " from ", config.isa_dir()));
    }
  }
  const auto& w = config.witnessing();
  if (!w.witness_policy_file().empty()) {
    auto text = ReadFile(w.witness_policy_file());
    auto parsed = text.ok() ? transparency::WitnessPolicy::Parse(*text)
                            : absl::StatusOr<transparency::WitnessPolicy>(text.status());
    if (!parsed.ok()) {
      r.problems.push_back(absl::StrCat(w.witness_policy_file(), ": ", parsed.status().message()));
    } else {
      r.facts.push_back(absl::StrCat("witness policy: ", parsed->witnesses().size(), " witnesses"));
    }
  }
  if (!w.listen_address().empty()) {
    auto pem = ReadFile(w.witness_key_file());
    auto key = pem.ok() ? envelope::PrivateKey::FromPem(*pem)
                        : absl::StatusOr<envelope::PrivateKey>(pem.status());
    if (!key.ok() || key->type() != envelope::PrivateKey::Type::kSigning) {
      r.problems.push_back(
          absl::StrCat(w.witness_key_file(), ": not an Ed25519 private key (witness key)"));
    } else {
      r.facts.push_back(
          absl::StrCat("witnessing on ", w.listen_address(), " as ", w.witness_name()));
    }
  }
  CheckStore(config.store(), r);
  if (config.development()) {
    r.warnings.push_back("development certificates are accepted (--development)");
  }
  return r;
}

}  // namespace safeshare::gateway
