#include "agents/pki/dev_pki.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "agents/keyring.h"
#include "common/files.h"
#include "envelope/identity_uri.h"
#include "envelope/keys.h"
#include "google/protobuf/text_format.h"
#include "safeshare/v1/directory.pb.h"
#include "transparency/checkpoint.h"
#include "transparency/cosignature.h"

namespace safeshare::agents {
namespace {

namespace fs = std::filesystem;

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Cert = std::unique_ptr<X509, X509Free>;
using Bio = std::unique_ptr<BIO, BioFree>;

absl::Status OpensslError(absl::string_view what) {
  unsigned long e = ERR_get_error();
  char buf[256] = "unknown error";
  if (e != 0) ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return absl::InternalError(absl::StrCat("pki: ", what, ": ", buf));
}

absl::StatusOr<Pkey> NewKey() {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  if (key == nullptr) return OpensslError("generate P-256 key");
  return Pkey(key);
}

struct CertSpec {
  std::string common_name;
  // Subject alternative names, each encoded as one name of its type.
  std::vector<std::string> uri_sans, dns_sans, ip_sans, email_sans;
  bool is_ca = false;
  bool server = false;
  bool development = true;  // the development certificate policy (leaves only)
  absl::Duration not_before_offset = absl::Minutes(-5);  // tolerate clock skew
  absl::Duration validity = kDevelopmentCertificateValidity;
};

// The certificate policies extension naming the development policy.
absl::Status AddDevelopmentPolicy(X509* cert) {
  CERTIFICATEPOLICIES* policies = sk_POLICYINFO_new_null();
  POLICYINFO* info = POLICYINFO_new();
  bool ok = policies != nullptr && info != nullptr;
  if (ok) {
    ASN1_OBJECT_free(info->policyid);
    info->policyid = OBJ_txt2obj(envelope::kDevelopmentCertificatePolicyOid, 1);
    ok = info->policyid != nullptr && sk_POLICYINFO_push(policies, info) > 0;
  }
  if (ok) {
    info = nullptr;  // owned by `policies`
    ok = X509_add1_ext_i2d(cert, NID_certificate_policies, policies, 0, X509V3_ADD_DEFAULT) == 1;
  }
  POLICYINFO_free(info);
  CERTIFICATEPOLICIES_free(policies);
  return ok ? absl::OkStatus() : OpensslError("development certificate policy");
}

// The SAN extension built name by name, never through OpenSSL's extension
// configuration syntax, so no value can add a name or an extension.
absl::Status AddSubjectAltNames(X509* cert, const CertSpec& spec) {
  GENERAL_NAMES* names = sk_GENERAL_NAME_new_null();
  auto add = [&](int type, const std::string& value) -> bool {
    if (type == GEN_IPADD) {
      ASN1_OCTET_STRING* ip = a2i_IPADDRESS(value.c_str());
      GENERAL_NAME* name = ip ? GENERAL_NAME_new() : nullptr;
      if (name == nullptr) {
        ASN1_OCTET_STRING_free(ip);
        return false;
      }
      GENERAL_NAME_set0_value(name, GEN_IPADD, ip);
      return sk_GENERAL_NAME_push(names, name) > 0;
    }
    ASN1_IA5STRING* text = ASN1_IA5STRING_new();
    GENERAL_NAME* name = GENERAL_NAME_new();
    if (text == nullptr || name == nullptr ||
        ASN1_STRING_set(text, value.data(), static_cast<int>(value.size())) != 1) {
      ASN1_IA5STRING_free(text);
      GENERAL_NAME_free(name);
      return false;
    }
    GENERAL_NAME_set0_value(name, type, text);
    return sk_GENERAL_NAME_push(names, name) > 0;
  };
  bool ok = names != nullptr;
  for (const auto& v : spec.uri_sans) ok = ok && add(GEN_URI, v);
  for (const auto& v : spec.dns_sans) ok = ok && add(GEN_DNS, v);
  for (const auto& v : spec.ip_sans) ok = ok && add(GEN_IPADD, v);
  for (const auto& v : spec.email_sans) ok = ok && add(GEN_EMAIL, v);
  ok = ok && X509_add1_ext_i2d(cert, NID_subject_alt_name, names, 0, X509V3_ADD_DEFAULT) == 1;
  GENERAL_NAMES_free(names);
  return ok ? absl::OkStatus() : OpensslError("subject alternative names");
}

absl::Status AddExt(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return OpensslError(absl::StrCat("extension ", value));
  int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return ok == 1 ? absl::OkStatus() : OpensslError("add extension");
}

// Issues a certificate for `key`, signed by issuer_key (self-signed when
// issuer is null).
absl::StatusOr<Cert> Issue(const CertSpec& spec, EVP_PKEY* key, X509* issuer,
                           EVP_PKEY* issuer_key) {
  Cert cert(X509_new());
  if (!cert) return OpensslError("allocate certificate");
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return OpensslError("serial number");
  serial[0] &= 0x7f;  // positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  const int64_t nb = absl::ToInt64Seconds(spec.not_before_offset);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), nb);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), nb + absl::ToInt64Seconds(spec.validity));
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("safeshare federation"), -1, -1,
                             0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(spec.common_name.c_str()), -1,
                             -1, 0);
  X509* signer = issuer ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  if (X509_set_pubkey(cert.get(), key) != 1) return OpensslError("set public key");

  std::vector<std::pair<int, std::string>> exts;
  if (spec.is_ca) {
    exts = {{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
            {NID_key_usage, "critical,keyCertSign,cRLSign"},
            {NID_subject_key_identifier, "hash"}};
  } else {
    exts = {{NID_basic_constraints, "critical,CA:FALSE"},
            {NID_key_usage, "critical,digitalSignature"},
            {NID_ext_key_usage, spec.server ? "serverAuth,clientAuth" : "clientAuth"},
            {NID_subject_key_identifier, "hash"},
            {NID_authority_key_identifier, "keyid"}};
  }
  for (const auto& [nid, value] : exts) {
    if (auto st = AddExt(cert.get(), signer, nid, value); !st.ok()) return st;
  }
  if (!spec.is_ca && spec.development) {
    if (auto st = AddDevelopmentPolicy(cert.get()); !st.ok()) return st;
  }
  if (!spec.uri_sans.empty() || !spec.dns_sans.empty() || !spec.ip_sans.empty() ||
      !spec.email_sans.empty()) {
    if (auto st = AddSubjectAltNames(cert.get(), spec); !st.ok()) return st;
  }
  if (X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256()) == 0) {
    return OpensslError("sign certificate");
  }
  return cert;
}

absl::StatusOr<std::string> CertPem(X509* cert) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_X509(bio.get(), cert) != 1) return OpensslError("encode certificate");
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, len);
}

absl::StatusOr<std::string> KeyPem(EVP_PKEY* key) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return OpensslError("encode private key");
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, len);
}

absl::Status MakeDir(const std::string& dir, mode_t mode) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    return absl::UnavailableError(absl::StrCat("pki: cannot create ", dir, ": ", ec.message()));
  chmod(dir.c_str(), mode);
  return absl::OkStatus();
}

// Writes {ca,cert,key}.pem for one principal into `dir`.
absl::Status WriteIdentity(const std::string& dir, const std::string& ca_pem, const CertSpec& spec,
                           X509* ca, EVP_PKEY* ca_key) {
  if (auto st = MakeDir(dir, 0700); !st.ok()) return st;
  auto key = NewKey();
  if (!key.ok()) return key.status();
  auto cert = Issue(spec, key->get(), ca, ca_key);
  if (!cert.ok()) return cert.status();
  auto cert_pem = CertPem(cert->get());
  if (!cert_pem.ok()) return cert_pem.status();
  auto key_pem = KeyPem(key->get());
  if (!key_pem.ok()) return key_pem.status();
  if (auto st = WriteFileAtomically(dir + "/ca.pem", ca_pem, 0644); !st.ok()) return st;
  if (auto st = WriteFileAtomically(dir + "/cert.pem", *cert_pem, 0644); !st.ok()) return st;
  return WriteFileAtomically(dir + "/key.pem", *key_pem, 0600);
}

struct LoadedCa {
  std::string pem;
  Cert cert;
  Pkey key;
};

// The federation's audit log verifier key, which agents check every
// directory key against (key transparency).
absl::Status WriteAuditLogKey(const std::string& dir, const safeshare::v1::AuditLogIdentity& log) {
  if (log.origin().empty()) return absl::OkStatus();  // a federation file without a log yet
  auto key = transparency::VerifierKey(log.origin(), log.public_key());
  if (!key.ok()) return key.status();
  return WriteFileAtomically(dir + "/audit-log.pub", *key + "\n", 0644);
}

absl::StatusOr<LoadedCa> LoadCa(const std::string& federation_dir) {
  auto pem = ReadFile(federation_dir + "/ca/ca.pem");
  if (!pem.ok()) return pem.status();
  auto key_pem = ReadFile(federation_dir + "/ca/ca.key");
  if (!key_pem.ok()) return key_pem.status();
  Bio cb(BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())));
  Bio kb(BIO_new_mem_buf(key_pem->data(), static_cast<int>(key_pem->size())));
  LoadedCa ca{*pem, Cert(PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr)),
              Pkey(PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr))};
  if (!ca.cert || !ca.key) return OpensslError("read federation CA");
  return ca;
}

struct CrlFree {
  void operator()(X509_CRL* p) const { X509_CRL_free(p); }
};

}  // namespace

absl::Status CreateDevFederation(const std::string& federation_template, const std::string& dir,
                                 bool force) {
  auto text = ReadFile(federation_template);
  if (!text.ok()) return text.status();
  safeshare::v1::Federation federation;
  if (!google::protobuf::TextFormat::ParseFromString(*text, &federation)) {
    return absl::InvalidArgumentError(
        absl::StrCat("pki: ", federation_template, " is not a valid safeshare.v1.Federation"));
  }
  if (!envelope::IsValidFederationId(federation.id())) {
    return absl::InvalidArgumentError(
        absl::StrCat("pki: ", federation_template,
                     ": the federation id must be [a-z0-9-], 1-64 characters (it is the first "
                     "segment of every identity URI)"));
  }
  if (fs::exists(dir + "/ca/ca.key") && !force) {
    return absl::FailedPreconditionError(
        absl::StrCat("pki: ", dir, " already holds a federation CA; pass --force to replace it"));
  }
  if (auto st = MakeDir(dir + "/ca", 0700); !st.ok()) return st;

  auto ca_key = NewKey();
  if (!ca_key.ok()) return ca_key.status();
  CertSpec ca_spec;
  ca_spec.common_name = absl::StrCat(federation.display_name(), " CA");
  ca_spec.is_ca = true;
  ca_spec.validity = absl::Hours(24 * 3650);  // leaves are reissued from it (pki issue)
  auto ca = Issue(ca_spec, ca_key->get(), nullptr, nullptr);
  if (!ca.ok()) return ca.status();
  auto ca_pem = CertPem(ca->get());
  if (!ca_pem.ok()) return ca_pem.status();
  auto ca_key_pem = KeyPem(ca_key->get());
  if (!ca_key_pem.ok()) return ca_key_pem.status();
  if (auto st = WriteFileAtomically(dir + "/ca/ca.pem", *ca_pem, 0644); !st.ok()) return st;
  if (auto st = WriteFileAtomically(dir + "/ca/ca.key", *ca_key_pem, 0600); !st.ok()) return st;

  CertSpec gw;
  gw.common_name = "safeshare gateway";
  gw.server = true;
  gw.dns_sans = {"localhost"};
  gw.ip_sans = {"127.0.0.1", "::1"};
  // What it presents when it calls a peer federation's gateway.
  gw.uri_sans = {absl::StrCat("safeshare://", federation.id(), "/gateway")};
  if (auto st = WriteIdentity(dir + "/gateway", *ca_pem, gw, ca->get(), ca_key->get()); !st.ok()) {
    return st;
  }
  // The gateway's audit checkpoint key; verifiers trust its public half here.
  {
    auto audit_key = envelope::PrivateKey::Generate(envelope::PrivateKey::Type::kSigning);
    if (!audit_key.ok()) return audit_key.status();
    if (auto st = WriteFileAtomically(dir + "/gateway/audit-signing.pem", audit_key->Pem(), 0600);
        !st.ok()) {
      return st;
    }
    auto* log = federation.mutable_audit_log();
    if (log->origin().empty())
      log->set_origin(absl::StrCat("safeshare.", federation.id(), "/audit"));
    log->set_public_key(audit_key->RawPublicKey());
    // What a peer gateway puts in its witnessing.followed_logs.
    auto vkey = transparency::VerifierKey(log->origin(), log->public_key());
    if (!vkey.ok()) return vkey.status();
    if (auto st = WriteFileAtomically(dir + "/gateway/audit-log.vkey", *vkey + "\n", 0644);
        !st.ok()) {
      return st;
    }
  }
  // The gateway's witness key (docs/federation.md): it cosigns peers' logs.
  {
    auto witness_key = envelope::PrivateKey::Generate(envelope::PrivateKey::Type::kSigning);
    if (!witness_key.ok()) return witness_key.status();
    if (auto st =
            WriteFileAtomically(dir + "/gateway/witness-signing.pem", witness_key->Pem(), 0600);
        !st.ok()) {
      return st;
    }
    auto vkey = transparency::WitnessVerifierKey(
        absl::StrCat("safeshare.", federation.id(), "/witness"), witness_key->RawPublicKey());
    if (!vkey.ok()) return vkey.status();
    if (auto st = WriteFileAtomically(dir + "/gateway/witness.vkey", *vkey + "\n", 0644);
        !st.ok()) {
      return st;
    }
  }
  // The federation's subject key (envelope::SubjectReferenceFor): every
  // agency holds it, the gateway and officers do not.
  unsigned char subject_key[32];
  if (RAND_bytes(subject_key, sizeof subject_key) != 1) return OpensslError("subject key");
  const std::string subject_key_hex = absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(subject_key), sizeof subject_key));
  const absl::Time now = absl::Now();
  for (auto& agency : *federation.mutable_agencies()) {
    CertSpec spec;
    spec.common_name = agency.display_name().empty() ? agency.id() : agency.display_name();
    spec.uri_sans = {envelope::AgencyIdentity(federation.id(), agency.id()).ToString()};
    const std::string agency_dir = absl::StrCat(dir, "/agencies/", agency.id());
    if (auto st = WriteIdentity(agency_dir, *ca_pem, spec, ca->get(), ca_key->get()); !st.ok()) {
      return st;
    }
    if (auto st = WriteAuditLogKey(agency_dir, federation.audit_log()); !st.ok()) return st;
    if (auto st = WriteFileAtomically(agency_dir + "/subject.key", subject_key_hex + "\n", 0600);
        !st.ok()) {
      return st;
    }
    // The agency's envelope keys; only their public halves enter the directory.
    agency.clear_keys();
    Keyring ring;
    for (auto type :
         {envelope::PrivateKey::Type::kSigning, envelope::PrivateKey::Type::kEncryption}) {
      auto key = envelope::PrivateKey::Generate(type);
      if (!key.ok()) return key.status();
      if (auto st = ring.Add(agency_dir, *key); !st.ok()) return st;
      *agency.add_keys() = envelope::PublicKeyEntry(*key, now);
    }
  }
  for (const auto& officer : federation.officers()) {
    CertSpec spec;
    spec.common_name = officer.display_name().empty() ? officer.id() : officer.display_name();
    spec.uri_sans = {
        envelope::OfficerIdentity(federation.id(), officer.agency_id(), officer.id()).ToString()};
    const std::string officer_dir =
        absl::StrCat(dir, "/officers/", officer.agency_id(), ".", officer.id());
    if (auto st = WriteIdentity(officer_dir, *ca_pem, spec, ca->get(), ca_key->get()); !st.ok()) {
      return st;
    }
    if (auto st = WriteAuditLogKey(officer_dir, federation.audit_log()); !st.ok()) return st;
  }
  std::string out;
  google::protobuf::TextFormat::PrintToString(federation, &out);
  return WriteFileAtomically(
      dir + "/federation.textproto",
      "# Generated by `safeshare pki init`. Schema: safeshare.v1.Federation.\n" + out, 0644);
}

absl::Status IssueClientCertificate(const std::string& federation_dir,
                                    const std::string& principal_uri, const std::string& out_dir,
                                    const IssueOptions& options) {
  // The whole grammar and nothing more: the URI goes into the certificate
  // verbatim, so nothing but [a-z0-9-] segments may reach it.
  auto identity = envelope::ParseIdentityUri(principal_uri);
  if (!identity.ok() || identity->ToString() != principal_uri) {
    return absl::InvalidArgumentError(absl::StrCat(
        "pki: --principal must be exactly safeshare://<federation-id>/agency/<id> or "
        "safeshare://<federation-id>/officer/<agency>/<id>, each id 1-64 characters of [a-z0-9-]",
        identity.ok() ? "" : absl::StrCat(" (", identity.status().message(), ")")));
  }
  auto text = ReadFile(federation_dir + "/federation.textproto");
  if (!text.ok()) return text.status();
  safeshare::v1::Federation federation;
  if (!google::protobuf::TextFormat::ParseFromString(*text, &federation)) {
    return absl::InvalidArgumentError(
        absl::StrCat("pki: ", federation_dir, "/federation.textproto does not parse"));
  }
  if (identity->federation_id != federation.id()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "pki: --principal names federation '", identity->federation_id, "'; the CA in ",
        federation_dir, " issues for federation '", federation.id(), "'"));
  }
  if (options.validity > kDevelopmentCertificateValidity) {
    return absl::InvalidArgumentError("pki: development certificates live at most 30 days");
  }
  auto ca = LoadCa(federation_dir);
  if (!ca.ok()) return ca.status();
  CertSpec spec;
  spec.common_name = principal_uri;
  spec.uri_sans = {principal_uri};
  spec.uri_sans.insert(spec.uri_sans.end(), options.extra_uri_sans.begin(),
                       options.extra_uri_sans.end());
  spec.dns_sans = options.extra_dns_sans;
  spec.email_sans = options.extra_email_sans;
  spec.development = options.development_marker;
  spec.not_before_offset = options.not_before_offset;
  spec.validity = options.validity;
  if (auto st = WriteIdentity(out_dir, ca->pem, spec, ca->cert.get(), ca->key.get()); !st.ok()) {
    return st;
  }
  return WriteAuditLogKey(out_dir, federation.audit_log());
}

absl::Status IssueClientCertificate(const std::string& federation_dir,
                                    const std::string& principal_uri, const std::string& out_dir,
                                    absl::Duration not_before_offset, absl::Duration validity) {
  IssueOptions options;
  options.not_before_offset = not_before_offset;
  options.validity = validity;
  return IssueClientCertificate(federation_dir, principal_uri, out_dir, options);
}

absl::Status IssueDevelopmentCrl(const std::string& federation_dir,
                                 const std::vector<std::string>& revoked_serials,
                                 const std::string& out_path, absl::Duration this_update_offset,
                                 absl::Duration next_update_offset) {
  auto ca = LoadCa(federation_dir);
  if (!ca.ok()) return ca.status();
  std::unique_ptr<X509_CRL, CrlFree> crl(X509_CRL_new());
  if (!crl || X509_CRL_set_version(crl.get(), 1) != 1 ||
      X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(ca->cert.get())) != 1) {
    return OpensslError("new CRL");
  }
  time_t now = absl::ToTimeT(absl::Now());
  ASN1_TIME* this_update =
      X509_time_adj_ex(nullptr, 0, absl::ToInt64Seconds(this_update_offset), &now);
  ASN1_TIME* next_update =
      X509_time_adj_ex(nullptr, 0, absl::ToInt64Seconds(next_update_offset), &now);
  const bool times = this_update && next_update &&
                     X509_CRL_set1_lastUpdate(crl.get(), this_update) == 1 &&
                     X509_CRL_set1_nextUpdate(crl.get(), next_update) == 1;
  ASN1_TIME_free(this_update);
  ASN1_TIME_free(next_update);
  if (!times) return OpensslError("CRL times");
  for (const std::string& hex : revoked_serials) {
    BIGNUM* bn = nullptr;
    if (hex.empty() || hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos ||
        BN_hex2bn(&bn, hex.c_str()) == 0) {
      BN_free(bn);
      return absl::InvalidArgumentError(absl::StrCat("pki: serial '", hex, "' is not hexadecimal"));
    }
    X509_REVOKED* entry = X509_REVOKED_new();
    ASN1_INTEGER* serial = BN_to_ASN1_INTEGER(bn, nullptr);
    ASN1_TIME* when = X509_time_adj_ex(nullptr, 0, 0, &now);
    BN_free(bn);
    const bool ok = entry && serial && when && X509_REVOKED_set_serialNumber(entry, serial) == 1 &&
                    X509_REVOKED_set_revocationDate(entry, when) == 1 &&
                    X509_CRL_add0_revoked(crl.get(), entry) == 1;
    ASN1_INTEGER_free(serial);
    ASN1_TIME_free(when);
    if (!ok) {
      X509_REVOKED_free(entry);
      return OpensslError("CRL entry");
    }
  }
  if (X509_CRL_sort(crl.get()) != 1 || X509_CRL_sign(crl.get(), ca->key.get(), EVP_sha256()) == 0) {
    return OpensslError("sign CRL");
  }
  Bio bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_X509_CRL(bio.get(), crl.get()) != 1) return OpensslError("encode CRL");
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return WriteFileAtomically(out_path, std::string(data, len), 0644);
}

}  // namespace safeshare::agents
