// What the vendor importers' events become in the ledger: grant chains and attributed actions
// (docs/importers/vendor-records.md, "Keys, grants and chains"). Records come from the case
// files and the shared samples; each is mapped, appended with derived state, and traced.
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "correlate/derived_state.h"
#include "correlate/trace.h"
#include "ingest/entra/entra.h"
#include "ingest/gcp_audit/gcp_audit.h"
#include "ingest/github_audit/github_audit.h"
#include "ingest/okta/okta.h"
#include "ingest/vendor_test_util.h"
#include "testing/ledger_fixture.h"
#include "testing/shared_data.h"

namespace nhitrace::ingest {
namespace {

using correlate::BuildTrace;
using correlate::ChainStatusName;
using correlate::Trace;
using correlate::TraceQuery;
using correlate::VerdictName;

// The record of the case named `name` in tests/ingest/<file>, as JSON text.
std::string CaseRecord(const std::string& file, std::string_view name) {
  simdjson::dom::parser parser;
  simdjson::dom::element cases;
  auto padded = simdjson::padded_string::load(testing::CaseFile(file).string());
  EXPECT_EQ(padded.error(), simdjson::SUCCESS);
  EXPECT_EQ(parser.parse(padded.value()).get(cases), simdjson::SUCCESS);
  for (auto c : json::ArrayOf(cases)) {
    if (c["name"].get_string().value_unsafe() == name) return simdjson::minify(c["record"]);
  }
  ADD_FAILURE() << "no case " << name << " in " << file;
  return "{}";
}

class ChainRun {
 public:
  ChainRun() {
    f_.set_durable(false);
    EXPECT_TRUE(f_.Init().ok());
    auto l = f_.Open();
    EXPECT_TRUE(l.ok());
    ledger_ = std::move(l).value();
    derived_ = std::make_unique<correlate::DerivedState>(ledger_->store());
    ledger_->AddObserver(derived_.get());
  }

  // Maps `json` and appends its events (the record as their raw record).
  void Add(Importer& importer, const std::string& json) {
    auto r = testing::MapJson(importer, json);
    ASSERT_TRUE(r.ok()) << r.status().ToString() << "\n  " << json;
    ASSERT_FALSE(r->events.empty()) << "not NHI-relevant: " << r->ignored;
    auto batch = ledger_->BeginBatch();
    ASSERT_TRUE(batch.ok());
    for (const auto& m : r->events) {
      event::NativeRecord rec{m.event, ""};
      auto o = (*batch)->Append(rec, json);
      ASSERT_TRUE(o.ok()) << o.status().ToString();
      ASSERT_EQ(o->status, ledger::AppendStatus::kAccepted) << m.event.source_event_id;
    }
    ASSERT_TRUE((*batch)->Commit().ok());
  }

  Trace TraceIdentity(const std::string& key) {
    TraceQuery q;
    q.identity = key;
    auto t = BuildTrace(ledger_->store(), q);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? std::move(t).value() : Trace{};
  }

  Trace TraceRequest(const std::string& key) {
    TraceQuery q;
    q.request = key;
    auto t = BuildTrace(ledger_->store(), q);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? std::move(t).value() : Trace{};
  }

 private:
  ::nhitrace::testing::LedgerFixture f_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<correlate::DerivedState> derived_;
};

std::vector<std::string> IssueCodes(const correlate::GrantChain& c) {
  std::vector<std::string> out;
  for (const auto& i : c.issues) out.push_back(i.code);
  return out;
}

TEST(VendorChains, OktaApiTokenCreatedThenRevoked) {
  auto importer = okta::MakeImporter();
  ChainRun run;
  run.Add(
      *importer,
      R"({"uuid":"u-1","published":"2024-05-02T10:00:00Z","eventType":"system.api_token.create",)"
      R"("actor":{"id":"00u1","type":"User","alternateId":"admin@example.com"},)"
      R"("outcome":{"result":"SUCCESS"},"target":[{"id":"00T1","type":"Token","displayName":"ci"}]})");
  run.Add(
      *importer,
      R"({"uuid":"u-2","published":"2024-06-02T10:00:00Z","eventType":"system.api_token.revoke",)"
      R"("actor":{"id":"00u1","type":"User","alternateId":"admin@example.com"},)"
      R"("outcome":{"result":"SUCCESS"},"target":[{"id":"00T1","type":"Token","displayName":"ci"}]})");
  Trace t = run.TraceIdentity("okta:api-token:00T1");
  ASSERT_EQ(t.grants.size(), 1u);
  const auto& chain = t.grants[0].chain;
  EXPECT_EQ(chain.correlation_key, "okta:api-token:00T1");
  EXPECT_EQ(ChainStatusName(chain.status), "revoked");
  EXPECT_EQ(chain.provisioned.size(), 1u);
  EXPECT_EQ(chain.revoked.size(), 1u);
  EXPECT_EQ(chain.end_reason, "revoked");
  // Okta's log has no request or approval for the token: the trace says so.
  auto issues = IssueCodes(chain);
  EXPECT_NE(std::find(issues.begin(), issues.end(), "no_request"), issues.end());
  EXPECT_NE(std::find(issues.begin(), issues.end(), "no_approval"), issues.end());
}

TEST(VendorChains, GcpKeyCreatedUsedDeletedAndUsedAgain) {
  auto importer = gcp_audit::MakeImporter();
  ChainRun run;
  const std::string file = "gcp_audit/cases.json";
  run.Add(*importer, CaseRecord(file, "CreateServiceAccountKey: a key that never expires"));
  run.Add(*importer, CaseRecord(file, "A call made with a service account key"));
  run.Add(*importer, CaseRecord(file, "DeleteServiceAccountKey"));
  // The key used once more after its deletion (a stolen copy would show like this).
  std::string late = CaseRecord(file, "A call made with a service account key");
  late.replace(late.find("\"use-1\""), 7, "\"use-9\"");
  late.replace(late.find("2024-03-05T12:00:00.5+01:00"), 27, "2024-03-10T00:00:00Z");
  run.Add(*importer, late);

  const std::string key = "gcp:sa-key:4f1c9a0e52d1b7c3e8a6f2d90b1c7e5a3d8f4b21";
  Trace t = run.TraceIdentity(key);
  ASSERT_TRUE(t.identity.has_value());
  ASSERT_EQ(t.grants.size(), 1u);
  const auto& g = t.grants[0];
  EXPECT_EQ(g.chain.correlation_key, key);
  EXPECT_EQ(ChainStatusName(g.chain.status), "revoked");
  EXPECT_EQ(g.actions.count, 2u);
  EXPECT_EQ(g.actions.covered, 1u);
  EXPECT_EQ(g.actions.after_revocation, 1u);
  ASSERT_EQ(g.actions.exceptions.size(), 1u);
  EXPECT_EQ(VerdictName(g.actions.exceptions[0].verdict), "after_revocation");
  // The key and its service account are one identity (the alias of every key event).
  std::vector<std::string> keys;
  for (const auto& k : t.identity->keys) keys.push_back(k.row.key);
  EXPECT_NE(
      std::find(keys.begin(), keys.end(), "gcp:sa:ci-deployer@demo-proj.iam.gserviceaccount.com"),
      keys.end());
}

TEST(VendorChains, GithubPatRequestApprovalGrantUseRevocation) {
  auto importer = github_audit::MakeImporter();
  ChainRun run;
  const std::string file = "github_audit/cases.json";
  run.Add(*importer, CaseRecord(file, "personal_access_token.request_created"));
  run.Add(
      *importer,
      CaseRecord(file, "personal_access_token.access_granted by an org owner: approval and grant"));
  // The token used on a repository of the grant, then on one outside it.
  run.Add(
      *importer,
      R"({"@timestamp":1741750000000,"_document_id":"use-in","action":"api.request","actor":"octo-dev",)"
      R"("org":"acme","repo":"acme/payments","token_id":7001,"status_code":200,"request_method":"GET",)"
      R"("route":"/repos/{owner}/{repo}/contents/{path}"})");
  run.Add(
      *importer,
      R"({"@timestamp":1741760000000,"_document_id":"use-out","action":"api.request","actor":"octo-dev",)"
      R"("org":"acme","repo":"acme/secrets","token_id":7001,"status_code":404,"request_method":"GET",)"
      R"("route":"/repos/{owner}/{repo}/contents/{path}"})");
  run.Add(*importer, CaseRecord(file, "personal_access_token.access_revoked"));

  Trace t = run.TraceRequest("github:pat-grant:acme/7001");
  ASSERT_EQ(t.grants.size(), 1u);
  const auto& g = t.grants[0];
  EXPECT_EQ(ChainStatusName(g.chain.status), "revoked");
  EXPECT_EQ(g.chain.requester, "octo-dev");
  EXPECT_EQ(g.chain.approvers, std::vector<std::string>{"org-owner"});
  EXPECT_EQ(g.chain.identity, "github:token:7001");
  EXPECT_EQ(g.actions.covered, 1u);
  EXPECT_EQ(g.actions.out_of_scope, 1u);
  ASSERT_EQ(g.actions.exceptions.size(), 1u);
  EXPECT_EQ(g.actions.exceptions[0].uncovered, std::vector<std::string>{"acme/secrets"});
  auto issues = IssueCodes(g.chain);  // nothing confirmed the revocation
  EXPECT_NE(std::find(issues.begin(), issues.end(), "revocation_unconfirmed"), issues.end());
}

TEST(VendorChains, EntraCredentialAddedThenUsedBySignIn) {
  NHI_REQUIRE_SHARED("data/panther-fixtures/Azure_Audit.jsonl");
  auto importer = entra::MakeImporter();
  ChainRun run;
  run.Add(
      *importer,
      R"({"id":"Directory_cred_add","activityDisplayName":"Add service principal credentials",)"
      R"("activityDateTime":"2023-07-20T08:00:00Z","result":"success",)"
      R"("initiatedBy":{"user":{"userPrincipalName":"admin@contoso.com"}},)"
      R"("targetResources":[{"id":"4b6986ec-c49c-40c0-89ce-b2ac51213e39","type":"ServicePrincipal",)"
      R"("modifiedProperties":[{"displayName":"KeyDescription","oldValue":"[]","newValue":)"
      R"("[\"[KeyIdentifier=2afc776a-4e79-4588-b2ad-f62c94d6bea8,KeyType=Password,KeyUsage=Verify,DisplayName=x]\"]"}]}]})");
  auto lines = testing::ReadLines(shared_path);
  run.Add(*importer, lines[12]);  // line 13: the sign-in with that key
  Trace t = run.TraceIdentity("entra:sp:4b6986ec-c49c-40c0-89ce-b2ac51213e39");
  ASSERT_EQ(t.grants.size(), 1u);
  const auto& g = t.grants[0];
  EXPECT_EQ(g.chain.correlation_key, "entra:credential:2afc776a-4e79-4588-b2ad-f62c94d6bea8");
  EXPECT_EQ(ChainStatusName(g.chain.status), "active");
  EXPECT_EQ(g.actions.covered, 1u);
  ASSERT_TRUE(g.chain.first_use.has_value());
}

}  // namespace
}  // namespace nhitrace::ingest
