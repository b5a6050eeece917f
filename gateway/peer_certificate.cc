#include "gateway/peer_certificate.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cmath>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "envelope/identity_uri.h"

namespace safeshare::gateway {
namespace {

struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};

std::string Hex(const unsigned char* data, size_t size) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 0xf]);
  }
  return out;
}

// Upper-case hex, colons dropped, after the last '=' if any.
absl::StatusOr<std::string> HexDigits(absl::string_view text, absl::string_view what) {
  if (size_t eq = text.rfind('='); eq != absl::string_view::npos) text = text.substr(eq + 1);
  std::string out;
  for (char c : absl::StripAsciiWhitespace(text)) {
    if (c == ':') continue;
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError(absl::StrCat(what, " must be hexadecimal"));
    }
    out.push_back(absl::ascii_toupper(static_cast<unsigned char>(c)));
  }
  if (out.empty()) return absl::InvalidArgumentError(absl::StrCat(what, " is empty"));
  return out;
}

bool HasDevelopmentPolicy(X509* cert) {
  auto* policies = static_cast<CERTIFICATEPOLICIES*>(
      X509_get_ext_d2i(cert, NID_certificate_policies, nullptr, nullptr));
  bool found = false;
  for (int i = 0; policies != nullptr && i < sk_POLICYINFO_num(policies); ++i) {
    char oid[128];
    const POLICYINFO* info = sk_POLICYINFO_value(policies, i);
    if (OBJ_obj2txt(oid, sizeof oid, info->policyid, 1) > 0 &&
        absl::string_view(oid) == envelope::kDevelopmentCertificatePolicyOid) {
      found = true;
    }
  }
  CERTIFICATEPOLICIES_free(policies);
  return found;
}

}  // namespace

absl::StatusOr<std::string> NormalizeSerial(absl::string_view text) {
  auto hex = HexDigits(text, "certificate serial");
  if (!hex.ok()) return hex.status();
  size_t first = hex->find_first_not_of('0');
  std::string serial = first == std::string::npos ? "0" : hex->substr(first);
  if (serial.size() > 40) {
    return absl::InvalidArgumentError("certificate serial is longer than 20 octets");
  }
  return serial;
}

absl::StatusOr<std::string> NormalizeFingerprint(absl::string_view text) {
  auto hex = HexDigits(text, "SHA-256 fingerprint");
  if (!hex.ok()) return hex.status();
  if (hex->size() != 64) {
    return absl::InvalidArgumentError("SHA-256 fingerprint must be 32 octets (64 hex digits)");
  }
  return hex;
}

absl::StatusOr<PeerCertificate> ParsePeerCertificate(absl::string_view pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  std::unique_ptr<X509, X509Free> cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)
                                           : nullptr);
  if (!cert) {
    return absl::UnauthenticatedError("the client certificate could not be read");
  }
  PeerCertificate out;
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type != GEN_URI) continue;  // DNS, e-mail and IP SANs are not identities
    const ASN1_IA5STRING* s = name->d.uniformResourceIdentifier;
    std::string uri(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), ASN1_STRING_length(s));
    if (absl::StartsWithIgnoreCase(uri, envelope::kIdentityScheme)) {
      out.identity_uris.push_back(std::move(uri));
    }
  }
  GENERAL_NAMES_free(names);

  BIGNUM* serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert.get()), nullptr);
  char* serial_hex = serial ? BN_bn2hex(serial) : nullptr;
  BN_free(serial);
  if (serial_hex == nullptr) {
    return absl::UnauthenticatedError("the client certificate's serial number could not be read");
  }
  auto normalized = NormalizeSerial(serial_hex);
  OPENSSL_free(serial_hex);
  // A negative serial (which no conforming CA issues) comes out as "-..." and
  // cannot be listed: refuse it rather than let it escape revocation.
  if (!normalized.ok()) {
    return absl::UnauthenticatedError("the client certificate's serial number is malformed");
  }
  out.serial = *std::move(normalized);

  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  if (X509_digest(cert.get(), EVP_sha256(), digest, &digest_len) != 1) {
    return absl::UnauthenticatedError("the client certificate could not be fingerprinted");
  }
  out.sha256_fingerprint = Hex(digest, digest_len);

  unsigned char* issuer = nullptr;
  int issuer_len = i2d_X509_NAME(X509_get_issuer_name(cert.get()), &issuer);
  if (issuer_len <= 0) {
    return absl::UnauthenticatedError("the client certificate's issuer could not be read");
  }
  out.issuer_der.assign(reinterpret_cast<const char*>(issuer), issuer_len);
  OPENSSL_free(issuer);

  out.development = HasDevelopmentPolicy(cert.get());
  for (auto [asn1, out_time] : {std::pair{X509_get0_notBefore(cert.get()), &out.not_before},
                                std::pair{X509_get0_notAfter(cert.get()), &out.not_after}}) {
    struct tm t {};
    if (ASN1_TIME_to_tm(asn1, &t) == 1) *out_time = absl::FromTimeT(timegm(&t));
  }
  return out;
}

int64_t DaysToExpiry(absl::Time not_after, absl::Time now) {
  return static_cast<int64_t>(std::floor(absl::ToDoubleHours(not_after - now) / 24));
}

absl::StatusOr<std::vector<std::string>> SubjectNamesOf(absl::string_view pem_bundle) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem_bundle.data(), static_cast<int>(pem_bundle.size())), BIO_free);
  std::vector<std::string> names;
  while (bio != nullptr) {
    X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (cert == nullptr) break;
    unsigned char* der = nullptr;
    const int len = i2d_X509_NAME(X509_get_subject_name(cert), &der);
    if (len > 0) names.emplace_back(reinterpret_cast<const char*>(der), len);
    OPENSSL_free(der);
    X509_free(cert);
  }
  ERR_clear_error();  // the end of the bundle reads as an error
  if (names.empty()) return absl::InvalidArgumentError("holds no PEM certificate");
  return names;
}

}  // namespace safeshare::gateway
