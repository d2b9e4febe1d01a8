// Data-driven: for every trace scenario (tests/scenarios/trace/*.jsonl), a pack for every
// identity key, every request id and the whole time range exports (which requires the pack's
// events to reproduce the store's trace exactly) and verifies. Then the same over one ledger
// holding all scenarios at once, where identities and requests of different scenarios meet.
#include <algorithm>
#include <filesystem>
#include <set>

#include <gtest/gtest.h>

#include "evidence/evidence_fixture.h"

namespace nhitrace::evidence {
namespace {

namespace fs = std::filesystem;
using testing::EvidenceLedger;
using testing::Problems;

fs::path ScenarioDir() { return fs::path(NHITRACE_SOURCE_DIR) / "tests" / "scenarios" / "trace"; }

std::vector<std::string> ScenarioNames() {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(ScenarioDir())) {
    if (entry.path().extension() == ".jsonl") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Every query worth a pack in `l`: each identity key (canonical or not), each request id, and a
// window over everything.
std::vector<PackQuery> Queries(EvidenceLedger& l) {
  std::vector<PackQuery> out;
  std::set<std::string> keys, requests;
  EXPECT_TRUE(l.store()
                  .ScanIdentityKeys([&](const store::IdentityKeyRow& r) {
                    keys.insert(r.key);
                    return OkStatus();
                  })
                  .ok());
  EXPECT_TRUE(l.store()
                  .ScanEvents(0,
                              [&](const store::EventRow& r) {
                                if (!r.correlation_key.empty()) requests.insert(r.correlation_key);
                                return OkStatus();
                              })
                  .ok());
  for (const auto& k : keys) out.push_back(PackQuery::ForIdentity(k));
  for (const auto& r : requests) out.push_back(PackQuery::ForRequest(r));
  out.push_back(PackQuery::ForWindow("1970-01-01T00:00:00Z", "2200-01-01T00:00:00Z"));
  return out;
}

void ExportAndVerifyAll(EvidenceLedger& l, const std::string& where) {
  std::vector<PackQuery> queries = Queries(l);
  ASSERT_GT(queries.size(), 1u) << where;
  ::testing::Test::RecordProperty("packs", static_cast<int>(queries.size()));
  for (const PackQuery& q : queries) {
    ExportStats st;
    auto pack = l.Export(q, &st);
    ASSERT_TRUE(pack.ok()) << where << ": " << DescribeQuery(q) << ": " << pack.status().ToString();
    PackReport r = l.Verify(*pack);
    EXPECT_TRUE(r.ok()) << where << ": " << DescribeQuery(q) << ":\n" << Problems(r);
    EXPECT_TRUE(r.summary_checked) << where << ": " << DescribeQuery(q);
    EXPECT_EQ(r.events, st.events);
  }
}

class ScenarioPackTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ScenarioPackTest, EveryIdentityRequestAndWindowPackVerifies) {
  EvidenceLedger l;
  l.Ingest(testing::NonEmptyLines(testing::ReadFile((ScenarioDir() / (GetParam() + ".jsonl")))), 2);
  ExportAndVerifyAll(l, GetParam());
}

INSTANTIATE_TEST_SUITE_P(Scenarios, ScenarioPackTest, ::testing::ValuesIn(ScenarioNames()),
                         [](const ::testing::TestParamInfo<std::string>& p) {
                           std::string n = p.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

TEST(AllScenariosPackTest, PacksFromOneLedgerOfEveryScenarioVerify) {
  EvidenceLedger l;
  auto batch = l.ledger().BeginBatch();
  ASSERT_TRUE(batch.ok());
  size_t accepted = 0;
  for (const std::string& name : ScenarioNames()) {
    for (const std::string& line :
         testing::NonEmptyLines(testing::ReadFile(ScenarioDir() / (name + ".jsonl")))) {
      // Scenarios share some source records; the first one stored wins.
      auto o = (*batch)->Append(testing::Record(line), line);
      ASSERT_TRUE(o.ok()) << o.status().ToString();
      accepted += o->status == ledger::AppendStatus::kAccepted;
    }
  }
  ASSERT_TRUE((*batch)->Commit().ok());
  batch->reset();
  ASSERT_GT(accepted, 150u);
  ExportAndVerifyAll(l, "all scenarios");
}

}  // namespace
}  // namespace nhitrace::evidence
