// action-after-revocation: a credential used after the revocation that ended its grant (beyond
// `grace`, the target system's propagation delay). Refused attempts count only with
// include_failed: by default a refused use shows the revocation working. One finding per grant.
#include "reconcile/rules/common.h"
#include "reconcile/rules/rules.h"

namespace nhitrace::reconcile::rules {
namespace {

class Rule final : public ReconcileRule {
 public:
  const RuleInfo& info() const override {
    static const RuleInfo kInfo{"action-after-revocation",
                                1,
                                Severity::kCritical,
                                "Action after revocation",
                                {"NHI1:2025"},
                                {"PR.AA-01", "DE.CM-03", "RS.AN-03"}};
    return kInfo;
  }
  bool wants_actions() const override { return true; }

  void OnAction(const RuleContext& ctx, const UnitView& unit, const ActionVerdict& a,
                FindingSink* out) const override {
    if (a.verdict != correlate::Verdict::kAfterRevocation || !a.grant) return;
    if (a.failed && !ctx.settings.Bool("include_failed")) return;
    const int64_t t = a.action->event.time_ns;
    if (t - a.grant->chain.end_ns < ctx.settings.Duration("grace")) return;
    if (!SelectsGrant(ctx.settings, unit, *a.grant)) return;
    Hit& h = out->Fire(SubjectType::kGrant, a.grant->chain.correlation_key);
    h.identity = a.grant->chain.identity;
    h.correlation_key = a.grant->chain.correlation_key;
    h.evidence.Add(a.action->seq, t);
  }

  void Finish(const RuleContext&, const UnitView& unit, FindingSink* out) const override {
    for (auto& [key, h] : out->hits()) {
      const GrantView* g = unit.FindGrant(h.correlation_key);
      h.message = std::to_string(h.evidence.count()) + " use(s) after the revocation at " +
                  (g ? ShortTime(g->chain.end_ns) : "?") + ", the last at " +
                  ShortTime(h.evidence.last_ns());
      if (g && g->chain.end_seq) h.evidence.Add(*g->chain.end_seq, g->chain.end_ns);
    }
  }
};

}  // namespace

const ReconcileRule* ActionAfterRevocation() {
  static const Rule kRule;
  return &kRule;
}

}  // namespace nhitrace::reconcile::rules
