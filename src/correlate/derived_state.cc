#include "correlate/derived_state.h"

#include <algorithm>
#include <map>

#include "event/codec.h"

namespace nhitrace::correlate {
namespace {

bool IsLifecycle(event::Kind k) {
  return k == event::Kind::kRotation || k == event::Kind::kRevocation ||
         k == event::Kind::kExpiry || k == event::Kind::kReconciliation;
}

constexpr std::string_view kLifecycleKinds[] = {"rotation", "revocation", "expiry",
                                                "reconciliation"};

// Orders (time, source) provenance so that "latest wins" does not depend on arrival order.
bool Later(int64_t t1, const std::string& s1, int64_t t2, const std::string& s2) {
  return t1 != t2 ? t1 > t2 : s1 > s2;
}

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

}  // namespace

Result<ChainEvent> DecodeEventRow(const store::EventRow& row) {
  NHI_ASSIGN_OR_RETURN(event::DecodedLeaf d, event::DecodeLeaf(row.leaf));
  return ChainEvent{row.seq, std::move(d.event)};
}

Result<GrantChain> LoadChain(store::Store& store, const std::string& correlation_key) {
  store::EventQuery q;
  q.correlation_key = correlation_key;
  q.limit = SIZE_MAX >> 1;
  NHI_ASSIGN_OR_RETURN(std::vector<store::EventRow> rows, store.QueryEvents(q));
  std::vector<ChainEvent> events;
  std::set<uint64_t> seen;
  for (const auto& row : rows) {
    NHI_ASSIGN_OR_RETURN(ChainEvent ce, DecodeEventRow(row));
    seen.insert(ce.seq);
    events.push_back(std::move(ce));
  }
  GrantChain chain = BuildChain(correlation_key, events, std::nullopt);
  if (chain.identity.empty()) return chain;
  // Lifecycle events of the credential that carry no request id (a key deleted in the console)
  // belong to every chain of that credential.
  bool added = false;
  for (std::string_view kind : kLifecycleKinds) {
    store::EventQuery lq;
    lq.identity_key = chain.identity;
    lq.kind = std::string(kind);
    lq.limit = SIZE_MAX >> 1;
    NHI_ASSIGN_OR_RETURN(std::vector<store::EventRow> more, store.QueryEvents(lq));
    for (const auto& row : more) {
      if (!row.correlation_key.empty() || seen.count(row.seq)) continue;
      NHI_ASSIGN_OR_RETURN(ChainEvent ce, DecodeEventRow(row));
      seen.insert(ce.seq);
      events.push_back(std::move(ce));
      added = true;
    }
  }
  if (added) chain = BuildChain(correlation_key, events, std::nullopt);
  // Active: the first use of the credential inside the window.
  std::optional<FirstUse> first_use;
  if (chain.start_ns != INT64_MIN) {
    NHI_ASSIGN_OR_RETURN(
        auto first, store.FirstEventOf(chain.identity, "action", chain.start_ns, chain.end_ns));
    if (first) first_use = FirstUse{first->seq, first->time_ns};
  }
  if (first_use) chain = BuildChain(correlation_key, std::move(events), first_use);
  return chain;
}

DerivedState::KeyDelta& DerivedState::Touch(const std::string& key, int64_t time_ns) {
  KeyDelta& d = keys_[key];
  d.first_seen = std::min(d.first_seen, time_ns);
  d.last_seen = std::max(d.last_seen, time_ns);
  return d;
}

Status DerivedState::OnAppend(store::WriteTxn&, uint64_t seq, const event::Event& e) {
  if (!e.identity.empty()) {
    KeyDelta& d = Touch(e.identity, e.time_ns);
    ++d.events;
    if (e.kind == event::Kind::kAction) {
      ++d.actions;
      d.first_action = std::min(d.first_action, e.time_ns);
      d.last_action = std::max(d.last_action, e.time_ns);
    }
    if (IsLifecycle(e.kind) && e.correlation_key.empty()) d.lifecycle = true;
    if (e.subject) {
      std::string source = e.source_system + "\n" + e.source_event_id;
      if (!d.has_subject || Later(e.time_ns, source, d.subject_time, d.subject_source)) {
        d.has_subject = true;
        d.subject = *e.subject;
        d.subject_time = e.time_ns;
        d.subject_source = std::move(source);
        d.subject_seq = seq;
      }
    }
    for (const auto& alias : e.aliases) {
      Touch(alias, e.time_ns);
      if (alias != e.identity) links_.push_back({e.identity, alias, seq});
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
    if (d.has_subject &&
        (!row.subject_time_ns ||
         Later(d.subject_time, d.subject_source, *row.subject_time_ns, row.subject_source))) {
      row.subject_kind = d.subject.kind;
      row.subject_name = d.subject.name;
      row.owner = d.subject.owner;
      row.sponsor = d.subject.sponsor;
      row.system = d.subject.system;
      row.subject_time_ns = d.subject_time;
      row.subject_source = d.subject_source;
      row.subject_seq = d.subject_seq;
    }
    NHI_RETURN_IF_ERROR(txn.PutIdentityKey(row));
  }
  return OkStatus();
}

Status DerivedState::FlushLinks(store::WriteTxn& txn) {
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

Status DerivedState::FindAffectedChains() {
  for (const auto& [key, d] : keys_) {
    if (d.actions == 0 && !d.lifecycle) continue;
    NHI_ASSIGN_OR_RETURN(std::vector<store::GrantRow> grants, store_.ListGrantsForKey(key));
    for (const auto& g : grants) {
      if (d.lifecycle) {
        dirty_chains_.insert(g.correlation_key);
        continue;
      }
      // An action can only change a chain by becoming (or preceding) its first use.
      if (g.start_ns == INT64_MIN) continue;  // never provisioned
      if (d.last_action < g.start_ns || d.first_action >= g.end_ns) continue;
      if (g.first_use_seq) {
        NHI_ASSIGN_OR_RETURN(auto first, store_.GetEvent(*g.first_use_seq));
        if (first && first->time_ns <= d.first_action) continue;
      }
      dirty_chains_.insert(g.correlation_key);
    }
  }
  return OkStatus();
}

Status DerivedState::RecomputeChains(store::WriteTxn& txn) {
  for (const std::string& ck : dirty_chains_) {
    NHI_ASSIGN_OR_RETURN(GrantChain chain, LoadChain(store_, ck));
    NHI_RETURN_IF_ERROR(txn.PutGrant(ToRow(chain)));
  }
  dirty_chains_.clear();
  return OkStatus();
}

Status DerivedState::BeforeCommit(store::WriteTxn& txn) {
  std::set<std::string> recheck;
  NHI_RETURN_IF_ERROR(FlushKeys(txn, &recheck));
  NHI_RETURN_IF_ERROR(FlushLinks(txn));
  NHI_RETURN_IF_ERROR(Recanonicalize(txn, recheck));
  if (!defer_chains_) {
    // Chains first (they may be new), then the ones this batch's actions affect.
    NHI_RETURN_IF_ERROR(RecomputeChains(txn));
    NHI_RETURN_IF_ERROR(FindAffectedChains());
    NHI_RETURN_IF_ERROR(RecomputeChains(txn));
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
  // Every chain once, now that all events are in.
  NHI_RETURN_IF_ERROR(state.RecomputeChains(*txn));
  if (progress) progress(n, total);
  return txn->Commit();
}

}  // namespace nhitrace::correlate
