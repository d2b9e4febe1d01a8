// Findings open or join cases (docs/reconcile.md section 8, docs/cases.md section 7): what a
// reconcile pass does with the cases module, in the batch that appends its finding events.
//
//   NHI_ASSIGN_OR_RETURN(cases::PolicyContext pc, CasePolicyContext(policy));
//   CaseLinkStats stats;
//   NHI_RETURN_IF_ERROR(LinkFindingsToCases({store, projection, batch, pc, clock}, changes,
//                                           /*catch_up=*/full, &stats));
//   NHI_RETURN_IF_ERROR(batch.Commit());
//
// Threading: as the ledger (one thread).
#pragma once

#include <cstdint>
#include <vector>

#include "base/status.h"
#include "base/time.h"
#include "cases/case_policy.h"
#include "cases/projection.h"
#include "ledger/ledger.h"
#include "policy/policy.h"
#include "reconcile/finding.h"
#include "store/store.h"

namespace nhitrace::reconcile {

// The cases' view of a published policy: its id, version and hash, its `cases:` and
// `escalation:` sections, and what `approvals:` says about segregation of duties and overrides.
// kInvalidArgument naming the policy version when its cases section does not parse.
Result<cases::PolicyContext> CasePolicyContext(const policy::Policy& p);

// The policy case operations run under, for the CLI's `case` commands and the API's case routes
// alike: CasePolicyContext of the latest published version, or the built-in defaults
// (docs/cases.md) when no policy is published.
Result<cases::PolicyContext> LatestCasePolicyContext(store::Store& store);

// What one pass did to cases.
struct CaseLinkStats {
  uint64_t opened = 0;    // cases opened by a finding
  uint64_t joined = 0;    // findings (or their new evidence) joined to a case
  uint64_t reopened = 0;  // closed cases reopened by a finding's new evidence
  uint64_t noted = 0;     // resolved findings noted on their case
  uint64_t raised = 0;    // cases whose severity a more severe joining finding raised
};

// Where the case events go. REQUIRES: `projection` observes the ledger `batch` belongs to, and
// `batch` is open.
struct CaseLinkTarget {
  store::Store& store;
  cases::CaseProjection& projection;
  ledger::Batch& batch;
  const cases::PolicyContext& policy;
  const Clock& clock;
};

// Applies finding revisions just appended to `t.batch` to cases, appending the case events to
// the same batch (actor: nhitrace, type system):
//   - an opened or updated finding: cases::CaseSession::OpenOrJoinForFinding (its own case gains
//     new evidence, or it joins the open case of its identity or request, or opens a case as
//     the policy's cases.findings says); joining raises the case's severity to the finding's
//     when that is higher;
//   - after a case opens, the open findings of the same identity or request that are on no case
//     join it (so the order in which findings appeared does not decide which case they are on);
//   - a resolved finding: a comment on its case saying it resolved and why.
// Findings are handled in a fixed order (case severity descending, first seen, id), so the same
// findings give the same cases. With `catch_up`, every open finding (not just these changes) is
// considered too: a full pass brings findings recorded before this wiring, or before a case of
// their subject was opened, onto their cases. Idempotent: a finding already on its case with
// all its evidence writes nothing.
Status LinkFindingsToCases(const CaseLinkTarget& t, const std::vector<Finding>& changes,
                           bool catch_up, CaseLinkStats* stats);

}  // namespace nhitrace::reconcile
