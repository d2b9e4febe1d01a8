#include "tlog/merkle.h"

#include <bit>

namespace nhitrace::tlog {

Hash LeafHash(std::string_view leaf_data) {
  static constexpr char kPrefix = 0x00;
  return crypto::Sha256(std::string_view(&kPrefix, 1), leaf_data);
}

Hash NodeHash(const Hash& left, const Hash& right) {
  thread_local crypto::Sha256Hasher hasher;
  static constexpr char kPrefix = 0x01;
  hasher.Update(&kPrefix, 1);
  hasher.Update(left.data(), left.size());
  hasher.Update(right.data(), right.size());
  return hasher.Final();
}

Hash EmptyTreeHash() { return crypto::Sha256(std::string_view()); }

std::vector<NodeId> PerfectSubtrees(uint64_t begin, uint64_t end) {
  std::vector<NodeId> out;
  while (begin < end) {
    // The largest aligned power of two that starts at `begin` and fits before `end`.
    uint32_t level = begin == 0 ? 63 : static_cast<uint32_t>(std::countr_zero(begin));
    uint32_t fit = 63 - static_cast<uint32_t>(std::countl_zero(end - begin));
    if (fit < level) level = fit;
    out.push_back(NodeId{level, begin >> level});
    begin += uint64_t{1} << level;
  }
  return out;
}

Result<Hash> SubtreeHash(NodeReader& reader, uint64_t begin, uint64_t end) {
  if (begin >= end) return InternalError("SubtreeHash of an empty range");
  std::vector<NodeId> ids = PerfectSubtrees(begin, end);
  NHI_ASSIGN_OR_RETURN(std::vector<Hash> hashes, reader.ReadNodes(ids));
  Hash h = hashes.back();
  for (size_t i = hashes.size() - 1; i-- > 0;) h = NodeHash(hashes[i], h);
  return h;
}

Result<CompactRange> CompactRange::FromHashes(uint64_t size, std::vector<Hash> hashes) {
  if (hashes.size() != static_cast<size_t>(std::popcount(size))) {
    return InternalError("compact range of size " + std::to_string(size) + " needs " +
                         std::to_string(std::popcount(size)) + " hashes, got " +
                         std::to_string(hashes.size()));
  }
  CompactRange r;
  r.size_ = size;
  r.hashes_ = std::move(hashes);
  return r;
}

Result<CompactRange> CompactRange::Load(NodeReader& reader, uint64_t size) {
  if (size == 0) return CompactRange();
  std::vector<NodeId> ids = PerfectSubtrees(0, size);
  NHI_ASSIGN_OR_RETURN(std::vector<Hash> hashes, reader.ReadNodes(ids));
  return FromHashes(size, std::move(hashes));
}

void CompactRange::Append(const Hash& leaf_hash,
                          const std::function<void(const NodeId&, const Hash&)>& on_node) {
  Hash h = leaf_hash;
  uint64_t index = size_;  // index of the new node at the current level
  uint32_t level = 0;
  // Each trailing 1 bit of the old size is a perfect subtree that the new leaf completes.
  for (uint64_t s = size_; s & 1; s >>= 1) {
    h = NodeHash(hashes_.back(), h);
    hashes_.pop_back();
    ++level;
    index >>= 1;
    if (on_node) on_node(NodeId{level, index}, h);
  }
  hashes_.push_back(h);
  ++size_;
}

Hash CompactRange::Root() const {
  if (hashes_.empty()) return EmptyTreeHash();
  Hash h = hashes_.back();
  for (size_t i = hashes_.size() - 1; i-- > 0;) h = NodeHash(hashes_[i], h);
  return h;
}

}  // namespace nhitrace::tlog
