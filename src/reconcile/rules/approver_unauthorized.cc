// approver-unauthorized: an approval by someone whose roles may not approve it
// (approvals.may_approve). An entry of may_approve allows an approval when the approver holds
// its role and every resource and permission of the approved scope (the approval's own scope,
// else the requested one) matches one of its patterns, and the identity's kind is among its
// kinds (empty lists do not restrict). With no may_approve entries the rule does nothing. An
// approval that names no approver fires too: nobody can be shown to have been allowed.
#include "correlate/scope.h"
#include "reconcile/rules/common.h"
#include "reconcile/rules/rules.h"

namespace nhitrace::reconcile::rules {
namespace {

bool Covers(const std::vector<std::string>& patterns, const std::vector<std::string>& entries) {
  if (patterns.empty()) return true;
  for (const auto& e : entries) {
    if (!correlate::AnyMatches(patterns, e)) return false;
  }
  return true;
}

class Rule final : public ReconcileRule {
 public:
  const RuleInfo& info() const override {
    static const RuleInfo kInfo{
        "approver-unauthorized", 1,
        Severity::kMedium,       "Approval by someone not allowed to approve it",
        {"NHI5:2025"},           {"PR.AA-05", "GV.RR-02"}};
    return kInfo;
  }

  void Finish(const RuleContext& ctx, const UnitView& unit, FindingSink* out) const override {
    const policy::Approvals& ap = ctx.policy.approvals;
    if (ap.may_approve.empty()) return;
    const std::string kind = unit.identity ? unit.identity->kind : "";
    for (const GrantView& g : unit.grants) {
      if (!g.stored || !SelectsGrant(ctx.settings, unit, g)) continue;
      for (const ChainEvent* a : Decisions(ctx.policy, g)) {
        if (a->event.kind != event::Kind::kApproval) continue;
        std::string actor = a->event.actor ? a->event.actor->id : "";
        const event::Scope scope = a->event.scope            ? *a->event.scope
                                   : g.chain.requested_scope ? *g.chain.requested_scope
                                                             : event::Scope{};
        std::vector<std::string> roles = ap.RolesOf(actor);
        bool allowed = false;
        for (const policy::ApprovalGrant& m : ap.may_approve) {
          if (std::find(roles.begin(), roles.end(), m.role) == roles.end()) continue;
          if (!Covers(m.resources, scope.resources) || !Covers(m.permissions, scope.permissions)) {
            continue;
          }
          if (!m.kinds.empty() &&
              std::find(m.kinds.begin(), m.kinds.end(), kind) == m.kinds.end()) {
            continue;
          }
          allowed = true;
          break;
        }
        if (allowed) continue;
        Hit& h = out->Fire(SubjectType::kGrant, g.chain.correlation_key);
        h.identity = g.chain.identity;
        h.correlation_key = g.chain.correlation_key;
        h.evidence.Add(a->seq, a->event.time_ns);
        std::string held;
        for (const auto& r : roles) held += (held.empty() ? "" : ", ") + r;
        h.message = actor.empty()
                        ? "an approval (" + Source(*a) + ") names no approver"
                        : actor + " approved at " + ShortTime(a->event.time_ns) +
                              (held.empty() ? " holding no approver role"
                                            : " with roles " + held +
                                                  ", none of which may approve this scope");
      }
    }
  }
};

}  // namespace

const ReconcileRule* ApproverUnauthorized() {
  static const Rule kRule;
  return &kRule;
}

}  // namespace nhitrace::reconcile::rules
