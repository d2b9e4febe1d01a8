#include "reconcile/rules/common.h"

#include <algorithm>

namespace nhitrace::reconcile::rules {

std::vector<const ChainEvent*> Decisions(const policy::Policy& p, const GrantView& g) {
  std::vector<const ChainEvent*> out;
  for (const auto* list : {&g.chain.approved, &g.chain.denied}) {
    for (const ChainEvent* e : g.Events(*list)) {
      if (policy::Authoritative::Counts(p.authoritative.approval, e->event.source_system)) {
        out.push_back(e);
      }
    }
  }
  std::sort(out.begin(), out.end(),
            [](const auto* a, const auto* b) { return correlate::ChronologicalLess(*a, *b); });
  return out;
}

const ChainEvent* DecisionAt(const policy::Policy& p, const GrantView& g, int64_t time_ns) {
  const ChainEvent* in_force = nullptr;
  for (const ChainEvent* d : Decisions(p, g)) {
    if (d->event.time_ns <= time_ns) in_force = d;
  }
  return in_force;
}

std::vector<const ChainEvent*> Issuances(const policy::Policy& p, const GrantView& g) {
  std::vector<const ChainEvent*> out;
  for (const ChainEvent* e : g.Events(g.chain.provisioned)) {
    if (Succeeded(e->event) &&
        policy::Authoritative::Counts(p.authoritative.issuance, e->event.source_system)) {
      out.push_back(e);
    }
  }
  return out;
}

std::string By(const ChainEvent& e) { return e.event.actor ? " by " + e.event.actor->id : ""; }

std::string Source(const ChainEvent& e) {
  return e.event.source_system + "/" + e.event.source_event_id;
}

}  // namespace nhitrace::reconcile::rules
