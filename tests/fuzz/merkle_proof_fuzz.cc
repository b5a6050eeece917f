// Outside bytes: inclusion and consistency proofs as the gateway serves them
// to agents and IG officers. Two halves. Arbitrary proofs never crash the
// verifiers. And for a real tree (its size and leaves from the fuzzer's
// bytes), the proofs it produces verify, and a changed proof, index or root
// does not.
#include <fuzzer/FuzzedDataProvider.h>

#include "tests/fuzz/fuzz_support.h"
#include "transparency/merkle.h"

namespace sf = safeshare::fuzz;
namespace st = safeshare::transparency;

namespace {

std::vector<std::string> Hashes(FuzzedDataProvider& in) {
  std::vector<std::string> out(in.ConsumeIntegralInRange(0, 70));
  // Mostly 32 bytes, sometimes not.
  for (auto& h : out)
    h = in.ConsumeBytesAsString(in.ConsumeBool() ? 32 : in.ConsumeIntegral<uint8_t>());
  return out;
}

void Arbitrary(FuzzedDataProvider& in) {
  const uint64_t a = in.ConsumeIntegral<uint64_t>(), b = in.ConsumeIntegral<uint64_t>();
  const std::string x = in.ConsumeBytesAsString(32), y = in.ConsumeBytesAsString(32);
  const auto proof = Hashes(in);
  (void)st::VerifyInclusion(x, a, b, proof, y);
  (void)st::RootFromInclusionProof(x, a, b, proof);
  (void)st::VerifyConsistency(a, b, x, y, proof);
  (void)st::VerifyConsistency(a % 300, b % 300, x, y, proof);
  (void)st::VerifyInclusion(x, a % 300, b % 300, proof, y);
}

// Flips one bit of one hash of `proof`.
std::vector<std::string> Tampered(std::vector<std::string> proof, FuzzedDataProvider& in) {
  auto& h = proof[in.ConsumeIntegralInRange<size_t>(0, proof.size() - 1)];
  h[in.ConsumeIntegralInRange<size_t>(0, h.size() - 1)] ^= 1 << in.ConsumeIntegralInRange(0, 7);
  return proof;
}

void RealTree(FuzzedDataProvider& in) {
  st::MemoryTree tree;
  const int n = in.ConsumeIntegralInRange(1, 300);
  for (int i = 0; i < n; ++i) tree.Append(std::to_string(i) + in.ConsumeBytesAsString(2));
  const uint64_t size2 = in.ConsumeIntegralInRange<uint64_t>(1, tree.size());
  const uint64_t size1 = in.ConsumeIntegralInRange<uint64_t>(0, size2);
  const uint64_t leaf = in.ConsumeIntegralInRange<uint64_t>(0, size2 - 1);
  auto root2 = tree.Root(size2);
  auto root1 = tree.Root(size1);
  FUZZ_REQUIRE(root1.ok() && root2.ok(), "a tree has roots");
  auto leaf_hash = tree.CompleteSubtree(0, leaf);
  FUZZ_REQUIRE(leaf_hash.ok(), "a leaf is a complete subtree");

  auto inclusion = st::InclusionProof(tree, leaf, size2);
  FUZZ_REQUIRE(inclusion.ok(), "an inclusion proof is produced");
  FUZZ_REQUIRE(st::VerifyInclusion(*leaf_hash, leaf, size2, *inclusion, *root2).ok(),
               "an inclusion proof verifies");
  if (!inclusion->empty()) {
    FUZZ_REQUIRE(
        !st::VerifyInclusion(*leaf_hash, leaf, size2, Tampered(*inclusion, in), *root2).ok(),
        "a changed inclusion proof does not verify");
  }
  if (size2 > 1) {
    const uint64_t other = (leaf + 1 + in.ConsumeIntegralInRange<uint64_t>(0, size2 - 2)) % size2;
    FUZZ_REQUIRE(!st::VerifyInclusion(*leaf_hash, other, size2, *inclusion, *root2).ok(),
                 "an inclusion proof does not verify at another index");
  }
  auto consistency = st::ConsistencyProof(tree, size1, size2);
  FUZZ_REQUIRE(consistency.ok(), "a consistency proof is produced");
  FUZZ_REQUIRE(st::VerifyConsistency(size1, size2, *root1, *root2, *consistency).ok(),
               "a consistency proof verifies");
  if (!consistency->empty()) {
    FUZZ_REQUIRE(
        !st::VerifyConsistency(size1, size2, *root1, *root2, Tampered(*consistency, in)).ok(),
        "a changed consistency proof does not verify");
  }
  if (size1 != size2) {
    std::string wrong = *root1;
    wrong[0] ^= 1;
    FUZZ_REQUIRE(!st::VerifyConsistency(size1, size2, wrong, *root2, *consistency).ok(),
                 "a consistency proof does not verify from another root");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  if (in.ConsumeBool()) {
    Arbitrary(in);
  } else {
    RealTree(in);
  }
  return 0;
}
