// Black-box: `nhitrace case ...` with the real binary against a temporary store.
#include <fstream>

#include <gtest/gtest.h>

#include "base/time.h"
#include "json/dom.h"
#include "testing/process.h"
#include "testing/temp_dir.h"

namespace nhitrace {
namespace {

using testing::ProcessResult;

std::string Example() { return std::string(NHITRACE_SOURCE_DIR) + "/examples/access-chain.jsonl"; }
constexpr char kKey[] = "aws:accesskey:AKIAQ3EGUXPL7EXAMPLE";

class CaseCli : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = dir_.File("n.db");
    ASSERT_EQ(Run({"init", "--origin", "cases.test/log"}).exit_code, 0);
    ASSERT_EQ(Run({"ingest", Example()}).exit_code, 0);
  }
  ProcessResult Run(const std::vector<std::string>& args) {
    return testing::RunNhitrace(store_, args);
  }
  // Runs, requires exit 0 and JSON output, and parses it into doc_.
  simdjson::dom::element Json(const std::vector<std::string>& args) {
    ProcessResult r = Run(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    simdjson::dom::element e;
    EXPECT_EQ(parser_.parse(r.out).get(e), simdjson::SUCCESS) << r.out;
    return e;
  }
  testing::TempDir dir_;
  std::string store_;
  simdjson::dom::parser parser_;
};

TEST_F(CaseCli, LeakedKeyFromOpenToExplain) {
  auto opened = Json({"case", "open", "--kind", "incident", "--severity", "critical", "--title",
                      "Key pasted in a public gist", "--identity", kKey, "--event", "3", "--actor",
                      "alice", "--reason", "secret scanning alert", "--json"});
  EXPECT_EQ(uint64_t(opened["ops"].at(0)["case"]), 1u);
  EXPECT_EQ(uint64_t(opened["ops"].at(0)["seq"]), 10u);  // after the 10 example events
  EXPECT_EQ(std::string_view(opened["case"]["state"]), "open");

  // No login on the command line: the acting person must be named.
  ProcessResult r = Run({"case", "assign", "1", "--to", "bob"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--actor is required"), std::string::npos) << r.err;

  r = Run({"case", "transition", "1", "--to", "remediating", "--actor", "alice", "--reason", "x"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cannot go from open to remediating; from open it can go to triage, "
                       "investigating, escalated or awaiting_decision"),
            std::string::npos)
      << r.err;
  r = Run({"case", "transition", "1", "--to", "nowhere", "--actor", "alice", "--reason", "x"});
  EXPECT_EQ(r.exit_code, 2) << r.err;

  ASSERT_EQ(Run({"case", "assign", "1", "--to", "bob", "--actor", "alice"}).exit_code, 0);
  r = Run({"case", "transition", "1", "--to", "investigating", "--actor", "bob", "--reason",
           "checking CloudTrail"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("case 1 op 3 (seq 12): open -> investigating"), std::string::npos) << r.out;

  r = Run(
      {"case", "decide", "1", "--outcome", "revoke", "--rationale", "public", "--actor", "alice"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("segregation of duties: alice requested case 1 and may not decide it "
                       "(rule requester-may-not-decide)\n"),
            std::string::npos)
      << r.err;
  auto decided = Json({"case", "decide", "1", "--outcome", "revoke", "--rationale",
                       "key is public; revoke and rotate", "--signal-event", "3", "--actor",
                       "carol", "--json"});
  EXPECT_EQ(std::string_view(decided["case"]["decisions"].at(0)["status"]), "effective");
  EXPECT_TRUE(decided["case"]["decisions"].at(0)["policy"].is_null());  // none published

  std::string file = dir_.File("gist.txt");
  std::ofstream(file) << "AKIAQ3EGUXPL7EXAMPLE\n";
  ASSERT_EQ(
      Run({"case", "attach", "1", "--file", file, "--actor", "bob", "--reason", "the gist content"})
          .exit_code,
      0);
  auto shown = Json({"case", "show", "1", "--json"});
  auto att = shown["attachments"].at(0);
  EXPECT_EQ(std::string_view(att["name"]), "gist.txt");
  // sha256("AKIAQ3EGUXPL7EXAMPLE\n")
  EXPECT_EQ(std::string_view(att["sha256"]).size(), 64u);
  EXPECT_TRUE(bool(att["stored"]));
  EXPECT_EQ(uint64_t(att["size"]), 21u);

  // The example ledger revoked the key in March 2026 and shows no use after it.
  r = Run({"case", "close", "1", "--check"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("no_use_after_revocation"), std::string::npos) << r.out;
  r = Run({"case", "close", "1", "--actor", "bob"});
  EXPECT_EQ(r.exit_code, 2) << r.err;  // --reason is required
  ASSERT_EQ(
      Run({"case", "close", "1", "--actor", "bob", "--reason", "revoked, no use since"}).exit_code,
      0);

  auto x = Json({"case", "explain", "1", "--json"});
  EXPECT_TRUE(bool(x["view_consistent"]));
  EXPECT_EQ(std::string_view(x["case"]["state"]), "closed");
  auto d = x["case"]["decisions"].at(0);
  EXPECT_EQ(std::string_view(d["rationale"]), "key is public; revoke and rotate");
  EXPECT_EQ(std::string_view(d["at"]["actor"]), "carol");
  EXPECT_EQ(uint64_t(d["signals"]["events"].at(0)), 3u);
  EXPECT_EQ(json::ArrayOf(x["timeline"]).size(), 6u);  // open assign transition decide attach close
  bool criterion_with_evidence = false;
  for (auto c : json::ArrayOf(x["case"]["closure"])) {
    if (std::string_view(c["id"]) == "credential_revoked_or_rotated") {
      criterion_with_evidence = json::ArrayOf(c["evidence"]).size() == 1;
    }
  }
  EXPECT_TRUE(criterion_with_evidence);
  r = Run({"case", "explain", "1"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("DECISIONS"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1. revoke by carol"), std::string::npos) << r.out;

  // The ledger with case events still verifies, and a case event is an ordinary leaf.
  r = Run({"verify"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  auto ev = Json({"show", "13", "--json"});
  EXPECT_EQ(std::string_view(ev["leaf"]["event"]["kind"]), "case");
  EXPECT_EQ(std::string_view(ev["leaf"]["event"]["source"]["event_id"]), "1/4");
}

TEST_F(CaseCli, ExceptionExpiryReopensOnTick) {
  ASSERT_EQ(Run({"case", "open", "--kind", "exception", "--title", "Keep svc-ftp for July",
                 "--identity", "ad:svc:svc-ftp", "--actor", "dan"})
                .exit_code,
            0);
  ASSERT_EQ(Run({"case", "assign", "1", "--to", "grc", "--actor", "grc"}).exit_code, 0);
  ProcessResult r = Run({"case", "except", "1", "--justification", "migration", "--expires", "+1d",
                         "--review-by", "+12h", "--actor", "dan", "--control", "ip list"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("dan requested case 1"), std::string::npos) << r.err;
  r = Run({"case", "except", "1", "--justification", "migration", "--expires", "+1d", "--review-by",
           "+12h", "--actor", "erin"});
  EXPECT_EQ(r.exit_code, 2) << r.err;  // --control is required
  ASSERT_EQ(Run({"case", "except", "1", "--justification", "payroll export until the migration",
                 "--expires", "+1d", "--review-by", "+12h", "--control", "IP allow-list",
                 "--control", "weekly rotation", "--actor", "erin"})
                .exit_code,
            0);
  r = Run({"case", "close", "1", "--resolution", "exception_granted", "--reason", "granted",
           "--actor", "grc"});
  ASSERT_EQ(r.exit_code, 0) << r.err;

  int64_t now = SystemClock::Instance().NowUnixNanos();
  std::string later = FormatRfc3339Utc(now + 2 * 86400LL * 1000000000LL, 0);
  auto ticked = Json({"case", "tick", "--as-of", later, "--json"});
  std::vector<std::string> ops;
  for (auto o : json::ArrayOf(ticked["ops"])) ops.emplace_back(std::string_view(o["operation"]));
  EXPECT_EQ(ops, (std::vector<std::string>{"review_due", "exception_expired", "reopen"}));
  auto shown = Json({"case", "show", "1", "--json"});
  EXPECT_EQ(std::string_view(shown["state"]), "open");
  EXPECT_EQ(uint64_t(shown["reopen_count"]), 1u);
  EXPECT_EQ(std::string_view(shown["decisions"].at(0)["exception"]["status"]), "expired");

  auto listed = Json({"case", "list", "--json"});
  ASSERT_EQ(json::ArrayOf(listed).size(), 1u);
  EXPECT_EQ(std::string_view(listed.at(0)["state"]), "open");
  EXPECT_EQ(json::ArrayOf(Json({"case", "list", "--state", "closed", "--json"})).size(), 0u);

  // Rebuilding from the ledger changes nothing.
  std::string before = Run({"case", "show", "1", "--json"}).out;
  std::string list_before = Run({"case", "list", "--json"}).out;
  r = Run({"case", "rebuild"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("rebuilt 1 case from the ledger"), std::string::npos) << r.out;
  EXPECT_EQ(Run({"case", "show", "1", "--json"}).out, before);
  EXPECT_EQ(Run({"case", "list", "--json"}).out, list_before);
  EXPECT_EQ(Run({"case", "show", "7"}).exit_code, 1);
}

}  // namespace
}  // namespace nhitrace
