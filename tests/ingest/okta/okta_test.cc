#include "ingest/okta/okta.h"

#include <gtest/gtest.h>

#include "ingest/vendor_test_util.h"
#include "testing/shared_data.h"

namespace nhitrace::ingest::okta {
namespace {

using testing::EventsOf;
using testing::MapFile;
using testing::MapJson;
using testing::RoundTrips;

constexpr const char* kSample = "data/panther-fixtures/Okta_SystemLog.jsonl";

const event::Event* FindEvent(const std::vector<event::Event>& events, event::Kind kind,
                              std::string_view identity) {
  for (const auto& e : events) {
    if (e.kind == kind && e.identity == identity) return &e;
  }
  return nullptr;
}

TEST(OktaImporter, SampleFileMapsExceptTheTwoEnrichmentOnlyRecords) {
  NHI_REQUIRE_SHARED(kSample);
  auto importer = MakeImporter();
  EXPECT_EQ(importer->format(), "okta");
  auto lines = MapFile(*importer, shared_path);
  ASSERT_EQ(lines.size(), 88u);
  // Lines 71 and 83 are Panther test inputs that hold only Panther's enrichment members
  // (p_enrichment, p_any_ip_addresses): no Okta event at all.
  std::set<size_t> rejected;
  size_t mapped = 0, ignored = 0;
  std::map<std::string, int> ignored_names;
  for (const auto& l : lines) {
    if (!l.result.ok()) {
      rejected.insert(l.line);
      EXPECT_EQ(l.result.status().message(), "eventType: missing: not an Okta System Log event")
          << "line " << l.line;
      continue;
    }
    if (l.result->events.empty()) {
      ++ignored;
      EXPECT_FALSE(l.result->ignored.empty()) << "line " << l.line;
      ++ignored_names[l.result->ignored];
    } else {
      ++mapped;
      for (const auto& m : l.result->events) {
        EXPECT_TRUE(RoundTrips(m.event)) << "line " << l.line;
        EXPECT_EQ(m.event.source_system, "okta");
        EXPECT_FALSE(m.raw.has_value());
      }
    }
  }
  EXPECT_EQ(rejected, (std::set<size_t>{71, 83}));
  // api_token create + revoke, 2 user privilege grants, 3 group privilege grants.
  EXPECT_EQ(mapped, 7u);
  EXPECT_EQ(ignored, 79u);
  EXPECT_EQ(ignored_names["user.session.start"], 26);
  EXPECT_EQ(ignored_names["policy.evaluate_sign_on"], 5);

  // The fixture reuses uuid 2a992f80-... (and its time) for different events: the two privilege
  // grants of 2020-11-25 and the token create/revoke pair of 2021-01-08. Ingesting the file
  // stores the first of each and quarantines the others as conflicts; name them here.
  auto conflicts = testing::ConflictingIds(EventsOf(lines));
  EXPECT_EQ(conflicts, (std::set<std::string>{"2a992f80-d1ad-4f62-900e-8c68bb72a21b",
                                              "2a992f80-d1ad-4f62-900e-8c68bb72a21b#privilege-1",
                                              "2a992f80-d1ad-4f62-900e-8c68bb72a21b#privilege-2"}));
}

TEST(OktaImporter, ApiTokenCreateThenRevokeShareIdentityAndChain) {
  NHI_REQUIRE_SHARED(kSample);
  auto importer = MakeImporter();
  auto events = EventsOf(MapFile(*importer, shared_path));
  const std::string key = "okta:api-token:00Tpki36zlWjhjQ1u2p4";
  const event::Event* created = FindEvent(events, event::Kind::kProvision, key);
  const event::Event* revoked = FindEvent(events, event::Kind::kRevocation, key);
  ASSERT_NE(created, nullptr);
  ASSERT_NE(revoked, nullptr);
  EXPECT_EQ(created->correlation_key, key);
  EXPECT_EQ(revoked->correlation_key, key);
  EXPECT_EQ(created->time, "2021-01-08T21:28:34.875Z");  // Panther's "2021-01-08 21:28:34.875"
  ASSERT_TRUE(created->actor.has_value());
  EXPECT_EQ(created->actor->id, "user@example.com");
  EXPECT_EQ(created->actor->type, "human");
  ASSERT_TRUE(created->subject.has_value());
  EXPECT_EQ(created->subject->kind, "api_key");
  EXPECT_EQ(created->subject->name, "test_key");
  EXPECT_EQ(created->subject->owner, "user@example.com");
  ASSERT_TRUE(created->outcome.has_value());
  EXPECT_EQ(created->outcome->result, "success");
  EXPECT_NE(created->attributes.find(R"("event_type":"system.api_token.create")"),
            std::string::npos);
}

TEST(OktaImporter, UserPrivilegeGrantIsOneGrantPerPrivilege) {
  NHI_REQUIRE_SHARED(kSample);
  auto importer = MakeImporter();
  auto lines = MapFile(*importer, shared_path);
  ASSERT_TRUE(lines[4].result.ok());  // line 5
  const auto& events = lines[4].result->events;
  ASSERT_EQ(events.size(), 2u);
  const std::string user = "okta:user:00u6eup97mAJZWYmP357";
  std::vector<std::string> privileges;
  for (const auto& m : events) {
    EXPECT_EQ(m.event.kind, event::Kind::kProvision);
    EXPECT_EQ(m.event.identity, user);
    ASSERT_TRUE(m.event.scope.has_value());
    ASSERT_EQ(m.event.scope->permissions.size(), 1u);
    privileges.push_back(m.event.scope->permissions[0]);
    EXPECT_EQ(m.event.correlation_key, "okta:grant:" + user + "|" + privileges.back());
    EXPECT_EQ(m.event.actor->id, "jack@acme.io");
  }
  EXPECT_EQ(privileges, (std::vector<std::string>{"Organization administrator",
                                                  "Application administrator (all)"}));
  EXPECT_EQ(events[0].event.source_event_id, "2a992f80-d1ad-4f62-900e-8c68bb72a21b#privilege-1");
  EXPECT_EQ(events[1].event.source_event_id, "2a992f80-d1ad-4f62-900e-8c68bb72a21b#privilege-2");
}

TEST(OktaImporter, LowerCasedMemberNamesAreRead) {
  NHI_REQUIRE_SHARED(kSample);
  auto importer = MakeImporter();
  auto lines = MapFile(*importer, shared_path);
  ASSERT_TRUE(lines[15].result.ok());  // line 16: "eventtype": "group.privilege.grant"
  ASSERT_EQ(lines[15].result->events.size(), 1u);
  const auto& e = lines[15].result->events[0].event;
  EXPECT_EQ(e.kind, event::Kind::kProvision);
  // The fixture's target is an AppInstance (no UserGroup target): the grantee is that target.
  EXPECT_EQ(e.identity, "okta:app:12345");
  EXPECT_EQ(e.correlation_key, "okta:grant:okta:app:12345");
  ASSERT_TRUE(e.outcome.has_value());
  EXPECT_EQ(e.outcome->result, "failure");
  EXPECT_EQ(e.time, "2022-12-13T00:58:19.811Z");
  EXPECT_EQ(e.source_event_id, "aa-11-22-33-44-bb");
}

constexpr std::string_view kRevokeByServiceApp = R"({
  "uuid": "9b5c3a4e-1111-11ef-9c6e-0123456789ab",
  "published": "2024-05-02T18:46:21.121Z",
  "eventType": "app.oauth2.client.privilege.revoke",
  "actor": {"id": "0oa1svcapp", "type": "PublicClientApp", "alternateId": "0oa1svcapp",
            "displayName": "deploy-bot"},
  "outcome": {"result": "SUCCESS"},
  "target": [{"id": "0oa9target", "type": "PublicClientApp", "displayName": "sync-service "}],
  "debugContext": {"debugData": {"privilegeRevoked": "Super administrator"}}})";

TEST(OktaImporter, ServiceAppPrivilegeRevokedByAServiceApp) {
  auto importer = MakeImporter();
  auto r = MapJson(*importer, kRevokeByServiceApp);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->events.size(), 1u);
  const auto& e = r->events[0].event;
  EXPECT_TRUE(RoundTrips(e));
  EXPECT_EQ(e.kind, event::Kind::kRevocation);
  EXPECT_EQ(e.identity, "okta:app:0oa9target");
  EXPECT_EQ(e.correlation_key, "okta:grant:okta:app:0oa9target|Super administrator");
  EXPECT_EQ(e.actor->id, "okta:app:0oa1svcapp");
  EXPECT_EQ(e.actor->type, "nhi");
  ASSERT_TRUE(e.subject.has_value());
  EXPECT_EQ(e.subject->kind, "oauth_app");
  // "sync-service " ends with a space: not an identifier, so not the subject name; the raw
  // record and the attributes keep it.
  EXPECT_EQ(e.subject->name, "");
  EXPECT_NE(e.attributes.find(R"("grantee_display_name":"sync-service ")"), std::string::npos);
  EXPECT_EQ(e.source_event_id, "9b5c3a4e-1111-11ef-9c6e-0123456789ab");
}

TEST(OktaImporter, EventBridgeEnvelopeIsUnwrapped) {
  std::string wrapped =
      R"({"version":"0","id":"4d2f","detail-type":"SystemLog",)"
      R"("source":"aws.partner/okta.com/example/okta-logs","time":"2024-05-02T18:46:22Z",)"
      R"("detail":)" +
      std::string(kRevokeByServiceApp) + "}";
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ASSERT_EQ(json::ParseJson(parser, wrapped, &root), simdjson::SUCCESS);
  EXPECT_TRUE(LooksLike(root));
  auto importer = MakeImporter();
  auto r = MapJson(*importer, wrapped);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->events.size(), 1u);
  EXPECT_EQ(r->events[0].event.identity, "okta:app:0oa9target");
}

TEST(OktaImporter, OtherEventTypesAreNotNhiRelevantByName) {
  auto importer = MakeImporter();
  auto r =
      MapJson(*importer, R"({"eventType":"user.session.start","published":"redacted","uuid":"x"})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->events.empty());
  EXPECT_EQ(r->ignored, "user.session.start");
}

struct BadRecord {
  const char* json;
  const char* error;
};

TEST(OktaImporter, MalformedRecordsAreRejectedWithFieldAndReason) {
  const BadRecord cases[] = {
      {R"([1,2])", "record: must be a JSON object"},
      {R"({"uuid":"a","published":"2024-01-01T00:00:00Z"})",
       "eventType: missing: not an Okta System Log event"},
      {R"({"uuid":"a","eventType":"system.api_token.create","target":[{"id":"t1","type":"Token"}]})",
       "published: missing"},
      {R"({"uuid":"a","eventType":"system.api_token.create","published":"yesterday",)"
       R"("target":[{"id":"t1","type":"Token"}]})",
       R"(published: not an RFC 3339 timestamp: "yesterday")"},
      {R"({"uuid":"a","eventType":"system.api_token.create","published":1700000000000,)"
       R"("target":[{"id":"t1","type":"Token"}]})",
       "published: must be a timestamp string"},
      {R"({"uuid":"a","eventType":"system.api_token.revoke","published":"2024-01-01T00:00:00Z",)"
       R"("target":[{"id":"u1","type":"User"}]})",
       "target: no target of type Token with an id"},
      {R"({"uuid":"a","eventType":"system.api_token.revoke","published":"2024-01-01T00:00:00Z",)"
       R"("target":[{"id":"t\u0001","type":"Token"}]})",
       "target[0].id: not a valid identifier"},
      {R"({"uuid":"a","eventType":"user.account.privilege.grant",)"
       R"("published":"2024-01-01T00:00:00Z","target":[]})",
       "target: no target with an id"},
      {R"({"uuid":" a","eventType":"system.api_token.create","published":"2024-01-01T00:00:00Z",)"
       R"("target":[{"id":"t1","type":"Token"}]})",
       R"(record id: not a valid identifier: " a")"},
      {R"({"source":"aws.partner/okta.com/x","detail":"not an object"})",
       "detail: missing: an EventBridge record without its Okta event"},
  };
  auto importer = MakeImporter();
  for (const auto& c : cases) {
    auto r = MapJson(*importer, c.json);
    ASSERT_FALSE(r.ok()) << c.json;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.json;
    EXPECT_EQ(r.status().message(), c.error) << c.json;
  }
}

TEST(OktaImporter, RecordWithoutUuidGetsAContentId) {
  auto importer = MakeImporter();
  std::string a = R"({"eventType":"system.api_token.create","published":"2024-01-01T00:00:00Z",)"
                  R"("target":[{"id":"t1","type":"Token"}]})";
  std::string b =  // the same record, other spacing and member order
      R"({ "target": [ {"type": "Token", "id": "t1"} ], "published": "2024-01-01T00:00:00Z",)"
      R"( "eventType": "system.api_token.create" })";
  auto ra = MapJson(*importer, a);
  auto rb = MapJson(*importer, b);
  ASSERT_TRUE(ra.ok() && rb.ok());
  const auto& id = ra->events[0].event.source_event_id;
  EXPECT_EQ(id.rfind("sha256:", 0), 0u) << id;
  EXPECT_EQ(id.size(), 7u + 32u);
  EXPECT_EQ(id, rb->events[0].event.source_event_id);
}

}  // namespace
}  // namespace nhitrace::ingest::okta
