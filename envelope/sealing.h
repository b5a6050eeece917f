#ifndef SAFESHARE_ENVELOPE_SEALING_H_
#define SAFESHARE_ENVELOPE_SEALING_H_

// Sealing and opening envelopes (format: docs/envelope-format.md).
//
// Seal: X25519(ephemeral, recipient) -> HKDF-SHA256 -> AES-256-GCM, with the
// envelope header (the Envelope with payload.ciphertext empty, serialized
// deterministically) as associated data; then an Ed25519 signature over the
// serialized envelope bytes. Every primitive is OpenSSL 3 EVP.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "envelope/keys.h"
#include "safeshare/v1/envelope.pb.h"

namespace safeshare::envelope {

inline constexpr size_t kX25519KeyBytes = 32;
inline constexpr size_t kNonceBytes = 12;
inline constexpr size_t kTagBytes = 16;
inline constexpr size_t kSignatureBytes = 64;

// The recipient's current encryption key, as the directory lists it.
struct RecipientKey {
  std::string key_id;
  std::string public_key;  // raw X25519, 32 bytes
};

// Encrypts `plaintext` into `header`'s payload (the header's own payload fields
// are replaced), serializes the envelope once and signs those bytes.
absl::StatusOr<safeshare::v1::SignedEnvelope> SealAndSign(safeshare::v1::Envelope header,
                                                          absl::string_view plaintext,
                                                          const RecipientKey& recipient,
                                                          const PrivateKey& signing_key);

// Sealing with a given ephemeral key and nonce, for the published test vectors
// only (docs/test-vectors/). A reused ephemeral key or nonce would break the
// encryption, so it is private: only SealAndSign, with fresh ones, and the
// vector test's TestVectorSealer (tests/envelope/, never linked into a
// program; tests/layering/check_layers.py keeps that name out of the rest)
// can call it.
class Sealer {
 private:
  friend class TestVectorSealer;
  friend absl::StatusOr<safeshare::v1::SignedEnvelope> SealAndSign(safeshare::v1::Envelope,
                                                                   absl::string_view,
                                                                   const RecipientKey&,
                                                                   const PrivateKey&);
  static absl::StatusOr<safeshare::v1::SignedEnvelope> SealWith(
      safeshare::v1::Envelope header, absl::string_view plaintext, const RecipientKey& recipient,
      const PrivateKey& signing_key, const PrivateKey& ephemeral, absl::string_view nonce);
};

// Serializes an already sealed envelope once and signs those bytes.
absl::StatusOr<safeshare::v1::SignedEnvelope> SignEnvelope(const safeshare::v1::Envelope& sealed,
                                                           const PrivateKey& signing_key);

// Checks the sealed fields' sizes and the signature's shape. INVALID_ARGUMENT
// naming the field.
absl::Status ValidateSealedShape(const safeshare::v1::SignedEnvelope& signed_envelope,
                                 const safeshare::v1::Envelope& envelope);

// Verifies an Ed25519 signature over the exact envelope bytes received.
// UNAUTHENTICATED if it does not verify.
absl::Status VerifySignature(const safeshare::v1::SignedEnvelope& signed_envelope,
                             absl::string_view raw_signing_public_key);
absl::Status VerifySignature(const safeshare::v1::SignedEnvelope& signed_envelope,
                             const SigningPublicKey& signing_key);

// Decrypts the payload of an (already verified) envelope with the recipient's
// private encryption key. FAILED_PRECONDITION if the payload was sealed to a
// different key; INVALID_ARGUMENT if it does not decrypt (tampered, spliced
// or truncated).
absl::StatusOr<std::string> DecryptPayload(const safeshare::v1::Envelope& envelope,
                                           const PrivateKey& encryption_key);

// The associated data bound into the payload: the deterministic serialization
// of `envelope` with payload.ciphertext cleared.
std::string HeaderAssociatedData(const safeshare::v1::Envelope& envelope);

}  // namespace safeshare::envelope

#endif  // SAFESHARE_ENVELOPE_SEALING_H_
