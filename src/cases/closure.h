// Closure criteria: what the machine checks before a case may close (docs/cases.md,
// "Closure criteria").
//
// The policy names, per case kind and resolution, the criteria that must hold; each is checked
// against the case and the ledger (revocations, rotations and uses of the linked identities),
// and a criterion that does not hold says what is missing:
//
//   NHI_ASSIGN_OR_RETURN(auto results, EvaluateClosure(store, view, ids, policy, now));
//   for (const CriterionResult& c : results) if (!c.met) ...c.id, c.detail...
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "cases/case_model.h"
#include "cases/case_policy.h"
#include "store/store.h"

namespace nhitrace::cases {

// The criteria a close with `resolution` is held to: the policy's list for the case's kind and
// resolution, plus overrides_risk_accepted, which always applies.
std::vector<std::string> ClosureCriteriaFor(const CasePolicy& policy, const CaseView& v,
                                            Resolution resolution);

// Evaluates each criterion (in the order given) for case `v` as of `now_ns`.
// REQUIRES: every id satisfies IsCriterionId.
Result<std::vector<CriterionResult>> EvaluateClosure(store::Store& store, const CaseView& v,
                                                     const std::vector<std::string>& ids,
                                                     const CasePolicy& policy, int64_t now_ns);

// Where a credential stands: the revocation or rotation that ended its last issuance, if any.
struct RevocationState {
  std::optional<uint64_t> seq;  // the first successful revocation/rotation after the last
                                // successful provision (none: not revoked)
  int64_t time_ns = 0;
  std::optional<uint64_t> reprovisioned_seq;  // a provision after an earlier revocation
};
Result<RevocationState> FindRevocation(store::Store& store, const std::string& identity);

}  // namespace nhitrace::cases
