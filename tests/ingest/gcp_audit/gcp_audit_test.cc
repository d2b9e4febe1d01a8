#include "ingest/gcp_audit/gcp_audit.h"

#include <gtest/gtest.h>

#include "ingest/vendor_test_util.h"
#include "testing/shared_data.h"

namespace nhitrace::ingest::gcp_audit {
namespace {

using testing::MapFile;
using testing::RoundTrips;

constexpr const char* kSample = "data/gcp-audit/test-iamcredentials-googleapis-com.log";

// Mapping expectations for records modelled on Google's documented audit log shapes: service
// account and key lifecycles, token issuance, policy deltas, calls by service accounts, and
// malformed entries with their quarantine messages.
TEST(GcpAuditImporter, Cases) {
  testing::RunCaseFile([] { return MakeImporter(); }, testing::CaseFile("gcp_audit/cases.json"));
}

TEST(GcpAuditImporter, SampleGenerateAccessTokenThroughWorkloadIdentityFederation) {
  NHI_REQUIRE_SHARED(kSample);
  auto importer = MakeImporter();
  EXPECT_EQ(importer->format(), "gcp-audit");
  auto lines = MapFile(*importer, shared_path);
  ASSERT_EQ(lines.size(), 1u);
  ASSERT_TRUE(lines[0].result.ok()) << lines[0].result.status().ToString();
  const auto& events = lines[0].result->events;
  ASSERT_EQ(events.size(), 2u);
  for (const auto& m : events) EXPECT_TRUE(RoundTrips(m.event));

  const std::string principal =
      "principal://iam.googleapis.com/projects/project-id/locations/global/"
      "workloadIdentityPools/...";
  const std::string account = "made-up-ci-account@project-id.iam.gserviceaccount.com";
  // The issuance: a token of the CI service account, obtained by the federated workload.
  const event::Event& issued = events[0].event;
  EXPECT_EQ(issued.kind, event::Kind::kProvision);
  EXPECT_EQ(issued.source_system, "gcp-audit");
  EXPECT_EQ(issued.source_event_id, "15djrryd6bap#issued-token");
  EXPECT_EQ(issued.time, "2024-11-19T00:49:55.293368631Z");
  EXPECT_EQ(issued.identity, "gcp:sa:" + account);
  EXPECT_EQ(issued.correlation_key, "gcp-audit:15djrryd6bap");
  ASSERT_TRUE(issued.actor.has_value());
  EXPECT_EQ(issued.actor->id, "gcp:principal:" + principal);
  EXPECT_EQ(issued.actor->type, "nhi");
  ASSERT_TRUE(issued.outcome.has_value());
  EXPECT_EQ(issued.outcome->result, "success");
  EXPECT_NE(
      issued.attributes.find(R"("delegation_chain":[")" + principal + R"(",")" + account + R"("])"),
      std::string::npos)
      << issued.attributes;
  EXPECT_NE(issued.attributes.find(R"("token_type":"access_token")"), std::string::npos);

  // The call itself, by the workload identity principal.
  const event::Event& call = events[1].event;
  EXPECT_EQ(call.kind, event::Kind::kAction);
  EXPECT_EQ(call.source_event_id, "15djrryd6bap#action");
  EXPECT_EQ(call.identity, "gcp:principal:" + principal);
  ASSERT_TRUE(call.scope.has_value());
  EXPECT_EQ(call.scope->permissions,
            std::vector<std::string>{"iam.serviceAccounts.getAccessToken"});
  EXPECT_EQ(call.scope->resources,
            std::vector<std::string>{"projects/-/serviceAccounts/somenumber"});
}

TEST(GcpAuditImporter, MappingIsDeterministic) {
  NHI_REQUIRE_SHARED(kSample);
  auto a = MapFile(*MakeImporter(), shared_path);
  auto b = MapFile(*MakeImporter(), shared_path);
  auto ea = testing::EventsOf(a);
  auto eb = testing::EventsOf(b);
  ASSERT_EQ(ea.size(), eb.size());
  for (size_t i = 0; i < ea.size(); ++i) EXPECT_EQ(ea[i], eb[i]);
}

}  // namespace
}  // namespace nhitrace::ingest::gcp_audit
