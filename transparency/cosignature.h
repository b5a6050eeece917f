#ifndef SAFESHARE_TRANSPARENCY_COSIGNATURE_H_
#define SAFESHARE_TRANSPARENCY_COSIGNATURE_H_

// Witness cosignatures on checkpoints and the policies that weigh them, in
// the C2SP formats so that standard witnesses and verifiers interoperate:
//   https://c2sp.org/tlog-cosignature (Ed25519 "cosignature/v1")
//   https://c2sp.org/tlog-policy      (log, witness, group, quorum lines)
//
// A cosignature is a signature line on the checkpoint note:
//   — <witness name> base64(key hash || u64 big-endian time || Ed25519 sig)
// where the key hash is SHA-256(name || "\n" || 0x04 || public key)[:4] and
// the signature covers "cosignature/v1\ntime <time>\n" || checkpoint body.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "transparency/checkpoint.h"

namespace safeshare::transparency {

// A witness: its name (the note key name) and raw Ed25519 public key.
struct Witness {
  std::string name;
  std::string public_key;  // 32 bytes
  std::string url;         // its tlog-witness submission prefix, when known
};

uint32_t CosignatureKeyHash(absl::string_view name, absl::string_view raw_ed25519_public_key);

// The cosignature line (with its newline) by `witness_key` over the checkpoint
// note's body, at `time` (whole seconds). The caller has checked consistency.
absl::StatusOr<std::string> Cosign(absl::string_view checkpoint_note, absl::string_view name,
                                   EVP_PKEY* ed25519_private_key, absl::Time time);

// The note with the cosignature line added after its other signature lines.
absl::StatusOr<std::string> AddCosignature(absl::string_view checkpoint_note,
                                           absl::string_view cosignature_line);

// The names of the `witnesses` with a valid cosignature on the note (lines by
// other keys are ignored, as the note format requires). INVALID_ARGUMENT for
// a malformed note; a line that names a listed witness but does not verify is
// UNAUTHENTICATED, not ignored: it is a forgery or a corruption.
absl::StatusOr<std::set<std::string>> VerifiedCosigners(absl::string_view checkpoint_note,
                                                        const std::vector<Witness>& witnesses);

// A tlog-policy: the logs, the witnesses and the quorum rule.
class WitnessPolicy {
 public:
  // INVALID_ARGUMENT naming the line for anything the format does not allow.
  static absl::StatusOr<WitnessPolicy> Parse(absl::string_view text);

  const std::vector<NoteVerifierKey>& logs() const { return logs_; }
  std::vector<Witness> witnesses() const;
  // Whether cosignatures by `cosigners` (witness names) satisfy the quorum.
  bool QuorumMet(const std::set<std::string>& cosigners) const;
  // Verifies the note's cosignatures and applies the quorum; UNAUTHENTICATED
  // naming how many were found and which rule was not met.
  absl::Status Check(absl::string_view checkpoint_note) const;

 private:
  struct Group {
    int threshold = 0;
    std::vector<std::string> members;  // witnesses or earlier groups
  };
  bool Witnessed(const std::string& name, const std::set<std::string>& cosigners) const;

  std::vector<NoteVerifierKey> logs_;
  std::map<std::string, Witness> witnesses_;  // by policy name
  std::map<std::string, Group> groups_;
  std::string quorum_;  // "none", a witness or a group
};

// The witness verifier key a gateway publishes for its cosigning key,
// "<name>+<8 hex>+<base64(0x04 || key)>".
absl::StatusOr<std::string> WitnessVerifierKey(absl::string_view name,
                                               absl::string_view raw_ed25519_public_key);

}  // namespace safeshare::transparency

#endif  // SAFESHARE_TRANSPARENCY_COSIGNATURE_H_
