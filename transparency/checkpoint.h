#ifndef SAFESHARE_TRANSPARENCY_CHECKPOINT_H_
#define SAFESHARE_TRANSPARENCY_CHECKPOINT_H_

// Signed checkpoints of the audit log, in the C2SP formats so that standard
// witnesses and verifiers can read them:
//   https://c2sp.org/signed-note     (note text, signature lines, key ids)
//   https://c2sp.org/tlog-checkpoint (origin, size, root hash body)
//
// A signed checkpoint:
//   safeshare.example/audit          <- origin
//   1234                             <- tree size, decimal
//   <base64 std root hash>
//                                    <- blank line
//   — <key name> <base64(4-byte key hash || 64-byte Ed25519 signature)>
//
// The signature covers the body (the first three lines, final newline
// included). The key hash is SHA-256(key name || "\n" || 0x01 || public key)
// truncated to 4 bytes; 0x01 is the signed-note id for Ed25519.
//
// Errors: INVALID_ARGUMENT for anything malformed or unexpected (naming the
// line or field); UNAUTHENTICATED when no signature line for the key is
// present or a signature does not verify.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace safeshare::transparency {

struct Checkpoint {
  std::string origin;     // the log's identity, e.g. "safeshare.example/audit"
  uint64_t size = 0;      // tree size
  std::string root_hash;  // 32 raw bytes

  friend bool operator==(const Checkpoint& a, const Checkpoint& b) {
    return a.origin == b.origin && a.size == b.size && a.root_hash == b.root_hash;
  }
};

// "<origin>\n<size>\n<base64 root>\n". Assumes a valid checkpoint; SignCheckpoint
// checks.
std::string CheckpointBody(const Checkpoint& checkpoint);

// Strict inverse of CheckpointBody: exactly three lines, a non-empty origin,
// a canonical decimal size (no sign, no leading zeros), canonical padded
// base64 of 32 bytes. Extension lines are refused: this log writes none.
absl::StatusOr<Checkpoint> ParseCheckpointBody(absl::string_view body);

// The full note text: body, blank line, one signature line. INVALID_ARGUMENT
// for an invalid origin, root or key name, or a key that is not Ed25519.
absl::StatusOr<std::string> SignCheckpoint(const Checkpoint& checkpoint, absl::string_view key_name,
                                           EVP_PKEY* ed25519_private_key);

// Opens a signed checkpoint: the note must carry a valid signature line by
// (key_name, raw 32-byte Ed25519 public key), its body must parse, and its
// origin must be `expected_origin`. Signature lines by other keys are allowed
// and ignored, as the note spec requires (witness cosignatures, say).
absl::StatusOr<Checkpoint> VerifyCheckpoint(absl::string_view note, absl::string_view key_name,
                                            absl::string_view raw_ed25519_public_key,
                                            absl::string_view expected_origin);

// --- The signed-note layer underneath, usable for any note text. ---

// A valid key name: non-empty UTF-8 without Unicode spaces, control
// characters or "+".
bool IsValidKeyName(absl::string_view key_name);

// The 4-byte key hash of an Ed25519 key, big-endian: SHA-256(name || "\n" ||
// algorithm || key)[:4]; 0x01 is a note signer, 0x04 a cosignature/v1 witness.
uint32_t NoteKeyHash(absl::string_view key_name, absl::string_view raw_ed25519_public_key,
                     unsigned char algorithm = 0x01);

// `text` (non-empty UTF-8 ending in a newline, no control characters but
// newline) followed by a blank line and a signature line by the key.
absl::StatusOr<std::string> SignNote(absl::string_view text, absl::string_view key_name,
                                     EVP_PKEY* ed25519_private_key);

// One signature line: its key name, the 4-byte key hash and what follows it.
struct NoteSignature {
  std::string name;
  uint32_t key_hash = 0;
  std::string signature;
};
struct ParsedNote {
  std::string text;  // what the signatures cover, final newline included
  std::vector<NoteSignature> signatures;
};
// Splits a note strictly (at most 100 signature lines, each well formed),
// verifying nothing.
absl::StatusOr<ParsedNote> ParseNote(absl::string_view note);

// Parses `note` strictly (at most 100 signature lines, each well formed) and
// verifies every signature line by (key_name, key hash of the key); there
// must be at least one. Returns the signed text.
absl::StatusOr<std::string> OpenNote(absl::string_view note, absl::string_view key_name,
                                     absl::string_view raw_ed25519_public_key);

// A published verifier key, "<name>+<8 hex key hash>+<base64(0x01 || key)>".
struct NoteVerifierKey {
  std::string name;
  uint32_t key_hash = 0;
  std::string public_key;  // raw Ed25519, 32 bytes
};

// The verifier key string operators publish for the log. INVALID_ARGUMENT for
// an invalid name or a key that is not 32 bytes.
absl::StatusOr<std::string> VerifierKey(absl::string_view key_name,
                                        absl::string_view raw_ed25519_public_key);

// Parses a verifier key string; the hash must be 8 lowercase hex digits and
// match the name and key, the algorithm must be Ed25519 (0x01).
absl::StatusOr<NoteVerifierKey> ParseVerifierKey(absl::string_view verifier_key);

}  // namespace safeshare::transparency

#endif  // SAFESHARE_TRANSPARENCY_CHECKPOINT_H_
