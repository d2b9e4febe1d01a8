#include "evidence/summary.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

#include "base/file.h"
#include "base/time.h"
#include "cases/explain.h"
#include "correlate/derived_state.h"
#include "correlate/trace.h"
#include "correlate/trace_text.h"
#include "json/canonical.h"
#include "json/writer.h"
#include "ledger/erasure.h"
#include "reconcile/finding.h"
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

// The case's explanation from the pack's case events, and the check that the pack holds every
// event the case refers to, every revision of every finding it names from the first to the last
// the pack holds, and the evidence those revisions name.
Result<Summary> CaseSummary(const PackQuery& query, const std::vector<PackEvent>& events,
                            uint64_t tree_size) {
  std::set<uint64_t> have;
  std::vector<event::Event> decoded;  // the case and finding events, decoded again
  std::vector<uint64_t> decoded_seqs;
  for (const PackEvent& pe : events) {
    have.insert(pe.seq);
    if (pe.kind != event::Kind::kCase && pe.kind != event::Kind::kFinding) continue;
    auto d = event::DecodeLeaf(pe.leaf);
    if (!d.ok()) return d.status().WithContext("event seq " + std::to_string(pe.seq));
    decoded.push_back(std::move(d->event));
    decoded_seqs.push_back(pe.seq);
  }
  std::vector<cases::SeqEvent> in;
  std::map<std::string, std::map<uint32_t, FindingRecord>> findings;
  for (size_t i = 0; i < decoded.size(); ++i) {
    if (decoded[i].kind == event::Kind::kCase) {
      in.push_back({decoded_seqs[i], &decoded[i]});
    } else if (auto f = FindingRecordOf(decoded[i])) {
      f->seq = decoded_seqs[i];
      findings[f->id][f->revision] = std::move(*f);
    }
  }
  NHI_ASSIGN_OR_RETURN(cases::Explanation x, cases::ExplainCaseFromEvents(*query.case_id, in));
  x.ledger_size = tree_size;

  const std::string which = "case " + std::to_string(*query.case_id);
  cases::CaseReferences refs = cases::ReferencesOf(x.view);
  auto need = [&](uint64_t seq, const std::string& why) -> Status {
    if (have.count(seq)) return OkStatus();
    return InvalidArgumentError(which + " " + why + " event seq " + std::to_string(seq) +
                                ", which the pack does not hold");
  };
  // What the case needs, which must be exactly what the pack holds (with the policy events of
  // the policy versions they name and the erasure events of their erased records).
  std::set<uint64_t> needed(x.view.seqs.begin(), x.view.seqs.end());
  for (uint64_t seq : refs.events) {
    NHI_RETURN_IF_ERROR(need(seq, "refers to"));
    needed.insert(seq);
  }
  for (const std::string& id : refs.findings) {
    auto it = findings.find(id);
    if (it == findings.end()) continue;  // the ledger may hold no event of it (a typed id)
    uint32_t expect = 1;
    for (const auto& [revision, record] : it->second) {
      if (revision != expect) {
        return InvalidArgumentError(which + " names finding " + id + ", whose revision " +
                                    std::to_string(expect) + " the pack does not hold (it holds " +
                                    std::to_string(revision) + ")");
      }
      ++expect;
      needed.insert(record.seq);
      for (uint64_t seq : record.evidence) {
        NHI_RETURN_IF_ERROR(need(seq, "names finding " + id + ", whose revision " +
                                          std::to_string(revision) + " names as evidence"));
        needed.insert(seq);
      }
    }
  }
  std::set<std::pair<std::string, std::string>> policies;
  for (const PackEvent& pe : events) {
    if (needed.count(pe.seq) && pe.kind != event::Kind::kPolicy && pe.policy) {
      policies.insert(*pe.policy);
    }
  }
  for (const PackEvent& pe : events) {
    bool policy = pe.kind == event::Kind::kPolicy && pe.policy && policies.count(*pe.policy);
    bool erasure = pe.erased_seq && have.count(*pe.erased_seq);
    if (!needed.count(pe.seq) && !policy && !erasure) {
      return InvalidArgumentError("the pack holds event seq " + std::to_string(pe.seq) +
                                  ", which " + which +
                                  " does not need (neither its own, nor one it refers to, nor "
                                  "a policy or erasure event of those)");
    }
  }

  Summary s;
  s.type = "case";
  NHI_ASSIGN_OR_RETURN(s.json, json::Canonicalize(cases::ExplanationToJson(x)));
  s.text = cases::ExplanationToText(x);
  return s;
}

}  // namespace

std::optional<FindingRecord> FindingRecordOf(const event::Event& e) {
  constexpr std::string_view kPrefix = "finding/";
  if (e.kind != event::Kind::kFinding || e.source_system != reconcile::kFindingSource ||
      !e.source_event_id.starts_with(kPrefix)) {
    return std::nullopt;
  }
  std::string_view rest = std::string_view(e.source_event_id).substr(kPrefix.size());
  size_t slash = rest.rfind('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  FindingRecord r;
  r.id = std::string(rest.substr(0, slash));
  std::string_view rev = rest.substr(slash + 1);
  auto [end, ec] = std::from_chars(rev.data(), rev.data() + rev.size(), r.revision);
  if (ec != std::errc() || end != rev.data() + rev.size() || r.revision == 0 ||
      rev.front() == '0') {
    return std::nullopt;
  }
  auto f = reconcile::FromAttributes(e.attributes);
  if (f.ok() && f->id == r.id) r.evidence = std::move(f->evidence);
  return r;
}

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
                               const std::string& scratch_dir, uint64_t tree_size) {
  NHI_RETURN_IF_ERROR(ValidateQuery(query));
  if (!query.from.empty()) return ListingSummary(query, events);
  if (query.case_id) return CaseSummary(query, events, tree_size);
  return TraceSummary(query, events, scratch_dir);
}

}  // namespace nhitrace::evidence
