// self-approval: the requester approved their own request (segregation of duties,
// approvals.segregation_of_duties). Every approval by the requester is evidence, from any
// system: an approval that does not count as a decision is still a person approving their own
// request. Another approver's approval does not make it right.
#include "reconcile/rules/common.h"
#include "reconcile/rules/rules.h"

namespace nhitrace::reconcile::rules {
namespace {

class Rule final : public ReconcileRule {
 public:
  const RuleInfo& info() const override {
    static const RuleInfo kInfo{"self-approval", 1,
                                Severity::kHigh, "Requester approved own request",
                                {"NHI5:2025"},   {"PR.AA-05", "GV.RR-02"}};
    return kInfo;
  }

  void Finish(const RuleContext& ctx, const UnitView& unit, FindingSink* out) const override {
    if (!ctx.policy.approvals.segregation_of_duties) return;
    for (const GrantView& g : unit.grants) {
      if (!g.stored || g.chain.requester.empty() || !SelectsGrant(ctx.settings, unit, g)) {
        continue;
      }
      for (const ChainEvent* a : g.Events(g.chain.approved)) {
        if (!a->event.actor || a->event.actor->id != g.chain.requester) continue;
        Hit& h = out->Fire(SubjectType::kGrant, g.chain.correlation_key);
        h.identity = g.chain.identity;
        h.correlation_key = g.chain.correlation_key;
        h.evidence.Add(a->seq, a->event.time_ns);
        for (const ChainEvent* r : g.Events(g.chain.requested)) {
          if (r->event.actor && r->event.actor->id == g.chain.requester) {
            h.evidence.Add(r->seq, r->event.time_ns);
            break;
          }
        }
        h.message = g.chain.requester + " requested " + g.chain.correlation_key +
                    " and approved it at " + ShortTime(a->event.time_ns) + " (" + Source(*a) + ")";
      }
    }
  }
};

}  // namespace

const ReconcileRule* SelfApproval() {
  static const Rule kRule;
  return &kRule;
}

}  // namespace nhitrace::reconcile::rules
