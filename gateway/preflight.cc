#include "gateway/preflight.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "common/files.h"
#include "gateway/config.h"
#include "gateway/federation_directory.h"
#include "gateway/peer_certificate.h"
#include "gateway/store/store.h"
#include "policy/policy_registry.h"

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
void CheckValidity(const std::string& what, const std::string& pem, absl::Time now,
                   PreflightReport& r) {
  auto cert = ParsePeerCertificate(pem);
  const int64_t days = cert.ok() ? DaysToExpiry(cert->not_after, now) : 0;
  if (!cert.ok() || cert->not_after == absl::InfinitePast()) {
    r.problems.push_back(absl::StrCat(what, ": its validity cannot be read"));
  } else if (cert->not_after <= now) {
    r.problems.push_back(absl::StrCat(what, " has expired"));
  } else if (cert->not_before > now) {
    r.problems.push_back(absl::StrCat(what, " is not valid yet"));
  } else {
    r.facts.push_back(absl::StrCat(what, ": ", days, " days to expiry"));
    if (cert->not_after - now < kCertificateWarning) {
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
    CheckValidity(absl::StrCat("the CA certificate (", config.tls().ca_cert_file(), ")"), *ca, now,
                  r);
  }
  if (cert == nullptr) {
    r.problems.push_back(absl::StrCat(config.tls().cert_file(), ": no PEM certificate"));
    return;
  }
  CheckValidity(absl::StrCat("the gateway certificate (", config.tls().cert_file(), ")"), *cert_pem,
                now, r);
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
    if (auto key = LoadAuditSigningKey(config.audit_signing_key_file(), f.audit_log()); !key.ok()) {
      r.problems.push_back(std::string(key.status().message()));
    } else {
      r.facts.push_back(absl::StrCat("audit log: ", f.audit_log().origin()));
    }
    if (const auto& w = config.witnessing(); !w.listen_address().empty()) {
      if (auto key = LoadWitnessKey(w.witness_key_file(), f.audit_log()); !key.ok()) {
        r.problems.push_back(std::string(key.status().message()));
      } else {
        r.facts.push_back(
            absl::StrCat("witnessing on ", w.listen_address(), " as ", w.witness_name()));
      }
    }
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
  if (const auto& file = config.witnessing().witness_policy_file(); !file.empty()) {
    if (auto policy = LoadWitnessPolicy(file); !policy.ok()) {
      r.problems.push_back(std::string(policy.status().message()));
    } else {
      r.facts.push_back(absl::StrCat("witness policy: ", policy->witnesses().size(), " witnesses"));
    }
  }
  if (absl::Status st = ProbeStore(config.store()); !st.ok()) {
    r.problems.push_back(absl::StrCat(RedactStoreUri(config.store()), ": ", st.message()));
  } else {
    r.facts.push_back(absl::StrCat("store: ", RedactStoreUri(config.store())));
  }
  if (config.development()) {
    r.warnings.push_back("development certificates are accepted (--development)");
  }
  return r;
}

}  // namespace safeshare::gateway
