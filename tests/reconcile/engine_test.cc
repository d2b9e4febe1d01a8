// The engine around the rules: a finding's life (open, update, resolve, reopen), policy changes,
// events appended while no engine watched, identities merging, replays, forged records, the
// rule catalog, and chains read back from their stored rows.
#include "reconcile/engine.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "correlate/derived_state.h"
#include "policy/policy.h"
#include "policy/policy_index.h"
#include "reconcile/evaluate.h"
#include "reconcile/finding.h"
#include "reconcile/internal/chain_row.h"
#include "reconcile/replay.h"
#include "testing/ledger_fixture.h"

namespace nhitrace::reconcile {
namespace {

constexpr int64_t kDay = 86400LL * 1'000'000'000;
const int64_t kJune1 = ParseRfc3339("2026-06-01T00:00:00Z")->unix_nanos;

// The rules about identities' facts and ages are off: the tests below make bare identities.
const char kPolicy[] =
    "nhitrace_policy: 1\nid: engine-test\nrules:\n  approval-not-issued: {sla: 72h}\n"
    "  identity-unowned: {enabled: false}\n  identity-dormant: {enabled: false}\n"
    "  credential-long-lived: {enabled: false}\n";

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    f_.set_durable(false);
    f_.clock().Set(kJune1);
    ASSERT_TRUE(f_.Init().ok());
    Attach(true);
  }

  // (Re)opens the ledger; with `engine`, the engine observes it.
  void Attach(bool engine) {
    engine_.reset();
    index_.reset();
    derived_.reset();
    ledger_.reset();
    auto l = f_.Open();
    ASSERT_TRUE(l.ok());
    ledger_ = std::move(l).value();
    derived_ = std::make_unique<correlate::DerivedState>(ledger_->store());
    ledger_->AddObserver(derived_.get());
    index_ = std::make_unique<policy::PolicyIndex>(ledger_->store());
    ledger_->AddObserver(index_.get());
    if (engine) engine_ = std::make_unique<Engine>(*ledger_);
  }

  uint64_t Publish(const std::string& yaml) {
    policy::PublishOptions o;
    o.published_by = "test";
    auto r = policy::PublishPolicy(*ledger_, yaml, o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->info.version : 0;
  }

  void Append(const std::vector<std::string>& lines) {
    auto batch = ledger_->BeginBatch();
    ASSERT_TRUE(batch.ok());
    for (const auto& line : lines) {
      auto o = (*batch)->Append(testing::Record(line), line);
      ASSERT_TRUE(o.ok()) << o.status().ToString();
    }
    ASSERT_TRUE((*batch)->Commit().ok());
  }

  PassStats Incremental(int64_t as_of = kJune1) {
    auto s = engine_->RunIncremental(as_of);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? *s : PassStats{};
  }

  std::optional<store::FindingRow> FindingOf(const std::string& rule, SubjectType t,
                                             const std::string& subject) {
    auto r = ledger_->store().GetFinding(FindingId(rule, t, subject));
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : std::nullopt;
  }

  testing::LedgerFixture f_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<correlate::DerivedState> derived_;
  std::unique_ptr<policy::PolicyIndex> index_;
  std::unique_ptr<Engine> engine_;
};

std::string Line(const std::string& kind, const std::string& id, const std::string& time,
                 const std::string& extra) {
  return R"({"v":1,"kind":")" + kind + R"(","source":{"system":"jira","event_id":")" + id +
         R"("},"time":")" + time + "\"" + extra + "}";
}

TEST_F(EngineTest, NothingHappensWithoutAPolicy) {
  Append({Line("approval", "A:1", "2026-05-01T00:00:00Z", R"(,"correlation_key":"A")")});
  auto s = Incremental();
  EXPECT_TRUE(s.skipped);
  EXPECT_EQ(ledger_->size(), 1u);
  auto full = engine_->RunFull(kJune1, nullptr);
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.status().code(), StatusCode::kNotFound);
}

TEST_F(EngineTest, FindingOpensUpdatesResolvesAndReopens) {
  Publish(kPolicy);
  // Issued with no approval: open.
  Append({Line("provision", "P:1", "2026-05-01T10:00:00Z",
               R"(,"correlation_key":"CHG-1","identity":"aws:accesskey:AKIAENGINE000000001")")});
  auto s = Incremental();
  EXPECT_EQ(s.opened, 1u);
  auto f = FindingOf("issuance-without-approval", SubjectType::kGrant, "CHG-1");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->status, "open");
  EXPECT_EQ(f->revision, 1u);
  EXPECT_EQ(f->policy_version, 1u);
  EXPECT_EQ(f->horizon, 1u);  // the policy (0) and the provision (1), not the finding (2)
  EXPECT_EQ(f->seq, 2u);
  const uint64_t size = ledger_->size();

  // Nothing new: nothing recorded.
  s = Incremental();
  EXPECT_EQ(s.opened + s.updated + s.resolved, 0u);
  EXPECT_EQ(ledger_->size(), size);

  // A late approval (after the issuance) changes the evidence and the message: updated.
  Append({Line("approval", "CHG-1:approved", "2026-05-02T10:00:00Z",
               R"(,"correlation_key":"CHG-1","actor":{"id":"sam@example.com"})")});
  s = Incremental();
  EXPECT_EQ(s.updated, 1u);
  f = FindingOf("issuance-without-approval", SubjectType::kGrant, "CHG-1");
  EXPECT_EQ(f->revision, 2u);
  EXPECT_NE(f->doc.find("before it was approved"), std::string::npos);

  // The approval turns out to predate the issuance (a correction with an earlier time): the
  // rule no longer fires.
  Append({Line("approval", "CHG-1:approved:v2", "2026-05-01T09:00:00Z",
               R"(,"correlation_key":"CHG-1","actor":{"id":"sam@example.com"})")});
  s = Incremental();
  EXPECT_EQ(s.resolved, 1u);
  f = FindingOf("issuance-without-approval", SubjectType::kGrant, "CHG-1");
  EXPECT_EQ(f->status, "resolved");
  EXPECT_EQ(f->revision, 3u);
  EXPECT_NE(f->doc.find("the rule no longer fires on the evidence"), std::string::npos);

  // A denial after the correction, before the issuance: fires again, same id, next revision.
  Append({Line("denial", "CHG-1:denied", "2026-05-01T09:30:00Z", R"(,"correlation_key":"CHG-1")")});
  s = Incremental();
  EXPECT_EQ(s.opened, 1u);
  f = FindingOf("issuance-without-approval", SubjectType::kGrant, "CHG-1");
  EXPECT_EQ(f->status, "open");
  EXPECT_EQ(f->revision, 4u);

  // Every revision is a finding event in the ledger; the table is their fold.
  uint64_t finding_events = 0;
  ASSERT_TRUE(ledger_->store()
                  .ScanEvents(0,
                              [&](const store::EventRow& r) {
                                if (r.kind == "finding") ++finding_events;
                                return OkStatus();
                              })
                  .ok());
  EXPECT_GE(finding_events, 4u);
  auto before = ledger_->store().GetFinding(f->id);
  ASSERT_TRUE(Engine::RebuildTables(ledger_->store()).ok());
  auto after = ledger_->store().GetFinding(f->id);
  ASSERT_TRUE(before.ok() && after.ok());
  EXPECT_EQ(**before, **after);
}

TEST_F(EngineTest, NewPolicyVersionMeansAFullPassAndDisabledRulesResolve) {
  Publish(kPolicy);
  Append({Line("approval", "SEC-1:approved", "2026-05-01T00:00:00Z",
               R"(,"correlation_key":"SEC-1","actor":{"id":"sam@example.com"})")});
  auto s = Incremental();
  EXPECT_TRUE(s.full);  // the first pass under a policy is a full one
  EXPECT_EQ(s.opened, 1u);
  s = Incremental();
  EXPECT_FALSE(s.full);
  Publish(std::string(kPolicy) + "  self-approval: {enabled: false}\n");  // a new version
  s = Incremental();
  EXPECT_TRUE(s.full);
  EXPECT_EQ(s.opened + s.updated + s.resolved, 0u);  // same outcome: nothing recorded
  Publish("nhitrace_policy: 1\nid: engine-test\nrules:\n  approval-not-issued: {enabled: false}\n");
  s = Incremental();
  EXPECT_TRUE(s.full);
  EXPECT_EQ(s.policy_version, 3u);
  EXPECT_EQ(s.resolved, 1u);
  auto f = FindingOf("approval-not-issued", SubjectType::kGrant, "SEC-1");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->status, "resolved");
  EXPECT_EQ(f->policy_version, 3u);
  EXPECT_NE(f->doc.find("the rule is disabled by policy version 3"), std::string::npos);
  // A severity change is a change of the finding: updated under the new version.
  Publish(
      "nhitrace_policy: 1\nid: engine-test\nrules:\n  approval-not-issued: {severity: "
      "critical}\n");
  s = Incremental();
  EXPECT_EQ(s.opened, 1u);
  f = FindingOf("approval-not-issued", SubjectType::kGrant, "SEC-1");
  EXPECT_EQ(f->severity, "critical");
  EXPECT_EQ(f->policy_version, 4u);
}

TEST_F(EngineTest, EventsAppendedWithoutTheEngineAreFoundAfterwards) {
  Publish(kPolicy);
  Incremental();  // the full pass under version 1: nothing to find yet
  // Another process appends without reconciling (say `ingest --no-reconcile`).
  Attach(false);
  Append({Line("provision", "P:9", "2026-05-01T10:00:00Z",
               R"(,"correlation_key":"CHG-9","identity":"aws:accesskey:AKIAENGINE000000009")")});
  Attach(true);
  Append({Line("request", "OTHER:1", "2026-05-01T10:00:00Z", R"(,"correlation_key":"OTHER")")});
  auto s = Incremental();
  EXPECT_FALSE(s.full);
  EXPECT_EQ(s.opened, 1u);
  auto f = FindingOf("issuance-without-approval", SubjectType::kGrant, "CHG-9");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->status, "open");
}

TEST_F(EngineTest, MergedIdentityMovesItsFindings) {
  Publish(kPolicy);
  // The IAM user acts with no grant: a finding about it.
  Append({Line("action", "A:1", "2026-05-02T00:00:00Z",
               R"(,"identity":"aws:iam-user:arn:aws:iam::1:user/etl")")});
  Incremental();
  auto user = FindingOf("action-without-grant", SubjectType::kIdentity,
                        "aws:iam-user:arn:aws:iam::1:user/etl");
  ASSERT_TRUE(user);
  EXPECT_EQ(user->status, "open");
  // Later we learn its access key existed earlier and is the same identity: the group is now
  // named by the key (seen first), so the finding moves to the key.
  Append({Line(
      "identity", "I:1", "2026-05-01T00:00:00Z",
      R"(,"identity":"aws:accesskey:AKIAENGINEMERGED0001","aliases":["aws:iam-user:arn:aws:iam::1:user/etl"])")});
  Incremental();
  user = FindingOf("action-without-grant", SubjectType::kIdentity,
                   "aws:iam-user:arn:aws:iam::1:user/etl");
  EXPECT_EQ(user->status, "resolved");
  EXPECT_NE(user->doc.find("the identity is now known as aws:accesskey:AKIAENGINEMERGED0001"),
            std::string::npos);
  auto key = FindingOf("action-without-grant", SubjectType::kIdentity,
                       "aws:accesskey:AKIAENGINEMERGED0001");
  ASSERT_TRUE(key);
  EXPECT_EQ(key->status, "open");
  auto full = engine_->RunFull(kJune1, nullptr);
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(full->opened + full->updated + full->resolved, 0u);
}

TEST_F(EngineTest, TimeRulesFireWhenDueWithoutNewEvidence) {
  Publish(kPolicy);
  const int64_t approved = ParseRfc3339("2026-05-01T00:00:00Z")->unix_nanos;
  Append({Line("approval", "SEC-2:approved", "2026-05-01T00:00:00Z",
               R"(,"correlation_key":"SEC-2","actor":{"id":"sam@example.com"})")});
  auto s = Incremental(approved + kDay);
  EXPECT_EQ(s.opened, 0u);
  s = Incremental(approved + 3 * kDay - 1);
  EXPECT_EQ(s.opened, 0u);
  EXPECT_EQ(s.units, 0u);  // nothing touched, nothing due yet
  s = Incremental(approved + 3 * kDay);
  EXPECT_EQ(s.units, 1u);
  EXPECT_EQ(s.opened, 1u);
  auto f = FindingOf("approval-not-issued", SubjectType::kGrant, "SEC-2");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->as_of_ns, approved + 3 * kDay);
}

TEST_F(EngineTest, ReplaySaysSameOrDifferent) {
  Publish(kPolicy);
  Append({Line("approval", "SEC-3:approved", "2026-05-01T00:00:00Z",
               R"(,"correlation_key":"SEC-3","actor":{"id":"sam@example.com"})")});
  Incremental();
  const std::string id = FindingId("approval-not-issued", SubjectType::kGrant, "SEC-3");
  // Only findings came after the horizon: evaluated on the live store.
  auto r = Replay(ledger_->store(), id, std::nullopt);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->same);
  EXPECT_FALSE(r->scratch);
  EXPECT_TRUE(r->fires);
  EXPECT_EQ(r->policy_version, 1u);
  // Evidence after the horizon (the issuance, late) does not change what the replay says: it
  // sees the ledger as it stood, on a scratch copy.
  Append({Line("provision", "SEC-3:issued", "2026-05-20T00:00:00Z",
               R"(,"correlation_key":"SEC-3","identity":"aws:accesskey:AKIAENGINE000000003")")});
  r = Replay(ledger_->store(), id, std::nullopt);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->same);
  EXPECT_TRUE(r->scratch);
  // "What would the newer policy have said": a 60 day SLA had not run out by 1 June.
  Publish("nhitrace_policy: 1\nid: engine-test\nrules:\n  approval-not-issued: {sla: 60d}\n");
  r = Replay(ledger_->store(), id, 2);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->same);
  EXPECT_FALSE(r->fires);
  ASSERT_EQ(r->differences.size(), 1u);
  EXPECT_EQ(r->differences[0], "recorded as firing, the replay does not fire");
  // A severity change is a difference of the outcome too.
  Publish("nhitrace_policy: 1\nid: engine-test\nrules:\n  approval-not-issued: {severity: high}\n");
  r = Replay(ledger_->store(), id, 3);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->same);
  ASSERT_EQ(r->differences.size(), 1u);
  EXPECT_EQ(r->differences[0], "severity: recorded low, replay high");
  EXPECT_EQ(Replay(ledger_->store(), "Fnosuchfinding000", std::nullopt).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(Replay(ledger_->store(), id, 9).status().code(), StatusCode::kNotFound);
}

TEST_F(EngineTest, ForgedFindingEventsAreNotFindings) {
  Publish(kPolicy);
  Append({Line("approval", "SEC-4:approved", "2026-05-01T00:00:00Z",
               R"(,"correlation_key":"SEC-4","actor":{"id":"sam@example.com"})")});
  Incremental();
  const std::string id = FindingId("approval-not-issued", SubjectType::kGrant, "SEC-4");
  auto row = ledger_->store().GetFinding(id);
  ASSERT_TRUE(row.ok() && *row);
  // A line of kind finding fed through ingest that claims to resolve it: wrong revision (a
  // replay of revision 1), and one with attributes that are not a finding document.
  auto f = FromAttributes((*row)->doc);
  ASSERT_TRUE(f.ok());
  f->status = "resolved";
  std::string replayed = FindingEventLine(*f, kJune1 + 1);
  std::string garbage =
      R"({"v":1,"kind":"finding","source":{"system":"nhitrace","event_id":"x"},"time":"2026-06-01T00:00:00Z","attributes":{"finding_id":")" +
      id + R"("}})";
  Append({replayed, garbage});
  auto after = ledger_->store().GetFinding(id);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(**after, **row);
}

TEST(RuleCatalogTest, EveryRuleHasASchemaAndAMapping) {
  std::set<std::string> rules, schemas;
  for (const ReconcileRule* r : AllRules()) {
    const RuleInfo& i = r->info();
    rules.insert(std::string(i.id));
    EXPECT_GE(i.version, 1u) << i.id;
    EXPECT_FALSE(i.title.empty()) << i.id;
    EXPECT_FALSE(i.nist.empty()) << i.id << ": every rule maps to NIST CSF 2.0";
    for (auto o : i.owasp) EXPECT_EQ(o.substr(0, 3), "NHI") << i.id;
    EXPECT_EQ(FindRule(i.id), r);
  }
  for (const auto& s : policy::RuleSchemas()) schemas.insert(std::string(s.id));
  EXPECT_EQ(rules, schemas);
  EXPECT_EQ(rules.size(), 14u);
  // The mappings validate as a policy would validate an override of them.
  for (const ReconcileRule* r : AllRules()) {
    std::string yaml = "nhitrace_policy: 1\nid: x\nrules:\n  " + std::string(r->info().id) +
                       ":\n    frameworks:\n      nist: [";
    for (size_t i = 0; i < r->info().nist.size(); ++i) {
      yaml += (i ? ", " : "") + std::string(r->info().nist[i]);
    }
    yaml += "]\n      owasp: [";
    for (size_t i = 0; i < r->info().owasp.size(); ++i) {
      yaml += (i ? ", " : "") + std::string(r->info().owasp[i]);
    }
    yaml += "]\n";
    auto p = policy::ParsePolicy(yaml);
    EXPECT_TRUE(p.ok()) << r->info().id << ": " << p.status().ToString();
  }
}

TEST(FindingTest, AttributesRoundTrip) {
  Finding f;
  f.id = FindingId("self-approval", SubjectType::kGrant, "SEC-1");
  f.rule_id = "self-approval";
  f.rule_version = 1;
  f.title = "Requester approved own request";
  f.subject_type = SubjectType::kGrant;
  f.subject = "SEC-1";
  f.status = "updated";
  f.severity = Severity::kCritical;
  f.policy_version = 7;
  f.policy_id = "acme";
  f.policy_hash = "sha256:00";
  f.correlation_key = "SEC-1";
  f.evidence = {3, 9};
  f.evidence_count = 2;
  f.first_seen_ns = 1772323200123456789;
  f.last_seen_ns = 1772323300000000001;
  f.owasp = {"NHI5:2025"};
  f.nist = {"PR.AA-05"};
  f.message = "nora requested SEC-1 and approved it";
  f.horizon = 12;
  f.as_of_ns = 1772409600000000000;
  f.revision = 2;
  auto back = FromAttributes(ToAttributes(f));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(ToAttributes(*back), ToAttributes(f));
  EXPECT_TRUE(SameContent(*back, f));
  EXPECT_EQ(f.id, FindingId("self-approval", SubjectType::kGrant, "SEC-1"));
  EXPECT_NE(f.id, FindingId("self-approval", SubjectType::kIdentity, "SEC-1"));
  EXPECT_EQ(f.id.size(), 17u);
  EXPECT_EQ(FromAttributes("{}").status().code(), StatusCode::kDataLoss);
}

TEST(EvidenceTest, KeepsTheEarliestAndCountsAll) {
  Evidence e;
  for (uint64_t i = 0; i < 200; ++i) e.Add(1000 - i, static_cast<int64_t>(1000 - i));
  e.Add(801, 801);  // again (a kept item): not counted twice
  EXPECT_EQ(e.count(), 200u);
  ASSERT_EQ(e.items().size(), kMaxEvidence);
  EXPECT_EQ(e.items().front().seq, 801u);
  EXPECT_EQ(e.items().back().seq, 850u);
  EXPECT_EQ(e.first_ns(), 801);
  EXPECT_EQ(e.last_ns(), 1000);
}

// Every chain of the trace scenarios reads back from its stored row to the same document.
TEST(ChainRowTest, StoredChainsReadBackExactly) {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(NHITRACE_SOURCE_DIR) / "tests/scenarios/trace";
  size_t chains = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".jsonl") continue;
    testing::LedgerFixture f;
    f.set_durable(false);
    ASSERT_TRUE(f.Init().ok());
    auto l = f.Open();
    ASSERT_TRUE(l.ok());
    correlate::DerivedState derived((*l)->store());
    (*l)->AddObserver(&derived);
    std::ifstream in(entry.path());
    std::string line;
    auto batch = (*l)->BeginBatch();
    ASSERT_TRUE(batch.ok());
    while (std::getline(in, line)) {
      if (!line.empty()) {
        ASSERT_TRUE((*batch)->Append(testing::Record(line), line).ok());
      }
    }
    ASSERT_TRUE((*batch)->Commit().ok());
    ASSERT_TRUE((*l)->store()
                    .ScanGrants([&](const store::GrantRow& row) -> Status {
                      auto c = internal::ChainFromRow(row);
                      EXPECT_TRUE(c.ok()) << c.status().ToString();
                      if (c.ok()) {
                        EXPECT_EQ(correlate::ChainToJson(*c), row.doc)
                            << entry.path().filename() << " " << row.correlation_key;
                        EXPECT_EQ(c->start_ns, row.start_ns);
                        EXPECT_EQ(c->end_ns, row.end_ns);
                      }
                      ++chains;
                      return OkStatus();
                    })
                    .ok());
  }
  EXPECT_GE(chains, 30u);
}

}  // namespace
}  // namespace nhitrace::reconcile
