#include "correlate/derived_state.h"

#include <algorithm>
#include <map>

#include "correlate/action_row.h"
#include "event/codec.h"

namespace nhitrace::correlate {
namespace {

bool IsLifecycle(event::Kind k) {
  return k == event::Kind::kRotation || k == event::Kind::kRevocation ||
         k == event::Kind::kExpiry || k == event::Kind::kReconciliation;
}

// The kinds that begin or end a credential's grants.
const std::vector<std::string> kCredentialKinds = {"provision", "rotation", "revocation", "expiry",
                                                   "reconciliation"};
constexpr size_t kNoLimit = SIZE_MAX >> 1;

bool Succeeded(const event::Event& e) { return !e.outcome || e.outcome->result == "success"; }

store::GrantRow ToRow(const GrantChain& c) {
  store::GrantRow g;
  g.correlation_key = c.correlation_key;
  g.identity_key = c.identity;
  g.status = std::string(ChainStatusName(c.status));
  g.start_ns = c.start_ns;
  g.end_ns = c.end_ns;
  if (c.first_use) g.first_use_seq = c.first_use->seq;
  g.issue_count = static_cast<uint32_t>(c.issues.size());
  g.doc = ChainToJson(c);
  return g;
}

Result<std::vector<ChainEvent>> Decode(const std::vector<store::EventRow>& rows) {
  std::vector<ChainEvent> out;
  out.reserve(rows.size());
  for (const auto& row : rows) {
    NHI_ASSIGN_OR_RETURN(ChainEvent ce, DecodeEventRow(row));
    out.push_back(std::move(ce));
  }
  return out;
}

Result<std::vector<ChainEvent>> EventsOf(store::Store& store, const std::string& identity_key,
                                         const std::vector<std::string>& kinds) {
  store::EventQuery q;
  q.identity_key = identity_key;
  q.kinds = kinds;
  q.limit = kNoLimit;
  NHI_ASSIGN_OR_RETURN(std::vector<store::EventRow> rows, store.QueryEvents(q));
  return Decode(rows);
}

// When each grant of a credential began: its first successful provision (time, then source),
// per correlation key.
Result<std::map<std::string, const ChainEvent*>> GrantStarts(
    const std::vector<ChainEvent>& provisions) {
  std::map<std::string, const ChainEvent*> starts;
  for (const ChainEvent& p : provisions) {
    if (p.event.correlation_key.empty() || !Succeeded(p.event)) continue;
    auto [it, inserted] = starts.emplace(p.event.correlation_key, &p);
    if (!inserted && ChronologicalLess(p, *it->second)) it->second = &p;
  }
  return starts;
}

// The earliest action among `keys` in [from, to), by (time, source).
Result<std::optional<FirstUse>> FirstAction(store::Store& store,
                                            const std::vector<std::string>& keys, int64_t from,
                                            int64_t to) {
  std::optional<ChainEvent> best;
  for (const std::string& k : keys) {
    NHI_ASSIGN_OR_RETURN(auto row, store.FirstEventOf(k, "action", from, to));
    if (!row) continue;
    NHI_ASSIGN_OR_RETURN(ChainEvent ce, DecodeEventRow(*row));
    if (!best || ChronologicalLess(ce, *best)) best = std::move(ce);
  }
  if (!best) return std::optional<FirstUse>();
  return std::optional<FirstUse>(FirstUse{best->seq, best->event.time_ns});
}

}  // namespace

Result<bool> HasProvisionedGrant(store::Store& store, const std::string& key) {
  NHI_ASSIGN_OR_RETURN(std::vector<store::GrantRow> grants, store.ListGrantsForKey(key));
  return std::any_of(grants.begin(), grants.end(),
                     [](const store::GrantRow& g) { return g.start_ns != INT64_MIN; });
}

Result<ChainEvent> DecodeEventRow(const store::EventRow& row) {
  NHI_ASSIGN_OR_RETURN(event::DecodedLeaf d, event::DecodeLeaf(row.leaf));
  return ChainEvent{row.seq, std::move(d.event)};
}

Result<GrantChain> LoadChain(store::Store& store, const std::string& correlation_key) {
  store::EventQuery q;
  q.correlation_key = correlation_key;
  q.limit = kNoLimit;
  NHI_ASSIGN_OR_RETURN(std::vector<store::EventRow> rows, store.QueryEvents(q));
  NHI_ASSIGN_OR_RETURN(std::vector<ChainEvent> events, Decode(rows));
  GrantChain chain = BuildChain(correlation_key, events, std::nullopt);
  if (chain.identity.empty() || chain.start_ns == INT64_MIN) return chain;
  const std::string credential = chain.identity;

  // Lifecycle events of the credential that carry no request id (a key deleted in a console)
  // belong to the grant of the credential that was current when they happened: from this
  // grant's first issuance up to the next grant's.
  // One lookup for the credential's provisions and lifecycle events.
  NHI_ASSIGN_OR_RETURN(std::vector<ChainEvent> of_credential,
                       EventsOf(store, credential, kCredentialKinds));
  std::vector<ChainEvent> provisions, lifecycle;
  for (ChainEvent& ce : of_credential) {
    (ce.event.kind == event::Kind::kProvision ? provisions : lifecycle).push_back(std::move(ce));
  }
  NHI_ASSIGN_OR_RETURN(auto starts, GrantStarts(provisions));
  auto own = starts.find(correlation_key);
  if (own != starts.end()) {
    const ChainEvent* next = nullptr;
    for (const auto& [ck, start] : starts) {
      if (ck == correlation_key || !ChronologicalLess(*own->second, *start)) continue;
      if (!next || ChronologicalLess(*start, *next)) next = start;
    }
    bool added = false;
    for (ChainEvent& ce : lifecycle) {
      if (!ce.event.correlation_key.empty()) continue;
      if (ChronologicalLess(ce, *own->second)) continue;    // before this grant
      if (next && !ChronologicalLess(ce, *next)) continue;  // after the next one began
      events.push_back(std::move(ce));
      added = true;
    }
    if (added) chain = BuildChain(correlation_key, events, std::nullopt);
  }

  // Active: the first use inside the window, by the credential itself or by another key of its
  // identity that has no grant of its own (as actions are attributed; see trace.h).
  std::vector<std::string> users = {credential};
  NHI_ASSIGN_OR_RETURN(auto key_row, store.GetIdentityKey(credential));
  if (key_row) {
    NHI_ASSIGN_OR_RETURN(std::vector<store::IdentityKeyRow> group,
                         store.ListGroupKeys(key_row->canonical));
    for (const auto& k : group) {
      if (k.key == credential) continue;
      NHI_ASSIGN_OR_RETURN(bool has_grant, HasProvisionedGrant(store, k.key));
      if (!has_grant) users.push_back(k.key);
    }
  }
  NHI_ASSIGN_OR_RETURN(auto first_use, FirstAction(store, users, chain.start_ns, chain.end_ns));
  if (first_use) chain = BuildChain(correlation_key, std::move(events), first_use);
  return chain;
}

DerivedState::KeyDelta& DerivedState::Touch(const std::string& key, int64_t time_ns) {
  KeyDelta& d = keys_[key];
  d.first_seen = std::min(d.first_seen, time_ns);
  d.last_seen = std::max(d.last_seen, time_ns);
  return d;
}

Status DerivedState::OnAppend(store::WriteTxn& txn, uint64_t seq, const event::Event& e) {
  // Findings and cases name identities and chains; they are not evidence about them.
  if (event::IsOwnRecord(e.kind)) return OkStatus();
  if (!e.identity.empty()) {
    KeyDelta& d = Touch(e.identity, e.time_ns);
    ++d.events;
    if (e.kind == event::Kind::kAction) {
      ++d.actions;
      d.first_action = std::min(d.first_action, e.time_ns);
      d.last_action = std::max(d.last_action, e.time_ns);
      NHI_RETURN_IF_ERROR(txn.PutAction(ActionRowOf(seq, e)));
    }
    if (e.kind == event::Kind::kProvision || (IsLifecycle(e.kind) && e.correlation_key.empty())) {
      d.lifecycle = true;
    }
    if (e.subject)
      d.facts.Offer(*e.subject, e.time_ns, e.source_system + "\n" + e.source_event_id, seq);
    for (const auto& alias : e.aliases) {
      Touch(alias, e.time_ns);
      if (alias != e.identity) links_.push_back({e.identity, alias, seq});
    }
    // An AI agent or workload and the credential it acts with name one identity.
    if (e.delegation && !e.delegation->credential.empty() &&
        e.delegation->credential != e.identity) {
      Touch(e.delegation->credential, e.time_ns);
      links_.push_back({e.identity, e.delegation->credential, seq});
    }
  }
  if (!e.correlation_key.empty()) dirty_chains_.insert(e.correlation_key);
  return OkStatus();
}

void DerivedState::OnRollback() {
  keys_.clear();
  links_.clear();
  dirty_chains_.clear();
}

Status DerivedState::FlushKeys(store::WriteTxn& txn, std::set<std::string>* recheck) {
  for (auto& [key, d] : keys_) {
    NHI_ASSIGN_OR_RETURN(auto existing, store_.GetIdentityKey(key));
    store::IdentityKeyRow row;
    if (existing) {
      row = std::move(*existing);
      if (d.first_seen < row.first_seen_ns) recheck->insert(key);
      row.first_seen_ns = std::min(row.first_seen_ns, d.first_seen);
      row.last_seen_ns = std::max(row.last_seen_ns, d.last_seen);
    } else {
      row.key = key;
      row.canonical = key;
      row.first_seen_ns = d.first_seen;
      row.last_seen_ns = d.last_seen;
    }
    row.event_count += d.events;
    row.action_count += d.actions;
    if (d.actions > 0) {
      row.last_action_ns = std::max(row.last_action_ns.value_or(INT64_MIN), d.last_action);
    }
    if (!d.facts.empty()) {
      NHI_ASSIGN_OR_RETURN(IdentityFacts facts, IdentityFacts::FromRow(row));
      facts.Merge(d.facts);
      facts.ToRow(&row);
    }
    NHI_RETURN_IF_ERROR(txn.PutIdentityKey(row));
  }
  return OkStatus();
}

Status DerivedState::FlushLinks(store::WriteTxn& txn, std::set<std::string>* regrouped) {
  for (const auto& link : links_) {
    NHI_RETURN_IF_ERROR(txn.PutIdentityLink(link));
    NHI_ASSIGN_OR_RETURN(auto a, store_.GetIdentityKey(link.key_a));
    NHI_ASSIGN_OR_RETURN(auto b, store_.GetIdentityKey(link.key_b));
    if (!a || !b) return InternalError("an alias names a key that was not recorded");
    if (a->canonical == b->canonical) continue;
    NHI_ASSIGN_OR_RETURN(auto ca, store_.GetIdentityKey(a->canonical));
    NHI_ASSIGN_OR_RETURN(auto cb, store_.GetIdentityKey(b->canonical));
    if (!ca || !cb) return InternalError("an alias group has no canonical key row");
    // The merged group is named by the member seen first, which is the first of the two
    // groups' canonical keys.
    bool a_first = ca->first_seen_ns != cb->first_seen_ns ? ca->first_seen_ns < cb->first_seen_ns
                                                          : ca->key < cb->key;
    const std::string& winner = a_first ? ca->key : cb->key;
    const std::string& loser = a_first ? cb->key : ca->key;
    NHI_RETURN_IF_ERROR(txn.Recanonicalize(loser, winner));
    regrouped->insert(winner);
  }
  return OkStatus();
}

Status DerivedState::Recanonicalize(store::WriteTxn& txn, const std::set<std::string>& keys) {
  // A key seen earlier than its group's canonical key (a late event) now names the group.
  for (const std::string& key : keys) {
    NHI_ASSIGN_OR_RETURN(auto row, store_.GetIdentityKey(key));
    if (!row || row->canonical == key) continue;
    NHI_ASSIGN_OR_RETURN(auto canon, store_.GetIdentityKey(row->canonical));
    if (!canon) return InternalError("an alias group has no canonical key row");
    bool earlier = row->first_seen_ns != canon->first_seen_ns
                       ? row->first_seen_ns < canon->first_seen_ns
                       : row->key < canon->key;
    if (earlier) NHI_RETURN_IF_ERROR(txn.Recanonicalize(canon->key, key));
  }
  return OkStatus();
}

Status DerivedState::MarkGroupsDirty(const std::set<std::string>& keys) {
  std::set<std::string> canonicals;
  for (const std::string& key : keys) {
    NHI_ASSIGN_OR_RETURN(auto row, store_.GetIdentityKey(key));
    if (row) canonicals.insert(row->canonical);
  }
  for (const std::string& canonical : canonicals) {
    NHI_ASSIGN_OR_RETURN(std::vector<store::IdentityKeyRow> group, store_.ListGroupKeys(canonical));
    for (const auto& k : group) {
      NHI_ASSIGN_OR_RETURN(std::vector<store::GrantRow> grants, store_.ListGrantsForKey(k.key));
      for (const auto& g : grants) dirty_chains_.insert(g.correlation_key);
    }
  }
  return OkStatus();
}

Status DerivedState::FindAffectedChains() {
  std::set<std::string> whole_groups;
  for (const auto& [key, d] : keys_) {
    if (d.lifecycle) {
      whole_groups.insert(key);
      continue;
    }
    if (d.actions == 0) continue;
    // An action can only change a chain by becoming (or preceding) its first use. Actions by a
    // key without grants of its own count for the grants of its identity's other keys.
    NHI_ASSIGN_OR_RETURN(std::vector<store::GrantRow> grants, store_.ListGrantsForKey(key));
    bool provisioned = std::any_of(grants.begin(), grants.end(), [](const store::GrantRow& g) {
      return g.start_ns != INT64_MIN;
    });
    if (!provisioned) {
      whole_groups.insert(key);
      continue;
    }
    for (const auto& g : grants) {
      if (g.start_ns == INT64_MIN) continue;  // never provisioned
      if (d.last_action < g.start_ns || d.first_action >= g.end_ns) continue;
      if (g.first_use_seq) {
        NHI_ASSIGN_OR_RETURN(auto first, store_.GetEvent(*g.first_use_seq));
        // Only a strictly earlier stored first use is certainly unaffected (ties are broken by
        // source id, which recomputation settles).
        if (first && first->time_ns < d.first_action) continue;
      }
      dirty_chains_.insert(g.correlation_key);
    }
  }
  return MarkGroupsDirty(whole_groups);
}

Status DerivedState::RecomputeChains(store::WriteTxn& txn, std::set<std::string>* changed) {
  for (const std::string& ck : dirty_chains_) {
    NHI_ASSIGN_OR_RETURN(GrantChain chain, LoadChain(store_, ck));
    store::GrantRow row = ToRow(chain);
    if (changed) {
      NHI_ASSIGN_OR_RETURN(auto old, store_.GetGrant(ck));
      bool was = old && old->start_ns != INT64_MIN, is = row.start_ns != INT64_MIN;
      if (!old || old->identity_key != row.identity_key || was != is) {
        if (old && !old->identity_key.empty()) changed->insert(old->identity_key);
        if (!row.identity_key.empty()) changed->insert(row.identity_key);
      }
    }
    NHI_RETURN_IF_ERROR(txn.PutGrant(row));
  }
  dirty_chains_.clear();
  return OkStatus();
}

Status DerivedState::BeforeCommit(store::WriteTxn& txn) {
  std::set<std::string> recheck, regrouped;
  NHI_RETURN_IF_ERROR(FlushKeys(txn, &recheck));
  NHI_RETURN_IF_ERROR(FlushLinks(txn, &regrouped));
  NHI_RETURN_IF_ERROR(Recanonicalize(txn, recheck));
  if (!defer_chains_) {
    // Pass 1: the chains this batch's events belong to. Whether a chain is provisioned (and for
    // which credential) depends on its own events only, so after this pass it is final. Pass 2:
    // the chains whose first use or lifecycle may have changed: those of keys that acted or
    // ended, of merged identities, and of identities whose set of provisioned grants changed.
    std::set<std::string> changed;
    NHI_RETURN_IF_ERROR(RecomputeChains(txn, &changed));
    NHI_RETURN_IF_ERROR(FindAffectedChains());
    regrouped.insert(changed.begin(), changed.end());
    NHI_RETURN_IF_ERROR(MarkGroupsDirty(regrouped));
    NHI_RETURN_IF_ERROR(RecomputeChains(txn, nullptr));
  }
  keys_.clear();
  links_.clear();
  return OkStatus();
}

Status DerivedState::Rebuild(store::Store& store,
                             const std::function<void(uint64_t, uint64_t)>& progress) {
  NHI_ASSIGN_OR_RETURN(uint64_t total, store.EventCount());
  NHI_ASSIGN_OR_RETURN(auto txn, store.BeginWrite());
  NHI_RETURN_IF_ERROR(txn->ClearDerived());
  DerivedState state(store);
  state.defer_chains_ = true;
  uint64_t n = 0;
  NHI_RETURN_IF_ERROR(store.ScanEvents(0, [&](const store::EventRow& row) -> Status {
    NHI_ASSIGN_OR_RETURN(ChainEvent ce, DecodeEventRow(row));
    NHI_RETURN_IF_ERROR(state.OnAppend(*txn, ce.seq, ce.event));
    if (++n % 65536 == 0) {
      NHI_RETURN_IF_ERROR(state.BeforeCommit(*txn));  // bounded memory: flush keys and links
      if (progress) progress(n, total);
    }
    return OkStatus();
  }));
  NHI_RETURN_IF_ERROR(state.BeforeCommit(*txn));
  // Every chain, now that all events and alias groups are in: once to settle which grants are
  // provisioned, once more for first uses that depend on that.
  std::set<std::string> all = state.dirty_chains_;
  NHI_RETURN_IF_ERROR(state.RecomputeChains(*txn, nullptr));
  state.dirty_chains_ = std::move(all);
  NHI_RETURN_IF_ERROR(state.RecomputeChains(*txn, nullptr));
  if (progress) progress(n, total);
  return txn->Commit();
}

}  // namespace nhitrace::correlate
