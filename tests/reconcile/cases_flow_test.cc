// Findings open and join cases (docs/reconcile.md section 8): a leaked key's findings through
// incremental passes (open a case, a second finding joins it and raises it, a resolved finding
// is noted on it), idempotent full passes, a full pass over the same evidence giving the same
// case, and `rebuild` (derived state, findings, cases) giving the live case tables. The
// scenario runner (scenario_test.cc) checks the same properties over every reconcile scenario.
#include <algorithm>
#include <memory>
#include <sstream>

#include <gtest/gtest.h>

#include "cases/projection.h"
#include "correlate/derived_state.h"
#include "policy/policy.h"
#include "policy/policy_index.h"
#include "reconcile/engine.h"
#include "reconcile/finding.h"
#include "testing/ledger_fixture.h"

namespace nhitrace::reconcile {
namespace {

const int64_t kJune1 = ParseRfc3339("2026-06-01T00:00:00Z")->unix_nanos;
constexpr char kKey[] = "aws:accesskey:AKIACASEFLOW00000001";

const char kPolicy[] =
    "nhitrace_policy: 1\nid: caseflow-test\nrules:\n  identity-unowned: {enabled: false}\n"
    "  identity-dormant: {enabled: false}\n  credential-long-lived: {enabled: false}\n"
    "  action-after-revocation: {grace: 1m}\n";

std::string Line(const std::string& kind, const std::string& id, const std::string& time,
                 const std::string& extra) {
  return R"({"v":1,"kind":")" + kind + R"(","source":{"system":"src","event_id":")" + id +
         R"("},"time":")" + time + "\"" + extra + "}";
}

// The leaked key: issued with no approval (issuance-without-approval, high), revoked, used after
// the revocation (action-after-revocation, critical), then the approval found predating the
// issuance (the first finding resolves).
const std::string kIssued = Line("provision", "P1", "2026-05-01T10:00:00Z",
                                 R"(,"correlation_key":"CHG-9","identity":")" + std::string(kKey) +
                                     R"(","outcome":{"result":"success"})");
const std::string kRevoked = Line("revocation", "R1", "2026-05-03T10:00:00Z",
                                  R"(,"correlation_key":"CHG-9","identity":")" + std::string(kKey) +
                                      R"(","outcome":{"result":"success"})");
const std::string kUsed =
    Line("action", "A1", "2026-05-04T10:00:00Z",
         R"(,"identity":")" + std::string(kKey) + R"(","outcome":{"result":"success"})");
const std::string kApproved =
    Line("approval", "AP1", "2026-05-01T09:00:00Z",
         R"(,"correlation_key":"CHG-9","actor":{"id":"sam@example.com"})");

class CaseRun {
 public:
  CaseRun() {
    f_.set_durable(false);
    f_.clock().Set(kJune1);
    EXPECT_TRUE(f_.Init().ok());
    Open();
  }
  void Open() {
    engine_.reset();
    index_.reset();
    cases_.reset();
    derived_.reset();
    ledger_.reset();
    auto l = f_.Open();
    ASSERT_TRUE(l.ok());
    ledger_ = std::move(l).value();
    derived_ = std::make_unique<correlate::DerivedState>(ledger_->store());
    ledger_->AddObserver(derived_.get());
    cases_ = std::make_unique<cases::CaseProjection>(ledger_->store());
    ledger_->AddObserver(cases_.get());
    index_ = std::make_unique<policy::PolicyIndex>(ledger_->store());
    ledger_->AddObserver(index_.get());
    engine_ = std::make_unique<Engine>(*ledger_);
    engine_->AttachCases(cases_.get());
  }
  void Publish() {
    policy::PublishOptions o;
    o.published_by = "test";
    ASSERT_TRUE(policy::PublishPolicy(*ledger_, kPolicy, o).ok());
  }
  void Append(const std::vector<std::string>& lines) {
    auto batch = ledger_->BeginBatch();
    ASSERT_TRUE(batch.ok());
    for (const auto& line : lines) ASSERT_TRUE((*batch)->Append(testing::Record(line), line).ok());
    ASSERT_TRUE((*batch)->Commit().ok());
  }
  PassStats Incremental() {
    auto s = engine_->RunIncremental(kJune1);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? *s : PassStats{};
  }
  PassStats Full() {
    auto s = engine_->RunFull(kJune1, nullptr);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? *s : PassStats{};
  }
  std::vector<store::CaseRow> Cases() {
    store::CaseQuery all;
    all.limit = SIZE_MAX >> 1;
    auto r = store().ListCases(all);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : std::vector<store::CaseRow>{};
  }
  cases::CaseView View(uint64_t id) {
    auto v = cases_->Load(id);
    EXPECT_TRUE(v.ok() && v->has_value());
    return v.ok() && v->has_value() ? **v : cases::CaseView{};
  }
  std::string Tables() {
    std::ostringstream out;
    for (const auto& c : Cases()) {
      out << c.id << "|" << c.kind << "|" << c.state << "|" << c.severity << "|" << c.title << "|"
          << c.op_count << "|" << c.last_seq << "|" << c.next_due_ns.value_or(-1) << "\n";
      auto links = store().ListCaseLinks(c.id);
      EXPECT_TRUE(links.ok());
      for (const auto& l : *links) out << "  " << l.type << " " << l.value << " " << l.seq << "\n";
    }
    return out.str();
  }
  std::string FindingId(const std::string& rule) {
    return reconcile::FindingId(rule, SubjectType::kGrant, "CHG-9");
  }
  store::Store& store() { return ledger_->store(); }
  ledger::Ledger& ledger() { return *ledger_; }

 private:
  testing::LedgerFixture f_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<correlate::DerivedState> derived_;
  std::unique_ptr<cases::CaseProjection> cases_;
  std::unique_ptr<policy::PolicyIndex> index_;
  std::unique_ptr<Engine> engine_;
};

TEST(CaseFlowTest, FindingsOpenJoinAndAreNotedOnTheirCase) {
  CaseRun r;
  r.Publish();
  const std::string issued = r.FindingId("issuance-without-approval");
  const std::string used = r.FindingId("action-after-revocation");

  // Issued with no approval: a high finding opens a case, by nhitrace, linking what it names.
  r.Append({kIssued});
  PassStats s = r.Incremental();
  EXPECT_EQ(s.opened, 1u);
  EXPECT_EQ(s.cases_opened, 1u);
  auto cases = r.Cases();
  ASSERT_EQ(cases.size(), 1u);
  cases::CaseView v = r.View(cases[0].id);
  EXPECT_EQ(v.kind, cases::CaseKind::kFinding);
  EXPECT_EQ(v.severity, cases::Severity::kHigh);
  EXPECT_EQ(v.requester, cases::kSystemActor);
  EXPECT_TRUE(v.has_link("finding", issued));
  EXPECT_TRUE(v.has_link("identity", kKey));
  EXPECT_TRUE(v.has_link("chain", "CHG-9"));
  EXPECT_EQ(v.title, "issuance-without-approval on " + std::string(kKey));

  // Nothing new: nothing written.
  uint64_t size = r.ledger().size();
  s = r.Incremental();
  EXPECT_EQ(r.ledger().size(), size);

  // Revoked, then used: a critical finding on the same identity joins the case and raises it.
  r.Append({kRevoked, kUsed});
  s = r.Incremental();
  EXPECT_GE(s.opened, 1u);  // with revocation-unconfirmed on the same grant
  EXPECT_EQ(s.cases_opened, 0u);
  EXPECT_EQ(s.cases_joined, s.opened);
  EXPECT_EQ(s.cases_raised, 1u);
  ASSERT_EQ(r.Cases().size(), 1u);
  v = r.View(cases[0].id);
  EXPECT_TRUE(v.has_link("finding", used));
  EXPECT_EQ(v.severity, cases::Severity::kCritical);

  // The approval predates the issuance: the first finding resolves, and the case says so.
  r.Append({kApproved});
  s = r.Incremental();
  EXPECT_EQ(s.resolved, 1u);
  EXPECT_EQ(s.cases_noted, 1u);
  v = r.View(cases[0].id);
  ASSERT_FALSE(v.comments.empty());
  EXPECT_NE(v.comments.back().text.find("finding " + issued), std::string::npos);
  EXPECT_NE(v.comments.back().text.find("resolved"), std::string::npos);
  EXPECT_EQ(v.state, cases::CaseState::kOpen);  // a person closes cases

  // Full passes: nothing new, nothing written (no duplicate case).
  size = r.ledger().size();
  s = r.Full();
  EXPECT_EQ(s.cases_opened + s.cases_joined + s.cases_noted, 0u);
  s = r.Full();
  EXPECT_EQ(r.ledger().size(), size);
  EXPECT_EQ(r.Cases().size(), 1u);

  // `nhitrace rebuild`: derived state, findings and policies, cases, from the ledger alone.
  const std::string live = r.Tables();
  ASSERT_TRUE(correlate::DerivedState::Rebuild(r.store()).ok());
  ASSERT_TRUE(Engine::RebuildTables(r.store()).ok());
  ASSERT_TRUE(cases::CaseProjection::Rebuild(r.store()).ok());
  EXPECT_EQ(r.Tables(), live);
  // And the full pass that follows a rebuild changes no case either.
  r.Open();
  size = r.ledger().size();
  s = r.Incremental();
  EXPECT_TRUE(s.full);
  EXPECT_EQ(r.ledger().size(), size);
}

TEST(CaseFlowTest, AFullPassGivesTheCaseTheIncrementalPassesGave) {
  CaseRun inc, full;
  inc.Publish();
  full.Publish();
  for (const auto& l : {kIssued, kRevoked, kUsed}) {
    inc.Append({l});
    inc.Incremental();
  }
  full.Append({kIssued, kRevoked, kUsed});  // no pass yet
  full.Full();
  auto a = inc.Cases(), b = full.Cases();
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  cases::CaseView va = inc.View(a[0].id), vb = full.View(b[0].id);
  EXPECT_EQ(va.severity, vb.severity);
  EXPECT_EQ(va.kind, vb.kind);
  for (const char* type : {"finding", "identity", "chain"}) {
    auto la = va.links_of(type), lb = vb.links_of(type);
    std::sort(la.begin(), la.end());
    std::sort(lb.begin(), lb.end());
    EXPECT_EQ(la, lb) << type;
  }
  EXPECT_EQ(va.links_of("event").size(), vb.links_of("event").size());
  // The full pass opened with the most severe finding; the incremental passes opened with the
  // first and raised the case when the critical one joined.
  EXPECT_EQ(vb.severity, cases::Severity::kCritical);
}

TEST(CaseFlowTest, BelowTheThresholdNoCaseUntilOneOpensThenItJoins) {
  CaseRun r;
  policy::PublishOptions o;
  o.published_by = "test";
  // Only critical findings open cases here.
  ASSERT_TRUE(policy::PublishPolicy(r.ledger(),
                                    std::string(kPolicy) + "cases:\n  findings:\n"
                                                           "    open_min_severity: critical\n",
                                    o)
                  .ok());
  r.Append({kIssued});
  PassStats s = r.Incremental();
  EXPECT_EQ(s.opened, 1u);
  EXPECT_EQ(s.cases_opened, 0u);
  EXPECT_TRUE(r.Cases().empty());
  r.Append({kRevoked, kUsed});
  s = r.Incremental();
  EXPECT_EQ(s.cases_opened, 1u);
  EXPECT_GE(s.cases_joined, 1u);  // the high finding seen before joins the new case
  auto cases = r.Cases();
  ASSERT_EQ(cases.size(), 1u);
  auto v = r.View(cases[0].id);
  EXPECT_TRUE(v.has_link("finding", r.FindingId("issuance-without-approval")));
  EXPECT_TRUE(v.has_link("finding", r.FindingId("action-after-revocation")));
  EXPECT_EQ(v.severity, cases::Severity::kCritical);
}

}  // namespace
}  // namespace nhitrace::reconcile
