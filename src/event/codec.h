// The event codec: native schema v1 <-> Event <-> canonical ledger leaf.
//
// One implementation of the schema serves ingest (DecodeNative) and verification (DecodeLeaf
// re-derives every stored column from the signed bytes), so the two cannot drift apart.
//
// A ledger leaf is the RFC 8785 canonical JSON of
//   {"event": <content>, "ingested_at": "<RFC 3339 UTC>", "raw": {"salted_sha256": "<hex>",
//    "size": N}, "seq": N, "v": 1}
// where <content> is EncodeContent(event) and "raw" (omitted when no raw record is kept) commits
// to the original record through a salted hash, so the record can later be erased without
// breaking any proof (docs/format/ledger.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "event/event.h"

namespace simdjson::dom {
class element;
class parser;
}  // namespace simdjson::dom

namespace nhitrace::event {

constexpr int kSchemaVersion = 1;
// Limits on single fields; a longer value is rejected, never truncated.
constexpr size_t kMaxKeyBytes = 1024;    // identifiers: keys, ids, names
constexpr size_t kMaxTextBytes = 65536;  // free text: rationale, messages
constexpr size_t kMaxListItems = 4096;   // elements of scope / alias lists

struct NativeRecord {
  Event event;
  // Canonical JSON of the "raw" member (the upstream record embedded in the native line), or
  // empty. It is not part of the leaf content; it counts towards the content hash.
  std::string raw_member;
};

// Decodes a native schema v1 record. Errors are kInvalidArgument with the message
// "<field path>: <reason>", e.g. "scope.resources[2]: must be a string".
Result<NativeRecord> DecodeNative(const simdjson::dom::element& root);

// The canonical JSON of the event content (the "event" member of a leaf).
std::string EncodeContent(const Event& e);

// The canonical JSON of a scope, exactly as the "scope" member of the content holds it.
std::string EncodeScope(const Scope& scope);

// SHA-256 over what makes two records "the same record": the content and the embedded raw
// member. Used to tell an idempotent re-ingest (same hash) from a conflicting one.
std::string ContentHash(std::string_view content, std::string_view raw_member);

struct RawDigest {
  std::string salted_sha256;  // 32 bytes: SHA-256(salt || raw bytes)
  uint64_t size = 0;          // of the raw bytes
  friend bool operator==(const RawDigest&, const RawDigest&) = default;
};

struct LeafEnvelope {
  uint64_t seq = 0;
  int64_t ingested_ns = 0;  // microsecond precision is kept
  std::optional<RawDigest> raw;
};

// The leaf bytes for a content document (from EncodeContent) and its envelope.
std::string EncodeLeaf(std::string_view content, const LeafEnvelope& envelope);

// The same bytes in two steps, for callers that know everything but the sequence number early:
// EncodeLeafPrefix gives the leaf up to and including `"seq":`, FinishLeaf appends the rest.
// EncodeLeaf(c, env) == FinishLeaf(EncodeLeafPrefix(c, env.ingested_ns, env.raw), env.seq).
std::string EncodeLeafPrefix(std::string_view content, int64_t ingested_ns,
                             const std::optional<RawDigest>& raw);
void FinishLeaf(uint64_t seq, std::string* prefix);

struct DecodedLeaf {
  Event event;
  LeafEnvelope envelope;
};

// Decodes leaf bytes and checks they are exactly the canonical encoding of what they decode to.
// Any deviation (a changed byte, non-canonical form, a field the schema does not have) is
// kDataLoss naming the problem.
Result<DecodedLeaf> DecodeLeaf(std::string_view leaf);
// The same with a parser the caller keeps (no allocation per leaf) and, when `check_canonical`
// is false, without re-encoding the decoded event to compare it with the bytes: for re-reading
// leaves already checked when they were stored (reconciliation reads every action of an
// identity; `nhitrace verify` is what checks stored bytes).
Result<DecodedLeaf> DecodeLeaf(std::string_view leaf, simdjson::dom::parser& parser,
                               bool check_canonical);

}  // namespace nhitrace::event
