#include "tlog/proof.h"

#include <bit>
#include <string>

namespace nhitrace::tlog {
namespace {

struct Range {
  uint64_t begin, end;
};

// The largest power of two strictly less than n (n >= 2).
uint64_t SplitPoint(uint64_t n) { return uint64_t{1} << (63 - std::countl_zero(n - 1)); }

// RFC 9162 2.1.3.1 PATH(m, D[begin:begin+n]) as the list of subtree ranges whose hashes it holds.
void PathRanges(uint64_t m, uint64_t begin, uint64_t n, std::vector<Range>& out) {
  if (n <= 1) return;
  uint64_t k = SplitPoint(n);
  if (m < k) {
    PathRanges(m, begin, k, out);
    out.push_back({begin + k, begin + n});
  } else {
    PathRanges(m - k, begin + k, n - k, out);
    out.push_back({begin, begin + k});
  }
}

// RFC 9162 2.1.4.1 SUBPROOF(m, D[begin:begin+n], b).
void SubproofRanges(uint64_t m, uint64_t begin, uint64_t n, bool b, std::vector<Range>& out) {
  if (m == n) {
    if (!b) out.push_back({begin, begin + m});
    return;
  }
  uint64_t k = SplitPoint(n);
  if (m <= k) {
    SubproofRanges(m, begin, k, b, out);
    out.push_back({begin + k, begin + n});
  } else {
    SubproofRanges(m - k, begin + k, n - k, false, out);
    out.push_back({begin, begin + k});
  }
}

// Reads all perfect subtrees of all ranges in one batch, then folds each range.
Result<std::vector<Hash>> HashRanges(NodeReader& reader, const std::vector<Range>& ranges) {
  std::vector<NodeId> ids;
  std::vector<size_t> counts;
  for (const Range& r : ranges) {
    auto sub = PerfectSubtrees(r.begin, r.end);
    counts.push_back(sub.size());
    ids.insert(ids.end(), sub.begin(), sub.end());
  }
  NHI_ASSIGN_OR_RETURN(std::vector<Hash> hashes, reader.ReadNodes(ids));
  std::vector<Hash> out;
  out.reserve(ranges.size());
  size_t pos = 0;
  for (size_t c : counts) {
    Hash h = hashes[pos + c - 1];
    for (size_t i = c - 1; i-- > 0;) h = NodeHash(hashes[pos + i], h);
    out.push_back(h);
    pos += c;
  }
  return out;
}

bool Lsb(uint64_t x) { return (x & 1) != 0; }

Status Mismatch(std::string what) { return InvalidArgumentError(std::move(what)); }

}  // namespace

Result<std::vector<Hash>> InclusionProof(NodeReader& reader, uint64_t index, uint64_t size) {
  if (index >= size) {
    return OutOfRangeError("leaf index " + std::to_string(index) + " is not in a tree of size " +
                           std::to_string(size));
  }
  std::vector<Range> ranges;
  PathRanges(index, 0, size, ranges);
  return HashRanges(reader, ranges);
}

Result<std::vector<Hash>> ConsistencyProof(NodeReader& reader, uint64_t size1, uint64_t size2) {
  if (size1 > size2) {
    return OutOfRangeError("size1 " + std::to_string(size1) + " is larger than size2 " +
                           std::to_string(size2));
  }
  if (size1 == 0 || size1 == size2) return std::vector<Hash>();
  std::vector<Range> ranges;
  SubproofRanges(size1, 0, size2, true, ranges);
  return HashRanges(reader, ranges);
}

Result<Hash> RootFromInclusionProof(uint64_t index, uint64_t size, const Hash& leaf_hash,
                                    std::span<const Hash> proof) {
  if (index >= size) {
    return Mismatch("leaf index " + std::to_string(index) + " is not in a tree of size " +
                    std::to_string(size));
  }
  uint64_t fn = index;
  uint64_t sn = size - 1;
  Hash r = leaf_hash;
  for (const Hash& p : proof) {
    if (sn == 0) return Mismatch("inclusion proof is longer than the tree is deep");
    if (Lsb(fn) || fn == sn) {
      r = NodeHash(p, r);
      if (!Lsb(fn)) {
        while (!Lsb(fn) && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return Mismatch("inclusion proof is shorter than the tree is deep");
  return r;
}

Status VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf_hash,
                       std::span<const Hash> proof, const Hash& root) {
  NHI_ASSIGN_OR_RETURN(Hash computed, RootFromInclusionProof(index, size, leaf_hash, proof));
  if (computed != root) return Mismatch("inclusion proof leads to a different root");
  return OkStatus();
}

Status VerifyConsistency(uint64_t size1, uint64_t size2, std::span<const Hash> proof,
                         const Hash& root1, const Hash& root2) {
  if (size1 > size2) {
    return Mismatch("size1 " + std::to_string(size1) + " > size2 " + std::to_string(size2));
  }
  // The empty tree has exactly one root. (transparency-dev/merkle now rejects size1 == 0 outright
  // as meaningless; a ledger's first checkpoint has size 0, so we accept it, but only with the
  // true empty root and an empty proof.)
  if (size1 == 0 && root1 != EmptyTreeHash()) {
    return Mismatch("root1 is not the root of the empty tree");
  }
  if (size1 == size2) {
    if (!proof.empty()) return Mismatch("equal sizes need an empty consistency proof");
    if (root1 != root2) return Mismatch("equal sizes but different roots");
    return OkStatus();
  }
  if (size1 == 0) {
    if (!proof.empty()) return Mismatch("a proof from the empty tree must be empty");
    return OkStatus();
  }
  if (proof.empty()) return Mismatch("empty consistency proof");

  // RFC 9162 2.1.4.2.
  std::vector<Hash> path;
  path.reserve(proof.size() + 1);
  if (std::has_single_bit(size1)) path.push_back(root1);
  path.insert(path.end(), proof.begin(), proof.end());

  uint64_t fn = size1 - 1;
  uint64_t sn = size2 - 1;
  while (Lsb(fn)) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = path[0];
  Hash sr = path[0];
  for (size_t i = 1; i < path.size(); ++i) {
    const Hash& c = path[i];
    if (sn == 0) return Mismatch("consistency proof is too long");
    if (Lsb(fn) || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      if (!Lsb(fn)) {
        while (!Lsb(fn) && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return Mismatch("consistency proof is too short");
  if (fr != root1) return Mismatch("consistency proof does not lead to root1");
  if (sr != root2) return Mismatch("consistency proof does not lead to root2");
  return OkStatus();
}

}  // namespace nhitrace::tlog
