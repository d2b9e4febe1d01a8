// The SQLite side of the policy and reconciliation tables (migration 3): policies, findings,
// reconcile_decisions, reconcile_schedule, and the streamed per-identity event scan. Internal to
// the SQLite backend: SqliteStore and its write transaction forward to one ReconcileTables.
#pragma once

#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "store/sqlite/sqlite_handle.h"
#include "store/store.h"

namespace nhitrace::store::sqlite {

class ReconcileTables {
 public:
  // Prepares the statements. REQUIRES: the schema is at version 3 or later.
  Status Prepare(sqlite3* db);

  // Writes (inside the store's write transaction).
  Status PutPolicy(const PolicyRow& row);
  Status PutFinding(const FindingRow& row);
  Status PutDecision(const DecisionRow& row);
  Status PutSchedule(const ScheduleRow& row);
  Status DeleteSchedule(std::string_view unit);
  Status ClearSchedule();
  Status ClearAll();

  // Reads.
  // A row of the ScanEventsOfIdentity statement into `row` (the columns store.h promises).
  static void ReadScanRow(const Statement& s, EventRow* row);
  Status ScanEventsOfIdentity(std::string_view identity_key,
                              const std::function<Status(const Statement&)>& row_fn);
  Result<std::optional<PolicyRow>> GetPolicy(uint64_t version);
  Result<std::optional<PolicyRow>> LatestPolicy();
  Result<std::vector<PolicyRow>> ListPolicies();
  Result<std::optional<FindingRow>> GetFinding(std::string_view id);
  Result<std::vector<FindingRow>> ListFindingsForSubject(std::string_view subject_type,
                                                         std::string_view subject);
  Result<std::vector<FindingRow>> QueryFindings(const FindingQuery& query);
  Status ScanFindings(const std::function<Status(const FindingRow&)>& fn);
  Result<std::vector<DecisionRow>> ListDecisions(const DecisionQuery& query);
  Status ScanDecisions(const std::function<Status(const DecisionRow&)>& fn);
  Result<std::vector<ScheduleRow>> ListDue(int64_t until_ns, size_t limit);
  Status ScanSchedule(const std::function<Status(const ScheduleRow&)>& fn);

 private:
  sqlite3* db_ = nullptr;
  bool scan_busy_ = false;  // scan_identity_events_ is stepping
  Statement put_policy_, put_finding_, put_decision_, put_schedule_, delete_schedule_,
      scan_identity_events_, get_policy_, latest_policy_, get_finding_, findings_for_subject_,
      decisions_by_identity_, decisions_by_correlation_, decisions_by_actor_, list_due_;
};

}  // namespace nhitrace::store::sqlite
