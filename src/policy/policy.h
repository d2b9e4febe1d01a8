// Policy: the versioned YAML document that says how nhitrace judges the evidence.
//
// A policy (docs/format/policy.md, example in examples/policy.yaml) holds the reconciliation
// rule settings (enabled, severity, SLA windows, dormancy period, ...), which source systems are
// authoritative for what, who may approve what (roles, segregation of duties, overrides),
// escalation paths, and the `cases:` section owned by the cases module (src/cases/).
//
// Publishing appends the document to the ledger as an event of kind `policy` whose raw record
// is the YAML bytes exactly as given; the event's `policy` member names {id, version, hash}.
// Versions are 1, 2, 3, ... in publication order; a version never changes once published.
//
//   NHI_ASSIGN_OR_RETURN(Policy p, ParsePolicy(yaml_bytes, "policy.yaml"));   // validates
//   NHI_ASSIGN_OR_RETURN(PublishResult r, PublishPolicy(ledger, yaml_bytes, {...}));
//   NHI_ASSIGN_OR_RETURN(Policy latest, LoadPolicy(store, std::nullopt));
//   int64_t sla = latest.Rule("approval-not-issued").Duration("sla");
//   // The cases module reads its own section without yaml-cpp:
//   std::string_view cases = latest.cases_json;   // canonical JSON, "{}" when absent
//
// Nothing here exposes yaml-cpp: the YAML library is used (and its exceptions caught) only in
// policy/internal/yaml_tree.cc.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "event/event.h"

namespace nhitrace::ledger {
class Ledger;
}
namespace nhitrace::store {
class Store;
}

namespace nhitrace::policy {

// The document format version this build reads (the required top-level `nhitrace_policy: 1`).
inline constexpr int kFormatVersion = 1;
// The largest document accepted, in bytes.
inline constexpr size_t kMaxDocumentBytes = 1 << 20;
// The source system and actor type of policy events.
inline constexpr char kSourceSystem[] = "nhitrace";

// Severity of a finding, lowest first. Names: "low", "medium", "high", "critical" (the same
// names the cases module uses).
enum class Severity { kLow, kMedium, kHigh, kCritical };
inline constexpr Severity kAllSeverities[] = {Severity::kLow, Severity::kMedium, Severity::kHigh,
                                              Severity::kCritical};
std::string_view SeverityName(Severity s);
std::optional<Severity> ParseSeverity(std::string_view s);

// The value of one rule parameter, typed by the rule's parameter schema (RuleSchema).
struct ParamValue {
  enum class Type { kDuration, kInteger, kBool, kChoice };
  Type type = Type::kInteger;
  int64_t number = 0;  // kDuration: nanoseconds; kInteger: the value; kBool: 0 or 1
  std::string text;    // kChoice: the choice; kDuration: as written ("72h")
  friend bool operator==(const ParamValue&, const ParamValue&) = default;
};

// One parameter a rule accepts, with its default.
struct ParamSchema {
  std::string_view name;
  ParamValue::Type type;
  std::string_view default_value;         // as it would be written in YAML ("72h", "3", "false")
  std::vector<std::string_view> choices;  // kChoice only
  int64_t min = 0;                        // kInteger only: the smallest accepted value
  std::string_view help;
};

// The parameters of one reconciliation rule. The rules themselves live in src/reconcile/ (one
// file each); this table is the document format, and a test checks the two agree.
struct RuleSchema {
  std::string_view id;
  std::vector<ParamSchema> params;
};
// Every rule a policy may configure, by id.
const std::vector<RuleSchema>& RuleSchemas();
const RuleSchema* FindRuleSchema(std::string_view id);

// One rule's settings. Every known rule has one, with defaults for what the document omits.
struct RuleSettings {
  bool enabled = true;
  std::optional<Severity> severity;  // none: the rule's default severity
  // Which identities the rule judges: identity key patterns ('*' matches any run of characters,
  // as in trace scopes) and subject kinds. Empty lists do not restrict. An identity is excluded
  // when any of its keys matches `exclude_identities`.
  std::vector<std::string> identities, exclude_identities, kinds;
  // Framework mapping overrides; empty: the rule's own mapping.
  std::vector<std::string> owasp, nist;
  // Every parameter of the rule's schema, set or defaulted.
  std::map<std::string, ParamValue, std::less<>> params;

  // The parameter's value. REQUIRES: `name` is a parameter of the rule's schema with that type
  // (a programming error otherwise: returns 0 / false / "").
  int64_t Duration(std::string_view name) const;  // nanoseconds
  int64_t Integer(std::string_view name) const;
  bool Bool(std::string_view name) const;
  const std::string& Choice(std::string_view name) const;

  friend bool operator==(const RuleSettings&, const RuleSettings&) = default;
};

// Which source systems are authoritative for what. An empty list means "any system".
struct Authoritative {
  std::vector<std::string> approval;    // whose approvals and denials count as decisions
  std::vector<std::string> issuance;    // whose provision records count as issuance
  std::vector<std::string> live_state;  // whose reconciliation records confirm an end, and
                                        // whose own revocation/expiry records need no confirmation
  static bool Counts(const std::vector<std::string>& systems, std::string_view system);
  friend bool operator==(const Authoritative&, const Authoritative&) = default;
};

// What one role may approve. Empty lists do not restrict.
struct ApprovalGrant {
  std::string role;
  std::vector<std::string> resources;    // patterns an approved scope's resources must match
  std::vector<std::string> permissions;  // patterns its permissions must match
  std::vector<std::string> kinds;        // subject kinds of the identity
  friend bool operator==(const ApprovalGrant&, const ApprovalGrant&) = default;
};

struct Approvals {
  // role -> member actor ids (people or systems, as events name them in actor.id).
  std::map<std::string, std::vector<std::string>, std::less<>> roles;
  // Who may approve what. Empty: any approver may approve anything.
  std::vector<ApprovalGrant> may_approve;
  // A requester never approves (or decides) their own request.
  bool segregation_of_duties = true;
  // An override of a denial must be accepted by a member of one of these roles, who is not the
  // person overriding. Set by `approvals.override` (true by default once that key is written).
  bool override_requires_control_owner = false;
  std::vector<std::string> control_owner_roles;

  // The roles `actor` is a member of, sorted.
  std::vector<std::string> RolesOf(std::string_view actor) const;
  friend bool operator==(const Approvals&, const Approvals&) = default;
};

// A named escalation path: who hears of an open item, and after how long.
struct EscalationStep {
  int64_t after_ns = 0;  // since the item was opened
  std::string to;        // a role of `approvals.roles`, or an actor id
  friend bool operator==(const EscalationStep&, const EscalationStep&) = default;
};
struct Escalation {
  std::map<std::string, std::vector<EscalationStep>, std::less<>> paths;
  // For findings: the path by finding severity (a severity may be absent: no escalation).
  std::map<Severity, std::string> findings;
  friend bool operator==(const Escalation&, const Escalation&) = default;
};

// A parsed, validated policy document, and (once published) its place in the ledger.
struct Policy {
  // Set by LoadPolicy / PublishPolicy; 0 / empty for a document that was only parsed.
  uint64_t version = 0;
  uint64_t seq = 0;          // the ledger event that published it
  int64_t published_ns = 0;  // that event's time
  std::string published_by;  // its actor

  std::string id;              // `id:` of the document
  std::string title;           // `title:`, or ""
  std::string hash;            // "sha256:<hex>" of the document bytes
  std::string canonical_hash;  // "sha256:<hex>" of canonical_json
  std::string document;        // the YAML bytes, exactly as published
  std::string canonical_json;  // the document as RFC 8785 JSON (comments and layout gone)

  std::map<std::string, RuleSettings, std::less<>> rules;  // every known rule
  Authoritative authoritative;
  Approvals approvals;
  Escalation escalation;
  std::string escalation_json = "{}";  // canonical JSON of `escalation:`
  std::string cases_json = "{}";       // canonical JSON of `cases:` (src/cases/ reads it)

  // REQUIRES: a known rule id (see RuleSchemas); unknown ids get a disabled default.
  const RuleSettings& Rule(std::string_view rule_id) const;
  // {id, decimal version, hash}: what events and findings record as the policy they used.
  event::PolicyRef Ref() const;
};

// Checks a section the policy module carries but does not own (today: `cases:`). It gets the
// section as canonical JSON; an error is kInvalidArgument with the message "<path>: <reason>",
// where <path> is written as in policy errors ("cases.leaked_key.closure[0]"), so that the error
// can be given the line and column of that node.
using SectionValidator = std::function<Status(std::string_view section_json)>;

struct ParseOptions {
  // Validates `cases:`; none: the section only has to be a mapping.
  SectionValidator validate_cases;
};

// Parses and validates a document. Errors are kInvalidArgument with the message
// "<source_name>:<line>:<column>: <path>: <reason>" (1-based line and column of the offending
// node), e.g. "policy.yaml:12:13: rules.identity-dormant.period: not a duration (...)".
Result<Policy> ParsePolicy(std::string_view yaml, std::string_view source_name = "policy",
                           const ParseOptions& options = {});

// A published version, without its document.
struct PolicyInfo {
  uint64_t version = 0;
  uint64_t seq = 0;
  std::string id, hash, canonical_hash;
  int64_t published_ns = 0;
  std::string published_by;
  std::string note;  // the rationale given at publication
};

// Loads a published version (nullopt: the latest) and parses its document. kNotFound when no
// such version (or no policy at all) is published; kDataLoss when its document was erased or
// no longer matches its recorded hash.
Result<Policy> LoadPolicy(store::Store& store, std::optional<uint64_t> version);

// Every published version, oldest first.
Result<std::vector<PolicyInfo>> ListPolicies(store::Store& store);

struct PublishOptions {
  std::string source_name = "policy";  // for error messages (the file name)
  std::string published_by;            // the actor recorded; required
  std::string note;                    // why (the event's rationale); may be empty
  ParseOptions parse;
};
struct PublishResult {
  PolicyInfo info;
  // True when the document is byte for byte the latest version: nothing was appended and
  // `info` is that version.
  bool unchanged = false;
};

// Validates `yaml` and appends it as the next version (one batch, committed). An invalid
// document is rejected with ParsePolicy's error and nothing is written.
Result<PublishResult> PublishPolicy(ledger::Ledger& ledger, std::string_view yaml,
                                    const PublishOptions& options);

// One difference between two documents, by path: added (+), removed (-) or changed (~).
struct DiffEntry {
  char op = '~';
  std::string path;           // "rules.identity-dormant.period", "authoritative.issuance[1]"
  std::string before, after;  // compact JSON of the values ("" for the absent side)
};
// The differences between the canonical documents of `a` and `b`, in path order. Lists are
// compared item by item.
std::vector<DiffEntry> DiffPolicies(const Policy& a, const Policy& b);

}  // namespace nhitrace::policy
