#include <algorithm>
#include <chrono>
#include <cstdio>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <unistd.h>

#include "base/file.h"
#include "cli/commands.h"
#include "ingest/importer.h"
#include "ingest/ingest.h"
#include "json/writer.h"
#include "reconcile/engine.h"

namespace nhitrace::cli {
namespace {

struct IngestArgs {
  std::string file;
  std::string format = "auto";
  std::string progress = "auto";
  size_t max_line_bytes = 1 << 20;
  size_t batch_lines = ingest::IngestOptions{}.batch_lines;
  bool json = false;
  bool quiet = false;
  bool no_reconcile = false;
};

std::string SummaryJson(const std::string& source, const ingest::IngestStats& s, double secs) {
  json::JsonWriter w;
  w.BeginObject();
  w.Key("source").String(source);
  w.Key("format").String(s.format);
  w.Key("framing").String(s.framing);
  w.Key("gzip").Bool(s.gzip);
  w.Key("lines").Uint(s.lines);
  w.Key("records").Uint(s.records);
  w.Key("mapped").Uint(s.mapped);
  w.Key("ignored").Uint(s.ignored);
  w.Key("quarantined").Uint(s.quarantined);
  w.Key("accepted").Uint(s.accepted);
  w.Key("duplicate").Uint(s.duplicate);
  w.Key("blank").Uint(s.blank);
  w.Key("ignored_by_name").BeginObject();
  for (const auto& [name, n] : s.ignored_by_name) w.Key(name).Uint(n);
  w.EndObject();
  w.Key("bytes").Uint(s.bytes);
  w.Key("tree_size").Uint(s.tree_size);
  w.Key("seconds").Double(secs);
  w.EndObject();
  return w.Take();
}

std::string FormatNames() {
  std::string s = "auto, native";
  for (const auto& f : ingest::ImporterFormats()) s += ", " + f;
  return s;
}

int Run(Context& ctx, const IngestArgs& a) {
  if (a.format != "native" && a.format != "auto" && !ingest::MakeImporter(a.format)) {
    PrintError(InvalidArgumentError("--format " + a.format + ": unknown format (one of " +
                                    FormatNames() + ")"));
    return kExitUsage;
  }
  ctx.set_read_mostly(false);
  ctx.set_reconcile(!a.no_reconcile);
  auto ledger = ctx.OpenLedger(true);
  if (!ledger.ok()) {
    PrintError(ledger.status());
    return kExitError;
  }
  UniqueFd owned;
  int fd = 0;
  if (a.file != "-") {
    owned = UniqueFd(::open(a.file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!owned.valid()) {
      PrintError(NotFoundError(a.file + ": cannot open: " + ErrnoMessage(errno)));
      return kExitError;
    }
    fd = owned.get();
  }
  bool tty = ::isatty(2) == 1;
  std::string mode = a.progress;
  if (mode == "auto") mode = tty && !a.quiet ? "bar" : "none";
  int64_t start = ctx.clock().NowUnixNanos();

  ingest::IngestOptions opts;
  opts.source_name = a.file;
  opts.format = a.format;
  opts.max_line_bytes = a.max_line_bytes;
  opts.batch_lines = a.batch_lines;
  bool bar_shown = false;
  // After a durable commit, the reconciliation engine looks at what the commits since its last
  // pass touched and records its findings in a batch of their own (docs/reconcile.md, section
  // 4): unless its last pass ended less than kPassSpacing times that pass's own duration ago.
  // Then the commit waits for the next pass, which evaluates what both touched at once, and a
  // pass after the last commit takes the rest. Passes so take about 1/(1 + kPassSpacing) of the
  // ingest's time or less, and findings trail the evidence by at most that many pass durations.
  constexpr int64_t kPassSpacing = 4;
  using Steady = std::chrono::steady_clock;
  Steady::time_point pass_end{};
  Steady::duration pass_took{};
  bool pending = false;  // commits no pass has looked at yet
  Status reconcile_status;
  reconcile::PassStats reconciled;
  auto run_pass = [&] {
    if (reconcile::Engine* engine = ctx.reconciler(); engine && reconcile_status.ok()) {
      const Steady::time_point begin = Steady::now();
      auto r = engine->RunIncremental();
      pass_end = Steady::now();
      pass_took = pass_end - begin;
      pending = false;
      if (r.ok()) {
        reconciled.opened += r->opened;
        reconciled.updated += r->updated;
        reconciled.resolved += r->resolved;
        reconciled.cases_opened += r->cases_opened;
        reconciled.cases_joined += r->cases_joined;
        reconciled.open_total = r->open_total;
        reconciled.skipped = r->skipped;
      } else {
        reconcile_status = r.status();
      }
    }
  };
  opts.on_commit = [&](const ingest::IngestStats& s) {
    pending = true;
    if (Steady::now() - pass_end >= kPassSpacing * pass_took) run_pass();
    if (mode == "lines") {
      std::fprintf(stderr,
                   "progress lines=%llu accepted=%llu duplicate=%llu quarantined=%llu "
                   "tree_size=%llu\n",
                   static_cast<unsigned long long>(s.lines),
                   static_cast<unsigned long long>(s.accepted),
                   static_cast<unsigned long long>(s.duplicate),
                   static_cast<unsigned long long>(s.quarantined),
                   static_cast<unsigned long long>(s.tree_size));
      std::fflush(stderr);
    } else if (mode == "bar") {
      double secs = static_cast<double>(ctx.clock().NowUnixNanos() - start) / 1e9;
      std::fprintf(stderr,
                   "\r%s: %llu lines, %llu accepted, %llu duplicate, %llu quarantined, "
                   "%.1f MB/s   ",
                   a.file.c_str(), static_cast<unsigned long long>(s.lines),
                   static_cast<unsigned long long>(s.accepted),
                   static_cast<unsigned long long>(s.duplicate),
                   static_cast<unsigned long long>(s.quarantined),
                   secs > 0 ? static_cast<double>(s.bytes) / 1e6 / secs : 0.0);
      bar_shown = true;
    }
  };
  opts.on_reject = [&](const ingest::Rejection& r) {
    if (a.quiet) return;
    if (bar_shown) {
      std::fputs("\n", stderr);
      bar_shown = false;
    }
    std::fprintf(stderr, "%s\n", r.ToString().c_str());
  };
  auto stats = ingest::IngestFd(fd, **ledger, opts);
  if (pending) run_pass();  // what the last commits touched, if their passes were put off
  if (bar_shown) std::fputs("\n", stderr);
  if (!stats.ok()) {
    PrintError(stats.status().WithContext(a.file));
    return kExitError;
  }
  double secs = static_cast<double>(ctx.clock().NowUnixNanos() - start) / 1e9;
  const auto& s = *stats;
  if (a.json) {
    std::printf("%s\n", SummaryJson(a.file, s, secs).c_str());
  } else {
    std::printf(
        "%s: %llu accepted, %llu duplicate, %llu quarantined (%llu records in format %s%s, "
        "%s%s: %llu mapped to events, %llu not NHI-relevant; %llu blank lines) in %.2f s\n",
        a.file.c_str(), static_cast<unsigned long long>(s.accepted),
        static_cast<unsigned long long>(s.duplicate),
        static_cast<unsigned long long>(s.quarantined), static_cast<unsigned long long>(s.records),
        s.format.c_str(), a.format == "auto" ? " (chosen by --format auto)" : "", s.framing.c_str(),
        s.gzip ? ", gzip" : "", static_cast<unsigned long long>(s.mapped),
        static_cast<unsigned long long>(s.ignored), static_cast<unsigned long long>(s.blank), secs);
    if (!s.ignored_by_name.empty()) {
      std::vector<std::pair<uint64_t, std::string>> top;
      for (const auto& [name, n] : s.ignored_by_name) top.emplace_back(n, name);
      std::sort(top.begin(), top.end(), [](const auto& x, const auto& y) {
        return x.first != y.first ? x.first > y.first : x.second < y.second;
      });
      std::printf("not NHI-relevant, by name:");
      size_t shown = 0;
      for (const auto& [n, name] : top) {
        if (shown++ == 10) {
          std::printf(" ... and %zu more (--json lists all)", top.size() - 10);
          break;
        }
        std::printf(" %s=%llu", name.c_str(), static_cast<unsigned long long>(n));
      }
      std::printf("\n");
    }
    std::printf("ledger: %llu events, signed checkpoint at size %llu\n",
                static_cast<unsigned long long>(s.tree_size),
                static_cast<unsigned long long>(s.tree_size));
    if (s.quarantined > 0) {
      std::printf("quarantined records are kept with their bytes: nhitrace quarantine\n");
    }
    if (ctx.reconciler() && !reconciled.skipped && reconcile_status.ok()) {
      std::printf(
          "reconcile: %llu opened, %llu updated, %llu resolved; %llu open findings; "
          "cases: %llu opened, %llu joined\n",
          static_cast<unsigned long long>(reconciled.opened),
          static_cast<unsigned long long>(reconciled.updated),
          static_cast<unsigned long long>(reconciled.resolved),
          static_cast<unsigned long long>(reconciled.open_total),
          static_cast<unsigned long long>(reconciled.cases_opened),
          static_cast<unsigned long long>(reconciled.cases_joined));
    }
  }
  if (!reconcile_status.ok()) {
    PrintError(
        reconcile_status.WithContext("reconcile (the events are committed; run "
                                     "`nhitrace reconcile`)"));
    return kExitError;
  }
  return s.quarantined > 0 ? kExitQuarantined : kExitOk;
}

}  // namespace

void RegisterIngest(CLI::App& app, Context& ctx, int* exit_code) {
  auto args = std::make_shared<IngestArgs>();
  auto* cmd = app.add_subcommand("ingest", "Append events from a JSON Lines file or stdin");
  cmd->add_option("file", args->file, "Input file, or - for stdin")->required();
  cmd->add_option("--format", args->format,
                  "Input format: auto (chosen from the first record), native, or an importer: " +
                      FormatNames())
      ->capture_default_str();
  cmd->add_option("--progress", args->progress,
                  "auto (a status line on a terminal), bar, lines (one line per commit), none")
      ->check(CLI::IsMember({"auto", "bar", "lines", "none"}))
      ->capture_default_str();
  cmd->add_option("--max-line-bytes", args->max_line_bytes,
                  "Longer lines are quarantined (first bytes and SHA-256 kept)")
      ->check(CLI::Range(size_t{64}, size_t{64} << 20))
      ->capture_default_str();
  cmd->add_option("--batch-lines", args->batch_lines,
                  "Commit after this many records (or after 1 s); smaller batches make events "
                  "visible and provable sooner, larger ones ingest faster")
      ->check(CLI::Range(size_t{1}, size_t{1} << 20))
      ->capture_default_str();
  cmd->add_flag("--json", args->json, "Print the summary as JSON");
  cmd->add_flag("--quiet", args->quiet, "Do not print each quarantined line");
  cmd->add_flag("--no-reconcile", args->no_reconcile,
                "Do not run the reconciliation rules after each commit (`nhitrace reconcile` "
                "catches up)");
  cmd->callback([&ctx, exit_code, args] { *exit_code = Run(ctx, *args); });
}

}  // namespace nhitrace::cli
