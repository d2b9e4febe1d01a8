#include "evidence/export.h"

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <map>
#include <set>
#include <unordered_map>

#include <fcntl.h>
#include <unistd.h>

#include "base/file.h"
#include "base/time.h"
#include "cases/explain.h"
#include "correlate/trace.h"
#include "correlate/trace_text.h"
#include "crypto/random.h"
#include "crypto/sha256.h"
#include "event/codec.h"
#include "evidence/summary.h"
#include "json/canonical.h"
#include "ledger/erasure.h"
#include "ledger/ledger.h"
#include "tlog/checkpoint.h"
#include "tlog/proof.h"

namespace nhitrace::evidence {
namespace {

constexpr size_t kNoLimit = SIZE_MAX >> 1;

std::string SeqName(uint64_t seq) { return "seq " + std::to_string(seq); }

// One event of the pack: its leaf, decoded, and where its raw record is.
struct Selected {
  PackEvent event;
  std::optional<int64_t> raw_id;
  std::optional<event::RawDigest> digest;  // what the leaf commits to
};

// The events a pack holds, by seq.
struct Selection {
  std::map<uint64_t, Selected> rows;
  std::map<uint64_t, uint64_t> erased_by;  // erased seq -> its erasure event
};

Status Add(Selection& sel, store::EventRow row) {
  uint64_t seq = row.seq;
  if (sel.rows.count(seq)) return OkStatus();
  auto d = event::DecodeLeaf(row.leaf);
  if (!d.ok()) {
    return DataLossError(SeqName(seq) + ": " + d.status().message() + " (run nhitrace verify)");
  }
  Selected s;
  s.event = MakePackEvent(seq, std::move(row.leaf), *d);
  s.raw_id = row.raw_id;
  s.digest = std::move(d->envelope.raw);
  sel.rows.emplace(seq, std::move(s));
  return OkStatus();
}

// Node hashes from the store, each read once: the proofs of neighbouring events share most of
// their nodes.
class CachingNodeReader final : public tlog::NodeReader {
 public:
  explicit CachingNodeReader(tlog::NodeReader& base) : base_(base) {}
  Result<std::vector<tlog::Hash>> ReadNodes(std::span<const tlog::NodeId> ids) override {
    std::vector<tlog::NodeId> missing;
    for (const auto& id : ids) {
      if (!cache_.count(Key(id))) missing.push_back(id);
    }
    if (!missing.empty()) {
      if (cache_.size() > (size_t{1} << 22)) cache_.clear();  // bounded (128 MiB of hashes)
      NHI_ASSIGN_OR_RETURN(std::vector<tlog::Hash> read, base_.ReadNodes(missing));
      for (size_t i = 0; i < missing.size(); ++i) cache_[Key(missing[i])] = read[i];
    }
    std::vector<tlog::Hash> out;
    out.reserve(ids.size());
    for (const auto& id : ids) out.push_back(cache_.at(Key(id)));
    return out;
  }

 private:
  // Level and index in one word (levels < 64, indexes < 2^57 for any tree a store can hold).
  static uint64_t Key(const tlog::NodeId& id) { return (id.index << 6) | id.level; }
  tlog::NodeReader& base_;
  std::unordered_map<uint64_t, tlog::Hash> cache_;
};

Status AddQuery(store::Store& store, Selection& sel, store::EventQuery q) {
  q.limit = kNoLimit;
  NHI_ASSIGN_OR_RETURN(std::vector<store::EventRow> rows, store.QueryEvents(q));
  for (auto& r : rows) NHI_RETURN_IF_ERROR(Add(sel, std::move(r)));
  return OkStatus();
}

// The events a trace is computed from: every event of the identity's keys, and every event of
// every request id those events or the trace's grants carry. Replaying exactly these gives the
// same identity (keys, links, facts, counts), the same grant chains (their own events, their
// credential's lifecycle events and first use) and the same attributed actions as the whole
// ledger; ExportPack checks that it does.
Status SelectTrace(store::Store& store, const PackQuery& query, const correlate::Trace& trace,
                   Selection& sel) {
  if (trace.identity) {
    for (const auto& k : trace.identity->keys) {
      store::EventQuery q;
      q.identity_key = k.row.key;
      NHI_RETURN_IF_ERROR(AddQuery(store, sel, q));
    }
  }
  std::set<std::string> requests;
  if (!query.request.empty()) requests.insert(query.request);
  for (const auto& g : trace.grants) requests.insert(g.chain.correlation_key);
  for (const auto& [seq, s] : sel.rows) {
    if (!s.event.correlation_key.empty()) requests.insert(s.event.correlation_key);
  }
  for (const std::string& ck : requests) {
    store::EventQuery q;
    q.correlation_key = ck;
    NHI_RETURN_IF_ERROR(AddQuery(store, sel, q));
  }
  return OkStatus();
}

// Every ledger event of `kind`, in seq order, decoded: fn(row, event) may move the row away; the
// first error stops the walk. A leaf that does not decode is kDataLoss naming its seq.
template <typename Fn>
Status ForEachOfKind(store::Store& store, const char* kind, Fn fn) {
  store::EventQuery q;
  q.kind = kind;
  q.limit = kNoLimit;
  NHI_ASSIGN_OR_RETURN(std::vector<store::EventRow> rows, store.QueryEvents(q));
  for (auto& row : rows) {
    auto d = event::DecodeLeaf(row.leaf);
    if (!d.ok()) {
      return DataLossError(SeqName(row.seq) + ": " + d.status().message() +
                           " (run nhitrace verify)");
    }
    NHI_RETURN_IF_ERROR(fn(row, d->event));
  }
  return OkStatus();
}

// The events of a case pack: the case's own events, the events it refers to (links, signals,
// overridden denials, verification and closure evidence), every finding event of every finding
// it names, and the evidence those finding events name. CaseSummary (summary.cc) checks that
// the pack holds all of these.
Status SelectCase(store::Store& store, const cases::Explanation& x, Selection& sel) {
  std::set<uint64_t> seqs(x.view.seqs.begin(), x.view.seqs.end());
  cases::CaseReferences refs = cases::ReferencesOf(x.view);
  seqs.insert(refs.events.begin(), refs.events.end());
  if (!refs.findings.empty()) {
    NHI_RETURN_IF_ERROR(
        ForEachOfKind(store, "finding", [&](store::EventRow& row, const event::Event& e) -> Status {
          std::optional<FindingRecord> f = FindingRecordOf(e);
          if (!f || !refs.findings.count(f->id)) return OkStatus();
          seqs.insert(f->evidence.begin(), f->evidence.end());
          return Add(sel, std::move(row));
        }));
  }
  for (uint64_t seq : seqs) {
    if (sel.rows.count(seq)) continue;
    NHI_ASSIGN_OR_RETURN(std::optional<store::EventRow> row, store.GetEvent(seq));
    if (!row) {
      return DataLossError("case " + std::to_string(x.view.id) + " refers to " + SeqName(seq) +
                           ", which the ledger does not hold (run nhitrace verify)");
    }
    NHI_RETURN_IF_ERROR(Add(sel, std::move(*row)));
  }
  return OkStatus();
}

using PolicyKey = std::pair<std::string, std::string>;  // id, version

// The policy versions the (non-policy) events name, with the ledger's policy events that
// publish them, which join the pack.
Result<std::map<PolicyKey, std::vector<uint64_t>>> SelectPolicies(store::Store& store,
                                                                  Selection& sel) {
  std::map<PolicyKey, std::vector<uint64_t>> refs;
  for (const auto& [seq, s] : sel.rows) {
    if (s.event.kind != event::Kind::kPolicy && s.event.policy) refs[*s.event.policy];
  }
  if (refs.empty()) return refs;
  NHI_RETURN_IF_ERROR(
      ForEachOfKind(store, "policy", [&](store::EventRow& row, const event::Event& e) -> Status {
        const auto& p = e.policy;
        if (!p) return OkStatus();
        auto it = refs.find({p->id, p->version});
        if (it == refs.end()) return OkStatus();
        it->second.push_back(row.seq);
        return Add(sel, std::move(row));
      }));
  for (auto& [key, seqs] : refs) std::sort(seqs.begin(), seqs.end());
  return refs;
}

// For every selected event whose raw record was erased, the erasure event that records it
// joins the pack (and so on for the erasure events themselves).
Status SelectErasures(store::Store& store, Selection& sel) {
  std::vector<uint64_t> todo;
  for (const auto& [seq, row] : sel.rows) todo.push_back(seq);
  while (!todo.empty()) {
    uint64_t seq = todo.back();
    todo.pop_back();
    const Selected& row = sel.rows.at(seq);
    if (!row.raw_id) continue;
    NHI_ASSIGN_OR_RETURN(auto raw, store.GetRaw(*row.raw_id));
    if (!raw || !raw->erased_ns) continue;
    // The erasure event is written with the erasure's own time (ledger/erasure.h).
    store::EventQuery q;
    q.kind = "erasure";
    q.from_ns = *raw->erased_ns;
    q.to_ns = *raw->erased_ns + 1;
    q.limit = kNoLimit;
    NHI_ASSIGN_OR_RETURN(std::vector<store::EventRow> rows, store.QueryEvents(q));
    for (auto& candidate : rows) {
      auto d = event::DecodeLeaf(candidate.leaf);
      if (!d.ok() || ledger::ErasedSeq(d->event) != seq || candidate.seq <= seq) continue;
      sel.erased_by[seq] = candidate.seq;
      if (!sel.rows.count(candidate.seq)) {
        todo.push_back(candidate.seq);
        NHI_RETURN_IF_ERROR(Add(sel, std::move(candidate)));
      }
      break;
    }
    if (!sel.erased_by.count(seq)) {
      return DataLossError(SeqName(seq) +
                           ": its raw record was erased but no erasure event records it (run "
                           "nhitrace verify)");
    }
  }
  return OkStatus();
}

// Where the first difference of two texts is, for messages.
std::string FirstDifference(const std::string& a, const std::string& b) {
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  size_t from = i > 40 ? i - 40 : 0;
  return "at byte " + std::to_string(i) + ": \"" + a.substr(from, 80) + "\" vs \"" +
         b.substr(from, 80) + "\"";
}

}  // namespace

Result<ExportStats> ExportPack(store::Store& store, const PackQuery& query,
                               const ExportOptions& options, const PackSink& sink) {
  NHI_RETURN_IF_ERROR(ValidateQuery(query));
  const std::string scratch =
      options.scratch_dir.empty() ? DefaultScratchDir() : options.scratch_dir;
  // One consistent view: an ingest committing meanwhile changes neither the trace nor the events.
  NHI_ASSIGN_OR_RETURN(std::unique_ptr<store::ReadScope> snapshot, store.BeginRead());

  // The key every signature is checked with.
  NHI_ASSIGN_OR_RETURN(auto vkey, store.GetMeta(ledger::kMetaVerifierKey));
  if (!vkey) return DataLossError("the store has no verifier key (not initialised?)");
  auto verifier = tlog::NoteVerifier::Parse(*vkey);
  if (!verifier.ok()) return DataLossError("stored verifier key: " + verifier.status().message());

  // The events.
  Selection sel;
  std::optional<correlate::Trace> trace;
  std::optional<cases::Explanation> explanation;
  if (query.case_id) {
    NHI_ASSIGN_OR_RETURN(explanation, cases::ExplainCase(store, *query.case_id));
    NHI_RETURN_IF_ERROR(SelectCase(store, *explanation, sel));
  } else if (!query.from.empty()) {
    store::EventQuery q;
    NHI_ASSIGN_OR_RETURN(Rfc3339Time from, ParseRfc3339(query.from));
    NHI_ASSIGN_OR_RETURN(Rfc3339Time to, ParseRfc3339(query.to));
    q.from_ns = from.unix_nanos;
    q.to_ns = to.unix_nanos;
    NHI_RETURN_IF_ERROR(AddQuery(store, sel, q));
    if (sel.rows.empty()) return NotFoundError("no events " + DescribeQuery(query));
  } else {
    correlate::TraceQuery tq;
    tq.identity = query.identity;
    tq.request = query.request;
    NHI_ASSIGN_OR_RETURN(trace, correlate::BuildTrace(store, tq));
    NHI_RETURN_IF_ERROR(SelectTrace(store, query, *trace, sel));
    if (sel.rows.empty()) return NotFoundError("no events for " + DescribeQuery(query));
  }
  NHI_ASSIGN_OR_RETURN(auto policies, SelectPolicies(store, sel));
  NHI_RETURN_IF_ERROR(SelectErasures(store, sel));
  const uint64_t max_seq = sel.rows.rbegin()->first;

  // The checkpoint the proofs are against, the latest one, and the proof between them.
  NHI_ASSIGN_OR_RETURN(std::vector<store::CheckpointRow> checkpoints, store.ListCheckpoints());
  const store::CheckpointRow* at = nullptr;
  for (const auto& cp : checkpoints) {
    if (cp.size > max_seq && (!at || cp.size < at->size)) at = &cp;
  }
  if (!at || checkpoints.empty()) {
    return DataLossError(SeqName(max_seq) +
                         " is not covered by any signed checkpoint (run nhitrace verify)");
  }
  const store::CheckpointRow& latest = checkpoints.back();
  auto open = [&](const store::CheckpointRow& row) -> Result<tlog::Checkpoint> {
    auto cp = tlog::OpenCheckpoint(row.note, *verifier);
    if (!cp.ok() || cp->size != row.size) {
      return DataLossError("the checkpoint at size " + std::to_string(row.size) +
                           " does not verify (run nhitrace verify)");
    }
    return cp;
  };
  NHI_ASSIGN_OR_RETURN(tlog::Checkpoint cp, open(*at));
  NHI_ASSIGN_OR_RETURN(tlog::Checkpoint latest_cp, open(latest));
  ConsistencyLine consistency;
  consistency.latest = latest.note;
  NHI_ASSIGN_OR_RETURN(consistency.hashes,
                       tlog::ConsistencyProof(store.nodes(), cp.size, latest_cp.size));
  Status consistent =
      tlog::VerifyConsistency(cp.size, latest_cp.size, consistency.hashes, cp.root, latest_cp.root);
  if (!consistent.ok()) {
    return DataLossError("the stored tree does not prove checkpoint " + std::to_string(cp.size) +
                         " a prefix of " + std::to_string(latest_cp.size) +
                         " (run nhitrace verify): " + consistent.message());
  }

  // The summary, from the pack's events, as verify-pack will compute it.
  std::vector<PackEvent> events;
  std::vector<Selected> meta;  // events[i]'s raw record (event moved out)
  events.reserve(sel.rows.size());
  meta.reserve(sel.rows.size());
  for (auto& [seq, s] : sel.rows) {
    events.push_back(std::move(s.event));
    meta.push_back(std::move(s));
  }
  sel.rows.clear();
  NHI_ASSIGN_OR_RETURN(Summary summary, ComputeSummary(query, events, scratch, cp.size));
  if (explanation) {
    // The store's explanation, as of the pack's checkpoint; the pack has no derived case list
    // to compare with (the fold is the case).
    explanation->ledger_size = cp.size;
    explanation->view_consistent = true;
    explanation->inconsistency.clear();
    NHI_ASSIGN_OR_RETURN(std::string store_json,
                         json::Canonicalize(cases::ExplanationToJson(*explanation)));
    std::string store_text = cases::ExplanationToText(*explanation);
    if (store_json != summary.json || store_text != summary.text) {
      return InternalError("the pack's events do not reproduce the store's explanation of " +
                           DescribeQuery(query) + " (a bug in choosing them: JSON " +
                           FirstDifference(store_json, summary.json) + ")");
    }
  }
  if (trace) {
    NHI_ASSIGN_OR_RETURN(std::string store_json,
                         json::Canonicalize(correlate::TraceToJson(*trace)));
    std::string store_text = correlate::TraceToText(*trace);
    if (store_json != summary.json || store_text != summary.text) {
      return InternalError("the pack's events do not reproduce the store's trace for " +
                           DescribeQuery(query) + " (a bug in choosing them: JSON " +
                           FirstDifference(store_json, summary.json) + ")");
    }
  }

  // Write.
  ExportStats st;
  st.events = events.size();
  st.checkpoint_size = cp.size;
  st.latest_size = latest_cp.size;
  st.policies = policies.size();
  auto put = [&](const std::string& line) -> Status {
    st.bytes += line.size();
    return sink(line);
  };
  NHI_RETURN_IF_ERROR(put(EncodeLine(HeaderLine{PackVersionFor(query), st.events})));
  NHI_RETURN_IF_ERROR(put(EncodeLine(KeyLine{verifier->ToString()})));
  NHI_RETURN_IF_ERROR(put(EncodeLine(CheckpointLine{at->note})));
  NHI_RETURN_IF_ERROR(put(EncodeLine(consistency)));
  CachingNodeReader nodes(store.nodes());
  for (size_t i = 0; i < events.size(); ++i) {
    PackEvent& pe = events[i];
    const Selected& m = meta[i];
    const uint64_t seq = pe.seq;
    EventLine l;
    l.seq = seq;
    const tlog::Hash leaf_hash = tlog::LeafHash(pe.leaf);
    NHI_ASSIGN_OR_RETURN(l.proof, tlog::InclusionProof(nodes, seq, cp.size));
    Status included = tlog::VerifyInclusion(seq, cp.size, leaf_hash, l.proof, cp.root);
    if (!included.ok()) {
      return DataLossError("the stored tree does not prove " + SeqName(seq) +
                           " against its checkpoint (run nhitrace verify): " + included.message());
    }
    if (m.digest) {
      std::optional<store::RawRow> raw;
      if (m.raw_id) {
        NHI_ASSIGN_OR_RETURN(raw, store.GetRaw(*m.raw_id));
      }
      if (!raw) {
        return DataLossError(SeqName(seq) + ": the raw record its leaf commits to is missing");
      }
      if (raw->erased_ns) {
        l.erased_by = sel.erased_by.at(seq);
        ++st.raw_erased;
      } else {
        if (crypto::AsBytes(crypto::Sha256(raw->salt, raw->bytes)) != m.digest->salted_sha256 ||
            raw->bytes.size() != m.digest->size) {
          return DataLossError(SeqName(seq) +
                               ": the raw record does not match the salted hash in its leaf (run "
                               "nhitrace verify)");
        }
        l.raw = std::move(raw->bytes);
        l.salt = std::move(raw->salt);
        ++st.raw_kept;
      }
    } else if (m.raw_id) {
      return DataLossError(SeqName(seq) + ": has a raw record its leaf does not commit to");
    }
    l.leaf = std::move(pe.leaf);
    pe = PackEvent();  // done with it: memory goes down as the pack is written
    NHI_RETURN_IF_ERROR(put(EncodeLine(l)));
  }
  for (const auto& [key, seqs] : policies) {
    NHI_RETURN_IF_ERROR(put(EncodeLine(PolicyLine{key.first, key.second, seqs})));
  }
  SummaryLine s;
  s.type = summary.type;
  s.query = query;
  s.json = std::move(summary.json);
  s.text = std::move(summary.text);
  NHI_RETURN_IF_ERROR(put(EncodeLine(s)));
  return st;
}

namespace {

// Buffered writes to a file descriptor.
class FileSink {
 public:
  explicit FileSink(int fd) : fd_(fd) {}
  Status Write(std::string_view data) {
    buf_.append(data);
    return buf_.size() >= (1 << 20) ? Flush() : OkStatus();
  }
  Status Flush() {
    size_t done = 0;
    while (done < buf_.size()) {
      ssize_t n = ::write(fd_, buf_.data() + done, buf_.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return UnavailableError("cannot write the pack: " + ErrnoMessage(errno));
      done += static_cast<size_t>(n);
    }
    buf_.clear();
    return OkStatus();
  }

 private:
  int fd_;
  std::string buf_;
};

// Removes a temporary file unless released.
class TempFile {
 public:
  explicit TempFile(std::string path) : path_(std::move(path)) {}
  ~TempFile() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

Result<ExportStats> ExportPackToFile(store::Store& store, const PackQuery& query,
                                     const ExportOptions& options, const std::string& path) {
  if (path.empty()) return InvalidArgumentError("no output file given");
  if (PathExists(path)) return AlreadyExistsError(path + ": a file is already there");
  std::string tmpl = path + ".tmp-XXXXXX";
  UniqueFd fd(::mkstemp(tmpl.data()));  // mode 0600
  if (!fd.valid()) {
    return UnavailableError(path + ": cannot create the pack: " + ErrnoMessage(errno));
  }
  TempFile tmp(tmpl);
  FileSink out(fd.get());
  NHI_ASSIGN_OR_RETURN(ExportStats st, ExportPack(store, query, options, [&](std::string_view s) {
                         return out.Write(s);
                       }));
  NHI_RETURN_IF_ERROR(out.Flush().WithContext(path));
  if (::fsync(fd.get()) != 0) return UnavailableError(path + ": fsync: " + ErrnoMessage(errno));
  // link() refuses to replace a file that appeared meanwhile.
  if (::link(tmp.path().c_str(), path.c_str()) != 0) {
    int err = errno;
    std::string m = path + ": cannot create the pack: " + ErrnoMessage(err);
    return err == EEXIST ? AlreadyExistsError(m) : UnavailableError(m);
  }
  std::string dir = std::filesystem::path(path).parent_path().string();
  UniqueFd dfd(::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd.valid()) ::fsync(dfd.get());
  return st;
}

}  // namespace nhitrace::evidence
