#include "gateway/certificate_revocations.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/files.h"

namespace safeshare::gateway {
namespace {

struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct CrlFree {
  void operator()(X509_CRL* p) const { X509_CRL_free(p); }
};
using Cert = std::unique_ptr<X509, X509Free>;
using Crl = std::unique_ptr<X509_CRL, CrlFree>;

// Clock skew tolerated between the CA that signed the CRL and this gateway.
constexpr absl::Duration kClockSkew = absl::Minutes(5);

std::vector<Cert> ReadBundle(const std::string& pem) {
  std::vector<Cert> out;
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    out.emplace_back(cert);
  }
  return out;
}

Crl ReadCrl(const std::string& bytes) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())), BIO_free);
  X509_CRL* crl = PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr);
  if (crl == nullptr) {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(bytes.data());
    crl = d2i_X509_CRL(nullptr, &p, static_cast<long>(bytes.size()));
  }
  return Crl(crl);
}

bool ToTime(const ASN1_TIME* t, absl::Time* out) {
  struct tm tm {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return false;
  *out = absl::FromTimeT(timegm(&tm));
  return true;
}

std::string NameDer(const X509_NAME* name) {
  unsigned char* der = nullptr;
  int len = i2d_X509_NAME(name, &der);
  if (len <= 0) return "";
  std::string out(reinterpret_cast<const char*>(der), len);
  OPENSSL_free(der);
  return out;
}

// Reads, verifies and indexes one CRL into `entries`.
absl::Status LoadCrl(const std::string& path, const std::string& ca_bundle_pem, absl::Time now,
                     absl::flat_hash_set<std::string>* entries, absl::Time* next_update) {
  auto bytes = ReadFile(path);
  if (!bytes.ok()) return bytes.status();
  Crl crl = ReadCrl(*bytes);
  if (!crl) {
    return absl::InvalidArgumentError(absl::StrCat("CRL ", path, " is neither PEM nor DER"));
  }
  const X509_NAME* issuer = X509_CRL_get_issuer(crl.get());
  bool verified = false;
  for (const Cert& ca : ReadBundle(ca_bundle_pem)) {
    if (X509_NAME_cmp(X509_get_subject_name(ca.get()), issuer) != 0) continue;
    if ((X509_get_key_usage(ca.get()) & KU_CRL_SIGN) == 0) continue;
    if (X509_CRL_verify(crl.get(), X509_get0_pubkey(ca.get())) == 1) verified = true;
  }
  if (!verified) {
    return absl::InvalidArgumentError(
        absl::StrCat("CRL ", path,
                     " is not signed by any CA in the gateway's trust bundle (tls.ca_cert_file); "
                     "fetch it again from the federation CA"));
  }
  absl::Time this_update, next;
  if (!ToTime(X509_CRL_get0_lastUpdate(crl.get()), &this_update) ||
      this_update > now + kClockSkew) {
    return absl::InvalidArgumentError(
        absl::StrCat("CRL ", path, " has a thisUpdate in the future; check the clocks"));
  }
  if (!ToTime(X509_CRL_get0_nextUpdate(crl.get()), &next)) {
    return absl::InvalidArgumentError(
        absl::StrCat("CRL ", path,
                     " has no nextUpdate, so its freshness cannot be judged; have the CA set one"));
  }
  if (next <= now) {
    return absl::FailedPreconditionError(
        absl::StrCat("CRL ", path, " is stale: its nextUpdate ", absl::FormatTime(next),
                     " has passed; fetch a current CRL from the federation CA and send SIGHUP"));
  }
  *next_update = next;
  const std::string issuer_der = NameDer(issuer);
  STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl.get());
  for (int i = 0; revoked != nullptr && i < sk_X509_REVOKED_num(revoked); ++i) {
    const ASN1_INTEGER* serial = X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revoked, i));
    BIGNUM* bn = ASN1_INTEGER_to_BN(serial, nullptr);
    char* hex = bn ? BN_bn2hex(bn) : nullptr;
    BN_free(bn);
    if (hex == nullptr)
      return absl::InvalidArgumentError(absl::StrCat("CRL ", path, " is corrupt"));
    auto normalized = NormalizeSerial(hex);
    OPENSSL_free(hex);
    if (normalized.ok()) entries->insert(absl::StrCat(issuer_der, "\n", *normalized));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<CertificateRevocations> CertificateRevocations::Load(
    const safeshare::v1::CertificateRevocations& spec, const std::string& base_dir,
    const std::string& ca_bundle_pem, absl::Time now) {
  CertificateRevocations out;
  for (const std::string& text : spec.serials()) {
    auto serial = NormalizeSerial(text);
    if (!serial.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("revoked_certificates.serials '", text, "': ", serial.status().message()));
    }
    out.serials_.insert(*std::move(serial));
  }
  for (const std::string& text : spec.sha256_fingerprints()) {
    auto fingerprint = NormalizeFingerprint(text);
    if (!fingerprint.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("revoked_certificates.sha256_fingerprints '",
                                                     text, "': ", fingerprint.status().message()));
    }
    out.fingerprints_.insert(*std::move(fingerprint));
  }
  if (!spec.crl_file().empty()) {
    const std::string path = PathRelativeTo(base_dir, spec.crl_file());
    if (auto st = LoadCrl(path, ca_bundle_pem, now, &out.crl_entries_, &out.crl_next_update_);
        !st.ok()) {
      return st;
    }
    out.has_crl_ = true;
  }
  return out;
}

absl::Status CertificateRevocations::Check(const PeerCertificate& cert) const {
  if (serials_.contains(cert.serial)) {
    return absl::UnauthenticatedError(absl::StrCat(
        "client certificate serial ", cert.serial,
        " is revoked (federation file, revoked_certificates.serials); ask the federation CA for a "
        "new certificate"));
  }
  if (fingerprints_.contains(cert.sha256_fingerprint)) {
    return absl::UnauthenticatedError(absl::StrCat(
        "client certificate serial ", cert.serial,
        " is revoked (federation file, revoked_certificates.sha256_fingerprints); ask the "
        "federation CA for a new certificate"));
  }
  if (crl_entries_.contains(absl::StrCat(cert.issuer_der, "\n", cert.serial))) {
    return absl::UnauthenticatedError(
        absl::StrCat("client certificate serial ", cert.serial,
                     " is revoked by the federation CA's CRL; ask it for a new certificate"));
  }
  return absl::OkStatus();
}

}  // namespace safeshare::gateway
