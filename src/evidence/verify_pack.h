// Verifying an evidence pack offline: no store, no network, nothing of nhitrace's but its code.
//
// VerifyPack checks every part of a pack (docs/format/evidence-pack.md) and names each problem
// by its line, part and item ("line 9: event seq 12: the inclusion proof does not lead to the
// checkpoint's root"):
//   - the layout: header, key, checkpoint, consistency, the events in ascending seq, the policy
//     versions, the summary, each exactly once and in that order, every line canonical-form
//     JSON with only the members the format has, the file ending in a newline;
//   - the signatures of both checkpoints with the pack's verifier key (or the trusted key, which
//     the pack's key must then equal), their origin, and the consistency proof between them;
//   - every event: its leaf decodes and is canonical, says its own seq, and its inclusion proof
//     leads to the checkpoint's root; its raw record hashes, with its salt, to the salted hash
//     the leaf commits to, or it was erased and the pack holds the erasure event that says so;
//   - the policy versions the events name, and the ledger's policy events for each;
//   - the summary: recomputed from the pack's events (summary.h) and compared, JSON and text;
//     a case pack must also hold every event the case refers to;
//   - the format version: 1, or 2 for a case pack (the only version each query may have).
//
//   NHI_ASSIGN_OR_RETURN(PackReport r, VerifyPack(bytes, {}));
//   if (!r.ok()) for (const auto& p : r.problems) puts(p.ToString().c_str());
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "evidence/pack_format.h"
#include "tlog/merkle.h"
#include "tlog/note.h"

namespace nhitrace::evidence {

struct VerifyPackOptions {
  // Check signatures with this key (held out of band) rather than the one the pack carries.
  std::optional<tlog::NoteVerifier> trusted_key;
  size_t max_problems = 50;  // kept in detail; all are counted
  // Where the summary's scratch store goes (summary.h); default DefaultScratchDir().
  std::string scratch_dir;
};

struct PackProblem {
  uint64_t line = 0;  // 1-based; 0 for the pack as a whole
  std::string part;   // header key checkpoint consistency event policy summary, or "pack"
  std::string item;   // e.g. "seq 12", "nhi-access v7"; may be empty
  std::string what;
  // "line 9: event seq 12: <what>"
  std::string ToString() const;
};

struct PackReport {
  int64_t version = 0;
  PackQuery query;
  std::string summary_type;
  uint64_t events = 0;       // event lines read
  uint64_t raw_checked = 0;  // raw records re-hashed against their leaves
  uint64_t raw_erased = 0;   // erased raw records (each accounted for by an erasure event)
  uint64_t policies = 0;     // policy versions
  uint64_t checkpoint_size = 0;
  tlog::Hash checkpoint_root{};
  uint64_t latest_size = 0;
  tlog::Hash latest_root{};
  std::string key;           // the verifier key used
  bool key_trusted = false;  // given by the caller
  bool summary_checked = false;
  std::vector<PackProblem> problems;
  uint64_t problem_count = 0;

  bool ok() const { return problem_count == 0; }
};

// Checks `pack` (the whole file). Fails only when the check cannot run (the summary's scratch
// store cannot be created); everything wrong with the pack is a problem in the report. The
// summary is checked only when every event verified (it is computed from them).
Result<PackReport> VerifyPack(std::string_view pack, const VerifyPackOptions& options);

}  // namespace nhitrace::evidence
