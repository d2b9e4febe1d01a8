// The Merkle tree of the ledger, as RFC 9162 section 2.1 defines it (identical to RFC 6962):
//   MTH({})      = SHA-256()
//   leaf hash    = SHA-256(0x00 || leaf data)
//   node hash    = SHA-256(0x01 || left || right)
//   MTH(D[0:n])  = node(MTH(D[0:k]), MTH(D[k:n])), k the largest power of two < n.
//
// Only perfect subtrees are ever stored: the node at (level L, index i) is the hash of leaves
// [i * 2^L, (i + 1) * 2^L). Any other subtree hash (the right edge of a tree whose size is not a
// power of two) is folded from at most 64 stored perfect subtrees, so proofs need O(log n)
// reads and never a rebuild.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "crypto/sha256.h"

namespace nhitrace::tlog {

using crypto::Hash;

Hash LeafHash(std::string_view leaf_data);
Hash NodeHash(const Hash& left, const Hash& right);
// MTH of the empty tree: SHA-256 of the empty string.
Hash EmptyTreeHash();

// A perfect subtree: level 0 is a leaf.
struct NodeId {
  uint32_t level = 0;
  uint64_t index = 0;
  friend bool operator==(const NodeId&, const NodeId&) = default;
  uint64_t first_leaf() const { return index << level; }
};

// Where stored perfect-subtree hashes come from (the store, or memory in tests).
class NodeReader {
 public:
  virtual ~NodeReader() = default;
  // Returns the hash of every requested node, in order. kNotFound if one is missing,
  // kDataLoss if one is stored but malformed.
  virtual Result<std::vector<Hash>> ReadNodes(std::span<const NodeId> ids) = 0;
};

// The perfect subtrees that make up the leaf range [begin, end), left to right.
// REQUIRES: begin < end.
std::vector<NodeId> PerfectSubtrees(uint64_t begin, uint64_t end);

// MTH(D[begin:end]) folded from its perfect subtrees read from `reader`, for the ranges that
// RFC 9162 proofs use (begin aligned so that the range is a subtree of the RFC's split).
// REQUIRES: begin < end.
Result<Hash> SubtreeHash(NodeReader& reader, uint64_t begin, uint64_t end);

// The right edge of a tree: one hash per perfect subtree of [0, size), largest first. Appending
// a leaf merges equal-sized neighbours and reports each perfect subtree it completes, which is
// exactly the set of nodes a store must keep.
class CompactRange {
 public:
  CompactRange() = default;
  // REQUIRES: hashes are the PerfectSubtrees(0, size) hashes in order.
  static Result<CompactRange> FromHashes(uint64_t size, std::vector<Hash> hashes);
  // Loads the right edge of a tree of `size` leaves.
  static Result<CompactRange> Load(NodeReader& reader, uint64_t size);

  uint64_t size() const { return size_; }
  const std::vector<Hash>& hashes() const { return hashes_; }

  // Appends one leaf hash. `on_node` (may be empty) is called with every perfect subtree of
  // level >= 1 completed by this leaf, lowest first.
  void Append(const Hash& leaf_hash,
              const std::function<void(const NodeId&, const Hash&)>& on_node = nullptr);

  // MTH(D[0:size]).
  Hash Root() const;

 private:
  uint64_t size_ = 0;
  std::vector<Hash> hashes_;
};

}  // namespace nhitrace::tlog
