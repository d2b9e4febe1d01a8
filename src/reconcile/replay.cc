#include "reconcile/replay.h"

#include <filesystem>

#include "base/time.h"
#include "correlate/derived_state.h"
#include "reconcile/engine.h"
#include "reconcile/evaluate.h"

namespace nhitrace::reconcile {
namespace {

// Events after the horizon that are worth a scratch copy: anything but findings and policies.
constexpr uint64_t kMaxTailCheck = 100000;

// A temporary directory, removed with everything in it.
class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "nhitrace-replay-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Whether everything after `horizon` is a finding or a policy (neither changes the evidence).
Result<bool> OnlyOwnFindingsAfter(store::Store& store, uint64_t horizon) {
  bool clean = true;
  uint64_t n = 0;
  Status s = store.ScanEvents(horizon + 1, [&](const store::EventRow& row) -> Status {
    if ((row.kind != "finding" && row.kind != "policy") || ++n > kMaxTailCheck) {
      clean = false;
      return OutOfRangeError("stop");
    }
    return OkStatus();
  });
  if (!s.ok() && s.code() != StatusCode::kOutOfRange) return s;
  return clean;
}

// Copies events 0..horizon into a new store at `path` and derives its tables.
Result<std::unique_ptr<store::Store>> CopyUpTo(store::Store& from, uint64_t horizon,
                                               const std::string& path) {
  store::StoreOptions o;
  o.path = path;
  o.create = true;
  o.durable = false;
  NHI_ASSIGN_OR_RETURN(auto to, store::OpenStore(o));
  {
    NHI_ASSIGN_OR_RETURN(auto txn, to->BeginWrite());
    Status s = from.ScanEvents(0, [&](const store::EventRow& row) -> Status {
      if (row.seq > horizon) return OutOfRangeError("horizon");
      NHI_ASSIGN_OR_RETURN(bool inserted, txn->InsertEvent(row));
      if (!inserted) return DataLossError("event " + std::to_string(row.seq) + " twice");
      return OkStatus();
    });
    if (!s.ok() && s.code() != StatusCode::kOutOfRange) return s;
    NHI_RETURN_IF_ERROR(txn->Commit());
  }  // the transaction object must be gone before the next one begins
  NHI_RETURN_IF_ERROR(correlate::DerivedState::Rebuild(*to));
  NHI_RETURN_IF_ERROR(Engine::RebuildTables(*to));
  return to;
}

Result<std::string> UnitOf(store::Store& store, const Finding& f) {
  switch (f.subject_type) {
    case SubjectType::kIdentity:
    case SubjectType::kCredential:
      return UnitOfKey(store, f.subject);
    case SubjectType::kGrant:
      return UnitOfGrant(store, f.subject);
    case SubjectType::kApprover:
      return "approver:" + f.subject;
  }
  return InternalError("subject type");
}

std::string Seqs(const std::vector<uint64_t>& v) {
  std::string out;
  for (uint64_t s : v) out += (out.empty() ? "" : ",") + std::to_string(s);
  return "[" + out + "]";
}

void Compare(const Finding& a, const Finding& b, std::vector<std::string>* out) {
  auto diff = [&](const std::string& what, const std::string& x, const std::string& y) {
    if (x != y) out->push_back(what + ": recorded " + x + ", replay " + y);
  };
  diff("rule version", std::to_string(a.rule_version), std::to_string(b.rule_version));
  diff("severity", std::string(policy::SeverityName(a.severity)),
       std::string(policy::SeverityName(b.severity)));
  diff("evidence", Seqs(a.evidence), Seqs(b.evidence));
  diff("evidence count", std::to_string(a.evidence_count), std::to_string(b.evidence_count));
  diff("first seen", FormatRfc3339Utc(a.first_seen_ns, 9), FormatRfc3339Utc(b.first_seen_ns, 9));
  diff("last seen", FormatRfc3339Utc(a.last_seen_ns, 9), FormatRfc3339Utc(b.last_seen_ns, 9));
  diff("identity", a.identity, b.identity);
  diff("request", a.correlation_key, b.correlation_key);
  diff("message", a.message, b.message);
}

}  // namespace

Result<ReplayResult> Replay(store::Store& store, const std::string& finding_id,
                            std::optional<uint64_t> policy_version) {
  NHI_ASSIGN_OR_RETURN(auto row, store.GetFinding(finding_id));
  if (!row) return NotFoundError("no finding " + finding_id);
  ReplayResult r;
  NHI_ASSIGN_OR_RETURN(r.recorded, FromAttributes(row->doc));
  const Finding& rec = r.recorded;
  const ReconcileRule* rule = FindRule(rec.rule_id);
  if (!rule) return FailedPreconditionError("rule " + rec.rule_id + " is not in this build");
  r.policy_version = policy_version.value_or(rec.policy_version);
  NHI_ASSIGN_OR_RETURN(policy::Policy policy, policy::LoadPolicy(store, r.policy_version));
  r.expected_to_fire = rec.status != "resolved";

  NHI_ASSIGN_OR_RETURN(bool live, OnlyOwnFindingsAfter(store, rec.horizon));
  ScratchDir dir;
  std::unique_ptr<store::Store> scratch;
  store::Store* evidence = &store;
  if (!live) {
    if (dir.path().empty()) return UnavailableError("cannot create a scratch directory");
    NHI_ASSIGN_OR_RETURN(scratch, CopyUpTo(store, rec.horizon, dir.path() + "/replay.db"));
    evidence = scratch.get();
    r.scratch = true;
  }
  NHI_ASSIGN_OR_RETURN(std::string unit, UnitOf(*evidence, rec));
  NHI_ASSIGN_OR_RETURN(UnitResult u, EvaluateUnit(*evidence, policy, unit, rec.as_of_ns, rule));
  for (const RuleHit& h : u.hits) {
    if (h.hit.subject_type != rec.subject_type || h.hit.subject != rec.subject) continue;
    r.fires = true;
    Finding f = FromHit(*rule, h.hit, policy);
    f.horizon = rec.horizon;
    f.as_of_ns = rec.as_of_ns;
    r.replayed = std::move(f);
  }
  if (r.fires != r.expected_to_fire) {
    r.differences.push_back(r.expected_to_fire ? "recorded as firing, the replay does not fire"
                                               : "recorded as resolved, the replay fires");
  } else if (r.fires) {
    Compare(rec, *r.replayed, &r.differences);
  }
  r.same = r.differences.empty();
  return r;
}

}  // namespace nhitrace::reconcile
