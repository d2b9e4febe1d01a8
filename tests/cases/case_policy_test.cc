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
      {"2w", 14 * kDay},         {"1h30m", 90 * kMin}, {"0s", 0},         {"36500d", 36500 * kDay}};
  for (const auto& c : cases) {
    auto d = ParseDuration(c.text);
    ASSERT_TRUE(d.ok()) << c.text << ": " << d.status().ToString();
    EXPECT_EQ(*d, c.ns) << c.text;
    EXPECT_EQ(*ParseDuration(FormatDuration(c.ns)), c.ns) << c.text;
  }
  EXPECT_EQ(FormatDuration(30 * kDay), "30d");
  EXPECT_EQ(FormatDuration(90 * kMin), "1h30m");
}

TEST(Duration, RejectsWhatIsNotADuration) {
  for (const char* bad : {"", "4", "h", "4x", "-4h", "4 h", "1.5h", "36501d", "99999999999999w"}) {
    EXPECT_FALSE(ParseDuration(bad).ok()) << bad;
  }
}

TEST(CasePolicy, DefaultsApplyWithoutAPolicy) {
  for (const char* empty : {"", "{}"}) {
    auto p = ParseCasePolicy(empty, empty);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    EXPECT_EQ(p->SlaFor(CaseKind::kIncident, Severity::kCritical).resolve_ns, kDay);
    EXPECT_EQ(p->SlaFor(CaseKind::kAlert, Severity::kLow).respond_ns, 3 * kDay);
    auto incident = p->ClosureFor(CaseKind::kIncident, Resolution::kResolved);
    EXPECT_NE(std::find(incident.begin(), incident.end(), "no_use_after_revocation"),
              incident.end());
    EXPECT_EQ(p->ClosureFor(CaseKind::kIncident, Resolution::kFalsePositive),
              std::vector<std::string>{"owner_assigned"});
    EXPECT_EQ(p->ClosureFor(CaseKind::kAlert, Resolution::kResolved),
              (std::vector<std::string>{"owner_assigned", "decision_recorded", "tasks_done"}));
    EXPECT_EQ(p->VerificationWindowFor(CaseKind::kIncident), 3 * kDay);
    EXPECT_TRUE(p->EscalationFor(CaseKind::kIncident, Severity::kHigh).empty());
    EXPECT_FALSE(p->require_policy_for_decisions);
    EXPECT_EQ(p->open_min_severity, Severity::kHigh);
    EXPECT_EQ(p->exception_max_ns, 90 * kDay);
  }
}

// The shape examples/policy.yaml of the policy module uses, and every member of the section.
TEST(CasePolicy, SectionsReplaceTheDefaultsMemberByMember) {
  auto p = ParseCasePolicy(
      R"({"require_policy_for_decisions":true,
          "exception_max_duration":7776000,
          "default":{"sla":{"low":{"resolve":"30d"}},"closure":["owner_assigned"],
                     "verification_window":"1d","escalation":"routine"},
          "finding":{"sla":{"respond":"4h","resolve":"3d"},"escalation":"security"},
          "exception":{"sla":{"respond":"1d","resolve":"5d"},"escalation":"routine"},
          "incident":{"sla":{"critical":{"respond":"15m","resolve":"4h"}},
                      "escalation":{"critical":"security","default":"none"},
                      "closure":["identity_linked"],
                      "closure_by_resolution":{"duplicate":["tasks_done"]}},
          "offboarding":{"verification_window":"30d"},
          "findings":{"open_min_severity":"medium","join_on":"correlation_key","kind":"alert",
                      "rules":{"r1":{"open":false},"r2":{"kind":"incident","severity":"low"}}}})",
      R"({"paths":{"security":[{"after":"4h","to":"security-approver"},{"after":"24h","to":"control-owner"}],
                   "routine":[{"after":"3d","to":"platform-lead"}]},
          "findings":{"critical":"security"}})");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_TRUE(p->require_policy_for_decisions);
  EXPECT_EQ(p->exception_max_ns, 90 * kDay);
  // A flat sla applies to every severity of the kind.
  EXPECT_EQ(p->SlaFor(CaseKind::kFinding, Severity::kLow).respond_ns, 4 * kHour);
  EXPECT_EQ(p->SlaFor(CaseKind::kFinding, Severity::kCritical).resolve_ns, 3 * kDay);
  EXPECT_EQ(p->SlaFor(CaseKind::kIncident, Severity::kCritical).respond_ns, 15 * kMin);
  // incident has no high entry: the default table, which the policy replaced (low only).
  EXPECT_FALSE(p->SlaFor(CaseKind::kIncident, Severity::kHigh).resolve_ns.has_value());
  EXPECT_EQ(p->SlaFor(CaseKind::kAlert, Severity::kLow).resolve_ns, 30 * kDay);
  EXPECT_FALSE(p->SlaFor(CaseKind::kAlert, Severity::kLow).respond_ns.has_value());
  // Closure: kind/resolution, default/resolution (built in), kind, default.
  EXPECT_EQ(p->ClosureFor(CaseKind::kIncident, Resolution::kDuplicate),
            std::vector<std::string>{"tasks_done"});
  EXPECT_EQ(p->ClosureFor(CaseKind::kIncident, Resolution::kRiskAccepted),
            (std::vector<std::string>{"owner_assigned", "risk_accepted"}));
  EXPECT_EQ(p->ClosureFor(CaseKind::kIncident, Resolution::kResolved),
            std::vector<std::string>{"identity_linked"});
  EXPECT_EQ(p->ClosureFor(CaseKind::kAlert, Resolution::kResolved),
            std::vector<std::string>{"owner_assigned"});
  // The built-in support closure stays: the policy did not mention support.
  EXPECT_EQ(p->ClosureFor(CaseKind::kSupport, Resolution::kResolved).size(), 4u);
  EXPECT_EQ(p->VerificationWindowFor(CaseKind::kOffboarding), 30 * kDay);
  EXPECT_EQ(p->VerificationWindowFor(CaseKind::kIncident), kDay);
  // Escalation paths by name.
  auto sec = p->EscalationFor(CaseKind::kIncident, Severity::kCritical);
  ASSERT_EQ(sec.size(), 2u);
  EXPECT_EQ(sec[1].to, "control-owner");
  EXPECT_EQ(sec[1].after_ns, kDay);
  EXPECT_TRUE(p->EscalationFor(CaseKind::kIncident, Severity::kHigh).empty());  // "none"
  EXPECT_EQ(p->EscalationFor(CaseKind::kException, Severity::kHigh).at(0).to, "platform-lead");
  EXPECT_EQ(p->EscalationFor(CaseKind::kAlert, Severity::kHigh).at(0).after_ns, 3 * kDay);
  EXPECT_EQ(p->open_min_severity, Severity::kMedium);
  EXPECT_EQ(p->join_on, JoinOn::kCorrelationKey);
  EXPECT_EQ(p->finding_case_kind, CaseKind::kAlert);
  EXPECT_EQ(p->finding_rules.at("r1").open, false);
  EXPECT_EQ(p->finding_rules.at("r2").severity, Severity::kLow);
}

TEST(CasePolicy, ErrorsNameThePathAndTheReason) {
  struct Case {
    const char* cases;
    const char* escalation;
    const char* message;
  } cases[] = {
      {"[1]", "", "cases: must be an object, got an array"},
      {"{not json", "", "cases: not valid JSON"},
      {R"({"incidnet":{}})", "", "cases.incidnet: unknown case kind \"incidnet\""},
      {R"({"incident":{"slas":{}}})", "", "cases.incident.slas: unknown member"},
      {R"({"incident":{"sla":{"urgent":{}}}})", "", "cases.incident.sla.urgent: unknown member"},
      {R"({"incident":{"sla":{"high":{"respond":"4x"}}}})", "",
       "cases.incident.sla.high.respond: not a duration (\"4x\")"},
      {R"({"incident":{"sla":{"respond":true}}})", "",
       "cases.incident.sla.respond: must be a duration"},
      {R"({"incident":{"sla":{"high":{"answer":"4h"}}}})", "",
       "cases.incident.sla.high.answer: unknown member"},
      {R"({"incident":{"closure":["owner_assigned","revoked"]}})", "",
       "cases.incident.closure[1]: unknown criterion \"revoked\""},
      {R"({"incident":{"closure_by_resolution":{"fixed":[]}}})", "",
       "cases.incident.closure_by_resolution.fixed: unknown resolution"},
      {R"({"incident":{"closure":"owner_assigned"}})", "",
       "cases.incident.closure: must be an array of strings, got a string"},
      {R"({"incident":{"verification_window":"x"}})", "", "cases.incident.verification_window"},
      {R"({"incident":{"escalation":{"urgent":"security"}}})", "",
       "cases.incident.escalation.urgent: unknown severity"},
      {R"({"incident":{"escalation":7}})", "", "cases.incident.escalation: must be an object"},
      {R"({"incident":{"escalation":"secrity"}})", R"({"paths":{"security":[]}})",
       "cases.incident.escalation: unknown escalation path \"secrity\" (escalation.paths has "
       "security)"},
      {R"({"incident":{"escalation":{"high":"x"}}})", "",
       "cases.incident.escalation.high: unknown escalation path \"x\" (escalation.paths defines "
       "none)"},
      {R"({"require_policy_for_decisions":"yes"})", "",
       "cases.require_policy_for_decisions: must be true or false"},
      {R"({"exception_max_duration":"forever"})", "", "cases.exception_max_duration: not a"},
      {R"({"findings":{"join_on":"owner"}})", "", "cases.findings.join_on: must be identity"},
      {R"({"findings":{"rules":{"r":{"open":1}}}})", "", "cases.findings.rules.r.open"},
      {R"({"findings":{"open_min_severity":"urgent"}})", "",
       "cases.findings.open_min_severity: unknown severity"},
      {R"({"findings":{"x":1}})", "", "cases.findings.x: unknown member"},
      {"", R"({"paths":{"p":{"after":"1h"}}})", "escalation.paths.p: must be a list"},
      {"", R"({"paths":{"p":[{"to":"x"}]}})", "escalation.paths.p[0].after: required"},
      {"", R"({"paths":{"p":[{"after":"1h"}]}})", "escalation.paths.p[0].to: required"},
      {"", R"({"paths":{"p":[{"after":"3h","to":"a"},{"after":"1h","to":"b"}]}})",
       "escalation.paths.p[1].after: levels must be in order of time"},
      {"", R"({"routes":{}})", "escalation.routes: unknown member"},
  };
  for (const auto& c : cases) {
    auto p = ParseCasePolicy(c.cases, c.escalation);
    ASSERT_FALSE(p.ok()) << c.cases << " " << c.escalation;
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(p.status().message().find(c.message), std::string::npos)
        << "want \"" << c.message << "\" in: " << p.status().message();
  }
}

TEST(CasePolicy, TheValidatorForThePolicyModuleChecksTheCasesSection) {
  EXPECT_TRUE(ValidateCasesSection(R"({"finding":{"escalation":"security"}})").ok());
  Status s = ValidateCasesSection(R"({"finding":{"closure":["nope"]}})");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  // "<path>: <reason>", as the policy module wants it to locate the node.
  EXPECT_EQ(s.message().rfind("cases.finding.closure[0]: ", 0), 0u) << s.message();
}

}  // namespace
}  // namespace nhitrace::cases
