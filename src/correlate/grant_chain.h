// GrantChain: the life of one access grant, derived from the events that share its correlation
// key (request id).
//
//   requested -> approved | denied -> provisioned | provision_failed -> active
//             -> expired | revoked -> reconciled
//
// Every stage is an explicit list of the events that prove it; a stage with no event is missing,
// never inferred from a later one ("approved" is not "provisioned", "provisioned" is not
// "active"). The chain is a function of the SET of its events: they are ordered by authoritative
// time, then source system, then source event id, so late and out-of-order arrival give the same
// chain as in-order arrival.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "event/event.h"

namespace nhitrace::correlate {

enum class ChainStatus {
  kObserved,  // events carry the key, but no request, decision or provisioning yet
  kRequested,
  kApproved,
  kDenied,
  kProvisioned,
  kProvisionFailed,
  kActive,
  kExpired,
  kRevoked,
  kReconciled,
};

std::string_view ChainStatusName(ChainStatus s);
std::optional<ChainStatus> ParseChainStatus(std::string_view s);

// A decoded event with its ledger position.
struct ChainEvent {
  uint64_t seq = 0;
  event::Event event;
};

// Orders events by authoritative time, then source system, then source event id: the order in
// which a chain reads its events, independent of arrival.
bool ChronologicalLess(const ChainEvent& a, const ChainEvent& b);

// The first use of the grant's credential inside its window (the proof of "active").
struct FirstUse {
  uint64_t seq = 0;
  int64_t time_ns = 0;
};

// A link the chain lacks or a rule it breaks, in words, with the events involved.
struct ChainIssue {
  std::string code;  // stable identifier, e.g. "no_approval"
  std::string message;
  std::vector<uint64_t> seqs;
};

struct GrantChain {
  std::string correlation_key;
  ChainStatus status = ChainStatus::kObserved;
  // The credential the grant is about: the provisioned identity, else the approved, else the
  // requested one ("" when no event names one).
  std::string identity;

  // The events proving each stage, chronological. `reconciled` holds only the successful
  // reconciliations at or after the end; every other reconciliation is in `other`.
  std::vector<uint64_t> requested, approved, denied, provisioned, provision_failed, rotated,
      revoked, expired, reconciled, other;
  std::optional<FirstUse> first_use;

  std::string requester;                   // actor of the first request
  std::vector<std::string> approvers;      // actors of the approvals
  std::optional<event::PolicyRef> policy;  // of the deciding approval
  // What was asked for; what was approved (the approval's own scope, else the requested one;
  // none without an approval); and what provisioning reports it actually granted.
  std::optional<event::Scope> requested_scope;
  std::optional<event::Scope> approved_scope;
  std::optional<event::Window> approved_window;
  std::optional<event::Scope> provisioned_scope;

  // When the credential could be used under this grant: from provisioning (or the window's
  // not_before, if later) to the first of revocation, expiry, not_after, or provisioning + TTL.
  // INT64_MIN / INT64_MAX when open.
  int64_t start_ns = INT64_MIN;
  int64_t end_ns = INT64_MAX;
  std::optional<uint64_t> end_seq;  // the revocation or expiry that ended it, if any
  std::string end_reason;           // "revoked", "expired", "window", "ttl" or ""

  std::vector<ChainIssue> issues;
};

// Builds the chain from its events, in any order. `first_use` comes from the actions (see
// DerivedState); pass nullopt when there is none.
GrantChain BuildChain(const std::string& correlation_key, std::vector<ChainEvent> events,
                      std::optional<FirstUse> first_use);

// The chain as canonical JSON (stable; documented in docs/format/trace.md). Stage lists hold
// sequence numbers in chronological order of their events.
std::string ChainToJson(const GrantChain& chain);

}  // namespace nhitrace::correlate
