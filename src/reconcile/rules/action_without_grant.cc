// action-without-grant: an identity used although no grant of it (or of any key of its identity)
// is on record. One finding per identity; every such action is evidence. Actions that failed
// count only with include_failed.
#include "reconcile/rules/common.h"
#include "reconcile/rules/rules.h"

namespace nhitrace::reconcile::rules {
namespace {

class Rule final : public ReconcileRule {
 public:
  const RuleInfo& info() const override {
    static const RuleInfo kInfo{"action-without-grant",     1,
                                Severity::kMedium,          "Action with no grant",
                                {"NHI1:2025", "NHI5:2025"}, {"PR.AA-05", "DE.CM-03"}};
    return kInfo;
  }
  bool wants_actions() const override { return true; }

  void OnAction(const RuleContext& ctx, const UnitView& unit, const ActionVerdict& a,
                FindingSink* out) const override {
    if (a.verdict != correlate::Verdict::kNoGrant) return;
    if (a.failed && !ctx.settings.Bool("include_failed")) return;
    if (!SelectsIdentity(ctx.settings, unit)) return;
    Hit& h = out->Fire(SubjectType::kIdentity, unit.identity->canonical);
    h.identity = unit.identity->canonical;
    h.evidence.Add(a.action->seq, a.action->event.time_ns);
  }

  void Finish(const RuleContext&, const UnitView&, FindingSink* out) const override {
    for (auto& [key, h] : out->hits()) {
      h.message = std::to_string(h.evidence.count()) + " action(s) under no grant on record (" +
                  ShortTime(h.evidence.first_ns()) + " .. " + ShortTime(h.evidence.last_ns()) + ")";
    }
  }
};

}  // namespace

const ReconcileRule* ActionWithoutGrant() {
  static const Rule kRule;
  return &kRule;
}

}  // namespace nhitrace::reconcile::rules
