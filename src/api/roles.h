// Roles of API tokens and sets of them (docs/api/README.md has the route table).
//
// Least privilege: each route names the roles allowed to call it; a token has exactly one role.
//   ingest         pushes evidence (POST /v1/ingest) and nothing else
//   investigator   reads evidence, traces and identities; works cases
//   approver       reads; decides requests and cases (never their own: segregation of duties)
//   control_owner  reads; accepts residual risk on overrides
//   auditor        reads everything, changes nothing
//   admin          everything, including tokens
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nhitrace::api {

enum class Role : uint8_t { kIngest, kInvestigator, kApprover, kControlOwner, kAuditor, kAdmin };

// Every role, in the order above.
inline constexpr Role kAllRoles[] = {Role::kIngest,       Role::kInvestigator, Role::kApprover,
                                     Role::kControlOwner, Role::kAuditor,      Role::kAdmin};

// "ingest", "investigator", "approver", "control_owner", "auditor", "admin".
std::string_view RoleName(Role role);
// The role with that exact name, if any.
std::optional<Role> ParseRole(std::string_view name);
// "ingest, investigator, ..." for messages.
std::string AllRoleNames();

// A set of roles (value type).
class RoleSet {
 public:
  constexpr RoleSet() = default;
  constexpr RoleSet(std::initializer_list<Role> roles) {
    for (Role r : roles) bits_ |= Bit(r);
  }
  constexpr bool Has(Role r) const { return (bits_ & Bit(r)) != 0; }
  constexpr bool empty() const { return bits_ == 0; }
  // The names of the members, in kAllRoles order.
  std::vector<std::string_view> Names() const;

 private:
  static constexpr uint32_t Bit(Role r) { return uint32_t{1} << static_cast<uint32_t>(r); }
  uint32_t bits_ = 0;
};

// Who may read evidence (events, traces, identities, proofs): every role but ingest.
inline constexpr RoleSet kReadRoles{Role::kInvestigator, Role::kApprover, Role::kControlOwner,
                                    Role::kAuditor, Role::kAdmin};
// Who may push evidence.
inline constexpr RoleSet kIngestRoles{Role::kIngest, Role::kAdmin};
// Who may manage tokens.
inline constexpr RoleSet kAdminRoles{Role::kAdmin};
// Who may read the API audit trail.
inline constexpr RoleSet kAuditRoles{Role::kAuditor, Role::kAdmin};

}  // namespace nhitrace::api
