#ifndef SAFESHARE_TRANSPARENCY_MERKLE_H_
#define SAFESHARE_TRANSPARENCY_MERKLE_H_

// RFC 6962 / RFC 9162 Merkle tree hashing, proofs and proof verification over
// SHA-256 (OpenSSL EVP).
//
// Node (level, index) is the perfect subtree over leaves
// [index * 2^level, (index + 1) * 2^level); level 0 holds the leaf hashes. It
// is "complete" in a tree of size n when (index + 1) * 2^level <= n. Complete
// subtrees never change once the log has grown past them, so a log stores
// each one once (about 2n hashes in all) and builds every root and proof from
// O(log n) of them; nothing here rehashes the log.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace safeshare::transparency {

inline constexpr size_t kHashBytes = 32;

// Largest tree size accepted, so that index arithmetic cannot overflow.
inline constexpr uint64_t kMaxTreeSize = uint64_t{1} << 63;

// SHA-256(0x00 || record): the leaf hash of one log record.
std::string LeafHash(absl::string_view record);
// SHA-256(0x01 || left || right): an interior node.
std::string NodeHash(absl::string_view left, absl::string_view right);
// SHA-256(""): the root of the empty tree.
std::string EmptyRootHash();

// One complete subtree and its hash.
struct Subtree {
  uint64_t level = 0;
  uint64_t index = 0;
  std::string hash;

  friend bool operator==(const Subtree& a, const Subtree& b) {
    return a.level == b.level && a.index == b.index && a.hash == b.hash;
  }
};

// Where proofs get stored complete-subtree hashes from: the gateway's
// database, or MemoryTree below.
class SubtreeSource {
 public:
  virtual ~SubtreeSource() = default;

  // The 32-byte hash of complete subtree (level, index). Callers only ask for
  // subtrees that are complete in the tree size they work on. Errors (e.g.
  // NOT_FOUND from a store missing a row) are passed through unchanged.
  virtual absl::StatusOr<std::string> CompleteSubtree(uint64_t level, uint64_t index) = 0;
};

// Lookup counts below are calls to CompleteSubtree for a tree of size n, with
// L = ceil(log2 n). A wrong-sized hash from the source is DATA_LOSS.

// MTH(D[0:size]). popcount(size) <= L + 1 lookups (the "peaks").
absl::StatusOr<std::string> RootHash(SubtreeSource& source, uint64_t size);

// RFC 9162 PATH(leaf_index, D[0:tree_size]), leaf-adjacent sibling first.
// At most 2L lookups: one per complete sibling, plus the peaks under the
// single sibling (if any) that is cut short by the right edge of the tree.
// INVALID_ARGUMENT unless leaf_index < tree_size <= kMaxTreeSize.
absl::StatusOr<std::vector<std::string>> InclusionProof(SubtreeSource& source, uint64_t leaf_index,
                                                        uint64_t tree_size);

// RFC 9162 PROOF(size1, D[0:size2]). Empty when size1 is 0 or size1 == size2.
// At most 2L + 1 lookups (L for size2). INVALID_ARGUMENT if size1 > size2 or
// size2 > kMaxTreeSize.
absl::StatusOr<std::vector<std::string>> ConsistencyProof(SubtreeSource& source, uint64_t size1,
                                                          uint64_t size2);

// The subtrees that become complete when `leaf_hash` is appended at
// `leaf_index` (the tree grows from leaf_index to leaf_index + 1), bottom-up:
// the leaf itself at level 0, then one parent per trailing one bit of
// leaf_index. Each parent needs its left sibling from `source`, so this costs
// (trailing ones of leaf_index) lookups, 1 on average. Store all of them
// before appending the next leaf.
absl::StatusOr<std::vector<Subtree>> CompletedByAppend(SubtreeSource& source, uint64_t leaf_index,
                                                       absl::string_view leaf_hash);

// The right edge of a tree (its peaks, at most 64 hashes): appends and roots
// without any lookups, in memory that does not grow with the log. Load it
// once at startup, then Append each new leaf and store what it returns.
class Frontier {
 public:
  Frontier() = default;  // the empty tree

  // The frontier of the stored tree of `size` leaves: popcount(size) lookups.
  static absl::StatusOr<Frontier> Load(SubtreeSource& source, uint64_t size);

  uint64_t size() const { return size_; }
  // Same result as CompletedByAppend(source, size(), leaf_hash).
  absl::StatusOr<std::vector<Subtree>> Append(absl::string_view leaf_hash);
  std::string Root() const;

 private:
  uint64_t size_ = 0;
  std::vector<std::string> peaks_;  // largest (leftmost) first
};

// All complete subtrees in memory: for tests, benchmarks and the offline
// verifier. About 64 bytes per leaf.
class MemoryTree : public SubtreeSource {
 public:
  uint64_t size() const { return levels_.empty() ? 0 : levels_[0].size(); }

  // Appends LeafHash(record); returns that leaf hash.
  std::string Append(absl::string_view record);
  // INVALID_ARGUMENT unless leaf_hash is 32 bytes.
  absl::Status AppendLeafHash(absl::string_view leaf_hash);
  // Root of the first `size` leaves (default: all of them).
  absl::StatusOr<std::string> Root(uint64_t size) { return RootHash(*this, size); }
  absl::StatusOr<std::string> Root() { return RootHash(*this, size()); }

  // NOT_FOUND unless (level, index) is complete in the current tree.
  absl::StatusOr<std::string> CompleteSubtree(uint64_t level, uint64_t index) override;

 private:
  using Hash = std::array<char, kHashBytes>;
  std::vector<std::vector<Hash>> levels_;
};

// RFC 9162 section 2.1.3.2: the root that `proof` leads to from `leaf_hash`
// at `leaf_index` in a tree of `tree_size`. INVALID_ARGUMENT with the reason
// (index out of range, wrong proof length, wrong hash size).
absl::StatusOr<std::string> RootFromInclusionProof(absl::string_view leaf_hash, uint64_t leaf_index,
                                                   uint64_t tree_size,
                                                   const std::vector<std::string>& proof);

// OK iff `proof` proves `leaf_hash` is leaf `leaf_index` of the tree of
// `tree_size` whose root is `root`. INVALID_ARGUMENT with the reason
// otherwise ("root mismatch" when everything is well formed but wrong).
absl::Status VerifyInclusion(absl::string_view leaf_hash, uint64_t leaf_index, uint64_t tree_size,
                             const std::vector<std::string>& proof, absl::string_view root);

// RFC 9162 section 2.1.4.2: OK iff `proof` shows the tree of size2 with root2
// extends the tree of size1 with root1. Edge cases: size1 == size2 needs an
// empty proof and equal roots; size1 == 0 needs an empty proof and root1 the
// empty-tree hash. INVALID_ARGUMENT with the reason otherwise.
absl::Status VerifyConsistency(uint64_t size1, uint64_t size2, absl::string_view root1,
                               absl::string_view root2, const std::vector<std::string>& proof);

}  // namespace safeshare::transparency

#endif  // SAFESHARE_TRANSPARENCY_MERKLE_H_
