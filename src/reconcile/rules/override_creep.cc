// override-creep: repeated overrides (privilege creep). Overrides are approval or case events
// with attributes.decision = "override" (docs/reconcile.md). Fires when `threshold` overrides
// fall within one `window` (any window, sliding), counted per identity (overrides naming one of
// its keys or one of its grants) and per approver. Every override of the subject is evidence.
#include <set>

#include "reconcile/rules/common.h"
#include "reconcile/rules/rules.h"

namespace nhitrace::reconcile::rules {
namespace {

// The most overrides within one window of `window` ns, over decisions sorted by time.
size_t Densest(const std::vector<const store::DecisionRow*>& ds, int64_t window) {
  size_t best = 0, lo = 0;
  for (size_t hi = 0; hi < ds.size(); ++hi) {
    while (ds[hi]->time_ns - ds[lo]->time_ns > window) ++lo;
    best = std::max(best, hi - lo + 1);
  }
  return best;
}

class Rule final : public ReconcileRule {
 public:
  const RuleInfo& info() const override {
    static const RuleInfo kInfo{"override-creep", 1,
                                Severity::kHigh,  "Repeated overrides (privilege creep)",
                                {"NHI5:2025"},    {"PR.AA-05", "ID.RA-07"}};
    return kInfo;
  }

  void Finish(const RuleContext& ctx, const UnitView& unit, FindingSink* out) const override {
    std::vector<const store::DecisionRow*> overrides;
    std::set<uint64_t> seen;
    auto add = [&](const std::vector<store::DecisionRow>& ds) {
      for (const auto& d : ds) {
        if (d.kind == "override" && seen.insert(d.seq).second) overrides.push_back(&d);
      }
    };
    SubjectType type;
    std::string subject, identity;
    if (unit.kind == UnitView::Kind::kApprover) {
      add(unit.approver_decisions);
      type = SubjectType::kApprover;
      subject = unit.approver;
    } else if (unit.identity && SelectsIdentity(ctx.settings, unit)) {
      add(unit.identity->decisions);
      for (const GrantView& g : unit.grants) add(g.decisions);
      type = SubjectType::kIdentity;
      subject = identity = unit.identity->canonical;
    } else {
      return;
    }
    std::sort(overrides.begin(), overrides.end(), [](const auto* a, const auto* b) {
      return std::tie(a->time_ns, a->seq) < std::tie(b->time_ns, b->seq);
    });
    const int64_t window = ctx.settings.Duration("window");
    const size_t densest = Densest(overrides, window);
    if (densest < static_cast<size_t>(ctx.settings.Integer("threshold"))) return;
    Hit& h = out->Fire(type, subject);
    h.identity = identity;
    for (const auto* d : overrides) h.evidence.Add(d->seq, d->time_ns);
    h.message = std::to_string(overrides.size()) + " override(s)" +
                (type == SubjectType::kApprover ? " by " + subject : " on this identity") + ", " +
                std::to_string(densest) + " within " + policy::FormatDuration(window) +
                " (threshold " + std::to_string(ctx.settings.Integer("threshold")) + ")";
  }
};

}  // namespace

const ReconcileRule* OverrideCreep() {
  static const Rule kRule;
  return &kRule;
}

}  // namespace nhitrace::reconcile::rules
