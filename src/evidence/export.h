// Exporting an evidence pack: one self-contained file an auditor verifies offline, trusting
// neither nhitrace nor its store (format: docs/format/evidence-pack.md; checking: verify_pack.h).
//
// A pack holds the events a question needs (an identity's or a request's trace, a window of
// time, or a case's explanation) as their signed leaves with their raw records, an inclusion proof
// for each against one signed checkpoint, a consistency proof from that checkpoint to the latest
// one, the verifier key, the policy versions the events name, and the summary (trace, listing or
// case explanation) that verify-pack recomputes from the events. Case packs are format version 2,
// the others version 1 (PackVersionFor).
//
//   NHI_ASSIGN_OR_RETURN(ExportStats st,
//                        ExportPackToFile(store, {.identity = "k8s:sa:payments/ci"}, "p.pack"));
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "evidence/pack_format.h"
#include "store/store.h"

namespace nhitrace::evidence {

struct ExportOptions {
  // Where the summary's scratch store goes (summary.h); default DefaultScratchDir().
  std::string scratch_dir;
};

struct ExportStats {
  uint64_t events = 0;      // event lines
  uint64_t raw_kept = 0;    // with their raw record
  uint64_t raw_erased = 0;  // whose raw record was erased (each with its erasure event)
  uint64_t policies = 0;    // policy versions named by the events
  uint64_t checkpoint_size = 0;
  uint64_t latest_size = 0;
  uint64_t bytes = 0;
};

// Receives the pack's bytes, in order, in pieces.
using PackSink = std::function<Status(std::string_view)>;

// Writes the pack for `query` (ValidateQuery) from `store`. The inclusion proofs are against
// the smallest published checkpoint that covers every event of the pack, and the consistency
// proof leads from it to the latest one. Everything written is verified first: every proof
// against its signed root, every raw record against its leaf, and the summary, which is computed
// from the pack's events exactly as VerifyPack recomputes it and, for a trace or a case, must
// equal the trace or `case explain` of the whole store (kInternal otherwise: the pack would not
// prove what the store says; a case's ledger_size is the pack's checkpoint size).
// kNotFound when the query selects no event; kDataLoss when the store fails these checks (run
// `nhitrace verify`). Nothing is written before all of that succeeded, except the event lines,
// which are checked as they are written; on an error the sink has received an incomplete pack.
Result<ExportStats> ExportPack(store::Store& store, const PackQuery& query,
                               const ExportOptions& options, const PackSink& sink);

// ExportPack into a new file `path` (mode 0600: raw records may hold personal data). It is
// written under a temporary name in the same directory, fsync'd, and then given its name, so an
// incomplete pack never appears under it. kAlreadyExists when `path` exists.
Result<ExportStats> ExportPackToFile(store::Store& store, const PackQuery& query,
                                     const ExportOptions& options, const std::string& path);

}  // namespace nhitrace::evidence
