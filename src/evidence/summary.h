// The summary of an evidence pack, computed from the pack's own events.
//
// Export and verification call the same function on the same events, so an auditor's
// `verify-pack` recomputes exactly what the pack claims:
//   - identity and request packs: the trace (correlate/trace.h) that nhitrace's derived state
//     gives for the events, built by replaying them into a scratch store and rebuilding the
//     identities and grant chains there (correlate::DerivedState::Rebuild), then TraceToJson
//     and TraceToText;
//   - window packs: a listing of the events whose authoritative time lies in [from, to).
//
//   NHI_ASSIGN_OR_RETURN(Summary s, ComputeSummary(query, events, "/tmp"));
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "event/codec.h"
#include "event/event.h"
#include "evidence/pack_format.h"

namespace nhitrace::evidence {

// An event of a pack: its sequence number, its leaf bytes, and the facts of the leaf that the
// summary and the pack's cross-checks use (the rest stays in the leaf, which a trace replay
// decodes again: a pack of 100,000 events keeps only this in memory).
struct PackEvent {
  uint64_t seq = 0;
  std::string leaf;
  int64_t ingested_ns = 0;
  event::Kind kind = event::Kind::kSignal;
  int64_t time_ns = 0;
  std::string source_system, source_event_id, correlation_key, identity, actor_id;
  std::optional<std::pair<std::string, std::string>> policy;  // (id, version) it names
  std::optional<uint64_t> erased_seq;  // for an erasure event: the event it erased
};

// REQUIRES: `decoded` is what `leaf` decodes to.
PackEvent MakePackEvent(uint64_t seq, std::string leaf, const event::DecodedLeaf& decoded);

struct Summary {
  std::string type;  // "trace" or "listing"
  std::string json;  // canonical JSON
  std::string text;
};

// The summary of `events` (REQUIRES: ascending seq, decoded from their leaves) for `query`
// (REQUIRES: ValidateQuery(query).ok()). A trace query replays the events into a scratch SQLite
// store in a fresh directory under `scratch_dir` (removed afterwards); kNotFound when the events
// hold nothing for the identity or request, kInvalidArgument when two events have the same
// record identity (source system, time, event id), which no ledger holds.
Result<Summary> ComputeSummary(const PackQuery& query, const std::vector<PackEvent>& events,
                               const std::string& scratch_dir);

// $TMPDIR, else /tmp.
std::string DefaultScratchDir();

}  // namespace nhitrace::evidence
