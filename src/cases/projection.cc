#include "cases/projection.h"

#include <algorithm>
#include <vector>

#include "base/encoding.h"
#include "cases/case_event.h"
#include "cases/fold.h"
#include "event/codec.h"

namespace nhitrace::cases {
namespace {

// Folds one case event into `*view` (the case it names, as folded so far). Returns "" when it
// was folded, else why not; `*case_id` and `*op_seq` are set when the event names them.
std::string FoldInto(const event::Event& e, uint64_t seq, std::optional<CaseView>* view) {
  auto op = DecodeCaseEvent(e);
  if (!op.ok()) return op.status().message();
  Status s = ApplyCaseEvent(e, seq, *op, view);
  return s.ok() ? std::string() : s.message();
}

std::vector<store::CaseTaskRow> TaskRows(const CaseView& v) {
  std::vector<store::CaseTaskRow> out;
  for (const Task& t : v.tasks) out.push_back({v.id, t.id, t.title, t.owner, t.status, t.due_ns});
  return out;
}

std::vector<store::CaseLinkRow> LinkRows(const CaseView& v) {
  std::vector<store::CaseLinkRow> out;
  for (const Link& l : v.links) out.push_back({v.id, l.type, l.value, l.at.seq});
  return out;
}

std::vector<store::CaseDecisionRow> DecisionRows(const CaseView& v) {
  std::vector<store::CaseDecisionRow> out;
  for (const Decision& d : v.decisions) {
    out.push_back({v.id, d.id, std::string(OutcomeName(d.outcome)), d.status, d.at.actor,
                   d.control_owner, d.at.time_ns, d.at.seq});
  }
  return out;
}

Status WriteCase(store::WriteTxn& txn, const CaseView& v) {
  NHI_RETURN_IF_ERROR(txn.PutCase(CaseRowOf(v)));
  return txn.ReplaceCaseDetails(v.id, TaskRows(v), LinkRows(v), DecisionRows(v));
}

Result<event::Event> EventAt(store::Store& store, uint64_t seq) {
  NHI_ASSIGN_OR_RETURN(auto row, store.GetEvent(seq));
  if (!row) return DataLossError("case event seq " + std::to_string(seq) + " is not in the ledger");
  auto leaf = event::DecodeLeaf(row->leaf);
  if (!leaf.ok()) return leaf.status().WithContext("event " + std::to_string(seq));
  return std::move(leaf->event);
}

}  // namespace

store::CaseRow CaseRowOf(const CaseView& v) {
  store::CaseRow r;
  r.id = v.id;
  r.kind = std::string(CaseKindName(v.kind));
  r.state = std::string(CaseStateName(v.state));
  r.severity = std::string(SeverityName(v.severity));
  r.title = v.title;
  r.owner = v.owner;
  r.requester = v.requester;
  r.opened_ns = v.opened.time_ns;
  r.updated_ns = v.updated_ns;
  if (v.closed) r.closed_ns = v.closed->time_ns;
  r.next_due_ns = NextDue(v);
  r.op_count = v.op_count;
  r.last_seq = v.seqs.empty() ? 0 : v.seqs.back();
  r.escalation_level = v.escalation_level;
  r.open_tasks = static_cast<uint32_t>(std::count_if(
      v.tasks.begin(), v.tasks.end(), [](const Task& t) { return t.status == "open"; }));
  return r;
}

Result<std::optional<CaseView>> FoldCaseFromLedger(store::Store& store, uint64_t id) {
  NHI_ASSIGN_OR_RETURN(std::vector<uint64_t> seqs, store.ListCaseEventSeqs(id));
  std::optional<CaseView> view;
  for (uint64_t seq : seqs) {
    NHI_ASSIGN_OR_RETURN(event::Event e, EventAt(store, seq));
    std::string why = FoldInto(e, seq, &view);
    // case_events lists only events that were folded, so this is a changed ledger or index.
    if (!why.empty()) {
      return DataLossError("case " + std::to_string(id) + ": event seq " + std::to_string(seq) +
                           " no longer folds: " + why + " (run `nhitrace verify`)");
    }
  }
  return view;
}

Status CaseProjection::OnAppend(store::WriteTxn& txn, uint64_t seq, const event::Event& e) {
  last_rejection_.clear();
  if (e.kind != event::Kind::kCase) return OkStatus();
  uint64_t id = 0;
  uint32_t op_seq = 0;
  std::optional<CaseView> view;
  std::string why;
  if (e.source_system != kCaseSourceSystem || !ParseCaseEventId(e.source_event_id, &id, &op_seq)) {
    why = FoldInto(e, seq, &view);  // names the problem
    if (why.empty()) why = "not a case event of nhitrace";
  } else {
    NHI_ASSIGN_OR_RETURN(view, Load(id));
    why = FoldInto(e, seq, &view);
  }
  if (!why.empty()) {
    last_rejection_ = why;
    return txn.PutCaseRejection(seq, why);
  }
  NHI_RETURN_IF_ERROR(txn.PutCaseEvent(id, op_seq, seq));
  const CaseView& v = *view;
  if (!v.attachments.empty() && v.attachments.back().at.seq == seq && v.attachments.back().stored) {
    auto digest = HexDecode(v.attachments.back().sha256_hex);
    auto it = digest ? staged_blobs_.find(*digest) : staged_blobs_.end();
    if (it != staged_blobs_.end()) {
      NHI_RETURN_IF_ERROR(txn.PutAttachmentBlob(it->first, it->second, e.time_ns));
      staged_blobs_.erase(it);
    }
  }
  // Written now, not at the commit: later reads in the same batch (a second finding looking for
  // the case the first one opened, Tick's list of due cases) must see this case as it is.
  NHI_RETURN_IF_ERROR(WriteCase(txn, *view));
  pending_[id] = std::move(*view);
  max_id_in_batch_ = std::max(max_id_in_batch_, id);
  return OkStatus();
}

Status CaseProjection::BeforeCommit(store::WriteTxn& txn) {
  (void)txn;
  OnRollback();  // everything is written: start the next batch afresh
  return OkStatus();
}

void CaseProjection::OnRollback() {
  staged_blobs_.clear();
  pending_.clear();
  max_id_in_batch_ = 0;
}

Result<std::optional<CaseView>> CaseProjection::Load(uint64_t id) {
  auto it = pending_.find(id);
  if (it != pending_.end()) return std::optional<CaseView>(it->second);
  return FoldCaseFromLedger(store_, id);
}

Result<uint64_t> CaseProjection::NextCaseId() {
  NHI_ASSIGN_OR_RETURN(uint64_t max_id, store_.MaxCaseId());
  return std::max(max_id, max_id_in_batch_) + 1;
}

Status CaseProjection::Rebuild(store::Store& store,
                               const std::function<void(uint64_t, uint64_t)>& progress) {
  NHI_ASSIGN_OR_RETURN(uint64_t total, store.EventCount());
  // The case events, grouped by the case their source id names (events of other systems, or
  // with ids that name no case, are folded alone so that they get their rejection reason).
  std::map<uint64_t, std::vector<uint64_t>> by_case;
  std::vector<uint64_t> strays;
  uint64_t read = 0;
  NHI_RETURN_IF_ERROR(store.ScanEvents(0, [&](const store::EventRow& row) {
    if (progress && (++read & 0xffff) == 0) progress(read, total);
    if (row.kind != "case") return OkStatus();
    uint64_t id = 0;
    uint32_t op_seq = 0;
    if (row.source_system == kCaseSourceSystem &&
        ParseCaseEventId(row.source_event_id, &id, &op_seq)) {
      by_case[id].push_back(row.seq);
    } else {
      strays.push_back(row.seq);
    }
    return OkStatus();
  }));
  NHI_ASSIGN_OR_RETURN(auto txn, store.BeginWrite());
  NHI_RETURN_IF_ERROR(txn->ClearCases());
  for (uint64_t seq : strays) {
    NHI_ASSIGN_OR_RETURN(event::Event e, EventAt(store, seq));
    std::optional<CaseView> none;
    std::string why = FoldInto(e, seq, &none);
    if (why.empty()) why = "not a case event of nhitrace";
    NHI_RETURN_IF_ERROR(txn->PutCaseRejection(seq, why));
  }
  for (auto& [id, seqs] : by_case) {
    std::optional<CaseView> view;
    for (uint64_t seq : seqs) {  // ScanEvents gave them in seq order
      NHI_ASSIGN_OR_RETURN(event::Event e, EventAt(store, seq));
      std::string why = FoldInto(e, seq, &view);
      if (!why.empty()) {
        NHI_RETURN_IF_ERROR(txn->PutCaseRejection(seq, why));
        continue;
      }
      uint64_t eid = 0;
      uint32_t op_seq = 0;
      ParseCaseEventId(e.source_event_id, &eid, &op_seq);
      NHI_RETURN_IF_ERROR(txn->PutCaseEvent(id, op_seq, seq));
    }
    if (view) NHI_RETURN_IF_ERROR(WriteCase(*txn, *view));
  }
  if (progress) progress(total, total);
  return txn->Commit();
}

}  // namespace nhitrace::cases
