// ReconcileRule: one check of the evidence against the policy (docs/reconcile.md). Each rule lives
// in its own file under rules/ and is listed in rules.cc.
//
// Rules do not read the store. The engine (engine.h) gathers an evaluation unit (an identity with
// all its keys, grants and actions; a grant that names no identity; or an approver) into a
// UnitView, attributes every action to a grant with correlate::Attribute, and hands the rule
//   - each attributed action (OnAction), then
//   - the whole unit (Finish),
// together with the rule's settings from the policy and the time `as_of`. The rule reports what
// it finds through FindingSink: one Hit per subject, with bounded evidence and a message, and
// the earliest future time at which its answer could change without new evidence (so that time
// rules fire without anyone touching the subject). A rule must be a pure function of what it is
// given: the same unit, settings and as_of always give the same hits (replay depends on it).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "correlate/grant_chain.h"
#include "correlate/trace.h"
#include "policy/policy.h"
#include "store/store.h"

namespace nhitrace::reconcile {

using policy::Severity;

// What a finding is about.
enum class SubjectType {
  kIdentity,    // an identity (alias group), by its canonical key
  kCredential,  // one identity key (a credential that was issued)
  kGrant,       // a grant chain, by its correlation key
  kApprover,    // an approver (actor id)
};
std::string_view SubjectTypeName(SubjectType t);
std::optional<SubjectType> ParseSubjectType(std::string_view s);

// A rule's identity and its framework mapping (the mapping is data; a policy may override it).
struct RuleInfo {
  std::string_view id;
  uint32_t version = 1;
  Severity severity = Severity::kMedium;  // unless the policy says otherwise
  std::string_view title;
  std::vector<std::string_view> owasp;  // OWASP Non-Human Identities Top 10 (2025)
  std::vector<std::string_view> nist;   // NIST CSF 2.0 subcategories
};

// An event that supports a finding.
struct EvidenceRef {
  int64_t time_ns = 0;
  uint64_t seq = 0;
  friend auto operator<=>(const EvidenceRef&, const EvidenceRef&) = default;
};

// The evidence of one finding: how many events, the first and last by time, and the earliest
// kMaxEvidence of them (by time, then seq), whatever order they are added in.
inline constexpr size_t kMaxEvidence = 50;
class Evidence {
 public:
  void Add(uint64_t seq, int64_t time_ns);
  uint64_t count() const { return count_; }
  int64_t first_ns() const { return first_ns_; }
  int64_t last_ns() const { return last_ns_; }
  // Sorted by (time, seq); at most kMaxEvidence.
  const std::vector<EvidenceRef>& items() const { return items_; }
  bool empty() const { return count_ == 0; }

 private:
  uint64_t count_ = 0;
  int64_t first_ns_ = INT64_MAX, last_ns_ = INT64_MIN;
  std::vector<EvidenceRef> items_;
};

// What one rule found about one subject.
struct Hit {
  SubjectType subject_type = SubjectType::kIdentity;
  std::string subject;
  std::string identity;         // the identity key it concerns, or ""
  std::string correlation_key;  // the grant it concerns, or ""
  Evidence evidence;
  std::string message;  // one sentence for people
  // Short facts a rule collects while it goes (for its message): at most 5, each once.
  std::vector<std::string> details;
  void AddDetail(const std::string& d);
};

// An action of the unit with the grant it was judged against.
struct GrantView;
struct ActionVerdict {
  const correlate::ChainEvent* action = nullptr;
  correlate::Verdict verdict = correlate::Verdict::kNoGrant;
  const GrantView* grant = nullptr;                     // null for kNoGrant
  bool failed = false;                                  // outcome.result == "failure"
  const std::vector<std::string>* uncovered = nullptr;  // kOutOfScope: what the scope lacks
};

// A grant chain as derived by correlate (parsed back from its stored row), with its events.
struct GrantView {
  correlate::GrantChain chain;
  bool stored = true;  // false: no chain is derived (only nhitrace's own records name the key)
  // The events of the chain's stages, by seq.
  std::map<uint64_t, correlate::ChainEvent> events;
  // Exception and override decisions that name its correlation key.
  std::vector<store::DecisionRow> decisions;

  const correlate::ChainEvent* Event(uint64_t seq) const;
  // The events of a stage list that exist, chronological.
  std::vector<const correlate::ChainEvent*> Events(const std::vector<uint64_t>& seqs) const;
};

// One key of an identity, and its events other than actions.
struct KeyView {
  store::IdentityKeyRow row;
  std::vector<correlate::ChainEvent> events;  // chronological
};

// An identity (alias group) and what its keys say about it.
struct IdentityView {
  std::string canonical;
  std::vector<KeyView> keys;         // by key; empty when no event names the identity
  std::string kind, owner, sponsor;  // the latest statements about any key
  int64_t first_seen_ns = INT64_MAX;
  std::optional<EvidenceRef> last_action;  // the latest action of any key, any outcome
  std::optional<EvidenceRef> first_event;  // the earliest event of any key, any kind
  uint64_t actions = 0;
  // Exception and override decisions naming one of its keys.
  std::vector<store::DecisionRow> decisions;

  bool HasKey(std::string_view key) const;
};

// What the engine evaluates at once.
struct UnitView {
  enum class Kind { kGroup, kGrant, kApprover };
  Kind kind = Kind::kGroup;
  std::string name;  // "group:<canonical>", "grant:<correlation key>", "approver:<actor>"
  std::optional<IdentityView> identity;  // kGroup
  std::vector<GrantView> grants;         // kGroup: grants of its keys; kGrant: the one grant
  std::string approver;                  // kApprover
  std::vector<store::DecisionRow> approver_decisions;  // kApprover: the approver's decisions

  const GrantView* FindGrant(std::string_view correlation_key) const;
};

// Whether the settings' identities / exclude_identities / kinds select an identity with these
// keys and this subject kind (docs/format/policy.md, "Which identities a rule judges").
bool Selects(const policy::RuleSettings& settings, const std::vector<std::string>& keys,
             std::string_view kind);
// ... for a grant (its credential, and the kind of the unit's identity).
bool SelectsGrant(const policy::RuleSettings& settings, const UnitView& unit, const GrantView& g);
// ... for the unit's identity (all its keys).
bool SelectsIdentity(const policy::RuleSettings& settings, const UnitView& unit);
// ... for one key of the unit's identity.
bool SelectsKey(const policy::RuleSettings& settings, const UnitView& unit, const std::string& key);

// Collects one rule's hits over one unit.
class FindingSink {
 public:
  // The hit for this subject, created on first use.
  Hit& Fire(SubjectType type, const std::string& subject);
  // The rule's answer may change at `time_ns` without new evidence (ignored unless later than
  // as_of; the earliest wins).
  void RecheckAt(int64_t time_ns);

  std::map<std::pair<SubjectType, std::string>, Hit>& hits() { return hits_; }
  std::optional<int64_t> recheck() const { return recheck_; }
  void set_as_of(int64_t as_of) { as_of_ = as_of; }

 private:
  std::map<std::pair<SubjectType, std::string>, Hit> hits_;
  std::optional<int64_t> recheck_;
  int64_t as_of_ = 0;
};

// What a rule is given besides the unit.
struct RuleContext {
  const policy::Policy& policy;
  const policy::RuleSettings& settings;
  int64_t as_of;  // "now" for every time-based check
};

class ReconcileRule {
 public:
  virtual ~ReconcileRule() = default;
  virtual const RuleInfo& info() const = 0;
  // Whether OnAction wants the unit's actions (the engine skips the call otherwise).
  virtual bool wants_actions() const { return false; }
  // Each action of a group unit, attributed.
  virtual void OnAction(const RuleContext&, const UnitView&, const ActionVerdict&,
                        FindingSink*) const {}
  // Once per unit, after every action.
  virtual void Finish(const RuleContext& ctx, const UnitView& unit, FindingSink* out) const = 0;
};

// Every rule, in id order. The objects live for the whole process.
const std::vector<const ReconcileRule*>& AllRules();
const ReconcileRule* FindRule(std::string_view id);

// Small helpers shared by rules.
bool Succeeded(const event::Event& e);  // no outcome, or outcome success
std::string ShortTime(int64_t ns);      // "2026-03-01 10:00:00Z"

}  // namespace nhitrace::reconcile
