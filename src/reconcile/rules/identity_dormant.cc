// identity-dormant: a live identity with no action for `period`.
//
// Live: one of its grants is provisioned and not ended at as_of; or, for an identity with no
// provisioned grant, no revocation or expiry of its keys came after their latest issuance. The
// period runs from the latest action of any key (any outcome), or from when the identity was
// first seen if it never acted. A new action resolves the finding; so does the end of the
// identity's last grant.
#include "reconcile/rules/common.h"
#include "reconcile/rules/rules.h"

namespace nhitrace::reconcile::rules {
namespace {

class Rule final : public ReconcileRule {
 public:
  const RuleInfo& info() const override {
    static const RuleInfo kInfo{"identity-dormant", 1,
                                Severity::kLow,     "Dormant identity",
                                {"NHI1:2025"},      {"ID.AM-08", "PR.AA-01"}};
    return kInfo;
  }

  void Finish(const RuleContext& ctx, const UnitView& unit, FindingSink* out) const override {
    if (!unit.identity || unit.identity->keys.empty()) return;
    if (!SelectsIdentity(ctx.settings, unit)) return;
    const IdentityView& id = *unit.identity;
    bool live = false, any_provisioned = false;
    for (const GrantView& g : unit.grants) {
      if (g.chain.start_ns == INT64_MIN) continue;
      any_provisioned = true;
      if (g.chain.end_ns > ctx.as_of) {
        live = true;
        if (g.chain.end_ns != INT64_MAX) out->RecheckAt(g.chain.end_ns);
      }
    }
    if (!any_provisioned) {
      std::optional<EvidenceRef> issue, end;
      for (const KeyView& k : id.keys) {
        for (const ChainEvent& e : k.events) {
          if (!Succeeded(e.event)) continue;
          EvidenceRef r{e.event.time_ns, e.seq};
          if (e.event.kind == event::Kind::kProvision || e.event.kind == event::Kind::kRotation) {
            if (!issue || *issue < r) issue = r;
          } else if (e.event.kind == event::Kind::kRevocation ||
                     e.event.kind == event::Kind::kExpiry) {
            if (!end || *end < r) end = r;
          }
        }
      }
      live = !end || (issue && *end < *issue);
    }
    if (!live) return;
    std::optional<EvidenceRef> since = id.last_action ? id.last_action : id.first_event;
    if (!since) return;
    const int64_t period = ctx.settings.Duration("period");
    const int64_t deadline = since->time_ns + period;
    if (ctx.as_of < deadline) {
      out->RecheckAt(deadline);
      return;
    }
    Hit& h = out->Fire(SubjectType::kIdentity, id.canonical);
    h.identity = id.canonical;
    h.evidence.Add(since->seq, since->time_ns);
    // The message must not depend on as_of, or every later pass would "update" the finding.
    h.message = (id.last_action ? "no action since " : "never acted since it was first seen at ") +
                ShortTime(since->time_ns) + " (dormancy period " + policy::FormatDuration(period) +
                ", due " + ShortTime(deadline) + ")";
  }
};

}  // namespace

const ReconcileRule* IdentityDormant() {
  static const Rule kRule;
  return &kRule;
}

}  // namespace nhitrace::reconcile::rules
