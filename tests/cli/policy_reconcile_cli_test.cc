// Black-box tests of `policy`, `reconcile`, `findings`, `replay`, the incremental pass in
// `ingest` and `rebuild`: the real binary against a temporary store.
#include <fstream>

#include <gtest/gtest.h>

#include "json/dom.h"
#include "testing/process.h"
#include "testing/temp_dir.h"

namespace nhitrace {
namespace {

using testing::ProcessResult;
using testing::RunNhitrace;
using testing::TempDir;

void WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream(path, std::ios::binary) << contents;
}

std::string Scenario(const std::string& name) {
  return std::string(NHITRACE_SOURCE_DIR) + "/tests/scenarios/reconcile/" + name;
}

class PolicyCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = dir_.File("n.db");
    ProcessResult r = Run({"init", "--origin", "cli.test/log"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  ProcessResult Run(const std::vector<std::string>& args, const std::string& input = "") {
    return RunNhitrace(store_, args, input);
  }
  // Parses stdout as JSON into `doc` (kept alive in parser_).
  simdjson::dom::element Json(const ProcessResult& r) {
    simdjson::dom::element e;
    out_ = r.out;
    EXPECT_EQ(json::ParseJson(parser_, out_, &e), simdjson::SUCCESS) << r.out << r.err;
    return e;
  }
  TempDir dir_;
  std::string store_;
  simdjson::dom::parser parser_;
  std::string out_;
};

TEST_F(PolicyCliTest, PublishListShowDiff) {
  std::string v1 = dir_.File("v1.yaml"), v2 = dir_.File("v2.yaml"), bad = dir_.File("bad.yaml");
  WriteFile(v1, "nhitrace_policy: 1\nid: acme\nrules:\n  identity-dormant: {period: 90d}\n");
  WriteFile(v2, "nhitrace_policy: 1\nid: acme\nrules:\n  identity-dormant: {period: 60d}\n");
  WriteFile(bad, "nhitrace_policy: 1\nid: acme\nrules:\n  identity-dormant: {period: soon}\n");

  ProcessResult r = Run({"policy", "publish", v1, "--by", "alice@example.com", "--note", "v1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("published policy acme version 1"), std::string::npos) << r.out;
  r = Run({"policy", "publish", v1, "--by", "alice@example.com"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("unchanged"), std::string::npos) << r.out;

  // An invalid document: the error names file, line and column; nothing is appended.
  r = Run({"policy", "publish", bad, "--by", "alice@example.com"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(bad + ":4:30: rules.identity-dormant.period: not a duration"),
            std::string::npos)
      << r.err;
  r = Run({"events", "--json"});
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(json::ArrayOf(Json(r)).size(), 1u);

  r = Run({"policy", "publish", v2, "--by", "bob@example.com", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto pub = Json(r);
  EXPECT_EQ(uint64_t(pub["version"]), 2u);
  EXPECT_FALSE(bool(pub["unchanged"]));

  r = Run({"policy", "list", "--json"});
  ASSERT_EQ(r.exit_code, 0);
  auto list = Json(r);
  ASSERT_EQ(json::ArrayOf(list).size(), 2u);
  EXPECT_EQ(std::string_view(list.at(0)["published_by"]), "alice@example.com");
  EXPECT_EQ(std::string_view(list.at(0)["note"]), "v1");
  r = Run({"policy", "list"});
  EXPECT_NE(r.out.find("bob@example.com"), std::string::npos);

  r = Run({"policy", "show", "1"});
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "nhitrace_policy: 1\nid: acme\nrules:\n  identity-dormant: {period: 90d}\n");
  r = Run({"policy", "show", "--json"});
  ASSERT_EQ(r.exit_code, 0);
  auto shown = Json(r);
  EXPECT_EQ(uint64_t(shown["version"]), 2u);
  EXPECT_EQ(std::string_view(shown["canonical"]["rules"]["identity-dormant"]["period"]), "60d");
  r = Run({"policy", "show", "7"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no policy version 7 (the latest is 2)"), std::string::npos);

  r = Run({"policy", "diff", "1", "2"});
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("~ rules.identity-dormant.period: \"90d\" -> \"60d\""), std::string::npos)
      << r.out;
  r = Run({"policy", "diff", "1", "2", "--json"});
  auto diff = Json(r);
  ASSERT_EQ(json::ArrayOf(diff).size(), 1u);
  EXPECT_EQ(std::string_view(diff.at(0)["op"]), "changed");
}

TEST_F(PolicyCliTest, IngestReconcilesAndFindingsReplay) {
  // Without a policy, ingest reconciles nothing.
  ProcessResult r = Run({"ingest", Scenario("self-approval.jsonl")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("reconcile:"), std::string::npos) << r.out;
  r = Run({"reconcile"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no policy is published"), std::string::npos);

  std::string p = dir_.File("p.yaml");
  WriteFile(p, "nhitrace_policy: 1\nid: cli\nrules:\n  identity-unowned: {enabled: false}\n");
  ASSERT_EQ(Run({"policy", "publish", p, "--by", "alice"}).exit_code, 0);
  r = Run({"reconcile", "--as-of", "2026-06-01T00:00:00Z", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto stats = Json(r);
  EXPECT_TRUE(bool(stats["full"]));
  EXPECT_GE(uint64_t(stats["opened"]), 2u);
  // A second pass at the same time records nothing.
  r = Run({"reconcile", "--as-of", "2026-06-01T00:00:00Z", "--json"});
  stats = Json(r);
  EXPECT_EQ(uint64_t(stats["opened"]) + uint64_t(stats["updated"]) + uint64_t(stats["resolved"]),
            0u);

  // The next ingest reconciles what it appends.
  r = Run({"ingest", Scenario("override-creep.jsonl")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("reconcile: "), std::string::npos) << r.out;
  r = Run({"findings", "--rule", "override-creep", "--open", "--json"});
  ASSERT_EQ(r.exit_code, 0);
  auto findings = Json(r);
  ASSERT_EQ(json::ArrayOf(findings).size(), 2u) << r.out;
  std::string id(std::string_view(findings.at(0)["record"]["finding_id"]));
  EXPECT_EQ(std::string_view(findings.at(0)["state"]), "open");

  r = Run({"findings", "--severity", "critical", "--json"});
  ASSERT_EQ(r.exit_code, 0);
  for (auto f : json::ArrayOf(Json(r))) {
    EXPECT_EQ(std::string_view(f["record"]["severity"]), "critical");
  }
  r = Run({"findings", "--rule", "no-such-rule"});
  EXPECT_EQ(r.exit_code, 2);
  r = Run({"findings", "--severity", "urgent"});
  EXPECT_EQ(r.exit_code, 2);
  r = Run({"findings", "--open"});
  ASSERT_EQ(r.exit_code, 0);
  for (size_t start = 0, end; (end = r.out.find('\n', start)) != std::string::npos;
       start = end + 1) {
    EXPECT_LE(end - start, 80u) << r.out.substr(start, end - start);
  }

  r = Run({"replay", id});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("SAME"), std::string::npos);
  std::string p2 = dir_.File("p2.yaml");
  WriteFile(p2, "nhitrace_policy: 1\nid: cli\nrules:\n  override-creep: {threshold: 9}\n");
  ASSERT_EQ(Run({"policy", "publish", p2, "--by", "alice"}).exit_code, 0);
  r = Run({"replay", id, "--policy", "2", "--json"});
  EXPECT_EQ(r.exit_code, 5);
  auto replay = Json(r);
  EXPECT_FALSE(bool(replay["same"]));
  EXPECT_FALSE(bool(replay["fires"]));
  r = Run({"replay", "Fffffffffffffffff"});
  EXPECT_EQ(r.exit_code, 1);

  // Rebuild refolds the findings from the ledger: the same list.
  r = Run({"findings", "--json"});
  std::string before = r.out;
  r = Run({"rebuild"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Run({"findings", "--json"}).out, before);
}

TEST_F(PolicyCliTest, NoReconcileLeavesItToTheNextPass) {
  std::string p = dir_.File("p.yaml");
  WriteFile(p, "nhitrace_policy: 1\nid: cli\n");
  ASSERT_EQ(Run({"policy", "publish", p, "--by", "alice"}).exit_code, 0);
  ProcessResult r = Run({"ingest", "--no-reconcile", Scenario("self-approval.jsonl")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Run({"findings", "--json"}).out, "[]\n");
  r = Run({"reconcile", "--incremental", "--as-of", "2026-06-01T00:00:00Z", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GE(uint64_t(Json(r)["opened"]), 2u);
}

}  // namespace
}  // namespace nhitrace
