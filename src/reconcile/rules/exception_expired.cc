// exception-expired: an exception decision (an approval or case event with
// attributes.decision = "exception"; docs/reconcile.md) ran past its expiry while what it
// excepted is still live.
//
// The exception in force is the latest one for its grant (or, without a request id, for its
// identity); a later exception renews it. It fires from expires + grace on, unless the grant
// ended (revocation, expiry, not_after, TTL) by then, or for an identity, one of its keys was
// revoked or expired between the exception and then. An exception without an expiry never fires.
#include "reconcile/rules/common.h"
#include "reconcile/rules/rules.h"

namespace nhitrace::reconcile::rules {
namespace {

const store::DecisionRow* Latest(const std::vector<store::DecisionRow>& ds, bool without_ck) {
  const store::DecisionRow* latest = nullptr;
  for (const auto& d : ds) {
    if (d.kind != "exception" || (without_ck && !d.correlation_key.empty())) continue;
    if (!latest || std::tie(d.time_ns, d.seq) > std::tie(latest->time_ns, latest->seq)) {
      latest = &d;
    }
  }
  return latest;
}

class Rule final : public ReconcileRule {
 public:
  const RuleInfo& info() const override {
    static const RuleInfo kInfo{"exception-expired", 1,
                                Severity::kHigh,     "Exception past its expiry",
                                {"NHI5:2025"},       {"ID.RA-07", "PR.AA-05"}};
    return kInfo;
  }

  void Finish(const RuleContext& ctx, const UnitView& unit, FindingSink* out) const override {
    const int64_t grace = ctx.settings.Duration("grace");
    for (const GrantView& g : unit.grants) {
      if (!SelectsGrant(ctx.settings, unit, g)) continue;
      const store::DecisionRow* e = Latest(g.decisions, false);
      if (!e || !e->expires_ns) continue;
      const int64_t deadline = *e->expires_ns + grace;
      const bool ended = g.stored && g.chain.start_ns != INT64_MIN && g.chain.end_ns <= deadline;
      if (ended) continue;
      if (ctx.as_of < deadline) {
        out->RecheckAt(deadline);
        continue;
      }
      Hit& h = out->Fire(SubjectType::kGrant, g.chain.correlation_key);
      h.identity = g.chain.identity.empty() ? e->identity_key : g.chain.identity;
      h.correlation_key = g.chain.correlation_key;
      h.evidence.Add(e->seq, e->time_ns);
      h.message = "exception granted at " + ShortTime(e->time_ns) +
                  (e->actor.empty() ? "" : " by " + e->actor) + " expired at " +
                  ShortTime(*e->expires_ns) + "; the grant is still in force";
    }
    if (!unit.identity || !SelectsIdentity(ctx.settings, unit)) return;
    const store::DecisionRow* e = Latest(unit.identity->decisions, true);
    if (!e || !e->expires_ns) return;
    const int64_t deadline = *e->expires_ns + grace;
    for (const KeyView& k : unit.identity->keys) {
      for (const ChainEvent& ev : k.events) {
        if ((ev.event.kind == event::Kind::kRevocation || ev.event.kind == event::Kind::kExpiry) &&
            Succeeded(ev.event) && ev.event.time_ns >= e->time_ns && ev.event.time_ns <= deadline) {
          return;  // the identity ended while excepted
        }
      }
    }
    if (ctx.as_of < deadline) {
      out->RecheckAt(deadline);
      return;
    }
    Hit& h = out->Fire(SubjectType::kIdentity, unit.identity->canonical);
    h.identity = unit.identity->canonical;
    h.evidence.Add(e->seq, e->time_ns);
    h.message = "exception granted at " + ShortTime(e->time_ns) +
                (e->actor.empty() ? "" : " by " + e->actor) + " expired at " +
                ShortTime(*e->expires_ns) + "; the identity is still live";
  }
};

}  // namespace

const ReconcileRule* ExceptionExpired() {
  static const Rule kRule;
  return &kRule;
}

}  // namespace nhitrace::reconcile::rules
