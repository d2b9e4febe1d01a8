// Findings of reconciliation (docs/reconcile.md): GET /v1/findings takes the filters of
// `nhitrace findings` (rule, severity = this or higher, open) and each item is what
// `nhitrace findings --json` prints for a finding; GET /v1/findings/{id} is one of them.
#include "api/route_groups.h"
#include "json/writer.h"
#include "policy/policy.h"
#include "reconcile/finding.h"
#include "reconcile/rule.h"

namespace nhitrace::api {
namespace {

// One finding as `nhitrace findings --json` prints it.
void WriteFinding(json::JsonWriter& w, const store::FindingRow& r) {
  w.BeginObject();
  w.Key("state").String(r.status);
  w.Key("opened_at").String(FormatRfc3339Utc(r.opened_ns, 9));
  w.Key("updated_at").String(FormatRfc3339Utc(r.updated_ns, 9));
  w.Key("event_seq").Uint(r.seq);
  w.Key("record").Raw(r.doc);
  w.EndObject();
}

ApiResponse ListFindings(RequestContext& rc) {
  store::FindingQuery q;
  if (const std::string* rule = rc.Query("rule")) {
    if (!reconcile::FindRule(*rule)) {
      json::JsonWriter d;
      d.BeginObject();
      d.Key("rules").BeginArray();
      for (const auto* r : reconcile::AllRules()) d.String(r->info().id);
      d.EndArray();
      d.EndObject();
      return ApiResponse::Error(400, "invalid_argument",
                                "query parameter rule: no such rule " + SanitizeUtf8(*rule),
                                d.Take());
    }
    q.rule_id = *rule;
  }
  if (const std::string* sev = rc.Query("severity")) {
    auto min = policy::ParseSeverity(*sev);
    if (!min) {
      return ApiResponse(InvalidArgumentError(
          "query parameter severity: one of low, medium, high, critical (this or higher)"));
    }
    for (policy::Severity s : policy::kAllSeverities) {
      if (s >= *min) q.severities.emplace_back(policy::SeverityName(s));
    }
  }
  if (const std::string* open = rc.Query("open")) {
    if (*open != "true" && *open != "false") {
      return ApiResponse(InvalidArgumentError("query parameter open: true or false"));
    }
    if (*open == "true") q.status = "open";
  }
  NHI_ASSIGN_OR_RETURN(q.limit, rc.QueryLimit(100));
  NHI_ASSIGN_OR_RETURN(store::Store * store, rc.Store());
  NHI_ASSIGN_OR_RETURN(auto rows, store->QueryFindings(q));
  json::JsonWriter w;
  w.BeginObject();
  w.Key("findings").BeginArray();
  for (const auto& r : rows) WriteFinding(w, r);
  w.EndArray();
  w.Key("limit").Uint(q.limit);
  w.Key("limit_reached").Bool(rows.size() == q.limit);
  w.EndObject();
  return ApiResponse::Json(200, w.Take());
}

ApiResponse GetFinding(RequestContext& rc) {
  const std::string& id = rc.Path("id");
  NHI_ASSIGN_OR_RETURN(store::Store * store, rc.Store());
  NHI_ASSIGN_OR_RETURN(auto row, store->GetFinding(id));
  if (!row) return ApiResponse(NotFoundError("no finding " + id));
  json::JsonWriter w;
  WriteFinding(w, *row);
  return ApiResponse::Json(200, w.Take());
}

}  // namespace

Status AddFindingRoutes(Router& router, Services&) {
  NHI_RETURN_IF_ERROR(
      router.Add(Route::Make(Method::kGet, "/v1/findings", kReadRoles, ListFindings)
                     .Query({"rule", "severity", "open", "limit"})
                     .Summary("Findings of reconciliation (as `nhitrace findings --json`)")));
  return router.Add(Route::Make(Method::kGet, "/v1/findings/{id}", kReadRoles, GetFinding)
                        .Summary("One finding, its latest revision"));
}

}  // namespace nhitrace::api
