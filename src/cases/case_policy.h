// CasePolicy: what the published policy says about cases, parsed from the canonical JSON of its
// `cases:` and `escalation:` sections (docs/cases.md, "Policy").
//
// The policy module (src/policy/) validates the YAML document and hands each section over as
// JSON text; this file gives those two sections their meaning. Every member is optional: an
// absent member means the built-in default of docs/cases.md, and with no policy published at
// all, CasePolicy::Defaults() applies.
//
//   NHI_ASSIGN_OR_RETURN(CasePolicy p, ParseCasePolicy(cases_json, escalation_json));
//   p.SlaFor(CaseKind::kIncident, Severity::kCritical).resolve_ns;   // 24 h by default
//   p.ClosureFor(CaseKind::kIncident, Resolution::kResolved);        // criterion ids
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "cases/case_model.h"
#include "event/event.h"

namespace nhitrace::cases {

// The closure criteria the machine knows how to check (cases/closure.h), by id.
inline constexpr std::string_view kCriterionIds[] = {
    "owner_assigned",          "decision_recorded",   "tasks_done",
    "overrides_risk_accepted", "identity_linked",     "credential_revoked_or_rotated",
    "no_use_after_revocation", "verification_passed", "support_trail",
    "exception_active",        "risk_accepted"};
bool IsCriterionId(std::string_view id);

struct SlaDurations {
  std::optional<int64_t> respond_ns;  // from opening to leaving `open`
  std::optional<int64_t> resolve_ns;  // from opening to `closed`
};

struct EscalationLevel {
  int64_t after_ns = 0;  // after the case was opened (or reopened)
  std::string to;        // a person or role name
};

// Which open case a finding joins instead of opening a new one.
enum class JoinOn { kIdentity, kCorrelationKey, kIdentityOrCorrelationKey, kNone };

// How findings of one rule turn into cases (overrides the findings defaults).
struct FindingRule {
  std::optional<bool> open;  // false: never opens a case (still joins an open one)
  std::optional<CaseKind> kind;
  std::optional<Severity> severity;
};

struct CasePolicy {
  // Refuse decisions when no policy is published (default: record them with policy "none").
  bool require_policy_for_decisions = false;
  // "<kind>" or "default" -> severity -> durations.
  std::map<std::string, std::map<Severity, SlaDurations>> sla;
  // "<kind>/<resolution>", "default/<resolution>", "<kind>" or "default" -> criterion ids.
  std::map<std::string, std::vector<std::string>> closure;
  // "<kind>" or "default" -> how long a revoked credential must stay unused before closing.
  std::map<std::string, int64_t> verification_window_ns;
  int64_t exception_max_ns = 0;
  // Who may accept residual risk (empty: any person other than the decider and the requester).
  std::vector<std::string> control_owners;
  // Findings.
  Severity open_min_severity = Severity::kHigh;
  JoinOn join_on = JoinOn::kIdentityOrCorrelationKey;
  CaseKind finding_case_kind = CaseKind::kFinding;
  std::map<std::string, FindingRule> finding_rules;
  // "<kind>/<severity>", "<kind>" or "default" -> levels, in order.
  std::map<std::string, std::vector<EscalationLevel>> escalation;

  // The built-in defaults (docs/cases.md).
  static CasePolicy Defaults();

  // Lookups with the documented fallbacks.
  SlaDurations SlaFor(CaseKind kind, Severity severity) const;
  std::vector<std::string> ClosureFor(CaseKind kind, Resolution resolution) const;
  int64_t VerificationWindowFor(CaseKind kind) const;
  std::vector<EscalationLevel> EscalationFor(CaseKind kind, Severity severity) const;
  bool IsControlOwner(std::string_view person) const;
};

// Parses the two sections (each a JSON object as text; empty text = section absent) over the
// defaults. Errors are kInvalidArgument naming the member path and the reason, e.g.
// "cases.sla.incident.critical.respond: not a duration (\"4x\"): use e.g. 90s, 15m, 4h, 7d, 2w".
Result<CasePolicy> ParseCasePolicy(std::string_view cases_json, std::string_view escalation_json);

// Parses a duration: a non-negative integer number of seconds, or a string of <number><unit>
// groups with units s, m, h, d, w ("1h30m"). At most 100 years.
Result<int64_t> ParseDuration(std::string_view text);
// "4h", "7d", "1h30m": the shortest form ParseDuration reads back.
std::string FormatDuration(int64_t ns);

// The policy a case operation runs under: the published policy's identity (none when no policy
// is published) and its cases sections.
struct PolicyContext {
  std::optional<event::PolicyRef> ref;
  CasePolicy cases = CasePolicy::Defaults();
};

}  // namespace nhitrace::cases
