// credential-long-lived: a live credential older than max_age since it was issued or last
// rotated. Issuance is a successful provision (from a system authoritative for issuance) or
// rotation naming the key. The credential is live unless a revocation or expiry of it came
// after that, or every grant of it has ended (window, TTL) by as_of.
#include "reconcile/rules/common.h"
#include "reconcile/rules/rules.h"

namespace nhitrace::reconcile::rules {
namespace {

class Rule final : public ReconcileRule {
 public:
  const RuleInfo& info() const override {
    static const RuleInfo kInfo{"credential-long-lived", 1,
                                Severity::kMedium,       "Long-lived credential without rotation",
                                {"NHI7:2025"},           {"PR.AA-01"}};
    return kInfo;
  }

  void Finish(const RuleContext& ctx, const UnitView& unit, FindingSink* out) const override {
    if (!unit.identity) return;
    const int64_t max_age = ctx.settings.Duration("max_age");
    for (const KeyView& k : unit.identity->keys) {
      if (!SelectsKey(ctx.settings, unit, k.row.key)) continue;
      const ChainEvent* issued = nullptr;
      for (const ChainEvent& e : k.events) {
        bool issuance = (e.event.kind == event::Kind::kProvision &&
                         policy::Authoritative::Counts(ctx.policy.authoritative.issuance,
                                                       e.event.source_system)) ||
                        e.event.kind == event::Kind::kRotation;
        if (issuance && Succeeded(e.event) &&
            (!issued || correlate::ChronologicalLess(*issued, e))) {
          issued = &e;
        }
      }
      if (!issued) continue;
      bool ended = false;
      for (const ChainEvent& e : k.events) {
        if ((e.event.kind == event::Kind::kRevocation || e.event.kind == event::Kind::kExpiry) &&
            Succeeded(e.event) && !correlate::ChronologicalLess(e, *issued)) {
          ended = true;
        }
      }
      bool any_grant = false, grant_live = false;
      for (const GrantView& g : unit.grants) {
        if (g.chain.identity != k.row.key || g.chain.start_ns == INT64_MIN) continue;
        any_grant = true;
        if (g.chain.end_ns > ctx.as_of) {
          grant_live = true;
          if (g.chain.end_ns != INT64_MAX) out->RecheckAt(g.chain.end_ns);
        }
      }
      if (ended || (any_grant && !grant_live)) continue;
      const int64_t deadline = issued->event.time_ns + max_age;
      if (ctx.as_of < deadline) {
        out->RecheckAt(deadline);
        continue;
      }
      Hit& h = out->Fire(SubjectType::kCredential, k.row.key);
      h.identity = k.row.key;
      h.evidence.Add(issued->seq, issued->event.time_ns);
      h.message =
          std::string(issued->event.kind == event::Kind::kRotation ? "last rotated" : "issued") +
          " at " + ShortTime(issued->event.time_ns) + " (" + Source(*issued) +
          ") and still live; the policy allows " + policy::FormatDuration(max_age) + " (due " +
          ShortTime(deadline) + ")";
    }
  }
};

}  // namespace

const ReconcileRule* CredentialLongLived() {
  static const Rule kRule;
  return &kRule;
}

}  // namespace nhitrace::reconcile::rules
