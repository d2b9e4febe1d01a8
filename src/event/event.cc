#include "event/event.h"

namespace nhitrace::event {

std::string_view KindName(Kind k) {
  switch (k) {
    case Kind::kRequest:
      return "request";
    case Kind::kApproval:
      return "approval";
    case Kind::kDenial:
      return "denial";
    case Kind::kProvision:
      return "provision";
    case Kind::kAction:
      return "action";
    case Kind::kRotation:
      return "rotation";
    case Kind::kRevocation:
      return "revocation";
    case Kind::kExpiry:
      return "expiry";
    case Kind::kReconciliation:
      return "reconciliation";
    case Kind::kSignal:
      return "signal";
    case Kind::kSupport:
      return "support";
    case Kind::kIdentity:
      return "identity";
    case Kind::kPolicy:
      return "policy";
    case Kind::kFinding:
      return "finding";
    case Kind::kCase:
      return "case";
    case Kind::kErasure:
      return "erasure";
  }
  return "?";
}

std::optional<Kind> ParseKind(std::string_view name) {
  for (Kind k : kAllKinds) {
    if (KindName(k) == name) return k;
  }
  return std::nullopt;
}

bool IsSubjectKind(std::string_view s) {
  static constexpr std::string_view kKinds[] = {"service_account", "api_key",  "token",
                                                "certificate",     "workload", "ai_agent",
                                                "oauth_app",       "role",     "other"};
  for (auto k : kKinds) {
    if (k == s) return true;
  }
  return false;
}

bool IsActorType(std::string_view s) { return s == "human" || s == "nhi" || s == "system"; }

}  // namespace nhitrace::event
