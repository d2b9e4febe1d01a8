#include "ingest/github_audit/github_audit.h"

#include <gtest/gtest.h>

#include "ingest/vendor_test_util.h"
#include "testing/shared_data.h"

namespace nhitrace::ingest::github_audit {
namespace {

using testing::MapFile;
using testing::RoundTrips;

constexpr const char* kSample = "data/github-audit/test-api-request-events.log";

// Token, key and installation lifecycles, token and bot actions, and malformed events, modelled
// on GitHub's documented audit log events and payloads.
TEST(GithubAuditImporter, Cases) {
  testing::RunCaseFile([] { return MakeImporter(); }, testing::CaseFile("github_audit/cases.json"));
}

TEST(GithubAuditImporter, SampleApiRequestIsAnActionOfItsToken) {
  NHI_REQUIRE_SHARED(kSample);
  auto importer = MakeImporter();
  EXPECT_EQ(importer->format(), "github-audit");
  auto lines = MapFile(*importer, shared_path);
  ASSERT_EQ(lines.size(), 2u);
  for (const auto& l : lines) ASSERT_TRUE(l.result.ok()) << l.result.status().ToString();

  // Line 1: api.request made with token 555555.
  ASSERT_EQ(lines[0].result->events.size(), 1u);
  const event::Event& e = lines[0].result->events[0].event;
  EXPECT_TRUE(RoundTrips(e));
  EXPECT_EQ(e.kind, event::Kind::kAction);
  EXPECT_EQ(e.source_system, "github-audit");
  EXPECT_EQ(e.source_event_id, "Zt3XoecTsz6kAS-87bAEzQ");
  // @timestamp 1741611465102 (epoch milliseconds) as RFC 3339 UTC.
  EXPECT_EQ(e.time, "2025-03-10T12:57:45.102Z");
  EXPECT_EQ(e.time_ns, 1741611465102 * 1'000'000);
  EXPECT_EQ(e.identity, "github:token:555555");
  EXPECT_EQ(e.aliases, (std::vector<std::string>{
                           "github:hashed-token:E8Fzcgs3TQXqhrKKC/qNR+2XZnaK3ykQBSAt1kPMiJs=",
                           "github:user:user_actor"}));
  ASSERT_TRUE(e.actor.has_value());
  EXPECT_EQ(e.actor->id, "user_actor");
  EXPECT_EQ(e.actor->type, "human");
  ASSERT_TRUE(e.outcome.has_value());
  EXPECT_EQ(e.outcome->result, "success");
  EXPECT_EQ(e.outcome->code, "200");
  ASSERT_TRUE(e.scope.has_value());
  EXPECT_EQ(e.scope->resources, std::vector<std::string>{"user-delete"});  // the org
  EXPECT_NE(e.attributes.find(R"("token_scopes":["repo","read:org"])"), std::string::npos)
      << e.attributes;
  EXPECT_NE(e.attributes.find(R"("route":"/repos/{owner}/{repo}/pulls")"), std::string::npos);

  // Line 2: a repository created in the browser, no token: not NHI-relevant.
  EXPECT_TRUE(lines[1].result->events.empty());
  EXPECT_EQ(lines[1].result->ignored, "repo.create");
}

}  // namespace
}  // namespace nhitrace::ingest::github_audit
