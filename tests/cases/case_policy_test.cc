// The cases: and escalation: policy sections (docs/cases.md, "Policy"), and durations.
#include "cases/case_policy.h"

#include <gtest/gtest.h>

namespace nhitrace::cases {
namespace {

constexpr int64_t kMin = 60'000'000'000LL;
constexpr int64_t kHour = 60 * kMin;
constexpr int64_t kDay = 24 * kHour;

TEST(Duration, ParsesUnitsAndGroups) {
  struct Case {
    const char* text;
    int64_t ns;
  } cases[] = {
      {"90s", 90'000'000'000LL}, {"15m", 15 * kMin},   {"4h", 4 * kHour}, {"7d", 7 * kDay},
      {"2w", 14 * kDay},         {"1h30m", 90 * kMin}, {"0s", 0},         {"36525d", 36525 * kDay}};
  for (const auto& c : cases) {
    auto d = ParseDuration(c.text);
    ASSERT_TRUE(d.ok()) << c.text << ": " << d.status().ToString();
    EXPECT_EQ(*d, c.ns) << c.text;
    EXPECT_EQ(*ParseDuration(FormatDuration(c.ns)), c.ns) << c.text;
  }
  EXPECT_EQ(FormatDuration(30 * kDay), "4w2d");
  EXPECT_EQ(FormatDuration(90 * kMin), "1h30m");
}

TEST(Duration, RejectsWhatIsNotADuration) {
  for (const char* bad : {"", "4", "h", "4x", "-4h", "4 h", "1.5h", "36526d", "99999999999999w"}) {
    EXPECT_FALSE(ParseDuration(bad).ok()) << bad;
  }
}

TEST(CasePolicy, DefaultsApplyWithoutAPolicy) {
  auto p = ParseCasePolicy("", "");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->SlaFor(CaseKind::kIncident, Severity::kCritical).resolve_ns, kDay);
  EXPECT_EQ(p->SlaFor(CaseKind::kAlert, Severity::kLow).respond_ns, 3 * kDay);
  auto incident = p->ClosureFor(CaseKind::kIncident, Resolution::kResolved);
  EXPECT_NE(std::find(incident.begin(), incident.end(), "no_use_after_revocation"), incident.end());
  EXPECT_EQ(p->ClosureFor(CaseKind::kIncident, Resolution::kFalsePositive),
            std::vector<std::string>{"owner_assigned"});
  EXPECT_EQ(p->VerificationWindowFor(CaseKind::kIncident), 3 * kDay);
  EXPECT_TRUE(p->EscalationFor(CaseKind::kIncident, Severity::kHigh).empty());
  EXPECT_FALSE(p->require_policy_for_decisions);
  EXPECT_EQ(p->open_min_severity, Severity::kHigh);
}

TEST(CasePolicy, SectionsReplaceTheDefaultsWithTheirFallbacks) {
  auto p = ParseCasePolicy(
      R"({"require_policy_for_decisions":true,
          "sla":{"incident":{"critical":{"respond":"15m","resolve":"4h"}},
                 "default":{"low":{"resolve":"30d"}}},
          "closure":{"default":["owner_assigned"],"incident":["identity_linked"],
                     "incident/duplicate":["tasks_done"]},
          "verification_window":{"default":"1d","offboarding":"30d"},
          "exception_max_duration":7776000,
          "control_owners":["ciso@example.com"],
          "findings":{"open_min_severity":"medium","join_on":"correlation_key","kind":"alert",
                      "rules":{"r1":{"open":false},"r2":{"kind":"incident","severity":"low"}}}})",
      R"({"default":[{"after":"2h","to":"lead"}],"incident":[{"after":"1h","to":"a"},{"after":"3h","to":"b"}],
          "incident/critical":[{"after":"10m","to":"c"}]})");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_TRUE(p->require_policy_for_decisions);
  EXPECT_EQ(p->SlaFor(CaseKind::kIncident, Severity::kCritical).respond_ns, 15 * kMin);
  // No incident/high: the policy's default table, which has no high either: no SLA.
  EXPECT_FALSE(p->SlaFor(CaseKind::kIncident, Severity::kHigh).resolve_ns.has_value());
  EXPECT_EQ(p->SlaFor(CaseKind::kAlert, Severity::kLow).resolve_ns, 30 * kDay);
  EXPECT_FALSE(p->SlaFor(CaseKind::kAlert, Severity::kLow).respond_ns.has_value());
  EXPECT_EQ(p->ClosureFor(CaseKind::kIncident, Resolution::kDuplicate),
            std::vector<std::string>{"tasks_done"});
  EXPECT_EQ(p->ClosureFor(CaseKind::kIncident, Resolution::kResolved),
            std::vector<std::string>{"identity_linked"});
  EXPECT_EQ(p->ClosureFor(CaseKind::kSupport, Resolution::kFalsePositive),
            std::vector<std::string>{"owner_assigned"});
  EXPECT_EQ(p->VerificationWindowFor(CaseKind::kOffboarding), 30 * kDay);
  EXPECT_EQ(p->VerificationWindowFor(CaseKind::kIncident), kDay);
  EXPECT_EQ(p->exception_max_ns, 90 * kDay);
  EXPECT_TRUE(p->IsControlOwner("ciso@example.com"));
  EXPECT_FALSE(p->IsControlOwner("bob"));
  EXPECT_EQ(p->open_min_severity, Severity::kMedium);
  EXPECT_EQ(p->join_on, JoinOn::kCorrelationKey);
  EXPECT_EQ(p->finding_case_kind, CaseKind::kAlert);
  EXPECT_EQ(p->finding_rules.at("r1").open, false);
  EXPECT_EQ(p->finding_rules.at("r2").severity, Severity::kLow);
  EXPECT_EQ(p->EscalationFor(CaseKind::kIncident, Severity::kCritical).size(), 1u);
  EXPECT_EQ(p->EscalationFor(CaseKind::kIncident, Severity::kHigh).size(), 2u);
  EXPECT_EQ(p->EscalationFor(CaseKind::kAlert, Severity::kHigh).at(0).to, "lead");
}

TEST(CasePolicy, ErrorsNameThePathAndTheReason) {
  struct Case {
    const char* cases;
    const char* escalation;
    const char* message;
  } cases[] = {
      {"[1]", "", "cases: must be an object, got an array"},
      {"{not json", "", "cases: not valid JSON"},
      {R"({"slas":{}})", "", "cases.slas: unknown member"},
      {R"({"sla":{"incidnet":{}}})", "", "cases.sla.incidnet: unknown case kind \"incidnet\""},
      {R"({"sla":{"incident":{"urgent":{}}}})", "", "cases.sla.incident.urgent: unknown severity"},
      {R"({"sla":{"incident":{"high":{"respond":"4x"}}}})", "",
       "cases.sla.incident.high.respond: not a duration (\"4x\")"},
      {R"({"sla":{"incident":{"high":{"respond":true}}}})", "",
       "cases.sla.incident.high.respond: must be a duration"},
      {R"({"sla":{"incident":{"high":{"answer":"4h"}}}})", "",
       "cases.sla.incident.high.answer: unknown member"},
      {R"({"closure":{"incident":["owner_assigned","revoked"]}})", "",
       "cases.closure.incident[1]: unknown criterion \"revoked\""},
      {R"({"closure":{"incident/fixed":["owner_assigned"]}})", "",
       "cases.closure.incident/fixed: unknown resolution \"fixed\""},
      {R"({"closure":{"incident":"owner_assigned"}})", "",
       "cases.closure.incident: must be an array of strings, got a string"},
      {R"({"verification_window":{"incident":"x"}})", "", "cases.verification_window.incident"},
      {R"({"control_owners":[""]})", "", "cases.control_owners[0]: must be a non-empty string"},
      {R"({"require_policy_for_decisions":"yes"})", "",
       "cases.require_policy_for_decisions: must be true or false"},
      {R"({"findings":{"join_on":"owner"}})", "", "cases.findings.join_on: must be identity"},
      {R"({"findings":{"rules":{"r":{"open":1}}}})", "", "cases.findings.rules.r.open"},
      {R"({"findings":{"open_min_severity":"urgent"}})", "",
       "cases.findings.open_min_severity: unknown severity"},
      {"", R"({"incident":{"after":"1h"}})", "escalation.incident: must be an array"},
      {"", R"({"incident":[{"to":"x"}]})", "escalation.incident[0].after: required"},
      {"", R"({"incident":[{"after":"1h"}]})", "escalation.incident[0].to: required"},
      {"", R"({"incident":[{"after":"3h","to":"a"},{"after":"1h","to":"b"}]})",
       "escalation.incident[1].after: levels must be in order of time"},
      {"", R"({"default/high":[]})", "escalation.default/high: give a severity only after a case"},
      {"", R"({"incident/urgent":[]})", "escalation.incident/urgent: unknown severity"},
  };
  for (const auto& c : cases) {
    auto p = ParseCasePolicy(c.cases, c.escalation);
    ASSERT_FALSE(p.ok()) << c.cases << " " << c.escalation;
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(p.status().message().find(c.message), std::string::npos)
        << "want \"" << c.message << "\" in: " << p.status().message();
  }
}

}  // namespace
}  // namespace nhitrace::cases
