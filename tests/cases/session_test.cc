// CaseSession behaviour that the one-batch-per-step scenarios cannot show: several operations in
// one batch (as the reconcile module calls OpenOrJoinForFinding for every finding of a pass),
// and a batch that is rolled back.
#include "cases/session.h"

#include <gtest/gtest.h>

#include "cases/projection.h"
#include "testing/ledger_fixture.h"

namespace nhitrace::cases {
namespace {

class SessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    f_.set_durable(false);
    ASSERT_TRUE(f_.Init().ok());
    auto l = f_.Open();
    ASSERT_TRUE(l.ok()) << l.status().ToString();
    ledger_ = std::move(l).value();
    projection_ = std::make_unique<CaseProjection>(ledger_->store());
    ledger_->AddObserver(projection_.get());
  }
  store::Store& store() { return ledger_->store(); }

  testing::LedgerFixture f_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<CaseProjection> projection_;
};

TEST_F(SessionTest, FindingsOfOnePassSeeTheCasesOpenedEarlierInTheSameBatch) {
  auto batch = ledger_->BeginBatch();
  ASSERT_TRUE(batch.ok());
  BatchEventWriter writer(**batch);
  CaseSession s(store(), *projection_, writer, {&f_.clock(), PolicyContext{}, nullptr});
  FindingInput a{"F-1", "issuance-without-approval", "high", "aws:accesskey:AKIA1", "", {}, ""};
  FindingInput b{"F-2", "action-without-grant", "critical", "aws:accesskey:AKIA1", "", {}, ""};
  FindingInput c{"F-3", "action-without-grant", "critical", "", "CHG-7", {}, ""};
  FindingInput d{"F-4", "self-approval", "critical", "aws:accesskey:AKIA9", "CHG-7", {}, ""};
  auto ra = OpenOrJoinForFinding(s, a);
  auto rb = OpenOrJoinForFinding(s, b);
  auto ra2 = OpenOrJoinForFinding(s, a);
  auto rc = OpenOrJoinForFinding(s, c);
  auto rd = OpenOrJoinForFinding(s, d);
  ASSERT_TRUE(ra.ok() && rb.ok() && ra2.ok() && rc.ok() && rd.ok());
  EXPECT_EQ(ra->action, FindingCaseOutcome::Action::kOpened);
  EXPECT_EQ(rb->action, FindingCaseOutcome::Action::kJoined);
  EXPECT_EQ(rb->case_id, ra->case_id);
  EXPECT_EQ(ra2->action, FindingCaseOutcome::Action::kUnchanged);
  EXPECT_EQ(rc->action, FindingCaseOutcome::Action::kOpened);
  EXPECT_EQ(rc->case_id, ra->case_id + 1);
  // Joins by identity first: AKIA9 has no case, CHG-7 has case 2.
  EXPECT_EQ(rd->action, FindingCaseOutcome::Action::kJoined);
  EXPECT_EQ(rd->case_id, rc->case_id);
  ASSERT_TRUE((*batch)->Commit().ok());

  store::CaseQuery all;
  auto rows = store().ListCases(all);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].op_count, 2u);  // open, join
  EXPECT_EQ((*rows)[1].op_count, 2u);
  auto links = store().FindCasesByLink("identity", "aws:accesskey:AKIA9");
  ASSERT_TRUE(links.ok());
  EXPECT_EQ(*links, std::vector<uint64_t>{2});
}

TEST_F(SessionTest, ARolledBackBatchLeavesNoCase) {
  {
    auto batch = ledger_->BeginBatch();
    ASSERT_TRUE(batch.ok());
    BatchEventWriter writer(**batch);
    CaseSession s(store(), *projection_, writer, {&f_.clock(), PolicyContext{}, nullptr});
    OpenArgs o;
    o.title = "never committed";
    ASSERT_TRUE(s.Open(o, {"ana", "human"}).ok());
    auto v = s.Get(1);
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(v->title, "never committed");
    // The batch goes out of scope uncommitted: rolled back.
  }
  auto row = store().GetCase(1);
  ASSERT_TRUE(row.ok());
  EXPECT_FALSE(row->has_value());
  auto again = ledger_->BeginBatch();
  ASSERT_TRUE(again.ok());
  BatchEventWriter writer(**again);
  CaseSession s(store(), *projection_, writer, {&f_.clock(), PolicyContext{}, nullptr});
  EXPECT_EQ(s.Get(1).status().code(), StatusCode::kNotFound);
  OpenArgs o;
  o.title = "committed";
  auto r = s.Open(o, {"ana", "human"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->case_id, 1u);  // the id of the rolled-back case is free again
  ASSERT_TRUE((*again)->Commit().ok());
  EXPECT_EQ((**store().GetCase(1)).title, "committed");
}

}  // namespace
}  // namespace nhitrace::cases
