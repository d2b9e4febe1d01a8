#include "reconcile/engine.h"

#include <algorithm>
#include <charconv>
#include <map>

#include "base/time.h"
#include "correlate/derived_state.h"
#include "event/codec.h"
#include "json/dom.h"
#include "policy/policy_index.h"
#include "reconcile/case_link.h"
#include "reconcile/evaluate.h"
#include "reconcile/finding.h"

namespace nhitrace::reconcile {
namespace {

// Finding events per batch.
constexpr size_t kBatchFindings = 16384;
// Beyond this many events not seen by this process since the last pass, a full pass is cheaper
// than re-reading them to find what they touched.
constexpr uint64_t kMaxGap = 1 << 20;

std::optional<uint64_t> ParseUint(std::string_view s) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// An exception or override decision recorded by an approval or case event (docs/reconcile.md).
std::optional<store::DecisionRow> DecisionOf(uint64_t seq, const event::Event& e) {
  if (e.kind != event::Kind::kApproval && e.kind != event::Kind::kCase) return std::nullopt;
  if (e.attributes.find("\"decision\"") == std::string::npos) return std::nullopt;
  simdjson::dom::parser parser;
  simdjson::dom::element a;
  if (json::ParseJson(parser, e.attributes, &a) != simdjson::SUCCESS) return std::nullopt;
  std::string_view decision;
  if (a["decision"].get(decision) != simdjson::SUCCESS) return std::nullopt;
  if (decision != "exception" && decision != "override") return std::nullopt;
  store::DecisionRow d;
  d.seq = seq;
  d.kind = std::string(decision);
  d.time_ns = e.time_ns;
  if (e.actor) d.actor = e.actor->id;
  std::string_view v;
  d.identity_key = e.identity;
  if (d.identity_key.empty() && a["identity"].get(v) == simdjson::SUCCESS) d.identity_key = v;
  d.correlation_key = e.correlation_key;
  if (d.correlation_key.empty() && a["correlation_key"].get(v) == simdjson::SUCCESS) {
    d.correlation_key = v;
  }
  if (e.window && !e.window->not_after.empty()) {
    d.expires_ns = e.window->not_after_ns;
  } else if (a["expires"].get(v) == simdjson::SUCCESS) {
    auto t = ParseRfc3339(v, /*saturate=*/true);
    if (t.ok()) d.expires_ns = t->unix_nanos;
  }
  return d;
}

// Folds one event into the findings and decisions tables.
Status FoldEvent(store::Store& store, store::WriteTxn& txn, uint64_t seq, const event::Event& e) {
  if (e.kind == event::Kind::kFinding && e.source_system == kFindingSource) {
    auto f = FromAttributes(e.attributes);
    if (!f.ok()) return OkStatus();  // not one of ours: kept in the ledger, not a finding
    NHI_ASSIGN_OR_RETURN(auto prev, store.GetFinding(f->id));
    if (f->revision != (prev ? prev->revision + 1 : 1)) return OkStatus();
    return txn.PutFinding(ToRow(*f, seq, e.time_ns, prev));
  }
  if (auto d = DecisionOf(seq, e)) return txn.PutDecision(*d);
  return OkStatus();
}

struct Touched {
  std::set<std::string> keys, grants, approvers;
  void Merge(Touched&& o) {
    keys.merge(o.keys);
    grants.merge(o.grants);
    approvers.merge(o.approvers);
  }
  void Clear() {
    keys.clear();
    grants.clear();
    approvers.clear();
  }
  bool empty() const { return keys.empty() && grants.empty() && approvers.empty(); }
};

// What an event names that reconciliation looks at.
void Collect(uint64_t seq, const event::Event& e, Touched* t) {
  if (auto d = DecisionOf(seq, e)) {
    if (!d->actor.empty()) t->approvers.insert(d->actor);
    if (!d->identity_key.empty()) t->keys.insert(d->identity_key);
    if (!d->correlation_key.empty()) t->grants.insert(d->correlation_key);
  }
  if (event::IsOwnRecord(e.kind)) return;
  if (!e.identity.empty()) t->keys.insert(e.identity);
  for (const auto& a : e.aliases) t->keys.insert(a);
  if (e.delegation && !e.delegation->credential.empty()) t->keys.insert(e.delegation->credential);
  if (!e.correlation_key.empty()) t->grants.insert(e.correlation_key);
}

}  // namespace

// The observer half of the engine: folds tables, collects what committed batches touched, and
// writes the engine's staged metadata and schedule with the engine's own batch.
class Engine::Fold final : public ledger::AppendObserver {
 public:
  explicit Fold(store::Store& store) : store_(store) {}

  Status OnAppend(store::WriteTxn& txn, uint64_t seq, const event::Event& e) override {
    Settle();
    if (!first_seq_) first_seq_ = seq;
    NHI_RETURN_IF_ERROR(FoldEvent(store_, txn, seq, e));
    Collect(seq, e, &batch_);
    // A grant may move to another credential: its previous one must be looked at too. The
    // derived tables are written at commit, so this reads them as they were before the batch.
    if (!event::IsOwnRecord(e.kind) && !e.correlation_key.empty() &&
        looked_up_.insert(e.correlation_key).second) {
      NHI_ASSIGN_OR_RETURN(auto g, store_.GetGrant(e.correlation_key));
      if (g && !g->identity_key.empty()) batch_.keys.insert(g->identity_key);
    }
    return OkStatus();
  }

  Status BeforeCommit(store::WriteTxn& txn) override {
    Settle();
    if (staged_) {
      if (staged_->clear_schedule) NHI_RETURN_IF_ERROR(txn.ClearSchedule());
      for (const auto& [unit, due] : staged_->schedule) {
        if (due) {
          NHI_RETURN_IF_ERROR(txn.PutSchedule({unit, *due}));
        } else {
          NHI_RETURN_IF_ERROR(txn.DeleteSchedule(unit));
        }
      }
      for (const auto& [k, v] : staged_->meta) NHI_RETURN_IF_ERROR(txn.SetMeta(k, v));
      staged_.reset();
    }
    committing_ = std::move(batch_);
    batch_.Clear();
    looked_up_.clear();
    in_commit_ = true;
    return OkStatus();
  }

  void OnRollback() override {
    batch_.Clear();
    looked_up_.clear();
    staged_.reset();
    if (in_commit_) committing_.Clear();
    in_commit_ = false;
  }

  // Moves what the last committed batch touched to `done_`.
  void Settle() {
    if (!in_commit_) return;
    done_.Merge(std::move(committing_));
    committing_.Clear();
    in_commit_ = false;
  }

  struct Staged {
    bool clear_schedule = false;
    std::map<std::string, std::optional<int64_t>> schedule;
    std::map<std::string, std::string> meta;
  };
  void Stage(Staged s) { staged_ = std::move(s); }

  Touched& done() { return done_; }
  std::optional<uint64_t> first_seq() const { return first_seq_; }

 private:
  store::Store& store_;
  Touched batch_, committing_, done_;
  std::set<std::string> looked_up_;
  bool in_commit_ = false;
  std::optional<uint64_t> first_seq_;
  std::optional<Staged> staged_;
};

struct Engine::Change {
  Finding finding;
  std::optional<store::FindingRow> previous;
};

Engine::Engine(ledger::Ledger& ledger)
    : ledger_(ledger), fold_(std::make_unique<Fold>(ledger.store())) {
  ledger_.AddObserver(fold_.get());
}

Engine::~Engine() = default;

Result<const policy::Policy*> Engine::LatestPolicy() {
  NHI_ASSIGN_OR_RETURN(auto row, ledger_.store().LatestPolicy());
  if (!row)
    return NotFoundError(
        "no policy is published (publish one with `nhitrace policy publish FILE`)");
  if (!policy_ || policy_->version != row->version) {
    NHI_ASSIGN_OR_RETURN(policy::Policy p, policy::LoadPolicy(ledger_.store(), row->version));
    policy_ = std::make_unique<policy::Policy>(std::move(p));
  }
  return policy_.get();
}

Result<PassStats> Engine::RunIncremental(std::optional<int64_t> as_of_opt) {
  fold_->Settle();
  store::Store& store = ledger_.store();
  const int64_t as_of = as_of_opt.value_or(ledger_.clock().NowUnixNanos());
  auto policy = LatestPolicy();
  if (!policy.ok()) {
    if (policy.status().code() != StatusCode::kNotFound) return policy.status();
    fold_->done().Clear();
    PassStats s;
    s.skipped = true;
    return s;
  }
  NHI_ASSIGN_OR_RETURN(auto pv, store.GetMeta(kMetaPolicyVersion));
  if (!pv || ParseUint(*pv) != (*policy)->version) return RunFull(as_of, nullptr);

  // Events appended since the last pass that this process did not see (another process, or
  // before this engine was attached): read them back for what they touched.
  NHI_ASSIGN_OR_RETURN(auto wm, store.GetMeta(kMetaWatermark));
  const uint64_t watermark = wm ? ParseUint(*wm).value_or(0) : 0;
  const uint64_t gap_end = fold_->first_seq().value_or(ledger_.size());
  Touched touched = std::move(fold_->done());
  fold_->done().Clear();
  if (gap_end > watermark) {
    if (gap_end - watermark > kMaxGap) return RunFull(as_of, nullptr);
    Status s = store.ScanEvents(watermark, [&](const store::EventRow& row) -> Status {
      if (row.seq >= gap_end) return OutOfRangeError("end of the gap");
      NHI_ASSIGN_OR_RETURN(correlate::ChainEvent ce, correlate::DecodeEventRow(row));
      Collect(ce.seq, ce.event, &touched);
      return OkStatus();
    });
    if (!s.ok() && s.code() != StatusCode::kOutOfRange) return s;
  }

  std::set<std::string> units;
  for (const auto& k : touched.keys) {
    NHI_ASSIGN_OR_RETURN(std::string u, UnitOfKey(store, k));
    units.insert(std::move(u));
  }
  for (const auto& ck : touched.grants) {
    NHI_ASSIGN_OR_RETURN(std::string u, UnitOfGrant(store, ck));
    units.insert(std::move(u));
  }
  for (const auto& a : touched.approvers) units.insert("approver:" + a);
  NHI_ASSIGN_OR_RETURN(auto due, store.ListDue(as_of, SIZE_MAX >> 1));
  for (auto& d : due) units.insert(std::move(d.unit));
  return Evaluate(units, **policy, as_of, /*full=*/false, nullptr);
}

Result<PassStats> Engine::RunFull(std::optional<int64_t> as_of_opt,
                                  const std::function<void(uint64_t, uint64_t)>& progress) {
  fold_->Settle();
  store::Store& store = ledger_.store();
  const int64_t as_of = as_of_opt.value_or(ledger_.clock().NowUnixNanos());
  NHI_ASSIGN_OR_RETURN(const policy::Policy* policy, LatestPolicy());
  std::set<std::string> units;
  store::IdentityQuery all;
  all.limit = SIZE_MAX >> 1;
  NHI_ASSIGN_OR_RETURN(auto canonicals, store.ListCanonicalKeys(all));
  for (auto& c : canonicals) units.insert("group:" + c);
  // Every grant's unit: its credential's group (already in), or the grant itself when its
  // credential is no known identity.
  NHI_RETURN_IF_ERROR(store.ScanGrants([&](const store::GrantRow& g) -> Status {
    NHI_ASSIGN_OR_RETURN(std::string u, UnitOfGrant(store, g));
    units.insert(std::move(u));
    return OkStatus();
  }));
  std::vector<store::DecisionRow> decisions;
  NHI_RETURN_IF_ERROR(store.ScanDecisions([&](const store::DecisionRow& d) {
    decisions.push_back(d);
    return OkStatus();
  }));
  for (const auto& d : decisions) {
    if (!d.correlation_key.empty()) {
      NHI_ASSIGN_OR_RETURN(std::string u, UnitOfGrant(store, d.correlation_key));
      units.insert(std::move(u));
    }
    if (!d.identity_key.empty()) {
      NHI_ASSIGN_OR_RETURN(std::string u, UnitOfKey(store, d.identity_key));
      units.insert(std::move(u));
    }
    if (d.kind == "override" && !d.actor.empty()) units.insert("approver:" + d.actor);
  }
  fold_->done().Clear();
  return Evaluate(units, *policy, as_of, /*full=*/true, progress);
}

Result<PassStats> Engine::Evaluate(const std::set<std::string>& units, const policy::Policy& policy,
                                   int64_t as_of, bool full,
                                   const std::function<void(uint64_t, uint64_t)>& progress) {
  store::Store& store = ledger_.store();
  PassStats stats;
  stats.full = full;
  stats.policy_version = policy.version;
  stats.as_of_ns = as_of;
  stats.horizon = ledger_.size() == 0 ? 0 : ledger_.size() - 1;

  std::optional<cases::PolicyContext> case_policy;
  if (cases_) {
    NHI_ASSIGN_OR_RETURN(case_policy, CasePolicyContext(policy));
  }
  CaseLinkStats case_stats;

  Fold::Staged staged;
  staged.clear_schedule = full;
  std::vector<Change> changes;
  std::set<std::pair<SubjectType, std::string>> visited;
  std::set<std::string> evaluated;

  // Evaluation reads in one read transaction (one snapshot, locks taken once), ended before
  // each batch of findings is written.
  std::unique_ptr<store::ReadScope> read;
  auto flush = [&](bool last) -> Status {
    if (changes.empty() && !last) return OkStatus();
    read.reset();
    NHI_ASSIGN_OR_RETURN(auto batch, ledger_.BeginBatch());
    const int64_t now = ledger_.clock().NowUnixNanos();
    simdjson::dom::parser parser;
    for (Change& c : changes) {
      std::string line = FindingEventLine(c.finding, now);
      simdjson::dom::element root;
      if (json::ParseJson(parser, line, &root) != simdjson::SUCCESS) {
        return InternalError("finding event is not JSON");
      }
      auto record = event::DecodeNative(root);
      if (!record.ok()) return record.status().WithContext("finding " + c.finding.id);
      NHI_ASSIGN_OR_RETURN(ledger::AppendOutcome o, batch->Append(*record, line));
      if (o.status != ledger::AppendStatus::kAccepted) {
        return AbortedError("finding " + c.finding.id + " revision " +
                            std::to_string(c.finding.revision) + " is already recorded");
      }
      const std::string& st = c.finding.status;
      ++(st == "open" ? stats.opened : st == "updated" ? stats.updated : stats.resolved);
    }
    if (cases_) {
      // The cases these findings open or join, in the same batch (docs/reconcile.md section 8).
      std::vector<Finding> recorded;
      recorded.reserve(changes.size());
      for (const Change& c : changes) recorded.push_back(c.finding);
      NHI_RETURN_IF_ERROR(
          LinkFindingsToCases({store, *cases_, *batch, *case_policy, ledger_.clock()}, recorded,
                              /*catch_up=*/full && last, &case_stats)
              .WithContext("cases"));
    }
    if (last) {
      staged.meta[kMetaWatermark] = std::to_string(ledger_.size() + batch->appended());
      if (full) staged.meta[kMetaPolicyVersion] = std::to_string(policy.version);
      fold_->Stage(std::move(staged));
    }
    NHI_RETURN_IF_ERROR(batch->Commit());
    changes.clear();
    return OkStatus();
  };

  auto resolve = [&](const store::FindingRow& row, const std::string& reason) -> Status {
    NHI_ASSIGN_OR_RETURN(Finding f, FromAttributes(row.doc));
    f.status = "resolved";
    f.resolution = reason;
    f.revision = row.revision + 1;
    f.policy_version = policy.version;
    f.policy_id = policy.id;
    f.policy_hash = policy.hash;
    f.horizon = stats.horizon;
    f.as_of_ns = as_of;
    changes.push_back({std::move(f), row});
    return OkStatus();
  };

  uint64_t done = 0;
  for (const std::string& unit : units) {
    if (progress && ++done % 256 == 0) progress(done, units.size());
    if (!read) {
      NHI_ASSIGN_OR_RETURN(read, store.BeginRead());
    }
    NHI_ASSIGN_OR_RETURN(UnitResult r, EvaluateUnit(store, policy, unit, as_of));
    if (r.unit != unit) staged.schedule[unit] = std::nullopt;  // a stale name
    if (!evaluated.insert(r.unit).second) continue;
    ++stats.units;
    stats.actions += r.actions;
    staged.schedule[r.unit] = r.recheck;

    std::map<std::string, Finding> fired;
    for (const RuleHit& h : r.hits) {
      Finding f = FromHit(*h.rule, h.hit, policy);
      f.horizon = stats.horizon;
      f.as_of_ns = as_of;
      fired.emplace(f.id, std::move(f));
    }
    std::map<std::string, store::FindingRow> existing;
    for (const auto& subject : r.subjects) {
      if (full) visited.insert(subject);
      NHI_ASSIGN_OR_RETURN(
          auto rows, store.ListFindingsForSubject(SubjectTypeName(subject.first), subject.second));
      for (auto& row : rows) existing.emplace(row.id, std::move(row));
    }
    for (auto& [id, f] : fired) {
      auto it = existing.find(id);
      if (it == existing.end() || it->second.status == "resolved") {
        f.status = "open";
        f.revision = it == existing.end() ? 1 : it->second.revision + 1;
        std::optional<store::FindingRow> prev;
        if (it != existing.end()) prev = it->second;
        changes.push_back({std::move(f), prev});
        continue;
      }
      NHI_ASSIGN_OR_RETURN(Finding old, FromAttributes(it->second.doc));
      if (SameContent(old, f)) continue;
      f.status = "updated";
      f.revision = it->second.revision + 1;
      changes.push_back({std::move(f), it->second});
    }
    for (const auto& [id, row] : existing) {
      if (row.status != "open" || fired.count(id)) continue;
      std::string reason;
      if (!policy.Rule(row.rule_id).enabled) {
        reason = "the rule is disabled by policy version " + std::to_string(policy.version);
      } else if (row.subject_type == "identity" && r.unit != "group:" + row.subject) {
        reason = "the identity is now known as " + r.unit.substr(6);
      } else {
        reason = "the rule no longer fires on the evidence";
      }
      NHI_RETURN_IF_ERROR(resolve(row, reason));
    }
    if (changes.size() >= kBatchFindings) NHI_RETURN_IF_ERROR(flush(false));
  }
  if (full) {
    if (!read) {
      NHI_ASSIGN_OR_RETURN(read, store.BeginRead());
    }
    // Open findings about subjects no unit covers any more (a rule gone from this build, a
    // grant or identity that no longer exists after a rebuild).
    std::vector<store::FindingRow> orphans;
    NHI_RETURN_IF_ERROR(store.ScanFindings([&](const store::FindingRow& row) {
      if (row.status == "open") {
        auto type = ParseSubjectType(row.subject_type);
        if (!type || !visited.count({*type, row.subject})) orphans.push_back(row);
      }
      return OkStatus();
    }));
    for (const auto& row : orphans) {
      NHI_RETURN_IF_ERROR(resolve(row, "the subject is no longer on record"));
    }
  }
  if (progress) progress(units.size(), units.size());
  NHI_RETURN_IF_ERROR(flush(true));
  store::FindingQuery open;
  open.status = "open";
  NHI_ASSIGN_OR_RETURN(auto rows, store.QueryFindings(open));
  stats.open_total = rows.size();
  stats.cases_opened = case_stats.opened;
  stats.cases_joined = case_stats.joined;
  stats.cases_reopened = case_stats.reopened;
  stats.cases_noted = case_stats.noted;
  stats.cases_raised = case_stats.raised;
  return stats;
}

Status Engine::RebuildTables(store::Store& store,
                             const std::function<void(uint64_t, uint64_t)>& progress) {
  NHI_ASSIGN_OR_RETURN(uint64_t total, store.EventCount());
  NHI_ASSIGN_OR_RETURN(auto txn, store.BeginWrite());
  NHI_RETURN_IF_ERROR(txn->ClearReconcile());
  uint64_t n = 0;
  NHI_RETURN_IF_ERROR(store.ScanEvents(0, [&](const store::EventRow& row) -> Status {
    if (progress && ++n % 65536 == 0) progress(n, total);
    // Only these kinds feed the tables; skip decoding the rest.
    if (row.kind != "policy" && row.kind != "finding" && row.kind != "approval" &&
        row.kind != "case") {
      return OkStatus();
    }
    NHI_ASSIGN_OR_RETURN(correlate::ChainEvent ce, correlate::DecodeEventRow(row));
    NHI_RETURN_IF_ERROR(policy::PolicyIndex::Fold(store, *txn, ce.seq, ce.event));
    return FoldEvent(store, *txn, ce.seq, ce.event);
  }));
  // The schedule is not in the ledger: the next pass must be a full one to recompute it.
  NHI_RETURN_IF_ERROR(txn->SetMeta(kMetaPolicyVersion, ""));
  if (progress) progress(total, total);
  return txn->Commit();
}

}  // namespace nhitrace::reconcile
