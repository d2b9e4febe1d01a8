// Inclusion and consistency proofs, RFC 9162 sections 2.1.3 and 2.1.4: generation from stored
// perfect subtrees in O(log n) reads, and verification exactly as the RFC specifies.
//
//   auto path = InclusionProof(reader, /*index=*/5, /*size=*/8);
//   Status s = VerifyInclusion(5, 8, leaf_hash, *path, root);
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/status.h"
#include "tlog/merkle.h"

namespace nhitrace::tlog {

// PATH(index, D[0:size]), deepest sibling first. kOutOfRange unless index < size.
Result<std::vector<Hash>> InclusionProof(NodeReader& reader, uint64_t index, uint64_t size);

// PROOF(size1, D[0:size2]). Empty when size1 == 0 or size1 == size2.
// kOutOfRange unless size1 <= size2.
Result<std::vector<Hash>> ConsistencyProof(NodeReader& reader, uint64_t size1, uint64_t size2);

// The root implied by an inclusion proof (RFC 9162 section 2.1.3.2), or kInvalidArgument when
// the proof has the wrong shape for (index, size).
Result<Hash> RootFromInclusionProof(uint64_t index, uint64_t size, const Hash& leaf_hash,
                                    std::span<const Hash> proof);

// OK iff the proof shows the leaf at `index` of the tree of `size` whose root is `root`.
Status VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf_hash,
                       std::span<const Hash> proof, const Hash& root);

// OK iff the proof shows that the tree (size1, root1) is a prefix of (size2, root2).
// Semantics follow RFC 9162 section 2.1.4.2, extended for the cases the RFC leaves out:
// size1 == size2 needs an empty proof and equal roots; size1 == 0 needs an empty proof and
// root1 == EmptyTreeHash() (every tree extends the empty tree, which has only that root).
Status VerifyConsistency(uint64_t size1, uint64_t size2, std::span<const Hash> proof,
                         const Hash& root1, const Hash& root2);

}  // namespace nhitrace::tlog
