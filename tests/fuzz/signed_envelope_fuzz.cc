// Outside bytes: a SignedEnvelope as Submit receives it. The gateway's checks
// in its order (parse, sealed shape, signature, envelope shape) never crash,
// an envelope that parses re-serializes to bytes that parse the same, and a
// signature that verifies stops verifying when one bit changes.
#include "envelope/envelope_shape.h"
#include "envelope/sealing.h"
#include "tests/fuzz/fuzz_support.h"

namespace sf = safeshare::fuzz;
using safeshare::envelope::ParseEnvelope;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  safeshare::v1::SignedEnvelope signed_envelope;
  if (!signed_envelope.ParseFromArray(data, static_cast<int>(size))) return 0;
  auto envelope = ParseEnvelope(signed_envelope.envelope_bytes());
  if (!envelope.ok()) return 0;

  // Plain protobuf parsing for the copy: an envelope of only default values
  // re-serializes to no bytes, which ParseEnvelope refuses as empty (seen in
  // the first long run: regression-all-defaults).
  std::string again;
  FUZZ_REQUIRE(envelope->SerializeToString(&again), "a parsed envelope serializes");
  safeshare::v1::Envelope reparsed;
  FUZZ_REQUIRE(reparsed.ParseFromString(again), "a re-serialized envelope parses");
  FUZZ_REQUIRE(sf::SameMessage(*envelope, reparsed), "a re-serialized envelope is the same");
  FUZZ_REQUIRE(again.empty() || safeshare::envelope::ParseEnvelope(again).ok(),
               "a re-serialized envelope passes ParseEnvelope");

  (void)safeshare::envelope::ValidateSealedShape(signed_envelope, *envelope);
  const absl::Status signature =
      safeshare::envelope::VerifySignature(signed_envelope, sf::SenderSigningKey().RawPublicKey());
  (void)safeshare::envelope::ValidateEnvelopeShape(*envelope);
  if (signature.ok()) {
    // Only the exact bytes signed verify: a one-bit change must not.
    safeshare::v1::SignedEnvelope flipped = signed_envelope;
    std::string& bytes = *flipped.mutable_envelope_bytes();
    if (!bytes.empty()) {
      bytes[bytes.size() / 2] ^= 0x01;
      FUZZ_REQUIRE(
          !safeshare::envelope::VerifySignature(flipped, sf::SenderSigningKey().RawPublicKey())
               .ok(),
          "a changed envelope's signature does not verify");
    }
  }
  return 0;
}
