// approval-not-issued: an approved request with no issuance once the SLA has run out.
//
// The approval that stands is the first approval after the last denial (only decisions from
// systems authoritative for approvals count). Any successful issuance of the grant, or of its
// named credential without a request id, closes the gap, whenever it came. The rule fires from
// approval + sla on, as long as nothing was issued; failed issuance attempts are evidence, not
// issuance.
#include "reconcile/rules/common.h"
#include "reconcile/rules/rules.h"

namespace nhitrace::reconcile::rules {
namespace {

class Rule final : public ReconcileRule {
 public:
  const RuleInfo& info() const override {
    static const RuleInfo kInfo{
        "approval-not-issued",   1, Severity::kLow, "Approval without issuance after the SLA", {},
        {"PR.AA-05", "ID.AM-08"}};
    return kInfo;
  }

  void Finish(const RuleContext& ctx, const UnitView& unit, FindingSink* out) const override {
    const int64_t sla = ctx.settings.Duration("sla");
    for (const GrantView& g : unit.grants) {
      if (!g.stored || !SelectsGrant(ctx.settings, unit, g)) continue;
      std::vector<const ChainEvent*> decisions = Decisions(ctx.policy, g);
      if (decisions.empty() || decisions.back()->event.kind != event::Kind::kApproval) continue;
      const ChainEvent* standing = nullptr;
      for (auto it = decisions.rbegin(); it != decisions.rend(); ++it) {
        if ((*it)->event.kind != event::Kind::kApproval) break;
        standing = *it;
      }
      if (!Issuances(ctx.policy, g).empty() || IssuedWithoutRequestId(ctx, unit, g)) continue;
      const int64_t deadline = standing->event.time_ns + sla;
      if (ctx.as_of < deadline) {
        out->RecheckAt(deadline);
        continue;
      }
      Hit& h = out->Fire(SubjectType::kGrant, g.chain.correlation_key);
      h.identity = g.chain.identity;
      h.correlation_key = g.chain.correlation_key;
      h.evidence.Add(standing->seq, standing->event.time_ns);
      std::string failed;
      for (const ChainEvent* f : g.Events(g.chain.provision_failed)) {
        h.evidence.Add(f->seq, f->event.time_ns);
        failed =
            "; " + std::to_string(g.chain.provision_failed.size()) + " issuance attempt(s) failed";
      }
      h.message = "approved at " + ShortTime(standing->event.time_ns) + By(*standing) +
                  ", not issued within the SLA of " + policy::FormatDuration(sla) + " (due " +
                  ShortTime(deadline) + ")" + failed;
    }
  }

 private:
  // A successful issuance of the grant's credential recorded without a request id.
  static bool IssuedWithoutRequestId(const RuleContext& ctx, const UnitView& unit,
                                     const GrantView& g) {
    if (!unit.identity || g.chain.identity.empty()) return false;
    for (const KeyView& k : unit.identity->keys) {
      if (k.row.key != g.chain.identity) continue;
      for (const ChainEvent& e : k.events) {
        if (e.event.kind == event::Kind::kProvision && e.event.correlation_key.empty() &&
            Succeeded(e.event) &&
            policy::Authoritative::Counts(ctx.policy.authoritative.issuance,
                                          e.event.source_system)) {
          return true;
        }
      }
    }
    return false;
  }
};

}  // namespace

const ReconcileRule* ApprovalNotIssued() {
  static const Rule kRule;
  return &kRule;
}

}  // namespace nhitrace::reconcile::rules
