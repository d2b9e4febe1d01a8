// The fold: a case is what its events add up to.
//
// ApplyCaseEvent is a pure function of the case so far and one event; folding a case's events in
// op order gives its CaseView, the same whether done incrementally as events are appended or
// from scratch in a rebuild. It checks that the event can belong to the case (the next op number,
// known tasks and decisions, the state it claims to leave), not whether the change was allowed:
// that was decided before the event was written (cases/session.h), under the policy then in
// force, and the record of it must not change meaning when the policy changes.
#pragma once

#include <cstdint>
#include <optional>

#include "base/status.h"
#include "cases/case_event.h"
#include "cases/case_model.h"
#include "event/event.h"

namespace nhitrace::cases {

// Applies case event `e` (ledger seq `seq`, decoded as `op`) to `*view` (empty before the open).
// On error `*view` is unchanged and the message says why the event does not fit the case.
Status ApplyCaseEvent(const event::Event& e, uint64_t seq, const CaseOp& op,
                      std::optional<CaseView>* view);

}  // namespace nhitrace::cases
