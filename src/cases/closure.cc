#include "cases/closure.h"

#include <algorithm>

#include "base/time.h"
#include "event/codec.h"

namespace nhitrace::cases {
namespace {

constexpr size_t kNoLimit = SIZE_MAX >> 1;

std::string Ts(int64_t ns) { return FormatRfc3339Utc(ns, 0); }

// Whether the event at `row` reports success (no outcome counts as success, as in the grant
// chains of correlate/).
Result<bool> Succeeded(const store::EventRow& row) {
  auto leaf = event::DecodeLeaf(row.leaf);
  if (!leaf.ok()) return leaf.status().WithContext("event " + std::to_string(row.seq));
  const auto& o = leaf->event.outcome;
  return !o || o->result != "failure";
}

std::string JoinIds(const std::vector<std::string>& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + v[i];
  return out;
}

CriterionResult OwnerAssigned(const CaseView& v) {
  if (v.owner.empty()) return {"owner_assigned", false, "no owner is assigned (case assign)", {}};
  return {"owner_assigned", true, "owner " + v.owner, {}};
}

CriterionResult DecisionRecorded(const CaseView& v) {
  for (auto it = v.decisions.rbegin(); it != v.decisions.rend(); ++it) {
    if (it->status == "effective") {
      return {"decision_recorded",
              true,
              "decision " + std::to_string(it->id) + " (" + std::string(OutcomeName(it->outcome)) +
                  " by " + it->at.actor + ")",
              {it->at.seq}};
    }
  }
  return {"decision_recorded",
          false,
          v.decisions.empty() ? "no decision is recorded (case decide)"
                              : "no decision is in effect (overridden, expired or awaiting a "
                                "risk acceptance)",
          {}};
}

CriterionResult TasksDone(const CaseView& v) {
  std::vector<std::string> open;
  for (const Task& t : v.tasks) {
    if (t.status == "open") open.push_back(std::to_string(t.id) + " \"" + t.title + "\"");
  }
  if (open.empty()) {
    return {"tasks_done", true, std::to_string(v.tasks.size()) + " task(s), none open", {}};
  }
  return {"tasks_done", false, "open task(s): " + JoinIds(open), {}};
}

CriterionResult OverridesRiskAccepted(const CaseView& v) {
  std::vector<std::string> waiting;
  std::vector<uint64_t> evidence;
  for (const Decision& d : v.decisions) {
    if (d.control_owner.empty()) continue;
    if (d.risk) {
      evidence.push_back(d.risk->at.seq);
    } else {
      waiting.push_back("decision " + std::to_string(d.id) + " (" +
                        std::string(OutcomeName(d.outcome)) + " by " + d.at.actor +
                        ") awaits the risk acceptance of control owner " + d.control_owner +
                        " (case accept-risk)");
    }
  }
  if (!waiting.empty()) return {"overrides_risk_accepted", false, JoinIds(waiting), {}};
  return {"overrides_risk_accepted", true,
          evidence.empty() ? "no override needs a risk acceptance"
                           : std::to_string(evidence.size()) + " risk acceptance(s) on record",
          evidence};
}

CriterionResult IdentityLinked(const CaseView& v) {
  auto ids = v.links_of("identity");
  if (ids.empty()) {
    return {"identity_linked", false, "no identity is linked (case link --identity KEY)", {}};
  }
  return {"identity_linked", true, "linked: " + JoinIds(ids), {}};
}

CriterionResult VerificationPassed(const CaseView& v) {
  if (v.verifications.empty()) {
    return {"verification_passed", false, "no verification is recorded (case verify)", {}};
  }
  const Verification& last = v.verifications.back();
  if (last.result != "passed") {
    return {
        "verification_passed",
        false,
        "the latest verification (by " + last.at.actor + " at " + Ts(last.at.time_ns) + ") failed",
        {}};
  }
  std::vector<uint64_t> ev = last.evidence;
  ev.insert(ev.begin(), last.at.seq);
  return {"verification_passed", true,
          "verified by " + last.at.actor + " at " + Ts(last.at.time_ns), ev};
}

CriterionResult SupportTrailComplete(const CaseView& v) {
  std::vector<std::string> missing;
  const SupportTrail& s = v.support;
  if (s.reporter.value.empty()) missing.push_back("reporter");
  if (s.channel.value.empty()) missing.push_back("channel");
  if (s.affected_identity.value.empty()) missing.push_back("affected identity");
  if (s.entitlement_diff.value.empty()) missing.push_back("entitlement diff");
  if (s.approved_change.value.empty()) missing.push_back("approved change");
  if (s.remediation.value.empty()) missing.push_back("remediation");
  if (!missing.empty()) {
    return {"support_trail",
            false,
            "missing from the support trail: " + JoinIds(missing) + " (case support)",
            {}};
  }
  return {"support_trail",
          true,
          "reported by " + s.reporter.value + " via " + s.channel.value + "; change " +
              s.approved_change.value,
          {s.reporter.at.seq, s.entitlement_diff.at.seq, s.approved_change.at.seq,
           s.remediation.at.seq}};
}

CriterionResult ExceptionActive(const CaseView& v, int64_t now) {
  for (auto it = v.decisions.rbegin(); it != v.decisions.rend(); ++it) {
    if (it->exception && it->exception->status == "active" && it->exception->expires_ns > now) {
      return {"exception_active",
              true,
              "exception (decision " + std::to_string(it->id) + ") until " +
                  Ts(it->exception->expires_ns),
              {it->at.seq}};
    }
  }
  return {"exception_active", false, "no exception is in force (case except)", {}};
}

CriterionResult RiskAccepted(const CaseView& v) {
  for (auto it = v.decisions.rbegin(); it != v.decisions.rend(); ++it) {
    if (it->status != "effective") continue;
    if (it->outcome == Outcome::kAcceptRisk) {
      return {"risk_accepted", true, "risk accepted by " + it->at.actor, {it->at.seq}};
    }
    if (it->risk) {
      return {"risk_accepted",
              true,
              "residual risk accepted by " + it->risk->at.actor,
              {it->risk->at.seq}};
    }
  }
  return {"risk_accepted",
          false,
          "no risk acceptance is in effect (case decide --outcome accept_risk, or an override "
          "whose control owner accepted the risk)",
          {}};
}

}  // namespace

Result<RevocationState> FindRevocation(store::Store& store, const std::string& identity) {
  store::EventQuery q;
  q.identity_key = identity;
  q.kinds = {"provision", "revocation", "rotation"};
  q.limit = kNoLimit;
  NHI_ASSIGN_OR_RETURN(auto rows, store.QueryEvents(q));  // by time, then seq
  RevocationState st;
  for (const store::EventRow& row : rows) {
    NHI_ASSIGN_OR_RETURN(bool ok, Succeeded(row));
    if (!ok) continue;
    if (row.kind == "provision") {
      if (st.seq) st.reprovisioned_seq = row.seq;
      st.seq.reset();
    } else if (!st.seq) {
      st.seq = row.seq;
      st.time_ns = row.time_ns;
      st.reprovisioned_seq.reset();
    }
  }
  return st;
}

std::vector<std::string> ClosureCriteriaFor(const CasePolicy& policy, const CaseView& v,
                                            Resolution resolution) {
  std::vector<std::string> ids = policy.ClosureFor(v.kind, resolution);
  if (std::find(ids.begin(), ids.end(), "overrides_risk_accepted") == ids.end()) {
    ids.push_back("overrides_risk_accepted");
  }
  return ids;
}

Result<std::vector<CriterionResult>> EvaluateClosure(store::Store& store, const CaseView& v,
                                                     const std::vector<std::string>& ids,
                                                     const CasePolicy& policy, int64_t now_ns) {
  std::vector<CriterionResult> out;
  std::vector<std::string> identities = v.links_of("identity");
  for (const std::string& id : ids) {
    if (id == "owner_assigned") {
      out.push_back(OwnerAssigned(v));
    } else if (id == "decision_recorded") {
      out.push_back(DecisionRecorded(v));
    } else if (id == "tasks_done") {
      out.push_back(TasksDone(v));
    } else if (id == "overrides_risk_accepted") {
      out.push_back(OverridesRiskAccepted(v));
    } else if (id == "identity_linked") {
      out.push_back(IdentityLinked(v));
    } else if (id == "verification_passed") {
      out.push_back(VerificationPassed(v));
    } else if (id == "support_trail") {
      out.push_back(SupportTrailComplete(v));
    } else if (id == "exception_active") {
      out.push_back(ExceptionActive(v, now_ns));
    } else if (id == "risk_accepted") {
      out.push_back(RiskAccepted(v));
    } else if (id == "credential_revoked_or_rotated" || id == "no_use_after_revocation") {
      CriterionResult c{id, true, "", {}};
      if (identities.empty()) {
        c.met = false;
        c.detail = "no identity is linked to check (case link --identity KEY)";
      }
      int64_t window = policy.VerificationWindowFor(v.kind);
      std::vector<std::string> found, missing;
      for (const std::string& key : identities) {
        NHI_ASSIGN_OR_RETURN(RevocationState r, FindRevocation(store, key));
        if (!r.seq) {
          c.met = false;
          if (r.reprovisioned_seq) {
            missing.push_back(key + " was provisioned again (seq " +
                              std::to_string(*r.reprovisioned_seq) + ") after its revocation");
          } else {
            missing.push_back("no revocation or rotation of " + key + " is on record");
          }
          continue;
        }
        if (id == "credential_revoked_or_rotated") {
          c.evidence.push_back(*r.seq);
          found.push_back(key + " revoked/rotated at " + Ts(r.time_ns) + " (seq " +
                          std::to_string(*r.seq) + ")");
          continue;
        }
        // No use after the revocation, for the whole verification window.
        store::EventQuery uq;
        uq.identity_key = key;
        uq.kind = "action";
        uq.from_ns = r.time_ns + 1;
        uq.limit = 1;
        NHI_ASSIGN_OR_RETURN(auto uses, store.QueryEvents(uq));
        if (!uses.empty()) {
          c.met = false;
          missing.push_back(key + " was used at " + Ts(uses[0].time_ns) + " (seq " +
                            std::to_string(uses[0].seq) + ") after its revocation (seq " +
                            std::to_string(*r.seq) + ")");
          continue;
        }
        int64_t until = r.time_ns > INT64_MAX - window ? INT64_MAX : r.time_ns + window;
        if (now_ns < until) {
          c.met = false;
          missing.push_back("verification window of " + FormatDuration(window) + " after the " +
                            "revocation of " + key + " (seq " + std::to_string(*r.seq) +
                            ") runs until " + Ts(until) + "; no use so far");
          continue;
        }
        c.evidence.push_back(*r.seq);
        found.push_back(key + ": no use in the " + FormatDuration(window) +
                        " since its revocation (seq " + std::to_string(*r.seq) + ")");
      }
      if (!missing.empty()) {
        c.detail = JoinIds(missing);
      } else if (!found.empty()) {
        c.detail = JoinIds(found);
      }
      out.push_back(std::move(c));
    }
  }
  return out;
}

}  // namespace nhitrace::cases
