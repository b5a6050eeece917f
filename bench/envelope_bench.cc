// Seal and open throughput for a 16 KiB referral: the agent-side cost of
// end-to-end encryption (X25519 + HKDF-SHA256 + AES-256-GCM + Ed25519), and
// the gateway's per-Submit signature check.

#include <benchmark/benchmark.h>

#include "envelope/content.h"
#include "envelope/keys.h"
#include "envelope/sealing.h"

namespace safeshare::envelope {
namespace {

struct Fixture {
  PrivateKey signing = *PrivateKey::Generate(PrivateKey::Type::kSigning);
  PrivateKey recipient = *PrivateKey::Generate(PrivateKey::Type::kEncryption);
  v1::Envelope header;
  std::string plaintext;

  explicit Fixture(size_t concern_bytes = 16 * 1024) {
    header.set_message_id("bench-0001");
    header.set_kind(v1::MESSAGE_KIND_REFERRAL);
    header.set_sender_agency_id("hiow-police");
    header.set_recipient_agency_id("portsmouth-mash");
    header.mutable_sender_practitioner()->set_id("pc-4471");
    header.mutable_sender_practitioner()->set_role(v1::PRACTITIONER_ROLE_POLICE_OFFICER);
    header.mutable_created_time()->set_seconds(1764000000);
    header.mutable_declaration()->set_necessity_justification(std::string(200, 'j'));
    header.mutable_declaration()->add_data_categories(v1::DATA_CATEGORY_CONCERN_DETAILS);
    v1::SealedContent content;
    content.mutable_referral()->mutable_record()->set_concern_details(
        std::string(concern_bytes, 'c'));
    plaintext = content.SerializeAsString();
  }
  RecipientKey To() const { return {recipient.KeyId(), recipient.RawPublicKey()}; }
};

void BM_Seal16KiB(benchmark::State& state) {
  Fixture f;
  for (auto _ : state) {
    auto sealed = SealAndSign(f.header, f.plaintext, f.To(), f.signing);
    benchmark::DoNotOptimize(sealed);
  }
  state.SetBytesProcessed(state.iterations() * f.plaintext.size());
}
BENCHMARK(BM_Seal16KiB);

void BM_VerifyAndOpen16KiB(benchmark::State& state) {
  Fixture f;
  auto sealed = *SealAndSign(f.header, f.plaintext, f.To(), f.signing);
  const std::string signing_pub = f.signing.RawPublicKey();
  for (auto _ : state) {
    if (!VerifySignature(sealed, signing_pub).ok()) state.SkipWithError("verify failed");
    v1::Envelope e;
    e.ParseFromString(sealed.envelope_bytes());
    auto plain = DecryptPayload(e, f.recipient);
    auto content = ParseContent(*plain);
    benchmark::DoNotOptimize(content);
  }
  state.SetBytesProcessed(state.iterations() * f.plaintext.size());
}
BENCHMARK(BM_VerifyAndOpen16KiB);

// What the gateway does per Submit: one Ed25519 verification with the
// sender's key as its directory holds it, decoded once (the loadgen's 2 KiB
// referrals and the 16 KiB one above).
void BM_GatewayVerify(benchmark::State& state) {
  Fixture f(static_cast<size_t>(state.range(0)));
  auto sealed = *SealAndSign(f.header, f.plaintext, f.To(), f.signing);
  const SigningPublicKey signing_pub = *SigningPublicKey::FromRaw(f.signing.RawPublicKey());
  for (auto _ : state) {
    benchmark::DoNotOptimize(VerifySignature(sealed, signing_pub));
  }
}
BENCHMARK(BM_GatewayVerify)->Arg(2 * 1024)->Arg(16 * 1024);

// The same from the key's raw bytes, decoded on every call (the agent's path).
void BM_VerifyFromRawKey(benchmark::State& state) {
  Fixture f(static_cast<size_t>(state.range(0)));
  auto sealed = *SealAndSign(f.header, f.plaintext, f.To(), f.signing);
  const std::string signing_pub = f.signing.RawPublicKey();
  for (auto _ : state) {
    benchmark::DoNotOptimize(VerifySignature(sealed, signing_pub));
  }
}
BENCHMARK(BM_VerifyFromRawKey)->Arg(2 * 1024);

}  // namespace
}  // namespace safeshare::envelope

BENCHMARK_MAIN();
