// Explain: the reconstructed answer to "why was this case decided this way".
//
// The case is folded afresh from its events in the ledger (not read from the derived tables),
// and told as an auditor reads it: the decisions with their outcome, who and when, rationale,
// the policy id/version/hash applied and the signals relied on; overrides and the risk
// acceptances that made them effective; exceptions and their terms; the closure and the
// criteria it met with their evidence; attachments and verifications; every event of the case
// with its ledger sequence number, so each statement can be proven (`nhitrace prove inclusion`).
//
//   NHI_ASSIGN_OR_RETURN(Explanation x, ExplainCase(store, 7));
//   std::puts(ExplanationToText(x).c_str());
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "cases/case_event.h"
#include "cases/case_model.h"
#include "store/store.h"

namespace nhitrace::cases {

struct TimelineEntry {
  uint64_t seq = 0;
  uint32_t op = 0;
  int64_t time_ns = 0;
  std::string actor, actor_type;
  std::string op_name;
  std::string summary;  // one line, e.g. "decided revoke (decision 1)"
  std::string reason;   // the event's rationale
  std::optional<event::PolicyRef> policy;
};

struct Explanation {
  CaseView view;  // folded from the ledger
  std::vector<TimelineEntry> timeline;
  // Whether the derived row of the case (case list) agrees with the fold; if not, what differs
  // (run `nhitrace case rebuild`).
  bool view_consistent = true;
  std::string inconsistency;
  uint64_t ledger_size = 0;
};

// One line saying what an op did, e.g. "decided revoke (decision 1)".
std::string SummarizeOp(const CaseOp& op);

// kNotFound when there is no such case.
Result<Explanation> ExplainCase(store::Store& store, uint64_t id);

// One ledger event offered to ExplainCaseFromEvents.
struct SeqEvent {
  uint64_t seq = 0;
  const event::Event* event = nullptr;  // not owned
};

// The fold at the heart of ExplainCase, without the store: the explanation of case `id` from
// `events` (ascending seq), which may hold any events. Those of kind `case` from the case source
// system whose event id names case `id` are folded in order, as the projection's rebuild folds
// them; one that does not fit the case is skipped and, when `unfit` is given, appended to it as
// (seq, why). view_consistent, inconsistency and ledger_size are left at true, "" and 0 for the
// caller (ExplainCase compares with the derived tables; an evidence pack has none). kNotFound
// when no event of the case folds. Used by ExplainCase and by evidence packs (evidence/summary.h),
// so that a pack's case summary is what `case explain` says.
Result<Explanation> ExplainCaseFromEvents(
    uint64_t id, const std::vector<SeqEvent>& events,
    std::vector<std::pair<uint64_t, std::string>>* unfit = nullptr);

// What a case refers to outside its own events: the ledger events it links or names (links,
// decision signals, overridden denials, verification and closure evidence) and the findings it
// links or names (links, signals, the finding it was opened from, the findings of expiries).
struct CaseReferences {
  std::set<uint64_t> events;
  std::set<std::string> findings;
};
CaseReferences ReferencesOf(const CaseView& v);

// For people (80 columns) and for programs (docs/cases.md, "explain --json").
std::string ExplanationToText(const Explanation& x);
std::string ExplanationToJson(const Explanation& x);

}  // namespace nhitrace::cases
