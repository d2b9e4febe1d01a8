#include "api/roles.h"

namespace nhitrace::api {

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kIngest:
      return "ingest";
    case Role::kInvestigator:
      return "investigator";
    case Role::kApprover:
      return "approver";
    case Role::kControlOwner:
      return "control_owner";
    case Role::kAuditor:
      return "auditor";
    case Role::kAdmin:
      return "admin";
  }
  return "?";
}

std::optional<Role> ParseRole(std::string_view name) {
  for (Role r : kAllRoles) {
    if (RoleName(r) == name) return r;
  }
  return std::nullopt;
}

std::string AllRoleNames() {
  std::string out;
  for (Role r : kAllRoles) {
    if (!out.empty()) out += ", ";
    out += RoleName(r);
  }
  return out;
}

std::vector<std::string_view> RoleSet::Names() const {
  std::vector<std::string_view> out;
  for (Role r : kAllRoles) {
    if (Has(r)) out.push_back(RoleName(r));
  }
  return out;
}

}  // namespace nhitrace::api
