// Random and truncated Submits over the real gateway and real mutual TLS:
// every reply is a precise refusal, the gateway stays up, and afterwards a
// valid Submit still goes through and the audit log still verifies. A fixed
// seed, so a failure replays.
#include <map>
#include <random>

#include "absl/strings/str_cat.h"
#include "tests/e2e/gateway_fixture.h"

namespace safeshare {
namespace {

class FuzzE2eTest : public GatewayE2eTest {
 protected:
  std::string RandomBytes(size_t n) {
    std::string out(n, '\0');
    for (char& c : out) c = static_cast<char>(rng_() & 0xff);
    return out;
  }
  size_t Below(size_t n) { return n == 0 ? 0 : rng_() % n; }
  // Random text for string fields: ASCII, controls and multi-byte UTF-8.
  // (Bytes that are not UTF-8 never reach the service: see the disabled test
  // below.)
  std::string RandomText(size_t n) {
    static const char* const kPieces[] = {
        "a",  "Z",  "0", "/",    "..",       "\\",           "%",
        "\n", "\t", " ", "\x7f", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80"};
    std::string out;
    while (out.size() < n) out += kPieces[Below(sizeof(kPieces) / sizeof(kPieces[0]))];
    return out;
  }

  std::mt19937 rng_{20240518};
};

bool Precise(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kNotFound:
      return true;
    default:
      return false;
  }
}

TEST_F(FuzzE2eTest, RandomAndTruncatedSubmitsGetPreciseRefusals) {
  auto police = Agency("hiow-police");
  // Valid envelopes to cut up; none is ever submitted whole.
  std::vector<v1::SignedEnvelope> valid;
  for (int i = 0; i < 4; ++i) {
    valid.push_back(Referral("hiow-police", "portsmouth-mash", absl::StrCat("fuzz-base-", i)));
  }
  valid.push_back(Referral("southsea-academy", "portsmouth-mash", "fuzz-other-sender"));
  ASSERT_FALSE(valid.back().envelope_bytes().empty());

  std::map<std::string, int> kinds_sent;
  std::map<absl::StatusCode, int> codes;
  constexpr int kRounds = 400;
  for (int i = 0; i < kRounds; ++i) {
    const v1::SignedEnvelope& base = valid[Below(valid.size())];
    v1::SignedEnvelope s = base;
    std::string kind;
    switch (i % 8) {
      case 0:  // random bytes as the envelope
        kind = "random envelope";
        s.set_envelope_bytes(RandomBytes(Below(2048)));
        break;
      case 1:  // a signed envelope cut short
        kind = "truncated";
        s.set_envelope_bytes(base.envelope_bytes().substr(0, Below(base.envelope_bytes().size())));
        break;
      case 2:  // random signature, any length
        kind = "random signature";
        s.set_signature(RandomBytes(Below(3) == 0 ? 64 : Below(200)));
        break;
      case 3:  // random key id, any bytes and length
        kind = "random key id";
        s.set_signing_key_id(RandomText(Below(3) == 0 ? 32 : Below(80)));
        break;
      case 4: {  // a few bytes of the signed envelope flipped
        kind = "flipped";
        std::string bytes = base.envelope_bytes();
        for (int flips = 1 + Below(4); flips > 0; --flips) {
          bytes[Below(bytes.size())] ^= static_cast<char>(1 + Below(255));
        }
        s.set_envelope_bytes(bytes);
        break;
      }
      case 5:  // truncated and random signature and key id together
        kind = "everything wrong";
        s.set_envelope_bytes(base.envelope_bytes().substr(0, Below(base.envelope_bytes().size())));
        s.set_signature(RandomBytes(64));
        s.set_signing_key_id(RandomText(32));
        break;
      case 6:  // random bytes appended (a field the schema does not know, or garbage)
        kind = "trailing garbage";
        s.set_envelope_bytes(base.envelope_bytes() + RandomBytes(1 + Below(64)));
        break;
      case 7:  // oversized fields; every eighth of these over the whole message limit
        kind = "oversized";
        if (i % 64 == 7) {
          s.set_envelope_bytes(RandomBytes(5 << 20));
        } else if (Below(2) == 0) {
          s.set_signature(RandomBytes(64 * 1024 + Below(64 * 1024)));
        } else {
          s.set_signing_key_id(RandomText(64 * 1024 + Below(64 * 1024)));
        }
        break;
    }
    ++kinds_sent[kind];
    auto r = police->Submit(s);
    ASSERT_FALSE(r.ok()) << "round " << i << " (" << kind << ") was accepted";
    ++codes[r.status().code()];
    ASSERT_TRUE(Precise(r.status().code())) << "round " << i << " (" << kind << "): " << r.status();
    if (i % 50 == 49) {
      ASSERT_TRUE(police->CheckHealth().ok()) << "gateway gone after round " << i;
    }
  }
  EXPECT_EQ(kinds_sent.size(), 8u);
  EXPECT_GE(codes.size(), 3u) << "the rounds reached more than one check";

  // Still serving, still correct.
  auto agent = Agent("hiow-police");
  auto ok = agent->Send(Message("hiow-police", "portsmouth-mash", "after-the-fuzz"));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->state(), v1::MESSAGE_STATE_SUBMITTED);
  ExpectAuditLogVerifies();
  EXPECT_EQ(gateway_->Stop(), 0) << "the gateway ran throughout and stopped cleanly";
}

// Known gap, left for a fix: signing_key_id is a proto3 string, so a request
// whose key id is not UTF-8 fails to parse inside gRPC, and gRPC 1.51's
// callback API then answers UNIMPLEMENTED with no message before the service
// sees it. Precise would be INVALID_ARGUMENT (e.g. a raw Submit method that
// parses the request itself).
TEST_F(FuzzE2eTest, DISABLED_AKeyIdThatIsNotUtf8IsInvalidArgument) {
  v1::SignedEnvelope s = Referral("hiow-police", "portsmouth-mash", "not-utf8");
  s.set_signing_key_id(std::string(31, 'a') + "\xff");
  auto r = Agency("hiow-police")->Submit(s);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
}

}  // namespace
}  // namespace safeshare
