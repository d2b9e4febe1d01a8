#include "store/sqlite/reconcile_tables.h"

#include <string>

namespace nhitrace::store::sqlite {
namespace {

constexpr char kPolicyColumns[] =
    "version, seq, policy_id, hash, canonical_hash, published_ns, published_by, note";
constexpr char kFindingColumns[] =
    "id, rule_id, rule_version, subject_type, subject, status, severity, policy_version, "
    "policy_hash, identity_key, correlation_key, first_seen_ns, last_seen_ns, evidence_count, "
    "horizon, as_of_ns, revision, seq, opened_ns, updated_ns, doc";
// What ScanEventsOfIdentity reads: not the hashes, the tree nodes or the raw id. Its condition
// `kind <> 'action'` is the one events_by_identity is limited to (migration 7), so the index
// serves it in the order asked for.
constexpr char kScanColumns[] =
    "SELECT seq, leaf, kind, time_ns, source_system, source_event_id, correlation_key, "
    "identity_key, actor_id";
constexpr char kDecisionColumns[] =
    "seq, kind, time_ns, actor, identity_key, correlation_key, expires_ns";

PolicyRow ReadPolicy(const Statement& s) {
  PolicyRow r;
  r.version = static_cast<uint64_t>(s.ColumnInt(0));
  r.seq = static_cast<uint64_t>(s.ColumnInt(1));
  r.policy_id = std::string(s.ColumnText(2));
  r.hash = std::string(s.ColumnText(3));
  r.canonical_hash = std::string(s.ColumnText(4));
  r.published_ns = s.ColumnInt(5);
  r.published_by = std::string(s.ColumnText(6));
  r.note = std::string(s.ColumnText(7));
  return r;
}

FindingRow ReadFinding(const Statement& s) {
  FindingRow r;
  r.id = std::string(s.ColumnText(0));
  r.rule_id = std::string(s.ColumnText(1));
  r.rule_version = static_cast<uint32_t>(s.ColumnInt(2));
  r.subject_type = std::string(s.ColumnText(3));
  r.subject = std::string(s.ColumnText(4));
  r.status = std::string(s.ColumnText(5));
  r.severity = std::string(s.ColumnText(6));
  r.policy_version = static_cast<uint64_t>(s.ColumnInt(7));
  r.policy_hash = std::string(s.ColumnText(8));
  r.identity_key = std::string(s.ColumnText(9));
  r.correlation_key = std::string(s.ColumnText(10));
  r.first_seen_ns = s.ColumnInt(11);
  r.last_seen_ns = s.ColumnInt(12);
  r.evidence_count = static_cast<uint64_t>(s.ColumnInt(13));
  r.horizon = static_cast<uint64_t>(s.ColumnInt(14));
  r.as_of_ns = s.ColumnInt(15);
  r.revision = static_cast<uint32_t>(s.ColumnInt(16));
  r.seq = static_cast<uint64_t>(s.ColumnInt(17));
  r.opened_ns = s.ColumnInt(18);
  r.updated_ns = s.ColumnInt(19);
  r.doc = std::string(s.ColumnText(20));
  return r;
}

DecisionRow ReadDecision(const Statement& s) {
  DecisionRow r;
  r.seq = static_cast<uint64_t>(s.ColumnInt(0));
  r.kind = std::string(s.ColumnText(1));
  r.time_ns = s.ColumnInt(2);
  r.actor = std::string(s.ColumnText(3));
  r.identity_key = std::string(s.ColumnText(4));
  r.correlation_key = std::string(s.ColumnText(5));
  if (!s.ColumnIsNull(6)) r.expires_ns = s.ColumnInt(6);
  return r;
}

template <typename Fn>
Status Each(Statement& s, Fn&& fn) {
  for (;;) {
    NHI_ASSIGN_OR_RETURN(auto r, s.Step());
    if (r == Statement::StepResult::kDone) return OkStatus();
    NHI_RETURN_IF_ERROR(fn(s));
  }
}

// Runs a write statement and resets it, whatever happened.
Status RunAndReset(Statement& s) {
  Status st = s.Run();
  s.Reset();
  return st;
}

}  // namespace

Status ReconcileTables::Prepare(sqlite3* db) {
  db_ = db;
  struct Item {
    Statement* s;
    std::string sql;
  };
  std::string f = kFindingColumns;
  Item items[] = {
      {&put_policy_, std::string("INSERT OR REPLACE INTO policies(") + kPolicyColumns +
                         ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"},
      {&put_finding_, "INSERT OR REPLACE INTO findings(" + f +
                          ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
                          "?15, ?16, ?17, ?18, ?19, ?20, ?21)"},
      {&put_decision_, std::string("INSERT OR REPLACE INTO reconcile_decisions(") +
                           kDecisionColumns + ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"},
      {&put_schedule_, "INSERT OR REPLACE INTO reconcile_schedule(unit, due_ns) VALUES (?1, ?2)"},
      {&delete_schedule_, "DELETE FROM reconcile_schedule WHERE unit = ?1"},
      {&scan_identity_events_,
       std::string(kScanColumns) +
           " FROM events WHERE identity_key = ?1 AND kind <> 'action' ORDER BY kind, time_ns, "
           "seq"},
      {&get_policy_, std::string("SELECT ") + kPolicyColumns + " FROM policies WHERE version = ?1"},
      {&latest_policy_,
       std::string("SELECT ") + kPolicyColumns + " FROM policies ORDER BY version DESC LIMIT 1"},
      {&get_finding_, "SELECT " + f + " FROM findings WHERE id = ?1"},
      {&findings_for_subject_,
       "SELECT " + f + " FROM findings WHERE subject_type = ?1 AND subject = ?2 ORDER BY id"},
      {&decisions_by_identity_, std::string("SELECT ") + kDecisionColumns +
                                    " FROM reconcile_decisions WHERE identity_key = ?1 "
                                    "ORDER BY time_ns, seq"},
      {&decisions_by_correlation_, std::string("SELECT ") + kDecisionColumns +
                                       " FROM reconcile_decisions WHERE correlation_key = ?1 "
                                       "ORDER BY time_ns, seq"},
      {&decisions_by_actor_, std::string("SELECT ") + kDecisionColumns +
                                 " FROM reconcile_decisions WHERE actor = ?1 ORDER BY time_ns, "
                                 "seq"},
      {&list_due_,
       "SELECT unit, due_ns FROM reconcile_schedule WHERE due_ns <= ?1 ORDER BY due_ns, unit "
       "LIMIT ?2"},
  };
  for (Item& it : items) {
    NHI_ASSIGN_OR_RETURN(*it.s, Statement::Prepare(db, it.sql));
  }
  return OkStatus();
}

Status ReconcileTables::PutPolicy(const PolicyRow& r) {
  Statement& s = put_policy_;
  s.BindInt(1, static_cast<int64_t>(r.version));
  s.BindInt(2, static_cast<int64_t>(r.seq));
  s.BindText(3, r.policy_id, true);
  s.BindText(4, r.hash, true);
  s.BindText(5, r.canonical_hash, true);
  s.BindInt(6, r.published_ns);
  s.BindText(7, r.published_by, true);
  s.BindText(8, r.note, true);
  return RunAndReset(s);
}

Status ReconcileTables::PutFinding(const FindingRow& r) {
  Statement& s = put_finding_;
  s.BindText(1, r.id, true);
  s.BindText(2, r.rule_id, true);
  s.BindInt(3, r.rule_version);
  s.BindText(4, r.subject_type, true);
  s.BindText(5, r.subject, true);
  s.BindText(6, r.status, true);
  s.BindText(7, r.severity, true);
  s.BindInt(8, static_cast<int64_t>(r.policy_version));
  s.BindText(9, r.policy_hash, true);
  s.BindTextOrNull(10, r.identity_key, true);
  s.BindTextOrNull(11, r.correlation_key, true);
  s.BindInt(12, r.first_seen_ns);
  s.BindInt(13, r.last_seen_ns);
  s.BindInt(14, static_cast<int64_t>(r.evidence_count));
  s.BindInt(15, static_cast<int64_t>(r.horizon));
  s.BindInt(16, r.as_of_ns);
  s.BindInt(17, r.revision);
  s.BindInt(18, static_cast<int64_t>(r.seq));
  s.BindInt(19, r.opened_ns);
  s.BindInt(20, r.updated_ns);
  s.BindText(21, r.doc, true);
  return RunAndReset(s);
}

Status ReconcileTables::PutDecision(const DecisionRow& r) {
  Statement& s = put_decision_;
  s.BindInt(1, static_cast<int64_t>(r.seq));
  s.BindText(2, r.kind, true);
  s.BindInt(3, r.time_ns);
  s.BindTextOrNull(4, r.actor, true);
  s.BindTextOrNull(5, r.identity_key, true);
  s.BindTextOrNull(6, r.correlation_key, true);
  if (r.expires_ns) {
    s.BindInt(7, *r.expires_ns);
  } else {
    s.BindNull(7);
  }
  return RunAndReset(s);
}

Status ReconcileTables::PutSchedule(const ScheduleRow& r) {
  put_schedule_.BindText(1, r.unit, true);
  put_schedule_.BindInt(2, r.due_ns);
  return RunAndReset(put_schedule_);
}

Status ReconcileTables::DeleteSchedule(std::string_view unit) {
  delete_schedule_.BindText(1, unit, true);
  return RunAndReset(delete_schedule_);
}

Status ReconcileTables::ClearSchedule() { return Exec(db_, "DELETE FROM reconcile_schedule"); }

Status ReconcileTables::ClearAll() {
  return Exec(db_,
              "DELETE FROM policies; DELETE FROM findings; DELETE FROM reconcile_decisions; "
              "DELETE FROM reconcile_schedule;");
}

Status ReconcileTables::ScanEventsOfIdentity(
    std::string_view identity_key, const std::function<Status(const Statement&)>& row_fn) {
  // Not the prepared statement itself: a callback may scan another identity (re-entrancy).
  Statement* s = &scan_identity_events_;
  Statement own;
  if (scan_busy_) {
    NHI_ASSIGN_OR_RETURN(
        own, Statement::Prepare(db_, std::string(kScanColumns) +
                                         " FROM events WHERE identity_key = ?1 AND kind <> "
                                         "'action' ORDER BY kind, time_ns, seq"));
    s = &own;
  }
  bool was_busy = scan_busy_;
  scan_busy_ = true;
  ResetGuard g(*s);
  s->BindText(1, identity_key, true);
  Status st = Each(*s, row_fn);
  scan_busy_ = was_busy;
  return st;
}

void ReconcileTables::ReadScanRow(const Statement& s, EventRow* r) {
  r->seq = static_cast<uint64_t>(s.ColumnInt(0));
  r->leaf.assign(s.ColumnBlob(1));
  r->kind.assign(s.ColumnText(2));
  r->time_ns = s.ColumnInt(3);
  r->source_system.assign(s.ColumnText(4));
  r->source_event_id.assign(s.ColumnText(5));
  r->correlation_key.assign(s.ColumnText(6));
  r->identity_key.assign(s.ColumnText(7));
  r->actor_id.assign(s.ColumnText(8));
}

Result<std::optional<PolicyRow>> ReconcileTables::GetPolicy(uint64_t version) {
  ResetGuard g(get_policy_);
  get_policy_.BindInt(1, static_cast<int64_t>(version));
  NHI_ASSIGN_OR_RETURN(auto r, get_policy_.Step());
  if (r == Statement::StepResult::kDone) return std::optional<PolicyRow>();
  return std::optional<PolicyRow>(ReadPolicy(get_policy_));
}

Result<std::optional<PolicyRow>> ReconcileTables::LatestPolicy() {
  ResetGuard g(latest_policy_);
  NHI_ASSIGN_OR_RETURN(auto r, latest_policy_.Step());
  if (r == Statement::StepResult::kDone) return std::optional<PolicyRow>();
  return std::optional<PolicyRow>(ReadPolicy(latest_policy_));
}

Result<std::vector<PolicyRow>> ReconcileTables::ListPolicies() {
  NHI_ASSIGN_OR_RETURN(Statement s,
                       Statement::Prepare(db_, std::string("SELECT ") + kPolicyColumns +
                                                   " FROM policies ORDER BY version"));
  std::vector<PolicyRow> out;
  NHI_RETURN_IF_ERROR(Each(s, [&](const Statement& st) {
    out.push_back(ReadPolicy(st));
    return OkStatus();
  }));
  return out;
}

Result<std::optional<FindingRow>> ReconcileTables::GetFinding(std::string_view id) {
  ResetGuard g(get_finding_);
  get_finding_.BindText(1, id, true);
  NHI_ASSIGN_OR_RETURN(auto r, get_finding_.Step());
  if (r == Statement::StepResult::kDone) return std::optional<FindingRow>();
  return std::optional<FindingRow>(ReadFinding(get_finding_));
}

Result<std::vector<FindingRow>> ReconcileTables::ListFindingsForSubject(
    std::string_view subject_type, std::string_view subject) {
  ResetGuard g(findings_for_subject_);
  findings_for_subject_.BindText(1, subject_type, true);
  findings_for_subject_.BindText(2, subject, true);
  std::vector<FindingRow> out;
  NHI_RETURN_IF_ERROR(Each(findings_for_subject_, [&](const Statement& st) {
    out.push_back(ReadFinding(st));
    return OkStatus();
  }));
  return out;
}

Result<std::vector<FindingRow>> ReconcileTables::QueryFindings(const FindingQuery& q) {
  // Conditions are added only when set; every value is bound.
  std::string sql = std::string("SELECT ") + kFindingColumns + " FROM findings WHERE 1";
  if (!q.rule_id.empty()) sql += " AND rule_id = ?1";
  if (!q.status.empty()) sql += " AND status = ?2";
  if (!q.severities.empty()) {
    sql += " AND severity IN (";
    for (size_t i = 0; i < q.severities.size(); ++i) {
      sql += (i ? ", ?" : "?") + std::to_string(4 + i);
    }
    sql += ")";
  }
  sql += " ORDER BY id LIMIT ?3";
  NHI_ASSIGN_OR_RETURN(Statement s, Statement::Prepare(db_, sql));
  if (!q.rule_id.empty()) s.BindText(1, q.rule_id, true);
  if (!q.status.empty()) s.BindText(2, q.status, true);
  s.BindInt(3, static_cast<int64_t>(std::min<size_t>(q.limit, INT64_MAX)));
  for (size_t i = 0; i < q.severities.size(); ++i) {
    s.BindText(static_cast<int>(4 + i), q.severities[i], true);
  }
  std::vector<FindingRow> out;
  NHI_RETURN_IF_ERROR(Each(s, [&](const Statement& st) {
    out.push_back(ReadFinding(st));
    return OkStatus();
  }));
  return out;
}

Status ReconcileTables::ScanFindings(const std::function<Status(const FindingRow&)>& fn) {
  NHI_ASSIGN_OR_RETURN(Statement s,
                       Statement::Prepare(db_, std::string("SELECT ") + kFindingColumns +
                                                   " FROM findings ORDER BY id"));
  return Each(s, [&](const Statement& st) { return fn(ReadFinding(st)); });
}

Result<std::vector<DecisionRow>> ReconcileTables::ListDecisions(const DecisionQuery& q) {
  Statement* s = nullptr;
  std::string_view value;
  if (!q.identity_key.empty()) {
    s = &decisions_by_identity_;
    value = q.identity_key;
  } else if (!q.correlation_key.empty()) {
    s = &decisions_by_correlation_;
    value = q.correlation_key;
  } else if (!q.actor.empty()) {
    s = &decisions_by_actor_;
    value = q.actor;
  } else {
    return InvalidArgumentError("a decision query needs an identity, a request id or an actor");
  }
  ResetGuard g(*s);
  s->BindText(1, value, true);
  std::vector<DecisionRow> out;
  NHI_RETURN_IF_ERROR(Each(*s, [&](const Statement& st) {
    DecisionRow d = ReadDecision(st);
    if (q.kind.empty() || d.kind == q.kind) out.push_back(std::move(d));
    return OkStatus();
  }));
  return out;
}

Status ReconcileTables::ScanDecisions(const std::function<Status(const DecisionRow&)>& fn) {
  NHI_ASSIGN_OR_RETURN(Statement s,
                       Statement::Prepare(db_, std::string("SELECT ") + kDecisionColumns +
                                                   " FROM reconcile_decisions ORDER BY seq"));
  return Each(s, [&](const Statement& st) { return fn(ReadDecision(st)); });
}

Result<std::vector<ScheduleRow>> ReconcileTables::ListDue(int64_t until_ns, size_t limit) {
  ResetGuard g(list_due_);
  list_due_.BindInt(1, until_ns);
  list_due_.BindInt(2, static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)));
  std::vector<ScheduleRow> out;
  NHI_RETURN_IF_ERROR(Each(list_due_, [&](const Statement& st) {
    out.push_back({std::string(st.ColumnText(0)), st.ColumnInt(1)});
    return OkStatus();
  }));
  return out;
}

Status ReconcileTables::ScanSchedule(const std::function<Status(const ScheduleRow&)>& fn) {
  NHI_ASSIGN_OR_RETURN(
      Statement s,
      Statement::Prepare(db_, "SELECT unit, due_ns FROM reconcile_schedule ORDER BY unit"));
  return Each(s, [&](const Statement& st) {
    return fn(ScheduleRow{std::string(st.ColumnText(0)), st.ColumnInt(1)});
  });
}

}  // namespace nhitrace::store::sqlite
