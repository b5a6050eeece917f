#ifndef SAFESHARE_ENVELOPE_KEYS_H_
#define SAFESHARE_ENVELOPE_KEYS_H_

// Agency key pairs: Ed25519 for signing envelopes, X25519 for sealing payloads.
// Private keys live only at their agency, as PKCS#8 PEM files (0600).

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "safeshare/v1/directory.pb.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace safeshare::envelope {

// Directory key id of a raw public key: lowercase hex of the first 16 bytes of
// SHA-256(raw key).
std::string KeyIdOf(absl::string_view raw_public_key);

class PrivateKey {
 public:
  enum class Type { kSigning, kEncryption };  // Ed25519, X25519

  static absl::StatusOr<PrivateKey> Generate(Type type);
  // PKCS#8 PEM, as written by Pem(). INVALID_ARGUMENT if not an Ed25519 or
  // X25519 private key.
  static absl::StatusOr<PrivateKey> FromPem(absl::string_view pem);
  // A raw private key: the 32-byte Ed25519 seed (RFC 8032) or X25519 scalar
  // (RFC 7748), as the test vectors (docs/test-vectors/) give them.
  static absl::StatusOr<PrivateKey> FromRaw(Type type, absl::string_view raw);

  Type type() const { return type_; }
  std::string Pem() const;
  std::string RawPublicKey() const;  // 32 bytes
  std::string KeyId() const { return KeyIdOf(RawPublicKey()); }
  EVP_PKEY* get() const { return key_.get(); }

 private:
  struct Free {
    void operator()(EVP_PKEY* k) const;
  };
  PrivateKey(Type type, EVP_PKEY* key) : type_(type), key_(key, Free()) {}
  Type type_;
  std::shared_ptr<EVP_PKEY> key_;
};

// An Ed25519 public key, decoded once: the gateway verifies every envelope
// with its sender's key, and decoding the raw bytes each time took about 9% of
// verification's CPU samples under load (2-4% on one idle thread).
class SigningPublicKey {
 public:
  // INVALID_ARGUMENT unless `raw` is a 32-byte Ed25519 public key.
  static absl::StatusOr<SigningPublicKey> FromRaw(absl::string_view raw);
  EVP_PKEY* get() const { return key_.get(); }  // shared read-only across threads

 private:
  explicit SigningPublicKey(EVP_PKEY* key);
  std::shared_ptr<EVP_PKEY> key_;
};

// How long `keys rotate` and `pki init` make new keys valid.
inline constexpr absl::Duration kDefaultKeyValidity = absl::Hours(24 * 365 * 2);

// The directory entry for `key`'s public half, current and valid from `now`
// for `validity`.
safeshare::v1::PublicKey PublicKeyEntry(const PrivateKey& key, absl::Time now,
                                        absl::Duration validity = kDefaultKeyValidity);

}  // namespace safeshare::envelope

#endif  // SAFESHARE_ENVELOPE_KEYS_H_
