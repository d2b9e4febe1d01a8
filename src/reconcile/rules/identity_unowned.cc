// identity-unowned: an identity without the accountable parties the policy requires: by default
// neither an owner nor a sponsor (`require: owner_or_sponsor`); also `owner`, `sponsor`, or
// `owner_and_sponsor`. The facts are the latest stated about any key of the identity. An
// identity first seen less than `grace` ago is given time for an inventory to state them.
#include "reconcile/rules/common.h"
#include "reconcile/rules/rules.h"

namespace nhitrace::reconcile::rules {
namespace {

class Rule final : public ReconcileRule {
 public:
  const RuleInfo& info() const override {
    static const RuleInfo kInfo{"identity-unowned", 1,
                                Severity::kMedium,  "Identity without owner or sponsor",
                                {"NHI1:2025"},      {"GV.RR-02", "ID.AM-08", "PR.AA-01"}};
    return kInfo;
  }

  void Finish(const RuleContext& ctx, const UnitView& unit, FindingSink* out) const override {
    if (!unit.identity || unit.identity->keys.empty()) return;
    if (!SelectsIdentity(ctx.settings, unit)) return;
    const IdentityView& id = *unit.identity;
    const std::string& require = ctx.settings.Choice("require");
    const bool owner = !id.owner.empty(), sponsor = !id.sponsor.empty();
    bool ok = require == "owner"               ? owner
              : require == "sponsor"           ? sponsor
              : require == "owner_and_sponsor" ? owner && sponsor
                                               : owner || sponsor;
    if (ok || !id.first_event) return;
    const int64_t deadline = id.first_event->time_ns + ctx.settings.Duration("grace");
    if (ctx.as_of < deadline) {
      out->RecheckAt(deadline);
      return;
    }
    Hit& h = out->Fire(SubjectType::kIdentity, id.canonical);
    h.identity = id.canonical;
    h.evidence.Add(id.first_event->seq, id.first_event->time_ns);
    std::string missing = !owner && !sponsor ? "no owner and no sponsor"
                          : !owner           ? "no owner (sponsor " + id.sponsor + ")"
                                             : "no sponsor (owner " + id.owner + ")";
    h.message = missing + " on record (the policy requires " + require + ")";
  }
};

}  // namespace

const ReconcileRule* IdentityUnowned() {
  static const Rule kRule;
  return &kRule;
}

}  // namespace nhitrace::reconcile::rules
