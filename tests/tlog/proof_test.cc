#include "tlog/proof.h"

#include <bit>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "crypto/sha256.h"
#include "tlog/merkle.h"
#include "tlog/tlog_testing.h"

namespace nhitrace::tlog {
namespace {

using testing::Hex;
using testing::Hexes;
using testing::MemoryNodeReader;
using testing::RandomLeaves;
using testing::ReferenceTree;

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

std::vector<Hash> FlipBit(std::vector<Hash> proof, size_t element, unsigned bit) {
  proof[element][bit / 8 % 32] ^= static_cast<uint8_t>(1u << (bit % 8));
  return proof;
}

// Sanitizer builds allocate ~20x slower; the property tests check a sparser sample there so the
// suite stays fast (every size and index is still checked in normal builds).
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

class ProofPropertyTest : public ::testing::Test {
 protected:
  static constexpr uint64_t kLeaves = 300;
  // Trees up to this size are checked exhaustively even in sanitizer builds.
  static constexpr uint64_t kExhaustive = kSanitized ? 100 : kLeaves;
  ProofPropertyTest() : ref_(RandomLeaves(kLeaves, 6962)) { ref_.Fill(reader_); }

  ReferenceTree ref_;
  MemoryNodeReader reader_;
  std::mt19937_64 rng_{9162};
};

// For every tree size 1..300 and every index (a sample beyond 100 leaves in sanitizer builds):
// the generated path equals RFC 9162's PATH, it verifies, and (for a sample) a flipped bit in
// any element, another index, or a size twice or half as large does not.
TEST_F(ProofPropertyTest, InclusionEveryIndexEverySize) {
  for (uint64_t size = 1; size <= kLeaves; ++size) {
    const Hash root = ref_.Root(size);
    for (uint64_t index = 0; index < size; ++index) {
      if (size > kExhaustive && index != 0 && index != size - 1 && rng_() % 8 != 0) continue;
      Result<std::vector<Hash>> proof = InclusionProof(reader_, index, size);
      ASSERT_TRUE(proof.ok()) << proof.status().ToString();
      if (*proof != ref_.Path(index, size)) {
        ASSERT_EQ(Hexes(*proof), Hexes(ref_.Path(index, size))) << index << "/" << size;
      }
      const Hash& leaf = ref_.leaf(index);
      Status ok = VerifyInclusion(index, size, leaf, *proof, root);
      ASSERT_TRUE(ok.ok()) << index << "/" << size << ": " << ok.ToString();

      if (size > 64 && rng_() % 16 != 0) continue;  // mutations on a sample of larger trees
      for (size_t e = 0; e < proof->size(); ++e) {
        ASSERT_FALSE(
            VerifyInclusion(index, size, leaf, FlipBit(*proof, e, rng_() % 256), root).ok())
            << "flipped bit in element " << e << " of " << index << "/" << size;
      }
      for (uint64_t other : {index + 1, index - 1, index ^ 1, index ^ 2}) {
        if (other >= size || other == index) continue;
        ASSERT_FALSE(VerifyInclusion(other, size, leaf, *proof, root).ok())
            << "index " << other << " instead of " << index << " in " << size;
      }
      ASSERT_FALSE(VerifyInclusion(index, size * 2, leaf, *proof, root).ok())
          << index << "/" << size;
      if (index < size / 2) {
        ASSERT_FALSE(VerifyInclusion(index, size / 2, leaf, *proof, root).ok())
            << index << "/" << size;
      }
      ASSERT_FALSE(VerifyInclusion(index, size, leaf, *proof, ref_.Root(size - 1)).ok());
      if (!proof->empty()) {
        std::vector<Hash> shorter(proof->begin(), proof->end() - 1);
        ASSERT_FALSE(VerifyInclusion(index, size, leaf, shorter, root).ok());
      }
      std::vector<Hash> longer = *proof;
      longer.push_back(root);
      ASSERT_FALSE(VerifyInclusion(index, size, leaf, longer, root).ok());
    }
  }
}

// Consistency between every pair of sizes up to 64 (32 in sanitizer builds), and a sample of
// pairs up to 300: the proof equals RFC 9162's PROOF, verifies, and mutations fail.
TEST_F(ProofPropertyTest, ConsistencyPairs) {
  size_t pairs = 0;
  for (uint64_t size2 = 1; size2 <= kLeaves; ++size2) {
    std::vector<uint64_t> firsts;
    if (size2 <= (kSanitized ? 32 : 64)) {
      for (uint64_t m = 1; m <= size2; ++m) firsts.push_back(m);
    } else {
      for (uint64_t m : {uint64_t{1}, size2 - 1, size2, size2 / 2}) firsts.push_back(m);
      for (uint64_t p = 2; p < size2; p *= 2) firsts.push_back(p);
      for (int i = 0; i < (kSanitized ? 2 : 8); ++i) firsts.push_back(1 + rng_() % size2);
    }
    const Hash root2 = ref_.Root(size2);
    for (uint64_t size1 : firsts) {
      ++pairs;
      const Hash root1 = ref_.Root(size1);
      Result<std::vector<Hash>> proof = ConsistencyProof(reader_, size1, size2);
      ASSERT_TRUE(proof.ok()) << proof.status().ToString();
      if (*proof != ref_.Proof(size1, size2)) {
        ASSERT_EQ(Hexes(*proof), Hexes(ref_.Proof(size1, size2))) << size1 << "->" << size2;
      }
      Status ok = VerifyConsistency(size1, size2, *proof, root1, root2);
      ASSERT_TRUE(ok.ok()) << size1 << "->" << size2 << ": " << ok.ToString();
      if (size1 == size2) {
        EXPECT_TRUE(proof->empty());
        continue;
      }
      ASSERT_FALSE(proof->empty());
      if (size2 > 64 && rng_() % (kSanitized ? 8 : 2) != 0) continue;  // mutate a sample
      for (size_t e = 0; e < proof->size(); ++e) {
        ASSERT_FALSE(
            VerifyConsistency(size1, size2, FlipBit(*proof, e, rng_() % 256), root1, root2).ok())
            << "flipped bit in element " << e << " of " << size1 << "->" << size2;
      }
      ASSERT_FALSE(VerifyConsistency(size1, size2, *proof, root2, root1).ok()) << "swapped roots";
      ASSERT_FALSE(VerifyConsistency(size1, size2, {}, root1, root2).ok()) << "empty proof";
      for (uint64_t other : {size1 - 1, size1 + 1, size1 ^ 2}) {
        if (other == 0 || other >= size2 || other == size1) continue;
        ASSERT_FALSE(VerifyConsistency(other, size2, *proof, root1, root2).ok())
            << "size1 " << other << " instead of " << size1 << " -> " << size2;
      }
      ASSERT_FALSE(VerifyConsistency(size1, size2 * 2, *proof, root1, root2).ok());
      if (size2 / 2 > size1) {
        ASSERT_FALSE(VerifyConsistency(size1, size2 / 2, *proof, root1, root2).ok());
      }
      std::vector<Hash> longer = *proof;
      longer.push_back(root1);
      ASSERT_FALSE(VerifyConsistency(size1, size2, longer, root1, root2).ok()) << "trailing root";
      std::vector<Hash> shorter(proof->begin(), proof->end() - 1);
      ASSERT_FALSE(VerifyConsistency(size1, size2, shorter, root1, root2).ok()) << "truncated";
    }
  }
  EXPECT_GT(pairs, kSanitized ? 2000u : 5000u);
}

// Proof generation reads O(log n) stored nodes, never the whole tree.
TEST_F(ProofPropertyTest, ReadsAreLogarithmic) {
  size_t before = reader_.reads();
  ASSERT_TRUE(InclusionProof(reader_, 137, 300).ok());
  EXPECT_LE(reader_.reads() - before, 2u * 9u);
  before = reader_.reads();
  ASSERT_TRUE(ConsistencyProof(reader_, 137, 300).ok());
  EXPECT_LE(reader_.reads() - before, 2u * 9u);
}

// A tree whose leaves are all the same: every perfect subtree of level L has the same hash, so
// trees of up to 2^64 - 1 leaves can be served from 64 hashes, and MTH follows from the RFC's
// recursion in O(log n). Exercises the 64-bit index arithmetic end to end.
class UniformTree final : public NodeReader {
 public:
  UniformTree() {
    perfect_[0] = LeafHash("same");
    for (int l = 1; l < 64; ++l) perfect_[l] = NodeHash(perfect_[l - 1], perfect_[l - 1]);
  }
  Result<std::vector<Hash>> ReadNodes(std::span<const NodeId> ids) override {
    std::vector<Hash> out;
    for (const NodeId& id : ids) {
      if (id.level >= 64) return InternalError("level out of range");
      out.push_back(perfect_[id.level]);
    }
    return out;
  }
  const Hash& leaf() const { return perfect_[0]; }
  // MTH(D[0:n]) by the RFC recursion; the left part is always perfect.
  Hash Mth(uint64_t n) const {
    if (n == 1) return perfect_[0];
    uint64_t k = testing::RfcSplit(n);
    return NodeHash(perfect_[std::countr_zero(k)], Mth(n - k));
  }

 private:
  Hash perfect_[64];
};

TEST(HugeTreeTest, InclusionAndConsistencyAt64Bits) {
  UniformTree tree;
  std::mt19937_64 rng(64);
  std::vector<uint64_t> sizes = {kMax,
                                 kMax - 1,
                                 uint64_t{1} << 63,
                                 (uint64_t{1} << 63) + 1,
                                 961984013,
                                 (uint64_t{1} << 40) + 12345};
  for (int i = 0; i < 20; ++i) sizes.push_back(rng() | 1);
  for (uint64_t size : sizes) {
    const Hash root = tree.Mth(size);
    for (uint64_t index : {uint64_t{0}, size - 1, size / 2, size / 3, rng() % size}) {
      Result<std::vector<Hash>> proof = InclusionProof(tree, index, size);
      ASSERT_TRUE(proof.ok()) << proof.status().ToString();
      EXPECT_LE(proof->size(), 64u);
      Status ok = VerifyInclusion(index, size, tree.leaf(), *proof, root);
      EXPECT_TRUE(ok.ok()) << index << "/" << size << ": " << ok.ToString();
    }
    for (uint64_t size1 : {uint64_t{1}, size / 2 + 1, size - 1, rng() % size + 1}) {
      Result<std::vector<Hash>> proof = ConsistencyProof(tree, size1, size);
      ASSERT_TRUE(proof.ok()) << proof.status().ToString();
      Status ok = VerifyConsistency(size1, size, *proof, tree.Mth(size1), root);
      EXPECT_TRUE(ok.ok()) << size1 << "->" << size << ": " << ok.ToString();
    }
  }
}

TEST(ProofErrorsTest, GenerationRanges) {
  ReferenceTree ref(RandomLeaves(8, 7));
  MemoryNodeReader reader;
  ref.Fill(reader);
  EXPECT_EQ(InclusionProof(reader, 8, 8).status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(InclusionProof(reader, 0, 0).status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(ConsistencyProof(reader, 5, 4).status().code(), StatusCode::kOutOfRange);
  EXPECT_TRUE(ConsistencyProof(reader, 0, 8)->empty());
  EXPECT_TRUE(ConsistencyProof(reader, 0, 0)->empty());
  EXPECT_TRUE(ConsistencyProof(reader, 8, 8)->empty());
  EXPECT_TRUE(InclusionProof(reader, 0, 1)->empty());
  // A missing stored node surfaces as the reader's error, not as a wrong proof.
  ASSERT_TRUE(InclusionProof(reader, 0, 8).ok());
  ASSERT_TRUE(ConsistencyProof(reader, 5, 8).ok());
  reader.Erase(NodeId{1, 1});  // leaves [2, 4): on the path of leaf 0
  EXPECT_EQ(InclusionProof(reader, 0, 8).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(ConsistencyProof(reader, 5, 8).ok()) << "does not need [2, 4)";
  reader.Erase(NodeId{1, 3});  // leaves [6, 8): in PROOF(5, 8)
  EXPECT_EQ(ConsistencyProof(reader, 5, 8).status().code(), StatusCode::kNotFound);
}

TEST(ProofErrorsTest, InclusionShape) {
  ReferenceTree ref(RandomLeaves(5, 8));
  const Hash leaf = ref.leaf(2);
  const std::vector<Hash> path = ref.Path(2, 5);
  ASSERT_EQ(path.size(), 3u);
  EXPECT_TRUE(VerifyInclusion(2, 5, leaf, path, ref.Root(5)).ok());
  EXPECT_EQ(RootFromInclusionProof(5, 5, leaf, path).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(RootFromInclusionProof(0, 0, leaf, {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(RootFromInclusionProof(kMax, 1, leaf, {}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(RootFromInclusionProof(2, 5, leaf, std::span(path).first(2)).ok());
  std::vector<Hash> longer = path;
  longer.push_back(leaf);
  EXPECT_FALSE(RootFromInclusionProof(2, 5, leaf, longer).ok());
  // A one-leaf tree: the leaf is the root and the proof is empty.
  EXPECT_TRUE(VerifyInclusion(0, 1, leaf, {}, leaf).ok());
  EXPECT_FALSE(VerifyInclusion(0, 1, leaf, {}, ref.leaf(0)).ok());
  EXPECT_FALSE(VerifyInclusion(0, 1, leaf, std::vector<Hash>{leaf}, leaf).ok());
}

// The cases RFC 9162 leaves out, mirroring transparency-dev/merkle's TestVerifyConsistency
// and the "additional" probes with real 32-byte values in place of "don't care" roots.
TEST(ProofErrorsTest, ConsistencyEdgeCases) {
  const Hash empty = EmptyTreeHash();
  const Hash a = crypto::Sha256("don't care 1"), b = crypto::Sha256("don't care 2");
  const std::vector<Hash> none;
  const std::vector<Hash> one = {empty};
  // Equal sizes: empty proof and equal roots.
  EXPECT_TRUE(VerifyConsistency(1, 1, none, b, b).ok());
  EXPECT_FALSE(VerifyConsistency(1, 1, none, a, b).ok());
  EXPECT_FALSE(VerifyConsistency(1, 1, none, empty, b).ok());
  EXPECT_FALSE(VerifyConsistency(1, 1, one, empty, empty).ok());
  // From the empty tree: only its true root, and only an empty proof.
  EXPECT_TRUE(VerifyConsistency(0, 0, none, empty, empty).ok());
  EXPECT_TRUE(VerifyConsistency(0, 1, none, empty, b).ok());
  EXPECT_TRUE(VerifyConsistency(0, kMax, none, empty, b).ok());
  EXPECT_FALSE(VerifyConsistency(0, 0, none, a, a).ok()) << "not the empty tree's root";
  EXPECT_FALSE(VerifyConsistency(0, 0, none, a, b).ok());
  EXPECT_FALSE(VerifyConsistency(0, 0, none, empty, b).ok());
  EXPECT_FALSE(VerifyConsistency(0, 1, none, a, b).ok()) << "not the empty tree's root";
  EXPECT_FALSE(VerifyConsistency(0, 0, one, empty, empty).ok());
  EXPECT_FALSE(VerifyConsistency(0, 1, one, empty, empty).ok());
  // Time travel and empty proofs.
  EXPECT_FALSE(VerifyConsistency(1, 0, none, a, b).ok());
  EXPECT_FALSE(VerifyConsistency(2, 1, none, a, b).ok());
  EXPECT_FALSE(VerifyConsistency(1, 2, none, a, b).ok());
  EXPECT_FALSE(VerifyConsistency(kMax, kMax - 1, none, a, a).ok());
}

}  // namespace
}  // namespace nhitrace::tlog
