// nhitrace-gen: writes a deterministic, realistic workload of native JSON Lines events
// (bench/workload.h) for benchmarks and detection-rate checks.
//
//   nhitrace-gen --events 1000000 --seed 1 > events.jsonl
//   nhitrace-gen --events 1000000 --out events.jsonl --csv cols.csv --truth breaks.jsonl
//
// Standard error gets one JSON object with the counts: events per kind, chains per fate, and the
// injected breaks per kind ({"breaks":{"action_after_revocation":{"chains":N,"events":M},...}}).
// --truth lists every broken chain with the source.event_id of its offending events, so a later
// reconciliation run can be scored for recall and precision. --chains lists every chain (one per
// identity) with its number of actions, so benchmarks can pick traces of known sizes.
#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "bench/workload.h"

namespace {

using nhitrace::bench::BreakKind;
using nhitrace::bench::RenderedEvent;
using nhitrace::bench::Workload;
using nhitrace::bench::WorkloadOptions;

struct FileCloser {
  void operator()(FILE* f) const {
    if (f != nullptr && f != stdout) std::fclose(f);
  }
};
using File = std::unique_ptr<FILE, FileCloser>;

File OpenOut(const std::string& path) {
  if (path == "-") return File(stdout);
  File f(std::fopen(path.c_str(), "wb"));
  if (!f) {
    std::fprintf(stderr, "nhitrace-gen: cannot write %s\n", path.c_str());
    std::exit(1);
  }
  return f;
}

// Appends a CSV field (RFC 4180): quoted when it holds a comma, quote, CR or LF, or when forced.
void AppendCsvField(std::string_view v, bool force_quotes, std::string* out) {
  bool quote = force_quotes || v.find_first_of(",\"\r\n") != std::string_view::npos;
  if (!quote) {
    out->append(v);
    return;
  }
  out->push_back('"');
  for (char c : v) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

void AppendColumns(uint64_t seq, const RenderedEvent& e, std::string* out) {
  out->append(std::to_string(seq));
  out->push_back(',');
  out->append(e.kind);
  out->push_back(',');
  out->append(std::to_string(e.time_ns));
  for (const std::string* f :
       {&e.source_system, &e.source_event_id, &e.correlation_key, &e.identity_key, &e.actor_id}) {
    out->push_back(',');
    AppendCsvField(*f, false, out);
  }
}

void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (char c : s) {
    if (c == '"' || c == '\\') out->push_back('\\');
    out->push_back(c);
  }
  out->push_back('"');
}

bool Write(FILE* f, const std::string& s) {
  return s.empty() || std::fwrite(s.data(), 1, s.size(), f) == s.size();
}

}  // namespace

int main(int argc, char** argv) {
  WorkloadOptions opt;
  std::string out_path = "-", csv_path, csv_line_path, truth_path, chains_path;
  CLI::App app{"Writes a deterministic, realistic workload of nhitrace native JSON Lines events"};
  app.add_option("--events,-n", opt.events, "Number of events (lines)")->required();
  app.add_option("--seed", opt.seed, "Random seed")->capture_default_str();
  app.add_option("--identities", opt.identities, "Number of identities (default events/40)");
  app.add_option("--zipf", opt.zipf, "Zipf exponent of actions over identities")
      ->capture_default_str();
  app.add_option("--broken-rate", opt.broken_rate, "Share of chains broken on purpose")
      ->capture_default_str();
  app.add_option("--late-rate", opt.late_rate, "Share of events delivered 1-12 h late")
      ->capture_default_str();
  app.add_option("--out,-o", out_path, "Output file, - for stdout")->capture_default_str();
  app.add_option("--csv", csv_path,
                 "Also write the indexed columns (seq,kind,time_ns,source_system,"
                 "source_event_id,correlation_key,identity_key,actor_id) as CSV");
  app.add_option("--csv-with-line", csv_line_path,
                 "Also write the indexed columns plus the whole line as a last column");
  app.add_option("--truth", truth_path,
                 "Also write one JSON line per broken chain with its offending event ids");
  app.add_option("--chains", chains_path,
                 "Also write one tab-separated line per chain: correlation_key, identity_key "
                 "(empty if never provisioned), actions of that identity, break kind (or -)");
  CLI11_PARSE(app, argc, argv);

  Workload w = Workload::Plan(opt);
  if (!w.error().empty()) {
    std::fprintf(stderr, "nhitrace-gen: %s\n", w.error().c_str());
    return 2;
  }

  File out = OpenOut(out_path);
  File csv = csv_path.empty() ? nullptr : OpenOut(csv_path);
  File csv_line = csv_line_path.empty() ? nullptr : OpenOut(csv_line_path);
  // Large stdio buffers: the output is written in ~1 MiB chunks below anyway.
  std::string buf, cbuf, lbuf;
  buf.reserve(1 << 21);
  constexpr size_t kFlush = 1 << 20;

  struct Truth {
    int kind = -1;
    std::vector<std::string> events;
  };
  std::map<uint32_t, Truth> truth;
  std::vector<uint32_t> chain_actions(chains_path.empty() ? 0 : w.stats().identities);
  std::vector<int8_t> chain_break(chain_actions.size(), -1);

  RenderedEvent e;
  uint64_t bytes = 0;
  bool ok = true;
  for (uint64_t i = 0; i < w.size() && ok; ++i) {
    w.Render(i, &e);
    bytes += e.line.size() + 1;
    buf.append(e.line);
    buf.push_back('\n');
    if (csv) {
      AppendColumns(i, e, &cbuf);
      cbuf.push_back('\n');
    }
    if (csv_line) {
      AppendColumns(i, e, &lbuf);
      lbuf.push_back(',');
      AppendCsvField(e.line, true, &lbuf);
      lbuf.push_back('\n');
    }
    if (!chain_actions.empty()) {
      if (e.kind == "action") ++chain_actions[e.chain];
      if (e.break_kind >= 0) chain_break[e.chain] = static_cast<int8_t>(e.break_kind);
    }
    if (e.break_kind >= 0 && !truth_path.empty()) {
      Truth& t = truth[e.chain];
      t.kind = e.break_kind;
      t.events.push_back(e.source_event_id);
    }
    if (buf.size() >= kFlush) {
      ok = Write(out.get(), buf);
      buf.clear();
    }
    if (cbuf.size() >= kFlush) {
      ok = ok && Write(csv.get(), cbuf);
      cbuf.clear();
    }
    if (lbuf.size() >= kFlush) {
      ok = ok && Write(csv_line.get(), lbuf);
      lbuf.clear();
    }
  }
  ok = ok && Write(out.get(), buf) && (!csv || Write(csv.get(), cbuf)) &&
       (!csv_line || Write(csv_line.get(), lbuf));
  ok = ok && std::fflush(out.get()) == 0 && (!csv || std::fflush(csv.get()) == 0) &&
       (!csv_line || std::fflush(csv_line.get()) == 0);

  if (ok && !truth_path.empty()) {
    File tf = OpenOut(truth_path);
    // By break kind, then by correlation key.
    std::vector<std::pair<uint32_t, const Truth*>> rows;
    for (const auto& [chain, t] : truth) rows.emplace_back(chain, &t);
    std::sort(rows.begin(), rows.end(), [&](const auto& a, const auto& b) {
      if (a.second->kind != b.second->kind) return a.second->kind < b.second->kind;
      return w.Chain(a.first).correlation_key < w.Chain(b.first).correlation_key;
    });
    std::string t;
    for (const auto& [chain, tr] : rows) {
      auto keys = w.Chain(chain);
      t += "{\"break\":";
      AppendJsonString(nhitrace::bench::BreakKindName(static_cast<BreakKind>(tr->kind)), &t);
      t += ",\"correlation_key\":";
      AppendJsonString(keys.correlation_key, &t);
      if (!keys.identity_key.empty()) {
        t += ",\"identity\":";
        AppendJsonString(keys.identity_key, &t);
      }
      t += ",\"events\":[";
      for (size_t j = 0; j < tr->events.size(); ++j) {
        if (j > 0) t.push_back(',');
        AppendJsonString(tr->events[j], &t);
      }
      t += "]}\n";
    }
    ok = Write(tf.get(), t) && std::fflush(tf.get()) == 0;
  }
  if (ok && !chains_path.empty()) {
    File cf = OpenOut(chains_path);
    std::string c;
    for (uint32_t i = 0; i < chain_actions.size() && ok; ++i) {
      auto keys = w.Chain(i);
      c.append(keys.correlation_key).push_back('\t');
      c.append(keys.identity_key).push_back('\t');
      c.append(std::to_string(chain_actions[i])).push_back('\t');
      c.append(chain_break[i] < 0
                   ? std::string_view("-")
                   : nhitrace::bench::BreakKindName(static_cast<BreakKind>(chain_break[i])));
      c.push_back('\n');
      if (c.size() >= kFlush) {
        ok = Write(cf.get(), c);
        c.clear();
      }
    }
    ok = ok && Write(cf.get(), c) && std::fflush(cf.get()) == 0;
  }
  if (!ok) {
    std::fprintf(stderr, "nhitrace-gen: write failed\n");
    return 1;
  }
  std::fprintf(stderr, "%s\n", w.StatsJson(opt, bytes).c_str());
  return 0;
}
