// nhitrace_trace_bench: trace latency, nhitrace against PostgreSQL, on the same events and the
// same queries (bench/trace_vs_postgres.sh runs it end to end; BENCHMARKS.md has the results).
//
//   # the PostgreSQL load file (COPY text format) from an nhitrace store:
//   nhitrace_trace_bench --store s.db --export-pg events.copy
//   # the measurements:
//   nhitrace_trace_bench --store s.db --chains chains.tsv --queries 2000
//       --pg "host=/tmp/pg port=5499 dbname=bench user=postgres" --sql bench/trace_query.sql
//       --cli build/bench/nhitrace --psql /usr/lib/postgresql/15/bin/psql   (one command line)
//
// Queries are request ids from the generator's --chains file (one chain per identity, with the
// number of actions of that identity), in buckets by that number: 1-10, 11-100, 101-1,000, and
// the busiest identities. For each bucket, in one process:
//   nhitrace   a fresh store opened as the CLI's query commands open it (cli::Context::
//              OpenStoreOnly: 1 GiB memory-mapped); per query the whole answer the CLI prints
//              with --json: correlate::BuildTrace + correlate::TraceToJson.
//   PostgreSQL a fresh connection; per query the prepared statement of --sql (one JSON document,
//              the same question: bench/trace_query.sql) executed with libpq and read back.
// Pass 1 over the bucket's queries is "cold" (each request's first execution in this process or
// connection; pages may still be in the OS page cache, and PostgreSQL's shared buffers persist
// across connections), pass 2 repeats the same list "warm". Every PostgreSQL answer is compared
// with nhitrace's (status, window, stage event lists, action counts by verdict, first / last,
// exceptions, first use, alias group): a mismatch is counted and the first few are printed.
// Whole process: `nhitrace trace --request ID --json` and `psql -f` of the same SQL, wall time
// per run, output discarded.
//
// Prints markdown tables on stdout; progress on stderr.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <simdjson.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/time.h"
#include "cli/context.h"
#include "correlate/derived_state.h"
#include "correlate/trace.h"
#include "event/codec.h"
#include "store/store.h"

#ifdef NHITRACE_BENCH_HAVE_PG
#include <libpq-fe.h>
#endif

extern char** environ;

namespace nhitrace {
namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "nhitrace_trace_bench: %s\n", what.c_str());
  std::exit(1);
}

template <typename T>
T Must(Result<T> r, const std::string& what) {
  if (!r.ok()) Die(what + ": " + r.status().message());
  return std::move(r).value();
}

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// CPU time of the calling thread, in ms: what a query cost regardless of how long the (shared,
// loaded) machine made it wait for a core.
double ThreadCpuMs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

// CPU time (user + system) a process has used so far, in ms, from /proc/PID/stat (clock ticks:
// coarse, so only sums over many queries mean anything).
double ProcessCpuMs(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(stat.substr(close + 2));
  std::string f;
  double utime = 0, stime = 0;
  for (int i = 3; fields >> f; ++i) {  // field 3 is the state; 14 utime, 15 stime
    if (i == 14) utime = std::atof(f.c_str());
    if (i == 15) {
      stime = std::atof(f.c_str());
      break;
    }
  }
  return (utime + stime) * 1000.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// ---------------------------------------------------------------------------------------------
// COPY text format (PostgreSQL "Text Format" of COPY): \N for NULL, backslash escapes for
// backslash, tab, newline and carriage return. Arrays as array literals, elements quoted.

void CopyEscape(std::string_view v, std::string* out) {
  for (char c : v) {
    switch (c) {
      case '\\':
        out->append("\\\\");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      default:
        out->push_back(c);
    }
  }
}

void CopyText(std::string_view v, bool null_if_empty, std::string* out) {
  if (null_if_empty && v.empty()) {
    out->append("\\N");
  } else {
    CopyEscape(v, out);
  }
}

void CopyArray(const std::vector<std::string>& v, std::string* out) {
  if (v.empty()) {
    out->append("\\N");
    return;
  }
  std::string lit = "{";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) lit.push_back(',');
    lit.push_back('"');
    for (char c : v[i]) {
      if (c == '"' || c == '\\') lit.push_back('\\');
      lit.push_back(c);
    }
    lit.push_back('"');
  }
  lit.push_back('}');
  CopyEscape(lit, out);
}

void CopyInt(std::optional<int64_t> v, std::string* out) {
  if (v) {
    out->append(std::to_string(*v));
  } else {
    out->append("\\N");
  }
}

// One line for the events table of bench/trace_pg_schema.sql, columns in its order.
void AppendCopyRow(uint64_t seq, const event::Event& e, std::string* out) {
  auto col = [out] { out->push_back('\t'); };
  out->append(std::to_string(seq));
  col();
  out->append(event::KindName(e.kind));
  col();
  out->append(std::to_string(e.time_ns));
  col();
  CopyText(e.time, false, out);
  col();
  CopyText(e.source_system, false, out);
  col();
  CopyText(e.source_event_id, false, out);
  col();
  CopyText(e.correlation_key, true, out);
  col();
  CopyText(e.identity, true, out);
  col();
  CopyArray(e.aliases, out);
  col();
  CopyText(e.actor ? e.actor->id : "", true, out);
  col();
  CopyText(e.actor ? e.actor->type : "", true, out);
  const event::Delegation none_d;
  const event::Delegation& d = e.delegation ? *e.delegation : none_d;
  for (const std::string* f : {&d.agent_instance, &d.tool_call, &d.sponsor, &d.credential}) {
    col();
    CopyText(*f, true, out);
  }
  col();
  out->append(e.delegation ? "t" : "f");
  col();
  CopyArray(e.scope ? e.scope->resources : std::vector<std::string>{}, out);
  col();
  CopyArray(e.scope ? e.scope->permissions : std::vector<std::string>{}, out);
  col();
  out->append(e.scope ? "t" : "f");
  const auto& w = e.window;
  col();
  CopyInt(w && !w->not_before.empty() ? std::optional<int64_t>(w->not_before_ns) : std::nullopt,
          out);
  col();
  CopyInt(w && !w->not_after.empty() ? std::optional<int64_t>(w->not_after_ns) : std::nullopt, out);
  col();
  CopyInt(w ? w->ttl_seconds : std::nullopt, out);
  col();
  out->append(w ? "t" : "f");
  const event::PolicyRef none_p;
  const event::PolicyRef& p = e.policy ? *e.policy : none_p;
  const event::Outcome none_o;
  const event::Outcome& o = e.outcome ? *e.outcome : none_o;
  for (const std::string* f : {&p.id, &p.version, &p.hash, &o.result, &o.code, &e.rationale}) {
    col();
    CopyText(*f, true, out);
  }
  const event::Subject none_s;
  const event::Subject& s = e.subject ? *e.subject : none_s;
  for (const std::string* f : {&s.kind, &s.name, &s.owner, &s.sponsor, &s.system}) {
    col();
    CopyText(*f, true, out);
  }
  out->push_back('\n');
}

int ExportPg(store::Store& store, const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!f) Die("cannot write " + path);
  std::string buf;
  uint64_t n = 0;
  auto t0 = Clock::now();
  Status s = store.ScanEvents(0, [&](const store::EventRow& row) -> Status {
    NHI_ASSIGN_OR_RETURN(correlate::ChainEvent ce, correlate::DecodeEventRow(row));
    AppendCopyRow(ce.seq, ce.event, &buf);
    if (buf.size() >= (1 << 20)) {
      if (std::fwrite(buf.data(), 1, buf.size(), f.get()) != buf.size()) {
        return InternalError("write failed: " + path);
      }
      buf.clear();
    }
    if (++n % 1000000 == 0) {
      std::fprintf(stderr, "  exported %llu events\n", static_cast<unsigned long long>(n));
    }
    return OkStatus();
  });
  if (!s.ok()) Die("export: " + s.message());
  if (std::fwrite(buf.data(), 1, buf.size(), f.get()) != buf.size() || std::fflush(f.get()) != 0) {
    Die("write failed: " + path);
  }
  std::fprintf(stderr, "exported %llu events in %.1f s\n", static_cast<unsigned long long>(n),
               Ms(Clock::now() - t0) / 1000);
  std::printf("%llu\n", static_cast<unsigned long long>(n));
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Queries.

struct ChainLine {
  std::string request, identity;
  uint64_t actions = 0;
  std::string brk;
};

std::vector<ChainLine> ReadChains(const std::string& path) {
  std::ifstream in(path);
  if (!in) Die("cannot read " + path);
  std::vector<ChainLine> out;
  std::string line;
  while (std::getline(in, line)) {
    ChainLine c;
    std::vector<std::string> f;
    size_t pos = 0;
    for (;;) {
      size_t tab = line.find('\t', pos);
      f.push_back(line.substr(pos, tab == std::string::npos ? std::string::npos : tab - pos));
      if (tab == std::string::npos) break;
      pos = tab + 1;
    }
    if (f.size() != 4) Die(path + ": expected 4 tab-separated fields: " + line);
    c.request = f[0];
    c.identity = f[1];
    c.actions = std::strtoull(f[2].c_str(), nullptr, 10);
    c.brk = f[3];
    out.push_back(std::move(c));
  }
  return out;
}

struct Bucket {
  std::string name;
  std::vector<const ChainLine*> queries;  // in the order they are run
  size_t distinct = 0;
  uint64_t min_actions = 0, max_actions = 0;
};

std::vector<Bucket> MakeBuckets(const std::vector<ChainLine>& chains, size_t per_bucket,
                                size_t busiest, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Bucket> out;
  struct Range {
    const char* name;
    uint64_t lo, hi;
  };
  for (Range r : {Range{"1-10 actions", 1, 10}, Range{"11-100 actions", 11, 100},
                  Range{"101-1,000 actions", 101, 1000}}) {
    std::vector<const ChainLine*> pool;
    for (const auto& c : chains) {
      if (!c.identity.empty() && c.actions >= r.lo && c.actions <= r.hi) pool.push_back(&c);
    }
    Bucket b;
    b.name = r.name;
    if (pool.empty()) {
      out.push_back(b);
      continue;
    }
    std::shuffle(pool.begin(), pool.end(), rng);
    // Distinct requests while the pool lasts, then repeats in a new random order.
    while (b.queries.size() < per_bucket) {
      size_t take = std::min(per_bucket - b.queries.size(), pool.size());
      b.queries.insert(b.queries.end(), pool.begin(), pool.begin() + static_cast<long>(take));
      std::shuffle(pool.begin(), pool.end(), rng);
    }
    b.distinct = std::min(per_bucket, pool.size());
    out.push_back(b);
  }
  if (busiest > 0) {
    std::vector<const ChainLine*> all;
    for (const auto& c : chains) {
      if (!c.identity.empty()) all.push_back(&c);
    }
    std::sort(all.begin(), all.end(), [](const ChainLine* a, const ChainLine* b) {
      return a->actions != b->actions ? a->actions > b->actions : a->request < b->request;
    });
    Bucket b;
    b.name = "busiest " + std::to_string(std::min(busiest, all.size())) + " identities";
    b.queries.assign(all.begin(), all.begin() + static_cast<long>(std::min(busiest, all.size())));
    b.distinct = b.queries.size();
    out.push_back(b);
  }
  for (auto& b : out) {
    if (b.queries.empty()) continue;
    b.min_actions = UINT64_MAX;
    for (const auto* q : b.queries) {
      b.min_actions = std::min(b.min_actions, q->actions);
      b.max_actions = std::max(b.max_actions, q->actions);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// What both sides must agree on.

struct Digest {
  std::string status, credential, end_reason;
  std::optional<int64_t> start_ns, end_ns;
  std::map<std::string, std::vector<uint64_t>> stages;
  uint64_t count = 0, covered = 0, out_of_scope = 0, before_grant = 0, after_revocation = 0,
           after_expiry = 0, delegated = 0, omitted = 0;
  std::optional<int64_t> first_ns, last_ns;
  std::vector<uint64_t> exceptions;
  std::optional<uint64_t> first_use;
  std::set<std::string> keys;

  std::string Diff(const Digest& o) const {
    std::ostringstream d;
    auto cmp = [&](const char* what, const auto& a, const auto& b) {
      if (a != b) d << what << " ";
    };
    cmp("status", status, o.status);
    cmp("credential", credential, o.credential);
    cmp("end_reason", end_reason, o.end_reason);
    cmp("start", start_ns, o.start_ns);
    cmp("end", end_ns, o.end_ns);
    cmp("stages", stages, o.stages);
    cmp("count", count, o.count);
    cmp("covered", covered, o.covered);
    cmp("out_of_scope", out_of_scope, o.out_of_scope);
    cmp("before_grant", before_grant, o.before_grant);
    cmp("after_revocation", after_revocation, o.after_revocation);
    cmp("after_expiry", after_expiry, o.after_expiry);
    cmp("delegated", delegated, o.delegated);
    cmp("exceptions_omitted", omitted, o.omitted);
    cmp("first", first_ns, o.first_ns);
    cmp("last", last_ns, o.last_ns);
    cmp("exceptions", exceptions, o.exceptions);
    cmp("first_use", first_use, o.first_use);
    cmp("keys", keys, o.keys);
    return d.str();
  }
};

Digest DigestOf(const correlate::Trace& t) {
  Digest d;
  if (t.grants.empty()) return d;
  const correlate::GrantTrace& g = t.grants.front();
  const correlate::GrantChain& c = g.chain;
  d.status = correlate::ChainStatusName(c.status);
  d.credential = c.identity;
  d.end_reason = c.end_reason;
  if (c.start_ns != INT64_MIN) d.start_ns = c.start_ns;
  if (c.end_ns != INT64_MAX) d.end_ns = c.end_ns;
  const std::pair<const char*, const std::vector<uint64_t>*> lists[] = {
      {"requested", &c.requested},
      {"approved", &c.approved},
      {"denied", &c.denied},
      {"provisioned", &c.provisioned},
      {"provision_failed", &c.provision_failed},
      {"rotated", &c.rotated},
      {"revoked", &c.revoked},
      {"expired", &c.expired},
      {"reconciled", &c.reconciled},
      {"other", &c.other}};
  for (const auto& [name, v] : lists) {
    if (!v->empty()) d.stages[name] = *v;
  }
  const correlate::ActionSummary& s = g.actions;
  d.count = s.count;
  d.covered = s.covered;
  d.out_of_scope = s.out_of_scope;
  d.before_grant = s.before_grant;
  d.after_revocation = s.after_revocation;
  d.after_expiry = s.after_expiry;
  d.delegated = s.delegated;
  d.omitted = s.exceptions_omitted;
  if (s.count) {
    d.first_ns = s.first_ns;
    d.last_ns = s.last_ns;
  }
  for (const auto& a : s.exceptions) d.exceptions.push_back(a.action.seq);
  if (c.first_use) d.first_use = c.first_use->seq;
  if (t.identity) {
    for (const auto& k : t.identity->keys) d.keys.insert(k.row.key);
  }
  return d;
}

#ifdef NHITRACE_BENCH_HAVE_PG
std::optional<int64_t> OptInt(simdjson::dom::element e) {
  if (e.is_null()) return std::nullopt;
  int64_t v;
  if (e.get_int64().get(v)) return std::nullopt;
  return v;
}

std::string Str(simdjson::dom::element e) {
  std::string_view v;
  if (e.is_null() || e.get_string().get(v)) return "";
  return std::string(v);
}

uint64_t U(simdjson::dom::element obj, const char* key) {
  uint64_t v = 0;
  if (obj[key].get_uint64().get(v)) return 0;
  return v;
}

// The PostgreSQL answer (bench/trace_query.sql) as a Digest; "" on success, else why not.
std::string DigestOfPg(const std::string& json, Digest* d) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(json).get(root)) return "not JSON";
  simdjson::dom::element chain, actions, identity;
  if (root["chain"].get(chain) || root["actions"].get(actions) || root["identity"].get(identity)) {
    return "missing members";
  }
  d->status = Str(chain["status"]);
  d->credential = Str(chain["identity"]);
  d->end_reason = Str(chain["end_reason"]);
  d->start_ns = OptInt(chain["start_ns"]);
  d->end_ns = OptInt(chain["end_ns"]);
  simdjson::dom::object stages;
  if (!chain["stages"].get(stages)) {
    for (auto [k, v] : stages) {
      auto& list = d->stages[std::string(k)];
      for (simdjson::dom::element s : v.get_array()) list.push_back(s.get_uint64().value());
    }
  }
  simdjson::dom::element fu;
  if (!chain["first_use"].get(fu) && !fu.is_null()) d->first_use = U(fu, "seq");
  d->count = U(actions, "count");
  d->covered = U(actions, "covered");
  d->out_of_scope = U(actions, "out_of_scope");
  d->before_grant = U(actions, "before_grant");
  d->after_revocation = U(actions, "after_revocation");
  d->after_expiry = U(actions, "after_expiry");
  d->delegated = U(actions, "delegated");
  d->omitted = U(actions, "exceptions_omitted");
  if (d->count) {
    d->first_ns = OptInt(actions["first_ns"]);
    d->last_ns = OptInt(actions["last_ns"]);
  }
  simdjson::dom::array exc;
  if (!actions["exceptions"].get(exc)) {
    for (simdjson::dom::element x : exc) d->exceptions.push_back(U(x, "seq"));
  }
  simdjson::dom::array keys;
  if (!identity.is_null() && !identity["keys"].get(keys)) {
    for (simdjson::dom::element k : keys) d->keys.insert(Str(k["key"]));
  }
  return "";
}
#endif

// ---------------------------------------------------------------------------------------------
// Timing.

struct Stats {
  size_t n = 0;
  double p50 = 0, p99 = 0, max = 0, mean = 0;
};

Stats Summarize(std::vector<double> v) {
  Stats s;
  s.n = v.size();
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  auto rank = [&](double p) {  // nearest rank
    size_t i = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size())));
    return v[std::min(v.size(), std::max<size_t>(i, 1)) - 1];
  };
  s.p50 = rank(0.50);
  s.p99 = rank(0.99);
  s.max = v.back();
  double sum = 0;
  for (double x : v) sum += x;
  s.mean = sum / static_cast<double>(v.size());
  return s;
}

struct Row {
  std::string bucket, system, pass;
  Stats stats;
  double cpu_p50 = -1, cpu_mean = -1;  // CPU ms per query (-1: not measured)
  std::string note;
};

std::string Fmt(double ms) {
  char b[32];
  if (ms < 10) {
    std::snprintf(b, sizeof b, "%.2f", ms);
  } else if (ms < 1000) {
    std::snprintf(b, sizeof b, "%.1f", ms);
  } else {
    std::snprintf(b, sizeof b, "%.0f", ms);
  }
  return b;
}

// Runs argv with stdout and stderr to /dev/null. Returns false unless it exited 0; sets the wall
// time and the child's CPU time (user + system, from wait4), in ms.
bool RunProcess(const std::vector<std::string>& args, double* wall_ms, double* cpu_ms) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  auto t0 = Clock::now();
  pid_t pid;
  int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return false;
  int status = 0;
  rusage ru{};
  if (wait4(pid, &status, 0, &ru) != pid) return false;
  *wall_ms = Ms(Clock::now() - t0);
  auto tv_ms = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) * 1e3 + static_cast<double>(tv.tv_usec) / 1e3;
  };
  *cpu_ms = tv_ms(ru.ru_utime) + tv_ms(ru.ru_stime);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

struct Options {
  std::string store, chains, pg, sql_path, cli, psql, export_pg, results;
  size_t queries = 2000, busiest = 5, process_runs = 200;
  uint64_t seed = 1;
  double budget_s = 1800;
  size_t show_mismatches = 5;
};

class Harness {
 public:
  explicit Harness(Options o) : o_(std::move(o)), deadline_(Clock::now()) {
    deadline_ +=
        std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o_.budget_s));
  }

  int Run() {
    std::vector<ChainLine> chains = ReadChains(o_.chains);
    std::vector<Bucket> buckets = MakeBuckets(chains, o_.queries, o_.busiest, o_.seed);
    if (!o_.sql_path.empty()) {
      std::ifstream in(o_.sql_path);
      if (!in) Die("cannot read " + o_.sql_path);
      std::stringstream ss;
      ss << in.rdbuf();
      sql_ = ss.str();
    }
    uint64_t events = 0;
    {
      cli::Context ctx(SystemClock::Instance());
      ctx.options.store = o_.store;
      auto st = Must(ctx.OpenStoreOnly(), "open " + o_.store);
      events = Must(st->EventCount(), "count");
    }
    std::printf("store: %s, %llu events; %zu chains in %s\n\n", o_.store.c_str(),
                static_cast<unsigned long long>(events), chains.size(), o_.chains.c_str());
    std::printf(
        "| bucket | requests (distinct) | actions per chain | system | pass | n | p50 ms "
        "| p99 ms | max ms | mean ms | CPU p50 ms | CPU mean ms |\n");
    std::printf("|---|---:|---|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
    std::fflush(stdout);
    for (const Bucket& b : buckets) {
      if (b.queries.empty()) {
        std::fprintf(stderr, "bucket %s: no chains of that size\n", b.name.c_str());
        continue;
      }
      std::vector<Digest> nhi;
      std::vector<Row> rows = TimeNhitrace(b, &nhi);
#ifdef NHITRACE_BENCH_HAVE_PG
      if (!o_.pg.empty()) {
        auto pg = TimePostgres(b, nhi);
        rows.insert(rows.end(), pg.begin(), pg.end());
      }
#endif
      for (const Row& r : rows) {
        std::printf(
            "| %s | %zu (%zu) | %llu-%llu | %s | %s | %zu | %s | %s | %s | %s | %s | %s |%s\n",
            b.name.c_str(), b.queries.size(), b.distinct,
            static_cast<unsigned long long>(b.min_actions),
            static_cast<unsigned long long>(b.max_actions), r.system.c_str(), r.pass.c_str(),
            r.stats.n, Fmt(r.stats.p50).c_str(), Fmt(r.stats.p99).c_str(), Fmt(r.stats.max).c_str(),
            Fmt(r.stats.mean).c_str(), r.cpu_p50 < 0 ? "-" : Fmt(r.cpu_p50).c_str(),
            r.cpu_mean < 0 ? "-" : Fmt(r.cpu_mean).c_str(),
            r.note.empty() ? "" : (" " + r.note).c_str());
        std::fflush(stdout);
      }
    }
    std::printf(
        "\nanswers compared (PostgreSQL against nhitrace): %zu, mismatches: %zu; "
        "nhitrace action counts against the generator's: %zu checked, %zu wrong\n",
        compared_, mismatches_, count_checked_, count_wrong_);
    if (o_.process_runs > 0 && (!o_.cli.empty() || !o_.psql.empty())) WholeProcess(buckets);
    return mismatches_ == 0 && count_wrong_ == 0 ? 0 : 3;
  }

 private:
  bool OverBudget() const { return Clock::now() > deadline_; }

  std::vector<Row> TimeNhitrace(const Bucket& b, std::vector<Digest>* digests) {
    std::fprintf(stderr, "== %s: nhitrace\n", b.name.c_str());
    cli::Context ctx(SystemClock::Instance());
    ctx.options.store = o_.store;
    auto t_open = Clock::now();
    auto st = Must(ctx.OpenStoreOnly(), "open " + o_.store);
    double open_ms = Ms(Clock::now() - t_open);
    std::vector<Row> rows;
    size_t bytes = 0;
    for (int pass = 0; pass < 2; ++pass) {
      std::vector<double> ms, cpu;
      for (size_t i = 0; i < b.queries.size(); ++i) {
        if (OverBudget()) break;
        const ChainLine& q = *b.queries[i];
        double c0 = ThreadCpuMs();
        auto t0 = Clock::now();
        auto t = correlate::BuildTrace(*st, correlate::TraceQuery{q.request, "", std::nullopt});
        if (!t.ok()) Die("trace " + q.request + ": " + t.status().message());
        std::string json = correlate::TraceToJson(*t);
        ms.push_back(Ms(Clock::now() - t0));
        cpu.push_back(ThreadCpuMs() - c0);
        bytes += json.size();
        if (pass == 1) {
          digests->push_back(DigestOf(*t));
          ++count_checked_;
          if (digests->back().count != q.actions) {
            if (count_wrong_++ < o_.show_mismatches) {
              std::fprintf(stderr, "  %s: nhitrace counts %llu actions, the generator made %llu\n",
                           q.request.c_str(),
                           static_cast<unsigned long long>(digests->back().count),
                           static_cast<unsigned long long>(q.actions));
            }
          }
        }
      }
      Row r{b.name, "nhitrace", pass == 0 ? "cold" : "warm", Summarize(ms), -1, -1, ""};
      Stats c = Summarize(cpu);
      r.cpu_p50 = c.p50;
      r.cpu_mean = c.mean;
      if (pass == 0) r.note = "(store open " + Fmt(open_ms) + " ms)";
      if (ms.size() < b.queries.size()) r.note += " (stopped by the time budget)";
      std::fprintf(stderr, "   %s: p50 %s p99 %s ms over %zu\n", r.pass.c_str(),
                   Fmt(r.stats.p50).c_str(), Fmt(r.stats.p99).c_str(), r.stats.n);
      rows.push_back(r);
    }
    return rows;
  }

#ifdef NHITRACE_BENCH_HAVE_PG
  std::vector<Row> TimePostgres(const Bucket& b, const std::vector<Digest>& nhi) {
    std::fprintf(stderr, "== %s: PostgreSQL\n", b.name.c_str());
    std::unique_ptr<PGconn, void (*)(PGconn*)> conn(PQconnectdb(o_.pg.c_str()), &PQfinish);
    if (PQstatus(conn.get()) != CONNECTION_OK) {
      Die(std::string("PostgreSQL: ") + PQerrorMessage(conn.get()));
    }
    using ResultPtr = std::unique_ptr<PGresult, void (*)(PGresult*)>;
    ResultPtr prep(PQprepare(conn.get(), "trace", sql_.c_str(), 1, nullptr), &PQclear);
    if (PQresultStatus(prep.get()) != PGRES_COMMAND_OK) {
      Die(std::string("prepare: ") + PQerrorMessage(conn.get()));
    }
    const int backend = PQbackendPID(conn.get());
    std::vector<Row> rows;
    for (int pass = 0; pass < 2; ++pass) {
      std::vector<double> ms;
      double cpu0 = ProcessCpuMs(backend);
      for (size_t i = 0; i < b.queries.size(); ++i) {
        if (OverBudget()) break;
        const ChainLine& q = *b.queries[i];
        const char* params[1] = {q.request.c_str()};
        auto t0 = Clock::now();
        ResultPtr r(PQexecPrepared(conn.get(), "trace", 1, params, nullptr, nullptr, 0), &PQclear);
        if (PQresultStatus(r.get()) != PGRES_TUPLES_OK || PQntuples(r.get()) != 1) {
          Die("execute " + q.request + ": " + PQerrorMessage(conn.get()));
        }
        std::string json(PQgetvalue(r.get(), 0, 0),
                         static_cast<size_t>(PQgetlength(r.get(), 0, 0)));
        ms.push_back(Ms(Clock::now() - t0));
        if (pass == 1 && i < nhi.size()) {
          Digest d;
          std::string err = DigestOfPg(json, &d);
          std::string diff = err.empty() ? nhi[i].Diff(d) : err;
          ++compared_;
          if (!diff.empty() && mismatches_++ < o_.show_mismatches) {
            std::fprintf(stderr, "  mismatch for %s: %s\n  PostgreSQL: %.600s\n", q.request.c_str(),
                         diff.c_str(), json.c_str());
          }
        }
      }
      Row r{b.name, "PostgreSQL", pass == 0 ? "cold" : "warm", Summarize(ms), -1, -1, ""};
      // The server process's CPU over the pass (the client's share is reading one string).
      if (!ms.empty() && cpu0 >= 0) {
        r.cpu_mean = (ProcessCpuMs(backend) - cpu0) / static_cast<double>(ms.size());
      }
      if (ms.size() < b.queries.size()) r.note = "(stopped by the time budget)";
      std::fprintf(stderr, "   %s: p50 %s p99 %s ms over %zu\n", r.pass.c_str(),
                   Fmt(r.stats.p50).c_str(), Fmt(r.stats.p99).c_str(), r.stats.n);
      rows.push_back(r);
    }
    return rows;
  }
#endif

  // `nhitrace trace --request ID --json` and psql running the same SQL, as separate processes.
  void WholeProcess(const std::vector<Bucket>& buckets) {
    std::string psql_sql;
    if (!o_.psql.empty()) {
      // psql has no bind parameters: the request id goes in as a quoted psql variable.
      psql_sql = o_.results.empty() ? "/tmp/nhitrace_trace_psql.sql" : o_.results + ".psql.sql";
      std::string text = sql_;
      for (size_t p; (p = text.find("$1")) != std::string::npos;) text.replace(p, 2, ":'req'");
      std::ofstream(psql_sql) << text;
    }
    std::printf(
        "\nwhole process, ms per run (output discarded; CPU = the child's user + system "
        "time; psql's does not include the server's):\n\n");
    std::printf(
        "| bucket | command | runs | p50 ms | p99 ms | max ms | mean ms | CPU p50 ms | "
        "CPU mean ms |\n");
    std::printf("|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (const Bucket& b : buckets) {
      if (b.queries.empty() || b.name.starts_with("busiest")) continue;
      size_t runs = std::min(o_.process_runs, b.queries.size());
      struct Cmd {
        std::string label;
        std::function<std::vector<std::string>(const std::string&)> argv;
      };
      std::vector<Cmd> cmds;
      if (!o_.cli.empty()) {
        cmds.push_back({"`nhitrace trace --request ID --json`", [&](const std::string& id) {
                          return std::vector<std::string>{o_.cli,      "--store", o_.store, "trace",
                                                          "--request", id,        "--json"};
                        }});
      }
      if (!o_.psql.empty()) {
        cmds.push_back({"`psql -f trace_query.sql -v req=ID`", [&](const std::string& id) {
                          return std::vector<std::string>{
                              o_.psql, "-X",  "-q", "-A",        "-t", "-v",    "ON_ERROR_STOP=1",
                              "-d",    o_.pg, "-v", "req=" + id, "-f", psql_sql};
                        }});
      }
      for (const Cmd& c : cmds) {
        std::fprintf(stderr, "== %s: %s x %zu\n", b.name.c_str(), c.label.c_str(), runs);
        std::vector<double> ms, cpu;
        for (size_t i = 0; i < runs && !OverBudget(); ++i) {
          double wall = 0, used = 0;
          if (!RunProcess(c.argv(b.queries[i]->request), &wall, &used)) {
            Die("process failed: " + c.label + " for " + b.queries[i]->request);
          }
          ms.push_back(wall);
          cpu.push_back(used);
        }
        Stats s = Summarize(ms), sc = Summarize(cpu);
        std::printf("| %s | %s | %zu | %s | %s | %s | %s | %s | %s |%s\n", b.name.c_str(),
                    c.label.c_str(), s.n, Fmt(s.p50).c_str(), Fmt(s.p99).c_str(),
                    Fmt(s.max).c_str(), Fmt(s.mean).c_str(), Fmt(sc.p50).c_str(),
                    Fmt(sc.mean).c_str(), s.n < runs ? " (stopped by the time budget)" : "");
        std::fflush(stdout);
      }
    }
  }

  Options o_;
  Clock::time_point deadline_;
  std::string sql_;
  size_t compared_ = 0, mismatches_ = 0, count_checked_ = 0, count_wrong_ = 0;
};

}  // namespace
}  // namespace nhitrace

int main(int argc, char** argv) {
  nhitrace::Options o;
  CLI::App app{"Trace latency: nhitrace against PostgreSQL on the same events and queries"};
  app.add_option("--store", o.store, "The nhitrace store (SQLite file)")->required();
  app.add_option("--export-pg", o.export_pg,
                 "Write the store's events as a PostgreSQL COPY text file and exit");
  app.add_option("--chains", o.chains, "The generator's --chains file");
  app.add_option("--queries", o.queries, "Queries per size bucket")->capture_default_str();
  app.add_option("--busiest", o.busiest, "How many of the busiest identities to trace (0: none)")
      ->capture_default_str();
  app.add_option("--seed", o.seed, "Seed for choosing the queries")->capture_default_str();
  app.add_option("--pg", o.pg, "libpq connection string; without it PostgreSQL is not run");
  app.add_option("--sql", o.sql_path, "The PostgreSQL trace query ($1 = request id)");
  app.add_option("--cli", o.cli, "The nhitrace binary, for whole-process runs");
  app.add_option("--psql", o.psql, "The psql binary, for whole-process runs");
  app.add_option("--process-runs", o.process_runs, "Whole-process runs per bucket and command")
      ->capture_default_str();
  app.add_option("--budget", o.budget_s, "Seconds for all measurements; later ones are cut short")
      ->capture_default_str();
  app.add_option("--scratch", o.results, "Path prefix for scratch files (the psql SQL)");
  CLI11_PARSE(app, argc, argv);

  if (!o.export_pg.empty()) {
    nhitrace::store::StoreOptions so;
    so.path = o.store;
    so.read_only = true;
    auto st = nhitrace::Must(nhitrace::store::OpenStore(so), "open " + o.store);
    return nhitrace::ExportPg(*st, o.export_pg);
  }
  if (o.chains.empty()) {
    std::fprintf(stderr, "nhitrace_trace_bench: --chains is required (or --export-pg)\n");
    return 2;
  }
#ifndef NHITRACE_BENCH_HAVE_PG
  if (!o.pg.empty()) {
    std::fprintf(stderr, "nhitrace_trace_bench: built without libpq; --pg is not available\n");
    return 2;
  }
#endif
  if (!o.pg.empty() && o.sql_path.empty()) {
    std::fprintf(stderr, "nhitrace_trace_bench: --pg needs --sql\n");
    return 2;
  }
  return nhitrace::Harness(o).Run();
}
