// nhitrace report --html OUT [--from T1 --to T2] (docs/report.md, docs/cli.md).
#include <cstdio>

#include <CLI/CLI.hpp>

#include "base/time.h"
#include "cli/commands.h"
#include "json/writer.h"
#include "policy/duration.h"
#include "report/html.h"
#include "report/model.h"

namespace nhitrace::cli {

Status ParseWindow(const std::string& from, const std::string& to, std::optional<int64_t>* from_ns,
                   std::optional<int64_t>* to_ns) {
  if (!from.empty()) {
    auto t = ParseRfc3339(from);
    if (!t.ok()) return t.status().WithContext("--from");
    *from_ns = t->unix_nanos;
  }
  if (!to.empty()) {
    auto t = ParseRfc3339(to);
    if (!t.ok()) return t.status().WithContext("--to");
    *to_ns = t->unix_nanos;
  }
  if (*from_ns && *to_ns && **from_ns >= **to_ns) {
    return InvalidArgumentError("the window ends (" + to + ") before it begins (" + from + ")");
  }
  return OkStatus();
}

namespace {

struct ReportArgs {
  std::string html, from, to, as_of, horizon = "30d";
  bool json = false;
};

int RunReport(Context& ctx, const ReportArgs& a) {
  report::ReportOptions o;
  o.as_of_ns = ctx.clock().NowUnixNanos();
  Status w = ParseWindow(a.from, a.to, &o.from_ns, &o.to_ns);
  if (!w.ok()) {
    PrintError(w.WithContext("report"));
    return kExitUsage;
  }
  if (!a.as_of.empty()) {
    auto t = ParseRfc3339(a.as_of);
    if (!t.ok()) {
      PrintError(t.status().WithContext("report: --as-of"));
      return kExitUsage;
    }
    o.as_of_ns = t->unix_nanos;
  }
  auto horizon = policy::ParseDuration(a.horizon);
  if (!horizon.ok()) {
    PrintError(horizon.status().WithContext("report: --expiring-within"));
    return kExitUsage;
  }
  o.expiry_horizon_ns = *horizon;
  auto store = ctx.OpenStoreOnly();
  if (!store.ok()) {
    PrintError(store.status());
    return kExitError;
  }
  const int64_t start = SystemClock::Instance().NowUnixNanos();
  auto model = report::BuildReport(**store, o);
  if (!model.ok()) {
    PrintError(model.status().WithContext("report"));
    return kExitError;
  }
  std::string html = report::RenderHtml(*model);
  Status st = report::WriteHtmlFile(a.html, html);
  if (!st.ok()) {
    PrintError(st.WithContext("report"));
    return kExitError;
  }
  double seconds = static_cast<double>(SystemClock::Instance().NowUnixNanos() - start) / 1e9;
  const report::ReportModel& m = *model;
  if (a.json) {
    json::JsonWriter j;
    j.BeginObject();
    j.Key("out").String(a.html);
    j.Key("bytes").Uint(html.size());
    j.Key("events").Uint(m.events);
    j.Key("findings").Uint(m.findings_total);
    j.Key("open_findings").Uint(m.findings_open);
    j.Key("cases").Uint(m.cases_total);
    j.Key("open_cases").Uint(m.open_cases.total);
    j.Key("actions").Uint(m.coverage.actions);
    j.Key("actions_under_approved_grant").Uint(m.coverage.covered_approved);
    j.Key("seconds").Double(seconds);
    j.EndObject();
    std::printf("%s\n", j.str().c_str());
  } else {
    std::printf(
        "wrote %s (%zu bytes): %llu findings (%llu open), %llu cases (%llu open), %llu of %llu "
        "actions under an approved grant\n",
        a.html.c_str(), html.size(), static_cast<unsigned long long>(m.findings_total),
        static_cast<unsigned long long>(m.findings_open),
        static_cast<unsigned long long>(m.cases_total),
        static_cast<unsigned long long>(m.open_cases.total),
        static_cast<unsigned long long>(m.coverage.covered_approved),
        static_cast<unsigned long long>(m.coverage.actions));
  }
  return kExitOk;
}

}  // namespace

void RegisterReportCommands(CLI::App& app, Context& ctx, int* exit_code) {
  auto a = std::make_shared<ReportArgs>();
  auto* cmd =
      app.add_subcommand("report",
                         "Write a self-contained HTML report: cases, findings by rule, coverage, "
                         "exceptions, overrides, OWASP NHI Top 10 and NIST CSF 2.0 sections");
  cmd->add_option("--html", a->html, "The HTML file to create (must not exist)")->required();
  cmd->add_option("--from", a->from, "Window start (RFC 3339, inclusive)");
  cmd->add_option("--to", a->to, "Window end (RFC 3339, exclusive)");
  cmd->add_option("--as-of", a->as_of, "\"Now\" for ages and expiry (default: the clock)");
  cmd->add_option("--expiring-within", a->horizon,
                  "Exceptions expiring within this time are listed (default 30d)");
  cmd->add_flag("--json", a->json, "JSON output");
  cmd->callback([&ctx, exit_code, a] { *exit_code = RunReport(ctx, *a); });
}

}  // namespace nhitrace::cli
