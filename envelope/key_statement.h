#ifndef SAFESHARE_ENVELOPE_KEY_STATEMENT_H_
#define SAFESHARE_ENVELOPE_KEY_STATEMENT_H_

// Key statements: what an agency signs to publish or revoke one of its own
// keys (key transparency). Ed25519 over "safeshare/key-statement/v1\n" ||
// the serialized KeyStatement, so a statement's signature can never be taken
// for an envelope's or a checkpoint's. Gateway and agents check the same way.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "envelope/keys.h"
#include "safeshare/v1/directory.pb.h"

namespace safeshare::envelope {

inline constexpr absl::string_view kKeyStatementContext = "safeshare/key-statement/v1\n";
// The longest validity a published key may claim.
inline constexpr absl::Duration kMaxKeyValidity = absl::Hours(24 * 366 * 3);

// Serializes `statement` and signs it with `signer` (the agency's current
// signing key); for a published signing key, `new_signing_key` (its private
// half) signs too. INVALID_ARGUMENT if `signer` is not a signing key.
absl::StatusOr<safeshare::v1::SignedKeyStatement> SignKeyStatement(
    const safeshare::v1::KeyStatement& statement, const PrivateKey& signer,
    const PrivateKey* new_signing_key = nullptr);

// Parses the signed bytes and checks their shape: ids bounded, the action
// set, a PUBLISH key well formed (ValidateKeyEntry), a REVOKE key id given.
// INVALID_ARGUMENT naming the field.
absl::StatusOr<safeshare::v1::KeyStatement> ParseKeyStatement(
    const safeshare::v1::SignedKeyStatement& signed_statement);

// The signature by the raw Ed25519 key `signer_public_key`; for a PUBLISH of
// a signing key, the new key's own signature too. UNAUTHENTICATED when one
// does not verify.
absl::Status VerifyKeyStatement(const safeshare::v1::SignedKeyStatement& signed_statement,
                                const safeshare::v1::KeyStatement& statement,
                                absl::string_view signer_public_key);

// Any directory key: purpose SIGNING or ENCRYPTION, a raw 32-byte key whose
// id matches its bytes. INVALID_ARGUMENT naming `field`.
absl::Status ValidateKeyMaterial(const safeshare::v1::PublicKey& key, absl::string_view field);

// A key entry as a statement or event carries it: purpose set, a 32-byte key
// whose id matches, not_before and not_after set, not_after after not_before
// and at most kMaxKeyValidity later. INVALID_ARGUMENT naming `field`.
absl::Status ValidateKeyEntry(const safeshare::v1::PublicKey& key, absl::string_view field);

// Whether `key` may be used at `t`: FAILED_PRECONDITION naming the key and
// its validity when `t` is before not_before or at/after not_after (a key
// without not_after, from a federation file written before validity was
// required, does not expire).
absl::Status CheckKeyValidAt(const safeshare::v1::PublicKey& key, absl::Time t);

}  // namespace safeshare::envelope

#endif  // SAFESHARE_ENVELOPE_KEY_STATEMENT_H_
