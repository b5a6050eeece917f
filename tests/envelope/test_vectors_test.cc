// The published test vectors (docs/test-vectors/envelope-v1.json) for another
// implementation of the envelope. Two things keep them honest:
//  - the file is exactly what this code produces from the inputs below, sealed
//    through the test-only deterministic path (Sealer::SealWith); and
//  - every value in the file is checked again independently of the sealing
//    code: the key agreement and HKDF recomputed here, the signature verified,
//    the payload opened, and each refusal vector refused at the check and with
//    the code it names.
// Regenerate after a deliberate format change with
//   SAFESHARE_WRITE_TEST_VECTORS=1 build/tests/test_vectors_test
// and say so in the change: every other implementation must follow.

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/error_reason.h"
#include "envelope/content.h"
#include "envelope/digest.h"
#include "envelope/envelope_shape.h"
#include "envelope/keys.h"
#include "envelope/sealing.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace safeshare::envelope {

// The one caller of the deterministic path outside sealing.cc.
class TestVectorSealer {
 public:
  static absl::StatusOr<safeshare::v1::SignedEnvelope> Seal(
      safeshare::v1::Envelope header, absl::string_view plaintext, const RecipientKey& recipient,
      const PrivateKey& signing_key, const PrivateKey& ephemeral, absl::string_view nonce) {
    return Sealer::SealWith(std::move(header), plaintext, recipient, signing_key, ephemeral, nonce);
  }
};

namespace {

namespace v1 = safeshare::v1;

constexpr char kVectorsPath[] = SAFESHARE_SOURCE_DIR "/docs/test-vectors/envelope-v1.json";
// The gateway's clock the expected answers assume (created_time is 30 s before).
constexpr char kGatewayTime[] = "2026-09-01T09:00:30Z";
constexpr int64_t kCreatedSeconds = 1788253200;  // 2026-09-01T09:00:00Z

std::string Hex(absl::string_view bytes) { return absl::BytesToHexString(bytes); }
std::string Unhex(absl::string_view hex) { return absl::HexStringToBytes(hex); }

// Test keys are derived from their names, so anyone can see they are not real.
std::string Seed(absl::string_view label) {
  return Sha256(absl::StrCat("safeshare test vector: ", label));
}

std::string Nonce(absl::string_view name) {
  return Seed(absl::StrCat(name, " nonce")).substr(0, kNonceBytes);
}

// Independent of envelope/sealing.cc: the primitives the spec names, called
// here directly, so a vector checks the sealing code rather than repeats it.
struct EvpFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
  void operator()(EVP_KDF* k) const { EVP_KDF_free(k); }
  void operator()(EVP_KDF_CTX* c) const { EVP_KDF_CTX_free(c); }
};
template <typename T>
using Evp = std::unique_ptr<T, EvpFree>;
const unsigned char* U(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

std::string X25519(absl::string_view private_raw, absl::string_view peer_public_raw) {
  Evp<EVP_PKEY> own(
      EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, U(private_raw), private_raw.size()));
  Evp<EVP_PKEY> peer(EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, U(peer_public_raw),
                                                 peer_public_raw.size()));
  Evp<EVP_PKEY_CTX> ctx(own ? EVP_PKEY_CTX_new(own.get(), nullptr) : nullptr);
  std::string out(32, '\0');
  size_t len = out.size();
  const bool ok =
      ctx && peer && EVP_PKEY_derive_init(ctx.get()) == 1 &&
      EVP_PKEY_derive_set_peer(ctx.get(), peer.get()) == 1 &&
      EVP_PKEY_derive(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len) == 1;
  EXPECT_TRUE(ok);
  return out;
}

std::string Hkdf(absl::string_view ikm, absl::string_view salt) {
  Evp<EVP_KDF> kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
  Evp<EVP_KDF_CTX> ctx(kdf ? EVP_KDF_CTX_new(kdf.get()) : nullptr);
  std::string info = "safeshare.v1 payload key";
  std::string ikm_copy(ikm), salt_copy(salt);
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>("SHA256"), 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, ikm_copy.data(), ikm_copy.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt_copy.data(), salt_copy.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info.data(), info.size()),
      OSSL_PARAM_construct_end()};
  std::string out(32, '\0');
  EXPECT_TRUE(ctx && EVP_KDF_derive(ctx.get(), reinterpret_cast<unsigned char*>(out.data()),
                                    out.size(), params) == 1);
  return out;
}

// AES-256-GCM open: C || T with the 16-byte tag last. Empty on a bad tag.
std::optional<std::string> AesGcmOpen(absl::string_view key, absl::string_view nonce,
                                      absl::string_view aad, absl::string_view sealed) {
  if (sealed.size() < 16) return std::nullopt;
  const size_t body = sealed.size() - 16;
  std::string out(body, '\0'), tag(sealed.substr(body));
  Evp<EVP_CIPHER_CTX> ctx(EVP_CIPHER_CTX_new());
  int len = 0, last = 0;
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  const bool ok =
      ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, U(key), U(nonce)) == 1 &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, U(aad), static_cast<int>(aad.size())) == 1 &&
      EVP_DecryptUpdate(ctx.get(), o, &len, U(sealed), static_cast<int>(body)) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, 16, tag.data()) == 1 &&
      EVP_DecryptFinal_ex(ctx.get(), o + len, &last) == 1;
  if (!ok) return std::nullopt;
  return out;
}

// Ed25519 over exactly `bytes` (for an envelope that must not be re-serialized).
std::string SignBytes(absl::string_view bytes, const PrivateKey& key) {
  Evp<EVP_MD_CTX> md(EVP_MD_CTX_new());
  std::string sig(64, '\0');
  size_t len = sig.size();
  EXPECT_TRUE(md && EVP_DigestSignInit(md.get(), nullptr, nullptr, nullptr, key.get()) == 1 &&
              EVP_DigestSign(md.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, U(bytes),
                             bytes.size()) == 1);
  return sig;
}

// ---- A small ordered JSON writer: the file is read by people too. ----------

class Json {
 public:
  static Json Str(absl::string_view s) {
    Json j;
    j.scalar_ = "\"";
    for (char c : s) {
      if (c == '"' || c == '\\') j.scalar_ += '\\';
      if (static_cast<unsigned char>(c) < 0x20) {
        ADD_FAILURE() << "control character in a vector's text";
        continue;
      }
      j.scalar_ += c;
    }
    j.scalar_ += '"';
    return j;
  }
  static Json Raw(std::string rendered) {
    Json j;
    j.scalar_ = std::move(rendered);
    return j;
  }
  static Json Object() {
    Json j;
    j.kind_ = kObject;
    return j;
  }
  static Json Array() {
    Json j;
    j.kind_ = kArray;
    return j;
  }
  Json& Add(absl::string_view key, Json value) {
    members_.emplace_back(std::string(key), std::move(value));
    return *this;
  }
  Json& Add(absl::string_view key, absl::string_view text) { return Add(key, Str(text)); }
  Json& Push(Json value) {
    members_.emplace_back("", std::move(value));
    return *this;
  }
  std::string Render(int indent = 0) const {
    if (kind_ == kScalar) return scalar_;
    const std::string pad(indent + 2, ' ');
    std::string out = kind_ == kObject ? "{" : "[";
    for (size_t i = 0; i < members_.size(); ++i) {
      absl::StrAppend(&out, i == 0 ? "\n" : ",\n", pad);
      if (kind_ == kObject) absl::StrAppend(&out, "\"", members_[i].first, "\": ");
      absl::StrAppend(&out, members_[i].second.Render(indent + 2));
    }
    absl::StrAppend(&out, "\n", std::string(indent, ' '), kind_ == kObject ? "}" : "]");
    return out;
  }

 private:
  enum Kind { kScalar, kObject, kArray };
  Kind kind_ = kScalar;
  std::string scalar_;
  std::vector<std::pair<std::string, Json>> members_;
};

std::string ProtoJson(const google::protobuf::Message& m) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string out;
  EXPECT_TRUE(google::protobuf::util::MessageToJsonString(m, &out, options).ok());
  return out;
}

template <typename M>
M FromText(const std::string& text) {
  M m;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &m)) << text;
  return m;
}

// ---- The inputs ---------------------------------------------------------------

struct TestKey {
  std::string name;
  std::string agency_id;
  PrivateKey::Type type;
  std::string private_raw;
  PrivateKey key() const { return *PrivateKey::FromRaw(type, private_raw); }
};

const std::vector<TestKey>& Keys() {
  static const auto* keys = new std::vector<TestKey>{
      {"hiow-police signing", "hiow-police", PrivateKey::Type::kSigning,
       Seed("hiow-police signing")},
      {"hiow-police encryption", "hiow-police", PrivateKey::Type::kEncryption,
       Seed("hiow-police encryption")},
      {"portsmouth-mash signing", "portsmouth-mash", PrivateKey::Type::kSigning,
       Seed("portsmouth-mash signing")},
      {"portsmouth-mash encryption", "portsmouth-mash", PrivateKey::Type::kEncryption,
       Seed("portsmouth-mash encryption")},
      {"portsmouth-mash encryption, retired", "portsmouth-mash", PrivateKey::Type::kEncryption,
       Seed("portsmouth-mash encryption, retired")},
      {"southsea-academy encryption", "southsea-academy", PrivateKey::Type::kEncryption,
       Seed("southsea-academy encryption")},
  };
  return *keys;
}

const TestKey& KeyNamed(absl::string_view name) {
  for (const auto& k : Keys()) {
    if (k.name == name) return k;
  }
  ADD_FAILURE() << "no test key " << name;
  return Keys()[0];
}

struct Sealing {
  std::string name;
  std::string signer;     // a signing key's name
  std::string sealed_to;  // an encryption key's name
  v1::Envelope header;    // without payload
  v1::SealedContent content;
};

v1::Envelope Header(const std::string& id, v1::MessageKind kind, const std::string& from,
                    const std::string& to, const std::string& declaration_text,
                    const std::string& in_reply_to = "") {
  v1::Envelope e;
  e.set_message_id(id);
  e.set_kind(kind);
  e.set_sender_agency_id(from);
  e.set_recipient_agency_id(to);
  e.mutable_sender_practitioner()->set_id("staff-0001");
  e.mutable_sender_practitioner()->set_role(from == "hiow-police"
                                                ? v1::PRACTITIONER_ROLE_POLICE_OFFICER
                                                : v1::PRACTITIONER_ROLE_MASH_PRACTITIONER);
  e.mutable_created_time()->set_seconds(kCreatedSeconds);
  e.set_in_reply_to(in_reply_to);
  *e.mutable_declaration() = FromText<v1::SharingDeclaration>(declaration_text);
  return e;
}

constexpr char kReferralDeclaration[] = R"(
  purpose: PURPOSE_SAFEGUARDING_REFERRAL lawful_basis: LAWFUL_BASIS_PUBLIC_TASK
  special_category_condition: SPECIAL_CATEGORY_CONDITION_SAFEGUARDING_SCH1_PARA18
  statutory_gateway: STATUTORY_GATEWAY_CHILDREN_ACT_2004_S11
  consent_status: CONSENT_STATUS_NOT_SOUGHT
  consent_not_sought_reason: CONSENT_NOT_SOUGHT_REASON_WOULD_INCREASE_RISK
  not_informed_reason: NOT_INFORMED_REASON_WOULD_INCREASE_RISK
  data_categories: [DATA_CATEGORY_IDENTITY, DATA_CATEGORY_CONCERN_DETAILS,
                    DATA_CATEGORY_DOMESTIC_ABUSE]
  necessity_justification: "The front door needs the incident to decide on a strategy discussion."
  threshold_level: THRESHOLD_LEVEL_4_CHILDRENS_SOCIAL_CARE urgency: URGENCY_URGENT
  consistent_identifier: CONSISTENT_IDENTIFIER_STATUS_INCLUDED)";

constexpr char kReferralContent[] = R"(referral { record {
  child { given_names: "Test" family_name: "Child" date_of_birth: "2017-03-14"
          nhs_number: "943 476 5919" }
  concern_details: "Test vector text: not about a real child."
  domestic_abuse: "Test vector text: an incident at the home address." } })";

std::vector<Sealing> Sealings() {
  std::vector<Sealing> out;
  out.push_back({"referral", "hiow-police signing", "portsmouth-mash encryption",
                 Header("tv-referral-1", v1::MESSAGE_KIND_REFERRAL, "hiow-police",
                        "portsmouth-mash", kReferralDeclaration),
                 FromText<v1::SealedContent>(kReferralContent)});
  out.push_back({"information-request", "portsmouth-mash signing", "hiow-police encryption",
                 Header("tv-request-1", v1::MESSAGE_KIND_INFORMATION_REQUEST, "portsmouth-mash",
                        "hiow-police", R"(
  purpose: PURPOSE_S47_ENQUIRY lawful_basis: LAWFUL_BASIS_PUBLIC_TASK
  statutory_gateway: STATUTORY_GATEWAY_CHILDREN_ACT_1989_S47
  consent_status: CONSENT_STATUS_NOT_SOUGHT
  consent_not_sought_reason: CONSENT_NOT_SOUGHT_REASON_WOULD_INCREASE_RISK
  not_informed_reason: NOT_INFORMED_REASON_WOULD_INCREASE_RISK
  data_categories: [DATA_CATEGORY_IDENTITY, DATA_CATEGORY_CONCERN_DETAILS]
  requested_categories: [DATA_CATEGORY_CONCERN_DETAILS, DATA_CATEGORY_CRIMINAL_OFFENCE]
  necessity_justification: "A s47 enquiry needs what the police hold about the household."
  urgency: URGENCY_URGENT)"),
                 FromText<v1::SealedContent>(R"(information_request {
  child { given_names: "Test" family_name: "Child" date_of_birth: "2017-03-14" }
  questions: "Test vector text: what is known about the adults at the address?" })")});
  out.push_back({"information-response", "hiow-police signing", "portsmouth-mash encryption",
                 Header("tv-response-1", v1::MESSAGE_KIND_INFORMATION_RESPONSE, "hiow-police",
                        "portsmouth-mash", R"(
  purpose: PURPOSE_S47_ENQUIRY lawful_basis: LAWFUL_BASIS_PUBLIC_TASK
  criminal_offence_condition: CRIMINAL_OFFENCE_CONDITION_SAFEGUARDING_SCH1_PARA18
  statutory_gateway: STATUTORY_GATEWAY_CHILDREN_ACT_1989_S47
  consent_status: CONSENT_STATUS_NOT_SOUGHT
  consent_not_sought_reason: CONSENT_NOT_SOUGHT_REASON_WOULD_INCREASE_RISK
  not_informed_reason: NOT_INFORMED_REASON_WOULD_INCREASE_RISK
  data_categories: [DATA_CATEGORY_CONCERN_DETAILS, DATA_CATEGORY_CRIMINAL_OFFENCE]
  necessity_justification: "Answers the enquiry's questions and nothing more."
  urgency: URGENCY_URGENT)",
                        "tv-request-1"),
                 FromText<v1::SealedContent>(R"(information_response { record {
  concern_details: "Test vector text: two call-outs this year."
  criminal_offence: "Test vector text: one caution, 2025." } })")});
  out.push_back({"decline-to-share", "hiow-police signing", "portsmouth-mash encryption",
                 Header("tv-decline-1", v1::MESSAGE_KIND_DECLINE_TO_SHARE, "hiow-police",
                        "portsmouth-mash", R"(
  purpose: PURPOSE_S47_ENQUIRY lawful_basis: LAWFUL_BASIS_PUBLIC_TASK
  consent_status: CONSENT_STATUS_NOT_SOUGHT
  consent_not_sought_reason: CONSENT_NOT_SOUGHT_REASON_WOULD_INCREASE_RISK
  not_informed_reason: NOT_INFORMED_REASON_WOULD_INCREASE_RISK
  data_categories: [DATA_CATEGORY_CONCERN_DETAILS]
  necessity_justification: "Recording why nothing is shared."
  decline_reasons: [DECLINE_REASON_NO_INFORMATION_HELD])",
                        "tv-request-1"),
                 FromText<v1::SealedContent>(
                     R"(decline { explanation: "Test vector text: no record held." })")});
  out.push_back(
      {"outcome", "portsmouth-mash signing", "hiow-police encryption",
       Header("tv-outcome-1", v1::MESSAGE_KIND_OUTCOME, "portsmouth-mash", "hiow-police", R"(
  purpose: PURPOSE_SAFEGUARDING_REFERRAL lawful_basis: LAWFUL_BASIS_PUBLIC_TASK
  consent_status: CONSENT_STATUS_NOT_SOUGHT
  consent_not_sought_reason: CONSENT_NOT_SOUGHT_REASON_WOULD_INCREASE_RISK
  not_informed_reason: NOT_INFORMED_REASON_WOULD_INCREASE_RISK
  data_categories: [DATA_CATEGORY_SOCIAL_CARE_HISTORY]
  necessity_justification: "Tells the referrer what was decided."
  outcome_decision: OUTCOME_DECISION_STRATEGY_DISCUSSION)",
              "tv-referral-1"),
       FromText<v1::SealedContent>(
           R"(outcome { summary: "Test vector text: strategy discussion held." })")});
  out.push_back({"operation-encompass", "hiow-police signing", "southsea-academy encryption",
                 Header("tv-encompass-1", v1::MESSAGE_KIND_OPERATION_ENCOMPASS, "hiow-police",
                        "southsea-academy", R"(
  purpose: PURPOSE_OPERATION_ENCOMPASS lawful_basis: LAWFUL_BASIS_PUBLIC_TASK
  special_category_condition: SPECIAL_CATEGORY_CONDITION_SAFEGUARDING_SCH1_PARA18
  consent_status: CONSENT_STATUS_NOT_SOUGHT
  consent_not_sought_reason: CONSENT_NOT_SOUGHT_REASON_WOULD_INCREASE_RISK
  not_informed_reason: NOT_INFORMED_REASON_WOULD_INCREASE_RISK
  data_categories: [DATA_CATEGORY_IDENTITY, DATA_CATEGORY_DOMESTIC_ABUSE,
                    DATA_CATEGORY_CONCERN_DETAILS]
  necessity_justification: "The school's key adult can support the child tomorrow."
  urgency: URGENCY_URGENT)"),
                 FromText<v1::SealedContent>(R"(operation_encompass {
  child { given_names: "Test" family_name: "Child" date_of_birth: "2017-03-14" }
  incident_time: "2026-08-31T22:40:00+01:00" involvement: INVOLVEMENT_WITNESSED
  incident_summary: "Test vector text: a domestic incident, child present."
  officer_contact: "Test vector text: the attending officer's desk number." })")});
  return out;
}

RecipientKey PublicOf(const TestKey& k) {
  const std::string raw = k.key().RawPublicKey();
  return {KeyIdOf(raw), raw};
}

v1::SignedEnvelope Seal(const Sealing& s, v1::Envelope header, const std::string& plaintext) {
  auto ephemeral =
      PrivateKey::FromRaw(PrivateKey::Type::kEncryption, Seed(absl::StrCat(s.name, " ephemeral")));
  EXPECT_TRUE(ephemeral.ok());
  auto sealed =
      TestVectorSealer::Seal(std::move(header), plaintext, PublicOf(KeyNamed(s.sealed_to)),
                             KeyNamed(s.signer).key(), *ephemeral, Nonce(s.name));
  EXPECT_TRUE(sealed.ok()) << sealed.status();
  return sealed.ok() ? *sealed : v1::SignedEnvelope();
}

// ---- Refusal vectors: what a verifier must refuse, and where. --------------

struct Expected {
  std::string code;    // absl::StatusCodeToString, or "OK"
  std::string reason;  // gateway: the ErrorInfo reason; recipient: the ContentRefusalReason
};

struct Refusal {
  std::string name;
  std::string description;
  std::string check;  // the spec's check ids (docs/envelope-format.md, section 6)
  Expected gateway;
  Expected recipient;
  std::function<v1::SignedEnvelope()> build;
};

v1::Envelope Parsed(const v1::SignedEnvelope& s) {
  v1::Envelope e;
  EXPECT_TRUE(e.ParseFromString(s.envelope_bytes()));
  return e;
}

v1::SignedEnvelope Resign(const v1::Envelope& e, const std::string& signer) {
  auto s = SignEnvelope(e, KeyNamed(signer).key());
  EXPECT_TRUE(s.ok());
  return *s;
}

std::vector<Refusal> Refusals() {
  const Sealing referral = Sealings()[0];
  auto good = [referral] {
    return Seal(referral, referral.header, referral.content.SerializeAsString());
  };
  auto with_header = [referral](std::function<void(v1::Envelope&)> change) {
    return [referral, change] {
      v1::Envelope h = referral.header;
      change(h);
      return Seal(referral, h, referral.content.SerializeAsString());
    };
  };
  auto with_content = [referral](const std::string& text) {
    return [referral, text] {
      return Seal(referral, referral.header, FromText<v1::SealedContent>(text).SerializeAsString());
    };
  };
  const std::string police = "hiow-police signing";
  return {
      {"signature-bit-flipped",
       "the referral with bit 0 of the signature's first byte flipped",
       "G9g, R9",
       {"UNAUTHENTICATED", "SIGNATURE_INVALID"},
       {"UNAUTHENTICATED", "BAD_SIGNATURE"},
       [good] {
         v1::SignedEnvelope s = good();
         (*s.mutable_signature())[0] ^= 0x01;
         return s;
       }},
      {"envelope-bit-flipped",
       "the referral with one bit of the ciphertext flipped inside envelope_bytes, not signed "
       "again",
       "G9g, R9",
       {"UNAUTHENTICATED", "SIGNATURE_INVALID"},
       {"UNAUTHENTICATED", "BAD_SIGNATURE"},
       [good] {
         v1::SignedEnvelope s = good();
         (*s.mutable_envelope_bytes())[s.envelope_bytes().size() - 5] ^= 0x01;
         return s;
       }},
      {"ciphertext-bit-flipped-and-signed-again",
       "one bit of the ciphertext flipped and the envelope signed again by the sender: the "
       "gateway cannot tell (it never opens the payload); the AES-GCM tag fails at the recipient",
       "R11",
       {"OK", ""},
       {"INVALID_ARGUMENT", "UNDECRYPTABLE"},
       [good, police] {
         v1::Envelope e = Parsed(good());
         (*e.mutable_payload()->mutable_ciphertext())[3] ^= 0x01;
         return Resign(e, police);
       }},
      {"header-changed-and-signed-again",
       "the practitioner id changed after sealing and the envelope signed again: the header is "
       "the associated data, so the tag fails at the recipient",
       "R11",
       {"OK", ""},
       {"INVALID_ARGUMENT", "UNDECRYPTABLE"},
       [good, police] {
         v1::Envelope e = Parsed(good());
         e.mutable_sender_practitioner()->set_id("staff-0002");
         return Resign(e, police);
       }},
      {"sealed-to-a-retired-key",
       "sealed to a key of the recipient that is no longer current: the gateway refuses it; a "
       "recipient that no longer holds that key cannot open it",
       "G9i, R10",
       {"FAILED_PRECONDITION", "RECIPIENT_KEY_NOT_CURRENT"},
       {"FAILED_PRECONDITION", "UNDECRYPTABLE"},
       [referral] {
         Sealing s = referral;
         s.sealed_to = "portsmouth-mash encryption, retired";
         return Seal(s, s.header, s.content.SerializeAsString());
       }},
      {"undeclared-category",
       "the content carries HEALTH, which the declaration does not list",
       "R14",
       {"OK", ""},
       {"FAILED_PRECONDITION", "UNDECLARED_CATEGORY"},
       with_content(R"(referral { record { child { given_names: "Test" nhs_number: "943 476 5919" }
              concern_details: "Test vector text." health: "Test vector text." } })")},
      {"content-of-another-kind",
       "a REFERRAL whose content is an information request",
       "R13",
       {"OK", ""},
       {"FAILED_PRECONDITION", "MALFORMED_CONTENT"},
       with_content(R"(information_request { questions: "Test vector text." })")},
      {"invalid-nhs-number",
       "the child's NHS number fails its modulus-11 check",
       "R15",
       {"OK", ""},
       {"INVALID_ARGUMENT", "INVALID_IDENTIFIER"},
       with_content(R"(referral { record { child { given_names: "Test" nhs_number: "943 476 5918" }
              concern_details: "Test vector text." } })")},
      {"reserved-message-id",
       "a message id beginning gw-, the gateway's own prefix",
       "G3",
       {"INVALID_ARGUMENT", "ENVELOPE_MALFORMED"},
       {"OK", ""},
       with_header([](v1::Envelope& h) { h.set_message_id("gw-tv-1"); })},
      {"recipient-is-sender",
       "addressed to the sending agency itself",
       "G3",
       {"INVALID_ARGUMENT", "ENVELOPE_MALFORMED"},
       {"FAILED_PRECONDITION", "MALFORMED_CONTENT"},
       with_header([](v1::Envelope& h) { h.set_recipient_agency_id("hiow-police"); })},
      {"unknown-field",
       "envelope_bytes carry field 127, which safeshare.v1 does not define",
       "G2, R1",
       {"INVALID_ARGUMENT", "ENVELOPE_MALFORMED"},
       {"INVALID_ARGUMENT", "MALFORMED_CONTENT"},
       [good, police] {
         v1::SignedEnvelope s = good();
         s.mutable_envelope_bytes()->append(std::string("\xf8\x07\x01", 3));  // field 127 = 1
         s.set_signature(SignBytes(s.envelope_bytes(), KeyNamed(police).key()));
         return s;
       }},
      {"short-nonce",
       "an 11-byte nonce",
       "G4, R2",
       {"INVALID_ARGUMENT", "ENVELOPE_MALFORMED"},
       {"INVALID_ARGUMENT", "MALFORMED_CONTENT"},
       [good, police] {
         v1::Envelope e = Parsed(good());
         e.mutable_payload()->mutable_nonce()->pop_back();
         return Resign(e, police);
       }},
      {"created-time-in-the-future",
       "dated ten minutes after the gateway's clock",
       "G9k",
       {"INVALID_ARGUMENT", "CREATED_TIME_IN_FUTURE"},
       {"OK", ""},
       with_header(
           [](v1::Envelope& h) { h.mutable_created_time()->set_seconds(kCreatedSeconds + 630); })},
      {"created-time-too-old",
       "dated 25 hours before the gateway's clock",
       "G9k",
       {"INVALID_ARGUMENT", "CREATED_TIME_TOO_OLD"},
       {"OK", ""},
       with_header([](v1::Envelope& h) {
         h.mutable_created_time()->set_seconds(kCreatedSeconds + 30 - 25 * 3600);
       })},
  };
}

// ---- The checks, in the spec's order (section 6) ------------------------------

absl::Time GatewayTime() {
  absl::Time t;
  std::string err;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, kGatewayTime, &t, &err)) << err;
  return t;
}

Expected Outcome(const absl::Status& st, const std::string& reason) {
  if (st.ok()) return {"OK", ""};
  return {absl::StatusCodeToString(st.code()), reason};
}

// The gateway's checks that need no store: G2-G4, G9a (against the sender's
// one key), G9g, G9i (against the recipient's current key) and G9k.
Expected GatewayChecks(const v1::SignedEnvelope& s, const TestKey& sender,
                       const TestKey& recipient) {
  auto reason_of = [](const absl::Status& st) {
    auto info = ReasonOf(st);
    return info.has_value() ? info->reason() : std::string("(none)");
  };
  auto e = ParseEnvelope(s.envelope_bytes());
  if (!e.ok()) return Outcome(e.status(), reason_of(e.status()));
  absl::Status st = ValidateEnvelopeShape(*e);
  if (st.ok()) st = ValidateSealedShape(s, *e);
  if (!st.ok()) return Outcome(st, reason_of(st));
  const std::string sender_raw = sender.key().RawPublicKey();
  if (s.signing_key_id() != KeyIdOf(sender_raw)) return {"UNAUTHENTICATED", "SIGNING_KEY_UNKNOWN"};
  st = VerifySignature(s, sender_raw);
  if (!st.ok()) return Outcome(st, reason_of(st));
  if (e->payload().recipient_key_id() != PublicOf(recipient).key_id) {
    return {"FAILED_PRECONDITION", "RECIPIENT_KEY_NOT_CURRENT"};
  }
  st = CheckCreatedTime(*e, GatewayTime());
  return Outcome(st, reason_of(st));
}

// The recipient's agent's checks R1-R4 and R9-R15, with the refusal reason
// section 6.4 gives for each (R5-R8 need the sender's verified directory entry).
Expected RecipientChecks(const v1::SignedEnvelope& s, const TestKey& sender,
                         const TestKey& recipient) {
  auto e = ParseEnvelope(s.envelope_bytes());
  if (!e.ok()) return Outcome(e.status(), "MALFORMED_CONTENT");
  if (auto st = ValidateSealedShape(s, *e); !st.ok()) return Outcome(st, "MALFORMED_CONTENT");
  if (!IsValidMessageId(e->message_id())) return {"INVALID_ARGUMENT", "MALFORMED_CONTENT"};
  if (e->recipient_agency_id() != recipient.agency_id) {
    return {"FAILED_PRECONDITION", "MALFORMED_CONTENT"};
  }
  if (auto st = VerifySignature(s, sender.key().RawPublicKey()); !st.ok()) {
    return Outcome(st, "BAD_SIGNATURE");
  }
  // The recipient's keyring holds only its current key.
  if (e->payload().recipient_key_id() != PublicOf(recipient).key_id) {
    return {"FAILED_PRECONDITION", "UNDECRYPTABLE"};
  }
  auto plaintext = DecryptPayload(*e, recipient.key());
  if (!plaintext.ok()) return Outcome(plaintext.status(), "UNDECRYPTABLE");
  auto content = ParseContent(*plaintext);
  if (!content.ok()) return Outcome(content.status(), "MALFORMED_CONTENT");
  absl::Status st = CheckContentAgainstDeclaration(*content, e->kind(), e->declaration());
  if (st.ok()) return {"OK", ""};
  // As the reference agent reports them (section 6.4).
  auto check = ReasonOf(st);
  return Outcome(st, check.has_value() ? check->reason() : "MALFORMED_CONTENT");
}

// ---- The file -----------------------------------------------------------------

Json KeyJson(const TestKey& k) {
  const std::string pub = k.key().RawPublicKey();
  return std::move(Json::Object()
                       .Add("name", k.name)
                       .Add("agency_id", k.agency_id)
                       .Add("purpose", k.type == PrivateKey::Type::kSigning
                                           ? "KEY_PURPOSE_SIGNING (Ed25519)"
                                           : "KEY_PURPOSE_ENCRYPTION (X25519)")
                       .Add("private_key", Hex(k.private_raw))
                       .Add("public_key", Hex(pub))
                       .Add("key_id", KeyIdOf(pub)));
}

Json SealingJson(const Sealing& s) {
  const TestKey& to = KeyNamed(s.sealed_to);
  const std::string plaintext = s.content.SerializeAsString();
  const v1::SignedEnvelope sealed = Seal(s, s.header, plaintext);
  const v1::Envelope e = Parsed(sealed);
  const std::string eph_priv = Seed(absl::StrCat(s.name, " ephemeral"));
  const std::string eph_pub = e.payload().ephemeral_public_key();
  const std::string recipient_pub = to.key().RawPublicKey();
  return std::move(
      Json::Object()
          .Add("name", s.name)
          .Add("kind", v1::MessageKind_Name(s.header.kind()))
          .Add("signing_key", s.signer)
          .Add("encryption_key", s.sealed_to)
          .Add("header", Json::Raw(ProtoJson(s.header)))
          .Add("content", Json::Raw(ProtoJson(s.content)))
          .Add("plaintext", Hex(plaintext))
          .Add("ephemeral_private_key", Hex(eph_priv))
          .Add("ephemeral_public_key", Hex(eph_pub))
          .Add("shared_secret", Hex(X25519(eph_priv, recipient_pub)))
          .Add("hkdf_salt", Hex(eph_pub + recipient_pub))
          .Add("hkdf_info", Hex("safeshare.v1 payload key"))
          .Add("payload_key", Hex(Hkdf(X25519(eph_priv, recipient_pub), eph_pub + recipient_pub)))
          .Add("nonce", Hex(e.payload().nonce()))
          .Add("associated_data", Hex(HeaderAssociatedData(e)))
          .Add("ciphertext", Hex(e.payload().ciphertext()))
          .Add("envelope_bytes", Hex(sealed.envelope_bytes()))
          .Add("signature", Hex(sealed.signature()))
          .Add("signing_key_id", sealed.signing_key_id())
          .Add("signed_envelope", Hex(sealed.SerializeAsString())));
}

std::string BuildFile() {
  Json keys = Json::Array();
  for (const auto& k : Keys()) keys.Push(KeyJson(k));
  Json sealings = Json::Array();
  for (const auto& s : Sealings()) sealings.Push(SealingJson(s));
  Json refusals = Json::Array();
  for (const auto& r : Refusals()) {
    auto expected = [](const Expected& x) {
      return std::move(Json::Object().Add("code", x.code).Add("reason", x.reason));
    };
    refusals.Push(std::move(Json::Object()
                                .Add("name", r.name)
                                .Add("description", r.description)
                                .Add("checks", r.check)
                                .Add("signing_key", "hiow-police signing")
                                .Add("encryption_key", "portsmouth-mash encryption")
                                .Add("gateway", expected(r.gateway))
                                .Add("recipient", expected(r.recipient))
                                .Add("signed_envelope", Hex(r.build().SerializeAsString()))));
  }
  return Json::Object()
             .Add("format",
                  "safeshare.v1 sealed envelope test vectors (docs/test-vectors/README.md)")
             .Add("warning",
                  "every private key here is public: derived from its name, for tests only")
             .Add("gateway_time", kGatewayTime)
             .Add("keys", std::move(keys))
             .Add("sealings", std::move(sealings))
             .Add("refusals", std::move(refusals))
             .Render() +
         "\n";
}

// ---- Reading the file back ------------------------------------------------------

const google::protobuf::Value& At(const google::protobuf::Struct& s, const std::string& key) {
  static const google::protobuf::Value* none = new google::protobuf::Value();
  auto it = s.fields().find(key);
  EXPECT_NE(it, s.fields().end()) << key;
  return it == s.fields().end() ? *none : it->second;
}
std::string Text(const google::protobuf::Struct& s, const std::string& key) {
  return At(s, key).string_value();
}
std::string Bytes(const google::protobuf::Struct& s, const std::string& key) {
  return Unhex(Text(s, key));
}
template <typename M>
M FromJsonValue(const google::protobuf::Value& v) {
  std::string json;
  EXPECT_TRUE(google::protobuf::util::MessageToJsonString(v, &json).ok());
  M m;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &m).ok()) << json;
  return m;
}

std::string ReadFile() {
  std::ifstream in(kVectorsPath);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

google::protobuf::Struct LoadFile() {
  google::protobuf::Struct file;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(ReadFile(), &file).ok());
  return file;
}

// The keys by name, as the file gives them.
std::map<std::string, TestKey> FileKeys(const google::protobuf::Struct& file) {
  std::map<std::string, TestKey> keys;
  for (const auto& v : At(file, "keys").list_value().values()) {
    const auto& k = v.struct_value();
    const bool signing = Text(k, "purpose").rfind("KEY_PURPOSE_SIGNING", 0) == 0;
    TestKey key{Text(k, "name"), Text(k, "agency_id"),
                signing ? PrivateKey::Type::kSigning : PrivateKey::Type::kEncryption,
                Bytes(k, "private_key")};
    // The public half and its id follow from the private key (section 2.1).
    EXPECT_EQ(key.key().RawPublicKey(), Bytes(k, "public_key")) << key.name;
    EXPECT_EQ(KeyIdOf(Bytes(k, "public_key")), Text(k, "key_id")) << key.name;
    EXPECT_EQ(Text(k, "key_id"), Hex(Sha256(Bytes(k, "public_key")).substr(0, 16)))
        << "key id = hex of the first 16 bytes of SHA-256(public key)";
    keys.emplace(key.name, std::move(key));
  }
  return keys;
}

TEST(TestVectors, TheFileIsExactlyWhatTheCodeProduces) {
  const std::string built = BuildFile();
  if (std::getenv("SAFESHARE_WRITE_TEST_VECTORS") != nullptr) {
    std::ofstream(kVectorsPath) << built;
    GTEST_SKIP() << "wrote " << kVectorsPath;
  }
  const std::string file = ReadFile();
  if (file == built) return;
  // The first line that differs, not two 50 KB strings.
  std::istringstream a(file), b(built);
  std::string in_file, in_code;
  int line = 0;
  while (std::getline(a, in_file) && std::getline(b, in_code) && in_file == in_code) ++line;
  ADD_FAILURE() << "docs/test-vectors/envelope-v1.json no longer matches the code, from line "
                << line + 1 << ":\n  file: " << in_file.substr(0, 160)
                << "\n  code: " << in_code.substr(0, 160)
                << "\nIf the format changed on purpose, regenerate it with "
                   "SAFESHARE_WRITE_TEST_VECTORS=1 build/tests/test_vectors_test, and tell every "
                   "other implementation.";
}

TEST(TestVectors, EverySealingRecomputesOpensAndPassesEveryCheck) {
  const google::protobuf::Struct file = LoadFile();
  const auto keys = FileKeys(file);
  ASSERT_EQ(keys.size(), Keys().size());
  int kinds = 0;
  for (const auto& v : At(file, "sealings").list_value().values()) {
    const auto& x = v.struct_value();
    SCOPED_TRACE(Text(x, "name"));
    const TestKey& signer = keys.at(Text(x, "signing_key"));
    const TestKey& to = keys.at(Text(x, "encryption_key"));
    const std::string recipient_pub = to.key().RawPublicKey();

    // The wire form and what it carries.
    v1::SignedEnvelope signed_envelope;
    ASSERT_TRUE(signed_envelope.ParseFromString(Bytes(x, "signed_envelope")));
    EXPECT_EQ(signed_envelope.envelope_bytes(), Bytes(x, "envelope_bytes"));
    EXPECT_EQ(signed_envelope.signature(), Bytes(x, "signature"));
    EXPECT_EQ(signed_envelope.signing_key_id(), Text(x, "signing_key_id"));
    EXPECT_EQ(signed_envelope.signing_key_id(), signer.key().KeyId());
    EXPECT_TRUE(VerifySignature(signed_envelope, signer.key().RawPublicKey()).ok());
    v1::Envelope e;
    ASSERT_TRUE(e.ParseFromString(signed_envelope.envelope_bytes()));
    EXPECT_EQ(v1::MessageKind_Name(e.kind()), Text(x, "kind"));
    v1::Envelope header = e;
    header.clear_payload();
    EXPECT_EQ(header.SerializeAsString(),
              FromJsonValue<v1::Envelope>(At(x, "header")).SerializeAsString());
    // The envelope bytes are the canonical (deterministic) encoding (3.4).
    std::string canonical;
    {
      google::protobuf::io::StringOutputStream stream(&canonical);
      google::protobuf::io::CodedOutputStream coded(&stream);
      coded.SetSerializationDeterministic(true);
      ASSERT_TRUE(e.SerializeToCodedStream(&coded));
    }
    EXPECT_EQ(signed_envelope.envelope_bytes(), canonical);

    // Sealing (4.1), step by step, recomputed here.
    const std::string eph_priv = Bytes(x, "ephemeral_private_key");
    const std::string eph_pub = Bytes(x, "ephemeral_public_key");
    EXPECT_EQ(PrivateKey::FromRaw(PrivateKey::Type::kEncryption, eph_priv)->RawPublicKey(),
              eph_pub);
    EXPECT_EQ(e.payload().ephemeral_public_key(), eph_pub);
    EXPECT_EQ(e.payload().recipient_key_id(), KeyIdOf(recipient_pub));
    const std::string z = X25519(eph_priv, recipient_pub);
    EXPECT_EQ(Hex(z), Text(x, "shared_secret"));
    EXPECT_EQ(X25519(to.private_raw, eph_pub), z) << "both sides agree";
    EXPECT_EQ(Bytes(x, "hkdf_salt"), eph_pub + recipient_pub);
    EXPECT_EQ(Bytes(x, "hkdf_info"), "safeshare.v1 payload key");
    const std::string k = Hkdf(z, eph_pub + recipient_pub);
    EXPECT_EQ(Hex(k), Text(x, "payload_key"));
    EXPECT_EQ(e.payload().nonce(), Bytes(x, "nonce"));
    EXPECT_EQ(Hex(HeaderAssociatedData(e)), Text(x, "associated_data"));
    // A, recomputed here rather than by the sealing code: the envelope with
    // payload.ciphertext cleared, in the canonical encoding (3.4).
    v1::Envelope without_ciphertext = e;
    without_ciphertext.mutable_payload()->clear_ciphertext();
    std::string a;
    {
      google::protobuf::io::StringOutputStream stream(&a);
      google::protobuf::io::CodedOutputStream coded(&stream);
      coded.SetSerializationDeterministic(true);
      ASSERT_TRUE(without_ciphertext.SerializeToCodedStream(&coded));
    }
    EXPECT_EQ(Hex(a), Text(x, "associated_data"));
    EXPECT_EQ(e.payload().ciphertext(), Bytes(x, "ciphertext"));
    const auto opened =
        AesGcmOpen(k, Bytes(x, "nonce"), Bytes(x, "associated_data"), Bytes(x, "ciphertext"));
    ASSERT_TRUE(opened.has_value());
    EXPECT_EQ(*opened, Bytes(x, "plaintext"));

    // Opening through the reference code gives the same content, which is the
    // content the file shows, and it passes every check.
    auto plaintext = DecryptPayload(e, to.key());
    ASSERT_TRUE(plaintext.ok()) << plaintext.status();
    EXPECT_EQ(*plaintext, Bytes(x, "plaintext"));
    auto content = ParseContent(*plaintext);
    ASSERT_TRUE(content.ok());
    EXPECT_EQ(content->SerializeAsString(),
              FromJsonValue<v1::SealedContent>(At(x, "content")).SerializeAsString());
    EXPECT_EQ(static_cast<int>(content->content_case()), static_cast<int>(e.kind()))
        << "the content field's number is the kind's (5.1)";
    EXPECT_EQ(GatewayChecks(signed_envelope, signer, to).code, "OK");
    EXPECT_EQ(RecipientChecks(signed_envelope, signer, to).code, "OK");
    ++kinds;
  }
  EXPECT_EQ(kinds, 6) << "one sealing for each kind an agency may send";
}

TEST(TestVectors, EveryRefusalIsRefusedWhereAndHowTheFileSays) {
  const google::protobuf::Struct file = LoadFile();
  const auto keys = FileKeys(file);
  int refusals = 0;
  for (const auto& v : At(file, "refusals").list_value().values()) {
    const auto& x = v.struct_value();
    SCOPED_TRACE(Text(x, "name"));
    const TestKey& signer = keys.at(Text(x, "signing_key"));
    const TestKey& to = keys.at(Text(x, "encryption_key"));
    v1::SignedEnvelope s;
    ASSERT_TRUE(s.ParseFromString(Bytes(x, "signed_envelope")));
    const auto& gateway = At(x, "gateway").struct_value();
    const auto& recipient = At(x, "recipient").struct_value();
    const Expected at_gateway = GatewayChecks(s, signer, to);
    EXPECT_EQ(at_gateway.code, Text(gateway, "code"));
    EXPECT_EQ(at_gateway.reason, Text(gateway, "reason"));
    const Expected at_recipient = RecipientChecks(s, signer, to);
    EXPECT_EQ(at_recipient.code, Text(recipient, "code"));
    EXPECT_EQ(at_recipient.reason, Text(recipient, "reason"));
    EXPECT_TRUE(at_gateway.code != "OK" || at_recipient.code != "OK")
        << "a refusal vector is refused somewhere";
    ++refusals;
  }
  EXPECT_EQ(refusals, static_cast<int>(Refusals().size()));
}

}  // namespace
}  // namespace safeshare::envelope
