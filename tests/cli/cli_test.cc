// Black-box tests: run the real nhitrace binary against a temporary store.
#include <fstream>
#include <random>

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "base/encoding.h"
#include "base/file.h"
#include "json/dom.h"
#include "testing/ledger_fixture.h"
#include "testing/process.h"
#include "testing/temp_dir.h"
#include "tlog/checkpoint.h"
#include "tlog/proof.h"

namespace nhitrace {
namespace {

using testing::ActionLine;
using testing::ProcessResult;
using testing::RunNhitrace;
using testing::TempDir;

void WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream(path, std::ios::binary) << contents;
}

std::string Example() { return std::string(NHITRACE_SOURCE_DIR) + "/examples/access-chain.jsonl"; }

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = dir_.File("n.db");
    ProcessResult r = Run({"init", "--origin", "cli.test/log"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  ProcessResult Run(const std::vector<std::string>& args, const std::string& input = "") {
    return RunNhitrace(store_, args, input);
  }
  TempDir dir_;
  std::string store_;
};

TEST_F(CliTest, InitMakesPrivateFilesAndRefusesToOverwrite) {
  EXPECT_EQ(*FileMode(store_), 0600u);
  EXPECT_EQ(*FileMode(store_ + ".key"), 0600u);
  std::string key_before = *ReadFileToString(store_ + ".key");
  ProcessResult again = Run({"init"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("already there"), std::string::npos) << again.err;
  EXPECT_EQ(*ReadFileToString(store_ + ".key"), key_before);
  // The private key is never printed.
  ProcessResult key = Run({"key"});
  EXPECT_EQ(key.exit_code, 0);
  EXPECT_EQ(key.out.find("PRIVATE"), std::string::npos);
  EXPECT_EQ(key.out.rfind("cli.test/log+", 0), 0u) << key.out;
}

TEST_F(CliTest, IngestSummaryAndIdempotence) {
  ProcessResult r = Run({"ingest", Example(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  simdjson::dom::parser p;
  simdjson::dom::element s;
  ASSERT_EQ(p.parse(r.out).get(s), simdjson::SUCCESS) << r.out;
  EXPECT_EQ(uint64_t(s["accepted"]), 10u);
  EXPECT_EQ(uint64_t(s["duplicate"]), 0u);
  EXPECT_EQ(uint64_t(s["quarantined"]), 0u);
  EXPECT_EQ(uint64_t(s["tree_size"]), 10u);
  r = Run({"ingest", Example(), "--json"});
  ASSERT_EQ(r.exit_code, 0);
  ASSERT_EQ(p.parse(r.out).get(s), simdjson::SUCCESS);
  EXPECT_EQ(uint64_t(s["accepted"]), 0u);
  EXPECT_EQ(uint64_t(s["duplicate"]), 10u);
  // From stdin too.
  r = Run({"ingest", "-"}, ActionLine(1) + "\n" + ActionLine(2) + "\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("-: 2 accepted, 0 duplicate, 0 quarantined"), std::string::npos) << r.out;
}

TEST_F(CliTest, BadLinesAreReportedQuarantinedAndSetTheExitStatus) {
  std::string file = dir_.File("mixed.jsonl");
  WriteFile(
      file,
      ActionLine(1) + "\n" +
          R"({"kind":"signal","source":{"system":"s","event_id":"t"},"time":"2026-01-01 10:00:00"})" +
          "\n" + ActionLine(2) + "\n{oops\n");
  ProcessResult r = Run({"ingest", file});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find(file + ":2: time: not an RFC 3339 date-time"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(file + ":4: record: not valid JSON"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("2 accepted, 0 duplicate, 2 quarantined"), std::string::npos) << r.out;
  ProcessResult q = Run({"quarantine", "--json"});
  ASSERT_EQ(q.exit_code, 0);
  simdjson::dom::parser p;
  simdjson::dom::element arr;
  ASSERT_EQ(p.parse(q.out).get(arr), simdjson::SUCCESS);
  ASSERT_EQ(json::ArrayOf(arr).size(), 2u);
  std::string_view raw_b64 = arr.at(1)["raw_base64"].get_string().value();
  EXPECT_EQ(*Base64Decode(raw_b64), "{oops");
}

TEST_F(CliTest, ProofsHaveTheDocumentedShapeAndVerify) {
  ASSERT_EQ(Run({"ingest", Example()}).exit_code, 0);
  ASSERT_EQ(Run({"ingest", "-"}, ActionLine(1) + "\n" + ActionLine(2) + "\n").exit_code, 0);
  auto verifier =
      tlog::NoteVerifier::Parse(Run({"key"}).out.substr(0, Run({"key"}).out.size() - 1));
  ASSERT_TRUE(verifier.ok()) << verifier.status().ToString();

  ProcessResult r = Run({"prove", "inclusion", "4", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  simdjson::dom::parser p;
  simdjson::dom::element j;
  ASSERT_EQ(p.parse(r.out).get(j), simdjson::SUCCESS);
  std::vector<std::string> keys;
  for (auto kv : json::ObjectOf(j)) keys.emplace_back(kv.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"leaf_index", "tree_size", "leaf_hash", "hashes",
                                            "checkpoint"}));
  EXPECT_EQ(uint64_t(j["leaf_index"]), 4u);
  EXPECT_EQ(uint64_t(j["tree_size"]), 12u);
  auto cp = tlog::OpenCheckpoint(std::string(j["checkpoint"].get_string().value()), *verifier);
  ASSERT_TRUE(cp.ok()) << cp.status().ToString();
  std::vector<tlog::Hash> hashes;
  for (auto h : json::ArrayOf(j["hashes"])) {
    hashes.push_back(*crypto::HashFromBytes(*Base64Decode(h.get_string().value())));
  }
  auto leaf = crypto::HashFromBytes(*Base64Decode(j["leaf_hash"].get_string().value()));
  EXPECT_TRUE(tlog::VerifyInclusion(4, 12, *leaf, hashes, cp->root).ok());
  // The leaf hash is the RFC 9162 hash of the leaf bytes that `show --json` prints.
  ProcessResult show = Run({"show", "4", "--json"});
  simdjson::dom::parser p2;
  simdjson::dom::element sj;
  ASSERT_EQ(p2.parse(show.out).get(sj), simdjson::SUCCESS);
  std::string leaf_bytes = simdjson::minify(sj["leaf"]);
  EXPECT_EQ(tlog::LeafHash(leaf_bytes), *leaf);

  r = Run({"prove", "consistency", "10", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(p.parse(r.out).get(j), simdjson::SUCCESS);
  keys.clear();
  for (auto kv : json::ObjectOf(j)) keys.emplace_back(kv.key);
  EXPECT_EQ(keys,
            (std::vector<std::string>{"size1", "size2", "hashes", "checkpoint1", "checkpoint2"}));
  auto cp1 = tlog::OpenCheckpoint(std::string(j["checkpoint1"].get_string().value()), *verifier);
  auto cp2 = tlog::OpenCheckpoint(std::string(j["checkpoint2"].get_string().value()), *verifier);
  ASSERT_TRUE(cp1.ok() && cp2.ok());
  hashes.clear();
  for (auto h : json::ArrayOf(j["hashes"])) {
    hashes.push_back(*crypto::HashFromBytes(*Base64Decode(h.get_string().value())));
  }
  EXPECT_TRUE(tlog::VerifyConsistency(10, 12, hashes, cp1->root, cp2->root).ok());

  EXPECT_EQ(Run({"prove", "inclusion", "12"}).exit_code, 1);  // not in the tree
}

TEST_F(CliTest, VerifyPassesCleanAndFailsWithTheFirstBadSeqAfterTampering) {
  ASSERT_EQ(Run({"ingest", Example()}).exit_code, 0);
  ProcessResult ok = Run({"verify"});
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
  EXPECT_NE(ok.out.find("OK: tree size 10"), std::string::npos) << ok.out;

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(store_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "UPDATE events SET leaf = CAST(replace(CAST(leaf AS TEXT), "
                         "'sam.okafor', 'sam.0kafor') AS BLOB) WHERE seq = 1",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  ProcessResult bad = Run({"verify", "--json"});
  EXPECT_EQ(bad.exit_code, 4);
  simdjson::dom::parser p;
  simdjson::dom::element j;
  ASSERT_EQ(p.parse(bad.out).get(j), simdjson::SUCCESS) << bad.out;
  EXPECT_FALSE(bool(j["ok"]));
  EXPECT_EQ(uint64_t(j["first_bad_seq"]), 1u);
}

TEST_F(CliTest, StoreComesFromTheEnvironmentWhenNotGiven) {
  ::setenv("NHITRACE_STORE", store_.c_str(), 1);
  ProcessResult r = testing::RunProcess({testing::NhitraceBinary(), "checkpoint"});
  ::unsetenv("NHITRACE_STORE");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("cli.test/log\n0\n", 0), 0u) << r.out;
}

TEST_F(CliTest, UsageErrorsExitWithTwo) {
  EXPECT_EQ(Run({"no-such-command"}).exit_code, 2);
  EXPECT_EQ(Run({"ingest"}).exit_code, 2);
  EXPECT_EQ(Run({"ingest", Example(), "--format", "no-such-format"}).exit_code, 2);
  EXPECT_EQ(Run({"prove", "inclusion", "notanumber"}).exit_code, 2);
}

// Durability: whatever `ingest` has reported as accepted survives `kill -9` at any moment after
// the report, and the store then verifies clean and resumes idempotently.
TEST(CliDurabilityTest, ReportedEventsSurviveKillNine) {
  TempDir dir;
  std::string store = dir.File("d.db");
  ASSERT_EQ(RunNhitrace(store, {"init"}).exit_code, 0);
  // Twelve commits of 2,500 lines: a kill after a random progress report lands while a later
  // batch is being written, as with the default batch size on a larger file.
  constexpr int kLines = 30000;
  std::string file = dir.File("big.jsonl");
  {
    std::ofstream out(file);
    for (int i = 0; i < kLines; ++i) out << ActionLine(i) << '\n';
  }
  std::mt19937 rng(20261122);
  uint64_t last_reported = 0;
  // Kill three times, each after a randomly chosen progress report (i.e. while the next batch
  // is being written), then let a fourth run finish.
  for (int round = 0; round < 3; ++round) {
    testing::ChildProcess child({testing::NhitraceBinary(), "--store", store, "ingest", file,
                                 "--progress", "lines", "--batch-lines", "2500", "--quiet"});
    int reports_to_wait = 1 + static_cast<int>(rng() % 3);
    std::string line;
    uint64_t reported = 0;
    int seen = 0;
    while (seen < reports_to_wait && child.ReadErrLine(&line)) {
      auto pos = line.find(" accepted=");
      if (line.rfind("progress ", 0) != 0 || pos == std::string::npos) continue;
      reported = std::stoull(line.substr(pos + 10));
      ++seen;
    }
    child.Kill(SIGKILL);
    int status = child.Wait();
    EXPECT_EQ(status, 128 + SIGKILL);
    ProcessResult v = RunNhitrace(store, {"verify", "--json"});
    ASSERT_EQ(v.exit_code, 0) << "round " << round << ": " << v.out << v.err;
    simdjson::dom::parser p;
    simdjson::dom::element j;
    ASSERT_EQ(p.parse(v.out).get(j), simdjson::SUCCESS);
    uint64_t stored = uint64_t(j["events"]);
    // Everything reported (this run's accepted on top of what was stored before) is there.
    EXPECT_GE(stored, last_reported + reported) << "round " << round;
    last_reported = stored;
  }
  ProcessResult rest = RunNhitrace(store, {"ingest", file, "--json"});
  ASSERT_EQ(rest.exit_code, 0) << rest.err;
  simdjson::dom::parser p;
  simdjson::dom::element s;
  ASSERT_EQ(p.parse(rest.out).get(s), simdjson::SUCCESS);
  EXPECT_EQ(uint64_t(s["accepted"]) + uint64_t(s["duplicate"]), uint64_t(kLines));
  EXPECT_EQ(uint64_t(s["duplicate"]), last_reported);
  EXPECT_EQ(uint64_t(s["tree_size"]), uint64_t(kLines));
  EXPECT_EQ(RunNhitrace(store, {"verify"}).exit_code, 0);
}

}  // namespace
}  // namespace nhitrace
