// action-outside-window: an action before its grant's window opened or after it closed by
// expiry (an expiry event, not_after or the TTL). Actions within `grace` of the window's edge
// do not count (clock skew). One finding per grant.
#include "reconcile/rules/common.h"
#include "reconcile/rules/rules.h"

namespace nhitrace::reconcile::rules {
namespace {

class Rule final : public ReconcileRule {
 public:
  const RuleInfo& info() const override {
    static const RuleInfo kInfo{"action-outside-window",
                                1,
                                Severity::kHigh,
                                "Action outside the approved window or after expiry",
                                {"NHI7:2025", "NHI1:2025"},
                                {"PR.AA-05", "DE.CM-03"}};
    return kInfo;
  }
  bool wants_actions() const override { return true; }

  void OnAction(const RuleContext& ctx, const UnitView& unit, const ActionVerdict& a,
                FindingSink* out) const override {
    if (!a.grant) return;
    const bool before = a.verdict == correlate::Verdict::kBeforeGrant;
    if (!before && a.verdict != correlate::Verdict::kAfterExpiry) return;
    if (a.failed && !ctx.settings.Bool("include_failed")) return;
    const int64_t t = a.action->event.time_ns;
    const int64_t grace = ctx.settings.Duration("grace");
    const correlate::GrantChain& c = a.grant->chain;
    if (before ? c.start_ns - t <= grace : t - c.end_ns < grace) return;
    if (!SelectsGrant(ctx.settings, unit, *a.grant)) return;
    Hit& h = out->Fire(SubjectType::kGrant, c.correlation_key);
    h.identity = c.identity;
    h.correlation_key = c.correlation_key;
    h.evidence.Add(a.action->seq, t);
    h.AddDetail(before ? "before" : "after");
  }

  void Finish(const RuleContext&, const UnitView& unit, FindingSink* out) const override {
    for (auto& [key, h] : out->hits()) {
      const GrantView* g = unit.FindGrant(h.correlation_key);
      std::string window =
          g ? ShortTime(g->chain.start_ns) + " .. " + ShortTime(g->chain.end_ns) +
                  (g->chain.end_reason.empty() ? "" : " (" + g->chain.end_reason + ")")
            : "?";
      h.message = std::to_string(h.evidence.count()) + " action(s) outside the grant's window " +
                  window + ", from " + ShortTime(h.evidence.first_ns()) + " to " +
                  ShortTime(h.evidence.last_ns());
    }
  }
};

}  // namespace

const ReconcileRule* ActionOutsideWindow() {
  static const Rule kRule;
  return &kRule;
}

}  // namespace nhitrace::reconcile::rules
