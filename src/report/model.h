// The report model: every number of `nhitrace report` computed from the store (the findings,
// cases, decisions and grants tables, and the actions attributed to grants by correlate), so
// that a renderer (html.h) only lays it out (docs/report.md).
//
//   ReportOptions o;
//   o.as_of_ns = clock.NowUnixNanos();
//   NHI_ASSIGN_OR_RETURN(ReportModel m, BuildReport(store, o));
//   std::string html = RenderHtml(m);
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "store/store.h"

namespace nhitrace::report {

inline constexpr int64_t kNanosPerDay = 86400LL * 1'000'000'000;

// Severities, most severe first (the order of every table and chart).
inline constexpr std::array<std::string_view, 4> kSeverities = {"critical", "high", "medium",
                                                                "low"};
// Age of an open case at as_of: [0, 1d), [1d, 7d), [7d, 30d), [30d, ...).
inline constexpr std::array<std::string_view, 4> kAgeBuckets = {"under 1 day", "1 to 7 days",
                                                                "7 to 30 days", "30 days or more"};
// Time from opening to closing a case: [0, 1d), [1d, 7d), [7d, 30d), [30d, 90d), [90d, ...).
inline constexpr std::array<std::string_view, 5> kCloseBuckets = {
    "under 1 day", "1 to 7 days", "7 to 30 days", "30 to 90 days", "90 days or more"};

struct ReportOptions {
  int64_t as_of_ns = 0;  // "now": ages, expiry horizons
  // The window: findings whose evidence overlaps it, cases opened in it, decisions made in it,
  // actions done in it. nullopt: unbounded on that side.
  std::optional<int64_t> from_ns, to_ns;
  // Exceptions expiring within this time after as_of are "nearing expiry".
  int64_t expiry_horizon_ns = 30 * kNanosPerDay;
  // At most this many findings, cases or exceptions are listed in one list (every count stays
  // exact; the list says how many it leaves out).
  size_t max_listed = 200;
};

struct OpenCases {
  uint64_t total = 0;
  // [severity index in kSeverities][age bucket]; a severity outside kSeverities counts in
  // `other_severity` only.
  std::array<std::array<uint64_t, kAgeBuckets.size()>, kSeverities.size()> by_severity_age{};
  uint64_t other_severity = 0;
};

struct TimeToClose {
  uint64_t closed = 0;  // cases opened in the window and closed
  // Over the closed cases (0 when there is none). The median and the 90th percentile are the
  // nearest-rank values.
  int64_t median_ns = 0, p90_ns = 0, mean_ns = 0, max_ns = 0;
  std::array<uint64_t, kCloseBuckets.size()> buckets{};
};

// Findings of one rule ("broken chains by rule").
struct RuleFindings {
  std::string rule_id;
  std::string title;  // from the rule catalog ("" for a rule the catalog no longer has)
  uint64_t open = 0, resolved = 0;
  std::array<uint64_t, kSeverities.size()> open_by_severity{};
};

// The share of actions attributable to an approved grant (correlate::Attribute).
struct Coverage {
  uint64_t actions = 0;
  uint64_t covered_approved = 0;    // covered by a grant whose chain has an approval
  uint64_t covered_unapproved = 0;  // covered by a provisioned grant with no approval on record
  uint64_t out_of_scope = 0, before_grant = 0, after_revocation = 0, after_expiry = 0, no_grant = 0;
  uint64_t identities = 0;  // identities (alias groups) with at least one action counted
};

struct ExceptionItem {
  uint64_t seq = 0;  // the event that granted it
  int64_t time_ns = 0;
  int64_t expires_ns = 0;
  std::string actor, identity_key, correlation_key;
};

struct Exceptions {
  uint64_t in_force = 0;  // granted at or before as_of, expiring after as_of (or never)
  uint64_t nearing = 0;   // expiring in (as_of, as_of + horizon]
  uint64_t expired = 0;   // expired at or before as_of
  std::vector<ExceptionItem> nearing_list;  // earliest expiry first, at most max_listed
};

struct ApproverOverrides {
  std::string approver;  // the decision's actor ("" when none is recorded)
  uint64_t overrides = 0;
  int64_t first_ns = 0, last_ns = 0;
};

struct FindingItem {
  std::string id, rule_id, severity, status, subject_type, subject;
  int64_t first_seen_ns = 0, last_seen_ns = 0;
};

struct CaseItem {
  uint64_t id = 0;
  std::string state, severity, title;
};

// The findings and cases under one OWASP NHI Top 10 item or NIST CSF 2.0 subcategory.
struct FrameworkSection {
  std::string id;     // "NHI5:2025", "PR.AA-05"
  std::string title;  // "Overprivileged NHI", "Access permissions ... managed" ("" if unknown)
  uint64_t open = 0, resolved = 0;
  std::vector<std::string> rules;     // the catalog's rules mapped to it
  std::vector<FindingItem> findings;  // most severe open first; at most max_listed
  uint64_t cases = 0;                 // cases linking one of its findings
  std::vector<CaseItem> case_list;    // by id; at most max_listed
};

struct ReportModel {
  ReportOptions options;
  uint64_t events = 0;  // ledger size
  uint64_t checkpoint_size = 0;
  std::string checkpoint_root_hex;  // of the latest checkpoint ("" when none)
  uint64_t findings_total = 0, findings_open = 0;
  uint64_t cases_total = 0;  // cases opened in the window
  OpenCases open_cases;
  TimeToClose time_to_close;
  std::vector<RuleFindings> by_rule;  // every catalog rule, then unknown rules; by id
  Coverage coverage;
  Exceptions exceptions;
  std::vector<ApproverOverrides> overrides;  // most overrides first, then by approver
  uint64_t overrides_total = 0;
  std::vector<FrameworkSection> owasp;  // NHI1..NHI10 (2025), always all ten
  std::vector<FrameworkSection> nist;   // every subcategory the rules or findings name, sorted
};

// Builds the model from one snapshot of `store` (Store::BeginRead). kInvalidArgument when from
// is not before to; kDataLoss when a finding's stored document is not a finding document.
Result<ReportModel> BuildReport(store::Store& store, const ReportOptions& options);

// The OWASP NHI Top 10 (2025) item ids in order and their names.
const std::vector<std::pair<std::string, std::string>>& OwaspNhiTop10();
// The name of a NIST CSF 2.0 subcategory this report knows ("" otherwise).
std::string_view NistSubcategoryTitle(std::string_view id);

}  // namespace nhitrace::report
