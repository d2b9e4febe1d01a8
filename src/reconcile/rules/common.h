// Helpers the rules share: which of a grant's events count under the policy's `authoritative:`
// section, and how to name things in messages. Internal to src/reconcile/rules/.
#pragma once

#include <string>
#include <vector>

#include "policy/duration.h"
#include "reconcile/rule.h"

namespace nhitrace::reconcile::rules {

using correlate::ChainEvent;

// The grant's approvals and denials from systems authoritative for approvals, chronological.
std::vector<const ChainEvent*> Decisions(const policy::Policy& p, const GrantView& g);
// The decision in force at `time_ns`: the latest counting approval or denial at or before it.
const ChainEvent* DecisionAt(const policy::Policy& p, const GrantView& g, int64_t time_ns);
// The grant's successful provisions from systems authoritative for issuance, chronological.
std::vector<const ChainEvent*> Issuances(const policy::Policy& p, const GrantView& g);

// "by alice@example.com" / "" when the event names no actor.
std::string By(const ChainEvent& e);
// "jira/SEC-1:approved"
std::string Source(const ChainEvent& e);

}  // namespace nhitrace::reconcile::rules
