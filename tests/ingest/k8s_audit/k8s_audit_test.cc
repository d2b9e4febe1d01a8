#include "ingest/k8s_audit/k8s_audit.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ingest/importer_harness.h"
#include "testing/shared_data.h"

namespace nhitrace::ingest::k8s_audit {
namespace {

using testing::ImporterHarness;
using testing::ReadLines;

// What one falco sample file maps to: its records' events (in order) or ignored names.
struct FileResult {
  std::vector<event::Event> events;
  std::vector<std::string> ignored;
  std::vector<std::string> errors;
};

// Every file of the falco sample set, each record mapped by the same importer (one stream), as
// `nhitrace ingest --format k8s-audit` would see the files one after the other.
std::map<std::string, FileResult> MapFalcoFiles(const std::filesystem::path& dir) {
  std::map<std::string, FileResult> out;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  ImporterHarness h(MakeImporter());
  for (const auto& f : files) {
    FileResult& fr = out[f.filename().string()];
    // Each file is JSON Lines: one Event per line (most have a single line).
    for (const std::string& line : ReadLines(f)) {
      auto r = h.Map(line);
      if (!r.ok()) {
        fr.errors.push_back(r.status().message());
        continue;
      }
      if (r->events.empty()) fr.ignored.push_back(r->ignored);
      for (auto& m : r->events) {
        EXPECT_FALSE(m.raw.has_value());
        fr.events.push_back(m.event);
      }
    }
  }
  auto fin = h.Finish();
  EXPECT_TRUE(fin.ok() && fin->events.empty());
  return out;
}

class FalcoSamples : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::filesystem::path dir = nhitrace::testing::SharedPath("data/k8s-audit/falco");
    if (std::filesystem::exists(dir))
      results_ = new std::map<std::string, FileResult>(MapFalcoFiles(dir));
  }
  static void TearDownTestSuite() {
    delete results_;
    results_ = nullptr;
  }
  void SetUp() override {
    NHI_REQUIRE_SHARED("data/k8s-audit/falco");
    ASSERT_NE(results_, nullptr);
  }
  const FileResult& File(const std::string& name) {
    auto it = results_->find(name);
    EXPECT_NE(it, results_->end()) << name;
    static const FileResult kEmpty;
    return it == results_->end() ? kEmpty : it->second;
  }
  static std::map<std::string, FileResult>* results_;
};
std::map<std::string, FileResult>* FalcoSamples::results_ = nullptr;

// Zero errors except the one record that is malformed on purpose.
TEST_F(FalcoSamples, EveryRecordMapsExceptTheDeliberatelyMalformedOne) {
  size_t events = 0, ignored = 0;
  for (const auto& [name, fr] : *results_) {
    if (name == "fal_01_003.json") {
      // {"kind": 0}: falco's test of a record that is not an audit Event.
      EXPECT_EQ(fr.errors, std::vector<std::string>{"kind: must be a string, got a number"});
      continue;
    }
    EXPECT_TRUE(fr.errors.empty()) << name << ": " << fr.errors.front();
    events += fr.events.size();
    ignored += fr.ignored.size();
  }
  EXPECT_EQ(results_->size(), 47u);
  EXPECT_GT(events, 0u);
  EXPECT_GT(ignored, 0u);
}

TEST_F(FalcoSamples, ServiceAccountCreateAndDeleteAreItsProvisionAndRevocation) {
  const FileResult& c = File("create_serviceaccount.json");
  ASSERT_EQ(c.events.size(), 1u);
  const event::Event& p = c.events[0];
  EXPECT_EQ(p.kind, event::Kind::kProvision);
  EXPECT_EQ(p.identity, "k8s:sa:default/myacct");
  EXPECT_EQ(p.source_system, "k8s-audit");
  EXPECT_EQ(p.source_event_id, "db4a8c97-3bd2-4ee7-a0d9-b6e367a458e3#serviceaccount");
  EXPECT_EQ(p.time, "2018-10-26T13:19:22.135026Z");
  ASSERT_TRUE(p.actor.has_value());
  EXPECT_EQ(p.actor->id, "minikube-user");
  ASSERT_TRUE(p.subject.has_value());
  EXPECT_EQ(p.subject->kind, "service_account");
  ASSERT_TRUE(p.outcome.has_value());
  EXPECT_EQ(p.outcome->result, "success");
  EXPECT_EQ(p.outcome->code, "201");

  const FileResult& d = File("delete_serviceaccount.json");
  ASSERT_EQ(d.events.size(), 1u);
  EXPECT_EQ(d.events[0].kind, event::Kind::kRevocation);
  EXPECT_EQ(d.events[0].identity, "k8s:sa:default/myacct");
  EXPECT_EQ(d.events[0].outcome->code, "200");
  EXPECT_LT(p.time_ns, d.events[0].time_ns);

  for (auto [file, ns] :
       {std::pair{"create_serviceaccount_kube_public_namespace.json", "kube-public"},
        std::pair{"create_serviceaccount_kube_system_namespace.json", "kube-system"}}) {
    const FileResult& f = File(file);
    ASSERT_EQ(f.events.size(), 1u) << file;
    EXPECT_EQ(f.events[0].identity, std::string("k8s:sa:") + ns + "/myacct") << file;
  }
}

TEST_F(FalcoSamples, ClusterAdminBindingIsAGrantOfTheRoleToItsSubject) {
  const FileResult& f = File("attach_cluster_admin_role.json");
  ASSERT_EQ(f.events.size(), 1u);
  const event::Event& g = f.events[0];
  EXPECT_EQ(g.kind, event::Kind::kProvision);
  EXPECT_EQ(g.correlation_key, "k8s:clusterrolebinding:some-reader-binding");
  EXPECT_EQ(g.identity, "k8s:user:minikube");
  EXPECT_EQ(g.source_event_id, "c97244c7-4aec-4714-946a-8204d00ecdca#subject-0");
  ASSERT_TRUE(g.scope.has_value());
  EXPECT_EQ(g.scope->permissions, std::vector<std::string>{"k8s:clusterrole:cluster-admin"});
  EXPECT_TRUE(g.scope->resources.empty());
  EXPECT_EQ(g.actor->id, "minikube-user");

  // Deleting the binding revokes the grant, in the same chain.
  const FileResult& d = File("delete_clusterrolebinding.json");
  ASSERT_EQ(d.events.size(), 1u);
  EXPECT_EQ(d.events[0].kind, event::Kind::kRevocation);
  EXPECT_EQ(d.events[0].correlation_key, "k8s:clusterrolebinding:some-reader-binding");
  EXPECT_EQ(d.events[0].identity, "k8s:clusterrolebinding:some-reader-binding");
}

TEST_F(FalcoSamples, TokenControllerSecretIsATokenOfTheDefaultServiceAccount) {
  // Audit level Metadata: no body, so the token controller's naming is the evidence.
  const FileResult& f = File("create_service_account_token_secret.json");
  ASSERT_EQ(f.events.size(), 1u);
  const event::Event& s = f.events[0];
  EXPECT_EQ(s.kind, event::Kind::kProvision);
  EXPECT_EQ(s.identity, "k8s:secret:test2/default-token-7v4pb");
  EXPECT_EQ(s.aliases, std::vector<std::string>{"k8s:sa:test2/default"});
  EXPECT_NE(s.attributes.find(R"("token_secret_evidence":"name")"), std::string::npos);
  EXPECT_EQ(s.actor->type, "system");
  // An ordinary secret created and deleted by a person is not NHI-relevant.
  EXPECT_EQ(File("create_secret.json").ignored, std::vector<std::string>{"create secrets"});
  EXPECT_EQ(File("delete_secret.json").ignored, std::vector<std::string>{"delete secrets"});
  // A node bootstrap token (kube-system/bootstrap-token-<id>) is a credential of its own.
  const FileResult& b = File("create_kube_system_secret.json");
  ASSERT_EQ(b.events.size(), 1u);
  EXPECT_EQ(b.events[0].kind, event::Kind::kProvision);
  EXPECT_EQ(b.events[0].identity, "k8s:bootstrap-token:ne7bxu");
  EXPECT_EQ(b.events[0].actor->id, "admin");
}

TEST_F(FalcoSamples, ControllerServiceAccountCreatingPodsActs) {
  const FileResult& f = File("create_nginx_pod_privileged.json");
  ASSERT_EQ(f.events.size(), 1u);
  const event::Event& a = f.events[0];
  EXPECT_EQ(a.kind, event::Kind::kAction);
  EXPECT_EQ(a.identity, "k8s:sa:kube-system/replicaset-controller");
  ASSERT_TRUE(a.scope.has_value());
  EXPECT_EQ(a.scope->permissions, std::vector<std::string>{"create pods"});
  EXPECT_EQ(a.scope->resources, std::vector<std::string>{"namespaces/default/pods"});
  EXPECT_EQ(a.outcome->code, "201");
  EXPECT_EQ(a.source_event_id.find('#'), std::string::npos) << "an action is the auditID alone";
}

TEST_F(FalcoSamples, EarlierStagesAndPeopleAreNotNhiRelevant) {
  // exec and attach were captured at ResponseStarted; their ResponseComplete would be mapped.
  EXPECT_EQ(File("exec_pod.json").ignored, std::vector<std::string>{"stage ResponseStarted"});
  EXPECT_EQ(File("attach_pod.json").ignored, std::vector<std::string>{"stage ResponseStarted"});
  EXPECT_EQ(File("create_deployment.json").ignored, std::vector<std::string>{"create deployments"});
  EXPECT_EQ(File("anonymous_creates_namespace_foo.json").ignored,
            std::vector<std::string>{"create namespaces"});
  EXPECT_EQ(File("create_configmap_sensitive_values.json").ignored.size(), 6u);
  // A node (system:node:minikube) reading a pod: a system component.
  EXPECT_EQ(File("create_nginx_pod_unsensitive_mount.json").ignored,
            std::vector<std::string>{"get pods"});
  // Roles are not grants; only bindings are.
  EXPECT_EQ(File("create_clusterrole.json").ignored,
            std::vector<std::string>{"create clusterroles"});
}

TEST(AksSample, TheEventInsidePropertiesLogIsMapped) {
  NHI_REQUIRE_SHARED("data/k8s-audit/test-kube-audit.log");
  std::vector<std::string> lines = ReadLines(shared_path);
  ASSERT_EQ(lines.size(), 1u);
  ImporterHarness h(MakeImporter());
  auto r = h.Map(lines[0]);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // aksService renewing its leader-election lease: a system component, not NHI-relevant. The
  // name comes from the unwrapped Event (verb and resource are only inside properties.log).
  EXPECT_TRUE(r->events.empty());
  EXPECT_EQ(r->ignored, "update leases");
}

TEST(K8sAuditLooksLike, RecognisesEventsAndAksEnvelopes) {
  simdjson::dom::parser p;
  auto looks = [&p](const char* json) { return LooksLike(p.parse(std::string(json)).value()); };
  EXPECT_TRUE(
      looks(R"({"kind":"Event","apiVersion":"audit.k8s.io/v1","stage":"ResponseComplete"})"));
  EXPECT_TRUE(looks(R"({"kind":"Event","auditID":"x"})"));
  EXPECT_TRUE(looks(R"({"category":"kube-audit","properties":{"log":"{}"}})"));
  EXPECT_TRUE(looks(R"({"category":"kube-audit-admin","properties":{}})"));
  EXPECT_FALSE(looks(R"({"kind":"Event","apiVersion":"v1","reason":"Scheduled"})"));  // core Event
  EXPECT_FALSE(looks(R"({"category":"cluster-autoscaler","properties":{}})"));
  EXPECT_FALSE(looks(R"({"type":"request","request":{}})"));
  EXPECT_FALSE(looks(R"({"kind":0})"));
}

// SA tokens, bindings, impersonation, exec by a service account, AKS envelopes and malformed
// records: tests/ingest/k8s_audit/cases.json.
TEST(K8sAuditCases, CaseFile) {
  testing::RunCaseFile(
      std::filesystem::path(NHITRACE_SOURCE_DIR) / "tests/ingest/k8s_audit/cases.json",
      [] { return MakeImporter(); });
}

}  // namespace
}  // namespace nhitrace::ingest::k8s_audit
