// Outside bytes in proto3 JSON: a declaration as `safeshare send` reads it,
// an envelope header as `safeshare policy check --envelope` reads it, and a
// payload's SealedContent. Parsing never crashes, and what parses prints as JSON that
// parses to the same message.
#include "envelope/content.h"
#include "envelope/envelope_shape.h"
#include "google/protobuf/util/json_util.h"
#include "policy/isa.h"
#include "safeshare/v1/content.pb.h"
#include "tests/fuzz/fuzz_support.h"

namespace sf = safeshare::fuzz;

namespace {

void RoundTrip(absl::string_view json, google::protobuf::Message* message,
               google::protobuf::Message* again) {
  if (!safeshare::policy::ParseProtoJson(json, message).ok()) return;
  std::string printed;
  // Protobuf applies a time-zone offset without a range check, so it can
  // accept a Timestamp it then cannot print; nothing else may fail to print.
  if (!google::protobuf::util::MessageToJsonString(*message, &printed).ok()) return;
  FUZZ_REQUIRE(safeshare::policy::ParseProtoJson(printed, again).ok(), "printed JSON parses again");
  FUZZ_REQUIRE(sf::SameMessage(*message, *again), "printed JSON parses to the same message");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const absl::string_view json = sf::Bytes(data + 1, size - 1);
  // The first byte chooses: a declaration, a payload's content or a whole
  // envelope header (as `policy check --envelope` reads it).
  switch (data[0] % 3) {
    case 0: {
      safeshare::v1::SharingDeclaration declaration, again;
      RoundTrip(json, &declaration, &again);
      (void)safeshare::envelope::ValidateDeclaration(declaration);
      break;
    }
    case 1: {
      // The content of a kind, as `safeshare send --payload` reads it: the
      // second byte chooses the kind.
      if (json.empty()) break;
      const auto kind =
          static_cast<safeshare::v1::MessageKind>(json[0] % (safeshare::v1::MessageKind_MAX + 1));
      auto content = safeshare::envelope::ParseContentJson(kind, json.substr(1));
      if (!content.ok()) break;
      std::string printed;
      if (!google::protobuf::util::MessageToJsonString(*content, &printed).ok()) break;
      safeshare::v1::SealedContent again;
      FUZZ_REQUIRE(safeshare::policy::ParseProtoJson(printed, &again).ok() &&
                       sf::SameMessage(*content, again),
                   "printed content parses to the same");
      break;
    }
    default: {
      safeshare::v1::Envelope envelope, again;
      RoundTrip(json, &envelope, &again);
      (void)safeshare::envelope::ValidateEnvelopeShape(envelope);
      break;
    }
  }
  return 0;
}
