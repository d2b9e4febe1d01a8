// The event: one immutable record of something that happened to a non-human identity.
//
// This is the in-memory form of the native schema v1 (docs/format/event.md). Optional parts are
// std::optional or empty strings; an empty string always means "absent" (the codec rejects
// empty strings in the input so the two cannot be confused).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nhitrace::event {

enum class Kind {
  kRequest,         // someone asked for access (opens a grant chain)
  kApproval,        // a person or system approved a request
  kDenial,          // a request was denied
  kProvision,       // issuance result: the credential/grant was (or failed to be) created
  kAction,          // a use of the identity
  kRotation,        // the credential was replaced
  kRevocation,      // the credential/grant was withdrawn
  kExpiry,          // the credential/grant reached its end of validity
  kReconciliation,  // a check of the live state against the record
  kSignal,          // an alert or detector output
  kSupport,         // a support interaction
  kIdentity,        // an explicit statement about an identity (owner, sponsor, aliases)
  kPolicy,          // nhitrace's own: a policy version was published (the document is the raw)
  kFinding,         // nhitrace's own: a reconciliation rule found (or updated) a gap
  kCase,            // nhitrace's own: a change to a case (opened, assigned, decided, closed...)
  kErasure,  // nhitrace's own: the raw record of an earlier event was erased (ledger/erasure.h)
};

inline constexpr Kind kAllKinds[] = {
    Kind::kRequest,        Kind::kApproval, Kind::kDenial,     Kind::kProvision,
    Kind::kAction,         Kind::kRotation, Kind::kRevocation, Kind::kExpiry,
    Kind::kReconciliation, Kind::kSignal,   Kind::kSupport,    Kind::kIdentity,
    Kind::kPolicy,         Kind::kFinding,  Kind::kCase,       Kind::kErasure};

std::string_view KindName(Kind k);
// The kinds nhitrace writes about its own work (policy versions, findings, cases, erasures), as
// opposed to evidence from the outside. They say nothing about an identity's activity or lifecycle.
inline bool IsOwnRecord(Kind k) {
  return k == Kind::kPolicy || k == Kind::kFinding || k == Kind::kCase || k == Kind::kErasure;
}
std::optional<Kind> ParseKind(std::string_view name);

// Who did it: a person, a non-human identity, or the system itself.
struct Actor {
  std::string id;
  std::string type;  // "human" | "nhi" | "system" | "" (unspecified)
  friend bool operator==(const Actor&, const Actor&) = default;
};

// What the access covers.
struct Scope {
  std::vector<std::string> resources;
  std::vector<std::string> permissions;
  friend bool operator==(const Scope&, const Scope&) = default;
};

// When the access is valid. Timestamps are kept as given (RFC 3339 with offset); the *_ns
// fields hold the instants they denote.
struct Window {
  std::string not_before;
  std::string not_after;
  int64_t not_before_ns = 0;
  int64_t not_after_ns = 0;
  std::optional<int64_t> ttl_seconds;
  friend bool operator==(const Window&, const Window&) = default;
};

// The policy a decision was made under.
struct PolicyRef {
  std::string id;
  std::string version;
  std::string hash;
  friend bool operator==(const PolicyRef&, const PolicyRef&) = default;
};

// An action taken by an AI agent or workload on someone's behalf.
struct Delegation {
  std::string agent_instance;
  std::string tool_call;
  std::string sponsor;     // the human on whose behalf it acted
  std::string credential;  // the identity key of the credential it used
  friend bool operator==(const Delegation&, const Delegation&) = default;
};

// Descriptive facts about the identity the event is about.
struct Subject {
  std::string kind;  // service_account | api_key | token | certificate | workload | ai_agent |
                     // oauth_app | role | other
  std::string name;
  std::string owner;
  std::string sponsor;
  std::string system;
  friend bool operator==(const Subject&, const Subject&) = default;
};

// The result of the thing that happened.
struct Outcome {
  std::string result;  // "success" | "failure"
  std::string code;
  std::string message;
  friend bool operator==(const Outcome&, const Outcome&) = default;
};

struct Event {
  Kind kind = Kind::kSignal;
  std::string source_system;
  std::string source_event_id;
  std::string time;  // authoritative source timestamp, as given
  int64_t time_ns = 0;
  std::string correlation_key;
  std::string identity;
  std::vector<std::string> aliases;
  std::optional<Actor> actor;
  std::optional<Subject> subject;
  std::optional<Delegation> delegation;
  std::optional<Scope> scope;
  std::optional<Window> window;
  std::optional<PolicyRef> policy;
  std::optional<Outcome> outcome;
  std::string rationale;
  std::string attributes;  // canonical JSON object text, or empty

  friend bool operator==(const Event&, const Event&) = default;
};

// The names of the identity subject kinds the schema accepts.
bool IsSubjectKind(std::string_view s);
// The actor types the schema accepts.
bool IsActorType(std::string_view s);

}  // namespace nhitrace::event
