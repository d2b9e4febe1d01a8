#include "report/html.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "base/encoding.h"
#include "base/time.h"
#include "base/utf8.h"
#include "crypto/sha256.h"
#include "report/internal/new_file.h"

namespace nhitrace::report {
namespace {

// The one style element; the CSP allows exactly these bytes (by their SHA-256).
constexpr std::string_view kCss = R"css(
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:72em;color:#1b1f24;padding:0 1em}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ccd}
h3{font-size:1.05em;margin-bottom:.3em}
table{border-collapse:collapse;margin:.5em 0}
td,th{border:1px solid #ccd;padding:.2em .6em;text-align:left;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.muted{color:#57606a}.mono{font-family:ui-monospace,monospace;font-size:.9em;word-break:break-all}
.kpis{display:flex;flex-wrap:wrap;gap:1em}.kpi{border:1px solid #ccd;padding:.5em 1em}
.kpi b{display:block;font-size:1.5em}
svg text{font-family:system-ui,sans-serif;font-size:12px}
)css";

const char* kSeverityColor[] = {"#8b0000", "#d1495b", "#edae49", "#66a182"};
const char* kBucketColor[] = {"#9ecae1", "#6baed6", "#3182bd", "#08519c", "#08306b"};

std::string Num(uint64_t v) { return std::to_string(v); }

std::string Time(int64_t ns) { return FormatRfc3339Utc(ns, 0); }

std::string Duration(int64_t ns) {
  if (ns <= 0) return "0s";
  int64_t s = ns / 1'000'000'000;
  char buf[64];
  if (s >= 86400) {
    std::snprintf(buf, sizeof buf, "%" PRId64 "d %" PRId64 "h", s / 86400, (s % 86400) / 3600);
  } else if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%" PRId64 "h %" PRId64 "m", s / 3600, (s % 3600) / 60);
  } else {
    std::snprintf(buf, sizeof buf, "%" PRId64 "m %" PRId64 "s", s / 60, s % 60);
  }
  return buf;
}

std::string Percent(uint64_t part, uint64_t whole) {
  if (whole == 0) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", 100.0 * static_cast<double>(part) / whole);
  return buf;
}

class Page {
 public:
  Page& Raw(std::string_view s) {
    out_.append(s);
    return *this;
  }
  Page& Text(std::string_view s) {
    out_ += HtmlEscape(s);
    return *this;
  }
  // A number (or short value) with its data-k name, in an element of `tag` with `cls`.
  Page& Value(std::string_view tag, std::string_view cls, std::string_view key,
              std::string_view value) {
    out_ += "<";
    out_ += tag;
    if (!cls.empty()) out_ += " class=\"" + std::string(cls) + "\"";
    out_ += " data-k=\"" + HtmlEscape(key) + "\">" + HtmlEscape(value) + "</";
    out_ += tag;
    out_ += ">";
    return *this;
  }
  Page& Cell(std::string_view key, uint64_t v) { return Value("td", "n", key, Num(v)); }
  Page& TextCell(std::string_view s, std::string_view cls = "") {
    out_ += cls.empty() ? "<td>" : "<td class=\"" + std::string(cls) + "\">";
    Text(s);
    out_ += "</td>";
    return *this;
  }
  Page& Kpi(std::string_view label, std::string_view key, std::string_view value) {
    Raw("<div class=\"kpi\">");
    Value("b", "", key, value);
    Text(label);
    Raw("</div>");
    return *this;
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

// A horizontal bar chart: one bar per row, each made of segments.
struct Bar {
  std::string label;
  std::vector<uint64_t> segments;
};
void BarChart(Page& p, std::string_view title, const std::vector<Bar>& bars,
              const std::vector<std::string_view>& legend, const char* const* colors) {
  uint64_t max = 1;
  for (const auto& b : bars) {
    uint64_t sum = 0;
    for (uint64_t v : b.segments) sum += v;
    max = std::max(max, sum);
  }
  const int label_w = 220, bar_w = 440, row_h = 22;
  const int legend_h = legend.size() > 1 ? 22 : 0;
  const int height = static_cast<int>(bars.size()) * row_h + legend_h + 4;
  p.Raw("<svg role=\"img\" width=\"" + std::to_string(label_w + bar_w + 80) + "\" height=\"" +
        std::to_string(height) + "\" viewBox=\"0 0 " + std::to_string(label_w + bar_w + 80) + " " +
        std::to_string(height) + "\"><title>")
      .Text(title)
      .Raw("</title>");
  int y = 0;
  for (const auto& b : bars) {
    p.Raw("<text x=\"0\" y=\"" + std::to_string(y + 15) + "\">").Text(b.label).Raw("</text>");
    double x = label_w;
    uint64_t sum = 0;
    for (size_t i = 0; i < b.segments.size(); ++i) {
      sum += b.segments[i];
      if (b.segments[i] == 0) continue;
      double w = static_cast<double>(b.segments[i]) * bar_w / static_cast<double>(max);
      char rect[200];
      std::snprintf(rect, sizeof rect,
                    "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"></rect>", x,
                    y + 3, w, row_h - 6, colors[i]);
      p.Raw(rect);
      x += w;
    }
    char text[100];
    std::snprintf(text, sizeof text, "<text x=\"%.1f\" y=\"%d\">", x + 4, y + 15);
    p.Raw(text).Text(Num(sum)).Raw("</text>");
    y += row_h;
  }
  if (legend.size() > 1) {
    int x = 0;
    for (size_t i = 0; i < legend.size(); ++i) {
      p.Raw("<rect x=\"" + std::to_string(x) + "\" y=\"" + std::to_string(y + 6) +
            "\" width=\"10\" height=\"10\" fill=\"" + colors[i] + "\"></rect>");
      p.Raw("<text x=\"" + std::to_string(x + 14) + "\" y=\"" + std::to_string(y + 15) + "\">")
          .Text(legend[i])
          .Raw("</text>");
      x += 24 + static_cast<int>(legend[i].size()) * 8;
    }
  }
  p.Raw("</svg>");
}

void FindingTable(Page& p, const std::string& key, const std::vector<FindingItem>& findings,
                  uint64_t total) {
  if (findings.empty()) {
    p.Raw("<p class=\"muted\">No finding maps to it.</p>");
    return;
  }
  p.Raw(
      "<table><tr><th>finding</th><th>rule</th><th>severity</th><th>status</th><th>subject</th>"
      "<th>evidence</th></tr>");
  for (const auto& f : findings) {
    p.Raw("<tr>")
        .Value("td", "mono", key + "/finding", f.id)
        .TextCell(f.rule_id)
        .TextCell(f.severity)
        .TextCell(f.status)
        .Raw("<td class=\"mono\">")
        .Text(f.subject_type)
        .Raw(" ")
        .Text(f.subject)
        .Raw("</td>")
        .TextCell(Time(f.first_seen_ns) + " to " + Time(f.last_seen_ns))
        .Raw("</tr>");
  }
  p.Raw("</table>");
  if (total > findings.size()) {
    p.Raw("<p class=\"muted\">").Text(Num(total - findings.size())).Raw(" more not listed.</p>");
  }
}

void Section(Page& p, std::string_view prefix, const FrameworkSection& s) {
  std::string key = std::string(prefix) + "/" + s.id;
  p.Raw("<section><h3>").Text(s.id);
  if (!s.title.empty()) p.Raw(" — ").Text(s.title);
  p.Raw("</h3><p>Open findings: ")
      .Value("span", "", key + "/open", Num(s.open))
      .Raw(" · resolved: ")
      .Value("span", "", key + "/resolved", Num(s.resolved))
      .Raw(" · cases: ")
      .Value("span", "", key + "/cases", Num(s.cases))
      .Raw(" · rules: ");
  if (s.rules.empty()) p.Raw("none of nhitrace's rules");
  for (size_t i = 0; i < s.rules.size(); ++i) {
    if (i > 0) p.Raw(", ");
    p.Raw("<span class=\"mono\">").Text(s.rules[i]).Raw("</span>");
  }
  p.Raw("</p>");
  FindingTable(p, key, s.findings, s.open + s.resolved);
  if (!s.case_list.empty()) {
    p.Raw("<table><tr><th>case</th><th>state</th><th>severity</th><th>title</th></tr>");
    for (const auto& c : s.case_list) {
      p.Raw("<tr>")
          .Value("td", "n", key + "/case", Num(c.id))
          .TextCell(c.state)
          .TextCell(c.severity)
          .TextCell(c.title)
          .Raw("</tr>");
    }
    p.Raw("</table>");
  }
  p.Raw("</section>");
}

}  // namespace

std::string HtmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  auto escape_valid = [&out](std::string_view v) {
    for (char c : v) {
      auto u = static_cast<unsigned char>(c);
      switch (c) {
        case '&':
          out += "&amp;";
          break;
        case '<':
          out += "&lt;";
          break;
        case '>':
          out += "&gt;";
          break;
        case '"':
          out += "&quot;";
          break;
        case '\'':
          out += "&#39;";
          break;
        default:
          if ((u < 0x20 && c != '\t' && c != '\n' && c != '\r') || u == 0x7f) {
            out += "\xEF\xBF\xBD";
          } else {
            out += c;
          }
      }
    }
  };
  while (!s.empty()) {
    size_t bad = 0;
    if (IsValidUtf8(s, &bad)) {
      escape_valid(s);
      break;
    }
    escape_valid(s.substr(0, bad));
    out += "\xEF\xBF\xBD";
    s.remove_prefix(bad + 1);
  }
  return out;
}

std::string RenderHtml(const ReportModel& m) {
  const ReportOptions& o = m.options;
  std::string css_hash = Base64Encode(crypto::AsBytes(crypto::Sha256(kCss)));
  Page p;
  p.Raw("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n");
  p.Raw(
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src "
      "'sha256-" +
      css_hash +
      "'; img-src 'none'; font-src 'none'; script-src 'none'; connect-src 'none'; "
      "object-src 'none'; frame-src 'none'; base-uri 'none'; form-action 'none'\">\n");
  p.Raw("<meta name=\"referrer\" content=\"no-referrer\">\n");
  p.Raw("<title>nhitrace report</title><style>").Raw(kCss).Raw("</style></head><body>\n");

  p.Raw("<h1>nhitrace report</h1><p class=\"muted\">As of ")
      .Value("span", "", "as-of", Time(o.as_of_ns))
      .Raw(" · window ")
      .Value("span", "", "from", o.from_ns ? Time(*o.from_ns) : "(start)")
      .Raw(" to ")
      .Value("span", "", "to", o.to_ns ? Time(*o.to_ns) : "(end)")
      .Raw(" · ledger of ")
      .Value("span", "", "events", Num(m.events))
      .Raw(" events, latest checkpoint size ")
      .Value("span", "", "checkpoint-size", Num(m.checkpoint_size))
      .Raw(", root <span class=\"mono\">")
      .Text(m.checkpoint_root_hex.empty() ? "(none)" : m.checkpoint_root_hex)
      .Raw("</span>. Every number is read from the store; ")
      .Raw("the ledger proves the events behind it (<span class=\"mono\">nhitrace verify</span>, ")
      .Raw("<span class=\"mono\">nhitrace export</span>).</p>\n");

  p.Raw("<div class=\"kpis\">")
      .Kpi("open cases", "open-cases-total", Num(m.open_cases.total))
      .Kpi("cases in the window", "cases-total", Num(m.cases_total))
      .Kpi("open findings", "findings-open", Num(m.findings_open))
      .Kpi("findings in the window", "findings-total", Num(m.findings_total))
      .Kpi("actions under an approved grant", "coverage-percent",
           Percent(m.coverage.covered_approved, m.coverage.actions))
      .Kpi("exceptions nearing expiry", "exceptions-nearing", Num(m.exceptions.nearing))
      .Kpi("overrides", "overrides-total", Num(m.overrides_total))
      .Raw("</div>\n");

  // Open cases by severity and age.
  p.Raw("<h2 id=\"open-cases\">Open cases by severity and age</h2>");
  {
    std::vector<Bar> bars;
    p.Raw("<table><tr><th>severity</th>");
    for (auto b : kAgeBuckets) p.Raw("<th class=\"n\">").Text(b).Raw("</th>");
    p.Raw("<th class=\"n\">total</th></tr>");
    for (size_t s = 0; s < kSeverities.size(); ++s) {
      const auto& row = m.open_cases.by_severity_age[s];
      uint64_t total = 0;
      p.Raw("<tr>").TextCell(kSeverities[s]);
      for (size_t a = 0; a < kAgeBuckets.size(); ++a) {
        total += row[a];
        p.Cell("open-cases/" + std::string(kSeverities[s]) + "/" + std::to_string(a), row[a]);
      }
      p.Cell("open-cases/" + std::string(kSeverities[s]), total).Raw("</tr>");
      bars.push_back({std::string(kSeverities[s]), {row.begin(), row.end()}});
    }
    p.Raw("</table>");
    if (m.open_cases.other_severity > 0) {
      p.Raw("<p>With another severity: ")
          .Value("span", "", "open-cases/other", Num(m.open_cases.other_severity))
          .Raw("</p>");
    }
    BarChart(p, "Open cases by severity, stacked by age", bars,
             {kAgeBuckets.begin(), kAgeBuckets.end()}, kBucketColor);
  }

  // Time to close.
  p.Raw("<h2 id=\"time-to-close\">Time to close</h2><p>")
      .Value("span", "", "closed", Num(m.time_to_close.closed))
      .Raw(" cases opened in the window are closed");
  if (m.time_to_close.closed > 0) {
    p.Raw(": median ")
        .Value("span", "", "ttc-median", Duration(m.time_to_close.median_ns))
        .Raw(", 90th percentile ")
        .Value("span", "", "ttc-p90", Duration(m.time_to_close.p90_ns))
        .Raw(", mean ")
        .Value("span", "", "ttc-mean", Duration(m.time_to_close.mean_ns))
        .Raw(", longest ")
        .Value("span", "", "ttc-max", Duration(m.time_to_close.max_ns));
  }
  p.Raw(".</p>");
  {
    std::vector<Bar> bars;
    p.Raw("<table><tr><th>time to close</th><th class=\"n\">cases</th></tr>");
    for (size_t b = 0; b < kCloseBuckets.size(); ++b) {
      p.Raw("<tr>")
          .TextCell(kCloseBuckets[b])
          .Cell("ttc/" + std::to_string(b), m.time_to_close.buckets[b])
          .Raw("</tr>");
      bars.push_back({std::string(kCloseBuckets[b]), {m.time_to_close.buckets[b]}});
    }
    p.Raw("</table>");
    BarChart(p, "Closed cases by time to close", bars, {"cases"}, kBucketColor + 2);
  }

  // Findings by rule.
  p.Raw("<h2 id=\"by-rule\">Broken chains: findings by rule</h2>");
  {
    std::vector<Bar> bars;
    p.Raw("<table><tr><th>rule</th><th>title</th>");
    for (auto s : kSeverities) p.Raw("<th class=\"n\">open ").Text(s).Raw("</th>");
    p.Raw("<th class=\"n\">open</th><th class=\"n\">resolved</th></tr>");
    for (const auto& r : m.by_rule) {
      std::string key = "rule/" + r.rule_id;
      p.Raw("<tr>").TextCell(r.rule_id, "mono").TextCell(r.title);
      for (size_t s = 0; s < kSeverities.size(); ++s) {
        p.Cell(key + "/" + std::string(kSeverities[s]), r.open_by_severity[s]);
      }
      p.Cell(key + "/open", r.open).Cell(key + "/resolved", r.resolved).Raw("</tr>");
      bars.push_back({r.rule_id, {r.open_by_severity.begin(), r.open_by_severity.end()}});
    }
    p.Raw("</table>");
    BarChart(p, "Open findings by rule, stacked by severity", bars,
             {kSeverities.begin(), kSeverities.end()}, kSeverityColor);
  }

  // Coverage.
  const Coverage& c = m.coverage;
  p.Raw("<h2 id=\"coverage\">Coverage</h2><p>")
      .Value("span", "", "coverage-approved", Num(c.covered_approved))
      .Raw(" of ")
      .Value("span", "", "coverage-actions", Num(c.actions))
      .Raw(" actions (")
      .Text(Percent(c.covered_approved, c.actions))
      .Raw(") by ")
      .Value("span", "", "coverage-identities", Num(c.identities))
      .Raw(
          " identities are attributable to an approved grant: inside its window and its "
          "approved scope (the attribution of <span class=\"mono\">nhitrace trace</span>).</p>");
  {
    const std::pair<const char*, uint64_t> rows[] = {
        {"covered, approved grant", c.covered_approved},
        {"covered, grant with no approval", c.covered_unapproved},
        {"out of scope", c.out_of_scope},
        {"before the grant", c.before_grant},
        {"after revocation", c.after_revocation},
        {"after expiry", c.after_expiry},
        {"no grant", c.no_grant},
    };
    const char* keys[] = {"coverage-approved-row",     "coverage-unapproved",
                          "coverage-out-of-scope",     "coverage-before-grant",
                          "coverage-after-revocation", "coverage-after-expiry",
                          "coverage-no-grant"};
    std::vector<Bar> bars;
    p.Raw(
        "<table><tr><th>attribution</th><th class=\"n\">actions</th><th class=\"n\">share</th>"
        "</tr>");
    for (size_t i = 0; i < std::size(rows); ++i) {
      p.Raw("<tr>")
          .TextCell(rows[i].first)
          .Cell(keys[i], rows[i].second)
          .TextCell(Percent(rows[i].second, c.actions), "n")
          .Raw("</tr>");
      bars.push_back({rows[i].first, {rows[i].second}});
    }
    p.Raw("</table>");
    BarChart(p, "Actions by attribution", bars, {"actions"}, kBucketColor + 3);
  }

  // Exceptions nearing expiry.
  p.Raw("<h2 id=\"exceptions\">Exceptions nearing expiry</h2><p>In force: ")
      .Value("span", "", "exceptions-in-force", Num(m.exceptions.in_force))
      .Raw(" · expiring within ")
      .Text(Duration(o.expiry_horizon_ns))
      .Raw(": ")
      .Value("span", "", "exceptions-nearing-count", Num(m.exceptions.nearing))
      .Raw(" · expired: ")
      .Value("span", "", "exceptions-expired", Num(m.exceptions.expired))
      .Raw("</p>");
  if (!m.exceptions.nearing_list.empty()) {
    p.Raw(
        "<table><tr><th>expires</th><th>granted</th><th>by</th><th>identity</th>"
        "<th>request</th><th class=\"n\">event</th></tr>");
    for (const auto& e : m.exceptions.nearing_list) {
      p.Raw("<tr>")
          .TextCell(Time(e.expires_ns))
          .TextCell(Time(e.time_ns))
          .TextCell(e.actor)
          .TextCell(e.identity_key, "mono")
          .TextCell(e.correlation_key, "mono")
          .Cell("exception-seq", e.seq)
          .Raw("</tr>");
    }
    p.Raw("</table>");
    if (m.exceptions.nearing > m.exceptions.nearing_list.size()) {
      p.Raw("<p class=\"muted\">")
          .Text(Num(m.exceptions.nearing - m.exceptions.nearing_list.size()))
          .Raw(" more not listed.</p>");
    }
  }

  // Overrides per approver.
  p.Raw("<h2 id=\"overrides\">Overrides per approver</h2>");
  if (m.overrides.empty()) {
    p.Raw("<p class=\"muted\">No override in the window.</p>");
  } else {
    std::vector<Bar> bars;
    p.Raw(
        "<table><tr><th>approver</th><th class=\"n\">overrides</th><th>first</th><th>latest"
        "</th></tr>");
    for (const auto& a : m.overrides) {
      p.Raw("<tr>")
          .Value("td", "", "override-approver", a.approver.empty() ? "(none recorded)" : a.approver)
          .Cell("override-count", a.overrides)
          .TextCell(Time(a.first_ns))
          .TextCell(Time(a.last_ns))
          .Raw("</tr>");
      if (bars.size() < 30) bars.push_back({a.approver, {a.overrides}});
    }
    p.Raw("</table>");
    BarChart(p, "Overrides per approver", bars, {"overrides"}, kSeverityColor + 1);
  }

  // Frameworks.
  p.Raw("<h2 id=\"owasp\">OWASP Non-Human Identities Top 10 (2025)</h2>");
  for (const auto& s : m.owasp) Section(p, "owasp", s);
  p.Raw("<h2 id=\"nist\">NIST CSF 2.0 subcategories</h2>");
  for (const auto& s : m.nist) Section(p, "nist", s);
  p.Raw(
      "<p class=\"muted\">Generated by nhitrace. The mapping of rules to OWASP and NIST is "
      "data in each rule and may be overridden by the policy; each finding keeps the mapping "
      "it was recorded with.</p>\n</body></html>\n");
  return p.Take();
}

Status WriteHtmlFile(const std::string& path, std::string_view html) {
  return internal::WriteNewFileFrom(path, [html](const auto& sink) { return sink(html); });
}

}  // namespace nhitrace::report
