#include "report/ocsf.h"

#include <map>

#include "json/writer.h"
#include "reconcile/finding.h"
#include "reconcile/rule.h"
#include "report/internal/new_file.h"

namespace nhitrace::report {
namespace {

constexpr int kCategoryFindings = 2;
constexpr int kDetectionFinding = 2004;
constexpr int kIncidentFinding = 2005;

// OCSF timestamps are milliseconds since the Unix epoch.
int64_t Ms(int64_t ns) { return ns / 1'000'000; }

// severity_id: 0 Unknown, 1 Informational, 2 Low, 3 Medium, 4 High, 5 Critical, 6 Fatal, 99 Other.
std::pair<int, const char*> Severity(std::string_view s) {
  if (s == "low") return {2, "Low"};
  if (s == "medium") return {3, "Medium"};
  if (s == "high") return {4, "High"};
  if (s == "critical") return {5, "Critical"};
  return {0, "Unknown"};
}

const char* ActivityName(int id) {
  switch (id) {
    case 1:
      return "Create";
    case 2:
      return "Update";
    default:
      return "Close";
  }
}

void Metadata(json::JsonWriter& w, const OcsfOptions& o, const std::string& uid) {
  w.Key("metadata").BeginObject();
  w.Key("product").BeginObject();
  w.Key("name").String("nhitrace");
  w.Key("vendor_name").String("nhitrace");
  if (!o.product_version.empty()) w.Key("version").String(o.product_version);
  w.EndObject();
  w.Key("uid").String(uid);
  w.Key("version").String(kOcsfVersion);
  w.EndObject();
}

void Classification(json::JsonWriter& w, int class_uid, const char* class_name, int activity,
                    std::string_view severity) {
  auto [sev_id, sev_name] = Severity(severity);
  w.Key("activity_id").Int(activity);
  w.Key("activity_name").String(ActivityName(activity));
  w.Key("category_uid").Int(kCategoryFindings);
  w.Key("category_name").String("Findings");
  w.Key("class_uid").Int(class_uid);
  w.Key("class_name").String(class_name);
  w.Key("type_uid").Int(int64_t{class_uid} * 100 + activity);
  w.Key("type_name").String(std::string(class_name) + ": " + ActivityName(activity));
  w.Key("severity_id").Int(sev_id);
  w.Key("severity").String(sev_name);
}

bool InWindow(const OcsfOptions& o, int64_t t) {
  return (!o.from_ns || t >= *o.from_ns) && (!o.to_ns || t < *o.to_ns);
}

std::string RuleTitle(const std::string& rule_id) {
  const reconcile::ReconcileRule* r = reconcile::FindRule(rule_id);
  return r != nullptr ? std::string(r->info().title) : rule_id;
}

std::string DetectionFinding(const store::FindingRow& row, const reconcile::Finding& f,
                             const OcsfOptions& o) {
  const bool open = row.status == "open";
  const int activity = !open ? 3 : row.revision <= 1 ? 1 : 2;
  const std::string title = RuleTitle(row.rule_id);
  json::JsonWriter w;
  w.BeginObject();
  Classification(w, kDetectionFinding, "Detection Finding", activity, row.severity);
  w.Key("time").Int(Ms(row.updated_ns));
  w.Key("start_time").Int(Ms(row.first_seen_ns));
  w.Key("end_time").Int(Ms(row.last_seen_ns));
  w.Key("message").String(f.message);
  w.Key("status_id").Int(open ? 1 : 4);
  w.Key("status").String(open ? "New" : "Resolved");
  w.Key("is_alert").Bool(open);
  Metadata(w, o, "finding/" + row.id + "/" + std::to_string(row.revision));
  w.Key("finding_info").BeginObject();
  w.Key("uid").String(row.id);
  w.Key("title").String(title);
  w.Key("desc").String(f.message);
  w.Key("types").BeginArray();
  w.String("nhitrace:" + row.rule_id);
  for (const auto& id : f.owasp) w.String("OWASP NHI Top 10 (2025): " + id);
  for (const auto& id : f.nist) w.String("NIST CSF 2.0: " + id);
  w.EndArray();
  w.Key("created_time").Int(Ms(row.opened_ns));
  w.Key("modified_time").Int(Ms(row.updated_ns));
  w.Key("first_seen_time").Int(Ms(row.first_seen_ns));
  w.Key("last_seen_time").Int(Ms(row.last_seen_ns));
  w.Key("related_events_count").Uint(row.evidence_count);
  w.Key("analytic").BeginObject();
  w.Key("uid").String(row.rule_id);
  w.Key("name").String(title);
  w.Key("type_id").Int(1);
  w.Key("type").String("Rule");
  w.Key("version").String(std::to_string(row.rule_version));
  w.EndObject();
  w.EndObject();
  // What the finding is about, and the ledger events that show it.
  w.Key("resources").BeginArray();
  w.BeginObject();
  w.Key("uid").String(row.subject);
  w.Key("type").String(row.subject_type);
  w.EndObject();
  if (!row.identity_key.empty() && row.identity_key != row.subject) {
    w.BeginObject().Key("uid").String(row.identity_key).Key("type").String("identity").EndObject();
  }
  if (!row.correlation_key.empty() && row.correlation_key != row.subject) {
    w.BeginObject().Key("uid").String(row.correlation_key).Key("type").String("grant").EndObject();
  }
  w.EndArray();
  w.Key("observables").BeginArray();
  w.BeginObject();
  w.Key("name").String("resources.uid");
  w.Key("type_id").Int(10);
  w.Key("type").String("Resource UID");
  w.Key("value").String(row.subject);
  w.EndObject();
  w.EndArray();
  w.Key("evidences").BeginArray();
  w.BeginObject();
  w.Key("data").BeginObject();
  w.Key("ledger_seqs").BeginArray();
  for (uint64_t seq : f.evidence) w.Uint(seq);
  w.EndArray();
  w.Key("evidence_count").Uint(row.evidence_count);
  w.Key("evidence_horizon").Uint(row.horizon);
  w.EndObject();
  w.EndObject();
  w.EndArray();
  w.Key("unmapped").BeginObject();
  w.Key("nhitrace").BeginObject();
  w.Key("finding_seq").Uint(row.seq);
  w.Key("revision").Uint(row.revision);
  w.Key("policy_version").Uint(row.policy_version);
  w.Key("policy_hash").String(row.policy_hash);
  w.Key("owasp").BeginArray();
  for (const auto& id : f.owasp) w.String(id);
  w.EndArray();
  w.Key("nist").BeginArray();
  for (const auto& id : f.nist) w.String(id);
  w.EndArray();
  if (!f.resolution.empty()) w.Key("resolution").String(f.resolution);
  w.EndObject();
  w.EndObject();
  w.EndObject();
  return w.Take();
}

// Incident status_id: 1 New, 2 In Progress, 3 On Hold, 4 Resolved, 5 Closed.
std::pair<int, const char*> IncidentStatus(std::string_view state) {
  if (state == "open" || state == "triage") return {1, "New"};
  if (state == "awaiting_decision") return {3, "On Hold"};
  if (state == "verifying") return {4, "Resolved"};
  if (state == "closed") return {5, "Closed"};
  return {2, "In Progress"};  // investigating, escalated, remediating
}

Result<std::string> IncidentFinding(store::Store& store, const store::CaseRow& c,
                                    const OcsfOptions& o) {
  NHI_ASSIGN_OR_RETURN(std::vector<store::CaseLinkRow> links, store.ListCaseLinks(c.id));
  const bool closed = c.state == "closed";
  const int activity = closed ? 3 : c.op_count <= 1 ? 1 : 2;
  auto [status_id, status] = IncidentStatus(c.state);
  json::JsonWriter w;
  w.BeginObject();
  Classification(w, kIncidentFinding, "Incident Finding", activity, c.severity);
  w.Key("time").Int(Ms(c.updated_ns));
  w.Key("start_time").Int(Ms(c.opened_ns));
  if (c.closed_ns) w.Key("end_time").Int(Ms(*c.closed_ns));
  w.Key("message").String(c.title);
  w.Key("desc").String(c.title);
  w.Key("status_id").Int(status_id);
  w.Key("status").String(status);
  Metadata(w, o, "case/" + std::to_string(c.id) + "/" + std::to_string(c.op_count));
  if (!c.owner.empty()) {
    w.Key("assignee").BeginObject().Key("name").String(c.owner).EndObject();
  } else {
    w.Key("assignee_group").BeginObject().Key("name").String("unassigned").EndObject();
  }
  // The findings the case is about; a case opened by hand with none describes itself.
  w.Key("finding_info_list").BeginArray();
  bool any = false;
  for (const auto& l : links) {
    if (l.type != "finding") continue;
    NHI_ASSIGN_OR_RETURN(auto f, store.GetFinding(l.value));
    w.BeginObject();
    w.Key("uid").String(l.value);
    if (f) {
      w.Key("title").String(RuleTitle(f->rule_id));
      w.Key("types").BeginArray().String("nhitrace:" + f->rule_id).EndArray();
      w.Key("first_seen_time").Int(Ms(f->first_seen_ns));
      w.Key("last_seen_time").Int(Ms(f->last_seen_ns));
    } else {
      w.Key("title").String(l.value);
    }
    w.EndObject();
    any = true;
  }
  if (!any) {
    w.BeginObject();
    w.Key("uid").String("case/" + std::to_string(c.id));
    w.Key("title").String(c.title);
    w.Key("types").BeginArray().String("nhitrace:case:" + c.kind).EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.Key("unmapped").BeginObject();
  w.Key("nhitrace").BeginObject();
  w.Key("case_id").Uint(c.id);
  w.Key("kind").String(c.kind);
  w.Key("state").String(c.state);
  w.Key("requester").String(c.requester);
  w.Key("escalation_level").Uint(c.escalation_level);
  w.Key("open_tasks").Uint(c.open_tasks);
  w.Key("last_seq").Uint(c.last_seq);
  w.Key("links").BeginArray();
  for (const auto& l : links) {
    w.BeginObject().Key("type").String(l.type).Key("value").String(l.value).EndObject();
  }
  w.EndArray();
  w.EndObject();
  w.EndObject();
  w.EndObject();
  return w.Take();
}

}  // namespace

Result<OcsfStats> ExportOcsf(store::Store& store, const OcsfOptions& options,
                             const std::function<Status(std::string_view)>& sink) {
  if (options.from_ns && options.to_ns && *options.from_ns >= *options.to_ns) {
    return InvalidArgumentError("export --ocsf: --from must be before --to");
  }
  NHI_ASSIGN_OR_RETURN(auto snapshot, store.BeginRead());
  OcsfStats st;
  auto put = [&](std::string line) -> Status {
    line += '\n';
    st.bytes += line.size();
    return sink(line);
  };
  NHI_RETURN_IF_ERROR(store.ScanFindings([&](const store::FindingRow& row) -> Status {
    if (options.to_ns && row.first_seen_ns >= *options.to_ns) return OkStatus();
    if (options.from_ns && row.last_seen_ns < *options.from_ns) return OkStatus();
    auto f = reconcile::FromAttributes(row.doc);
    if (!f.ok()) return f.status().WithContext("finding " + row.id);
    ++st.findings;
    return put(DetectionFinding(row, *f, options));
  }));
  store::CaseQuery q;
  q.limit = SIZE_MAX >> 1;
  std::vector<store::CaseRow> cases;
  NHI_RETURN_IF_ERROR(store.ScanCases(q, [&](const store::CaseRow& c) {
    if (InWindow(options, c.opened_ns)) cases.push_back(c);
    return OkStatus();
  }));
  for (const auto& c : cases) {
    NHI_ASSIGN_OR_RETURN(std::string line, IncidentFinding(store, c, options));
    ++st.cases;
    NHI_RETURN_IF_ERROR(put(std::move(line)));
  }
  return st;
}

Result<OcsfStats> ExportOcsfToFile(store::Store& store, const OcsfOptions& options,
                                   const std::string& path) {
  OcsfStats st;
  NHI_RETURN_IF_ERROR(internal::WriteNewFileFrom(path, [&](const auto& sink) -> Status {
    NHI_ASSIGN_OR_RETURN(st, ExportOcsf(store, options, sink));
    return OkStatus();
  }));
  return st;
}

}  // namespace nhitrace::report
