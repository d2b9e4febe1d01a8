// Erasure of a raw record on request (a right-to-erasure case), without breaking any proof.
//
// A leaf commits to the original record it was decoded from only through
// SHA-256(salt || bytes) and its size (docs/format/ledger.md section 5). Erasing deletes the salt
// and the bytes; the hash and the size stay, so the leaf, and with it every node, root, checkpoint
// and proof, is unchanged and `verify` stays green. Without the salt, the hash no longer lets
// anyone confirm a guess of the erased content.
//
// Every erasure is itself recorded in the ledger, in the same transaction, as an event of kind
// `erasure` from source system "nhitrace" that names the erased event and holds none of its bytes:
//
//   {"actor":{"id":"<by>"},"attributes":{"erased_seq":<seq>},"kind":"erasure",
//    "rationale":"<reason>","source":{"event_id":"erasure/<seq>","system":"nhitrace"},
//    "time":"<now, UTC, microseconds>","v":1}
//
// (`actor` only when given.) So an erased record is accounted for by a signed record of who
// erased it, when and why, and `verify` reports an erased record without one.
//
//   NHI_ASSIGN_OR_RETURN(ErasureResult r,
//                        EraseRawRecord(*ledger, {.seq = 12, .reason = "DSR-2231 (GDPR Art.
//                        17)"}));
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "event/event.h"
#include "ledger/ledger.h"

namespace nhitrace::ledger {

// The source system of the erasure events nhitrace writes.
inline constexpr char kErasureSystem[] = "nhitrace";

struct ErasureRequest {
  uint64_t seq = 0;    // the event whose raw record is erased
  std::string reason;  // required. It stays in the ledger for good: name the request (a ticket
                       // id, the legal basis), never the erased data itself.
  std::string by;      // who asked for or performed it (an actor id); optional
};

struct ErasureResult {
  uint64_t erased_seq = 0;
  uint64_t erasure_seq = 0;  // the erasure event appended
  uint64_t size = 0;         // bytes erased
  uint64_t tree_size = 0;    // of the checkpoint signed with it
  int64_t erased_ns = 0;
  // Whether the erased bytes are also gone from the store's files (see
  // Store::PurgeFreedSpace). The erasure is committed either way.
  Status purge;
};

// Erases the raw record of event request.seq and appends the erasure event, in one batch with
// its signed checkpoint. REQUIRES: `ledger` was opened with its signing key. kNotFound for an
// unknown event, kFailedPrecondition when it has no raw record or it is already erased,
// kInvalidArgument for an empty reason or a reason/actor the event schema refuses.
Result<ErasureResult> EraseRawRecord(Ledger& ledger, const ErasureRequest& request);

// The native record of an erasure event (see above), as one JSON line without newline.
std::string ErasureRecordLine(uint64_t erased_seq, int64_t time_ns, std::string_view reason,
                              std::string_view by);

// The sequence number an event erased, when it is a well-formed erasure event: kind erasure,
// source system "nhitrace", and attributes {"erased_seq": <non-negative integer>, ...}.
std::optional<uint64_t> ErasedSeq(const event::Event& e);

}  // namespace nhitrace::ledger
