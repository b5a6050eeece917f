// The witness side of C2SP tlog-witness: a checkpoint is cosigned only when
// consistent with the last one this witness cosigned for the log.
#include "transparency/witness.h"

#include <openssl/evp.h>

#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/transparency/test_keys.h"
#include "transparency/cosignature.h"
#include "transparency/merkle.h"

namespace safeshare::transparency {
namespace {

using testing::FromSeed;
using testing::Key;
using testing::Pub;

constexpr char kOrigin[] = "safeshare.portsmouth/audit";

class WitnessTest : public ::testing::Test {
 protected:
  // The log's signed checkpoint at `size` leaves of `tree`.
  std::string Checkpoint(MemoryTree& t, uint64_t size, EVP_PKEY* key) {
    auto root = t.Root(size);
    EXPECT_TRUE(root.ok());
    auto note = SignCheckpoint({kOrigin, size, *root}, kOrigin, key);
    EXPECT_TRUE(note.ok()) << note.status();
    return *note;
  }
  // The request from `old` to `size` of `t`, with its consistency proof.
  AddCheckpointRequest Request(MemoryTree& t, uint64_t old, uint64_t size) {
    AddCheckpointRequest r;
    r.old_size = old;
    if (old > 0) {
      auto proof = ConsistencyProof(t, old, size);
      EXPECT_TRUE(proof.ok()) << proof.status();
      r.proof = *proof;
    }
    r.checkpoint_note = Checkpoint(t, size, log_.get());
    return r;
  }
  absl::StatusOr<std::string> Add(const AddCheckpointRequest& r) {
    // Through the wire format and back, as the HTTP handler will.
    auto parsed = ParseAddCheckpoint(FormatAddCheckpoint(r));
    if (!parsed.ok()) return parsed.status();
    return AddCheckpoint(*parsed, logs_, state_, "witness.dorset/w1", witness_.get(),
                         absl::FromUnixSeconds(1796000000));
  }
  void Grow(MemoryTree& t, int n) {
    for (int i = 0; i < n; ++i) t.Append(absl::StrCat("record ", t.size()));
  }

  Key log_ = FromSeed('L'), witness_ = FromSeed('W');
  std::vector<FollowedLog> logs_ = {{kOrigin, kOrigin, Pub(log_.get())}};
  CosignedState state_;
  MemoryTree tree_;
};

TEST_F(WitnessTest, ConsistentCheckpointsAreCosignedInTurn) {
  Grow(tree_, 5);
  auto first = Add(Request(tree_, 0, 5));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(state_.size, 5u);
  // The returned line makes a cosigned checkpoint a policy verifies.
  auto cosigned = AddCosignature(Checkpoint(tree_, 5, log_.get()), *first);
  ASSERT_TRUE(cosigned.ok());
  auto who = VerifiedCosigners(*cosigned, {{"witness.dorset/w1", Pub(witness_.get())}});
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(who->size(), 1u);

  Grow(tree_, 12);
  EXPECT_TRUE(Add(Request(tree_, 5, 17)).ok());
  EXPECT_EQ(state_.size, 17u);
  // The same checkpoint again is fine; an older old size is a conflict.
  EXPECT_TRUE(Add(Request(tree_, 17, 17)).ok());
  auto stale = Add(Request(tree_, 5, 17));
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(HttpStatusFor(stale.status()), 409);
  EXPECT_EQ(ConflictBody(state_), "17\n");
}

// A log that shows this witness one history and someone else another cannot
// get the second cosigned.
TEST_F(WitnessTest, AForkedOrRewrittenLogIsRefused) {
  Grow(tree_, 8);
  ASSERT_TRUE(Add(Request(tree_, 0, 8)).ok());
  MemoryTree fork;
  for (int i = 0; i < 8; ++i) fork.Append(i == 3 ? "rewritten" : absl::StrCat("record ", i));
  Grow(fork, 4);
  auto forked = Add(Request(fork, 8, 12));
  EXPECT_EQ(forked.status().code(), absl::StatusCode::kDataLoss) << forked.status();
  EXPECT_EQ(HttpStatusFor(forked.status()), 422);
  // Same size, another root.
  MemoryTree same;
  for (int i = 0; i < 8; ++i) same.Append(i == 0 ? "other" : absl::StrCat("record ", i));
  EXPECT_EQ(Add(Request(same, 8, 8)).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(state_.size, 8u);  // nothing was cosigned
}

TEST_F(WitnessTest, UnknownLogsBadSignaturesAndMalformedRequests) {
  Grow(tree_, 3);
  AddCheckpointRequest r = Request(tree_, 0, 3);
  auto other_key = FromSeed('X');
  r.checkpoint_note = Checkpoint(tree_, 3, other_key.get());
  EXPECT_EQ(HttpStatusFor(Add(r).status()), 403);
  auto unknown =
      SignCheckpoint({"elsewhere/audit", 3, *tree_.Root(3)}, "elsewhere/audit", log_.get());
  ASSERT_TRUE(unknown.ok());
  r.checkpoint_note = *unknown;
  EXPECT_EQ(HttpStatusFor(Add(r).status()), 404);
  AddCheckpointRequest backwards = Request(tree_, 0, 3);
  backwards.old_size = 4;
  EXPECT_EQ(HttpStatusFor(Add(backwards).status()), 400);
  AddCheckpointRequest proof_from_zero = Request(tree_, 0, 3);
  proof_from_zero.proof.push_back(std::string(32, 'a'));
  EXPECT_EQ(HttpStatusFor(Add(proof_from_zero).status()), 422);
  for (const char* body :
       {"", "old 01\n\nx", "older 1\n\nx", "old 1\nnot base64\n\nx", "old 1\n"}) {
    EXPECT_EQ(ParseAddCheckpoint(body).status().code(), absl::StatusCode::kInvalidArgument) << body;
  }
  std::string many = "old 1\n";
  for (int i = 0; i < 64; ++i) absl::StrAppend(&many, std::string(43, 'A'), "=\n");
  EXPECT_TRUE(absl::StrContains(ParseAddCheckpoint(many + "\nx").status().message(), "63"));
}

}  // namespace
}  // namespace safeshare::transparency
