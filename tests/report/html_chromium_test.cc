// The HTML report rendered by a real browser: headless Chromium loads the file and dumps the DOM
// it built; the values it shows (every number carries a data-k attribute) must be the counts
// the store holds, markup from the store must be inert text, and the page's own
// Content-Security-Policy must block nothing the page needs (Chromium logs every violation).
// Skips, saying why, when Chromium is not installed (Debian: apt-get install chromium).
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>

#include <gtest/gtest.h>

#include "report/html.h"
#include "report/model.h"
#include "report_fixture.h"
#include "testing/process.h"
#include "testing/temp_dir.h"

namespace nhitrace::report {
namespace {

using testing::kAsOf;

std::string ChromiumPath() {
  if (const char* env = std::getenv("CHROMIUM"); env != nullptr && *env != '\0') return env;
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser"}) {
    if (std::filesystem::exists(p)) return p;
  }
  return "";
}

std::string Unescape(std::string s) {
  const std::pair<const char*, const char*> entities[] = {{"&lt;", "<"},    {"&gt;", ">"},
                                                          {"&quot;", "\""}, {"&#39;", "'"},
                                                          {"&nbsp;", " "},  {"&amp;", "&"}};
  for (const auto& [from, to] : entities) {
    for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += strlen(to)) {
      s.replace(pos, strlen(from), to);
    }
  }
  return s;
}

class HtmlChromiumTest : public ::testing::Test {
 protected:
  void SetUp() override {
    chromium_ = ChromiumPath();
    if (chromium_.empty()) {
      GTEST_SKIP() << "chromium is not installed (apt-get install chromium, or set $CHROMIUM): "
                      "the HTML report is not rendered in a browser by this run";
    }
    ASSERT_NO_FATAL_FAILURE(fx_.Build());
  }

  // Renders the report for `options` in Chromium; fills values_ from the dumped DOM.
  void Render(const ReportOptions& options) {
    auto m = BuildReport(fx_.store(), options);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    std::string path = dir_.File("report.html");
    std::filesystem::remove(path);
    ASSERT_TRUE(WriteHtmlFile(path, RenderHtml(*m)).ok());
    auto r = ::nhitrace::testing::RunProcess(
        {chromium_, "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run",
         "--user-data-dir=" + dir_.File("chromium-profile"), "--enable-logging=stderr", "--v=0",
         "--dump-dom", "file://" + path});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    dom_ = r.out;
    log_ = r.err;
    ASSERT_NE(dom_.find("</html>"), std::string::npos) << dom_;
    values_.clear();
    static const std::regex kValue(R"re(data-k="([^"]*)"[^>]*>([^<]*)<)re");
    for (auto it = std::sregex_iterator(dom_.begin(), dom_.end(), kValue);
         it != std::sregex_iterator(); ++it) {
      values_.emplace(Unescape((*it)[1].str()), Unescape((*it)[2].str()));
    }
  }

  std::string Value(const std::string& key) {
    auto [lo, hi] = values_.equal_range(key);
    EXPECT_NE(lo, hi) << "the rendered page shows no " << key;
    if (lo == hi) return "";
    EXPECT_EQ(std::next(lo), hi) << key << " is shown more than once";
    return lo->second;
  }
  std::vector<std::string> Values(const std::string& key) {
    std::vector<std::string> out;
    auto [lo, hi] = values_.equal_range(key);
    for (auto it = lo; it != hi; ++it) out.push_back(it->second);
    return out;
  }

  // Counts read from the store directly, not through the report model.
  uint64_t StoreFindings(const std::string& rule, const std::string& status) {
    store::FindingQuery q;
    q.rule_id = rule;
    q.status = status;
    auto r = fx_.store().QueryFindings(q);
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->size() : 0;
  }
  uint64_t StoreCases(bool open_only) {
    store::CaseQuery q;
    q.open_only = open_only;
    auto r = fx_.store().ListCases(q);
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->size() : 0;
  }

  std::string chromium_;
  testing::ReportFixture fx_;
  ::nhitrace::testing::TempDir dir_;
  std::string dom_, log_;
  std::multimap<std::string, std::string> values_;
};

TEST_F(HtmlChromiumTest, ShowsWhatTheStoreHolds) {
  ReportOptions o;
  o.as_of_ns = kAsOf;
  ASSERT_NO_FATAL_FAILURE(Render(o));
  EXPECT_EQ(Value("events"), std::to_string(*fx_.store().EventCount()));
  EXPECT_EQ(Value("findings-total"), std::to_string(StoreFindings("", "")));
  EXPECT_EQ(Value("findings-open"), std::to_string(StoreFindings("", "open")));
  EXPECT_EQ(Value("cases-total"), std::to_string(StoreCases(false)));
  EXPECT_EQ(Value("open-cases-total"), std::to_string(StoreCases(true)));
  for (const reconcile::ReconcileRule* rule : reconcile::AllRules()) {
    std::string id(rule->info().id);
    EXPECT_EQ(Value("rule/" + id + "/open"), std::to_string(StoreFindings(id, "open"))) << id;
    EXPECT_EQ(Value("rule/" + id + "/resolved"), std::to_string(StoreFindings(id, "resolved")))
        << id;
  }
  // Open cases by severity (kSeverities) and age bucket, as the fixture made them.
  EXPECT_EQ(Value("open-cases/critical/2"), "1");
  EXPECT_EQ(Value("open-cases/high/0"), "1");
  EXPECT_EQ(Value("open-cases/medium/3"), "1");
  EXPECT_EQ(Value("open-cases/low"), "0");
  EXPECT_EQ(Value("closed"), "2");
  EXPECT_EQ(Value("ttc-median"), "6h 0m");
  EXPECT_EQ(Value("ttc-max"), "2d 0h");
  EXPECT_EQ(Value("coverage-actions"), "10");
  EXPECT_EQ(Value("coverage-approved"), "4");
  EXPECT_EQ(Value("coverage-percent"), "40.0%");
  EXPECT_EQ(Value("coverage-no-grant"), "2");
  EXPECT_EQ(Value("exceptions-nearing"), "1");
  EXPECT_EQ(Value("exceptions-expired"), "1");
  EXPECT_EQ(Value("overrides-total"), "4");
  EXPECT_EQ(Values("override-approver"), (std::vector<std::string>{"alice", "bob<b>"}));
  EXPECT_EQ(Values("override-count"), (std::vector<std::string>{"3", "1"}));
  EXPECT_EQ(Value("owasp/NHI1:2025/open"), "2");
  EXPECT_EQ(Value("owasp/NHI1:2025/resolved"), "1");
  EXPECT_EQ(Value("owasp/NHI1:2025/cases"), "2");
  EXPECT_EQ(Values("owasp/NHI1:2025/case"), (std::vector<std::string>{"2", "3"}));
  EXPECT_EQ(Value("owasp/NHI10:2025/open"), "0");
  EXPECT_EQ(Value("nist/PR.AA-01/open"), "3");
  EXPECT_EQ(Values("nist/GV.RR-02/finding"), (std::vector<std::string>{fx_.f_unowned}));
}

TEST_F(HtmlChromiumTest, MarkupFromTheStoreIsInertTextAndTheCspBlocksNothingOfThePage) {
  ReportOptions o;
  o.as_of_ns = kAsOf;
  ASSERT_NO_FATAL_FAILURE(Render(o));
  // The browser built no script or image element from the case title or the identity key...
  EXPECT_EQ(dom_.find("<script"), std::string::npos);
  EXPECT_EQ(dom_.find("<img"), std::string::npos);
  EXPECT_EQ(dom_.find(" onerror=\""), std::string::npos);
  // ... but shows them as text.
  EXPECT_NE(dom_.find("&lt;script&gt;document.title='pwned'&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(dom_.find("&lt;img src=x onerror=alert(1)&gt;"), std::string::npos);
  EXPECT_NE(dom_.find("<title>nhitrace report</title>"), std::string::npos);
  // The page's only style element is allowed by its hash: Chromium reports no violation.
  EXPECT_EQ(log_.find("Content Security Policy"), std::string::npos) << log_;
  // Nothing in the page refers to anything outside it.
  for (const char* needle : {"http://", "https://", " src=\"", " href=\"", "url(", "@import"}) {
    EXPECT_EQ(dom_.find(needle), std::string::npos) << needle;
  }
}

TEST_F(HtmlChromiumTest, AWindowShowsItsOwnCounts) {
  ReportOptions o;
  o.as_of_ns = kAsOf;
  o.from_ns = testing::T("2026-04-15T00:00:00Z");
  o.to_ns = kAsOf;
  ASSERT_NO_FATAL_FAILURE(Render(o));
  EXPECT_EQ(Value("findings-total"), "4");
  EXPECT_EQ(Value("cases-total"), "3");
  EXPECT_EQ(Value("coverage-actions"), "9");
  EXPECT_EQ(Value("from"), "2026-04-15T00:00:00Z");
  EXPECT_EQ(Value("owasp/NHI7:2025/open"), "0");
}

}  // namespace
}  // namespace nhitrace::report
