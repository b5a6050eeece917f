// Audit-log proof costs: inclusion and consistency proofs computed from stored
// complete-subtree hashes (a MemoryTree standing in for the gateway's table),
// proof verification, and appends through the Frontier. Sizes are 1,000 and
// 1,000,000 leaves, so the right edge of the tree is not a power of two and
// proofs include the cut-short node. Each tree is built once and kept.

#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "transparency/checkpoint.h"
#include "transparency/merkle.h"

namespace safeshare::transparency {
namespace {

MemoryTree& TreeOf(uint64_t size) {
  static auto* trees = new std::map<uint64_t, std::unique_ptr<MemoryTree>>;
  std::unique_ptr<MemoryTree>& tree = (*trees)[size];
  if (!tree) {
    tree = std::make_unique<MemoryTree>();
    for (uint64_t i = 0; i < size; ++i) tree->Append(absl::StrCat("audit record ", i));
  }
  return *tree;
}

// Spreads the leaves asked for over the whole tree (a 64-bit LCG).
struct LeafPicker {
  uint64_t state = 0x9e3779b97f4a7c15u;
  uint64_t Next(uint64_t size) {
    state = state * 6364136223846793005u + 1442695040888963407u;
    return (state >> 11) % size;
  }
};

// Counts lookups, to report them per proof.
class CountingSource : public SubtreeSource {
 public:
  explicit CountingSource(SubtreeSource& inner) : inner_(inner) {}
  absl::StatusOr<std::string> CompleteSubtree(uint64_t level, uint64_t index) override {
    ++lookups;
    return inner_.CompleteSubtree(level, index);
  }
  int64_t lookups = 0;

 private:
  SubtreeSource& inner_;
};

void BM_InclusionProof(benchmark::State& state) {
  const uint64_t size = state.range(0);
  CountingSource source(TreeOf(size));
  LeafPicker pick;
  int64_t hashes = 0;
  for (auto _ : state) {
    auto proof = InclusionProof(source, pick.Next(size), size);
    if (!proof.ok()) state.SkipWithError("proof failed");
    hashes += proof->size();
    benchmark::DoNotOptimize(proof);
  }
  state.counters["lookups/proof"] =
      benchmark::Counter(source.lookups, benchmark::Counter::kAvgIterations);
  state.counters["hashes/proof"] = benchmark::Counter(hashes, benchmark::Counter::kAvgIterations);
}
BENCHMARK(BM_InclusionProof)->Arg(1'000)->Arg(1'000'000);

void BM_ConsistencyProof(benchmark::State& state) {
  const uint64_t size = state.range(0);
  CountingSource source(TreeOf(size));
  LeafPicker pick;
  for (auto _ : state) {
    auto proof = ConsistencyProof(source, pick.Next(size) + 1, size);
    if (!proof.ok()) state.SkipWithError("proof failed");
    benchmark::DoNotOptimize(proof);
  }
  state.counters["lookups/proof"] =
      benchmark::Counter(source.lookups, benchmark::Counter::kAvgIterations);
}
BENCHMARK(BM_ConsistencyProof)->Arg(1'000)->Arg(1'000'000);

void BM_VerifyInclusion(benchmark::State& state) {
  const uint64_t size = state.range(0);
  MemoryTree& tree = TreeOf(size);
  const std::string root = *tree.Root(size);
  const uint64_t leaf = size / 3;
  const std::string leaf_hash = *tree.CompleteSubtree(0, leaf);
  const auto proof = *InclusionProof(tree, leaf, size);
  for (auto _ : state) {
    absl::Status s = VerifyInclusion(leaf_hash, leaf, size, proof, root);
    if (!s.ok()) state.SkipWithError("verify failed");
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_VerifyInclusion)->Arg(1'000)->Arg(1'000'000);

// One append: the leaf hash plus the subtrees it completes, and the new root
// a checkpoint would carry.
void BM_FrontierAppend(benchmark::State& state) {
  Frontier frontier;
  const std::string leaf = LeafHash("audit record");
  for (auto _ : state) {
    auto completed = frontier.Append(leaf);
    benchmark::DoNotOptimize(completed);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FrontierAppend);

// The checkpoint the committer signs after every batch (one Ed25519 signature
// over the note, and its formatting).
void BM_SignCheckpoint(benchmark::State& state) {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  const Checkpoint checkpoint{"audit.safeshare.example/log", 1'234'567, LeafHash("root")};
  for (auto _ : state) {
    auto note = SignCheckpoint(checkpoint, checkpoint.origin, key);
    benchmark::DoNotOptimize(note);
  }
  EVP_PKEY_free(key);
}
BENCHMARK(BM_SignCheckpoint);

}  // namespace
}  // namespace safeshare::transparency

BENCHMARK_MAIN();
