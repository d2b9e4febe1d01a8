// Evidence in the ledger: events, checkpoints, inclusion and consistency proofs, quarantine.
// The JSON shapes follow the CLI's --json output (docs/cli.md); docs/api/openapi.yaml has them.
#include "api/route_groups.h"
#include "base/encoding.h"
#include "json/writer.h"
#include "tlog/checkpoint.h"

namespace nhitrace::api {
namespace {

std::string B64(const tlog::Hash& h) { return Base64Encode(crypto::AsBytes(h)); }

void WriteHashes(json::JsonWriter& w, std::string_view key, const std::vector<tlog::Hash>& hs) {
  w.Key(key).BeginArray();
  for (const auto& h : hs) w.String(B64(h));
  w.EndArray();
}

void WriteAudit(json::JsonWriter& w, const std::optional<store::ApiAuditRow>& a) {
  w.Key("ingested_by");
  if (!a) {
    w.Null();
    return;
  }
  w.BeginObject();
  w.Key("token_name").String(a->token_name);
  w.Key("role").String(a->role);
  w.Key("request_id").String(a->request_id);
  w.Key("at").String(FormatRfc3339Utc(a->time_ns));
  w.EndObject();
}

ApiResponse GetEvent(RequestContext& rc) {
  NHI_ASSIGN_OR_RETURN(uint64_t seq, rc.PathUint("seq"));
  NHI_ASSIGN_OR_RETURN(store::Store * store, rc.Store());
  NHI_ASSIGN_OR_RETURN(auto row, store->GetEvent(seq));
  if (!row) return ApiResponse(NotFoundError("no event with seq " + std::to_string(seq)));
  std::optional<store::RawRow> raw;
  if (row->raw_id) {
    NHI_ASSIGN_OR_RETURN(raw, store->GetRaw(*row->raw_id));
  }
  NHI_ASSIGN_OR_RETURN(auto audit, store->ApiAuditForSeq(seq));
  json::JsonWriter w;
  w.BeginObject();
  w.Key("seq").Uint(row->seq);
  w.Key("leaf").Raw(row->leaf);
  w.Key("leaf_hash").String(B64(row->leaf_hash));
  if (raw && !raw->erased_ns) {
    w.Key("raw_base64").String(Base64Encode(raw->bytes));
  } else if (raw) {
    w.Key("raw_erased_at").String(FormatRfc3339Utc(*raw->erased_ns));
  }
  WriteAudit(w, audit);
  w.EndObject();
  return ApiResponse::Json(200, w.Take());
}

ApiResponse ListEvents(RequestContext& rc) {
  store::EventQuery q;
  if (auto* v = rc.Query("request")) q.correlation_key = *v;
  if (auto* v = rc.Query("identity")) q.identity_key = *v;
  if (auto* v = rc.Query("kind")) q.kind = *v;
  NHI_ASSIGN_OR_RETURN(q.from_ns, rc.QueryTime("from"));
  NHI_ASSIGN_OR_RETURN(q.to_ns, rc.QueryTime("to"));
  NHI_ASSIGN_OR_RETURN(q.limit, rc.QueryLimit(100));
  NHI_ASSIGN_OR_RETURN(store::Store * store, rc.Store());
  NHI_ASSIGN_OR_RETURN(auto rows, store->QueryEvents(q));
  json::JsonWriter w;
  w.BeginObject();
  w.Key("events").BeginArray();
  for (const auto& e : rows) {
    w.BeginObject();
    w.Key("seq").Uint(e.seq);
    w.Key("leaf").Raw(e.leaf);
    w.EndObject();
  }
  w.EndArray();
  w.Key("limit").Uint(q.limit);
  w.Key("limit_reached").Bool(rows.size() == q.limit);
  w.EndObject();
  return ApiResponse::Json(200, w.Take());
}

ApiResponse GetCheckpoint(RequestContext& rc) {
  NHI_ASSIGN_OR_RETURN(auto size, rc.QueryUint("size"));
  NHI_ASSIGN_OR_RETURN(ledger::Ledger * ledger, rc.Ledger());
  std::optional<store::CheckpointRow> cp;
  if (size) {
    NHI_ASSIGN_OR_RETURN(cp, ledger->store().CheckpointAt(*size));
    if (!cp) {
      return ApiResponse(
          NotFoundError("no checkpoint was published at tree size " + std::to_string(*size)));
    }
  } else {
    NHI_ASSIGN_OR_RETURN(cp, ledger->LatestCheckpoint());
  }
  // Never hand out a checkpoint whose signature does not verify.
  auto opened = tlog::OpenCheckpoint(cp->note, ledger->verifier(), ledger->origin());
  if (!opened.ok()) {
    return ApiResponse(DataLossError("stored checkpoint at size " + std::to_string(cp->size) +
                                     " does not verify: " + opened.status().message()));
  }
  json::JsonWriter w;
  w.BeginObject();
  w.Key("origin").String(opened->origin);
  w.Key("size").Uint(opened->size);
  w.Key("root").String(B64(opened->root));
  w.Key("note").String(cp->note);
  w.Key("verifier_key").String(ledger->verifier().ToString());
  w.EndObject();
  return ApiResponse::Json(200, w.Take());
}

ApiResponse ProveInclusion(RequestContext& rc) {
  NHI_ASSIGN_OR_RETURN(auto seq, rc.QueryUint("seq"));
  if (!seq) return ApiResponse(InvalidArgumentError("query parameter seq: required"));
  NHI_ASSIGN_OR_RETURN(auto size, rc.QueryUint("size"));
  NHI_ASSIGN_OR_RETURN(ledger::Ledger * ledger, rc.Ledger());
  if (size) {
    NHI_ASSIGN_OR_RETURN(auto cp, ledger->store().CheckpointAt(*size));
    if (!cp) {
      return ApiResponse(
          NotFoundError("no checkpoint was published at tree size " + std::to_string(*size)));
    }
  }
  NHI_ASSIGN_OR_RETURN(auto p, ledger->ProveInclusion(*seq, size));
  json::JsonWriter w;
  w.BeginObject();
  w.Key("leaf_index").Uint(p.leaf_index);
  w.Key("tree_size").Uint(p.tree_size);
  w.Key("leaf_hash").String(B64(p.leaf_hash));
  WriteHashes(w, "hashes", p.hashes);
  w.Key("checkpoint").String(p.checkpoint);
  w.EndObject();
  return ApiResponse::Json(200, w.Take());
}

ApiResponse ProveConsistency(RequestContext& rc) {
  NHI_ASSIGN_OR_RETURN(auto size1, rc.QueryUint("size1"));
  if (!size1) return ApiResponse(InvalidArgumentError("query parameter size1: required"));
  NHI_ASSIGN_OR_RETURN(auto size2, rc.QueryUint("size2"));
  NHI_ASSIGN_OR_RETURN(ledger::Ledger * ledger, rc.Ledger());
  for (auto s : {std::optional<uint64_t>(size1), size2}) {
    if (!s) continue;
    NHI_ASSIGN_OR_RETURN(auto cp, ledger->store().CheckpointAt(*s));
    if (!cp) {
      return ApiResponse(
          NotFoundError("no checkpoint was published at tree size " + std::to_string(*s)));
    }
  }
  NHI_ASSIGN_OR_RETURN(auto p, ledger->ProveConsistency(*size1, size2));
  json::JsonWriter w;
  w.BeginObject();
  w.Key("size1").Uint(p.size1);
  w.Key("size2").Uint(p.size2);
  WriteHashes(w, "hashes", p.hashes);
  w.Key("checkpoint1").String(p.checkpoint1);
  w.Key("checkpoint2").String(p.checkpoint2);
  w.EndObject();
  return ApiResponse::Json(200, w.Take());
}

ApiResponse ListQuarantine(RequestContext& rc) {
  NHI_ASSIGN_OR_RETURN(auto after, rc.QueryUint("after"));
  NHI_ASSIGN_OR_RETURN(size_t limit, rc.QueryLimit(100));
  if (after && *after > static_cast<uint64_t>(INT64_MAX)) {
    return ApiResponse(InvalidArgumentError("query parameter after: too large"));
  }
  NHI_ASSIGN_OR_RETURN(store::Store * store, rc.Store());
  NHI_ASSIGN_OR_RETURN(auto rows,
                       store->ListQuarantine(after ? static_cast<int64_t>(*after) : 0, limit));
  json::JsonWriter w;
  w.BeginObject();
  w.Key("records").BeginArray();
  for (const auto& q : rows) {
    w.BeginObject();
    w.Key("id").Int(q.id);
    w.Key("received_at").String(FormatRfc3339Utc(q.received_ns));
    w.Key("source").String(SanitizeUtf8(q.source));
    w.Key("line").Uint(q.line);
    w.Key("format").String(SanitizeUtf8(q.format));
    w.Key("field").String(SanitizeUtf8(q.field));
    w.Key("reason").String(SanitizeUtf8(q.reason));
    w.Key("raw_base64").String(Base64Encode(q.raw));
    w.Key("raw_size").Uint(q.raw_size);
    w.Key("raw_sha256").String(HexEncode(q.raw_sha256));
    w.Key("truncated").Bool(q.truncated);
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

Status AddLedgerRoutes(Router& router, Services&) {
  NHI_RETURN_IF_ERROR(router.Add(Route::Make(Method::kGet, "/v1/events", kReadRoles, ListEvents)
                                     .Query({"request", "identity", "kind", "from", "to", "limit"})
                                     .Summary("Events by request, identity, kind or time")));
  NHI_RETURN_IF_ERROR(
      router.Add(Route::Make(Method::kGet, "/v1/events/{seq}", kReadRoles, GetEvent)
                     .Summary("One event: its signed leaf, raw record and who sent it")));
  NHI_RETURN_IF_ERROR(
      router.Add(Route::Make(Method::kGet, "/v1/checkpoint", kReadRoles, GetCheckpoint)
                     .Query({"size"})
                     .Summary("The latest (or a published) signed checkpoint")));
  NHI_RETURN_IF_ERROR(
      router.Add(Route::Make(Method::kGet, "/v1/proofs/inclusion", kReadRoles, ProveInclusion)
                     .Query({"seq", "size"})
                     .Summary("Inclusion proof of an event")));
  NHI_RETURN_IF_ERROR(
      router.Add(Route::Make(Method::kGet, "/v1/proofs/consistency", kReadRoles, ProveConsistency)
                     .Query({"size1", "size2"})
                     .Summary("Consistency proof between two checkpoints")));
  return router.Add(Route::Make(Method::kGet, "/v1/quarantine", kReadRoles, ListQuarantine)
                        .Query({"after", "limit"})
                        .Summary("Rejected input records and why"));
}

}  // namespace nhitrace::api
