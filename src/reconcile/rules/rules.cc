#include "reconcile/rules/rules.h"

#include <algorithm>

namespace nhitrace::reconcile {

const std::vector<const ReconcileRule*>& AllRules() {
  static const std::vector<const ReconcileRule*> kRules = [] {
    std::vector<const ReconcileRule*> v = {
        rules::ApprovalNotIssued(),     rules::IssuanceWithoutApproval(),
        rules::ActionWithoutGrant(),    rules::ActionOutOfScope(),
        rules::ActionOutsideWindow(),   rules::ActionAfterRevocation(),
        rules::RevocationUnconfirmed(), rules::ExceptionExpired(),
        rules::IdentityDormant(),       rules::IdentityUnowned(),
        rules::SelfApproval(),          rules::ApproverUnauthorized(),
        rules::OverrideCreep(),         rules::CredentialLongLived(),
    };
    std::sort(v.begin(), v.end(),
              [](const auto* a, const auto* b) { return a->info().id < b->info().id; });
    return v;
  }();
  return kRules;
}

const ReconcileRule* FindRule(std::string_view id) {
  for (const ReconcileRule* r : AllRules()) {
    if (r->info().id == id) return r;
  }
  return nullptr;
}

}  // namespace nhitrace::reconcile
