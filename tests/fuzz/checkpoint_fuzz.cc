// Outside bytes: a C2SP signed note / checkpoint as agents, witnesses and IG
// officers receive it, and a published verifier key. Never crashes; a body
// that parses prints back to exactly its bytes (the parser is the strict
// inverse of CheckpointBody); a note that verifies under the fixed log key
// carries a body that parses, and no longer verifies once its body changes.
#include "absl/strings/str_cat.h"
#include "openssl/evp.h"
#include "tests/fuzz/fuzz_support.h"
#include "transparency/checkpoint.h"

namespace sf = safeshare::fuzz;
namespace st = safeshare::transparency;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text = sf::Bytes(data, size);
  const std::string key = sf::AuditLogKey().RawPublicKey();

  if (auto body = st::ParseCheckpointBody(text); body.ok()) {
    FUZZ_REQUIRE(st::CheckpointBody(*body) == text, "a parsed body prints back to its bytes");
    // What parses can be signed, and the signature verifies.
    auto note = st::SignCheckpoint(*body, sf::kAuditOrigin, sf::AuditLogKey().get());
    if (note.ok()) {
      auto opened = st::VerifyCheckpoint(*note, sf::kAuditOrigin, key, body->origin);
      FUZZ_REQUIRE(opened.ok() && *opened == *body, "a signed checkpoint verifies as itself");
    }
  }

  auto opened = st::VerifyCheckpoint(text, sf::kAuditOrigin, key, sf::kAuditOrigin);
  if (opened.ok()) {
    auto signed_text = st::OpenNote(text, sf::kAuditOrigin, key);
    FUZZ_REQUIRE(signed_text.ok(), "a verified checkpoint is an open note");
    FUZZ_REQUIRE(st::CheckpointBody(*opened) == *signed_text, "the signed text is the body");
    // Any other size must not verify under the same signature.
    std::string forged = absl::StrCat(text);
    forged.insert(forged.find('\n') + 1, "1");  // a verified note has lines
    FUZZ_REQUIRE(!st::VerifyCheckpoint(forged, sf::kAuditOrigin, key, sf::kAuditOrigin).ok(),
                 "a changed checkpoint does not verify");
  } else {
    const auto code = opened.status().code();
    FUZZ_REQUIRE(
        code == absl::StatusCode::kInvalidArgument || code == absl::StatusCode::kUnauthenticated,
        "a checkpoint that does not verify is INVALID_ARGUMENT or UNAUTHENTICATED");
  }

  if (auto verifier = st::ParseVerifierKey(text); verifier.ok()) {
    auto printed = st::VerifierKey(verifier->name, verifier->public_key);
    FUZZ_REQUIRE(printed.ok() && *printed == text, "a parsed verifier key prints back");
    FUZZ_REQUIRE(verifier->key_hash == st::NoteKeyHash(verifier->name, verifier->public_key),
                 "a parsed verifier key's hash matches");
  }
  return 0;
}
