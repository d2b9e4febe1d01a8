// The reconciliation rules on real evidence: the invictus AWS CloudTrail dataset in
// ../shared/data (a Stratus Red Team run in one account). It holds two CreateAccessKey calls
// and no request or approval of any kind, so each new key must get an "issuance without
// approval" finding, and the rules that judge actions or decisions against a grant, an approval
// or an exception must find nothing to judge.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "json/dom.h"
#include "testing/process.h"
#include "testing/shared_data.h"
#include "testing/temp_dir.h"

namespace nhitrace {
namespace {

namespace fs = std::filesystem;
using testing::ProcessResult;
using testing::RunNhitrace;

TEST(ReconcileRealDataTest, InvictusCloudTrailFindsTheUnapprovedKeysAndNothingWithoutBasis) {
  NHI_REQUIRE_SHARED("data/cloudtrail/invictus-aws-dataset");
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(shared_path)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  ASSERT_FALSE(files.empty());
  std::string all;  // the delivery files, one document after another
  for (const fs::path& f : files) {
    std::ifstream in(f, std::ios::binary);
    all.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    all += '\n';
  }

  testing::TempDir dir;
  const std::string store = dir.File("n.db");
  ProcessResult r = RunNhitrace(store, {"init", "--origin", "cli.test/log"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = RunNhitrace(store,
                  {"policy", "publish", std::string(NHITRACE_SOURCE_DIR) + "/examples/policy.yaml",
                   "--by", "test"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = RunNhitrace(store, {"ingest", "-", "--format", "cloudtrail", "--quiet"}, all);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Judged the day after the run, so that the time rules (dormancy, key age) have no reason to
  // fire; the ingest judged at the wall clock, years later, and this pass must settle that.
  r = RunNhitrace(store, {"reconcile", "--as-of", "2023-07-11T00:00:00Z", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = RunNhitrace(store, {"findings", "--open", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;

  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(json::ParseJson(parser, r.out, &doc), simdjson::SUCCESS) << r.out;
  simdjson::dom::array items;
  ASSERT_EQ(doc.get_array().get(items), simdjson::SUCCESS);
  std::set<std::pair<std::string, std::string>> open;  // (rule, subject)
  std::set<std::string> rules;
  for (simdjson::dom::element item : items) {
    std::string_view rule, subject;
    ASSERT_EQ(item["record"]["rule_id"].get(rule), simdjson::SUCCESS);
    ASSERT_EQ(item["record"]["subject"].get(subject), simdjson::SUCCESS);
    open.emplace(std::string(rule), std::string(subject));
    rules.insert(std::string(rule));
  }
  // The two keys CreateAccessKey issued (responseElements.accessKey.accessKeyId).
  for (const char* key :
       {"aws:accesskey:AKIATFQR7NSC3ZO6PKAZ", "aws:accesskey:AKIATFQR7NSCQLA2F4OD"}) {
    EXPECT_TRUE(open.count({"issuance-without-approval", key})) << key;
  }
  // No grant, approval, exception or override is on record: nothing to be out of scope or
  // window of, no approver to judge, no exception to expire. And one day in, no key is old and
  // no identity dormant.
  for (const char* rule :
       {"action-out-of-scope", "action-outside-window", "action-after-revocation",
        "approval-not-issued", "self-approval", "approver-unauthorized", "override-creep",
        "exception-expired", "credential-long-lived", "identity-dormant"}) {
    EXPECT_FALSE(rules.count(rule)) << rule << " fired on evidence that gives it no basis";
  }
}

}  // namespace
}  // namespace nhitrace
