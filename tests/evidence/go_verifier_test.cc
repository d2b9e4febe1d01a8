// Independent verification: nhitrace's checkpoints, proofs and packs checked by a verifier it
// did not write, tools/goverify (Go's golang.org/x/mod/sumdb/note and sumdb/tlog). Built with
// the Go toolchain on PATH, offline; skipped with a message when there is none.
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "evidence/evidence_fixture.h"
#include "ledger/erasure.h"
#include "testing/process.h"
#include "testing/temp_dir.h"

namespace nhitrace::evidence {
namespace {

namespace fs = std::filesystem;
using testing::EvidenceLedger;
using testing::ProcessResult;
using testing::RunProcess;

// The `go` command on PATH, or "".
std::string FindGo() {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "";
  size_t pos = 0;
  while (pos <= dirs.size()) {
    size_t end = dirs.find(':', pos);
    if (end == std::string::npos) end = dirs.size();
    std::string candidate = dirs.substr(pos, end - pos) + "/go";
    if (end > pos && ::access(candidate.c_str(), X_OK) == 0) return candidate;
    pos = end + 1;
  }
  return "";
}

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary);
  out << data;
}

class GoVerifierTest : public ::testing::Test {
 protected:
  // Builds tools/goverify once for all tests (offline: the module proxy is off and
  // golang.org/x/mod comes from Debian's golang-golang-x-mod-dev, see tools/goverify/go.mod).
  static void SetUpTestSuite() {
    go_ = FindGo();
    if (go_.empty()) return;
    fs::path build = fs::path(testing::NhitraceBinary()).parent_path();
    // A private copy per test process (ctest -j runs these tests in parallel); the Go build
    // cache under the build directory is shared and safe for concurrent use.
    bin_dir_ = new testing::TempDir();
    binary_ = bin_dir_->File("goverify");
    std::string cmd = "cd '" + std::string(NHITRACE_SOURCE_DIR) +
                      "/tools/goverify' && GOPROXY=off GOFLAGS=-mod=mod GOCACHE='" +
                      (build / "go-cache").string() + "' GOPATH='" + (build / "go-path").string() +
                      "' '" + go_ + "' build -o '" + binary_ + "' .";
    build_ = RunProcess({"/bin/sh", "-c", cmd});
  }

  static void TearDownTestSuite() {
    delete bin_dir_;
    bin_dir_ = nullptr;
  }

  void SetUp() override {
    if (go_.empty()) {
      GTEST_SKIP() << "go is not on PATH: the independent Go verifier (tools/goverify) was not "
                      "run; install golang-go and golang-golang-x-mod-dev (scripts/setup.sh)";
    }
    ASSERT_EQ(build_.exit_code, 0) << "building tools/goverify failed:\n" << build_.err;
    std::vector<std::string> lines = testing::ExampleLines();
    lines.insert(lines.begin(), testing::kExamplePolicyLine);
    l_.Ingest(lines, 4);
    l_.Ingest({testing::ActionLine(1, "k8s:sa:payments/other")});
    ASSERT_TRUE(ledger::EraseRawRecord(l_.ledger(), {6, "DSR-9 (test)", ""}).ok());
    key_ = l_.ledger().verifier().ToString();
  }

  ProcessResult Go(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {binary_};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv);
  }

  std::string File(const std::string& name) { return l_.fixture().dir().File(name); }

  static std::string go_, binary_;
  static ProcessResult build_;
  static testing::TempDir* bin_dir_;
  EvidenceLedger l_;
  std::string key_;
};

std::string GoVerifierTest::go_, GoVerifierTest::binary_;
ProcessResult GoVerifierTest::build_;
testing::TempDir* GoVerifierTest::bin_dir_ = nullptr;

TEST_F(GoVerifierTest, VerifiesPacksNhitraceWrote) {
  for (const PackQuery& q :
       {PackQuery::ForIdentity("aws:accesskey:AKIAQ3EGUXPL7EXAMPLE"),
        PackQuery::ForRequest("SEC-4711"),
        PackQuery::ForWindow("2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z")}) {
    auto pack = l_.Export(q);
    ASSERT_TRUE(pack.ok()) << pack.status().ToString();
    WriteFile(File("p.pack"), *pack);
    ProcessResult r = Go({"pack", "-key", key_, File("p.pack")});
    EXPECT_EQ(r.exit_code, 0) << DescribeQuery(q) << "\n" << r.out << r.err;
    EXPECT_NE(r.out.find("OK: "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("1 erased"), std::string::npos) << r.out;
  }
}

// A case pack (format version 2): its proofs, checkpoints and raw records verify with Go's
// libraries too, and a flipped proof byte is caught by both verifiers.
TEST_F(GoVerifierTest, VerifiesACasePack) {
  uint64_t id = 0;
  l_.CaseOps([&](cases::CaseSession& s) {
    cases::OpenArgs o;
    o.kind = cases::CaseKind::kIncident;
    o.title = "Key used after revocation";
    o.links.identities = {"aws:accesskey:AKIAQ3EGUXPL7EXAMPLE"};
    o.links.events = {4, 6, 8};  // 6's raw record is erased
    auto r = s.Open(o, {"alice@example.com"});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    id = r->case_id;
    cases::DecideArgs d;
    d.outcome = cases::Outcome::kRevoke;
    d.rationale = "revoke";
    d.signal_events = {9};
    ASSERT_TRUE(s.Decide(id, d, {"carol@example.com"}).ok());
  });
  auto pack = l_.Export(PackQuery::ForCase(id));
  ASSERT_TRUE(pack.ok()) << pack.status().ToString();
  ASSERT_NE(pack->find(R"("version":2})"), std::string::npos);
  ASSERT_TRUE(l_.Verify(*pack).ok());
  WriteFile(File("c.pack"), *pack);
  ProcessResult r = Go({"pack", "-key", key_, File("c.pack")});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("OK: 7 events"), std::string::npos) << r.out;  // 2 + 4, 6, 8, 9 + erasure
  EXPECT_NE(r.out.find("1 erased"), std::string::npos) << r.out;

  std::string t = *pack;
  size_t proof = t.find(R"("proof":[")", t.rfind('\n', t.find(R"("seq":8})"))) + 10;
  t[proof] = t[proof] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(l_.Verify(t).ok());
  WriteFile(File("t.pack"), t);
  r = Go({"pack", "-key", key_, File("t.pack")});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("inclusion proof"), std::string::npos) << r.out;
}

TEST_F(GoVerifierTest, VerifiesEveryProofTheCommandLinePrints) {
  const std::string store = l_.fixture().store_path();
  const uint64_t size = l_.ledger().size();
  for (uint64_t seq = 0; seq < size; ++seq) {
    ProcessResult p =
        testing::RunNhitrace(store, {"prove", "inclusion", std::to_string(seq), "--json"});
    ASSERT_EQ(p.exit_code, 0) << p.err;
    WriteFile(File("incl.json"), p.out);
    auto row = l_.store().GetEvent(seq);
    ASSERT_TRUE(row.ok() && *row);
    WriteFile(File("leaf"), (*row)->leaf);
    ProcessResult r = Go({"inclusion", "-key", key_, "-leaf", File("leaf"), File("incl.json")});
    EXPECT_EQ(r.exit_code, 0) << "seq " << seq << ": " << r.out << r.err;
  }
  for (uint64_t size1 = 0; size1 <= size; ++size1) {
    // Unpublished sizes are signed on demand, which needs the key file next to the store.
    ProcessResult p = testing::RunNhitrace(store, {"--key-file", l_.fixture().key_path(), "prove",
                                                   "consistency", std::to_string(size1), "--json"});
    ASSERT_EQ(p.exit_code, 0) << p.err;
    WriteFile(File("cons.json"), p.out);
    ProcessResult r = Go({"consistency", "-key", key_, File("cons.json")});
    EXPECT_EQ(r.exit_code, 0) << "size1 " << size1 << ": " << r.out << r.err;
  }
}

TEST_F(GoVerifierTest, RejectsWhatNhitraceRejects) {
  auto pack = l_.Export(PackQuery::ForIdentity("aws:accesskey:AKIAQ3EGUXPL7EXAMPLE"));
  ASSERT_TRUE(pack.ok());
  // The parts both verifiers check: header, key, checkpoints, events (not the policy and
  // summary lines, whose content only nhitrace's code can recompute). Every 29th byte flipped:
  // both reject it.
  size_t end = pack->find(R"({"events":[)");
  ASSERT_NE(end, std::string::npos);
  size_t flips = 0;
  for (size_t i = 0; i < end; i += 29) {
    std::string tampered = *pack;
    tampered[i] = static_cast<char>(tampered[i] ^ 0x01);
    ASSERT_FALSE(l_.Verify(tampered).ok()) << "byte " << i;
    WriteFile(File("t.pack"), tampered);
    ProcessResult r = Go({"pack", "-key", key_, File("t.pack")});
    EXPECT_EQ(r.exit_code, 1) << "byte " << i << " flipped (\""
                              << tampered.substr(i < 40 ? 0 : i - 40, 80)
                              << "\"), Go verifier: " << r.out << r.err;
    ++flips;
  }
  EXPECT_GT(flips, 60u);

  // Named: a forged signature, a proof hash, a raw record, a foreign key.
  auto check = [&](std::string tampered, const std::string& expect) {
    WriteFile(File("t.pack"), tampered);
    ProcessResult r = Go({"pack", "-key", key_, File("t.pack")});
    EXPECT_EQ(r.exit_code, 1) << r.out;
    EXPECT_NE(r.out.find(expect), std::string::npos) << "want \"" << expect << "\" in\n" << r.out;
  };
  std::string t = *pack;
  size_t sig = t.find("\u2014 test.example/evidence ") + 30;
  t[sig] = t[sig] == 'A' ? 'B' : 'A';
  check(t, "line 3: checkpoint: signature");
  t = *pack;
  size_t proof = t.find(R"("proof":[")", t.rfind('\n', t.find(R"("seq":2})"))) + 10;
  t[proof] = t[proof] == 'A' ? 'B' : 'A';
  check(t, "inclusion proof");
  t = *pack;
  size_t raw = t.find(R"("raw":")") + 10;
  t[raw] = t[raw] == 'A' ? 'B' : 'A';
  check(t, "the raw record does not match the salted hash in its leaf");
  EvidenceLedger other;
  WriteFile(File("p.pack"), *pack);
  ProcessResult r = Go({"pack", "-key", other.ledger().verifier().ToString(), File("p.pack")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("line 2: key"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace nhitrace::evidence
