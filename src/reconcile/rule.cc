#include "reconcile/rule.h"

#include <algorithm>

#include "base/time.h"
#include "correlate/scope.h"

namespace nhitrace::reconcile {

std::string_view SubjectTypeName(SubjectType t) {
  switch (t) {
    case SubjectType::kIdentity:
      return "identity";
    case SubjectType::kCredential:
      return "credential";
    case SubjectType::kGrant:
      return "grant";
    case SubjectType::kApprover:
      return "approver";
  }
  return "?";
}

std::optional<SubjectType> ParseSubjectType(std::string_view s) {
  for (auto t : {SubjectType::kIdentity, SubjectType::kCredential, SubjectType::kGrant,
                 SubjectType::kApprover}) {
    if (SubjectTypeName(t) == s) return t;
  }
  return std::nullopt;
}

void Evidence::Add(uint64_t seq, int64_t time_ns) {
  EvidenceRef ref{time_ns, seq};
  auto it = std::lower_bound(items_.begin(), items_.end(), ref);
  if (it != items_.end() && *it == ref) return;  // already counted
  ++count_;
  first_ns_ = std::min(first_ns_, time_ns);
  last_ns_ = std::max(last_ns_, time_ns);
  if (items_.size() < kMaxEvidence) {
    items_.insert(it, ref);
  } else if (it != items_.end()) {
    items_.insert(it, ref);
    items_.pop_back();
  }
}

void Hit::AddDetail(const std::string& d) {
  if (details.size() < 5 && std::find(details.begin(), details.end(), d) == details.end()) {
    details.push_back(d);
  }
}

const correlate::ChainEvent* GrantView::Event(uint64_t seq) const {
  auto it = events.find(seq);
  return it == events.end() ? nullptr : &it->second;
}

std::vector<const correlate::ChainEvent*> GrantView::Events(
    const std::vector<uint64_t>& seqs) const {
  std::vector<const correlate::ChainEvent*> out;
  for (uint64_t s : seqs) {
    if (const auto* e = Event(s)) out.push_back(e);
  }
  std::sort(out.begin(), out.end(),
            [](const auto* a, const auto* b) { return correlate::ChronologicalLess(*a, *b); });
  return out;
}

bool IdentityView::HasKey(std::string_view key) const {
  for (const auto& k : keys) {
    if (k.row.key == key) return true;
  }
  return false;
}

const GrantView* UnitView::FindGrant(std::string_view correlation_key) const {
  for (const auto& g : grants) {
    if (g.chain.correlation_key == correlation_key) return &g;
  }
  return nullptr;
}

bool Selects(const policy::RuleSettings& s, const std::vector<std::string>& keys,
             std::string_view kind) {
  auto any_key_matches = [&](const std::vector<std::string>& patterns) {
    for (const auto& k : keys) {
      if (correlate::AnyMatches(patterns, k)) return true;
    }
    return false;
  };
  if (!s.identities.empty() && !any_key_matches(s.identities)) return false;
  if (!s.exclude_identities.empty() && any_key_matches(s.exclude_identities)) return false;
  if (!s.kinds.empty() && std::find(s.kinds.begin(), s.kinds.end(), kind) == s.kinds.end()) {
    return false;
  }
  return true;
}

bool SelectsGrant(const policy::RuleSettings& s, const UnitView& unit, const GrantView& g) {
  std::vector<std::string> keys;
  if (!g.chain.identity.empty()) keys.push_back(g.chain.identity);
  return Selects(s, keys, unit.identity ? unit.identity->kind : "");
}

bool SelectsIdentity(const policy::RuleSettings& s, const UnitView& unit) {
  if (!unit.identity) return false;
  std::vector<std::string> keys;
  for (const auto& k : unit.identity->keys) keys.push_back(k.row.key);
  if (keys.empty()) keys.push_back(unit.identity->canonical);
  return Selects(s, keys, unit.identity->kind);
}

bool SelectsKey(const policy::RuleSettings& s, const UnitView& unit, const std::string& key) {
  return Selects(s, {key}, unit.identity ? unit.identity->kind : "");
}

Hit& FindingSink::Fire(SubjectType type, const std::string& subject) {
  auto [it, inserted] = hits_.try_emplace({type, subject});
  if (inserted) {
    it->second.subject_type = type;
    it->second.subject = subject;
  }
  return it->second;
}

void FindingSink::RecheckAt(int64_t time_ns) {
  if (time_ns <= as_of_) return;
  if (!recheck_ || time_ns < *recheck_) recheck_ = time_ns;
}

bool Succeeded(const event::Event& e) { return !e.outcome || e.outcome->result == "success"; }

std::string ShortTime(int64_t ns) {
  if (ns == INT64_MIN || ns == INT64_MAX) return "-";
  std::string t = FormatRfc3339Utc(ns, 0);
  t[10] = ' ';
  return t;
}

}  // namespace nhitrace::reconcile
