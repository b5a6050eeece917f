// Outside bytes the receiving agent opens: a SignedEnvelope sealed (or not)
// to a fixed recipient key, and its plaintext SealedContent. Opening never
// crashes; a payload that decrypts parses as content or is refused; content
// that parses re-serializes to content that parses the same.
#include "envelope/content.h"
#include "envelope/envelope_shape.h"
#include "envelope/sealing.h"
#include "tests/fuzz/fuzz_support.h"

namespace sf = safeshare::fuzz;
namespace se = safeshare::envelope;

namespace {

void CheckContent(absl::string_view plaintext, const safeshare::v1::Envelope* envelope) {
  auto content = se::ParseContent(plaintext);
  if (!content.ok()) return;
  std::string again;
  FUZZ_REQUIRE(content->SerializeToString(&again), "parsed content serializes");
  auto reparsed = se::ParseContent(again);
  FUZZ_REQUIRE(reparsed.ok() && sf::SameMessage(*content, *reparsed),
               "re-serialized content parses the same");
  FUZZ_REQUIRE(se::CategoriesIn(*content) == se::CategoriesIn(*reparsed),
               "categories do not depend on the encoding");
  if (envelope != nullptr) {
    (void)se::CheckContentAgainstDeclaration(*content, envelope->kind(), envelope->declaration());
  } else {
    // Every category found, declared, passes for the kind the content is, and
    // for no other kind, when its NHS numbers are valid (the declaration
    // claims nothing about the consistent identifier). (The content's oneof
    // field numbers are the kinds' numbers: referral 1 = REFERRAL ... outcome
    // 5 = OUTCOME.)
    safeshare::v1::SharingDeclaration declaration;
    for (auto category : se::CategoriesIn(*content)) declaration.add_data_categories(category);
    const bool identifiers_valid = se::CheckIdentifiers(*content, declaration).ok();
    for (int kind = 0; kind <= safeshare::v1::MessageKind_MAX; ++kind) {
      const bool matches =
          identifiers_valid &&
          content->content_case() != safeshare::v1::SealedContent::CONTENT_NOT_SET &&
          static_cast<int>(content->content_case()) == kind;
      FUZZ_REQUIRE(se::CheckContentAgainstDeclaration(
                       *content, static_cast<safeshare::v1::MessageKind>(kind), declaration)
                           .ok() == matches,
                   "content with every category declared passes for its own kind only");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte chooses: 0 opens an envelope; anything else is content.
  const absl::string_view rest = sf::Bytes(data + 1, size - 1);
  if (data[0] != 0) {
    CheckContent(rest, nullptr);
    return 0;
  }
  safeshare::v1::SignedEnvelope signed_envelope;
  if (!signed_envelope.ParseFromArray(rest.data(), static_cast<int>(rest.size()))) return 0;
  auto envelope = se::ParseEnvelope(signed_envelope.envelope_bytes());
  if (!envelope.ok()) return 0;
  if (!se::ValidateSealedShape(signed_envelope, *envelope).ok()) return 0;
  auto plaintext = se::DecryptPayload(*envelope, sf::RecipientEncryptionKey());
  if (!plaintext.ok()) {
    const auto code = plaintext.status().code();
    FUZZ_REQUIRE(
        code == absl::StatusCode::kInvalidArgument || code == absl::StatusCode::kFailedPrecondition,
        "a payload that does not open is INVALID_ARGUMENT or FAILED_PRECONDITION");
    return 0;
  }
  // Decryption binds the header: any change to it must fail.
  safeshare::v1::Envelope changed = *envelope;
  changed.set_message_id(changed.message_id() + "x");
  FUZZ_REQUIRE(!se::DecryptPayload(changed, sf::RecipientEncryptionKey()).ok(),
               "a payload does not open under a changed header");
  CheckContent(*plaintext, &*envelope);
  return 0;
}
