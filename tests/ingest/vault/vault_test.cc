#include "ingest/vault/vault.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ingest/importer_harness.h"
#include "testing/shared_data.h"

namespace nhitrace::ingest::vault {
namespace {

using testing::ImporterHarness;
using testing::ReadLines;

constexpr char kKvAccessor[] =
    "vault:accessor:hmac-sha256:8fa4f7f3d1fd812064950025cde2b1565829a9dc5075253399e5ede8f8a1d98e";
constexpr char kKvToken[] =
    "vault:token:hmac-sha256:95b624915ff8dd55a4028bb57d1af8c6d487a99033b507b99a5a6e943b4933ef";
constexpr char kPkiToken[] =
    "vault:token:hmac-sha256:db417023d954a03aea8f56a3daf35460aa51920337420c7c22bcbb6b10852f23";
constexpr char kOidcAccessor[] =
    "vault:accessor:hmac-sha256:eb605bd7f8a5ceb951b9ab42cae6d6c3f12f203cb2c2a78e33e899f77dceb931";

// The shared sample: three request/response pairs (elastic/integrations, test-audit.log lines
// 1-6). Every request is held and answered, so each pair is one action of its token.
TEST(VaultSharedSample, EveryEntryMapsAndEachPairIsOneActionOfItsToken) {
  NHI_REQUIRE_SHARED("data/vault/test-audit.lines1-6.log");
  std::vector<std::string> lines = ReadLines(shared_path);
  ASSERT_EQ(lines.size(), 6u);
  ImporterHarness h(MakeImporter());
  std::vector<event::Event> events;
  for (size_t i = 0; i < lines.size(); ++i) {
    auto r = h.Map(lines[i]);
    ASSERT_TRUE(r.ok()) << "line " << i + 1 << ": " << r.status().ToString();
    if (i % 2 == 0) {  // requests: held for their responses
      EXPECT_TRUE(r->events.empty()) << "line " << i + 1;
      EXPECT_EQ(r->ignored, "request (held for its response)");
    } else {
      ASSERT_EQ(r->events.size(), 1u) << "line " << i + 1;
      EXPECT_FALSE(r->events[0].raw.has_value()) << "the response is the event's raw record";
      events.push_back(r->events[0].event);
    }
  }
  auto fin = h.Finish();
  ASSERT_TRUE(fin.ok());
  EXPECT_TRUE(fin->events.empty()) << "every request was answered";
  ASSERT_EQ(events.size(), 3u);

  // A person's OIDC token checking its capabilities: the token, its HMAC and its entity are one
  // identity.
  const event::Event& caps = events[0];
  EXPECT_EQ(caps.kind, event::Kind::kAction);
  EXPECT_EQ(caps.source_system, "vault");
  EXPECT_EQ(caps.source_event_id, "cd09708b-11cc-2985-648b-cfe262cf7e50");
  EXPECT_EQ(caps.time, "2020-12-01T20:29:04.36089379Z");
  EXPECT_EQ(caps.identity, kOidcAccessor);
  EXPECT_EQ(caps.aliases, (std::vector<std::string>{
                              "vault:token:hmac-sha256:"
                              "9cc3baa3c2bd7a4b233ca1fdcf69df91c8f2a9f14ddda54a4039190f581dd"
                              "327",
                              "vault:entity:e4f5c67a-6f7e-789d-ae56-a1fe3ae23046"}));
  ASSERT_TRUE(caps.scope.has_value());
  EXPECT_EQ(caps.scope->resources, std::vector<std::string>{"sys/capabilities-self"});

  // The denied PKI issue: a token without accessor, its use refused; still an action, failed,
  // with Vault's error.
  const event::Event& pki = events[1];
  EXPECT_EQ(pki.kind, event::Kind::kAction);
  EXPECT_EQ(pki.identity, kPkiToken);
  EXPECT_TRUE(pki.aliases.empty());
  ASSERT_TRUE(pki.scope.has_value());
  EXPECT_EQ(pki.scope->resources, std::vector<std::string>{"internal-ca/issue/internal-server"});
  EXPECT_EQ(pki.scope->permissions, std::vector<std::string>{"update"});
  ASSERT_TRUE(pki.outcome.has_value());
  EXPECT_EQ(pki.outcome->result, "failure");
  EXPECT_EQ(pki.outcome->message, "1 error occurred:\n\t* permission denied\n\n");

  // The Nomad workload token reading a KV secret: identity by accessor, the token HMAC an alias.
  const event::Event& kv = events[2];
  EXPECT_EQ(kv.kind, event::Kind::kAction);
  EXPECT_EQ(kv.source_event_id, "0042ad1b-1400-7eb7-5e25-1dfc898c1998");
  EXPECT_EQ(kv.time, "2021-06-29T17:26:11.409840527Z");
  EXPECT_EQ(kv.identity, kKvAccessor);
  EXPECT_EQ(kv.aliases, std::vector<std::string>{kKvToken});
  ASSERT_TRUE(kv.subject.has_value());
  EXPECT_EQ(kv.subject->kind, "token");
  EXPECT_EQ(kv.subject->name, "token-375f9cb3-4355-42c7-eab5-029f8a310ca7-runner");
  ASSERT_TRUE(kv.scope.has_value());
  EXPECT_EQ(kv.scope->resources,
            std::vector<std::string>{"secret/data/apps/continuous-delivery/aws-bucket-sse-c"});
  EXPECT_EQ(kv.scope->permissions, std::vector<std::string>{"read"});
  ASSERT_TRUE(kv.outcome.has_value());
  EXPECT_EQ(kv.outcome->result, "success");
  EXPECT_NE(kv.attributes.find(R"("policies":["app-continuous-delivery","app-github-runner",)"
                               R"("default"])"),
            std::string::npos)
      << kv.attributes;
}

// Requests whose responses are not in the stream (the log was cut, Vault stopped) are mapped on
// their own at the end, each with its own bytes as raw record.
TEST(VaultSharedSample, UnansweredRequestsAreMappedAloneAtFinish) {
  NHI_REQUIRE_SHARED("data/vault/test-audit.lines1-6.log");
  std::vector<std::string> lines = ReadLines(shared_path);
  ASSERT_EQ(lines.size(), 6u);
  ImporterHarness h(MakeImporter());
  for (size_t i : {0, 2, 4}) {
    auto r = h.Map(lines[i]);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->events.empty());
  }
  auto fin = h.Finish();
  ASSERT_TRUE(fin.ok());
  ASSERT_EQ(fin->events.size(), 3u);
  for (size_t k = 0; k < 3; ++k) {
    const MappedEvent& m = fin->events[k];
    ASSERT_TRUE(m.raw.has_value());
    EXPECT_EQ(*m.raw, lines[2 * k]) << "arrival order, each with its own bytes";
    EXPECT_EQ(m.event.kind, event::Kind::kAction);
  }
  EXPECT_EQ(fin->events[0].event.source_event_id, "cd09708b-11cc-2985-648b-cfe262cf7e50#request");
  EXPECT_EQ(fin->events[0].event.time, "2020-12-01T20:29:04.356625452Z");
  EXPECT_FALSE(fin->events[0].event.outcome.has_value()) << "no response: result unknown";
  // The PKI request already carried its error: a failed use.
  ASSERT_TRUE(fin->events[1].event.outcome.has_value());
  EXPECT_EQ(fin->events[1].event.outcome->result, "failure");
  EXPECT_EQ(fin->events[1].event.outcome->message, "permission denied");
  EXPECT_EQ(fin->events[2].event.identity, kKvAccessor);
  // Finish empties the importer.
  auto again = h.importer().Finish();
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->events.empty());
}

// Memory is bounded: past max_pending_requests the oldest held request is mapped alone, in the
// result of the record that pushed it out.
TEST(VaultSharedSample, PendingRequestsAreBoundedByCount) {
  NHI_REQUIRE_SHARED("data/vault/test-audit.lines1-6.log");
  std::vector<std::string> lines = ReadLines(shared_path);
  Options o;
  o.max_pending_requests = 1;
  ImporterHarness h(MakeImporter(o));
  ASSERT_TRUE(h.Map(lines[0]).ok());
  auto r = h.Map(lines[2]);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->events.size(), 1u);
  EXPECT_EQ(r->events[0].event.source_event_id, "cd09708b-11cc-2985-648b-cfe262cf7e50#request");
  ASSERT_TRUE(r->events[0].raw.has_value());
  EXPECT_EQ(*r->events[0].raw, lines[0]);
  // The evicted request's response still maps (the operation is then recorded twice, by request
  // and by response, under different ids).
  auto resp = h.Map(lines[1]);
  ASSERT_TRUE(resp.ok());
  ASSERT_EQ(resp->events.size(), 1u);
  EXPECT_EQ(resp->events[0].event.source_event_id, "cd09708b-11cc-2985-648b-cfe262cf7e50");
  // The PKI request is still held and its response folds it.
  auto pki = h.Map(lines[3]);
  ASSERT_TRUE(pki.ok());
  auto fin = h.Finish();
  ASSERT_TRUE(fin.ok());
  EXPECT_TRUE(fin->events.empty());
}

TEST(VaultSharedSample, PendingRequestsAreBoundedByBytes) {
  NHI_REQUIRE_SHARED("data/vault/test-audit.lines1-6.log");
  std::vector<std::string> lines = ReadLines(shared_path);
  Options o;
  o.max_pending_bytes = lines[0].size() + lines[2].size() - 1;  // room for one of the two
  ImporterHarness h(MakeImporter(o));
  auto first = h.Map(lines[0]);
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->events.empty());
  auto second = h.Map(lines[2]);
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->events.size(), 1u);
  EXPECT_EQ(*second->events[0].raw, lines[0]);
  // A request larger than the whole budget is mapped at once.
  o.max_pending_bytes = 10;
  ImporterHarness tiny(MakeImporter(o));
  auto r = tiny.Map(lines[4]);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->events.size(), 1u);
  EXPECT_EQ(*r->events[0].raw, lines[4]);
  EXPECT_EQ(r->ignored, "request (held for its response)");
}

// The same response mapped by two importers (a re-import) gives the same events.
TEST(VaultSharedSample, MappingIsAFunctionOfTheRecord) {
  NHI_REQUIRE_SHARED("data/vault/test-audit.lines1-6.log");
  std::vector<std::string> lines = ReadLines(shared_path);
  ImporterHarness paired(MakeImporter());
  ImporterHarness alone(MakeImporter());
  ASSERT_TRUE(paired.Map(lines[4]).ok());
  auto a = paired.Map(lines[5]);
  auto b = alone.Map(lines[5]);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->events.size(), 1u);
  ASSERT_EQ(b->events.size(), 1u);
  EXPECT_EQ(a->events[0].event, b->events[0].event);
}

TEST(VaultLooksLike, RecognisesAuditEntriesOnly) {
  simdjson::dom::parser p;
  auto looks = [&p](const char* json) { return LooksLike(p.parse(std::string(json)).value()); };
  EXPECT_TRUE(looks(R"({"type":"request","request":{"id":"x"}})"));
  EXPECT_TRUE(looks(R"({"time":"t","type":"response","request":{},"response":{}})"));
  EXPECT_FALSE(looks(R"({"type":"request"})"));
  EXPECT_FALSE(looks(R"({"type":"other","request":{}})"));
  EXPECT_FALSE(looks(R"({"kind":"Event","auditID":"x"})"));
  EXPECT_FALSE(looks(R"([{"type":"request","request":{}}])"));
  EXPECT_FALSE(looks(R"({"Records":[]})"));
}

// Token and lease lifecycles, logins, errors and malformed entries: tests/ingest/vault/cases.json.
TEST(VaultCases, CaseFile) {
  testing::RunCaseFile(std::filesystem::path(NHITRACE_SOURCE_DIR) / "tests/ingest/vault/cases.json",
                       [] { return MakeImporter(); });
}

}  // namespace
}  // namespace nhitrace::ingest::vault
