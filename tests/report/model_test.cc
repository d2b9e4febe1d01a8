// The report model over a ledger with known findings, cases, decisions and actions
// (report_fixture.h lists them): every count is asserted exactly, all time and in a window.
#include "report/model.h"

#include <gtest/gtest.h>

#include "reconcile/rule.h"
#include "report/html.h"
#include "report_fixture.h"

namespace nhitrace::report {
namespace {

using testing::kAsOf;
using testing::kHour;
using testing::T;

class ReportModelTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(fx_.Build()); }

  ReportModel Build(std::optional<int64_t> from = std::nullopt,
                    std::optional<int64_t> to = std::nullopt) {
    ReportOptions o;
    o.as_of_ns = kAsOf;
    o.from_ns = from;
    o.to_ns = to;
    auto m = BuildReport(fx_.store(), o);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return m.ok() ? *m : ReportModel{};
  }

  static const FrameworkSection& SectionOf(const std::vector<FrameworkSection>& v,
                                           const std::string& id) {
    for (const auto& s : v) {
      if (s.id == id) return s;
    }
    ADD_FAILURE() << "no section " << id;
    static FrameworkSection none;
    return none;
  }
  static const RuleFindings& RuleOf(const ReportModel& m, const std::string& id) {
    for (const auto& r : m.by_rule) {
      if (r.rule_id == id) return r;
    }
    ADD_FAILURE() << "no rule " << id;
    static RuleFindings none;
    return none;
  }

  testing::ReportFixture fx_;
};

TEST_F(ReportModelTest, OpenCasesBySeverityAndAge) {
  ReportModel m = Build();
  EXPECT_EQ(m.cases_total, 5u);
  EXPECT_EQ(m.open_cases.total, 3u);
  // kSeverities: critical, high, medium, low; ages: <1d, 1-7d, 7-30d, 30d+.
  using Row = std::array<uint64_t, 4>;
  EXPECT_EQ(m.open_cases.by_severity_age[0], (Row{0, 0, 1, 0}));  // case 2, 12 days
  EXPECT_EQ(m.open_cases.by_severity_age[1], (Row{1, 0, 0, 0}));  // case 1, 12 hours
  EXPECT_EQ(m.open_cases.by_severity_age[2], (Row{0, 0, 0, 1}));  // case 5, 78 days
  EXPECT_EQ(m.open_cases.by_severity_age[3], (Row{0, 0, 0, 0}));
  EXPECT_EQ(m.open_cases.other_severity, 0u);
}

TEST_F(ReportModelTest, TimeToClose) {
  ReportModel m = Build();
  EXPECT_EQ(m.time_to_close.closed, 2u);
  EXPECT_EQ(m.time_to_close.median_ns, 6 * kHour);  // nearest rank of {6h, 48h}
  EXPECT_EQ(m.time_to_close.p90_ns, 48 * kHour);
  EXPECT_EQ(m.time_to_close.mean_ns, 27 * kHour);
  EXPECT_EQ(m.time_to_close.max_ns, 48 * kHour);
  EXPECT_EQ(m.time_to_close.buckets, (std::array<uint64_t, 5>{1, 1, 0, 0, 0}));
}

TEST_F(ReportModelTest, FindingsByRuleListEveryRuleOfTheCatalog) {
  ReportModel m = Build();
  EXPECT_EQ(m.findings_total, 5u);
  EXPECT_EQ(m.findings_open, 4u);
  EXPECT_EQ(m.by_rule.size(), reconcile::AllRules().size());
  const RuleFindings& iwa = RuleOf(m, "issuance-without-approval");
  EXPECT_EQ(iwa.open, 1u);
  EXPECT_EQ(iwa.resolved, 0u);
  EXPECT_EQ(iwa.open_by_severity, (std::array<uint64_t, 4>{0, 1, 0, 0}));
  EXPECT_EQ(iwa.title, "Issuance without approval");
  EXPECT_EQ(RuleOf(m, "action-after-revocation").open_by_severity,
            (std::array<uint64_t, 4>{1, 0, 0, 0}));
  const RuleFindings& awg = RuleOf(m, "action-without-grant");
  EXPECT_EQ(awg.open, 0u);
  EXPECT_EQ(awg.resolved, 1u);
  EXPECT_EQ(RuleOf(m, "credential-long-lived").open_by_severity,
            (std::array<uint64_t, 4>{0, 0, 0, 1}));
  EXPECT_EQ(RuleOf(m, "self-approval").open + RuleOf(m, "self-approval").resolved, 0u);
  uint64_t open = 0;
  for (const auto& r : m.by_rule) open += r.open;
  EXPECT_EQ(open, m.findings_open);
}

TEST_F(ReportModelTest, CoverageIsCorrelatesAttribution) {
  ReportModel m = Build();
  const Coverage& c = m.coverage;
  EXPECT_EQ(c.actions, 10u);
  EXPECT_EQ(c.covered_approved, 4u);
  EXPECT_EQ(c.covered_unapproved, 2u);
  EXPECT_EQ(c.before_grant, 1u);
  EXPECT_EQ(c.after_revocation, 1u);
  EXPECT_EQ(c.after_expiry, 0u);
  EXPECT_EQ(c.out_of_scope, 0u);
  EXPECT_EQ(c.no_grant, 2u);
  EXPECT_EQ(c.identities, 5u);
}

TEST_F(ReportModelTest, ExceptionsAndOverrides) {
  ReportModel m = Build();
  EXPECT_EQ(m.exceptions.in_force, 3u);  // CHG-1 (latest), CHG-9, identity k4
  EXPECT_EQ(m.exceptions.nearing, 1u);
  EXPECT_EQ(m.exceptions.expired, 1u);  // CHG-2; the superseded CHG-1 one does not count
  ASSERT_EQ(m.exceptions.nearing_list.size(), 1u);
  EXPECT_EQ(m.exceptions.nearing_list[0].seq, 100u);
  EXPECT_EQ(m.exceptions.nearing_list[0].correlation_key, "CHG-1");
  EXPECT_EQ(m.overrides_total, 4u);
  ASSERT_EQ(m.overrides.size(), 2u);
  EXPECT_EQ(m.overrides[0].approver, "alice");
  EXPECT_EQ(m.overrides[0].overrides, 3u);
  EXPECT_EQ(m.overrides[0].first_ns, T("2026-05-02T00:00:00Z"));
  EXPECT_EQ(m.overrides[0].last_ns, T("2026-05-04T00:00:00Z"));
  EXPECT_EQ(m.overrides[1].approver, "bob<b>");
  EXPECT_EQ(m.overrides[1].overrides, 1u);

  // A shorter horizon: the CHG-1 exception (9 days away) is no longer "nearing".
  ReportOptions o;
  o.as_of_ns = kAsOf;
  o.expiry_horizon_ns = 7 * kNanosPerDay;
  auto m7 = BuildReport(fx_.store(), o);
  ASSERT_TRUE(m7.ok());
  EXPECT_EQ(m7->exceptions.nearing, 0u);
  EXPECT_EQ(m7->exceptions.in_force, 3u);
}

TEST_F(ReportModelTest, OwaspAndNistSections) {
  ReportModel m = Build();
  ASSERT_EQ(m.owasp.size(), 10u);
  EXPECT_EQ(m.owasp[0].id, "NHI1:2025");
  EXPECT_EQ(m.owasp[9].id, "NHI10:2025");
  const FrameworkSection& nhi1 = SectionOf(m.owasp, "NHI1:2025");
  EXPECT_EQ(nhi1.open, 2u);
  EXPECT_EQ(nhi1.resolved, 1u);
  EXPECT_EQ(nhi1.cases, 2u);  // cases 2 and 3
  ASSERT_EQ(nhi1.findings.size(), 3u);
  EXPECT_EQ(nhi1.findings[0].id, fx_.f_revocation);  // open critical first
  EXPECT_EQ(nhi1.findings[2].id, fx_.f_no_grant);    // resolved last
  ASSERT_EQ(nhi1.case_list.size(), 2u);
  EXPECT_EQ(nhi1.case_list[0].id, 2u);
  EXPECT_EQ(nhi1.case_list[1].id, 3u);
  const FrameworkSection& nhi5 = SectionOf(m.owasp, "NHI5:2025");
  EXPECT_EQ(nhi5.open, 1u);
  EXPECT_EQ(nhi5.resolved, 1u);
  EXPECT_EQ(nhi5.cases, 2u);  // cases 1 and 3
  const FrameworkSection& nhi7 = SectionOf(m.owasp, "NHI7:2025");
  EXPECT_EQ(nhi7.open, 1u);
  EXPECT_EQ(nhi7.cases, 0u);
  const FrameworkSection& nhi2 = SectionOf(m.owasp, "NHI2:2025");
  EXPECT_EQ(nhi2.open + nhi2.resolved, 0u);
  EXPECT_TRUE(nhi2.rules.empty());
  EXPECT_FALSE(nhi5.rules.empty());

  const FrameworkSection& praa01 = SectionOf(m.nist, "PR.AA-01");
  EXPECT_EQ(praa01.open, 3u);
  EXPECT_EQ(praa01.cases, 2u);
  EXPECT_EQ(SectionOf(m.nist, "PR.AA-05").open, 1u);
  EXPECT_EQ(SectionOf(m.nist, "PR.AA-05").resolved, 1u);
  EXPECT_EQ(SectionOf(m.nist, "DE.CM-03").open, 1u);
  EXPECT_EQ(SectionOf(m.nist, "RS.AN-03").open, 1u);
  EXPECT_EQ(SectionOf(m.nist, "GV.RR-02").open, 1u);
  // Subcategories of the catalog with no finding still have their section.
  EXPECT_EQ(SectionOf(m.nist, "DE.CM-09").open, 0u);
  EXPECT_EQ(SectionOf(m.nist, "ID.RA-07").open, 0u);
  EXPECT_FALSE(SectionOf(m.nist, "PR.AA-05").title.empty());
}

TEST_F(ReportModelTest, WindowSelectsFindingsCasesDecisionsAndActions) {
  ReportModel m = Build(T("2026-04-15T00:00:00Z"), T("2026-06-01T00:00:00Z"));
  EXPECT_EQ(m.findings_total, 4u);  // not credential-long-lived (January)
  EXPECT_EQ(m.findings_open, 3u);
  EXPECT_EQ(m.cases_total, 3u);  // cases 1, 2, 3
  EXPECT_EQ(m.open_cases.total, 2u);
  EXPECT_EQ(m.time_to_close.closed, 1u);
  EXPECT_EQ(m.time_to_close.median_ns, 48 * kHour);
  EXPECT_EQ(m.coverage.actions, 9u);
  EXPECT_EQ(m.coverage.before_grant, 0u);
  EXPECT_EQ(SectionOf(m.owasp, "NHI7:2025").open, 0u);
  EXPECT_EQ(m.overrides_total, 4u);

  // A window of May 3 to May 5: overrides of May 3 and 4 only; findings overlapping it.
  ReportModel may = Build(T("2026-05-03T00:00:00Z"), T("2026-05-05T00:00:00Z"));
  EXPECT_EQ(may.overrides_total, 2u);
  EXPECT_EQ(may.findings_total, 0u);
  EXPECT_EQ(may.coverage.actions, 2u);  // a4 (May 3), b1 (May 4)
  EXPECT_EQ(may.coverage.covered_approved, 1u);
  EXPECT_EQ(may.coverage.covered_unapproved, 1u);
}

TEST_F(ReportModelTest, AnEmptyWindowIsRefused) {
  ReportOptions o;
  o.as_of_ns = kAsOf;
  o.from_ns = T("2026-05-03T00:00:00Z");
  o.to_ns = o.from_ns;
  auto m = BuildReport(fx_.store(), o);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ReportModelTest, ListsAreCappedButCountsStayExact) {
  ReportOptions o;
  o.as_of_ns = kAsOf;
  o.max_listed = 1;
  auto m = BuildReport(fx_.store(), o);
  ASSERT_TRUE(m.ok());
  const FrameworkSection& nhi1 = SectionOf(m->owasp, "NHI1:2025");
  EXPECT_EQ(nhi1.findings.size(), 1u);
  EXPECT_EQ(nhi1.open + nhi1.resolved, 3u);
  EXPECT_EQ(nhi1.case_list.size(), 1u);
  EXPECT_EQ(nhi1.cases, 2u);
  std::string html = RenderHtml(*m);
  EXPECT_NE(html.find("2 more not listed"), std::string::npos);
}

TEST(HtmlEscapeTest, EscapesMarkupAndReplacesInvalidBytes) {
  EXPECT_EQ(HtmlEscape("<script>a&b\"c'd</script>"),
            "&lt;script&gt;a&amp;b&quot;c&#39;d&lt;/script&gt;");
  EXPECT_EQ(HtmlEscape(std::string("a\xff"
                                   "b\x01"
                                   "c\n",
                                   6)),
            "a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD"
            "c\n");
  EXPECT_EQ(HtmlEscape("\xC3\xA9t\xC3\xA9"), "\xC3\xA9t\xC3\xA9");  // valid UTF-8 stays
}

}  // namespace
}  // namespace nhitrace::report
