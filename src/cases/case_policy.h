// CasePolicy: what the published policy says about cases, read from the canonical JSON of its
// `cases:` and `escalation:` sections (docs/cases.md, "Policy").
//
// The policy module (src/policy/) parses and validates the YAML document and hands these
// sections over as JSON text; this file gives them their meaning. `cases:` holds, per case kind
// (or `default`), the SLA timers, the escalation path to follow, the closure criteria and the
// verification window, plus how findings turn into cases and the limits on exceptions.
// `escalation:` holds the named paths (`escalation.paths`) that `cases:` refers to. Everything
// is optional: what the policy leaves out takes the built-in default of docs/cases.md, and with no
// policy published at all, CasePolicy::Defaults() applies.
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
  friend bool operator==(const SlaDurations&, const SlaDurations&) = default;
};

struct EscalationLevel {
  int64_t after_ns = 0;  // after the case was opened (or reopened)
  std::string to;        // a role or a person
  friend bool operator==(const EscalationLevel&, const EscalationLevel&) = default;
};

// What the policy says for one case kind (or for `default`). A member that is set replaces the
// same member of the built-in defaults for that kind.
struct KindPolicy {
  // SLA: the same for every severity (`all`), or per severity.
  struct Sla {
    std::optional<SlaDurations> all;
    std::map<Severity, SlaDurations> by_severity;
    friend bool operator==(const Sla&, const Sla&) = default;
  };
  // The escalation path (a name of escalation.paths; "none" for no escalation), the same for
  // every severity or per severity.
  struct Escalation {
    std::string all;
    std::map<Severity, std::string> by_severity;
    friend bool operator==(const Escalation&, const Escalation&) = default;
  };
  std::optional<Sla> sla;
  std::optional<Escalation> escalation;
  std::optional<std::vector<std::string>> closure;
  std::map<Resolution, std::vector<std::string>> closure_by_resolution;
  std::optional<int64_t> verification_window_ns;
  friend bool operator==(const KindPolicy&, const KindPolicy&) = default;
};

// Which open case a finding joins instead of opening a new one.
enum class JoinOn { kIdentity, kCorrelationKey, kIdentityOrCorrelationKey, kNone };

// How findings of one rule turn into cases (overrides the findings defaults).
struct FindingRule {
  std::optional<bool> open;  // false: never opens a case (still joins an open one)
  std::optional<CaseKind> kind;
  std::optional<Severity> severity;
  friend bool operator==(const FindingRule&, const FindingRule&) = default;
};

struct CasePolicy {
  // Refuse decisions when no policy is published (default: record them with policy "none").
  bool require_policy_for_decisions = false;
  int64_t exception_max_ns = 0;  // 0: no limit
  // Findings.
  Severity open_min_severity = Severity::kHigh;
  JoinOn join_on = JoinOn::kIdentityOrCorrelationKey;
  CaseKind finding_case_kind = CaseKind::kFinding;
  std::map<std::string, FindingRule> finding_rules;
  // "<kind>" or "default" -> what the policy says for it.
  std::map<std::string, KindPolicy> kinds;
  // escalation.paths: name -> levels, in order of time.
  std::map<std::string, std::vector<EscalationLevel>> paths;

  // The built-in defaults (docs/cases.md).
  static CasePolicy Defaults();

  // Lookups with the documented fallbacks: the kind's own entry, then `default`.
  SlaDurations SlaFor(CaseKind kind, Severity severity) const;
  // kind/resolution, default/resolution, kind, default.
  std::vector<std::string> ClosureFor(CaseKind kind, Resolution resolution) const;
  int64_t VerificationWindowFor(CaseKind kind) const;
  std::vector<EscalationLevel> EscalationFor(CaseKind kind, Severity severity) const;
};

// Parses the two sections (each a JSON object as text; empty text or "{}" = section absent)
// over the defaults. Errors are kInvalidArgument "<path>: <reason>" with the path written as in
// the policy document, e.g.
//   "cases.incident.sla.critical.respond: not a duration (\"4x\"): use e.g. 90s, 15m, 4h, 7d"
//   "cases.finding.escalation: unknown escalation path \"secrity\" (escalation.paths has ...)"
// so that the policy module can give the error the line and column of that node.
Result<CasePolicy> ParseCasePolicy(std::string_view cases_json, std::string_view escalation_json);

// The check for the policy module's ParseOptions::validate_cases: the `cases:` section alone
// (escalation path names are checked by ParseCasePolicy, which also has `escalation:`).
Status ValidateCasesSection(std::string_view cases_json);

// Parses a duration: a non-negative integer number of seconds, or a string of <number><unit>
// groups with units s, m, h, d, w ("1h30m"), as policy durations are written. At most 100 years.
Result<int64_t> ParseDuration(std::string_view text);
// "4h", "30d", "1h30m": a form ParseDuration reads back.
std::string FormatDuration(int64_t ns);

// A time given to a case operation (a due date, an expiry, a re-review date): RFC 3339, or
// "+DURATION" from `now_ns` ("+7d", "+90m"). kInvalidArgument prefixed with `what` (the option
// or field name). The CLI's case commands and the API's case routes both read times with it.
Result<int64_t> ParseTimeOrOffset(std::string_view what, std::string_view text, int64_t now_ns);

// The policy a case operation runs under: the published policy's identity (none when no policy
// is published), its cases sections, and what its `approvals:` section says about segregation of
// duties and overrides.
struct PolicyContext {
  std::optional<event::PolicyRef> ref;
  CasePolicy cases = CasePolicy::Defaults();
  // approvals.segregation_of_duties: a requester never decides their own request.
  bool segregation_of_duties = true;
  // approvals.override.requires_control_owner: every override needs a control owner who
  // accepts the residual risk (an override of an automated deny always does).
  bool override_requires_control_owner = false;
  // The members of approvals.override.control_owner_roles: who may be named control owner and
  // who may decide accept_risk. Empty: anyone but the decider and the requesters.
  std::vector<std::string> control_owners;

  bool IsControlOwner(std::string_view person) const;
};

}  // namespace nhitrace::cases
