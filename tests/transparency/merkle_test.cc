// RFC 6962 Merkle tree tests against the published test data.
//
// Every hex string below is copied from github.com/transparency-dev/merkle
// (the RFC 6962 data also used by certificate-transparency-go):
//   testonly/constants.go  - leaf inputs, node hashes of the 8-leaf tree,
//                            roots for sizes 0..8;
//   proof/verify_test.go   - inclusion and consistency proofs, the corruption
//                            probes and the edge-case tables;
//   proof/proof_test.go    - which nodes make up each proof (node ids), for
//                            trees up to 95 leaves.
// Nothing is derived by hand, except that verify_test.go numbers leaves from
// 1 and these tables from 0.

#include "transparency/merkle.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/numeric/bits.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace safeshare::transparency {
namespace {

using Proof = std::vector<std::string>;

std::string H(absl::string_view hex) { return absl::HexStringToBytes(hex); }

Proof Hs(std::initializer_list<absl::string_view> hexes) {
  Proof out;
  for (absl::string_view h : hexes) out.push_back(H(h));
  return out;
}

void ExpectError(const absl::Status& s, absl::StatusCode code, absl::string_view needle) {
  EXPECT_EQ(s.code(), code) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), needle)) << s << " lacks \"" << needle << "\"";
}

const std::vector<std::string>& LeafInputs() {
  static const auto* v = new std::vector<std::string>{H(""),
                                                      H("00"),
                                                      H("10"),
                                                      H("2021"),
                                                      H("3031"),
                                                      H("40414243"),
                                                      H("5051525354555657"),
                                                      H("606162636465666768696a6b6c6d6e6f")};
  return *v;
}

// Roots indexed by tree size, 0..8.
const std::vector<std::string>& Roots() {
  static const auto* v = new std::vector<std::string>(Hs({
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
      "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
      "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
      "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
      "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
      "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
  }));
  return *v;
}

// Node hashes of the 8-leaf tree: [level][index].
const std::vector<Proof>& NodeHashes() {
  static const auto* v = new std::vector<Proof>{
      Hs({"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
          "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
          "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
          "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
          "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
          "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
          "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
          "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"}),
      Hs({"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
          "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
          "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
          "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"}),
      Hs({"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
          "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}),
      Hs({"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"}),
  };
  return *v;
}

const std::string kSomeHash = H("abacaba000000000000000000000000000000000000000000060061e00123456");

struct InclusionVector {
  uint64_t index;  // 0-based
  uint64_t size;
  Proof proof;
};

const std::vector<InclusionVector>& InclusionVectors() {
  static const auto* v = new std::vector<InclusionVector>{
      {0, 1, {}},
      {0, 8,
       Hs({"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
           "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
           "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"})},
      {5, 8,
       Hs({"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
           "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
           "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"})},
      {2, 3, Hs({"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"})},
      {1, 5,
       Hs({"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
           "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
           "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"})},
  };
  return *v;
}

struct ConsistencyVector {
  uint64_t size1;
  uint64_t size2;
  Proof proof;
};

const std::vector<ConsistencyVector>& ConsistencyVectors() {
  static const auto* v = new std::vector<ConsistencyVector>{
      {1, 1, {}},
      {1, 8,
       Hs({"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
           "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
           "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"})},
      {6, 8,
       Hs({"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
           "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
           "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"})},
      {2, 5,
       Hs({"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
           "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"})},
      {6, 7,
       Hs({"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
           "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
           "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"})},
  };
  return *v;
}

MemoryTree GoldenTree() {
  MemoryTree tree;
  for (const std::string& leaf : LeafInputs()) tree.Append(leaf);
  return tree;
}

TEST(MerkleHashTest, MatchesPublishedHashes) {
  EXPECT_EQ(EmptyRootHash(), Roots()[0]);
  for (size_t i = 0; i < LeafInputs().size(); ++i) {
    EXPECT_EQ(LeafHash(LeafInputs()[i]), NodeHashes()[0][i]) << i;
  }
  for (size_t level = 1; level < NodeHashes().size(); ++level) {
    for (size_t i = 0; i < NodeHashes()[level].size(); ++i) {
      EXPECT_EQ(NodeHash(NodeHashes()[level - 1][2 * i], NodeHashes()[level - 1][2 * i + 1]),
                NodeHashes()[level][i])
          << level << "/" << i;
    }
  }
}

TEST(MemoryTreeTest, RootsMatchPublishedRootsOneLeafAtATime) {
  MemoryTree tree;
  EXPECT_EQ(*tree.Root(), Roots()[0]);
  for (size_t i = 0; i < LeafInputs().size(); ++i) {
    EXPECT_EQ(tree.Append(LeafInputs()[i]), NodeHashes()[0][i]);
    EXPECT_EQ(tree.size(), i + 1);
    EXPECT_EQ(*tree.Root(), Roots()[i + 1]) << "size " << i + 1;
  }
}

TEST(MemoryTreeTest, SmallerTreesWithinTheStoredTree) {
  MemoryTree tree = GoldenTree();
  for (uint64_t size = 0; size <= 8; ++size) {
    absl::StatusOr<std::string> root = RootHash(tree, size);
    ASSERT_TRUE(root.ok()) << root.status();
    EXPECT_EQ(*root, Roots()[size]) << "size " << size;
  }
}

TEST(MemoryTreeTest, StoresExactlyTheCompleteSubtrees) {
  MemoryTree tree = GoldenTree();
  for (size_t level = 0; level < NodeHashes().size(); ++level) {
    for (size_t i = 0; i < NodeHashes()[level].size(); ++i) {
      EXPECT_EQ(*tree.CompleteSubtree(level, i), NodeHashes()[level][i]);
    }
    EXPECT_EQ(tree.CompleteSubtree(level, NodeHashes()[level].size()).status().code(),
              absl::StatusCode::kNotFound);
  }
  EXPECT_EQ(tree.CompleteSubtree(4, 0).status().code(), absl::StatusCode::kNotFound);
  ExpectError(tree.AppendLeafHash("short"), absl::StatusCode::kInvalidArgument,
              "leaf hash is 5 bytes, expected 32");
  EXPECT_EQ(tree.size(), 8u);
}

TEST(InclusionProofTest, MatchesPublishedVectors) {
  MemoryTree tree = GoldenTree();
  for (const InclusionVector& v : InclusionVectors()) {
    SCOPED_TRACE(absl::StrCat("leaf ", v.index, " of ", v.size));
    absl::StatusOr<Proof> proof = InclusionProof(tree, v.index, v.size);
    ASSERT_TRUE(proof.ok()) << proof.status();
    EXPECT_EQ(*proof, v.proof);
    const std::string& leaf = NodeHashes()[0][v.index];
    EXPECT_TRUE(VerifyInclusion(leaf, v.index, v.size, v.proof, Roots()[v.size]).ok());
    absl::StatusOr<std::string> root = RootFromInclusionProof(leaf, v.index, v.size, v.proof);
    ASSERT_TRUE(root.ok()) << root.status();
    EXPECT_EQ(*root, Roots()[v.size]);
  }
}

TEST(ConsistencyProofTest, MatchesPublishedVectors) {
  MemoryTree tree = GoldenTree();
  for (const ConsistencyVector& v : ConsistencyVectors()) {
    SCOPED_TRACE(absl::StrCat(v.size1, " -> ", v.size2));
    absl::StatusOr<Proof> proof = ConsistencyProof(tree, v.size1, v.size2);
    ASSERT_TRUE(proof.ok()) << proof.status();
    EXPECT_EQ(*proof, v.proof);
    EXPECT_TRUE(
        VerifyConsistency(v.size1, v.size2, Roots()[v.size1], Roots()[v.size2], v.proof).ok());
  }
}

// proof/proof_test.go lists the nodes of each proof; over the golden tree those
// nodes are the published node hashes. Letters as in that file:
//   a..f, j = leaves 0..6; g, h, i = level 1; k, l8 = level 2 (l8 is complete
//   only at size 8; at size 7, l = hash(i, j)).
class ProofLayoutTest : public ::testing::Test {
 protected:
  const Proof& n0 = NodeHashes()[0];
  const Proof& n1 = NodeHashes()[1];
  const std::string a = n0[0], b = n0[1], c = n0[2], d = n0[3], e = n0[4], f = n0[5], j = n0[6],
                    leaf7 = n0[7];
  const std::string g = n1[0], h = n1[1], i = n1[2];
  const std::string k = NodeHashes()[2][0], l8 = NodeHashes()[2][1];
  const std::string l7 = NodeHash(i, j);
  MemoryTree tree = GoldenTree();
};

TEST_F(ProofLayoutTest, InclusionNodes) {
  struct Case {
    uint64_t size, index;
    Proof want;
  };
  const std::vector<Case> cases = {
      {1, 0, {}},         {2, 0, {b}},        {2, 1, {a}},        {3, 1, {a, c}},
      {7, 0, {b, h, l7}}, {7, 1, {a, h, l7}}, {7, 2, {d, g, l7}}, {7, 3, {c, g, l7}},
      {7, 4, {f, j, k}},  {7, 5, {e, j, k}},  {7, 6, {i, k}},     {4, 2, {d, g}},
      {5, 3, {c, g, e}},  {6, 3, {c, g, i}},  {6, 4, {f, k}},
  };
  for (const Case& t : cases) {
    absl::StatusOr<Proof> proof = InclusionProof(tree, t.index, t.size);
    ASSERT_TRUE(proof.ok()) << proof.status();
    EXPECT_EQ(*proof, t.want) << "leaf " << t.index << " of " << t.size;
  }
  // Errors from the same table.
  for (auto [size, index] :
       std::vector<std::pair<uint64_t, uint64_t>>{{0, 0}, {0, 1}, {1, 2}, {0, 3}, {7, 8}}) {
    ExpectError(InclusionProof(tree, index, size).status(), absl::StatusCode::kInvalidArgument,
                "is outside the tree");
  }
}

TEST_F(ProofLayoutTest, ConsistencyNodes) {
  struct Case {
    uint64_t size1, size2;
    Proof want;
  };
  const std::vector<Case> cases = {
      {1, 2, {b}},          {1, 4, {b, h}},
      {1, 6, {b, h, i}},    {2, 3, {c}},
      {2, 8, {h, l8}},      {3, 7, {c, d, g, l7}},
      {4, 7, {l7}},         {5, 7, {e, f, j, k}},
      {6, 7, {i, j, k}},    {7, 8, {j, leaf7, i, k}},
      {2, 4, {h}},          {3, 5, {c, d, g, e}},
      {3, 6, {c, d, g, i}}, {4, 6, {i}},
      {1, 7, {b, h, l7}},
  };
  for (const Case& t : cases) {
    absl::StatusOr<Proof> proof = ConsistencyProof(tree, t.size1, t.size2);
    ASSERT_TRUE(proof.ok()) << proof.status();
    EXPECT_EQ(*proof, t.want) << t.size1 << " -> " << t.size2;
  }
  for (uint64_t size = 0; size <= 8; ++size) {
    EXPECT_TRUE(ConsistencyProof(tree, size, size)->empty()) << size;
  }
  EXPECT_TRUE(ConsistencyProof(tree, 0, 5)->empty());
  ExpectError(ConsistencyProof(tree, 5, 0).status(), absl::StatusCode::kInvalidArgument,
              "size1 5 is larger than size2 0");
  ExpectError(ConsistencyProof(tree, 9, 8).status(), absl::StatusCode::kInvalidArgument,
              "size1 9 is larger than size2 8");
}

// The bigger cases of proof_test.go, where a cut-short node sits mid-proof.
// rehash(begin, end, ids) there means ids[begin:end] fold into one hash.
TEST(ProofLayoutLargeTest, CutShortNodesInTheMiddle) {
  MemoryTree tree;
  for (int i = 0; i < 95; ++i) tree.Append(absl::StrCat("leaf ", i));
  auto n = [&tree](uint64_t level, uint64_t index) { return *tree.CompleteSubtree(level, index); };
  EXPECT_EQ(*InclusionProof(tree, 10, 15),
            (Proof{n(0, 11), n(1, 4), NodeHash(n(1, 6), n(0, 14)), n(3, 0)}));
  EXPECT_EQ(*InclusionProof(tree, 24, 31),
            (Proof{n(0, 25), n(1, 13), NodeHash(n(1, 14), n(0, 30)), n(3, 2), n(4, 0)}));
  EXPECT_EQ(*InclusionProof(tree, 81, 95),
            (Proof{n(0, 80), n(1, 41), n(2, 21), NodeHash(n(2, 22), NodeHash(n(1, 46), n(0, 94))),
                   n(4, 4), n(6, 0)}));
  EXPECT_EQ(*ConsistencyProof(tree, 10, 15),
            (Proof{n(1, 4), n(1, 5), NodeHash(n(1, 6), n(0, 14)), n(3, 0)}));
  EXPECT_EQ(*ConsistencyProof(tree, 24, 31),
            (Proof{n(3, 2), NodeHash(n(2, 6), NodeHash(n(1, 14), n(0, 30))), n(4, 0)}));
  EXPECT_EQ(*ConsistencyProof(tree, 81, 95),
            (Proof{n(0, 80), n(0, 81), n(1, 41), n(2, 21),
                   NodeHash(n(2, 22), NodeHash(n(1, 46), n(0, 94))), n(4, 4), n(6, 0)}));
}

Proof Prepend(const Proof& p, std::initializer_list<std::string> front) {
  Proof out(front);
  out.insert(out.end(), p.begin(), p.end());
  return out;
}
Proof Extend(Proof p, const std::string& back) {
  p.push_back(back);
  return p;
}

// corruptInclusionProof from verify_test.go: every probe must fail.
TEST(VerifyInclusionTest, CorruptedPublishedProofsFail) {
  for (const InclusionVector& v : InclusionVectors()) {
    SCOPED_TRACE(absl::StrCat("leaf ", v.index, " of ", v.size));
    const std::string& leaf = NodeHashes()[0][v.index];
    const std::string& root = Roots()[v.size];
    ASSERT_TRUE(VerifyInclusion(leaf, v.index, v.size, v.proof, root).ok());
    struct Probe {
      uint64_t index, size;
      std::string root, leaf;
      Proof proof;
      std::string desc;
    };
    std::vector<Probe> probes = {
        {v.index - 1, v.size, root, leaf, v.proof, "index - 1"},
        {v.index + 1, v.size, root, leaf, v.proof, "index + 1"},
        {v.index ^ 2, v.size, root, leaf, v.proof, "index ^ 2"},
        {v.index, v.size * 2, root, leaf, v.proof, "size * 2"},
        {v.index, v.size / 2, root, leaf, v.proof, "size / 2"},
        {v.index, v.size, root, "WrongLeaf", v.proof, "wrong leaf"},
        {v.index, v.size, root, kSomeHash, v.proof, "other leaf"},
        {v.index, v.size, Roots()[0], leaf, v.proof, "empty root"},
        {v.index, v.size, kSomeHash, leaf, v.proof, "random root"},
        {v.index, v.size, root, leaf, Extend(v.proof, ""), "trailing garbage"},
        {v.index, v.size, root, leaf, Extend(v.proof, root), "trailing root"},
        {v.index, v.size, root, leaf, Prepend(v.proof, {""}), "preceding garbage"},
        {v.index, v.size, root, leaf, Prepend(v.proof, {root}), "preceding root"},
    };
    for (size_t i = 0; i < v.proof.size(); ++i) {
      Proof p = v.proof;
      p[i][0] ^= 8;
      probes.push_back({v.index, v.size, root, leaf, p, absl::StrCat("modified proof[", i, "]")});
    }
    if (!v.proof.empty()) {
      probes.push_back({v.index, v.size, root, leaf, Proof(v.proof.begin(), v.proof.end() - 1),
                        "removed component"});
    }
    if (v.proof.size() > 1) {
      Proof p = Prepend(Proof(v.proof.begin() + 1, v.proof.end()), {v.proof[0], kSomeHash});
      probes.push_back({v.index, v.size, root, leaf, p, "inserted component"});
    }
    for (const Probe& p : probes) {
      EXPECT_FALSE(VerifyInclusion(p.leaf, p.index, p.size, p.proof, p.root).ok()) << p.desc;
    }
  }
}

TEST(VerifyInclusionTest, ReasonsAreSpecific) {
  const InclusionVector& v = InclusionVectors()[1];  // leaf 0 of 8
  const std::string& leaf = NodeHashes()[0][0];
  ExpectError(VerifyInclusion(leaf, 0, 8, Proof(v.proof.begin(), v.proof.end() - 1), Roots()[8]),
              absl::StatusCode::kInvalidArgument, "inclusion proof has 2 hashes, expected 3");
  ExpectError(VerifyInclusion(leaf, 0, 8, Extend(v.proof, kSomeHash), Roots()[8]),
              absl::StatusCode::kInvalidArgument, "inclusion proof has 4 hashes, expected 3");
  ExpectError(VerifyInclusion(leaf, 0, 8, v.proof, Roots()[7]), absl::StatusCode::kInvalidArgument,
              "root mismatch");
  Proof swapped = v.proof;
  std::swap(swapped[0], swapped[1]);
  ExpectError(VerifyInclusion(leaf, 0, 8, swapped, Roots()[8]), absl::StatusCode::kInvalidArgument,
              "root mismatch");
  ExpectError(VerifyInclusion(leaf, 8, 8, v.proof, Roots()[8]), absl::StatusCode::kInvalidArgument,
              "leaf index 8 is outside the tree of size 8");
  ExpectError(VerifyInclusion(leaf, 0, 8, Extend(Proof(v.proof.begin(), v.proof.end() - 1), "x"),
                              Roots()[8]),
              absl::StatusCode::kInvalidArgument, "proof hash 2 is 1 bytes, expected 32");
  ExpectError(VerifyInclusion(leaf, 0, 8, v.proof, "root"), absl::StatusCode::kInvalidArgument,
              "root hash is 4 bytes");
  ExpectError(VerifyInclusion("leaf", 0, 8, v.proof, Roots()[8]),
              absl::StatusCode::kInvalidArgument, "leaf hash is 4 bytes");
}

// TestVerifyInclusionSingleEntry and TestVerifyInclusion's probes. Our
// verifier also refuses any hash that is not 32 bytes.
TEST(VerifyInclusionTest, EdgeCases) {
  const std::string hash = LeafHash("data");
  EXPECT_TRUE(VerifyInclusion(hash, 0, 1, {}, hash).ok());
  EXPECT_FALSE(VerifyInclusion("", 0, 1, {}, hash).ok());
  EXPECT_FALSE(VerifyInclusion(hash, 0, 1, {}, "").ok());
  EXPECT_FALSE(VerifyInclusion("", 0, 1, {}, "").ok());
  for (auto [index, size] :
       std::vector<std::pair<uint64_t, uint64_t>>{{0, 0}, {0, 1}, {1, 0}, {2, 1}}) {
    EXPECT_FALSE(VerifyInclusion(kSomeHash, index, size, {}, "").ok());
    EXPECT_FALSE(VerifyInclusion("", index, size, {}, Roots()[0]).ok());
    EXPECT_FALSE(VerifyInclusion(kSomeHash, index, size, {}, Roots()[0]).ok());
  }
}

// corruptConsistencyProof from verify_test.go: every probe must fail.
TEST(VerifyConsistencyTest, CorruptedPublishedProofsFail) {
  const std::string wrong = LeafHash("WrongRoot");
  for (const ConsistencyVector& v : ConsistencyVectors()) {
    if (v.proof.empty()) continue;
    SCOPED_TRACE(absl::StrCat(v.size1, " -> ", v.size2));
    const std::string& r1 = Roots()[v.size1];
    const std::string& r2 = Roots()[v.size2];
    ASSERT_TRUE(VerifyConsistency(v.size1, v.size2, r1, r2, v.proof).ok());
    struct Probe {
      uint64_t size1, size2;
      std::string root1, root2;
      Proof proof;
      std::string desc;
    };
    std::vector<Probe> probes = {
        {v.size1 - 1, v.size2, r1, r2, v.proof, "size1 - 1"},
        {v.size1 + 1, v.size2, r1, r2, v.proof, "size1 + 1"},
        {v.size1 ^ 2, v.size2, r1, r2, v.proof, "size1 ^ 2"},
        {v.size1, v.size2 * 2, r1, r2, v.proof, "size2 * 2"},
        {v.size1, v.size2 / 2, r1, r2, v.proof, "size2 / 2"},
        {v.size1, v.size2, wrong, r2, v.proof, "wrong root1"},
        {v.size1, v.size2, r1, wrong, v.proof, "wrong root2"},
        {v.size1, v.size2, r2, r1, v.proof, "swapped roots"},
        {v.size1, v.size2, r1, r2, {}, "empty proof"},
        {v.size1, v.size2, r1, r2, Extend(v.proof, ""), "trailing garbage"},
        {v.size1, v.size2, r1, r2, Extend(v.proof, r1), "trailing root1"},
        {v.size1, v.size2, r1, r2, Extend(v.proof, r2), "trailing root2"},
        {v.size1, v.size2, r1, r2, Prepend(v.proof, {""}), "preceding garbage"},
        {v.size1, v.size2, r1, r2, Prepend(v.proof, {r1}), "preceding root1"},
        {v.size1, v.size2, r1, r2, Prepend(v.proof, {r2}), "preceding root2"},
        {v.size1, v.size2, r1, r2, Prepend(v.proof, {v.proof[0]}), "preceding proof[0]"},
        {v.size1, v.size2, r1, r2, Proof(v.proof.begin(), v.proof.end() - 1), "truncated"},
    };
    for (size_t i = 0; i < v.proof.size(); ++i) {
      Proof p = v.proof;
      p[i][0] ^= 16;
      probes.push_back({v.size1, v.size2, r1, r2, p, absl::StrCat("modified proof[", i, "]")});
    }
    for (const Probe& p : probes) {
      EXPECT_FALSE(VerifyConsistency(p.size1, p.size2, p.root1, p.root2, p.proof).ok()) << p.desc;
    }
  }
}

// TestVerifyConsistency's table, with 32-byte stand-ins for its "don't care"
// roots. Deliberate difference: a size-0 tree must claim the empty-tree root.
TEST(VerifyConsistencyTest, EdgeCases) {
  const std::string root1 = LeafHash("don't care 1");
  const std::string root2 = LeafHash("don't care 2");
  const std::string empty = Roots()[0];
  struct Case {
    uint64_t size1, size2;
    std::string root1, root2;
    Proof proof;
    bool ok;
  };
  const std::vector<Case> cases = {
      {0, 0, root1, root2, {}, false},
      {1, 1, root1, root2, {}, false},
      {0, 0, empty, empty, {}, true},
      {0, 1, empty, root2, {}, true},
      {1, 1, root2, root2, {}, true},
      {1, 0, root1, root2, {}, false},
      {2, 1, root1, root2, {}, false},
      {1, 2, root1, root2, {}, false},
      {0, 0, empty, root2, {}, false},
      {1, 1, empty, root2, {}, false},
      {0, 0, empty, empty, {empty}, false},
      {0, 1, empty, empty, {empty}, false},
      {1, 1, empty, empty, {empty}, false},
      {0, 1, root1, root2, {}, false},  // stricter than the Go table
  };
  for (const Case& t : cases) {
    EXPECT_EQ(VerifyConsistency(t.size1, t.size2, t.root1, t.root2, t.proof).ok(), t.ok)
        << t.size1 << " -> " << t.size2;
  }
  ExpectError(VerifyConsistency(2, 1, root1, root2, {}), absl::StatusCode::kInvalidArgument,
              "size1 2 is larger than size2 1");
  ExpectError(VerifyConsistency(3, 3, empty, empty, {empty}), absl::StatusCode::kInvalidArgument,
              "trees of equal size need an empty proof, got 1 hashes");
  ExpectError(VerifyConsistency(3, 3, root1, root2, {}), absl::StatusCode::kInvalidArgument,
              "root mismatch");
  ExpectError(VerifyConsistency(0, 5, root1, root2, {}), absl::StatusCode::kInvalidArgument,
              "root1 mismatch: not the empty-tree hash");
}

TEST(VerifyConsistencyTest, ReasonsAreSpecific) {
  const ConsistencyVector& v = ConsistencyVectors()[2];  // 6 -> 8
  const std::string& r6 = Roots()[6];
  const std::string& r8 = Roots()[8];
  ExpectError(VerifyConsistency(6, 8, r6, r8, {}), absl::StatusCode::kInvalidArgument,
              "consistency proof has 0 hashes, expected 3");
  ExpectError(VerifyConsistency(6, 8, r6, r8, Extend(v.proof, r8)),
              absl::StatusCode::kInvalidArgument, "consistency proof has 4 hashes, expected 3");
  ExpectError(VerifyConsistency(6, 8, Roots()[5], r8, v.proof), absl::StatusCode::kInvalidArgument,
              "root1 mismatch");
  ExpectError(VerifyConsistency(6, 8, r6, Roots()[7], v.proof), absl::StatusCode::kInvalidArgument,
              "root2 mismatch");
  Proof swapped = v.proof;
  std::swap(swapped[1], swapped[2]);
  EXPECT_FALSE(VerifyConsistency(6, 8, r6, r8, swapped).ok());
  ExpectError(VerifyConsistency(6, 8, "r6", r8, v.proof), absl::StatusCode::kInvalidArgument,
              "root1 is 2 bytes, expected 32");
}

// The hash of a complete subtree of 2^level identical leaves.
const std::string& UniformSubtree(uint64_t level) {
  static const auto* hashes = [] {
    auto* h = new std::vector<std::string>{LeafHash("same record")};
    while (h->size() < 64) h->push_back(NodeHash(h->back(), h->back()));
    return h;
  }();
  return (*hashes)[level];
}

// Records every lookup. Without an inner source it serves a tree of identical
// leaves, of any size: a real tree far too large to build.
class CountingSource : public SubtreeSource {
 public:
  explicit CountingSource(SubtreeSource* inner = nullptr) : inner_(inner) {}
  absl::StatusOr<std::string> CompleteSubtree(uint64_t level, uint64_t index) override {
    ++lookups;
    max_end = std::max(max_end, (index + 1) << level);
    if (inner_ != nullptr) return inner_->CompleteSubtree(level, index);
    return UniformSubtree(level);
  }
  int lookups = 0;
  uint64_t max_end = 0;  // subtrees asked for must lie within the tree

 private:
  SubtreeSource* inner_;
};

int CeilLog2(uint64_t n) { return n <= 1 ? 0 : absl::bit_width(n - 1); }

TEST(LookupCountTest, LogarithmicForEveryProofUpTo300) {
  MemoryTree tree;
  for (int i = 0; i < 300; ++i) tree.Append(absl::StrCat(i));
  for (uint64_t n = 1; n <= 300; ++n) {
    CountingSource root_source(&tree);
    ASSERT_TRUE(RootHash(root_source, n).ok());
    EXPECT_EQ(root_source.lookups, absl::popcount(n));
    for (uint64_t m = 0; m < n; ++m) {
      CountingSource s(&tree);
      ASSERT_TRUE(InclusionProof(s, m, n).ok());
      EXPECT_LE(s.lookups, 2 * CeilLog2(n)) << "leaf " << m << " of " << n;
      EXPECT_LE(s.max_end, n);
    }
    for (uint64_t m = 0; m <= n; ++m) {
      CountingSource s(&tree);
      ASSERT_TRUE(ConsistencyProof(s, m, n).ok());
      EXPECT_LE(s.lookups, 2 * CeilLog2(n) + 1) << m << " -> " << n;
      EXPECT_LE(s.max_end, n);
    }
  }
}

TEST(LookupCountTest, LogarithmicForHugeTrees) {
  for (uint64_t n :
       {uint64_t{1} << 40, (uint64_t{1} << 40) + 12345, uint64_t{999'999'999'999}, kMaxTreeSize}) {
    for (uint64_t m : {uint64_t{0}, n / 3, n / 2, n - 2, n - 1}) {
      CountingSource s;
      absl::StatusOr<Proof> inclusion = InclusionProof(s, m, n);
      ASSERT_TRUE(inclusion.ok()) << inclusion.status();
      EXPECT_LE(s.lookups, 2 * CeilLog2(n));
      EXPECT_LE(s.max_end, n);
      // The proof verifies against the root of that tree.
      CountingSource r;
      const std::string root = *RootHash(r, n);
      const std::string& leaf = UniformSubtree(0);
      absl::Status verified = VerifyInclusion(leaf, m, n, *inclusion, root);
      EXPECT_TRUE(verified.ok()) << m << " of " << n << ": " << verified;

      CountingSource c;
      absl::StatusOr<Proof> consistency = ConsistencyProof(c, m + 1, n);
      ASSERT_TRUE(consistency.ok()) << consistency.status();
      EXPECT_LE(c.lookups, 2 * CeilLog2(n) + 1);
      CountingSource r1;
      EXPECT_TRUE(VerifyConsistency(m + 1, n, *RootHash(r1, m + 1), root, *consistency).ok());
    }
  }
  CountingSource s;
  ExpectError(InclusionProof(s, 0, kMaxTreeSize + 1).status(), absl::StatusCode::kInvalidArgument,
              "exceeds 2^63");
}

class BrokenSource : public SubtreeSource {
 public:
  absl::StatusOr<std::string> CompleteSubtree(uint64_t level, uint64_t index) override {
    return std::string(31, 'x');
  }
};

TEST(SubtreeSourceTest, ErrorsPropagate) {
  BrokenSource broken;
  ExpectError(InclusionProof(broken, 3, 8).status(), absl::StatusCode::kDataLoss,
              "is 31 bytes, expected 32");
  ExpectError(RootHash(broken, 8).status(), absl::StatusCode::kDataLoss, "stored subtree (3, 0)");
  MemoryTree tree = GoldenTree();
  // Asking beyond what is stored surfaces the store's NOT_FOUND.
  EXPECT_EQ(InclusionProof(tree, 3, 9).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ConsistencyProof(tree, 3, 12).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(RootHash(tree, 9).status().code(), absl::StatusCode::kNotFound);
}

TEST(AppendTest, CompletedByAppendAndFrontierAgree) {
  MemoryTree tree;
  Frontier frontier;
  EXPECT_EQ(frontier.Root(), EmptyRootHash());
  for (int i = 0; i < 200; ++i) {
    const std::string leaf = LeafHash(absl::StrCat("record ", i));
    CountingSource s(&tree);
    absl::StatusOr<std::vector<Subtree>> completed = CompletedByAppend(s, i, leaf);
    ASSERT_TRUE(completed.ok()) << completed.status();
    // The leaf, then one parent per trailing one bit of the index.
    EXPECT_EQ(completed->size(), 1u + absl::countr_one(static_cast<uint64_t>(i)));
    EXPECT_EQ(s.lookups, absl::countr_one(static_cast<uint64_t>(i)));
    EXPECT_EQ(completed->front(), (Subtree{0, static_cast<uint64_t>(i), leaf}));
    for (const Subtree& t : *completed) {
      EXPECT_EQ((t.index + 1) << t.level, static_cast<uint64_t>(i) + 1);  // ends at the new leaf
    }
    absl::StatusOr<std::vector<Subtree>> from_frontier = frontier.Append(leaf);
    ASSERT_TRUE(from_frontier.ok());
    EXPECT_EQ(*from_frontier, *completed);
    ASSERT_TRUE(tree.AppendLeafHash(leaf).ok());
    for (const Subtree& t : *completed) EXPECT_EQ(*tree.CompleteSubtree(t.level, t.index), t.hash);
    EXPECT_EQ(frontier.size(), tree.size());
    EXPECT_EQ(frontier.Root(), *tree.Root());

    // A frontier reloaded from storage carries on identically.
    CountingSource load_source(&tree);
    absl::StatusOr<Frontier> loaded = Frontier::Load(load_source, tree.size());
    ASSERT_TRUE(loaded.ok());
    EXPECT_EQ(load_source.lookups, absl::popcount(tree.size()));
    EXPECT_EQ(loaded->Root(), frontier.Root());
  }
  MemoryTree empty;
  EXPECT_EQ(CompletedByAppend(empty, 1, LeafHash("x")).status().code(),
            absl::StatusCode::kNotFound);
  ExpectError(CompletedByAppend(empty, 0, "x").status(), absl::StatusCode::kInvalidArgument,
              "leaf hash is 1 bytes");
  ExpectError(frontier.Append("x").status(), absl::StatusCode::kInvalidArgument,
              "leaf hash is 1 bytes");
  EXPECT_EQ(frontier.size(), 200u);
}

}  // namespace
}  // namespace safeshare::transparency
