#include "tlog/merkle.h"

#include <bit>
#include <cstdint>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "crypto/sha256.h"
#include "tlog/tlog_testing.h"

namespace nhitrace::tlog {
namespace {

using testing::Hex;
using testing::MemoryNodeReader;
using testing::RandomLeaves;
using testing::ReferenceTree;

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

TEST(MerkleHashTest, DomainSeparation) {
  // RFC 9162 section 2.1.1: leaves and nodes are hashed with different prefixes, so a leaf whose
  // data is the concatenation of two hashes is not that node.
  const Hash l = LeafHash("a"), r = LeafHash("b");
  std::string concat(crypto::AsBytes(l));
  concat += crypto::AsBytes(r);
  EXPECT_NE(Hex(LeafHash(concat)), Hex(NodeHash(l, r)));
  EXPECT_NE(Hex(NodeHash(l, r)), Hex(NodeHash(r, l)));
  EXPECT_NE(Hex(LeafHash("")), Hex(EmptyTreeHash()));
  EXPECT_EQ(Hex(LeafHash("a")), Hex(crypto::Sha256(std::string("\0a", 2))));
  // Repeated calls share a thread-local hasher; each starts fresh.
  EXPECT_EQ(Hex(NodeHash(l, r)), Hex(NodeHash(l, r)));
}

// The maximal aligned power-of-two blocks inside [begin, end): a block belongs to the
// decomposition iff it lies inside the range and its parent block does not.
bool Inside(uint32_t level, uint64_t index, uint64_t begin, uint64_t end) {
  if (level >= 64) return false;  // [0, 2^64) never fits below the largest uint64
  uint64_t first = index << level;
  if ((first >> level) != index) return false;  // the block starts past 2^64
  uint64_t width = uint64_t{1} << level;
  return first >= begin && first <= end && width <= end - first;
}

void CheckDecomposition(uint64_t begin, uint64_t end) {
  SCOPED_TRACE("[" + std::to_string(begin) + ", " + std::to_string(end) + ")");
  std::vector<NodeId> ids = PerfectSubtrees(begin, end);
  uint64_t pos = begin;
  for (const NodeId& id : ids) {
    ASSERT_LT(id.level, 64u);
    ASSERT_EQ(id.first_leaf(), pos) << "not contiguous";
    ASSERT_TRUE(Inside(id.level, id.index, begin, end));
    ASSERT_FALSE(Inside(id.level + 1, id.index >> 1, begin, end)) << "not maximal";
    pos += uint64_t{1} << id.level;
  }
  ASSERT_EQ(pos, end) << "does not cover the range";
}

TEST(PerfectSubtreesTest, KnownRanges) {
  auto ids = [](uint64_t b, uint64_t e) {
    std::vector<std::pair<uint32_t, uint64_t>> out;
    for (const NodeId& id : PerfectSubtrees(b, e)) out.push_back({id.level, id.index});
    return out;
  };
  using V = std::vector<std::pair<uint32_t, uint64_t>>;
  EXPECT_EQ(ids(0, 1), (V{{0, 0}}));
  EXPECT_EQ(ids(0, 8), (V{{3, 0}}));
  EXPECT_EQ(ids(0, 13), (V{{3, 0}, {2, 2}, {0, 12}}));
  EXPECT_EQ(ids(5, 13), (V{{0, 5}, {1, 3}, {2, 2}, {0, 12}}));
  EXPECT_EQ(ids(3, 4), (V{{0, 3}}));
  EXPECT_EQ(ids(6, 7), (V{{0, 6}}));
  EXPECT_EQ(ids(4, 7), (V{{1, 2}, {0, 6}}));
  EXPECT_EQ(ids(1, 16), (V{{0, 1}, {1, 1}, {2, 1}, {3, 1}}));
  std::vector<NodeId> all = PerfectSubtrees(0, kMax);
  ASSERT_EQ(all.size(), 64u);
  for (uint32_t i = 0; i < 64; ++i) {
    EXPECT_EQ(all[i].level, 63 - i);
    EXPECT_EQ(all[i].first_leaf(), kMax - (kMax >> i)) << i;
  }
  EXPECT_EQ(ids(uint64_t{1} << 63, kMax).size(), 63u);
  EXPECT_EQ(ids(kMax - 1, kMax), (V{{0, kMax - 1}}));
}

TEST(PerfectSubtreesTest, EveryRangeIsTheMaximalDecomposition) {
  for (uint64_t b = 0; b < 140; ++b) {
    for (uint64_t e = b + 1; e <= 140; ++e) CheckDecomposition(b, e);
  }
  std::mt19937_64 rng(9162);
  for (int i = 0; i < 2000; ++i) {
    uint64_t a = rng() >> (rng() % 64), c = rng() >> (rng() % 64);
    if (a == c) continue;
    CheckDecomposition(std::min(a, c), std::max(a, c));
  }
  CheckDecomposition(0, kMax);
  CheckDecomposition(1, kMax);
}

// SubtreeHash folds stored perfect subtrees into MTH for the ranges proofs use: every prefix
// [0, n) and every right-edge subtree [i * 2^L, n).
TEST(SubtreeHashTest, MatchesReferenceTree) {
  ReferenceTree ref(RandomLeaves(300, 1));
  MemoryNodeReader reader;
  ref.Fill(reader);
  for (uint64_t n = 1; n <= 300; ++n) {
    Result<Hash> h = SubtreeHash(reader, 0, n);
    ASSERT_TRUE(h.ok()) << h.status().ToString();
    ASSERT_EQ(Hex(*h), Hex(ref.Root(n))) << n;
    for (uint32_t level = 1; (uint64_t{1} << level) < n; ++level) {
      uint64_t begin = ((n - 1) >> level) << level;  // the aligned block holding leaf n-1
      Result<Hash> edge = SubtreeHash(reader, begin, n);
      ASSERT_TRUE(edge.ok());
      ASSERT_EQ(Hex(*edge), Hex(ref.Mth(begin, n))) << begin << ".." << n;
    }
  }
}

TEST(SubtreeHashTest, Errors) {
  ReferenceTree ref(RandomLeaves(8, 2));
  MemoryNodeReader reader;
  ref.Fill(reader);
  EXPECT_FALSE(SubtreeHash(reader, 3, 3).ok());
  EXPECT_FALSE(SubtreeHash(reader, 4, 3).ok());
  reader.Erase(NodeId{2, 0});
  Result<Hash> missing = SubtreeHash(reader, 0, 7);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

// Appending leaves one by one: the root matches the reference for every size, the right edge is
// PerfectSubtrees(0, size), and the nodes reported are exactly the perfect subtrees of level >= 1
// that a full tree has, each once, lowest first, with the reference hash.
TEST(CompactRangeTest, AppendMatchesFullTree) {
  constexpr uint64_t kLeaves = 300;
  ReferenceTree ref(RandomLeaves(kLeaves, 3));
  MemoryNodeReader full;
  ref.Fill(full);
  std::set<std::pair<uint32_t, uint64_t>> reported;
  CompactRange range;
  EXPECT_EQ(Hex(range.Root()), Hex(EmptyTreeHash()));
  for (uint64_t i = 0; i < kLeaves; ++i) {
    uint32_t last_level = 0;
    range.Append(ref.leaf(i), [&](const NodeId& id, const Hash& h) {
      EXPECT_EQ(id.level, last_level + 1) << "lowest first, one level at a time";
      last_level = id.level;
      uint64_t width = uint64_t{1} << id.level;
      EXPECT_EQ(id.first_leaf() + width, i + 1) << "completed by leaf " << i;
      EXPECT_EQ(Hex(h), Hex(ref.Mth(id.first_leaf(), id.first_leaf() + width)));
      EXPECT_TRUE(reported.insert({id.level, id.index}).second);
    });
    // Leaf i completes one node per trailing one bit of i.
    EXPECT_EQ(last_level, static_cast<uint32_t>(std::countr_one(i)));
    const uint64_t size = i + 1;
    ASSERT_EQ(range.size(), size);
    ASSERT_EQ(Hex(range.Root()), Hex(ref.Root(size))) << size;
    std::vector<NodeId> edge = PerfectSubtrees(0, size);
    ASSERT_EQ(range.hashes().size(), edge.size());
    for (size_t k = 0; k < edge.size(); ++k) {
      uint64_t b = edge[k].first_leaf();
      EXPECT_EQ(Hex(range.hashes()[k]), Hex(ref.Mth(b, b + (uint64_t{1} << edge[k].level))));
    }
    Result<CompactRange> loaded = CompactRange::Load(full, size);
    ASSERT_TRUE(loaded.ok());
    EXPECT_EQ(loaded->hashes(), range.hashes());
  }
  std::set<std::pair<uint32_t, uint64_t>> expected;
  for (uint32_t level = 1; (uint64_t{1} << level) <= kLeaves; ++level) {
    for (uint64_t i = 0; (i + 1) << level <= kLeaves; ++i) expected.insert({level, i});
  }
  EXPECT_EQ(reported, expected);
  EXPECT_EQ(reported.size(), full.size() - kLeaves);
}

TEST(CompactRangeTest, AppendWithoutCallbackAndResume) {
  ReferenceTree ref(RandomLeaves(40, 4));
  MemoryNodeReader full;
  ref.Fill(full);
  // Continue from a loaded right edge as a restarted ledger would.
  Result<CompactRange> range = CompactRange::Load(full, 13);
  ASSERT_TRUE(range.ok());
  for (uint64_t i = 13; i < 40; ++i) range->Append(ref.leaf(i));
  EXPECT_EQ(Hex(range->Root()), Hex(ref.Root(40)));
}

TEST(CompactRangeTest, FromHashesChecksCount) {
  ReferenceTree ref(RandomLeaves(7, 5));
  std::vector<Hash> edge = {ref.Mth(0, 4), ref.Mth(4, 6), ref.Mth(6, 7)};
  Result<CompactRange> ok = CompactRange::FromHashes(7, edge);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(Hex(ok->Root()), Hex(ref.Root(7)));
  EXPECT_FALSE(CompactRange::FromHashes(7, {edge[0], edge[1]}).ok());
  EXPECT_FALSE(CompactRange::FromHashes(8, edge).ok());
  EXPECT_FALSE(CompactRange::FromHashes(0, edge).ok());
  EXPECT_TRUE(CompactRange::FromHashes(0, {}).ok());

  MemoryNodeReader partial;
  ref.Fill(partial);
  partial.Erase(NodeId{0, 6});
  EXPECT_EQ(CompactRange::Load(partial, 7).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace nhitrace::tlog
