#include "evidence/summary.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>

#include "base/file.h"
#include "base/time.h"
#include "correlate/derived_state.h"
#include "correlate/trace.h"
#include "correlate/trace_text.h"
#include "json/canonical.h"
#include "json/writer.h"
#include "ledger/erasure.h"
#include "store/store.h"
#include "tlog/merkle.h"

namespace nhitrace::evidence {
namespace {

// A private directory (mode 0700) removed with everything in it when the object goes.
class ScratchDir {
 public:
  static Result<std::unique_ptr<ScratchDir>> Make(const std::string& parent) {
    std::string tmpl = (std::filesystem::path(parent) / "nhitrace-pack-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      int err = errno;
      return UnavailableError(
          parent + ": cannot create a scratch directory for the summary: " + ErrnoMessage(err));
    }
    return std::unique_ptr<ScratchDir>(new ScratchDir(std::move(tmpl)));
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  std::string File(const char* name) const { return path_ + "/" + name; }

 private:
  explicit ScratchDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

store::EventRow RowOf(const PackEvent& pe) {
  store::EventRow row;
  row.seq = pe.seq;
  row.leaf = pe.leaf;
  row.leaf_hash = tlog::LeafHash(pe.leaf);
  row.kind = std::string(event::KindName(pe.kind));
  row.time_ns = pe.time_ns;
  row.ingested_ns = pe.ingested_ns;
  row.source_system = pe.source_system;
  row.source_event_id = pe.source_event_id;
  row.correlation_key = pe.correlation_key;
  row.identity_key = pe.identity;
  row.actor_id = pe.actor_id;
  return row;
}

Result<Summary> TraceSummary(const PackQuery& query, const std::vector<PackEvent>& events,
                             const std::string& scratch_dir) {
  NHI_ASSIGN_OR_RETURN(auto dir, ScratchDir::Make(scratch_dir));
  store::StoreOptions opts;
  opts.path = dir->File("replay.db");
  opts.create = true;
  opts.durable = false;
  opts.ephemeral = true;
  opts.page_size = 4096;  // small: most replays hold a few events
  opts.cache_bytes = int64_t{64} << 20;
  NHI_ASSIGN_OR_RETURN(auto store, store::OpenStore(opts));
  {
    NHI_ASSIGN_OR_RETURN(auto txn, store->BeginWrite());
    for (const PackEvent& pe : events) {
      NHI_ASSIGN_OR_RETURN(bool inserted, txn->InsertEvent(RowOf(pe)));
      if (!inserted) {
        return InvalidArgumentError("event seq " + std::to_string(pe.seq) +
                                    " has the record identity (source system, time, event id) "
                                    "of an earlier event of the pack");
      }
    }
    NHI_RETURN_IF_ERROR(txn->Commit());
  }
  NHI_RETURN_IF_ERROR(correlate::DerivedState::Rebuild(*store));
  correlate::TraceQuery tq;
  tq.identity = query.identity;
  tq.request = query.request;
  NHI_ASSIGN_OR_RETURN(correlate::Trace trace, correlate::BuildTrace(*store, tq));
  Summary s;
  s.type = "trace";
  NHI_ASSIGN_OR_RETURN(s.json, json::Canonicalize(correlate::TraceToJson(trace)));
  s.text = correlate::TraceToText(trace);
  return s;
}

std::string ShortTime(int64_t ns) {
  std::string t = FormatRfc3339Utc(ns, 0);
  t[10] = ' ';
  return t;
}

Result<Summary> ListingSummary(const PackQuery& query, const std::vector<PackEvent>& events) {
  NHI_ASSIGN_OR_RETURN(Rfc3339Time from, ParseRfc3339(query.from));
  NHI_ASSIGN_OR_RETURN(Rfc3339Time to, ParseRfc3339(query.to));
  std::vector<const PackEvent*> listed;
  std::map<std::string, uint64_t> kinds;
  for (const PackEvent& pe : events) {
    if (pe.time_ns < from.unix_nanos || pe.time_ns >= to.unix_nanos) continue;
    listed.push_back(&pe);
    ++kinds[std::string(event::KindName(pe.kind))];
  }
  std::sort(listed.begin(), listed.end(), [](const PackEvent* a, const PackEvent* b) {
    return a->time_ns != b->time_ns ? a->time_ns < b->time_ns : a->seq < b->seq;
  });

  json::JsonWriter w = json::JsonWriter::Canonical();
  w.BeginObject();
  w.Key("count").Uint(listed.size());
  w.Key("from").String(query.from);
  w.Key("kinds").BeginObject();
  for (const auto& [k, n] : kinds) w.Key(k).Uint(n);
  w.EndObject();
  w.Key("listing_version").Int(1);
  w.Key("seqs").BeginArray();
  for (const PackEvent* pe : listed) w.Uint(pe->seq);
  w.EndArray();
  w.Key("to").String(query.to);
  w.EndObject();

  Summary s;
  s.type = "listing";
  s.json = w.Take();
  std::string& t = s.text;
  t = "EVENTS from " + query.from + " to " + query.to + ": " + std::to_string(listed.size()) +
      (listed.size() == 1 ? " event" : " events") + " (by authoritative time, then seq)\n";
  std::string counts;
  for (const auto& [k, n] : kinds) {
    counts += (counts.empty() ? "  " : " · ") + k + " " + std::to_string(n);
  }
  if (!counts.empty()) t += counts + "\n";
  t += "\n     SEQ  TIME (UTC)            KIND            SOURCE\n";
  char buf[64];
  for (const PackEvent* pe : listed) {
    std::snprintf(buf, sizeof buf, "%8llu  ", static_cast<unsigned long long>(pe->seq));
    t += buf;
    t += ShortTime(pe->time_ns);
    std::string kind(event::KindName(pe->kind));
    kind.resize(std::max<size_t>(kind.size(), 14), ' ');
    t += "  " + kind + "  " + pe->source_system + " " + pe->source_event_id + "\n";
    if (!pe->identity.empty()) t += "          identity " + pe->identity + "\n";
    if (!pe->correlation_key.empty()) t += "          request  " + pe->correlation_key + "\n";
  }
  return s;
}

}  // namespace

PackEvent MakePackEvent(uint64_t seq, std::string leaf, const event::DecodedLeaf& decoded) {
  const event::Event& e = decoded.event;
  PackEvent pe;
  pe.seq = seq;
  pe.leaf = std::move(leaf);
  pe.ingested_ns = decoded.envelope.ingested_ns;
  pe.kind = e.kind;
  pe.time_ns = e.time_ns;
  pe.source_system = e.source_system;
  pe.source_event_id = e.source_event_id;
  pe.correlation_key = e.correlation_key;
  pe.identity = e.identity;
  if (e.actor) pe.actor_id = e.actor->id;
  if (e.policy) pe.policy.emplace(e.policy->id, e.policy->version);
  pe.erased_seq = ledger::ErasedSeq(e);
  return pe;
}

std::string DefaultScratchDir() {
  const char* tmp = std::getenv("TMPDIR");
  return tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
}

Result<Summary> ComputeSummary(const PackQuery& query, const std::vector<PackEvent>& events,
                               const std::string& scratch_dir) {
  NHI_RETURN_IF_ERROR(ValidateQuery(query));
  if (!query.from.empty()) return ListingSummary(query, events);
  return TraceSummary(query, events, scratch_dir);
}

}  // namespace nhitrace::evidence
