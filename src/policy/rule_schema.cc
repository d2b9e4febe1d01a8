// The parameters every reconciliation rule accepts in `rules:` (docs/format/policy.md). The rules
// (src/reconcile/rules/) read them through RuleSettings; tests/reconcile checks that every rule
// the engine runs has an entry here and the other way round.
#include "policy/policy.h"

namespace nhitrace::policy {

const std::vector<RuleSchema>& RuleSchemas() {
  using T = ParamValue::Type;
  static const std::vector<RuleSchema> kSchemas = {
      {"approval-not-issued",
       {{"sla",
         T::kDuration,
         "72h",
         {},
         0,
         "how long after the approval an issuance may take before the rule fires"}}},
      {"issuance-without-approval",
       {{"approval_grace",
         T::kDuration,
         "0s",
         {},
         0,
         "an approval dated up to this long after the issuance still counts (tickets updated "
         "after the fact)"}}},
      {"action-without-grant",
       {{"include_failed",
         T::kBool,
         "false",
         {},
         0,
         "also count actions whose outcome is failure"}}},
      {"action-out-of-scope",
       {{"include_failed",
         T::kBool,
         "false",
         {},
         0,
         "also count attempts the target system refused"}}},
      {"action-outside-window",
       {{"grace", T::kDuration, "0s", {}, 0, "tolerance for clock skew at both ends of the window"},
        {"include_failed",
         T::kBool,
         "false",
         {},
         0,
         "also count actions whose outcome is failure"}}},
      {"action-after-revocation",
       {{"grace",
         T::kDuration,
         "0s",
         {},
         0,
         "tolerance after the revocation (propagation delay of the target system)"},
        {"include_failed",
         T::kBool,
         "false",
         {},
         0,
         "also count refused attempts (they show a revoked key is still being tried)"}}},
      {"revocation-unconfirmed",
       {{"confirm_within",
         T::kDuration,
         "24h",
         {},
         0,
         "how long after the revocation a reconciliation of the live state may take"},
        {"include_expiry", T::kBool, "false", {}, 0, "also require confirmation of expiries"}}},
      {"exception-expired",
       {{"grace", T::kDuration, "0s", {}, 0, "how long past its expiry an exception may run"}}},
      {"identity-dormant",
       {{"period",
         T::kDuration,
         "90d",
         {},
         0,
         "no action for this long makes an identity dormant"}}},
      {"identity-unowned",
       {{"require",
         T::kChoice,
         "owner_or_sponsor",
         {"owner", "sponsor", "owner_or_sponsor", "owner_and_sponsor"},
         0,
         "which accountable parties an identity must have"},
        {"grace",
         T::kDuration,
         "0s",
         {},
         0,
         "how long after it is first seen an identity may go without them"}}},
      {"self-approval", {}},
      {"approver-unauthorized", {}},
      {"override-creep",
       {{"threshold",
         T::kInteger,
         "3",
         {},
         2,
         "this many overrides within `window` on one identity, or by one approver, fire"},
        {"window", T::kDuration, "30d", {}, 0, "the sliding window the overrides are counted in"}}},
      {"credential-long-lived",
       {{"max_age",
         T::kDuration,
         "90d",
         {},
         0,
         "a live credential older than this since its issuance or last rotation fires"}}},
  };
  return kSchemas;
}

const RuleSchema* FindRuleSchema(std::string_view id) {
  for (const RuleSchema& s : RuleSchemas()) {
    if (s.id == id) return &s;
  }
  return nullptr;
}

}  // namespace nhitrace::policy
