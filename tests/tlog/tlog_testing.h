// Test helpers for the tlog tests: an in-memory NodeReader, a textbook RFC 9162 reference tree
// (recursive MTH/PATH/PROOF, written straight from the RFC and sharing no code with src/tlog
// except the two hash primitives), and small decoding helpers for the shared vectors.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "base/encoding.h"
#include "base/status.h"
#include "crypto/sha256.h"
#include "json/dom.h"
#include "tlog/merkle.h"

namespace nhitrace::tlog::testing {

// `n` leaf hashes of pseudo-random data, reproducible from `seed`.
inline std::vector<Hash> RandomLeaves(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Hash> out;
  for (size_t i = 0; i < n; ++i) out.push_back(LeafHash(std::to_string(rng())));
  return out;
}

inline Hash HashFromHex(std::string_view hex) {
  auto bytes = HexDecode(hex);
  EXPECT_TRUE(bytes.has_value() && bytes->size() == 32) << "not a 32-byte hex hash: " << hex;
  Hash h{};
  if (bytes && bytes->size() == 32) h = *crypto::HashFromBytes(*bytes);
  return h;
}

inline std::string Hex(const Hash& h) { return HexEncode(crypto::AsBytes(h)); }

inline std::vector<std::string> Hexes(std::span<const Hash> hs) {
  std::vector<std::string> out;
  for (const Hash& h : hs) out.push_back(Hex(h));
  return out;
}

// Stored perfect subtrees of a small tree, by level and index. Counts reads so tests can
// bound them.
class MemoryNodeReader final : public NodeReader {
 public:
  void Put(NodeId id, const Hash& h) {
    if (levels_.size() <= id.level) levels_.resize(id.level + 1);
    auto& row = levels_[id.level];
    if (row.size() <= id.index) row.resize(id.index + 1);
    if (!row[id.index]) ++size_;
    row[id.index] = h;
  }
  void Erase(NodeId id) {
    if (id.level < levels_.size() && id.index < levels_[id.level].size() &&
        levels_[id.level][id.index]) {
      levels_[id.level][id.index].reset();
      --size_;
    }
  }
  size_t size() const { return size_; }
  size_t reads() const { return reads_; }

  Result<std::vector<Hash>> ReadNodes(std::span<const NodeId> ids) override {
    std::vector<Hash> out;
    out.reserve(ids.size());
    for (const NodeId& id : ids) {
      ++reads_;
      if (id.level >= levels_.size() || id.index >= levels_[id.level].size() ||
          !levels_[id.level][id.index]) {
        return NotFoundError("node " + std::to_string(id.level) + "/" + std::to_string(id.index));
      }
      out.push_back(*levels_[id.level][id.index]);
    }
    return out;
  }

 private:
  std::vector<std::vector<std::optional<Hash>>> levels_;
  size_t size_ = 0;
  size_t reads_ = 0;
};

// The largest power of two strictly less than n (RFC 9162 section 2.1.1), by a plain loop.
inline uint64_t RfcSplit(uint64_t n) {
  uint64_t k = 1;
  while (k < n - k) k *= 2;  // k * 2 < n, without overflow
  return k;
}

// A reference tree over given leaf hashes, computed exactly as RFC 9162 section 2.1 writes it.
class ReferenceTree {
 public:
  // REQUIRES: at most 4096 leaves (MTH values are memoised in a table of (n + 1)^2 entries).
  explicit ReferenceTree(std::vector<Hash> leaf_hashes)
      : leaves_(std::move(leaf_hashes)), memo_((leaves_.size() + 1) * (leaves_.size() + 1)) {}

  uint64_t size() const { return leaves_.size(); }
  const Hash& leaf(uint64_t i) const { return leaves_[i]; }

  // MTH(D[begin:end]), recursive with the RFC's split; memoised. REQUIRES begin < end.
  Hash Mth(uint64_t begin, uint64_t end) {
    if (end - begin == 1) return leaves_[begin];
    std::optional<Hash>& memo = memo_[begin * (leaves_.size() + 1) + end];
    if (!memo) {
      uint64_t k = RfcSplit(end - begin);
      memo = NodeHash(Mth(begin, begin + k), Mth(begin + k, end));
    }
    return *memo;
  }
  Hash Root(uint64_t n) { return n == 0 ? crypto::Sha256("") : Mth(0, n); }

  // RFC 9162 section 2.1.3.1: PATH(m, D[0:n]).
  std::vector<Hash> Path(uint64_t m, uint64_t n) {
    std::vector<Hash> out;
    Path(m, 0, n, out);
    return out;
  }

  // RFC 9162 section 2.1.4.1: PROOF(m, D[0:n]) = SUBPROOF(m, D[0:n], true).
  std::vector<Hash> Proof(uint64_t m, uint64_t n) {
    std::vector<Hash> out;
    if (m != 0 && m != n) Subproof(m, 0, n, true, out);
    return out;
  }

  // Stores every perfect subtree of the tree (all levels) into `reader`.
  void Fill(MemoryNodeReader& reader) {
    for (uint32_t level = 0; (uint64_t{1} << level) <= size(); ++level) {
      uint64_t width = uint64_t{1} << level;
      for (uint64_t i = 0; (i + 1) * width <= size(); ++i) {
        reader.Put(NodeId{level, i}, Mth(i * width, (i + 1) * width));
      }
    }
  }

 private:
  // PATH(m, D[begin:begin+n]), appended to `out`.
  void Path(uint64_t m, uint64_t begin, uint64_t n, std::vector<Hash>& out) {
    if (n <= 1) return;
    uint64_t k = RfcSplit(n);
    if (m < k) {
      Path(m, begin, k, out);
      out.push_back(Mth(begin + k, begin + n));
    } else {
      Path(m - k, begin + k, n - k, out);
      out.push_back(Mth(begin, begin + k));
    }
  }

  // SUBPROOF(m, D[begin:begin+n], b), appended to `out`.
  void Subproof(uint64_t m, uint64_t begin, uint64_t n, bool b, std::vector<Hash>& out) {
    if (m == n) {
      if (!b) out.push_back(Mth(begin, begin + n));
      return;
    }
    uint64_t k = RfcSplit(n);
    if (m <= k) {
      Subproof(m, begin, k, b, out);
      out.push_back(Mth(begin + k, begin + n));
    } else {
      Subproof(m - k, begin + k, n - k, false, out);
      out.push_back(Mth(begin, begin + k));
    }
  }

  std::vector<Hash> leaves_;
  std::vector<std::optional<Hash>> memo_;
};

// Reads a JSON file of the shared vectors; the parser must outlive the returned element.
inline simdjson::dom::element LoadJson(simdjson::dom::parser& parser, const std::string& path) {
  simdjson::dom::element root;
  auto err = parser.load(path).get(root);
  EXPECT_EQ(err, simdjson::SUCCESS) << path << ": " << simdjson::error_message(err);
  return root;
}

inline std::string Str(const simdjson::dom::element& e, const char* key) {
  std::string_view s;
  auto err = e[key].get(s);
  EXPECT_EQ(err, simdjson::SUCCESS) << "missing string field " << key;
  return std::string(s);
}

inline uint64_t U64(const simdjson::dom::element& e, const char* key) {
  uint64_t v = 0;
  auto err = e[key].get(v);
  EXPECT_EQ(err, simdjson::SUCCESS) << "missing integer field " << key;
  return v;
}

inline std::vector<Hash> HexHashList(const simdjson::dom::element& e, const char* key) {
  std::vector<Hash> out;
  simdjson::dom::array a;
  auto err = e[key].get(a);
  EXPECT_EQ(err, simdjson::SUCCESS) << "missing array field " << key;
  if (err) return out;
  for (simdjson::dom::element item : a) {
    std::string_view s;
    EXPECT_EQ(item.get(s), simdjson::SUCCESS);
    out.push_back(HashFromHex(s));
  }
  return out;
}

}  // namespace nhitrace::tlog::testing
