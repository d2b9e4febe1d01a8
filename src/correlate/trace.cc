#include "correlate/trace.h"

#include <algorithm>
#include <map>
#include <set>

#include "base/time.h"
#include "correlate/action_row.h"
#include "correlate/derived_state.h"
#include "correlate/identity_facts.h"
#include "correlate/scope.h"
#include "json/dom.h"
#include "json/writer.h"

namespace nhitrace::correlate {

std::string_view VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kCovered:
      return "covered";
    case Verdict::kOutOfScope:
      return "out_of_scope";
    case Verdict::kBeforeGrant:
      return "before_grant";
    case Verdict::kAfterRevocation:
      return "after_revocation";
    case Verdict::kAfterExpiry:
      return "after_expiry";
    case Verdict::kNoGrant:
      return "no_grant";
  }
  return "?";
}

namespace {

bool Provisioned(const GrantChain& g) { return g.start_ns != INT64_MIN; }

// Of grants that all contain or all precede the action, the one that started last (ties: the
// smaller correlation key), so that the choice never depends on input order.
const GrantChain* Latest(const std::vector<const GrantChain*>& gs) {
  const GrantChain* best = nullptr;
  for (const GrantChain* g : gs) {
    if (!best || g->start_ns > best->start_ns ||
        (g->start_ns == best->start_ns && g->correlation_key < best->correlation_key)) {
      best = g;
    }
  }
  return best;
}

// Whether an exception at `time_ns` could be among the earliest kMaxExceptions that `s` keeps
// (when not, it is counted without its event being decoded).
bool MayKeep(const ActionSummary& s, int64_t time_ns) {
  if (s.exceptions.size() < kMaxExceptions) return true;
  for (const AttributedAction& x : s.exceptions) {
    if (x.action.event.time_ns >= time_ns) return true;
  }
  return false;
}

// REQUIRES: a kept exception (verdict other than kCovered, and MayKeep) is decoded in full.
void Count(ActionSummary& s, AttributedAction a) {
  ++s.count;
  int64_t t = a.action.event.time_ns;
  s.first_ns = std::min(s.first_ns, t);
  s.last_ns = std::max(s.last_ns, t);
  if (a.action.event.delegation) ++s.delegated;
  switch (a.verdict) {
    case Verdict::kCovered:
      ++s.covered;
      return;
    case Verdict::kOutOfScope:
      ++s.out_of_scope;
      break;
    case Verdict::kBeforeGrant:
      ++s.before_grant;
      break;
    case Verdict::kAfterRevocation:
      ++s.after_revocation;
      break;
    case Verdict::kAfterExpiry:
      ++s.after_expiry;
      break;
    case Verdict::kNoGrant:
      ++s.no_grant;
      break;
  }
  // Keep the earliest kMaxExceptions (by time, then source), whatever order they come in.
  if (!MayKeep(s, a.action.event.time_ns)) {
    ++s.exceptions_omitted;
    return;
  }
  s.exceptions.push_back(std::move(a));
  if (s.exceptions.size() > kMaxExceptions) {
    std::sort(s.exceptions.begin(), s.exceptions.end(),
              [](const AttributedAction& x, const AttributedAction& y) {
                return ChronologicalLess(x.action, y.action);
              });
    s.exceptions.pop_back();
    ++s.exceptions_omitted;
  }
}

}  // namespace

AttributedAction Attribute(ChainEvent action, const std::vector<const GrantChain*>& grants) {
  AttributedAction out;
  const event::Event& e = action.event;
  std::vector<const GrantChain*> candidates;
  for (const GrantChain* g : grants) {
    if (Provisioned(*g) &&
        (g->identity == e.identity || (e.delegation && g->identity == e.delegation->credential))) {
      candidates.push_back(g);
    }
  }
  if (candidates.empty()) {
    for (const GrantChain* g : grants) {
      if (Provisioned(*g)) candidates.push_back(g);
    }
  }
  out.action = std::move(action);
  if (candidates.empty()) return out;  // kNoGrant

  int64_t t = out.action.event.time_ns;
  std::vector<const GrantChain*> containing, before;
  for (const GrantChain* g : candidates) {
    if (g->start_ns <= t && t < g->end_ns) {
      containing.push_back(g);
    } else if (g->start_ns <= t) {
      before.push_back(g);
    }
  }
  if (!containing.empty()) {
    const GrantChain* g = Latest(containing);
    out.grant = g->correlation_key;
    out.verdict = Verdict::kCovered;
    if (g->approved_scope && out.action.event.scope) {
      for (auto* check : {&CheckResources, &CheckPermissions}) {
        ScopeCheck c = check(*g->approved_scope, *out.action.event.scope);
        out.uncovered.insert(out.uncovered.end(), c.uncovered.begin(), c.uncovered.end());
      }
      if (!out.uncovered.empty()) out.verdict = Verdict::kOutOfScope;
    }
    return out;
  }
  if (!before.empty()) {
    const GrantChain* g = Latest(before);
    out.grant = g->correlation_key;
    out.verdict = g->end_reason == "revoked" ? Verdict::kAfterRevocation : Verdict::kAfterExpiry;
    return out;
  }
  const GrantChain* first = nullptr;
  for (const GrantChain* g : candidates) {
    if (!first || g->start_ns < first->start_ns ||
        (g->start_ns == first->start_ns && g->correlation_key < first->correlation_key)) {
      first = g;
    }
  }
  out.grant = first->correlation_key;
  out.verdict = Verdict::kBeforeGrant;
  return out;
}

Result<std::optional<IdentityInfo>> LoadIdentity(store::Store& store, const std::string& key) {
  NHI_ASSIGN_OR_RETURN(auto row, store.GetIdentityKey(key));
  if (!row) return std::optional<IdentityInfo>();
  IdentityInfo info;
  info.canonical = row->canonical;
  NHI_ASSIGN_OR_RETURN(std::vector<store::IdentityKeyRow> keys,
                       store.ListGroupKeys(row->canonical));
  info.first_seen_ns = INT64_MAX;
  info.last_seen_ns = INT64_MIN;
  IdentityFacts facts;  // the latest statement of each fact about any key of the identity
  for (auto& k : keys) {
    IdentityKeyInfo ki;
    NHI_ASSIGN_OR_RETURN(ki.links, store.ListLinks(k.key));
    info.first_seen_ns = std::min(info.first_seen_ns, k.first_seen_ns);
    info.last_seen_ns = std::max(info.last_seen_ns, k.last_seen_ns);
    if (k.last_action_ns) {
      info.last_action_ns = std::max(info.last_action_ns.value_or(INT64_MIN), *k.last_action_ns);
    }
    info.event_count += k.event_count;
    info.action_count += k.action_count;
    NHI_ASSIGN_OR_RETURN(IdentityFacts kf, IdentityFacts::FromRow(k));
    facts.Merge(kf);
    ki.row = std::move(k);
    info.keys.push_back(std::move(ki));
  }
  info.kind = facts.get(IdentityFacts::kKind).value;
  info.name = facts.get(IdentityFacts::kName).value;
  info.owner = facts.get(IdentityFacts::kOwner).value;
  info.sponsor = facts.get(IdentityFacts::kSponsor).value;
  info.system = facts.get(IdentityFacts::kSystem).value;
  return std::optional<IdentityInfo>(std::move(info));
}

namespace {

// Loads every grant of the identity's keys and every action of them, and attributes the
// actions. `only` (may be empty) restricts the returned grants to one correlation key.
Status TraceIdentity(store::Store& store, const IdentityInfo& identity, const std::string& only,
                     Trace* out) {
  std::map<std::string, GrantChain> chains;
  for (const auto& k : identity.keys) {
    NHI_ASSIGN_OR_RETURN(std::vector<store::GrantRow> rows, store.ListGrantsForKey(k.row.key));
    for (const auto& g : rows) {
      if (chains.count(g.correlation_key)) continue;
      NHI_ASSIGN_OR_RETURN(GrantChain c, LoadChain(store, g.correlation_key));
      chains.emplace(g.correlation_key, std::move(c));
    }
  }
  if (!only.empty() && !chains.count(only)) {
    NHI_ASSIGN_OR_RETURN(GrantChain c, LoadChain(store, only));
    chains.emplace(only, std::move(c));
  }
  std::vector<const GrantChain*> grants;
  std::map<std::string, size_t> index;
  for (auto& [ck, chain] : chains) {
    grants.push_back(&chain);
    if (only.empty() || ck == only) {
      index[ck] = out->grants.size();
      GrantTrace gt;
      gt.chain = chain;
      out->grants.push_back(std::move(gt));
    }
  }
  // The actions table has what attribution reads (no leaf is decoded for it); an exception that
  // may be listed, which shows the whole event, is decoded in full.
  ActionReader reader;
  for (const auto& k : identity.keys) {
    NHI_RETURN_IF_ERROR(store.ScanActionsOfIdentity(
        k.row.key, std::nullopt, std::nullopt, [&](const store::ActionRow& row) -> Status {
          NHI_ASSIGN_OR_RETURN(ChainEvent ce, reader.Read(row));
          AttributedAction a = Attribute(std::move(ce), grants);
          ActionSummary* s = nullptr;
          if (a.verdict == Verdict::kNoGrant) {
            if (only.empty()) s = &out->unattributed;
          } else if (auto it = index.find(a.grant); it != index.end()) {
            s = &out->grants[it->second].actions;
          }
          if (s == nullptr) return OkStatus();
          if (a.verdict != Verdict::kCovered && MayKeep(*s, row.time_ns)) {
            NHI_ASSIGN_OR_RETURN(auto ev, store.GetEvent(row.seq));
            if (!ev) return DataLossError("action " + std::to_string(row.seq) + " is missing");
            NHI_ASSIGN_OR_RETURN(a.action, DecodeEventRow(*ev));
          }
          Count(*s, std::move(a));
          return OkStatus();
        }));
  }
  return OkStatus();
}

// The events of a chain, chronological.
Status LoadChainEvents(store::Store& store, GrantTrace* gt) {
  std::vector<uint64_t> seqs;
  const GrantChain& c = gt->chain;
  for (const auto* list :
       {&c.requested, &c.approved, &c.denied, &c.provisioned, &c.provision_failed, &c.rotated,
        &c.revoked, &c.expired, &c.reconciled, &c.other}) {
    seqs.insert(seqs.end(), list->begin(), list->end());
  }
  for (uint64_t seq : seqs) {
    NHI_ASSIGN_OR_RETURN(auto row, store.GetEvent(seq));
    if (!row) return DataLossError("event " + std::to_string(seq) + " of a chain is missing");
    NHI_ASSIGN_OR_RETURN(ChainEvent ce, DecodeEventRow(*row));
    gt->events.push_back(std::move(ce));
  }
  std::sort(gt->events.begin(), gt->events.end(), ChronologicalLess);
  return OkStatus();
}

}  // namespace

Result<Trace> BuildTrace(store::Store& store, const TraceQuery& query) {
  Trace t;
  t.query = query;
  std::string request = query.request;
  std::string identity_key = query.identity;
  if (query.event) {
    NHI_ASSIGN_OR_RETURN(auto row, store.GetEvent(*query.event));
    if (!row) return NotFoundError("no event with seq " + std::to_string(*query.event));
    NHI_ASSIGN_OR_RETURN(ChainEvent ce, DecodeEventRow(*row));
    request = ce.event.correlation_key;
    identity_key = ce.event.identity;
    t.event = std::move(ce);
  }
  if (!request.empty()) {
    NHI_ASSIGN_OR_RETURN(GrantChain chain, LoadChain(store, request));
    bool any = !chain.requested.empty() || !chain.approved.empty() || !chain.denied.empty() ||
               !chain.provisioned.empty() || !chain.provision_failed.empty() ||
               !chain.revoked.empty() || !chain.expired.empty() || !chain.reconciled.empty() ||
               !chain.rotated.empty() || !chain.other.empty();
    if (!any) return NotFoundError("no events with request id \"" + request + "\"");
    if (!chain.identity.empty()) {
      NHI_ASSIGN_OR_RETURN(t.identity, LoadIdentity(store, chain.identity));
    }
    if (t.identity) {
      NHI_RETURN_IF_ERROR(TraceIdentity(store, *t.identity, request, &t));
    } else {
      GrantTrace gt;
      gt.chain = std::move(chain);
      t.grants.push_back(std::move(gt));
    }
  } else if (!identity_key.empty()) {
    NHI_ASSIGN_OR_RETURN(t.identity, LoadIdentity(store, identity_key));
    if (!t.identity) return NotFoundError("no identity with key \"" + identity_key + "\"");
    NHI_RETURN_IF_ERROR(TraceIdentity(store, *t.identity, "", &t));
  } else if (!query.event) {
    return InvalidArgumentError("a trace needs a request id, an identity key or an event");
  }
  for (auto& gt : t.grants) NHI_RETURN_IF_ERROR(LoadChainEvents(store, &gt));
  return t;
}

namespace {

void Time(json::JsonWriter& w, std::string_view key, int64_t ns) {
  w.Key(key);
  if (ns == INT64_MIN || ns == INT64_MAX) {
    w.Null();
  } else {
    w.String(FormatRfc3339Utc(ns, 6));
  }
}

void OptString(json::JsonWriter& w, std::string_view key, const std::string& v) {
  w.Key(key);
  if (v.empty()) {
    w.Null();
  } else {
    w.String(v);
  }
}

void WriteEvent(json::JsonWriter& w, const ChainEvent& ce) {
  const event::Event& e = ce.event;
  w.BeginObject();
  w.Key("actor");
  if (e.actor) {
    w.BeginObject().Key("id").String(e.actor->id);
    OptString(w, "type", e.actor->type);
    w.EndObject();
  } else {
    w.Null();
  }
  w.Key("delegation");
  if (e.delegation) {
    w.BeginObject();
    OptString(w, "agent_instance", e.delegation->agent_instance);
    OptString(w, "credential", e.delegation->credential);
    OptString(w, "sponsor", e.delegation->sponsor);
    OptString(w, "tool_call", e.delegation->tool_call);
    w.EndObject();
  } else {
    w.Null();
  }
  OptString(w, "identity", e.identity);
  w.Key("kind").String(event::KindName(e.kind));
  w.Key("outcome");
  if (e.outcome) {
    w.BeginObject();
    OptString(w, "code", e.outcome->code);
    w.Key("result").String(e.outcome->result);
    w.EndObject();
  } else {
    w.Null();
  }
  OptString(w, "rationale", e.rationale);
  w.Key("seq").Uint(ce.seq);
  w.Key("source").BeginObject();
  w.Key("event_id").String(e.source_event_id);
  w.Key("system").String(e.source_system);
  w.EndObject();
  w.Key("time").String(e.time);
  Time(w, "time_utc", e.time_ns);
  w.EndObject();
}

void WriteSummary(json::JsonWriter& w, const ActionSummary& s) {
  w.BeginObject();
  w.Key("after_expiry").Uint(s.after_expiry);
  w.Key("after_revocation").Uint(s.after_revocation);
  w.Key("before_grant").Uint(s.before_grant);
  w.Key("count").Uint(s.count);
  w.Key("covered").Uint(s.covered);
  w.Key("delegated").Uint(s.delegated);
  w.Key("exceptions").BeginArray();
  for (const auto& a : s.exceptions) {
    w.BeginObject();
    w.Key("event");
    WriteEvent(w, a.action);
    OptString(w, "grant", a.grant);
    w.Key("uncovered").BeginArray();
    for (const auto& u : a.uncovered) w.String(u);
    w.EndArray();
    w.Key("verdict").String(VerdictName(a.verdict));
    w.EndObject();
  }
  w.EndArray();
  w.Key("exceptions_omitted").Uint(s.exceptions_omitted);
  Time(w, "first", s.count ? s.first_ns : INT64_MIN);
  Time(w, "last", s.count ? s.last_ns : INT64_MIN);
  w.Key("no_grant").Uint(s.no_grant);
  w.Key("out_of_scope").Uint(s.out_of_scope);
  w.EndObject();
}

}  // namespace

std::string TraceToJson(const Trace& t) {
  json::JsonWriter w;
  w.BeginObject();
  w.Key("event");
  if (t.event) {
    WriteEvent(w, *t.event);
  } else {
    w.Null();
  }
  w.Key("grants").BeginArray();
  for (const auto& g : t.grants) {
    w.BeginObject();
    w.Key("actions");
    WriteSummary(w, g.actions);
    w.Key("chain").Raw(ChainToJson(g.chain));
    w.Key("events").BeginArray();
    for (const auto& e : g.events) WriteEvent(w, e);
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.Key("identity");
  if (t.identity) {
    const IdentityInfo& id = *t.identity;
    w.BeginObject();
    w.Key("action_count").Uint(id.action_count);
    w.Key("canonical").String(id.canonical);
    w.Key("event_count").Uint(id.event_count);
    Time(w, "first_seen", id.first_seen_ns);
    w.Key("keys").BeginArray();
    for (const auto& k : id.keys) {
      w.BeginObject();
      w.Key("key").String(k.row.key);
      Time(w, "first_seen", k.row.first_seen_ns);
      Time(w, "last_seen", k.row.last_seen_ns);
      w.Key("links").BeginArray();
      for (const auto& l : k.links) {
        w.BeginObject();
        w.Key("other").String(l.key_a == k.row.key ? l.key_b : l.key_a);
        w.Key("seq").Uint(l.seq);
        w.EndObject();
      }
      w.EndArray();
      w.EndObject();
    }
    w.EndArray();
    OptString(w, "kind", id.kind);
    Time(w, "last_action", id.last_action_ns.value_or(INT64_MIN));
    Time(w, "last_seen", id.last_seen_ns);
    OptString(w, "name", id.name);
    OptString(w, "owner", id.owner);
    OptString(w, "sponsor", id.sponsor);
    OptString(w, "system", id.system);
    w.EndObject();
  } else {
    w.Null();
  }
  w.Key("query").BeginObject();
  w.Key("event");
  if (t.query.event) {
    w.Uint(*t.query.event);
  } else {
    w.Null();
  }
  OptString(w, "identity", t.query.identity);
  OptString(w, "request", t.query.request);
  w.EndObject();
  w.Key("trace_version").Int(1);
  w.Key("unattributed");
  WriteSummary(w, t.unattributed);
  w.EndObject();
  return w.Take();
}

Status ForEachAttributedAction(
    store::Store& store, const IdentityInfo& identity, std::optional<int64_t> from_ns,
    std::optional<int64_t> to_ns,
    const std::function<Status(const AttributedAction&, const GrantChain*)>& fn) {
  std::map<std::string, GrantChain> chains;
  for (const auto& k : identity.keys) {
    NHI_ASSIGN_OR_RETURN(std::vector<store::GrantRow> rows, store.ListGrantsForKey(k.row.key));
    for (const auto& g : rows) {
      if (chains.count(g.correlation_key)) continue;
      NHI_ASSIGN_OR_RETURN(GrantChain c, LoadChain(store, g.correlation_key));
      chains.emplace(g.correlation_key, std::move(c));
    }
  }
  std::vector<const GrantChain*> grants;
  for (const auto& [ck, chain] : chains) grants.push_back(&chain);
  ActionReader reader;
  for (const auto& k : identity.keys) {
    NHI_RETURN_IF_ERROR(store.ScanActionsOfIdentity(
        k.row.key, from_ns, to_ns, [&](const store::ActionRow& row) -> Status {
          NHI_ASSIGN_OR_RETURN(ChainEvent ce, reader.Read(row));
          AttributedAction a = Attribute(std::move(ce), grants);
          auto it = chains.find(a.grant);
          return fn(a, it == chains.end() ? nullptr : &it->second);
        }));
  }
  return OkStatus();
}

}  // namespace nhitrace::correlate
