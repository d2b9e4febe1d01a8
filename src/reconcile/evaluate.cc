#include "reconcile/evaluate.h"

#include <algorithm>
#include <map>
#include <set>

#include "correlate/action_row.h"
#include "correlate/derived_state.h"
#include "correlate/identity_facts.h"
#include "correlate/trace.h"
#include "event/codec.h"
#include "json/dom.h"
#include "reconcile/internal/chain_row.h"

namespace nhitrace::reconcile {
namespace {

constexpr std::string_view kGroup = "group:", kGrant = "grant:", kApprover = "approver:";

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// The rules that run, with their settings.
struct Active {
  const ReconcileRule* rule;
  const policy::RuleSettings* settings;
  FindingSink sink;
};

class Evaluation {
 public:
  Evaluation(store::Store& store, const policy::Policy& policy, int64_t as_of,
             const ReconcileRule* only)
      : store_(store), policy_(policy), as_of_(as_of) {
    for (const ReconcileRule* r : AllRules()) {
      if (only && r != only) continue;
      const policy::RuleSettings& s = policy.Rule(r->info().id);
      if (!s.enabled) continue;
      active_.push_back({r, &s, {}});
      active_.back().sink.set_as_of(as_of);
    }
  }

  Result<UnitResult> Run(const std::string& unit) {
    result_.unit = unit;
    if (StartsWith(unit, kGroup)) {
      NHI_RETURN_IF_ERROR(Group(unit.substr(kGroup.size())));
    } else if (StartsWith(unit, kGrant)) {
      NHI_RETURN_IF_ERROR(Grant(unit.substr(kGrant.size())));
    } else if (StartsWith(unit, kApprover)) {
      view_.kind = UnitView::Kind::kApprover;
      view_.approver = unit.substr(kApprover.size());
      store::DecisionQuery q;
      q.actor = view_.approver;
      NHI_ASSIGN_OR_RETURN(view_.approver_decisions, store_.ListDecisions(q));
      result_.subjects.push_back({SubjectType::kApprover, view_.approver});
    } else {
      return InvalidArgumentError("not an evaluation unit: \"" + unit + "\"");
    }
    view_.name = result_.unit;
    for (Active& a : active_) {
      a.rule->Finish(RuleContext{policy_, *a.settings, as_of_}, view_, &a.sink);
      for (auto& [key, hit] : a.sink.hits()) result_.hits.push_back({a.rule, std::move(hit)});
      if (auto r = a.sink.recheck(); r && (!result_.recheck || *r < *result_.recheck)) {
        result_.recheck = r;
      }
    }
    return std::move(result_);
  }

 private:
  Status Grant(const std::string& ck) {
    NHI_ASSIGN_OR_RETURN(auto row, store_.GetGrant(ck));
    if (row && !row->identity_key.empty()) {
      NHI_ASSIGN_OR_RETURN(auto key, store_.GetIdentityKey(row->identity_key));
      if (key) return Group(key->canonical);  // the grant belongs to an identity now
    }
    view_.kind = UnitView::Kind::kGrant;
    result_.unit = std::string(kGrant) + ck;
    if (row) {
      NHI_ASSIGN_OR_RETURN(GrantView g, LoadGrant(*row));
      view_.grants.push_back(std::move(g));
    } else {
      GrantView g;
      g.stored = false;
      g.chain.correlation_key = ck;
      store::DecisionQuery q;
      q.correlation_key = ck;
      NHI_ASSIGN_OR_RETURN(g.decisions, store_.ListDecisions(q));
      view_.grants.push_back(std::move(g));
    }
    result_.subjects.push_back({SubjectType::kGrant, ck});
    return OkStatus();
  }

  Status Group(const std::string& name) {
    view_.kind = UnitView::Kind::kGroup;
    NHI_ASSIGN_OR_RETURN(auto named, store_.GetIdentityKey(name));
    std::string canonical = named ? named->canonical : name;
    result_.unit = std::string(kGroup) + canonical;
    IdentityView id;
    id.canonical = canonical;
    std::vector<store::IdentityKeyRow> rows;
    if (named) {
      NHI_ASSIGN_OR_RETURN(rows, store_.ListGroupKeys(canonical));
    }
    correlate::IdentityFacts facts;
    std::vector<std::string> keys;
    for (auto& r : rows) {
      NHI_ASSIGN_OR_RETURN(correlate::IdentityFacts f, correlate::IdentityFacts::FromRow(r));
      facts.Merge(f);
      id.first_seen_ns = std::min(id.first_seen_ns, r.first_seen_ns);
      keys.push_back(r.key);
      id.keys.push_back(KeyView{std::move(r), {}});
    }
    if (keys.empty()) keys.push_back(canonical);  // named only by nhitrace's own decisions
    id.kind = facts.get(correlate::IdentityFacts::kKind).value;
    id.owner = facts.get(correlate::IdentityFacts::kOwner).value;
    id.sponsor = facts.get(correlate::IdentityFacts::kSponsor).value;

    // The events of every key but its actions, decoded once: the rules read them, and so do
    // the key's grants (LoadGrant), whose chains mostly consist of them.
    auto seen = [&id](EvidenceRef ref) {
      if (!id.first_event || ref < *id.first_event) id.first_event = ref;
    };
    known_.clear();
    for (KeyView& kv : id.keys) {
      NHI_RETURN_IF_ERROR(
          store_.ScanEventsOfIdentity(kv.row.key, [&](const store::EventRow& row) -> Status {
            NHI_ASSIGN_OR_RETURN(event::DecodedLeaf d, Decode(row.leaf));
            seen(EvidenceRef{d.event.time_ns, row.seq});
            kv.events.push_back(correlate::ChainEvent{row.seq, std::move(d.event)});
            return OkStatus();
          }));
      std::sort(kv.events.begin(), kv.events.end(), correlate::ChronologicalLess);
      for (const correlate::ChainEvent& ce : kv.events) known_.emplace(ce.seq, &ce);
    }

    // Grants of every key, and the decisions naming the keys.
    std::set<uint64_t> decision_seqs;
    for (const std::string& k : keys) {
      NHI_ASSIGN_OR_RETURN(auto grant_rows, store_.ListGrantsForKey(k));
      for (const auto& gr : grant_rows) {
        NHI_ASSIGN_OR_RETURN(GrantView g, LoadGrant(gr));
        view_.grants.push_back(std::move(g));
      }
      store::DecisionQuery q;
      q.identity_key = k;
      NHI_ASSIGN_OR_RETURN(auto ds, store_.ListDecisions(q));
      for (auto& d : ds) {
        if (decision_seqs.insert(d.seq).second) id.decisions.push_back(std::move(d));
      }
    }
    std::sort(view_.grants.begin(), view_.grants.end(), [](const auto& a, const auto& b) {
      return a.chain.correlation_key < b.chain.correlation_key;
    });
    for (const std::string& k : keys) {
      result_.subjects.push_back({SubjectType::kIdentity, k});
      result_.subjects.push_back({SubjectType::kCredential, k});
    }
    for (const GrantView& g : view_.grants) {
      result_.subjects.push_back({SubjectType::kGrant, g.chain.correlation_key});
    }
    known_.clear();
    view_.identity = std::move(id);

    // Every action of every key, read from the actions table (no leaf is decoded), attributed
    // and handed to the rules as they stream by (an identity may have millions).
    std::vector<const correlate::GrantChain*> chains;
    std::map<std::string, const GrantView*, std::less<>> by_ck;
    for (const GrantView& g : view_.grants) {
      chains.push_back(&g.chain);
      by_ck[g.chain.correlation_key] = &g;
    }
    std::vector<Active*> action_rules;
    for (Active& a : active_) {
      if (a.rule->wants_actions()) action_rules.push_back(&a);
    }
    IdentityView& idv = *view_.identity;
    for (KeyView& kv : idv.keys) {
      NHI_RETURN_IF_ERROR(store_.ScanActionsOfIdentity(
          kv.row.key, std::nullopt, std::nullopt, [&](const store::ActionRow& row) -> Status {
            const EvidenceRef ref{row.time_ns, row.seq};
            if (!idv.first_event || ref < *idv.first_event) idv.first_event = ref;
            ++result_.actions;
            ++idv.actions;
            if (!idv.last_action || *idv.last_action < ref) idv.last_action = ref;
            if (action_rules.empty()) return OkStatus();
            NHI_ASSIGN_OR_RETURN(correlate::ChainEvent ce, actions_.Read(row));
            correlate::AttributedAction aa = correlate::Attribute(std::move(ce), chains);
            ActionVerdict v;
            v.action = &aa.action;
            v.verdict = aa.verdict;
            auto it = by_ck.find(aa.grant);
            v.grant = it == by_ck.end() ? nullptr : it->second;
            v.failed = row.failed;
            v.uncovered = &aa.uncovered;
            for (Active* a : action_rules) {
              a->rule->OnAction(RuleContext{policy_, *a->settings, as_of_}, view_, v, &a->sink);
            }
            return OkStatus();
          }));
    }
    return OkStatus();
  }

  // The grant of a stored row, with the events its stages name and its decisions. Events
  // already decoded for this unit (known_) are copied, not read again.
  Result<GrantView> LoadGrant(const store::GrantRow& row) {
    GrantView g;
    NHI_ASSIGN_OR_RETURN(g.chain, internal::ChainFromRow(row));
    const correlate::GrantChain& c = g.chain;
    for (const auto* list :
         {&c.requested, &c.approved, &c.denied, &c.provisioned, &c.provision_failed, &c.rotated,
          &c.revoked, &c.expired, &c.reconciled, &c.other}) {
      for (uint64_t seq : *list) {
        if (auto it = known_.find(seq); it != known_.end()) {
          g.events.emplace(seq, *it->second);
          continue;
        }
        NHI_ASSIGN_OR_RETURN(auto ev, store_.GetEvent(seq));
        if (!ev) return DataLossError("event " + std::to_string(seq) + " of a chain is missing");
        NHI_ASSIGN_OR_RETURN(event::DecodedLeaf d, Decode(ev->leaf));
        g.events.emplace(seq, correlate::ChainEvent{seq, std::move(d.event)});
      }
    }
    store::DecisionQuery q;
    q.correlation_key = row.correlation_key;
    NHI_ASSIGN_OR_RETURN(g.decisions, store_.ListDecisions(q));
    return g;
  }

  // Stored leaves were checked when appended (and by `verify`): decode without re-encoding each
  // one, with one parser for the whole evaluation.
  Result<event::DecodedLeaf> Decode(std::string_view leaf) {
    return event::DecodeLeaf(leaf, parser_, /*check_canonical=*/false);
  }

  store::Store& store_;
  const policy::Policy& policy_;
  int64_t as_of_;
  simdjson::dom::parser parser_;
  correlate::ActionReader actions_;
  std::map<uint64_t, const correlate::ChainEvent*> known_;  // the unit's decoded events (Group)
  std::vector<Active> active_;
  UnitView view_;
  UnitResult result_;
};

}  // namespace

Result<std::string> UnitOfKey(store::Store& store, const std::string& key) {
  NHI_ASSIGN_OR_RETURN(auto row, store.GetIdentityKey(key));
  return std::string(kGroup) + (row ? row->canonical : key);
}

Result<std::string> UnitOfGrant(store::Store& store, const std::string& correlation_key) {
  NHI_ASSIGN_OR_RETURN(auto row, store.GetGrant(correlation_key));
  if (row) return UnitOfGrant(store, *row);
  return std::string(kGrant) + correlation_key;
}

Result<std::string> UnitOfGrant(store::Store& store, const store::GrantRow& row) {
  if (!row.identity_key.empty()) {
    NHI_ASSIGN_OR_RETURN(auto key, store.GetIdentityKey(row.identity_key));
    if (key) return std::string(kGroup) + key->canonical;
  }
  return std::string(kGrant) + row.correlation_key;
}

Result<UnitResult> EvaluateUnit(store::Store& store, const policy::Policy& policy,
                                const std::string& unit, int64_t as_of,
                                const ReconcileRule* only_rule) {
  Evaluation e(store, policy, as_of, only_rule);
  return e.Run(unit);
}

}  // namespace nhitrace::reconcile
