#include "ledger/erasure.h"

#include "base/time.h"
#include "event/codec.h"
#include "json/dom.h"
#include "json/writer.h"

namespace nhitrace::ledger {
namespace {

int64_t TruncateToMicros(int64_t ns) {
  int64_t us = ns / 1000;
  if (ns < 0 && ns % 1000 != 0) --us;
  return us * 1000;
}

}  // namespace

std::string ErasureRecordLine(uint64_t erased_seq, int64_t time_ns, std::string_view reason,
                              std::string_view by) {
  json::JsonWriter w = json::JsonWriter::Canonical();
  w.BeginObject();
  if (!by.empty()) w.Key("actor").BeginObject().Key("id").String(by).EndObject();
  w.Key("attributes").BeginObject().Key("erased_seq").Uint(erased_seq).EndObject();
  w.Key("kind").String("erasure");
  w.Key("rationale").String(reason);
  w.Key("source").BeginObject();
  w.Key("event_id").String("erasure/" + std::to_string(erased_seq));
  w.Key("system").String(kErasureSystem);
  w.EndObject();
  w.Key("time").String(FormatRfc3339Utc(time_ns, 6));
  w.Key("v").Int(event::kSchemaVersion);
  w.EndObject();
  return w.Take();
}

std::optional<uint64_t> ErasedSeq(const event::Event& e) {
  if (e.kind != event::Kind::kErasure || e.source_system != kErasureSystem ||
      e.attributes.empty()) {
    return std::nullopt;
  }
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (json::ParseJson(parser, e.attributes, &root) != simdjson::SUCCESS) return std::nullopt;
  uint64_t seq = 0;
  if (root["erased_seq"].get_uint64().get(seq) != simdjson::SUCCESS) return std::nullopt;
  return seq;
}

Result<ErasureResult> EraseRawRecord(Ledger& ledger, const ErasureRequest& request) {
  const std::string which = "event " + std::to_string(request.seq);
  if (request.reason.empty()) {
    return InvalidArgumentError("an erasure needs a reason (the request it fulfils)");
  }
  store::Store& store = ledger.store();
  NHI_ASSIGN_OR_RETURN(auto row, store.GetEvent(request.seq));
  if (!row) return NotFoundError("no event with seq " + std::to_string(request.seq));
  if (!row->raw_id) return FailedPreconditionError(which + " has no raw record to erase");
  NHI_ASSIGN_OR_RETURN(auto raw, store.GetRaw(*row->raw_id));
  if (!raw) return FailedPreconditionError(which + " has no raw record to erase");
  if (raw->erased_ns) {
    return FailedPreconditionError("the raw record of " + which + " was erased already, at " +
                                   FormatRfc3339Utc(*raw->erased_ns, 6));
  }

  ErasureResult result;
  result.erased_seq = request.seq;
  result.size = raw->size;
  result.erased_ns = TruncateToMicros(ledger.clock().NowUnixNanos());
  std::string line = ErasureRecordLine(request.seq, result.erased_ns, request.reason, request.by);
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (json::ParseJson(parser, line, &root) != simdjson::SUCCESS) {
    return InternalError("the erasure record is not valid JSON");
  }
  auto record = event::DecodeNative(root);
  if (!record.ok()) {
    // The reason or the actor: "rationale: ..." / "actor.id: ...".
    return InvalidArgumentError("the erasure record is not valid: " + record.status().message());
  }

  NHI_ASSIGN_OR_RETURN(auto batch, ledger.BeginBatch());
  NHI_ASSIGN_OR_RETURN(AppendOutcome appended, batch->Append(*record, line));
  if (appended.status != AppendStatus::kAccepted) {
    return FailedPreconditionError("an erasure record for " + which +
                                   " with this time is already in the ledger (seq " +
                                   std::to_string(appended.seq) + ")");
  }
  NHI_RETURN_IF_ERROR(batch->EraseRaw(request.seq, result.erased_ns));
  NHI_RETURN_IF_ERROR(batch->Commit());
  batch.reset();  // ends the write transaction
  result.erasure_seq = appended.seq;
  result.tree_size = ledger.size();
  result.purge = store.PurgeFreedSpace();
  return result;
}

}  // namespace nhitrace::ledger
