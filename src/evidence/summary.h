// The summary of an evidence pack, computed from the pack's own events.
//
// Export and verification call the same function on the same events, so an auditor's
// `verify-pack` recomputes exactly what the pack claims:
//   - identity and request packs: the trace (correlate/trace.h) that nhitrace's derived state
//     gives for the events, built by replaying them into a scratch store and rebuilding the
//     identities and grant chains there (correlate::DerivedState::Rebuild), then TraceToJson
//     and TraceToText;
//   - window packs: a listing of the events whose authoritative time lies in [from, to);
//   - case packs: the case's explanation (cases/explain.h), folded from the pack's case events
//     by cases::ExplainCaseFromEvents, the fold `nhitrace case explain` uses; and the pack must
//     hold exactly the events the case needs (ComputeSummary).
//
//   NHI_ASSIGN_OR_RETURN(Summary s, ComputeSummary(query, events, "/tmp", tree_size));
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
  std::string type;  // "trace", "listing" or "case"
  std::string json;  // canonical JSON
  std::string text;
};

// The summary of `events` (REQUIRES: ascending seq, decoded from their leaves) for `query`
// (REQUIRES: ValidateQuery(query).ok()). A trace query replays the events into a scratch SQLite
// store in a fresh directory under `scratch_dir` (removed afterwards); kNotFound when the events
// hold nothing for the identity or request, kInvalidArgument when two events have the same
// record identity (source system, time, event id), which no ledger holds. A case query folds the
// case from the events; its explanation's ledger_size is `tree_size`, the size of the tree the
// pack's proofs are against (an explanation from the store gives the ledger's size then).
// kNotFound when no event of the case folds; kInvalidArgument naming the event when the events
// lack one the case refers to (its links, signals, evidence, the revisions of the findings it
// names from the first on, and their evidence), or hold one it does not need (beyond those, the
// policy events of the policy versions they name and the erasure events of their records).
Result<Summary> ComputeSummary(const PackQuery& query, const std::vector<PackEvent>& events,
                               const std::string& scratch_dir, uint64_t tree_size);

// A finding event (kind `finding` from source `nhitrace`, event id "finding/<id>/<revision>",
// docs/reconcile.md): its finding id, revision and evidence seqs. nullopt for any other event,
// and for one whose attributes are not a finding document (then it names no evidence).
struct FindingRecord {
  uint64_t seq = 0;  // set by the caller
  std::string id;
  uint32_t revision = 0;
  std::vector<uint64_t> evidence;
};
std::optional<FindingRecord> FindingRecordOf(const event::Event& e);

// $TMPDIR, else /tmp.
std::string DefaultScratchDir();

}  // namespace nhitrace::evidence
