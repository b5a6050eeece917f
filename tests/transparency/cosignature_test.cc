// Witness cosignatures (C2SP tlog-cosignature, Ed25519 cosignature/v1) and
// witness policies (C2SP tlog-policy).
#include "transparency/cosignature.h"

#include <openssl/evp.h>

#include <memory>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"
#include "tests/transparency/test_keys.h"

namespace safeshare::transparency {
namespace {

using testing::FromSeed;
using testing::Key;
using testing::Pub;

class CosignatureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Checkpoint c{"safeshare.portsmouth/audit", 42, std::string(32, '\x07')};
    auto note = SignCheckpoint(c, "safeshare.portsmouth/audit", log_.get());
    ASSERT_TRUE(note.ok()) << note.status();
    note_ = *note;
  }
  std::string CosignedBy(EVP_PKEY* key, const std::string& name, const std::string& note) {
    auto line = Cosign(note, name, key, absl::FromUnixSeconds(1796000000));
    EXPECT_TRUE(line.ok()) << line.status();
    auto out = AddCosignature(note, line.ok() ? *line : "");
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? *out : "";
  }
  Key log_ = FromSeed('L'), dorset_ = FromSeed('D'), wsx_ = FromSeed('W'), iow_ = FromSeed('I');
  std::string note_;
};

TEST_F(CosignatureTest, ALineHasTheSpecsKeyHashTimeAndSignature) {
  auto line = Cosign(note_, "witness.dorset/w1", dorset_.get(), absl::FromUnixSeconds(1796000000));
  ASSERT_TRUE(line.ok()) << line.status();
  ASSERT_TRUE(absl::StartsWith(*line, "\xe2\x80\x94 witness.dorset/w1 "));
  std::string blob;
  ASSERT_TRUE(
      absl::Base64Unescape(absl::StripSuffix(line->substr(line->rfind(' ') + 1), "\n"), &blob));
  ASSERT_EQ(blob.size(), 4u + 8u + 64u);
  // Key hash: SHA-256(name || "\n" || 0x04 || key)[:4], computed here directly.
  const std::string input =
      absl::StrCat("witness.dorset/w1\n", std::string(1, '\x04'), Pub(dorset_.get()));
  unsigned char digest[32];
  unsigned int len = 0;
  EVP_Digest(input.data(), input.size(), digest, &len, EVP_sha256(), nullptr);
  EXPECT_EQ(blob.substr(0, 4), std::string(reinterpret_cast<char*>(digest), 4));
  EXPECT_EQ(blob.substr(4, 8), absl::HexStringToBytes("000000006b0cc900"));  // 1796000000
  // The signature covers "cosignature/v1\ntime T\n" and the checkpoint body.
  const std::string message =
      absl::StrCat("cosignature/v1\ntime 1796000000\n", note_.substr(0, note_.find("\n\n") + 1));
  Key pub(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(Pub(dorset_.get()).data()),
      32));
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  ASSERT_EQ(EVP_DigestVerifyInit(md.get(), nullptr, nullptr, nullptr, pub.get()), 1);
  EXPECT_EQ(
      EVP_DigestVerify(md.get(), reinterpret_cast<const unsigned char*>(blob.data() + 12), 64,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size()),
      1);
}

TEST_F(CosignatureTest, VerifiedCosignersAreThoseWhoseLinesVerify) {
  const std::string two = CosignedBy(wsx_.get(), "witness.wsx/w1",
                                     CosignedBy(dorset_.get(), "witness.dorset/w1", note_));
  // The log's own signature still verifies with the cosignatures added.
  EXPECT_TRUE(VerifyCheckpoint(two, "safeshare.portsmouth/audit", Pub(log_.get()),
                               "safeshare.portsmouth/audit")
                  .ok());
  const std::vector<Witness> known = {{"witness.dorset/w1", Pub(dorset_.get())},
                                      {"witness.wsx/w1", Pub(wsx_.get())},
                                      {"witness.iow/w1", Pub(iow_.get())}};
  auto who = VerifiedCosigners(two, known);
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(*who, (std::set<std::string>{"witness.dorset/w1", "witness.wsx/w1"}));
  // A line by a witness under another key is ignored, not trusted.
  const std::string impostor = CosignedBy(iow_.get(), "witness.wsx/w2", note_);
  who = VerifiedCosigners(impostor, known);
  ASSERT_TRUE(who.ok());
  EXPECT_TRUE(who->empty());
  // A cosignature moved onto another checkpoint does not verify.
  Checkpoint other{"safeshare.portsmouth/audit", 43, std::string(32, '\x08')};
  auto other_note = SignCheckpoint(other, "safeshare.portsmouth/audit", log_.get());
  ASSERT_TRUE(other_note.ok());
  const std::string moved_line = two.substr(two.find("\xe2\x80\x94 witness.dorset/w1"));
  auto moved = VerifiedCosigners(*other_note + moved_line, known);
  EXPECT_EQ(moved.status().code(), absl::StatusCode::kUnauthenticated) << moved.status();
}

TEST_F(CosignatureTest, APolicyNeedsItsQuorum) {
  auto vkey = [](const char* name, EVP_PKEY* k) {
    auto v = WitnessVerifierKey(name, Pub(k));
    EXPECT_TRUE(v.ok());
    return v.ok() ? *v : "";
  };
  auto log_vkey = VerifierKey("safeshare.portsmouth/audit", Pub(log_.get()));
  ASSERT_TRUE(log_vkey.ok());
  const std::string policy_text = absl::StrCat(
      "# two of the three neighbouring partnerships\n", "log ", *log_vkey, "\n", "witness dorset ",
      vkey("witness.dorset/w1", dorset_.get()), " https://dorset.example/\n", "witness wsx\t",
      vkey("witness.wsx/w1", wsx_.get()), "\n", "witness iow ", vkey("witness.iow/w1", iow_.get()),
      "\n", "group neighbours 2 dorset wsx iow\n", "quorum neighbours\n");
  auto policy = WitnessPolicy::Parse(policy_text);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->logs().size(), 1u);
  const std::string one = CosignedBy(dorset_.get(), "witness.dorset/w1", note_);
  EXPECT_EQ(policy->Check(one).code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(policy->Check(note_).code(), absl::StatusCode::kUnauthenticated);
  const std::string two = CosignedBy(iow_.get(), "witness.iow/w1", one);
  EXPECT_TRUE(policy->Check(two).ok()) << policy->Check(two);

  auto none = WitnessPolicy::Parse("quorum none\n");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->Check(note_).ok());
  auto all = WitnessPolicy::Parse(absl::StrReplaceAll(policy_text, {{"2 dorset", "all dorset"}}));
  ASSERT_TRUE(all.ok());
  EXPECT_FALSE(all->Check(two).ok());
  auto nested = WitnessPolicy::Parse(
      absl::StrReplaceAll(policy_text, {{"quorum neighbours",
                                         "group south any dorset\ngroup both all neighbours "
                                         "south\nquorum both"}}));
  ASSERT_TRUE(nested.ok()) << nested.status();
  EXPECT_TRUE(nested->Check(two).ok());
}

TEST_F(CosignatureTest, MalformedPoliciesAreRefusedNamingTheLine) {
  auto w = WitnessVerifierKey("witness.dorset/w1", Pub(dorset_.get()));
  ASSERT_TRUE(w.ok());
  const std::string witness = absl::StrCat("witness dorset ", *w, "\n");
  const std::pair<std::string, std::string> cases[] = {
      {"", "no quorum line"},
      {"quorum dorset\n", "line 1: \"dorset\" is not defined above"},
      {witness + witness, "line 2: \"dorset\" is taken"},
      {witness + "group g 2 dorset\nquorum g\n", "line 2: the threshold"},
      {witness + "group g any dorset dorset\nquorum g\n", "listed twice"},
      {witness + "quorum dorset\nquorum dorset\n", "line 3: nothing may follow"},
      {"witness x notakey\nquorum x\n", "line 1: a witness key is"},
      {"frobnicate\nquorum none\n", "unknown keyword"},
      {witness + "group none any dorset\nquorum none\n", "\"none\" is taken"},
      {std::string("quorum none\x01\n"), "control characters"},
  };
  for (const auto& [text, expect] : cases) {
    auto p = WitnessPolicy::Parse(text);
    ASSERT_FALSE(p.ok()) << text;
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(p.status().message(), expect)) << p.status() << "\n" << text;
  }
  // A log key (type 0x01) is not a witness key (type 0x04).
  auto log_vkey = VerifierKey("witness.dorset/w1", Pub(dorset_.get()));
  ASSERT_TRUE(log_vkey.ok());
  EXPECT_FALSE(WitnessPolicy::Parse(absl::StrCat("witness d ", *log_vkey, "\nquorum d\n")).ok());
}

}  // namespace
}  // namespace safeshare::transparency
