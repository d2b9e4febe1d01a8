#include "reconcile/case_link.h"

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <tuple>

#include "cases/session.h"

namespace nhitrace::reconcile {
namespace {

using cases::FindingCaseOutcome;

// The severity a case opened by `f` gets: the rule's severity in cases.findings.rules, else the
// finding's.
cases::Severity CaseSeverityOf(const cases::PolicyContext& pc, const Finding& f) {
  if (auto it = pc.cases.finding_rules.find(f.rule_id);
      it != pc.cases.finding_rules.end() && it->second.severity) {
    return *it->second.severity;
  }
  return cases::ParseSeverity(policy::SeverityName(f.severity)).value_or(cases::Severity::kMedium);
}

struct Item {
  Finding finding;
  bool changed = false;  // a revision appended by this pass (not a catch-up)
};

}  // namespace

Result<cases::PolicyContext> CasePolicyContext(const policy::Policy& p) {
  cases::PolicyContext c;
  c.ref = p.Ref();
  auto parsed = cases::ParseCasePolicy(p.cases_json, p.escalation_json);
  if (!parsed.ok()) {
    return InvalidArgumentError("policy " + p.id + " version " + std::to_string(p.version) +
                                ": cases section: " + parsed.status().message());
  }
  c.cases = std::move(parsed).value();
  c.segregation_of_duties = p.approvals.segregation_of_duties;
  c.override_requires_control_owner = p.approvals.override_requires_control_owner;
  for (const auto& role : p.approvals.control_owner_roles) {
    auto it = p.approvals.roles.find(role);
    if (it == p.approvals.roles.end()) continue;
    c.control_owners.insert(c.control_owners.end(), it->second.begin(), it->second.end());
  }
  std::sort(c.control_owners.begin(), c.control_owners.end());
  c.control_owners.erase(std::unique(c.control_owners.begin(), c.control_owners.end()),
                         c.control_owners.end());
  return c;
}

Result<cases::PolicyContext> LatestCasePolicyContext(store::Store& store) {
  auto p = policy::LoadPolicy(store, std::nullopt);
  if (!p.ok()) {
    if (p.status().code() == StatusCode::kNotFound) return cases::PolicyContext{};
    return p.status();
  }
  return CasePolicyContext(*p);
}

Status LinkFindingsToCases(const CaseLinkTarget& t, const std::vector<Finding>& changes,
                           bool catch_up, CaseLinkStats* stats) {
  cases::BatchEventWriter writer(t.batch);
  cases::CaseSession session(t.store, t.projection, writer, {&t.clock, t.policy, nullptr});
  const cases::ActorRef system{cases::kSystemActor, "system"};
  const cases::JoinOn join_on = t.policy.cases.join_on;
  const bool by_identity =
      join_on == cases::JoinOn::kIdentity || join_on == cases::JoinOn::kIdentityOrCorrelationKey;
  const bool by_chain = join_on == cases::JoinOn::kCorrelationKey ||
                        join_on == cases::JoinOn::kIdentityOrCorrelationKey;

  std::set<std::string> seen;  // findings handled (or queued) in this call
  std::vector<Item> todo;
  std::vector<const Finding*> resolved;
  for (const Finding& f : changes) {
    if (!seen.insert(f.id).second) continue;
    if (f.status == "resolved") {
      resolved.push_back(&f);
    } else {
      todo.push_back({f, true});
    }
  }

  // The open findings as the store holds them now (this batch's revisions included).
  std::optional<std::vector<Finding>> open;
  auto load_open = [&]() -> Status {
    if (open) return OkStatus();
    store::FindingQuery q;
    q.status = "open";
    NHI_ASSIGN_OR_RETURN(auto rows, t.store.QueryFindings(q));
    open.emplace();
    open->reserve(rows.size());
    for (const auto& row : rows) {
      auto f = FromAttributes(row.doc);
      if (!f.ok()) return f.status().WithContext("finding " + row.id);
      open->push_back(std::move(f).value());
    }
    return OkStatus();
  };
  if (catch_up) {
    NHI_RETURN_IF_ERROR(load_open());
    for (const Finding& f : *open) {
      if (seen.insert(f.id).second) todo.push_back({f, false});
    }
  }

  auto order = [&](const Item& a, const Item& b) {
    return std::make_tuple(-static_cast<int>(CaseSeverityOf(t.policy, a.finding)),
                           a.finding.first_seen_ns, std::cref(a.finding.id)) <
           std::make_tuple(-static_cast<int>(CaseSeverityOf(t.policy, b.finding)),
                           b.finding.first_seen_ns, std::cref(b.finding.id));
  };

  std::set<std::string> opened_identities, opened_chains;  // of cases opened by this call
  auto handle = [&](const Item& item) -> Status {
    const Finding& f = item.finding;
    cases::FindingInput in;
    in.finding_id = f.id;
    in.rule_id = f.rule_id;
    in.severity = std::string(policy::SeverityName(f.severity));
    in.identity = f.identity;
    in.correlation_key = f.correlation_key;
    in.evidence_seqs = f.evidence;
    NHI_ASSIGN_OR_RETURN(FindingCaseOutcome o, cases::OpenOrJoinForFinding(session, in));
    switch (o.action) {
      case FindingCaseOutcome::Action::kOpened:
        ++stats->opened;
        if (by_identity && !f.identity.empty()) opened_identities.insert(f.identity);
        if (by_chain && !f.correlation_key.empty()) opened_chains.insert(f.correlation_key);
        break;
      case FindingCaseOutcome::Action::kReopened:
        ++stats->reopened;
        [[fallthrough]];
      case FindingCaseOutcome::Action::kJoined: {
        ++stats->joined;
        const cases::Severity want = CaseSeverityOf(t.policy, f);
        if (!o.ops.empty() && o.ops.back().view.severity < want) {
          NHI_ASSIGN_OR_RETURN(
              cases::OpResult r,
              session.Set(o.case_id, want, "", system,
                          "finding " + f.id + " (rule " + f.rule_id + ", severity " +
                              std::string(cases::SeverityName(want)) + ") joined the case"));
          (void)r;
          ++stats->raised;
        }
        break;
      }
      case FindingCaseOutcome::Action::kUnchanged:
        // Open again with the evidence the case already has: say so on the case.
        if (item.changed && f.status == "open" && f.revision > 1 && o.case_id != 0) {
          NHI_ASSIGN_OR_RETURN(cases::OpResult r,
                               session.Comment(o.case_id,
                                               "finding " + f.id + " (rule " + f.rule_id +
                                                   ") is open again: " + f.message,
                                               system));
          (void)r;
          ++stats->noted;
        }
        break;
      case FindingCaseOutcome::Action::kNotOpened:
        break;
    }
    return OkStatus();
  };

  std::sort(todo.begin(), todo.end(), order);
  for (const Item& item : todo) NHI_RETURN_IF_ERROR(handle(item));

  // Open findings of the subject of a case just opened, on no case yet (a finding below the
  // severity that opens cases, seen before the one that opened this case), join it.
  while (!opened_identities.empty() || !opened_chains.empty()) {
    NHI_RETURN_IF_ERROR(load_open());
    std::vector<Item> joiners;
    for (const Finding& f : *open) {
      if (seen.count(f.id)) continue;
      if (!opened_identities.count(f.identity) && !opened_chains.count(f.correlation_key)) {
        continue;
      }
      NHI_ASSIGN_OR_RETURN(auto on, t.store.FindCasesByLink("finding", f.id));
      if (!on.empty()) continue;
      seen.insert(f.id);
      joiners.push_back({f, false});
    }
    opened_identities.clear();
    opened_chains.clear();
    std::sort(joiners.begin(), joiners.end(), order);
    for (const Item& item : joiners) NHI_RETURN_IF_ERROR(handle(item));
  }

  for (const Finding* f : resolved) {
    NHI_ASSIGN_OR_RETURN(auto on, t.store.FindCasesByLink("finding", f->id));
    if (on.empty()) continue;
    NHI_ASSIGN_OR_RETURN(
        cases::OpResult r,
        session.Comment(
            on.back(), "finding " + f->id + " (rule " + f->rule_id + ") resolved: " + f->resolution,
            system));
    (void)r;
    ++stats->noted;
  }
  return OkStatus();
}

}  // namespace nhitrace::reconcile
