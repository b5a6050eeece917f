// Property tests: proofs built from stored subtrees equal the RFC 9162
// definitions, always verify, and stop verifying under any alteration.
// Fixed seed and bounded iterations, so runs are reproducible and fast.

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "transparency/merkle.h"

namespace safeshare::transparency {
namespace {

using Proof = std::vector<std::string>;

// RFC 9162 section 2.1.1 to 2.1.4, transcribed literally over leaf hashes:
// k is the largest power of two smaller than n.
uint64_t SplitPoint(uint64_t n) {
  uint64_t k = 1;
  while (k << 1 < n) k <<= 1;
  return k;
}

std::string RefRoot(const std::vector<std::string>& d, uint64_t begin, uint64_t end) {
  const uint64_t n = end - begin;
  if (n == 0) return EmptyRootHash();
  if (n == 1) return d[begin];
  const uint64_t k = SplitPoint(n);
  return NodeHash(RefRoot(d, begin, begin + k), RefRoot(d, begin + k, end));
}

Proof RefPath(const std::vector<std::string>& d, uint64_t m, uint64_t begin, uint64_t end) {
  const uint64_t n = end - begin;
  if (n == 1) return {};
  const uint64_t k = SplitPoint(n);
  Proof p;
  if (m < k) {
    p = RefPath(d, m, begin, begin + k);
    p.push_back(RefRoot(d, begin + k, end));
  } else {
    p = RefPath(d, m - k, begin + k, end);
    p.push_back(RefRoot(d, begin, begin + k));
  }
  return p;
}

Proof RefSubproof(const std::vector<std::string>& d, uint64_t m, uint64_t begin, uint64_t end,
                  bool b) {
  const uint64_t n = end - begin;
  if (m == n) return b ? Proof{} : Proof{RefRoot(d, begin, end)};
  const uint64_t k = SplitPoint(n);
  Proof p;
  if (m <= k) {
    p = RefSubproof(d, m, begin, begin + k, b);
    p.push_back(RefRoot(d, begin + k, end));
  } else {
    p = RefSubproof(d, m - k, begin + k, end, false);
    p.push_back(RefRoot(d, begin, begin + k));
  }
  return p;
}

class MerklePropertyTest : public ::testing::Test {
 protected:
  static constexpr uint64_t kMaxSize = 3000;

  static void SetUpTestSuite() {
    tree_ = new MemoryTree;
    leaves_ = new std::vector<std::string>;
    for (uint64_t i = 0; i < kMaxSize; ++i) {
      leaves_->push_back(tree_->Append(absl::StrCat("audit record ", i)));
    }
  }
  static void TearDownTestSuite() {
    delete tree_;
    delete leaves_;
  }

  static std::string Root(uint64_t size) { return *RootHash(*tree_, size); }

  static MemoryTree* tree_;
  static std::vector<std::string>* leaves_;
};
MemoryTree* MerklePropertyTest::tree_ = nullptr;
std::vector<std::string>* MerklePropertyTest::leaves_ = nullptr;

TEST_F(MerklePropertyTest, EveryProofEqualsTheRfcDefinitionUpTo70) {
  for (uint64_t n = 1; n <= 70; ++n) {
    EXPECT_EQ(Root(n), RefRoot(*leaves_, 0, n)) << n;
    for (uint64_t m = 0; m < n; ++m) {
      EXPECT_EQ(*InclusionProof(*tree_, m, n), RefPath(*leaves_, m, 0, n)) << m << " of " << n;
    }
    for (uint64_t m = 1; m <= n; ++m) {
      EXPECT_EQ(*ConsistencyProof(*tree_, m, n), RefSubproof(*leaves_, m, 0, n, true))
          << m << " -> " << n;
    }
  }
}

TEST_F(MerklePropertyTest, RandomRootsEqualTheRfcDefinition) {
  std::mt19937_64 rng(6962);
  for (int iter = 0; iter < 40; ++iter) {
    const uint64_t n = std::uniform_int_distribution<uint64_t>(0, kMaxSize)(rng);
    EXPECT_EQ(Root(n), RefRoot(*leaves_, 0, n)) << n;
  }
}

// Flips one bit of one hash, drops one, adds one or swaps two: each alteration
// of a proof that has something to alter.
std::vector<Proof> Alterations(const Proof& proof, std::mt19937_64& rng) {
  std::vector<Proof> out;
  auto pick = [&rng](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  const std::string extra = LeafHash(absl::StrCat("extra ", rng()));
  Proof added = proof;
  added.insert(added.begin() + pick(proof.size() + 1), extra);
  out.push_back(added);
  if (proof.empty()) return out;
  Proof flipped = proof;
  flipped[pick(proof.size())][pick(kHashBytes)] ^= static_cast<char>(1 << pick(8));
  out.push_back(flipped);
  Proof dropped = proof;
  dropped.erase(dropped.begin() + pick(proof.size()));
  out.push_back(dropped);
  Proof duplicated = proof;
  duplicated.insert(duplicated.begin() + pick(proof.size()), proof[pick(proof.size())]);
  out.push_back(duplicated);
  if (proof.size() > 1) {
    Proof swapped = proof;
    const size_t i = pick(proof.size() - 1);
    std::swap(swapped[i], swapped[i + 1]);
    out.push_back(swapped);
  }
  return out;
}

TEST_F(MerklePropertyTest, RandomInclusionProofsVerifyAndAlterationsFail) {
  std::mt19937_64 rng(9162);
  int checked = 0;
  for (int iter = 0; iter < 1500; ++iter) {
    const uint64_t n = std::uniform_int_distribution<uint64_t>(1, kMaxSize)(rng);
    const uint64_t m = std::uniform_int_distribution<uint64_t>(0, n - 1)(rng);
    SCOPED_TRACE(absl::StrCat("leaf ", m, " of ", n));
    absl::StatusOr<Proof> proof = InclusionProof(*tree_, m, n);
    ASSERT_TRUE(proof.ok()) << proof.status();
    const std::string root = Root(n);
    const std::string& leaf = (*leaves_)[m];
    ASSERT_TRUE(VerifyInclusion(leaf, m, n, *proof, root).ok());

    for (const Proof& altered : Alterations(*proof, rng)) {
      EXPECT_FALSE(VerifyInclusion(leaf, m, n, altered, root).ok());
      ++checked;
    }
    if (n > 1) {
      uint64_t other = std::uniform_int_distribution<uint64_t>(0, n - 2)(rng);
      if (other >= m) ++other;
      EXPECT_FALSE(VerifyInclusion(leaf, other, n, *proof, root).ok()) << "index " << other;
      EXPECT_FALSE(VerifyInclusion((*leaves_)[other], m, n, *proof, root).ok()) << "leaf";
    }
    // Another tree size, with that tree's root. (With this tree's root a
    // different size can pass: the root does not commit to the size, which
    // is why checkpoints carry it under the signature.)
    uint64_t size = std::uniform_int_distribution<uint64_t>(m + 1, kMaxSize - 1)(rng);
    if (size >= n) ++size;
    EXPECT_FALSE(VerifyInclusion(leaf, m, size, *proof, Root(size)).ok()) << "size " << size;
    checked += 3;
  }
  EXPECT_GT(checked, 1500 * 4);
}

TEST_F(MerklePropertyTest, RandomConsistencyProofsVerifyAndAlterationsFail) {
  std::mt19937_64 rng(2014);
  for (int iter = 0; iter < 1500; ++iter) {
    const uint64_t size2 = std::uniform_int_distribution<uint64_t>(1, kMaxSize)(rng);
    // Include the edge sizes now and then.
    uint64_t size1 = std::uniform_int_distribution<uint64_t>(0, size2)(rng);
    if (iter % 50 == 0) size1 = 0;
    if (iter % 50 == 1) size1 = size2;
    SCOPED_TRACE(absl::StrCat(size1, " -> ", size2));
    absl::StatusOr<Proof> proof = ConsistencyProof(*tree_, size1, size2);
    ASSERT_TRUE(proof.ok()) << proof.status();
    const std::string root1 = Root(size1);
    const std::string root2 = Root(size2);
    ASSERT_TRUE(VerifyConsistency(size1, size2, root1, root2, *proof).ok());

    for (const Proof& altered : Alterations(*proof, rng)) {
      EXPECT_FALSE(VerifyConsistency(size1, size2, root1, root2, altered).ok());
    }
    if (size1 > 0 && size1 < size2) {
      EXPECT_FALSE(VerifyConsistency(size1, size2, root2, root1, *proof).ok()) << "swapped";
      EXPECT_FALSE(VerifyConsistency(size1 - 1, size2, Root(size1 - 1), root2, *proof).ok());
      EXPECT_FALSE(VerifyConsistency(size1 + 1, size2, Root(size1 + 1), root2, *proof).ok());
      if (size2 < kMaxSize) {
        EXPECT_FALSE(VerifyConsistency(size1, size2 + 1, root1, Root(size2 + 1), *proof).ok());
      }
      EXPECT_FALSE(VerifyConsistency(size1, size2 - 1, root1, Root(size2 - 1), *proof).ok());
      // Roots of a different log of the same sizes.
      EXPECT_FALSE(VerifyConsistency(size1, size2, LeafHash("forged"), root2, *proof).ok());
    }
  }
}

TEST_F(MerklePropertyTest, ExhaustiveSmallTrees) {
  for (uint64_t n = 1; n <= 128; ++n) {
    const std::string root = Root(n);
    for (uint64_t m = 0; m < n; ++m) {
      ASSERT_TRUE(VerifyInclusion((*leaves_)[m], m, n, *InclusionProof(*tree_, m, n), root).ok())
          << m << " of " << n;
    }
    for (uint64_t m = 0; m <= n; ++m) {
      ASSERT_TRUE(VerifyConsistency(m, n, Root(m), root, *ConsistencyProof(*tree_, m, n)).ok())
          << m << " -> " << n;
    }
  }
}

}  // namespace
}  // namespace safeshare::transparency
