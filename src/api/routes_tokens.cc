// Token management (admin) and the API audit trail (auditor, admin). Token writes run on the
// writer thread like every other write, each with its audit row in the same transaction.
#include "api/auth.h"
#include "api/json_body.h"
#include "api/route_groups.h"
#include "json/writer.h"

namespace nhitrace::api {
namespace {

void WriteToken(json::JsonWriter& w, const store::ApiTokenRow& t) {
  w.Key("id").String(t.id);
  w.Key("name").String(t.name);
  w.Key("role").String(t.role);
  w.Key("created_at").String(FormatRfc3339Utc(t.created_ns));
  w.Key("revoked_at");
  if (t.revoked_ns) {
    w.String(FormatRfc3339Utc(*t.revoked_ns));
  } else {
    w.Null();
  }
}

std::string AuditDetail(std::string_view key, std::string_view value) {
  json::JsonWriter w;
  w.BeginObject();
  w.Key(key).String(value);
  w.EndObject();
  return w.Take();
}

ApiResponse ListTokens(RequestContext& rc) {
  NHI_ASSIGN_OR_RETURN(store::Store * store, rc.Store());
  NHI_ASSIGN_OR_RETURN(auto rows, store->ListApiTokens());
  json::JsonWriter w;
  w.BeginObject();
  w.Key("tokens").BeginArray();
  for (const auto& t : rows) {
    w.BeginObject();
    WriteToken(w, t);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return ApiResponse::Json(200, w.Take());
}

ApiResponse CreateToken(RequestContext& rc) {
  NHI_ASSIGN_OR_RETURN(std::string text, rc.ReadBody());
  NHI_ASSIGN_OR_RETURN(JsonBody body, JsonBody::Parse(text));
  NHI_RETURN_IF_ERROR(body.Fields({"name", "role"}));
  NHI_ASSIGN_OR_RETURN(std::string name, body.String("name", 64));
  NHI_ASSIGN_OR_RETURN(std::string role_name, body.String("role", 32));
  auto role = ParseRole(role_name);
  if (!role) {
    return ApiResponse(InvalidArgumentError("role: must be one of " + AllRoleNames()));
  }
  NHI_ASSIGN_OR_RETURN(NewToken t, MakeToken(name, *role, rc.clock()));
  const Actor& actor = rc.actor();
  const std::string request_id = rc.request_id();
  NHI_RETURN_IF_ERROR(rc.writer().Run(rc.Job("token.create", [&](ledger::Ledger& l) -> Status {
    NHI_ASSIGN_OR_RETURN(auto txn, l.store().BeginWrite());
    NHI_RETURN_IF_ERROR(txn->InsertApiToken(t.row));
    store::ApiAuditRow a;
    a.time_ns = rc.clock().NowUnixNanos();
    a.request_id = request_id;
    a.token_id = actor.token_id;
    a.token_name = actor.name;
    a.role = std::string(RoleName(actor.role));
    a.action = "token.create";
    a.detail = AuditDetail("token_id", t.row.id);
    NHI_RETURN_IF_ERROR(txn->InsertApiAudit(a));
    return txn->Commit();
  })));
  json::JsonWriter w;
  w.BeginObject();
  WriteToken(w, t.row);
  w.Key("token").String(t.token);
  w.EndObject();
  return ApiResponse::Json(201, w.Take());
}

ApiResponse RevokeToken(RequestContext& rc) {
  const std::string& id = rc.Path("id");
  const Actor& actor = rc.actor();
  const std::string request_id = rc.request_id();
  bool revoked = false;
  NHI_RETURN_IF_ERROR(rc.writer().Run(rc.Job("token.revoke", [&](ledger::Ledger& l) -> Status {
    NHI_ASSIGN_OR_RETURN(auto txn, l.store().BeginWrite());
    NHI_ASSIGN_OR_RETURN(revoked, txn->RevokeApiToken(id, rc.clock().NowUnixNanos()));
    if (!revoked) return OkStatus();  // rolled back: nothing to audit
    store::ApiAuditRow a;
    a.time_ns = rc.clock().NowUnixNanos();
    a.request_id = request_id;
    a.token_id = actor.token_id;
    a.token_name = actor.name;
    a.role = std::string(RoleName(actor.role));
    a.action = "token.revoke";
    a.detail = AuditDetail("token", id);
    NHI_RETURN_IF_ERROR(txn->InsertApiAudit(a));
    return txn->Commit();
  })));
  if (!revoked) return ApiResponse(NotFoundError("no unrevoked token with id or name " + id));
  return ApiResponse::Json(200, "{\"revoked\":true}");
}

ApiResponse ListAudit(RequestContext& rc) {
  NHI_ASSIGN_OR_RETURN(auto after, rc.QueryUint("after"));
  NHI_ASSIGN_OR_RETURN(size_t limit, rc.QueryLimit(100));
  if (after && *after > static_cast<uint64_t>(INT64_MAX)) {
    return ApiResponse(InvalidArgumentError("query parameter after: too large"));
  }
  NHI_ASSIGN_OR_RETURN(store::Store * store, rc.Store());
  NHI_ASSIGN_OR_RETURN(auto rows,
                       store->ListApiAudit(after ? static_cast<int64_t>(*after) : 0, limit));
  json::JsonWriter w;
  w.BeginObject();
  w.Key("records").BeginArray();
  for (const auto& a : rows) {
    w.BeginObject();
    w.Key("id").Int(a.id);
    w.Key("at").String(FormatRfc3339Utc(a.time_ns));
    w.Key("request_id").String(a.request_id);
    w.Key("token_id").String(a.token_id);
    w.Key("token_name").String(a.token_name);
    w.Key("role").String(a.role);
    w.Key("action").String(a.action);
    w.Key("first_seq");
    if (a.first_seq) {
      w.Uint(*a.first_seq);
    } else {
      w.Null();
    }
    w.Key("event_count").Uint(a.event_count);
    w.Key("detail").Raw(a.detail);
    w.EndObject();
  }
  w.EndArray();
  w.Key("next_after");
  if (rows.size() == limit) {
    w.Int(rows.back().id);
  } else {
    w.Null();
  }
  w.EndObject();
  return ApiResponse::Json(200, w.Take());
}

}  // namespace

Status AddTokenRoutes(Router& router, Services&) {
  NHI_RETURN_IF_ERROR(router.Add(Route::Make(Method::kGet, "/v1/tokens", kAdminRoles, ListTokens)
                                     .Summary("Every API token (never the secrets)")));
  NHI_RETURN_IF_ERROR(router.Add(Route::Make(Method::kPost, "/v1/tokens", kAdminRoles, CreateToken)
                                     .JsonBody()
                                     .Writes()
                                     .Summary("Create a token; the response shows it once")));
  NHI_RETURN_IF_ERROR(
      router.Add(Route::Make(Method::kDelete, "/v1/tokens/{id}", kAdminRoles, RevokeToken)
                     .Writes()
                     .Summary("Revoke a token (by id or name)")));
  return router.Add(Route::Make(Method::kGet, "/v1/audit", kAuditRoles, ListAudit)
                        .Query({"after", "limit"})
                        .Summary("Who changed what through the API"));
}

}  // namespace nhitrace::api
