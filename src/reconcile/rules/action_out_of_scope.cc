// action-out-of-scope: inside a grant's window, an action touched resources or permissions the
// approval does not cover (correlate::Attribute, IAM-style '*' patterns). One finding per grant;
// refused attempts count only with include_failed.
#include "reconcile/rules/common.h"
#include "reconcile/rules/rules.h"

namespace nhitrace::reconcile::rules {
namespace {

class Rule final : public ReconcileRule {
 public:
  const RuleInfo& info() const override {
    static const RuleInfo kInfo{"action-out-of-scope", 1,
                                Severity::kHigh,       "Action outside the approved scope",
                                {"NHI5:2025"},         {"PR.AA-05", "DE.CM-03"}};
    return kInfo;
  }
  bool wants_actions() const override { return true; }

  void OnAction(const RuleContext& ctx, const UnitView& unit, const ActionVerdict& a,
                FindingSink* out) const override {
    if (a.verdict != correlate::Verdict::kOutOfScope || !a.grant) return;
    if (a.failed && !ctx.settings.Bool("include_failed")) return;
    if (!SelectsGrant(ctx.settings, unit, *a.grant)) return;
    Hit& h = out->Fire(SubjectType::kGrant, a.grant->chain.correlation_key);
    h.identity = a.grant->chain.identity;
    h.correlation_key = a.grant->chain.correlation_key;
    h.evidence.Add(a.action->seq, a.action->event.time_ns);
    if (a.uncovered) {
      for (const auto& u : *a.uncovered) h.AddDetail(u);
    }
  }

  void Finish(const RuleContext&, const UnitView&, FindingSink* out) const override {
    for (auto& [key, h] : out->hits()) {
      h.message =
          std::to_string(h.evidence.count()) + " action(s) outside the approved scope, touching ";
      for (size_t i = 0; i < h.details.size(); ++i) h.message += (i ? ", " : "") + h.details[i];
      if (h.details.size() == 5) h.message += ", ...";
    }
  }
};

}  // namespace

const ReconcileRule* ActionOutOfScope() {
  static const Rule kRule;
  return &kRule;
}

}  // namespace nhitrace::reconcile::rules
