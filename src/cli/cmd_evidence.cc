// Evidence for auditors: `export` (evidence packs), `verify-pack`, and `erase` (right to erasure).
#include <cerrno>
#include <cstdio>

#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "base/encoding.h"
#include "base/file.h"
#include "base/time.h"
#include "cli/commands.h"
#include "evidence/export.h"
#include "evidence/verify_pack.h"
#include "json/writer.h"
#include "ledger/erasure.h"
#include "report/ocsf.h"

namespace nhitrace::cli {
namespace {

unsigned long long U(uint64_t v) { return static_cast<unsigned long long>(v); }

std::string B64(const tlog::Hash& h) { return Base64Encode(crypto::AsBytes(h)); }

struct ExportArgs {
  evidence::PackQuery query;
  uint64_t case_id = 0;
  CLI::Option* case_option = nullptr;
  std::string out;
  bool json = false;
  bool ocsf = false;
};

// export --ocsf: findings and cases as OCSF JSON Lines (docs/format/ocsf.md).
int RunExportOcsf(Context& ctx, const ExportArgs& a) {
  if (!a.query.identity.empty() || !a.query.request.empty() || a.query.case_id) {
    PrintError(InvalidArgumentError(
        "export: --ocsf takes a time window (--from, --to) only, not --identity, --request or "
        "--case"));
    return kExitUsage;
  }
  report::OcsfOptions o;
  o.product_version = kVersion;
  Status w = ParseWindow(a.query.from, a.query.to, &o.from_ns, &o.to_ns);
  if (!w.ok()) {
    PrintError(w.WithContext("export --ocsf"));
    return kExitUsage;
  }
  auto store = ctx.OpenStoreOnly();
  if (!store.ok()) {
    PrintError(store.status());
    return kExitError;
  }
  auto st = report::ExportOcsfToFile(**store, o, a.out);
  if (!st.ok()) {
    PrintError(st.status().WithContext("export --ocsf"));
    return kExitError;
  }
  if (a.json) {
    json::JsonWriter j;
    j.BeginObject();
    j.Key("out").String(a.out);
    j.Key("detection_findings").Uint(st->findings);
    j.Key("incident_findings").Uint(st->cases);
    j.Key("bytes").Uint(st->bytes);
    j.EndObject();
    std::printf("%s\n", j.str().c_str());
  } else {
    std::printf(
        "wrote %s: %llu Detection Findings (class 2004), %llu Incident Findings (class "
        "2005), %llu bytes\n",
        a.out.c_str(), U(st->findings), U(st->cases), U(st->bytes));
  }
  return kExitOk;
}

int RunExport(Context& ctx, const ExportArgs& a) {
  if (a.ocsf) return RunExportOcsf(ctx, a);
  Status valid = evidence::ValidateQuery(a.query);
  if (!valid.ok()) {
    PrintError(valid.WithContext("export"));
    return kExitUsage;
  }
  auto store = ctx.OpenStoreOnly();
  if (!store.ok()) {
    PrintError(store.status());
    return kExitError;
  }
  int64_t start = SystemClock::Instance().NowUnixNanos();
  auto st = evidence::ExportPackToFile(**store, a.query, {}, a.out);
  if (!st.ok()) {
    PrintError(st.status());
    return kExitError;
  }
  double seconds = static_cast<double>(SystemClock::Instance().NowUnixNanos() - start) / 1e9;
  if (a.json) {
    json::JsonWriter w;
    w.BeginObject();
    w.Key("out").String(a.out);
    w.Key("events").Uint(st->events);
    w.Key("raw_kept").Uint(st->raw_kept);
    w.Key("raw_erased").Uint(st->raw_erased);
    w.Key("policies").Uint(st->policies);
    w.Key("checkpoint_size").Uint(st->checkpoint_size);
    w.Key("latest_size").Uint(st->latest_size);
    w.Key("bytes").Uint(st->bytes);
    w.Key("seconds").Double(seconds);
    w.EndObject();
    std::printf("%s\n", w.str().c_str());
  } else {
    std::printf(
        "wrote %s: %llu events (%llu raw records, %llu erased), %llu policy versions, %llu "
        "bytes\nproofs against the checkpoint of size %llu, consistent with the latest (size "
        "%llu)\n",
        a.out.c_str(), U(st->events), U(st->raw_kept), U(st->raw_erased), U(st->policies),
        U(st->bytes), U(st->checkpoint_size), U(st->latest_size));
  }
  return kExitOk;
}

// A file mapped read-only into memory.
class MappedFile {
 public:
  static Result<std::unique_ptr<MappedFile>> Open(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return NotFoundError(path + ": " + ErrnoMessage(errno));
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) return UnavailableError(path + ": " + ErrnoMessage(errno));
    if (!S_ISREG(st.st_mode)) return InvalidArgumentError(path + ": not a regular file");
    auto size = static_cast<size_t>(st.st_size);
    void* p = nullptr;
    if (size > 0) {
      p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd.get(), 0);
      if (p == MAP_FAILED) return UnavailableError(path + ": mmap: " + ErrnoMessage(errno));
    }
    return std::unique_ptr<MappedFile>(new MappedFile(p, size));
  }
  ~MappedFile() {
    if (data_ != nullptr) ::munmap(data_, size_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  std::string_view bytes() const { return {static_cast<const char*>(data_), size_}; }

 private:
  MappedFile(void* data, size_t size) : data_(data), size_(size) {}
  void* data_;
  size_t size_;
};

struct VerifyPackArgs {
  std::string file, key;
  bool json = false;
  bool show_summary = false;
};

std::string SummaryTextOf(std::string_view pack) {
  // The last line, for --show-summary (only after it verified).
  if (pack.size() < 2) return "";
  size_t start = pack.rfind('\n', pack.size() - 2);
  start = start == std::string_view::npos ? 0 : start + 1;
  evidence::LineParser parser;
  auto line = parser.Parse(pack.substr(start, pack.size() - 1 - start));
  if (!line.ok() || !std::holds_alternative<evidence::SummaryLine>(*line)) return "";
  return std::get<evidence::SummaryLine>(*line).text;
}

int RunVerifyPack(const VerifyPackArgs& a) {
  evidence::VerifyPackOptions opts;
  if (!a.key.empty()) {
    auto k = tlog::NoteVerifier::Parse(a.key);
    if (!k.ok()) {
      PrintError(k.status().WithContext("--key"));
      return kExitUsage;
    }
    opts.trusted_key = *k;
  }
  auto file = MappedFile::Open(a.file);
  if (!file.ok()) {
    PrintError(file.status());
    return kExitError;
  }
  auto report = evidence::VerifyPack((*file)->bytes(), opts);
  if (!report.ok()) {
    PrintError(report.status());
    return kExitError;
  }
  const evidence::PackReport& r = *report;
  if (a.json) {
    json::JsonWriter w;
    w.BeginObject();
    w.Key("ok").Bool(r.ok());
    w.Key("version").Int(r.version);
    w.Key("query").BeginObject();
    if (r.query.case_id) w.Key("case").Uint(*r.query.case_id);
    if (!r.query.from.empty()) w.Key("from").String(r.query.from);
    if (!r.query.identity.empty()) w.Key("identity").String(r.query.identity);
    if (!r.query.request.empty()) w.Key("request").String(r.query.request);
    if (!r.query.to.empty()) w.Key("to").String(r.query.to);
    w.EndObject();
    w.Key("summary_type").String(r.summary_type);
    w.Key("summary_checked").Bool(r.summary_checked);
    w.Key("events").Uint(r.events);
    w.Key("raw_checked").Uint(r.raw_checked);
    w.Key("raw_erased").Uint(r.raw_erased);
    w.Key("policies").Uint(r.policies);
    w.Key("checkpoint_size").Uint(r.checkpoint_size);
    w.Key("checkpoint_root").String(B64(r.checkpoint_root));
    w.Key("latest_size").Uint(r.latest_size);
    w.Key("latest_root").String(B64(r.latest_root));
    w.Key("key").String(r.key);
    w.Key("key_trusted").Bool(r.key_trusted);
    w.Key("problem_count").Uint(r.problem_count);
    w.Key("problems").BeginArray();
    for (const auto& p : r.problems) {
      w.BeginObject();
      w.Key("line").Uint(p.line);
      w.Key("part").String(p.part);
      w.Key("item").String(p.item);
      w.Key("what").String(p.what);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    std::printf("%s\n", w.str().c_str());
  } else {
    std::printf(
        "pack for %s (%s): %llu events, %llu raw records checked, %llu erased, %llu policy "
        "versions\n",
        evidence::DescribeQuery(r.query).c_str(),
        r.summary_type.empty() ? "?" : r.summary_type.c_str(), U(r.events), U(r.raw_checked),
        U(r.raw_erased), U(r.policies));
    std::printf("key %s (%s)\n", r.key.empty() ? "(none)" : r.key.c_str(),
                r.key_trusted ? "trusted, given with --key"
                              : "the pack's own; pass --key to pin the key you hold");
    std::printf("proofs against checkpoint size %llu root %s; latest size %llu root %s\n",
                U(r.checkpoint_size), B64(r.checkpoint_root).c_str(), U(r.latest_size),
                B64(r.latest_root).c_str());
    if (r.ok()) {
      std::printf("OK: every signature, proof, hash and the summary verified\n");
    } else {
      std::printf("FAILED: %llu problem(s)%s\n", U(r.problem_count),
                  r.summary_checked ? "" : " (the summary was not checked)");
      for (const auto& p : r.problems) std::printf("  %s\n", p.ToString().c_str());
      if (r.problem_count > r.problems.size()) {
        std::printf("  ... and %llu more\n", U(r.problem_count - r.problems.size()));
      }
    }
  }
  if (r.ok() && a.show_summary && !a.json) {
    std::string text = SummaryTextOf((*file)->bytes());
    std::printf("\n");
    std::fwrite(text.data(), 1, text.size(), stdout);
  }
  return r.ok() ? kExitOk : kExitVerifyFailed;
}

struct EraseArgs {
  uint64_t seq = 0;
  std::string reason, by;
  bool json = false;
};

int RunErase(Context& ctx, const EraseArgs& a) {
  auto ledger = ctx.OpenLedger(/*need_signer=*/true);
  if (!ledger.ok()) {
    PrintError(ledger.status());
    return kExitError;
  }
  auto r = ledger::EraseRawRecord(**ledger, {a.seq, a.reason, a.by});
  if (!r.ok()) {
    PrintError(r.status());
    return r.status().code() == StatusCode::kInvalidArgument ? kExitUsage : kExitError;
  }
  if (a.json) {
    json::JsonWriter w;
    w.BeginObject();
    w.Key("erased_seq").Uint(r->erased_seq);
    w.Key("erasure_seq").Uint(r->erasure_seq);
    w.Key("size").Uint(r->size);
    w.Key("erased_at").String(FormatRfc3339Utc(r->erased_ns, 6));
    w.Key("tree_size").Uint(r->tree_size);
    w.Key("purged").Bool(r->purge.ok());
    w.EndObject();
    std::printf("%s\n", w.str().c_str());
  } else {
    std::printf(
        "erased the raw record of seq %llu (%llu bytes); recorded as erasure event %llu, signed "
        "checkpoint at size %llu\n",
        U(r->erased_seq), U(r->size), U(r->erasure_seq), U(r->tree_size));
  }
  if (!r->purge.ok()) {
    PrintError(r->purge);
    return kExitError;
  }
  return kExitOk;
}

}  // namespace

void RegisterEvidenceCommands(CLI::App& app, Context& ctx, int* exit_code) {
  {
    auto a = std::make_shared<ExportArgs>();
    auto* cmd = app.add_subcommand(
        "export", "Write an evidence pack: events, raw records, proofs, key, summary in one file");
    auto* identity = cmd->add_option("--identity", a->query.identity,
                                     "The trace of an identity (any of its keys)");
    auto* request = cmd->add_option("--request", a->query.request, "The trace of a request id");
    a->case_option = cmd->add_option(
        "--case", a->case_id, "A case: its explanation and every event it refers to (version 2)");
    cmd->add_option("--from", a->query.from, "Every event with authoritative time >= T (RFC 3339)");
    cmd->add_option("--to", a->query.to, "... and < T (RFC 3339)");
    cmd->add_option("--out", a->out, "The pack file to create (must not exist)")->required();
    cmd->add_flag("--ocsf", a->ocsf,
                  "Instead of a pack: findings as OCSF Detection Findings and cases as Incident "
                  "Findings, JSON Lines (--from/--to select a window)")
        ->excludes(identity)
        ->excludes(request)
        ->excludes(a->case_option);
    cmd->add_flag("--json", a->json, "JSON output");
    cmd->callback([&ctx, exit_code, a] {
      if (a->case_option->count() > 0) a->query.case_id = a->case_id;
      *exit_code = RunExport(ctx, *a);
    });
  }
  {
    auto a = std::make_shared<VerifyPackArgs>();
    auto* cmd = app.add_subcommand(
        "verify-pack", "Check an evidence pack offline: every signature, proof, hash and summary");
    cmd->add_option("file", a->file, "The pack")->required();
    cmd->add_option("--key", a->key,
                    "The verifier key you hold (default: the one in the pack, which proves "
                    "nothing about who made it)");
    cmd->add_flag("--json", a->json, "JSON report");
    cmd->add_flag(
        "--show-summary", a->show_summary,
        "After it verified, print the pack's summary (the trace, listing or case explanation)");
    cmd->callback([exit_code, a] { *exit_code = RunVerifyPack(*a); });
  }
  {
    auto a = std::make_shared<EraseArgs>();
    auto* cmd = app.add_subcommand(
        "erase",
        "Erase the raw record of event SEQ (right to erasure); every proof still verifies");
    cmd->add_option("seq", a->seq, "The event whose raw record to erase")->required();
    cmd->add_option("--reason", a->reason,
                    "Why: the request it fulfils (kept in the ledger for good; never the erased "
                    "data itself)")
        ->required();
    cmd->add_option("--by", a->by, "Who asked for or performed the erasure (an actor id)");
    cmd->add_flag("--json", a->json, "JSON output");
    cmd->callback([&ctx, exit_code, a] { *exit_code = RunErase(ctx, *a); });
  }
}

}  // namespace nhitrace::cli
