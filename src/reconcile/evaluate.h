// Evaluating one unit: gather what the store holds about it, run every enabled rule over it.
//
// A unit is named "group:<canonical identity key>", "grant:<correlation key>" (a grant whose
// credential is not a known identity, or a request id only nhitrace's own decisions name) or
// "approver:<actor id>". The gathering is the same whether the unit is evaluated by an
// incremental pass, a full pass or a replay, so that the three can only differ in which units
// they look at, never in what a unit yields.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "policy/policy.h"
#include "reconcile/rule.h"
#include "store/store.h"

namespace nhitrace::reconcile {

// One rule's hit, with the rule.
struct RuleHit {
  const ReconcileRule* rule = nullptr;
  Hit hit;
};

struct UnitResult {
  std::string unit;  // the unit actually evaluated (a stale name resolves to the current one)
  std::vector<RuleHit> hits;
  // Every subject the unit covers: a finding about one of them that is not among `hits` no
  // longer holds.
  std::vector<std::pair<SubjectType, std::string>> subjects;
  std::optional<int64_t> recheck;  // earliest time any rule's answer may change
  uint64_t actions = 0;            // actions attributed while gathering
};

// The unit an identity key belongs to ("group:<canonical>"; the key itself when unknown).
Result<std::string> UnitOfKey(store::Store& store, const std::string& key);
// The unit a grant belongs to: its credential's group, or "grant:<correlation key>".
Result<std::string> UnitOfGrant(store::Store& store, const std::string& correlation_key);
// The same for a grant row at hand.
Result<std::string> UnitOfGrant(store::Store& store, const store::GrantRow& row);

// Evaluates `unit` under `policy` at `as_of`. Only enabled rules run; `only_rule` (may be null)
// restricts to one rule (replay).
Result<UnitResult> EvaluateUnit(store::Store& store, const policy::Policy& policy,
                                const std::string& unit, int64_t as_of,
                                const ReconcileRule* only_rule = nullptr);

}  // namespace nhitrace::reconcile
