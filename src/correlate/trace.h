// Trace: the answer to "who requested this access, who approved it under which policy, what was
// provisioned, and what was then done with it — inside the approved scope and window?"
//
// A trace is built for a request id, an identity key, or an event, from the derived tables and
// the signed events; actions are attributed to the grant that covers them (see Attribute).
//
//   NHI_ASSIGN_OR_RETURN(Trace t, BuildTrace(store, TraceQuery{.request = "SEC-4711"}));
//   std::string json = TraceToJson(t);   // docs/format/trace.md
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "correlate/grant_chain.h"
#include "store/store.h"

namespace nhitrace::correlate {

// How an action relates to the grants of its credential.
enum class Verdict {
  kCovered,          // inside a grant's window and approved scope
  kOutOfScope,       // inside a grant's window, touching what the approval does not cover
  kBeforeGrant,      // before the credential was provisioned (or its window opened)
  kAfterRevocation,  // after the grant was revoked
  kAfterExpiry,      // after the grant expired (expiry event, not_after or TTL)
  kNoGrant,          // no grant of this credential (or its identity) is on record
};
std::string_view VerdictName(Verdict v);

struct AttributedAction {
  ChainEvent action;
  Verdict verdict = Verdict::kNoGrant;
  std::string grant;  // correlation key of the grant it was judged against ("" for kNoGrant)
  std::vector<std::string> uncovered;  // resources/permissions outside the approved scope
};

// Judges one action against candidate grants (their chains). Grants whose credential is the
// action's own identity are preferred to grants of other keys of the same identity. Among
// them, the grant whose window contains the action time; else the latest that started before
// it (the action came after it ended); else the earliest (the action came before any).
AttributedAction Attribute(ChainEvent action, const std::vector<const GrantChain*>& grants);

// Counts of a set of attributed actions.
struct ActionSummary {
  uint64_t count = 0;
  int64_t first_ns = INT64_MAX, last_ns = INT64_MIN;
  uint64_t covered = 0, out_of_scope = 0, before_grant = 0, after_revocation = 0, after_expiry = 0,
           no_grant = 0;
  // The actions that are not kCovered, earliest first, at most `kMaxExceptions`.
  std::vector<AttributedAction> exceptions;
  uint64_t exceptions_omitted = 0;
  // Actions performed by an AI agent or workload on someone's behalf.
  uint64_t delegated = 0;
};
inline constexpr size_t kMaxExceptions = 20;

// One key of an identity, and how it was linked to the others.
struct IdentityKeyInfo {
  store::IdentityKeyRow row;
  std::vector<store::IdentityLinkRow> links;  // the assertions that name this key
};

struct IdentityInfo {
  std::string canonical;
  std::vector<IdentityKeyInfo> keys;
  // Aggregates over the keys.
  std::string kind, name, owner, sponsor, system;
  int64_t first_seen_ns = 0, last_seen_ns = 0;
  std::optional<int64_t> last_action_ns;
  uint64_t event_count = 0, action_count = 0;
};

struct GrantTrace {
  GrantChain chain;
  std::vector<ChainEvent> events;  // of the chain, chronological
  ActionSummary actions;           // the actions attributed to this grant
};

struct TraceQuery {
  std::string request;
  std::string identity;
  std::optional<uint64_t> event;
};

struct Trace {
  TraceQuery query;
  std::optional<ChainEvent> event;  // for an event query
  std::optional<IdentityInfo> identity;
  std::vector<GrantTrace> grants;
  ActionSummary unattributed;  // actions of the identity no grant covers in time (kNoGrant)
};

// kNotFound when the request, identity or event is unknown.
Result<Trace> BuildTrace(store::Store& store, const TraceQuery& query);

// Loads an identity (alias group) by any of its keys.
Result<std::optional<IdentityInfo>> LoadIdentity(store::Store& store, const std::string& key);

// Attributes every action of `identity`'s keys with from_ns <= time < to_ns (nullopt: no bound)
// to the grants of its keys exactly as BuildTrace does, and calls `fn` with each (read from the
// actions table, as ActionReader reads it: no leaf is decoded) and the chain it was judged
// against (null for kNoGrant), key by key, each key's actions by time, until `fn` returns non-OK.
Status ForEachAttributedAction(
    store::Store& store, const IdentityInfo& identity, std::optional<int64_t> from_ns,
    std::optional<int64_t> to_ns,
    const std::function<Status(const AttributedAction&, const GrantChain*)>& fn);

// The trace as JSON (trace_version 1, documented in docs/format/trace.md).
std::string TraceToJson(const Trace& trace);

}  // namespace nhitrace::correlate
