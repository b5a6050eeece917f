#include "transparency/merkle.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

#include "absl/numeric/bits.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace safeshare::transparency {
namespace {

struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

// SHA-256(prefix || a || b). The digest is fetched once and the context kept
// per thread: proofs and appends hash in tight loops.
std::string Sha256(absl::string_view prefix, absl::string_view a, absl::string_view b) {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  thread_local std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  std::string out(kHashBytes, '\0');
  unsigned int len = 0;
  // These fail only on allocation failure; there is no sane recovery.
  if (md == nullptr || !ctx || EVP_DigestInit_ex2(ctx.get(), md, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), prefix.data(), prefix.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), a.data(), a.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), b.data(), b.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len) != 1 ||
      len != kHashBytes) {
    std::abort();
  }
  return out;
}

constexpr absl::string_view kLeafPrefix("\x00", 1);
constexpr absl::string_view kNodePrefix("\x01", 1);

// First 4 bytes in hex, for error messages.
std::string Short(absl::string_view hash) {
  return absl::StrCat(absl::BytesToHexString(hash.substr(0, 4)), "...");
}

absl::Status CheckHash(absl::string_view what, absl::string_view hash) {
  if (hash.size() == kHashBytes) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(what, " is ", hash.size(), " bytes, expected ", kHashBytes));
}

absl::Status CheckProofHashes(const std::vector<std::string>& proof) {
  for (size_t i = 0; i < proof.size(); ++i) {
    if (auto s = CheckHash(absl::StrCat("proof hash ", i), proof[i]); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> Lookup(SubtreeSource& source, uint64_t level, uint64_t index) {
  absl::StatusOr<std::string> hash = source.CompleteSubtree(level, index);
  if (!hash.ok()) return hash.status();
  if (hash->size() != kHashBytes) {
    return absl::DataLossError(absl::StrCat("stored subtree (", level, ", ", index, ") is ",
                                            hash->size(), " bytes, expected ", kHashBytes));
  }
  return hash;
}

// MTH of leaves [begin, end) where begin is a multiple of a power of two
// larger than end - begin: a node cut short by the tree's right edge, or the
// whole tree when begin is 0. Its complete subtrees are the set bits of
// end - begin, largest first; RFC 6962 splits at the largest power of two, so
// they fold from the right. popcount(end - begin) lookups.
absl::StatusOr<std::string> RangeHash(SubtreeSource& source, uint64_t begin, uint64_t end) {
  std::vector<std::string> parts;
  uint64_t cursor = begin;
  const uint64_t count = end - begin;
  for (int level = 63; level >= 0; --level) {
    if (((count >> level) & 1) == 0) continue;
    absl::StatusOr<std::string> hash = Lookup(source, level, cursor >> level);
    if (!hash.ok()) return hash.status();
    parts.push_back(*std::move(hash));
    cursor += uint64_t{1} << level;
  }
  std::string acc = std::move(parts.back());
  for (size_t i = parts.size() - 1; i-- > 0;) acc = NodeHash(parts[i], acc);
  return acc;
}

// The hash of node (level, index) in a tree of `size` leaves, which may be cut
// short by the right edge. Requires index << level < size.
absl::StatusOr<std::string> NodeInTree(SubtreeSource& source, uint64_t level, uint64_t index,
                                       uint64_t size) {
  const uint64_t begin = index << level;
  if (size - begin >= (uint64_t{1} << level)) return Lookup(source, level, index);
  return RangeHash(source, begin, size);
}

// Appends the siblings on the way from complete node (level, index) up to the
// root of the tree of `size`, lowest first. A sibling entirely beyond the right
// edge contributes nothing (the node is promoted). Only the first sibling that
// is cut short can appear: above it, the path runs along the right edge and
// every sibling is to the left, hence complete.
absl::Status AppendPath(SubtreeSource& source, uint64_t level, uint64_t index, uint64_t size,
                        std::vector<std::string>& out) {
  for (; ((size - 1) >> level) != 0; ++level, index >>= 1) {
    const uint64_t sibling = index ^ 1;
    if ((sibling << level) >= size) continue;
    absl::StatusOr<std::string> hash = NodeInTree(source, level, sibling, size);
    if (!hash.ok()) return hash.status();
    out.push_back(*std::move(hash));
  }
  return absl::OkStatus();
}

absl::Status CheckTreeSize(uint64_t size) {
  if (size <= kMaxTreeSize) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("tree size ", size, " exceeds 2^63"));
}

// Number of hashes in PATH(index, D[0:size]): `inner` siblings below the level
// where the leaf's path meets the right edge, then one per set bit above it.
uint64_t InclusionProofSize(uint64_t index, uint64_t size) {
  const int inner = absl::bit_width(index ^ (size - 1));
  return inner + absl::popcount(index >> inner);
}

}  // namespace

std::string LeafHash(absl::string_view record) { return Sha256(kLeafPrefix, record, ""); }

std::string NodeHash(absl::string_view left, absl::string_view right) {
  return Sha256(kNodePrefix, left, right);
}

std::string EmptyRootHash() { return Sha256("", "", ""); }

absl::StatusOr<std::string> RootHash(SubtreeSource& source, uint64_t size) {
  if (auto s = CheckTreeSize(size); !s.ok()) return s;
  if (size == 0) return EmptyRootHash();
  return RangeHash(source, 0, size);
}

absl::StatusOr<std::vector<std::string>> InclusionProof(SubtreeSource& source, uint64_t leaf_index,
                                                        uint64_t tree_size) {
  if (auto s = CheckTreeSize(tree_size); !s.ok()) return s;
  if (leaf_index >= tree_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("leaf index ", leaf_index, " is outside the tree of size ", tree_size));
  }
  std::vector<std::string> proof;
  if (auto s = AppendPath(source, 0, leaf_index, tree_size, proof); !s.ok()) return s;
  return proof;
}

absl::StatusOr<std::vector<std::string>> ConsistencyProof(SubtreeSource& source, uint64_t size1,
                                                          uint64_t size2) {
  if (auto s = CheckTreeSize(size2); !s.ok()) return s;
  if (size1 > size2) {
    return absl::InvalidArgumentError(
        absl::StrCat("size1 ", size1, " is larger than size2 ", size2));
  }
  std::vector<std::string> proof;
  if (size1 == 0 || size1 == size2) return proof;
  // The largest complete subtree ending at size1. It is a node of both trees,
  // so the proof is that node (omitted when it is the whole old tree, whose
  // root the verifier already has) followed by its inclusion path in size2.
  const int level = absl::countr_zero(size1);
  const uint64_t index = (size1 - 1) >> level;
  if (index != 0) {
    absl::StatusOr<std::string> hash = Lookup(source, level, index);
    if (!hash.ok()) return hash.status();
    proof.push_back(*std::move(hash));
  }
  if (auto s = AppendPath(source, level, index, size2, proof); !s.ok()) return s;
  return proof;
}

absl::StatusOr<std::vector<Subtree>> CompletedByAppend(SubtreeSource& source, uint64_t leaf_index,
                                                       absl::string_view leaf_hash) {
  if (auto s = CheckHash("leaf hash", leaf_hash); !s.ok()) return s;
  if (leaf_index >= kMaxTreeSize) return absl::InvalidArgumentError("the tree is full (2^63)");
  std::vector<Subtree> out;
  out.push_back({0, leaf_index, std::string(leaf_hash)});
  // Each trailing one bit of the index closes a parent with the left sibling.
  uint64_t index = leaf_index;
  for (uint64_t level = 0; (index & 1) != 0; ++level, index >>= 1) {
    absl::StatusOr<std::string> left = Lookup(source, level, index - 1);
    if (!left.ok()) return left.status();
    out.push_back({level + 1, index >> 1, NodeHash(*left, out.back().hash)});
  }
  return out;
}

absl::StatusOr<Frontier> Frontier::Load(SubtreeSource& source, uint64_t size) {
  if (auto s = CheckTreeSize(size); !s.ok()) return s;
  Frontier f;
  f.size_ = size;
  uint64_t cursor = 0;
  for (int level = 63; level >= 0; --level) {
    if (((size >> level) & 1) == 0) continue;
    absl::StatusOr<std::string> hash = Lookup(source, level, cursor >> level);
    if (!hash.ok()) return hash.status();
    f.peaks_.push_back(*std::move(hash));
    cursor += uint64_t{1} << level;
  }
  return f;
}

absl::StatusOr<std::vector<Subtree>> Frontier::Append(absl::string_view leaf_hash) {
  if (auto s = CheckHash("leaf hash", leaf_hash); !s.ok()) return s;
  if (size_ >= kMaxTreeSize) return absl::InvalidArgumentError("the tree is full (2^63)");
  std::vector<Subtree> out;
  out.push_back({0, size_, std::string(leaf_hash)});
  // The smallest peaks are exactly the left siblings the new leaf completes.
  uint64_t index = size_;
  for (uint64_t level = 0; (index & 1) != 0; ++level, index >>= 1) {
    out.push_back({level + 1, index >> 1, NodeHash(peaks_.back(), out.back().hash)});
    peaks_.pop_back();
  }
  peaks_.push_back(out.back().hash);
  ++size_;
  return out;
}

std::string Frontier::Root() const {
  if (peaks_.empty()) return EmptyRootHash();
  std::string acc = peaks_.back();
  for (size_t i = peaks_.size() - 1; i-- > 0;) acc = NodeHash(peaks_[i], acc);
  return acc;
}

std::string MemoryTree::Append(absl::string_view record) {
  std::string leaf = LeafHash(record);
  // Cannot fail: the hash is 32 bytes and every left sibling is stored.
  if (!AppendLeafHash(leaf).ok()) std::abort();
  return leaf;
}

absl::Status MemoryTree::AppendLeafHash(absl::string_view leaf_hash) {
  absl::StatusOr<std::vector<Subtree>> completed = CompletedByAppend(*this, size(), leaf_hash);
  if (!completed.ok()) return completed.status();
  for (const Subtree& t : *completed) {
    if (levels_.size() <= t.level) levels_.resize(t.level + 1);
    Hash& h = levels_[t.level].emplace_back();
    std::copy(t.hash.begin(), t.hash.end(), h.begin());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> MemoryTree::CompleteSubtree(uint64_t level, uint64_t index) {
  if (level >= levels_.size() || index >= levels_[level].size()) {
    return absl::NotFoundError(absl::StrCat("subtree (", level, ", ", index,
                                            ") is not complete in a tree of size ", size()));
  }
  const Hash& h = levels_[level][index];
  return std::string(h.data(), h.size());
}

absl::StatusOr<std::string> RootFromInclusionProof(absl::string_view leaf_hash, uint64_t leaf_index,
                                                   uint64_t tree_size,
                                                   const std::vector<std::string>& proof) {
  if (auto s = CheckTreeSize(tree_size); !s.ok()) return s;
  if (leaf_index >= tree_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("leaf index ", leaf_index, " is outside the tree of size ", tree_size));
  }
  if (auto s = CheckHash("leaf hash", leaf_hash); !s.ok()) return s;
  if (auto s = CheckProofHashes(proof); !s.ok()) return s;
  if (const uint64_t want = InclusionProofSize(leaf_index, tree_size); proof.size() != want) {
    return absl::InvalidArgumentError(absl::StrCat("inclusion proof has ", proof.size(),
                                                   " hashes, expected ", want, " for leaf ",
                                                   leaf_index, " of ", tree_size));
  }
  // RFC 9162 section 2.1.3.2, step by step.
  uint64_t fn = leaf_index;
  uint64_t sn = tree_size - 1;
  std::string r(leaf_hash);
  for (const std::string& p : proof) {
    if (sn == 0) return absl::InvalidArgumentError("inclusion proof is longer than the path");
    if ((fn & 1) != 0 || fn == sn) {
      r = NodeHash(p, r);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return absl::InvalidArgumentError("inclusion proof is shorter than the path");
  return r;
}

absl::Status VerifyInclusion(absl::string_view leaf_hash, uint64_t leaf_index, uint64_t tree_size,
                             const std::vector<std::string>& proof, absl::string_view root) {
  if (auto s = CheckHash("root hash", root); !s.ok()) return s;
  absl::StatusOr<std::string> computed =
      RootFromInclusionProof(leaf_hash, leaf_index, tree_size, proof);
  if (!computed.ok()) return computed.status();
  if (*computed != root) {
    return absl::InvalidArgumentError(absl::StrCat("root mismatch: the proof for leaf ", leaf_index,
                                                   " of ", tree_size, " leads to ",
                                                   Short(*computed), ", expected ", Short(root)));
  }
  return absl::OkStatus();
}

absl::Status VerifyConsistency(uint64_t size1, uint64_t size2, absl::string_view root1,
                               absl::string_view root2, const std::vector<std::string>& proof) {
  if (auto s = CheckHash("root1", root1); !s.ok()) return s;
  if (auto s = CheckHash("root2", root2); !s.ok()) return s;
  if (auto s = CheckProofHashes(proof); !s.ok()) return s;
  if (auto s = CheckTreeSize(size2); !s.ok()) return s;
  if (size1 > size2) {
    return absl::InvalidArgumentError(
        absl::StrCat("size1 ", size1, " is larger than size2 ", size2));
  }
  if (size1 == size2) {
    if (!proof.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("trees of equal size need an empty proof, got ", proof.size(), " hashes"));
    }
    if (root1 != root2) {
      return absl::InvalidArgumentError(absl::StrCat("root mismatch: trees of size ", size1,
                                                     " with different roots ", Short(root1),
                                                     " and ", Short(root2)));
    }
    return absl::OkStatus();
  }
  if (size1 == 0) {
    // Every tree extends the empty one; its root is fixed.
    if (!proof.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("a proof from the empty tree must be empty, got ", proof.size(), " hashes"));
    }
    if (root1 != EmptyRootHash()) {
      return absl::InvalidArgumentError("root1 mismatch: not the empty-tree hash for size 0");
    }
    return absl::OkStatus();
  }
  const int shift = absl::countr_zero(size1);
  const int full_inner = absl::bit_width((size1 - 1) ^ (size2 - 1));
  const bool power_of_two = absl::has_single_bit(size1);
  const uint64_t want =
      (power_of_two ? 0 : 1) + (full_inner - shift) + absl::popcount((size1 - 1) >> full_inner);
  if (proof.size() != want) {
    return absl::InvalidArgumentError(absl::StrCat("consistency proof has ", proof.size(),
                                                   " hashes, expected ", want, " for ", size1,
                                                   " -> ", size2));
  }
  // RFC 9162 section 2.1.4.2, step by step.
  std::vector<absl::string_view> path;
  if (power_of_two) path.push_back(root1);
  path.insert(path.end(), proof.begin(), proof.end());
  uint64_t fn = size1 - 1;
  uint64_t sn = size2 - 1;
  while ((fn & 1) != 0) {
    fn >>= 1;
    sn >>= 1;
  }
  std::string fr(path[0]);
  std::string sr(path[0]);
  for (size_t i = 1; i < path.size(); ++i) {
    if (sn == 0) return absl::InvalidArgumentError("consistency proof is longer than the path");
    if ((fn & 1) != 0 || fn == sn) {
      fr = NodeHash(path[i], fr);
      sr = NodeHash(path[i], sr);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = NodeHash(sr, path[i]);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return absl::InvalidArgumentError("consistency proof is shorter than the path");
  if (fr != root1) {
    return absl::InvalidArgumentError(absl::StrCat("root1 mismatch: the proof leads to ", Short(fr),
                                                   ", expected ", Short(root1)));
  }
  if (sr != root2) {
    return absl::InvalidArgumentError(absl::StrCat("root2 mismatch: the proof leads to ", Short(sr),
                                                   ", expected ", Short(root2)));
  }
  return absl::OkStatus();
}

}  // namespace safeshare::transparency
