// Policy versions (docs/format/policy.md): list, one version with its document, and publication
// (as `nhitrace policy list|show|publish`). Publication runs on the writer thread; the acting
// token's name is recorded as `published_by`. The document is validated before the job is
// queued, and PublishPolicy validates it again and appends nothing if it is invalid, so an
// invalid document is answered 400 with its line and column and nothing is written.
#include "api/json_body.h"
#include "api/route_groups.h"
#include "json/writer.h"
#include "policy/policy.h"

namespace nhitrace::api {
namespace {

constexpr char kSourceName[] = "document";

void WriteInfo(json::JsonWriter& w, const policy::PolicyInfo& i) {
  w.Key("version").Uint(i.version);
  w.Key("seq").Uint(i.seq);
  w.Key("id").String(i.id);
  w.Key("hash").String(i.hash);
  w.Key("canonical_hash").String(i.canonical_hash);
  w.Key("published_at").String(FormatRfc3339Utc(i.published_ns, 9));
  w.Key("published_by").String(i.published_by);
  w.Key("note").String(i.note);
}

ApiResponse ListPolicies(RequestContext& rc) {
  NHI_ASSIGN_OR_RETURN(store::Store * store, rc.Store());
  NHI_ASSIGN_OR_RETURN(auto list, policy::ListPolicies(*store));
  json::JsonWriter w;
  w.BeginObject();
  w.Key("policies").BeginArray();
  for (const auto& i : list) {
    w.BeginObject();
    WriteInfo(w, i);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return ApiResponse::Json(200, w.Take());
}

ApiResponse GetPolicy(RequestContext& rc) {
  NHI_ASSIGN_OR_RETURN(uint64_t version, rc.PathUint("version"));
  NHI_ASSIGN_OR_RETURN(store::Store * store, rc.Store());
  auto p = policy::LoadPolicy(*store, version);
  if (!p.ok()) return ApiResponse(p.status());
  policy::PolicyInfo info;
  info.version = p->version;
  info.seq = p->seq;
  info.id = p->id;
  info.hash = p->hash;
  info.canonical_hash = p->canonical_hash;
  info.published_ns = p->published_ns;
  info.published_by = p->published_by;
  // The note is not part of the parsed policy; take it from the list.
  NHI_ASSIGN_OR_RETURN(auto list, policy::ListPolicies(*store));
  for (const auto& i : list) {
    if (i.version == version) info.note = i.note;
  }
  json::JsonWriter w;
  w.BeginObject();
  WriteInfo(w, info);
  w.Key("document").String(SanitizeUtf8(p->document));
  w.Key("canonical").Raw(p->canonical_json);
  w.EndObject();
  return ApiResponse::Json(200, w.Take());
}

// ParsePolicy's "<source>:<line>:<column>: <path>: <reason>" as an error with line and column
// in the details.
ApiResponse InvalidDocument(const Status& s) {
  const std::string& m = s.message();
  std::string prefix = std::string(kSourceName) + ":";
  uint64_t line = 0, column = 0;
  size_t p = prefix.size();
  auto number = [&](uint64_t* out) {
    size_t start = p;
    while (p < m.size() && m[p] >= '0' && m[p] <= '9' && p - start < 9) {
      *out = *out * 10 + static_cast<uint64_t>(m[p] - '0');
      ++p;
    }
    return p > start && p < m.size() && m[p] == ':';
  };
  json::JsonWriter d;
  d.BeginObject();
  if (m.compare(0, prefix.size(), prefix) == 0 && number(&line) && (++p, number(&column))) {
    d.Key("line").Uint(line);
    d.Key("column").Uint(column);
    std::string rest = m.substr(p + 1);
    if (!rest.empty() && rest[0] == ' ') rest.erase(0, 1);
    d.Key("reason").String(SanitizeUtf8(rest));
  }
  d.EndObject();
  return ApiResponse::Error(400, "invalid_policy", SanitizeUtf8(m), d.Take());
}

ApiResponse PublishPolicy(RequestContext& rc) {
  NHI_ASSIGN_OR_RETURN(std::string text, rc.ReadBody());
  NHI_ASSIGN_OR_RETURN(JsonBody body, JsonBody::Parse(text));
  NHI_RETURN_IF_ERROR(body.Fields({"document", "note"}));
  NHI_ASSIGN_OR_RETURN(std::string yaml, body.String("document", policy::kMaxDocumentBytes));
  NHI_ASSIGN_OR_RETURN(auto note, body.OptionalString("note", 4096));
  // Validated here, on the request thread, so that a bad document never reaches the writer.
  auto parsed = policy::ParsePolicy(yaml, kSourceName);
  if (!parsed.ok()) {
    if (parsed.status().code() == StatusCode::kInvalidArgument) {
      return InvalidDocument(parsed.status());
    }
    return ApiResponse(parsed.status());
  }
  policy::PublishOptions o;
  o.source_name = kSourceName;
  o.published_by = rc.actor().name;
  o.note = note.value_or("");
  Result<policy::PublishResult> result = InternalError("the publication did not run");
  NHI_RETURN_IF_ERROR(rc.writer().Run(rc.Job("policy.publish",
                                             [&](ledger::Ledger& l) -> Status {
                                               result = policy::PublishPolicy(l, yaml, o);
                                               return OkStatus();
                                             }),
                                      yaml.size()));
  if (!result.ok()) {
    if (result.status().code() == StatusCode::kInvalidArgument) {
      return InvalidDocument(result.status());
    }
    return ApiResponse(result.status());
  }
  json::JsonWriter w;
  w.BeginObject();
  WriteInfo(w, result->info);
  w.Key("unchanged").Bool(result->unchanged);
  w.EndObject();
  return ApiResponse::Json(result->unchanged ? 200 : 201, w.Take());
}

}  // namespace

Status AddPolicyRoutes(Router& router, Services&) {
  NHI_RETURN_IF_ERROR(router.Add(Route::Make(Method::kGet, "/v1/policies", kReadRoles, ListPolicies)
                                     .Summary("Every published policy version")));
  NHI_RETURN_IF_ERROR(
      router.Add(Route::Make(Method::kGet, "/v1/policies/{version}", kReadRoles, GetPolicy)
                     .Summary("One version: metadata, document and canonical JSON")));
  // Body(): the document may be up to policy::kMaxDocumentBytes, more than a JSON body's limit
  // once escaped; the handler bounds the document itself.
  return router.Add(Route::Make(Method::kPost, "/v1/policies", kAdminRoles, PublishPolicy)
                        .Body()
                        .Writes()
                        .Summary("Publish a policy document as the next version"));
}

}  // namespace nhitrace::api
