// Outside bytes: an agency's key history as GetAgency serves it (a signed
// checkpoint, key events with inclusion proofs, signed key statements), which
// every agent replays before it trusts a key. Never crashes; a history that
// verifies under the fixed log key replays to keys that match themselves, and
// stops verifying when an event is dropped from its front.
#include "agents/key_log.h"
#include "envelope/key_statement.h"
#include "tests/fuzz/fuzz_support.h"
#include "transparency/checkpoint.h"

namespace sf = safeshare::fuzz;
namespace sa = safeshare::agents;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  safeshare::v1::KeyHistory history;
  if (!history.ParseFromArray(data, static_cast<int>(size))) return 0;
  // The statements on their own, as the gateway checks PublishKey/RevokeKey.
  for (const auto& proof : history.events()) {
    safeshare::v1::AuditRecord record;
    if (!record.ParseFromString(proof.record())) continue;
    const auto& statement = record.key_event().statement();
    auto parsed = safeshare::envelope::ParseKeyStatement(statement);
    if (!parsed.ok()) continue;
    (void)safeshare::envelope::VerifyKeyStatement(statement, *parsed,
                                                  sf::SenderSigningKey().RawPublicKey());
  }
  auto checkpoint =
      safeshare::transparency::VerifyCheckpoint(history.checkpoint_note(), sf::kAuditOrigin,
                                                sf::AuditLogKey().RawPublicKey(), sf::kAuditOrigin);
  if (!checkpoint.ok()) return 0;
  auto keys = sa::VerifyKeyHistory(sf::kFederation, sf::kSenderAgency, history, *checkpoint);
  if (!keys.ok()) {
    FUZZ_REQUIRE(keys.status().code() == absl::StatusCode::kFailedPrecondition,
                 "a history that does not verify is FAILED_PRECONDITION");
    return 0;
  }
  FUZZ_REQUIRE(sa::CheckServedKeys(sf::kSenderAgency, keys->keys, keys->keys).ok(),
               "replayed keys are served as themselves");
  FUZZ_REQUIRE(keys->events.size() == static_cast<size_t>(history.events_size()),
               "every event is replayed");
  if (history.events_size() > 1) {
    auto later = history;
    later.mutable_events()->erase(later.mutable_events()->begin());
    FUZZ_REQUIRE(!sa::VerifyKeyHistory(sf::kFederation, sf::kSenderAgency, later, *checkpoint).ok(),
                 "a history without its first event does not verify");
  }
  return 0;
}
