// Checkpoint and signed-note tests. The compatibility vectors (the
// PeterNeumann and EnochRoot keys, the PeterNeumann signing key and the signed
// "cryptography" note, the malformed-note table and the verifier-key
// manglings) are copied from the reference implementation's tests,
// golang.org/x/mod/sumdb/note note_test.go.

#include "transparency/checkpoint.h"

#include <openssl/evp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "transparency/merkle.h"

namespace safeshare::transparency {
namespace {

struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;

Key Ed25519FromSeed(absl::string_view seed) {
  return Key(EVP_PKEY_new_raw_private_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(seed.data()), seed.size()));
}

std::string RawPublicKey(EVP_PKEY* key) {
  std::string pub(32, '\0');
  size_t len = pub.size();
  EVP_PKEY_get_raw_public_key(key, reinterpret_cast<unsigned char*>(pub.data()), &len);
  return pub;
}

void ExpectError(const absl::Status& s, absl::StatusCode code, absl::string_view needle) {
  EXPECT_EQ(s.code(), code) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), needle)) << s << " lacks \"" << needle << "\"";
}

// --- golang.org/x/mod/sumdb/note note_test.go ---
constexpr absl::string_view kPeterVkey =
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
// The key material of "PRIVATE+KEY+PeterNeumann+c74f20a3+<this>": 0x01 || seed.
constexpr absl::string_view kPeterSkeyMaterial = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
constexpr absl::string_view kEnochVkey =
    "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
constexpr absl::string_view kText =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n";
constexpr absl::string_view kPeterSig =
    "\xe2\x80\x94 PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
    "\n";
constexpr absl::string_view kEnochSig =
    "\xe2\x80\x94 EnochRoot "
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ="
    "\n";

// The size-8 root of the RFC 6962 test tree (transparency-dev/merkle
// testonly/constants.go) and its base64, for a literal checkpoint body.
const std::string kRoot8 =
    absl::HexStringToBytes("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328");
constexpr absl::string_view kRoot8Base64 = "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=";

constexpr absl::string_view kOrigin = "safeshare.example/audit";
constexpr absl::string_view kKeyName = "safeshare.example/audit";

class CheckpointTest : public ::testing::Test {
 protected:
  CheckpointTest()
      : key_(Ed25519FromSeed(std::string(32, '\x2a'))),
        other_key_(Ed25519FromSeed(std::string(32, '\x07'))),
        pub_(RawPublicKey(key_.get())) {}

  Checkpoint Eight() const { return {std::string(kOrigin), 8, kRoot8}; }

  std::string Sign(const Checkpoint& c) const { return *SignCheckpoint(c, kKeyName, key_.get()); }
  // Signs arbitrary body text, to test what the parser does with it.
  std::string SignText(absl::string_view text) const {
    return *SignNote(text, kKeyName, key_.get());
  }
  absl::StatusOr<Checkpoint> Verify(absl::string_view note) const {
    return VerifyCheckpoint(note, kKeyName, pub_, kOrigin);
  }

  Key key_, other_key_;
  std::string pub_;
};

TEST_F(CheckpointTest, BodyIsTheC2spFormat) {
  EXPECT_EQ(CheckpointBody(Eight()), absl::StrCat(kOrigin, "\n8\n", kRoot8Base64, "\n"));
  EXPECT_EQ(*ParseCheckpointBody(CheckpointBody(Eight())), Eight());
}

TEST_F(CheckpointTest, SignAndVerifyRoundTrip) {
  absl::StatusOr<std::string> note = SignCheckpoint(Eight(), kKeyName, key_.get());
  ASSERT_TRUE(note.ok()) << note.status();
  // Body, blank line, one signature line of 4 + 64 bytes (92 base64 chars).
  const std::string prefix =
      absl::StrCat(CheckpointBody(Eight()), "\n\xe2\x80\x94 ", kKeyName, " ");
  ASSERT_TRUE(absl::StartsWith(*note, prefix)) << *note;
  EXPECT_EQ(note->size(), prefix.size() + 92 + 1);
  EXPECT_TRUE(absl::EndsWith(*note, "\n"));
  std::string blob;
  ASSERT_TRUE(absl::Base64Unescape(note->substr(prefix.size(), 92), &blob));
  const uint32_t hash = NoteKeyHash(kKeyName, pub_);
  EXPECT_EQ(blob.substr(0, 4),
            absl::HexStringToBytes(absl::StrCat(absl::Hex(hash, absl::kZeroPad8))));

  absl::StatusOr<Checkpoint> back = Verify(*note);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, Eight());

  // Size 0 with the empty root is a valid checkpoint too.
  Checkpoint empty{std::string(kOrigin), 0, EmptyRootHash()};
  EXPECT_EQ(*Verify(Sign(empty)), empty);
}

TEST_F(CheckpointTest, TamperedNotesFail) {
  const std::string note = Sign(Eight());
  const std::string root7 = absl::Base64Escape(
      absl::HexStringToBytes("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"));
  const std::vector<std::pair<std::string, std::string>> altered = {
      {"size", absl::StrReplaceAll(note, {{"\n8\n", "\n9\n"}})},
      {"root", absl::StrReplaceAll(note, {{kRoot8Base64, root7}})},
      {"origin",
       absl::StrReplaceAll(note, {{"safeshare.example/audit\n8", "safeshare.example/audiT\n8"}})},
      {"extra blank line", absl::StrReplaceAll(note, {{"=\n\n", "=\n\n\n"}})},
  };
  for (const auto& [what, text] : altered) {
    ASSERT_NE(text, note) << what;
    ExpectError(Verify(text).status(), absl::StatusCode::kUnauthenticated, "does not verify");
  }

  // One byte of the signature itself.
  const size_t sig_start = note.rfind(' ') + 1;
  std::string blob;
  ASSERT_TRUE(absl::Base64Unescape(absl::string_view(note).substr(sig_start, 92), &blob));
  blob[40] ^= 1;
  const std::string bad_sig =
      absl::StrCat(note.substr(0, sig_start), absl::Base64Escape(blob), "\n");
  ExpectError(Verify(bad_sig).status(), absl::StatusCode::kUnauthenticated, "does not verify");

  // The key hash: the line no longer names our key.
  blob[40] ^= 1;
  blob[0] ^= 1;
  const std::string bad_hash =
      absl::StrCat(note.substr(0, sig_start), absl::Base64Escape(blob), "\n");
  ExpectError(Verify(bad_hash).status(), absl::StatusCode::kUnauthenticated,
              "has no signature by safeshare.example/audit+");

  // The key name on the signature line.
  const std::string renamed =
      absl::StrReplaceAll(note, {{"\xe2\x80\x94 safeshare.example/audit ", "\xe2\x80\x94 other "}});
  ExpectError(Verify(renamed).status(), absl::StatusCode::kUnauthenticated,
              "signed only by other+");
}

TEST_F(CheckpointTest, WrongKeyOrNameOrOriginFails) {
  const std::string note = Sign(Eight());
  ExpectError(VerifyCheckpoint(note, kKeyName, RawPublicKey(other_key_.get()), kOrigin).status(),
              absl::StatusCode::kUnauthenticated, "has no signature by");
  ExpectError(VerifyCheckpoint(note, "other.example/log", pub_, kOrigin).status(),
              absl::StatusCode::kUnauthenticated, "has no signature by other.example/log+");
  ExpectError(VerifyCheckpoint(note, kKeyName, pub_, "other.example/log").status(),
              absl::StatusCode::kInvalidArgument,
              "checkpoint origin is \"safeshare.example/audit\", expected \"other.example/log\"");
  ExpectError(VerifyCheckpoint(note, kKeyName, "short", kOrigin).status(),
              absl::StatusCode::kInvalidArgument, "public key is 5 bytes");
  // Same name and origin, signed by another key: a forged checkpoint.
  const std::string forged = *SignCheckpoint(Eight(), kKeyName, other_key_.get());
  ExpectError(Verify(forged).status(), absl::StatusCode::kUnauthenticated, "has no signature by");
}

TEST_F(CheckpointTest, OtherSignaturesAreIgnoredButOursMustAllVerify) {
  const std::string note = Sign(Eight());
  // A witness cosignature appended (a line by another key).
  const std::string witness = *SignNote(CheckpointBody(Eight()), "witness.example", key_.get());
  const std::string witness_line = witness.substr(witness.rfind("\n\n") + 2);
  EXPECT_TRUE(Verify(absl::StrCat(note, witness_line)).ok());
  // Our signature plus a corrupted copy of it.
  std::string bad = note.substr(note.rfind("\n\n") + 2);
  bad[bad.size() - 10] = bad[bad.size() - 10] == 'A' ? 'B' : 'A';
  EXPECT_EQ(Verify(absl::StrCat(note, bad)).status().code(), absl::StatusCode::kUnauthenticated);
  // More than 100 signature lines.
  std::string many = note;
  for (int i = 0; i < 100; ++i) absl::StrAppend(&many, witness_line);
  ExpectError(Verify(many).status(), absl::StatusCode::kInvalidArgument,
              "101 signature lines, at most 100");
}

TEST_F(CheckpointTest, MalformedNotesFail) {
  const std::string note = Sign(Eight());
  const std::string body = CheckpointBody(Eight());
  const std::string sig_line = note.substr(body.size() + 1);
  struct Case {
    std::string desc, note, error;
  };
  const std::vector<Case> cases = {
      {"no signatures", body, "no blank line"},
      {"blank line only", body + "\n", "no signature lines"},
      {"no final newline", note.substr(0, note.size() - 1), "does not end with a newline"},
      {"missing blank line", body + sig_line, "no blank line"},
      {"line after signatures", note + "Unexpected line.\n",
       "signature line 2 does not start with"},
      {"hyphen for em dash", absl::StrCat(body, "\n- ", sig_line.substr(4)),
       "signature line 1 does not start with"},
      {"no signature after name", absl::StrCat(body, "\n\xe2\x80\x94 name\n"),
       "has no signature after the name"},
      {"control character", absl::StrCat("\x01", note), "control characters"},
      {"invalid UTF-8", absl::StrCat("\xff", note), "not UTF-8"},
      {"unpadded signature base64", note.substr(0, note.size() - 2) + "\n",
       "signature line 1 is not canonical base64"},
      {"short signature blob", absl::StrCat(body, "\n\xe2\x80\x94 ", kKeyName, " AAAA\n"),
       "too short"},
  };
  for (const Case& c : cases) {
    absl::Status s = Verify(c.note).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.desc << ": " << s;
    EXPECT_TRUE(absl::StrContains(s.message(), c.error)) << c.desc << ": " << s;
  }
  // A signature blob with a right key hash but a 63-byte signature.
  std::string blob;
  ASSERT_TRUE(absl::Base64Unescape(sig_line.substr(4 + kKeyName.size() + 1, 92), &blob));
  const std::string short_sig = absl::StrCat(body, "\n\xe2\x80\x94 ", kKeyName, " ",
                                             absl::Base64Escape(blob.substr(0, 67)), "\n");
  ExpectError(Verify(short_sig).status(), absl::StatusCode::kInvalidArgument,
              "is 63 bytes, expected 64");
}

TEST_F(CheckpointTest, StrictBodyParsing) {
  const std::string root = absl::StrCat(kRoot8Base64);
  struct Case {
    std::string body, error;
  };
  const std::vector<Case> cases = {
      {absl::StrCat(kOrigin, "\n08\n", root, "\n"), "size \"08\" is not a canonical decimal"},
      {absl::StrCat(kOrigin, "\n+8\n", root, "\n"), "size \"+8\""},
      {absl::StrCat(kOrigin, "\n 8\n", root, "\n"), "size \" 8\""},
      {absl::StrCat(kOrigin, "\n8 \n", root, "\n"), "size \"8 \""},
      {absl::StrCat(kOrigin, "\n0x8\n", root, "\n"), "size \"0x8\""},
      {absl::StrCat(kOrigin, "\n-1\n", root, "\n"), "size \"-1\""},
      {absl::StrCat(kOrigin, "\n\n", root, "\n"), "size \"\""},
      {absl::StrCat(kOrigin, "\n18446744073709551616\n", root, "\n"),
       "size \"18446744073709551616\""},
      {absl::StrCat(kOrigin, "\n8\n", root.substr(0, root.size() - 1), "\n"),
       "root hash is not canonical base64"},
      {absl::StrCat(kOrigin, "\n8\n", absl::Base64Escape(kRoot8.substr(1)), "\n"),
       "root hash is 31 bytes, expected 32"},
      {absl::StrCat(kOrigin, "\n8\n", absl::Base64Escape(kRoot8 + "x"), "\n"),
       "root hash is 33 bytes, expected 32"},
      {absl::StrCat(kOrigin, "\n8\n", root, "\nextension\n"), "extension lines are not accepted"},
      {absl::StrCat(kOrigin, "\n8\n"), "checkpoint has 2 lines, expected 3"},
      {absl::StrCat("\n8\n", root, "\n"), "origin line is empty"},
  };
  for (const Case& c : cases) {
    // Properly signed, so only the body's syntax is at fault.
    absl::Status s = Verify(SignText(c.body)).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.body << s;
    EXPECT_TRUE(absl::StrContains(s.message(), c.error)) << c.body << ": " << s;
  }
  // The largest size parses.
  Checkpoint big{std::string(kOrigin), 18446744073709551615u, kRoot8};
  EXPECT_EQ(*Verify(Sign(big)), big);
}

TEST_F(CheckpointTest, SigningRefusesBadInput) {
  ExpectError(SignCheckpoint({"", 1, kRoot8}, kKeyName, key_.get()).status(),
              absl::StatusCode::kInvalidArgument, "origin");
  ExpectError(SignCheckpoint({"a\nb", 1, kRoot8}, kKeyName, key_.get()).status(),
              absl::StatusCode::kInvalidArgument, "origin");
  ExpectError(SignCheckpoint({"o", 1, "short"}, kKeyName, key_.get()).status(),
              absl::StatusCode::kInvalidArgument, "root hash is 5 bytes");
  for (absl::string_view name : {"", "a b", "a+b", "a\tb",
                                 "a\xc2\xa0"
                                 "b",
                                 "\xff"}) {
    ExpectError(SignCheckpoint(Eight(), name, key_.get()).status(),
                absl::StatusCode::kInvalidArgument, "invalid key name");
  }
  Key x25519(EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519"));
  ASSERT_TRUE(x25519);
  ExpectError(SignCheckpoint(Eight(), kKeyName, x25519.get()).status(),
              absl::StatusCode::kInvalidArgument, "must be Ed25519");
  ExpectError(SignCheckpoint(Eight(), kKeyName, nullptr).status(),
              absl::StatusCode::kInvalidArgument, "must be Ed25519");
  ExpectError(SignNote("no final newline", kKeyName, key_.get()).status(),
              absl::StatusCode::kInvalidArgument, "ending in a newline");
}

TEST(VerifierKeyTest, RoundTripAndPublishedKey) {
  absl::StatusOr<NoteVerifierKey> peter = ParseVerifierKey(kPeterVkey);
  ASSERT_TRUE(peter.ok()) << peter.status();
  EXPECT_EQ(peter->name, "PeterNeumann");
  EXPECT_EQ(peter->key_hash, 0xc74f20a3u);
  EXPECT_EQ(peter->public_key.size(), 32u);
  EXPECT_EQ(NoteKeyHash(peter->name, peter->public_key), 0xc74f20a3u);
  EXPECT_EQ(*VerifierKey(peter->name, peter->public_key), kPeterVkey);

  absl::StatusOr<NoteVerifierKey> enoch = ParseVerifierKey(kEnochVkey);
  ASSERT_TRUE(enoch.ok()) << enoch.status();
  EXPECT_EQ(enoch->key_hash, 0xaf0cfe78u);

  ExpectError(VerifierKey("a b", peter->public_key).status(), absl::StatusCode::kInvalidArgument,
              "invalid key name");
  ExpectError(VerifierKey("n", "short").status(), absl::StatusCode::kInvalidArgument, "5 bytes");
}

// TestNewVerifier: every proper substring and every single-byte increment of
// the published key is refused, and so are the two adjusted-hash keys.
TEST(VerifierKeyTest, ManglingsAreRefused) {
  const std::string vkey(kPeterVkey);
  int refused = 0;
  for (size_t i = 0; i <= vkey.size(); ++i) {
    for (size_t j = i + 1; j <= vkey.size(); ++j) {
      if (i == 0 && j == vkey.size()) continue;
      EXPECT_FALSE(ParseVerifierKey(vkey.substr(i, j - i)).ok()) << vkey.substr(i, j - i);
      ++refused;
    }
  }
  for (size_t i = 0; i < vkey.size(); ++i) {
    std::string b = vkey;
    ++b[i];
    EXPECT_FALSE(ParseVerifierKey(b).ok()) << b;
  }
  EXPECT_GT(refused, 2000);
  ExpectError(
      ParseVerifierKey("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==")
          .status(),
      absl::StatusCode::kInvalidArgument, "verifier key is not canonical base64");
  // A canonical encoding of a 34-byte key.
  ExpectError(ParseVerifierKey(absl::StrCat("PeterNeumann+c74f20a3+",
                                            absl::Base64Escape(std::string(34, '\x01'))))
                  .status(),
              absl::StatusCode::kInvalidArgument, "is 34 bytes, expected 33");
  ExpectError(ParseVerifierKey("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
                  .status(),
              absl::StatusCode::kInvalidArgument, "is not Ed25519");
  ExpectError(ParseVerifierKey("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
                  .status(),
              absl::StatusCode::kInvalidArgument,
              "does not match the name and key (expected c74f20a3)");
  ExpectError(ParseVerifierKey("PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
                  .status(),
              absl::StatusCode::kInvalidArgument, "8 lowercase hex digits");
}

class GoCompatibilityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string material;
    ASSERT_TRUE(absl::Base64Unescape(kPeterSkeyMaterial, &material));
    ASSERT_EQ(material.size(), 33u);
    ASSERT_EQ(material[0], '\x01');
    peter_key_ = Ed25519FromSeed(material.substr(1));
    ASSERT_TRUE(peter_key_);
    peter_pub_ = ParseVerifierKey(kPeterVkey)->public_key;
    enoch_pub_ = ParseVerifierKey(kEnochVkey)->public_key;
  }
  Key peter_key_;
  std::string peter_pub_, enoch_pub_;
};

// TestSign: Ed25519 is deterministic, so our signer reproduces the published
// note byte for byte.
TEST_F(GoCompatibilityTest, SignReproducesThePublishedNote) {
  EXPECT_EQ(RawPublicKey(peter_key_.get()), peter_pub_);
  absl::StatusOr<std::string> note = SignNote(kText, "PeterNeumann", peter_key_.get());
  ASSERT_TRUE(note.ok()) << note.status();
  EXPECT_EQ(*note, absl::StrCat(kText, "\n", kPeterSig));
}

// TestOpen.
TEST_F(GoCompatibilityTest, OpenThePublishedNotes) {
  const std::string both = absl::StrCat(kText, "\n", kPeterSig, kEnochSig);
  EXPECT_EQ(*OpenNote(both, "PeterNeumann", peter_pub_), kText);
  EXPECT_EQ(*OpenNote(both, "EnochRoot", enoch_pub_), kText);
  EXPECT_EQ(*OpenNote(absl::StrCat(kText, "\n", kPeterSig), "PeterNeumann", peter_pub_), kText);
  ExpectError(OpenNote(absl::StrCat(kText, "\n", kPeterSig), "EnochRoot", enoch_pub_).status(),
              absl::StatusCode::kUnauthenticated,
              "no signature by EnochRoot+af0cfe78 (signed only by PeterNeumann+c74f20a3)");
  // The text is not a checkpoint, so VerifyCheckpoint authenticates it and
  // then refuses the body.
  ExpectError(VerifyCheckpoint(both, "PeterNeumann", peter_pub_, "x").status(),
              absl::StatusCode::kInvalidArgument, "checkpoint has 2 lines");

  const std::string sig(kPeterSig);
  // "Invalid signature": four characters spliced into the base64.
  EXPECT_FALSE(OpenNote(absl::StrCat(kText, "\n", sig.substr(0, 60), "ABCD", sig.substr(60)),
                        "PeterNeumann", peter_pub_)
                   .ok());
  // A changed word of the text.
  ExpectError(OpenNote(absl::StrReplaceAll(both, {{"cryptography", "cryptographY"}}),
                       "PeterNeumann", peter_pub_)
                  .status(),
              absl::StatusCode::kUnauthenticated,
              "the signature by PeterNeumann+c74f20a3 does not verify");

  // "Invalid encoded message syntax": all malformed.
  const std::string text(kText);
  const std::vector<std::string> bad = {
      text,
      text + "\n",
      text + "\n" + sig.substr(0, sig.size() - 1),
      "\x01" + text + "\n" + sig,
      "\xff" + text + "\n" + sig,
      text + "\n" +
          "\xe2\x80\x94 Bad Name "
          "x08go/ZJkuBS9UG/"
          "SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=",
      text + "\n" + sig + "Unexpected line.\n",
  };
  for (const std::string& msg : bad) {
    EXPECT_EQ(OpenNote(msg, "PeterNeumann", peter_pub_).status().code(),
              absl::StatusCode::kInvalidArgument)
        << msg;
  }
  // Too many signatures.
  std::string many = text + "\n";
  for (int i = 0; i < 101; ++i) many += sig;
  ExpectError(OpenNote(many, "PeterNeumann", peter_pub_).status(),
              absl::StatusCode::kInvalidArgument, "at most 100");
}

}  // namespace
}  // namespace safeshare::transparency
