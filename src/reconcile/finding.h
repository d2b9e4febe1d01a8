// Findings as recorded: each change of a finding is a ledger event of kind `finding` whose
// attributes are the document below (docs/reconcile.md, "The finding event"); the findings table
// keeps the latest revision of each.
//
// A finding is identified by (rule, subject): its id is "F" + the first 16 hex digits of
// SHA-256("<rule id>\n<subject type>\n<subject>"). There is at most one finding per rule and
// subject; it is opened, updated as its evidence changes, resolved when the rule stops firing,
// and opened again (same id, next revision) if it fires again.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "policy/policy.h"
#include "reconcile/rule.h"
#include "store/store.h"

namespace nhitrace::reconcile {

// The source system and actor of finding events.
inline constexpr char kFindingSource[] = "nhitrace";

struct Finding {
  std::string id;
  std::string rule_id;
  uint32_t rule_version = 0;
  std::string title;
  SubjectType subject_type = SubjectType::kIdentity;
  std::string subject;
  std::string status;  // as recorded by this revision: open | updated | resolved
  Severity severity = Severity::kMedium;
  uint64_t policy_version = 0;
  std::string policy_id, policy_hash;
  std::string identity, correlation_key;
  std::vector<uint64_t> evidence;  // seqs, earliest first (at most kMaxEvidence)
  uint64_t evidence_count = 0;
  int64_t first_seen_ns = 0, last_seen_ns = 0;  // authoritative times of the evidence
  std::vector<std::string> owasp, nist;
  std::string message;
  std::string resolution;  // why it was resolved ("" unless status is resolved)
  uint64_t horizon = 0;    // the evidence considered: events with seq <= horizon
  int64_t as_of_ns = 0;    // "now" for the time-based checks of this evaluation
  uint32_t revision = 0;
};

std::string FindingId(std::string_view rule_id, SubjectType type, std::string_view subject);

// The finding as the rule reports it (status, revision, horizon, as_of left to the caller).
Finding FromHit(const ReconcileRule& rule, const Hit& hit, const policy::Policy& policy);

// Whether two revisions say the same thing (rule version, severity, identity and grant,
// evidence and its count and span, frameworks, message); policy version, horizon, as_of, status
// and revision do not count. A re-evaluation that says the same thing records nothing.
bool SameContent(const Finding& a, const Finding& b);

// The attributes of the finding event (canonical JSON), and back. FromAttributes fails with
// kDataLoss on anything that is not such a document.
std::string ToAttributes(const Finding& f);
Result<Finding> FromAttributes(std::string_view json);

// The findings table row of a revision recorded by event `seq` at `time_ns`. `previous` is the
// row it replaces, if any (for the time it was opened).
store::FindingRow ToRow(const Finding& f, uint64_t seq, int64_t time_ns,
                        const std::optional<store::FindingRow>& previous);

// The native JSON line of the finding event of `f` at `time_ns` (its own raw record).
std::string FindingEventLine(const Finding& f, int64_t time_ns);

}  // namespace nhitrace::reconcile
