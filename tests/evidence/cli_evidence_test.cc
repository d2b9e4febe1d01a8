// Black-box tests of `export`, `verify-pack` and `erase`: the real binary, its output and its
// exit statuses (docs/cli.md).
#include <gtest/gtest.h>

#include "evidence/evidence_fixture.h"
#include "testing/process.h"
#include "testing/temp_dir.h"

namespace nhitrace {
namespace {

using testing::ProcessResult;
using testing::RunNhitrace;

class EvidenceCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = dir_.File("s.db");
    ASSERT_EQ(Run({"init", "--origin", "example.com/nhitrace/cli"}).exit_code, 0);
    ProcessResult in =
        Run({"ingest", std::string(NHITRACE_SOURCE_DIR) + "/examples/access-chain.jsonl"});
    ASSERT_EQ(in.exit_code, 0) << in.err;
    ProcessResult k = Run({"key"});
    ASSERT_EQ(k.exit_code, 0);
    key_ = k.out.substr(0, k.out.find('\n'));
  }

  ProcessResult Run(const std::vector<std::string>& args) { return RunNhitrace(store_, args); }
  std::string File(const std::string& name) { return dir_.File(name); }

  testing::TempDir dir_;
  std::string store_, key_;
};

TEST_F(EvidenceCliTest, ExportThenVerifyPack) {
  ProcessResult e = Run({"export", "--identity", "aws:accesskey:AKIAQ3EGUXPL7EXAMPLE", "--out",
                         File("a.pack"), "--json"});
  ASSERT_EQ(e.exit_code, 0) << e.err;
  EXPECT_NE(e.out.find(R"("events":10,)"), std::string::npos) << e.out;
  EXPECT_NE(e.out.find(R"("policies":1,)"), std::string::npos) << e.out;

  ProcessResult v = RunNhitrace("", {"verify-pack", File("a.pack")});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  EXPECT_NE(v.out.find("OK: every signature, proof, hash and the summary verified"),
            std::string::npos)
      << v.out;
  EXPECT_NE(v.out.find("the pack's own; pass --key"), std::string::npos) << v.out;

  v = RunNhitrace("", {"verify-pack", File("a.pack"), "--key", key_, "--show-summary"});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  EXPECT_NE(v.out.find("trusted, given with --key"), std::string::npos) << v.out;
  EXPECT_NE(v.out.find("REQUEST SEC-4711"), std::string::npos) << v.out;
  // The summary shown is what `trace` prints.
  ProcessResult t = Run({"trace", "--identity", "aws:accesskey:AKIAQ3EGUXPL7EXAMPLE"});
  EXPECT_NE(v.out.find(t.out), std::string::npos) << v.out << "\n---\n" << t.out;

  v = RunNhitrace("", {"verify-pack", File("a.pack"), "--json"});
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_EQ(v.out.rfind(R"({"ok":true,"version":1,"query":{"identity":)", 0), 0u) << v.out;

  ProcessResult w = Run({"export", "--from", "2026-03-01T00:00:00Z", "--to", "2026-04-01T00:00:00Z",
                         "--out", File("w.pack")});
  EXPECT_EQ(w.exit_code, 0) << w.err;
  EXPECT_EQ(RunNhitrace("", {"verify-pack", File("w.pack")}).exit_code, 0);
}

TEST_F(EvidenceCliTest, ExitStatuses) {
  ASSERT_EQ(Run({"export", "--request", "SEC-4711", "--out", File("r.pack")}).exit_code, 0);
  // Tampered: exit 4, the problem named.
  std::string pack = testing::ReadFile(File("r.pack"));
  size_t at = pack.find(R"("seq":3})");
  ASSERT_NE(at, std::string::npos);
  size_t raw = pack.find(R"("raw":")", pack.rfind('\n', at)) + 12;
  pack[raw] = pack[raw] == 'A' ? 'B' : 'A';
  {
    std::ofstream out(File("t.pack"), std::ios::binary);
    out << pack;
  }
  ProcessResult v = RunNhitrace("", {"verify-pack", File("t.pack")});
  EXPECT_EQ(v.exit_code, 4) << v.out;
  EXPECT_NE(v.out.find("event seq 3: the raw record (with its salt) does not match"),
            std::string::npos)
      << v.out;
  EXPECT_NE(v.out.find("FAILED: 1 problem(s)"), std::string::npos) << v.out;

  EXPECT_EQ(RunNhitrace("", {"verify-pack", File("r.pack"), "--key", "nonsense"}).exit_code, 2);
  EXPECT_EQ(RunNhitrace("", {"verify-pack", File("missing.pack")}).exit_code, 1);
  // export: the file exists; no query; half a window; nothing found.
  EXPECT_EQ(Run({"export", "--request", "SEC-4711", "--out", File("r.pack")}).exit_code, 1);
  EXPECT_EQ(Run({"export", "--out", File("x.pack")}).exit_code, 2);
  EXPECT_EQ(Run({"export", "--from", "2026-03-01T00:00:00Z", "--out", File("x.pack")}).exit_code,
            2);
  ProcessResult none = Run({"export", "--identity", "nobody", "--out", File("x.pack")});
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.err.find("no identity with key \"nobody\""), std::string::npos) << none.err;
}

// A case opened by reconciliation from a real finding (tests/scenarios/reconcile): its pack
// (format version 2) holds the case, the finding event and its evidence, verifies with the
// pinned key, and shows what `case explain` prints.
TEST(EvidenceCliCaseTest, CasePackFromAReconciledScenario) {
  testing::TempDir dir;
  const std::string store = dir.File("s.db");
  const std::string src = NHITRACE_SOURCE_DIR;
  auto run = [&](const std::vector<std::string>& args) { return RunNhitrace(store, args); };
  ASSERT_EQ(run({"init", "--origin", "example.com/nhitrace/cases"}).exit_code, 0);
  ProcessResult p = run({"policy", "publish", src + "/examples/policy.yaml", "--by", "ciso"});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  ProcessResult in =
      run({"ingest", src + "/tests/scenarios/reconcile/action-after-revocation.jsonl"});
  ASSERT_EQ(in.exit_code, 0) << in.err;
  ProcessResult rec = run({"reconcile", "--as-of", "2026-06-01T00:00:00Z"});
  ASSERT_EQ(rec.exit_code, 0) << rec.out << rec.err;
  ProcessResult explain = run({"case", "explain", "1"});
  ASSERT_EQ(explain.exit_code, 0) << explain.err << "\n" << rec.out;
  EXPECT_NE(explain.out.find("action-after-revocation"), std::string::npos) << explain.out;
  ProcessResult key = run({"key"});
  ASSERT_EQ(key.exit_code, 0);

  ProcessResult e = run({"export", "--case", "1", "--out", dir.File("c.pack"), "--json"});
  ASSERT_EQ(e.exit_code, 0) << e.err;
  ProcessResult v = RunNhitrace("", {"verify-pack", dir.File("c.pack"), "--key",
                                     key.out.substr(0, key.out.find('\n')), "--show-summary"});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  EXPECT_NE(v.out.find("pack for case 1 (case)"), std::string::npos) << v.out;
  EXPECT_NE(v.out.find(explain.out), std::string::npos) << v.out << "\n---\n" << explain.out;
  ProcessResult j = RunNhitrace("", {"verify-pack", dir.File("c.pack"), "--json"});
  EXPECT_EQ(j.out.rfind(R"({"ok":true,"version":2,"query":{"case":1},"summary_type":"case",)", 0),
            0u)
      << j.out;
  // The finding event and its three evidence events are in the pack.
  std::string pack = testing::ReadFile(dir.File("c.pack"));
  EXPECT_NE(pack.find(R"(\"kind\":\"finding\")"), std::string::npos);

  // --case with --ocsf, or with another query, is a usage error; no such case is an error.
  EXPECT_EQ(run({"export", "--case", "1", "--identity", "x", "--out", dir.File("x")}).exit_code, 2);
  EXPECT_EQ(run({"export", "--ocsf", "--case", "1", "--out", dir.File("x")}).exit_code, 2);
  ProcessResult none = run({"export", "--case", "99", "--out", dir.File("x")});
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.err.find("no case 99"), std::string::npos) << none.err;
}

TEST_F(EvidenceCliTest, EraseKeepsVerifyAndOldPacksGreen) {
  ASSERT_EQ(Run({"export", "--request", "SEC-4711", "--out", File("before.pack")}).exit_code, 0);
  ProcessResult e =
      Run({"erase", "1", "--reason", "DSR-2231 (GDPR Art. 17)", "--by", "dpo@example.com"});
  ASSERT_EQ(e.exit_code, 0) << e.err;
  EXPECT_NE(e.out.find("erased the raw record of seq 1"), std::string::npos) << e.out;
  EXPECT_NE(e.out.find("recorded as erasure event 10"), std::string::npos) << e.out;

  ProcessResult v = Run({"verify"});
  EXPECT_EQ(v.exit_code, 0) << v.out;
  EXPECT_NE(v.out.find("(1 erased)"), std::string::npos) << v.out;
  EXPECT_EQ(RunNhitrace("", {"verify-pack", File("before.pack"), "--key", key_}).exit_code, 0);

  ASSERT_EQ(Run({"export", "--request", "SEC-4711", "--out", File("after.pack")}).exit_code, 0);
  ProcessResult after = RunNhitrace("", {"verify-pack", File("after.pack"), "--json"});
  EXPECT_EQ(after.exit_code, 0) << after.out;
  EXPECT_NE(after.out.find(R"("raw_erased":1,)"), std::string::npos) << after.out;
  EXPECT_NE(testing::ReadFile(File("after.pack")).find(R"("erased_by":10,)"), std::string::npos);

  EXPECT_EQ(Run({"erase", "1", "--reason", "again"}).exit_code, 1);
  EXPECT_EQ(Run({"erase", "99", "--reason", "x"}).exit_code, 1);
  EXPECT_EQ(Run({"erase", "2", "--reason", ""}).exit_code, 2);
  EXPECT_EQ(Run({"erase", "2"}).exit_code, 2);  // --reason is required
}

}  // namespace
}  // namespace nhitrace
