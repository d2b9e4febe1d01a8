// revocation-unconfirmed: a grant was revoked (and, with include_expiry, expired) but no
// reconciliation of the live state confirms the credential is gone.
//
// The end is the grant's first successful revocation (or expiry). It is confirmed by the latest
// reconciliation at or after it, from a system authoritative for the live state, when that
// reconciliation succeeded; one that failed says the credential is still live and fires at once.
// Without any, the rule fires from end + confirm_within on. An end recorded by a system listed
// in authoritative.live_state confirms itself (that system is the live state).
#include "reconcile/rules/common.h"
#include "reconcile/rules/rules.h"

namespace nhitrace::reconcile::rules {
namespace {

class Rule final : public ReconcileRule {
 public:
  const RuleInfo& info() const override {
    static const RuleInfo kInfo{"revocation-unconfirmed",
                                1,
                                Severity::kMedium,
                                "Revocation without confirmation of the live state",
                                {"NHI1:2025"},
                                {"PR.AA-01", "DE.CM-09"}};
    return kInfo;
  }

  void Finish(const RuleContext& ctx, const UnitView& unit, FindingSink* out) const override {
    const auto& live_state = ctx.policy.authoritative.live_state;
    for (const GrantView& g : unit.grants) {
      if (!g.stored || !SelectsGrant(ctx.settings, unit, g)) continue;
      std::vector<uint64_t> ends = g.chain.revoked;
      if (ctx.settings.Bool("include_expiry")) {
        ends.insert(ends.end(), g.chain.expired.begin(), g.chain.expired.end());
      }
      std::vector<const ChainEvent*> end_events = g.Events(ends);
      if (end_events.empty()) continue;
      const ChainEvent* end = end_events.front();
      if (!live_state.empty() &&
          policy::Authoritative::Counts(live_state, end->event.source_system)) {
        continue;
      }
      const ChainEvent* latest = nullptr;
      for (const auto* list : {&g.chain.reconciled, &g.chain.other}) {
        for (const ChainEvent* r : g.Events(*list)) {
          if (r->event.kind != event::Kind::kReconciliation ||
              correlate::ChronologicalLess(*r, *end) ||
              !policy::Authoritative::Counts(live_state, r->event.source_system)) {
            continue;
          }
          if (!latest || correlate::ChronologicalLess(*latest, *r)) latest = r;
        }
      }
      const std::string what =
          std::string(end->event.kind == event::Kind::kRevocation ? "revoked" : "expired") +
          " at " + ShortTime(end->event.time_ns) + " (" + Source(*end) + ")";
      if (latest && Succeeded(latest->event)) continue;  // confirmed
      const int64_t deadline = end->event.time_ns + ctx.settings.Duration("confirm_within");
      if (!latest && ctx.as_of < deadline) {
        out->RecheckAt(deadline);
        continue;
      }
      Hit& h = out->Fire(SubjectType::kGrant, g.chain.correlation_key);
      h.identity = g.chain.identity;
      h.correlation_key = g.chain.correlation_key;
      h.evidence.Add(end->seq, end->event.time_ns);
      if (latest) {
        h.evidence.Add(latest->seq, latest->event.time_ns);
        h.message = what + ", but the reconciliation at " + ShortTime(latest->event.time_ns) +
                    " (" + Source(*latest) + ") found the credential still live";
      } else {
        h.message = what + "; no reconciliation of the live state confirmed it within " +
                    policy::FormatDuration(ctx.settings.Duration("confirm_within"));
      }
    }
  }
};

}  // namespace

const ReconcileRule* RevocationUnconfirmed() {
  static const Rule kRule;
  return &kRule;
}

}  // namespace nhitrace::reconcile::rules
