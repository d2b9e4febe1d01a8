#include "ingest/entra/entra.h"

#include <gtest/gtest.h>

#include "ingest/vendor_test_util.h"
#include "testing/shared_data.h"

namespace nhitrace::ingest::entra {
namespace {

using testing::EventsOf;
using testing::MapFile;
using testing::MapJson;
using testing::RoundTrips;

constexpr const char* kAzureAudit = "data/panther-fixtures/Azure_Audit.jsonl";
constexpr const char* kM365 = "data/panther-fixtures/Microsoft365_Audit_AzureActiveDirectory.jsonl";

// Every shape (Graph, Azure Monitor, Office 365) and every mapped activity, modelled on
// Microsoft's documented records; malformed records with their quarantine messages.
TEST(EntraImporter, Cases) {
  testing::RunCaseFile([] { return MakeImporter(); }, testing::CaseFile("entra/cases.json"));
}

TEST(EntraImporter, AzureAuditSampleMapsWithZeroErrors) {
  NHI_REQUIRE_SHARED(kAzureAudit);
  auto importer = MakeImporter();
  EXPECT_EQ(importer->format(), "entra");
  auto lines = MapFile(*importer, shared_path);
  ASSERT_EQ(lines.size(), 48u);
  size_t mapped = 0;
  std::map<std::string, int> ignored;
  for (const auto& l : lines) {
    ASSERT_TRUE(l.result.ok()) << "line " << l.line << ": " << l.result.status().ToString();
    if (l.result->events.empty()) {
      ++ignored[l.result->ignored];
      continue;
    }
    ++mapped;
    for (const auto& m : l.result->events) {
      EXPECT_TRUE(RoundTrips(m.event)) << "line " << l.line;
      EXPECT_EQ(m.event.source_system, "entra");
    }
  }
  // 9 service principal sign-ins, 3 PIM role assignment records, 1 credentials added,
  // 1 service principal added.
  EXPECT_EQ(mapped, 14u);
  EXPECT_EQ(ignored["SignInLogs"], 15);
  EXPECT_EQ(ignored["NonInteractiveUserSignInLogs"], 3);
  EXPECT_EQ(ignored["Invite external user"], 4);

  // The fixture gives three different PIM records one id ("PIM_123415") and one time: the
  // first ingested is stored, the others would be quarantined as conflicts.
  EXPECT_EQ(testing::ConflictingIds(EventsOf(lines)), std::set<std::string>{"PIM_123415"});

  // Line 44: "Add service principal credentials" whose fixture names no KeyIdentifier: the
  // change is recorded against the service principal.
  const auto& cred = lines[43].result->events;
  ASSERT_EQ(cred.size(), 1u);
  EXPECT_EQ(cred[0].event.kind, event::Kind::kProvision);
  EXPECT_EQ(cred[0].event.identity, "entra:sp:sp-app-456");
  EXPECT_EQ(cred[0].event.time, "2025-01-15T09:30:20.1234567Z");
  EXPECT_EQ(cred[0].event.source_event_id.rfind("sha256:", 0), 0u);  // the record has no id
  EXPECT_EQ(cred[0].event.correlation_key, "entra:credentials:" + cred[0].event.source_event_id);

  // Lines 40 and 39: the PIM request and its completion share the request id.
  const auto& requested = lines[39].result->events;
  const auto& completed = lines[38].result->events;
  ASSERT_EQ(requested.size(), 1u);
  ASSERT_EQ(completed.size(), 1u);
  EXPECT_EQ(requested[0].event.kind, event::Kind::kRequest);
  EXPECT_EQ(completed[0].event.kind, event::Kind::kProvision);
  EXPECT_EQ(requested[0].event.correlation_key, "entra:pim-request:12345");
  EXPECT_EQ(completed[0].event.correlation_key, "entra:pim-request:12345");
  EXPECT_EQ(completed[0].event.identity, "entra:user:12345");
  EXPECT_EQ(completed[0].event.scope->permissions,
            std::vector<std::string>{"Application Administrator"});
  // Panther's "2024-12-16 16:32:16.087554000" (UTC, no offset) as RFC 3339.
  EXPECT_EQ(completed[0].event.time, "2024-12-16T16:32:16.087554000Z");
}

TEST(EntraImporter, CredentialAddedThenUsedToSignIn) {
  NHI_REQUIRE_SHARED(kAzureAudit);
  // A credential added to the service principal of the fixture's line 13, with the key id
  // that line 13 signs in with.
  constexpr std::string_view kAdded = R"({
    "id": "Directory_cred_add", "activityDisplayName": "Add service principal credentials",
    "activityDateTime": "2023-07-20T08:00:00Z", "result": "success",
    "initiatedBy": {"user": {"userPrincipalName": "admin@contoso.com"}},
    "targetResources": [{"id": "4b6986ec-c49c-40c0-89ce-b2ac51213e39", "type": "ServicePrincipal",
      "displayName": "very-normal-service-principal",
      "modifiedProperties": [{"displayName": "KeyDescription", "oldValue": "[]",
        "newValue": "[\"[KeyIdentifier=2afc776a-4e79-4588-b2ad-f62c94d6bea8,KeyType=Password,KeyUsage=Verify,DisplayName=o365 export]\"]"}]}]})";
  auto importer = MakeImporter();
  auto added = MapJson(*importer, kAdded);
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  ASSERT_EQ(added->events.size(), 1u);
  const event::Event& provision = added->events[0].event;
  EXPECT_TRUE(RoundTrips(provision));
  EXPECT_EQ(provision.kind, event::Kind::kProvision);
  EXPECT_EQ(provision.identity, "entra:credential:2afc776a-4e79-4588-b2ad-f62c94d6bea8");
  EXPECT_EQ(provision.correlation_key, provision.identity);
  EXPECT_EQ(provision.aliases,
            std::vector<std::string>{"entra:sp:4b6986ec-c49c-40c0-89ce-b2ac51213e39"});
  EXPECT_EQ(provision.subject->name, "o365 export");

  auto lines = MapFile(*importer, shared_path);
  ASSERT_TRUE(lines[12].result.ok());
  ASSERT_EQ(lines[12].result->events.size(), 1u);
  const event::Event& signin = lines[12].result->events[0].event;
  EXPECT_EQ(signin.kind, event::Kind::kAction);
  EXPECT_EQ(signin.identity, provision.identity);  // the sign-in used the added credential
  EXPECT_EQ(signin.aliases,
            (std::vector<std::string>{"entra:sp:4b6986ec-c49c-40c0-89ce-b2ac51213e39",
                                      "entra:app:3b245ca3-dcce-4a54-a070-49ad8de02963"}));
  EXPECT_EQ(signin.source_event_id, "55270060-d8fe-435e-9bf2-219a1d456b60");
  EXPECT_EQ(signin.outcome->result, "success");
  EXPECT_EQ(signin.scope->resources, std::vector<std::string>{"Office 365 Management APIs"});

  // Line 12: a refused sign-in (AADSTS 7000215, invalid client secret) without a key id.
  const event::Event& refused = lines[11].result->events[0].event;
  EXPECT_EQ(refused.identity, "entra:sp:b1c34143-e405-4058-8e29-84596ad737b8");
  EXPECT_EQ(refused.outcome->result, "failure");
  EXPECT_EQ(refused.outcome->code, "7000215");
}

TEST(EntraImporter, Microsoft365SampleServicePrincipalActions) {
  NHI_REQUIRE_SHARED(kM365);
  auto importer = MakeImporter();
  auto lines = MapFile(*importer, shared_path);
  ASSERT_EQ(lines.size(), 4u);
  for (const auto& l : lines) ASSERT_TRUE(l.result.ok()) << l.result.status().ToString();
  EXPECT_EQ(lines[0].result->ignored, "UserLoginFailed");
  EXPECT_EQ(lines[1].result->ignored, "UserLoggedIn");
  // "Update user." by the Azure MFA service principal (Actor ServicePrincipal_123-abc).
  for (size_t i : {2u, 3u}) {
    ASSERT_EQ(lines[i].result->events.size(), 1u);
    const event::Event& e = lines[i].result->events[0].event;
    EXPECT_TRUE(RoundTrips(e));
    EXPECT_EQ(e.kind, event::Kind::kAction);
    EXPECT_EQ(e.identity, "entra:sp:123-abc");
    EXPECT_EQ(e.time, "2022-12-12T17:28:35Z");
    EXPECT_EQ(e.scope->permissions, std::vector<std::string>{"Update user"});
  }
  // The two records differ only in members the event does not carry: one event, stored once.
  EXPECT_TRUE(testing::ConflictingIds(EventsOf(lines)).empty());
}

}  // namespace
}  // namespace nhitrace::ingest::entra
