// Identity-to-action: the trace of a request, identity or event, and the identity inventory.
// GET /v1/trace returns exactly `nhitrace trace --json` (docs/format/trace.md).
#include <map>

#include "api/route_groups.h"
#include "correlate/trace.h"
#include "json/writer.h"

namespace nhitrace::api {
namespace {

void OptTime(json::JsonWriter& w, std::string_view key, std::optional<int64_t> ns) {
  w.Key(key);
  if (ns) {
    w.String(FormatRfc3339Utc(*ns, 6));
  } else {
    w.Null();
  }
}

ApiResponse Trace(RequestContext& rc) {
  correlate::TraceQuery q;
  int given = 0;
  if (auto* v = rc.Query("request")) q.request = *v, ++given;
  if (auto* v = rc.Query("identity")) q.identity = *v, ++given;
  NHI_ASSIGN_OR_RETURN(q.event, rc.QueryUint("event"));
  if (q.event) ++given;
  if (given != 1 || (rc.Query("request") && q.request.empty()) ||
      (rc.Query("identity") && q.identity.empty())) {
    return ApiResponse(
        InvalidArgumentError("give exactly one of the query parameters request, identity, event"));
  }
  NHI_ASSIGN_OR_RETURN(store::Store * store, rc.Store());
  NHI_ASSIGN_OR_RETURN(correlate::Trace t, correlate::BuildTrace(*store, q));
  return ApiResponse::Json(200, correlate::TraceToJson(t));
}

// The summary line of an identity, as `nhitrace identities --json` prints it.
Status WriteIdentitySummary(store::Store& store, const std::string& canonical,
                            json::JsonWriter& w) {
  NHI_ASSIGN_OR_RETURN(auto id, correlate::LoadIdentity(store, canonical));
  if (!id) return NotFoundError("identity " + canonical + " vanished while listing");
  std::map<std::string, store::GrantRow> grants;
  for (const auto& k : id->keys) {
    NHI_ASSIGN_OR_RETURN(auto rows, store.ListGrantsForKey(k.row.key));
    for (auto& g : rows) grants.emplace(g.correlation_key, std::move(g));
  }
  // As in the CLI: as live as the most live grant (active, else provisioned), else the status
  // of the grant that started last.
  uint64_t issues = 0;
  std::string status = grants.empty() ? "ungranted" : "";
  const store::GrantRow* latest = nullptr;
  for (const auto& [ck, g] : grants) {
    issues += g.issue_count;
    if (g.status == "active") {
      status = "active";
    } else if (g.status == "provisioned" && status != "active") {
      status = "provisioned";
    }
    if (!latest || g.start_ns > latest->start_ns) latest = &g;
  }
  if (status.empty() && latest) status = latest->status;
  w.BeginObject();
  w.Key("canonical").String(id->canonical);
  w.Key("grants").Uint(grants.size());
  w.Key("issues").Uint(issues);
  w.Key("keys").Uint(id->keys.size());
  w.Key("kind").String(id->kind);
  OptTime(w, "last_action", id->last_action_ns);
  w.Key("owner").String(id->owner);
  w.Key("sponsor").String(id->sponsor);
  w.Key("status").String(status);
  w.EndObject();
  return OkStatus();
}

ApiResponse ListIdentities(RequestContext& rc) {
  store::IdentityQuery q;
  if (auto* v = rc.Query("kind")) q.kind = *v;
  if (auto* v = rc.Query("owner")) q.owner = *v;
  NHI_ASSIGN_OR_RETURN(q.limit, rc.QueryLimit(1000));
  NHI_ASSIGN_OR_RETURN(store::Store * store, rc.Store());
  NHI_ASSIGN_OR_RETURN(auto keys, store->ListCanonicalKeys(q));
  json::JsonWriter w;
  w.BeginObject();
  w.Key("identities").BeginArray();
  for (const auto& k : keys) NHI_RETURN_IF_ERROR(WriteIdentitySummary(*store, k, w));
  w.EndArray();
  w.Key("limit").Uint(q.limit);
  w.Key("limit_reached").Bool(keys.size() == q.limit);
  w.EndObject();
  return ApiResponse::Json(200, w.Take());
}

ApiResponse GetIdentity(RequestContext& rc) {
  const std::string& key = rc.Path("key");
  NHI_ASSIGN_OR_RETURN(store::Store * store, rc.Store());
  NHI_ASSIGN_OR_RETURN(auto id, correlate::LoadIdentity(*store, key));
  if (!id) return ApiResponse(NotFoundError("no identity with key " + key));
  json::JsonWriter w;
  w.BeginObject();
  w.Key("canonical").String(id->canonical);
  w.Key("kind").String(id->kind);
  w.Key("name").String(id->name);
  w.Key("owner").String(id->owner);
  w.Key("sponsor").String(id->sponsor);
  w.Key("system").String(id->system);
  w.Key("first_seen").String(FormatRfc3339Utc(id->first_seen_ns, 6));
  w.Key("last_seen").String(FormatRfc3339Utc(id->last_seen_ns, 6));
  OptTime(w, "last_action", id->last_action_ns);
  w.Key("event_count").Uint(id->event_count);
  w.Key("action_count").Uint(id->action_count);
  w.Key("keys").BeginArray();
  for (const auto& k : id->keys) {
    w.BeginObject();
    w.Key("key").String(k.row.key);
    w.Key("links").BeginArray();
    for (const auto& l : k.links) {
      w.BeginObject();
      w.Key("key_a").String(l.key_a);
      w.Key("key_b").String(l.key_b);
      w.Key("seq").Uint(l.seq);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return ApiResponse::Json(200, w.Take());
}

}  // namespace

Status AddTraceRoutes(Router& router, Services&) {
  NHI_RETURN_IF_ERROR(router.Add(Route::Make(Method::kGet, "/v1/trace", kReadRoles, Trace)
                                     .Query({"request", "identity", "event"})
                                     .Summary("The chain from request to use (trace_version 1)")));
  NHI_RETURN_IF_ERROR(
      router.Add(Route::Make(Method::kGet, "/v1/identities", kReadRoles, ListIdentities)
                     .Query({"kind", "owner", "limit"})
                     .Summary("The inventory of non-human identities")));
  return router.Add(Route::Make(Method::kGet, "/v1/identities/{key}", kReadRoles, GetIdentity)
                        .Summary("One identity (by any of its keys) with its aliases"));
}

}  // namespace nhitrace::api
