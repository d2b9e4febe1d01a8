// Policy documents: parsing and validation (data-driven over tests/policy/documents/), durations,
// hashes, and publishing / loading / listing / diffing versions in a ledger.
#include "policy/policy.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "base/encoding.h"
#include "crypto/sha256.h"
#include "event/codec.h"
#include "policy/duration.h"
#include "policy/policy_index.h"
#include "testing/ledger_fixture.h"

namespace nhitrace::policy {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

fs::path DocumentsDir() { return fs::path(NHITRACE_SOURCE_DIR) / "tests/policy/documents"; }
std::string ExamplePolicy() {
  return ReadFile(fs::path(NHITRACE_SOURCE_DIR) / "examples/policy.yaml");
}

// ---- Data-driven: every tests/policy/documents/*.yaml starts with "# expect: <what>", where
// <what> is "valid" or text the error message must contain (and start with, when it names the
// position as "policy:LINE:COL:").

class DocumentTest : public ::testing::TestWithParam<std::string> {};

TEST_P(DocumentTest, ParsesOrFailsAsExpected) {
  std::string text = ReadFile(DocumentsDir() / GetParam());
  ASSERT_EQ(text.rfind("# expect: ", 0), 0u) << GetParam() << " has no '# expect:' first line";
  std::string expect = text.substr(10, text.find('\n') - 10);
  auto p = ParsePolicy(text, "policy");
  if (expect == "valid") {
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return;
  }
  ASSERT_FALSE(p.ok()) << GetParam() << " parsed but should fail with: " << expect;
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  const std::string m = p.status().message();
  if (expect.rfind("policy:", 0) == 0) {
    EXPECT_EQ(m.rfind(expect, 0), 0u) << "got:  " << m << "\nwant: " << expect << "...";
  } else {
    EXPECT_NE(m.find(expect), std::string::npos) << "got:  " << m << "\nwant: ..." << expect;
  }
}

std::vector<std::string> DocumentNames() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(DocumentsDir())) {
    if (e.path().extension() == ".yaml") names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

INSTANTIATE_TEST_SUITE_P(Documents, DocumentTest, ::testing::ValuesIn(DocumentNames()),
                         [](const auto& param_info) {
                           std::string n = param_info.param.substr(0, param_info.param.size() - 5);
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

// ---- Durations.

TEST(DurationTest, ParsesAndFormats) {
  struct Case {
    const char* text;
    int64_t ns;
  } cases[] = {{"0s", 0},
               {"1s", 1'000'000'000},
               {"90d", 90LL * 86400 * 1'000'000'000},
               {"72h", 72LL * 3600 * 1'000'000'000},
               {"1h30m", 5400LL * 1'000'000'000},
               {"2w3d", 17LL * 86400 * 1'000'000'000},
               {"1d1h1m1s", 90061LL * 1'000'000'000}};
  for (const auto& c : cases) {
    auto d = ParseDuration(c.text);
    ASSERT_TRUE(d.ok()) << c.text << ": " << d.status().ToString();
    EXPECT_EQ(*d, c.ns) << c.text;
    auto back = ParseDuration(FormatDuration(c.ns));
    ASSERT_TRUE(back.ok()) << FormatDuration(c.ns);
    EXPECT_EQ(*back, c.ns);
  }
  EXPECT_EQ(FormatDuration(90LL * 86400 * 1'000'000'000), "90d");
  EXPECT_EQ(FormatDuration(14LL * 86400 * 1'000'000'000 + 1'000'000'000), "14d1s");
  EXPECT_EQ(FormatDuration(1'500'000'000), "1.5s");
  for (const char* bad : {"", "72", "h", "1x", "-1d", "1.5h", "30m1h", "1h1h", "1 h", "5000000w"}) {
    EXPECT_FALSE(ParseDuration(bad).ok()) << bad;
  }
}

// ---- Parsing the example and the defaults.

TEST(PolicyParseTest, ExampleHasEveryPartTyped) {
  std::string yaml = ExamplePolicy();
  auto p = ParsePolicy(yaml, "examples/policy.yaml");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->id, "acme-nhi-access");
  EXPECT_EQ(p->hash, "sha256:" + HexEncode(crypto::AsBytes(crypto::Sha256(yaml))));
  EXPECT_EQ(p->document, yaml);
  EXPECT_EQ(p->version, 0u);  // parsed, not published
  EXPECT_EQ(p->Rule("approval-not-issued").Duration("sla"), 72LL * 3600 * 1'000'000'000);
  EXPECT_EQ(p->Rule("approval-not-issued").severity, Severity::kLow);
  EXPECT_EQ(p->Rule("issuance-without-approval").exclude_identities,
            std::vector<std::string>{"aws:accesskey:ASIA*"});
  EXPECT_EQ(p->Rule("identity-unowned").Choice("require"), "owner_or_sponsor");
  EXPECT_EQ(p->Rule("override-creep").Integer("threshold"), 3);
  EXPECT_EQ(p->Rule("override-creep").nist, (std::vector<std::string>{"PR.AA-05", "ID.RA-07"}));
  EXPECT_FALSE(p->Rule("revocation-unconfirmed").Bool("include_expiry"));
  EXPECT_EQ(p->authoritative.approval, (std::vector<std::string>{"jira", "servicenow"}));
  EXPECT_TRUE(Authoritative::Counts(p->authoritative.issuance, "vault-audit"));
  EXPECT_FALSE(Authoritative::Counts(p->authoritative.issuance, "jira"));
  EXPECT_EQ(p->approvals.RolesOf("grace.kim@example.com"),
            std::vector<std::string>{"control-owner"});
  ASSERT_EQ(p->approvals.may_approve.size(), 2u);
  EXPECT_EQ(p->approvals.may_approve[1].permissions,
            (std::vector<std::string>{"s3:Get*", "s3:List*"}));
  EXPECT_TRUE(p->approvals.segregation_of_duties);
  EXPECT_TRUE(p->approvals.override_requires_control_owner);
  ASSERT_EQ(p->escalation.paths.at("security").size(), 2u);
  EXPECT_EQ(p->escalation.paths.at("security")[1].after_ns, 86400LL * 1'000'000'000);
  EXPECT_EQ(p->escalation.findings.at(Severity::kCritical), "security");
  EXPECT_EQ(p->escalation.findings.count(Severity::kLow), 0u);
  // The cases section travels as canonical JSON, typed as YAML 1.2 core resolves it.
  EXPECT_EQ(p->cases_json,
            R"({"exception":{"escalation":"routine","sla":{"resolve":"5d","respond":"1d"}},)"
            R"("finding":{"escalation":"security","sla":{"resolve":"3d","respond":"4h"}}})");
  EXPECT_NE(p->escalation_json.find(R"("findings":{"critical":"security")"), std::string::npos);
}

TEST(PolicyParseTest, UnlistedRulesRunWithDefaults) {
  auto p = ParsePolicy("nhitrace_policy: 1\nid: minimal\n");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_EQ(p->rules.size(), RuleSchemas().size());
  for (const RuleSchema& s : RuleSchemas()) {
    const RuleSettings& r = p->Rule(s.id);
    EXPECT_TRUE(r.enabled) << s.id;
    EXPECT_FALSE(r.severity) << s.id;
    EXPECT_EQ(r.params.size(), s.params.size()) << s.id;
  }
  EXPECT_EQ(p->Rule("identity-dormant").Duration("period"), 90LL * 86400 * 1'000'000'000);
  EXPECT_EQ(p->Rule("revocation-unconfirmed").Duration("confirm_within"),
            24LL * 3600 * 1'000'000'000);
  EXPECT_FALSE(p->Rule("no-such-rule").enabled);
  EXPECT_EQ(p->cases_json, "{}");
  EXPECT_EQ(p->escalation_json, "{}");
  EXPECT_FALSE(p->approvals.override_requires_control_owner);
}

TEST(PolicyParseTest, CanonicalHashIgnoresLayoutAndComments) {
  auto a = ParsePolicy("nhitrace_policy: 1\nid: acme\nrules:\n  self-approval: {severity: low}\n");
  auto b = ParsePolicy(
      "# the same policy\nid: acme   # reordered\nnhitrace_policy: 1\nrules:\n  self-approval:\n"
      "    severity: \"low\"\n");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->hash, b->hash);
  EXPECT_EQ(a->canonical_json, b->canonical_json);
  EXPECT_EQ(a->canonical_hash, b->canonical_hash);
  EXPECT_TRUE(DiffPolicies(*a, *b).empty());
}

TEST(PolicyParseTest, CasesValidatorErrorsGetThePositionOfTheirPath) {
  ParseOptions opts;
  std::string seen;
  opts.validate_cases = [&](std::string_view json) {
    seen = std::string(json);
    return InvalidArgumentError("cases.finding.sla.resolve: must be longer than respond");
  };
  auto p = ParsePolicy(ExamplePolicy(), "p.yaml", opts);
  ASSERT_FALSE(p.ok());
  // The position of `3d` in `sla: {respond: 4h, resolve: 3d}` of cases.finding.
  std::string text = ExamplePolicy();
  size_t at = text.find("3d}", text.find("sla: {respond: 4h, resolve: 3d}"));
  int line = 1 + static_cast<int>(std::count(text.begin(), text.begin() + at, '\n'));
  size_t column = at - text.rfind('\n', at);
  EXPECT_EQ(p.status().message(), "p.yaml:" + std::to_string(line) + ":" + std::to_string(column) +
                                      ": cases.finding.sla.resolve: must be longer than respond");
  EXPECT_NE(seen.find("\"finding\""), std::string::npos);
  // A path that does not exist gets the position of its nearest ancestor.
  opts.validate_cases = [](std::string_view) {
    return InvalidArgumentError("cases.incident: required");
  };
  p = ParsePolicy(ExamplePolicy(), "p.yaml", opts);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find(": cases.incident: required"), std::string::npos);
}

TEST(PolicyParseTest, RejectsOversizedAndBinaryDocuments) {
  std::string big = "nhitrace_policy: 1\nid: acme\ntitle: " + std::string(kMaxDocumentBytes, 'x');
  auto p = ParsePolicy(big);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("more than the limit"), std::string::npos);
  p = ParsePolicy("nhitrace_policy: 1\nid: ac\xffme\n");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().message(), "policy:2:7: invalid UTF-8 at byte 25");
  p = ParsePolicy("nhitrace_policy: 1\nid: \"a\\ud800b\"\n");  // an escaped lone surrogate
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().message(), "policy:2:13: YAML syntax: invalid unicode: 55296");
  // Deep nesting is refused before it can exhaust anything.
  std::string deep = "nhitrace_policy: 1\nid: acme\ncases: " + std::string(200, '[') +
                     std::string(200, ']') + "\n";
  p = ParsePolicy(deep);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("nested deeper than"), std::string::npos);
}

// ---- Publishing, loading, listing, diffing.

class PolicyLedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(f_.Init().ok());
    auto l = f_.Open();
    ASSERT_TRUE(l.ok()) << l.status().ToString();
    ledger_ = std::move(l).value();
    index_ = std::make_unique<PolicyIndex>(ledger_->store());
    ledger_->AddObserver(index_.get());
  }

  Result<PublishResult> Publish(const std::string& yaml, const std::string& note = "") {
    PublishOptions o;
    o.source_name = "test.yaml";
    o.published_by = "alice@example.com";
    o.note = note;
    return PublishPolicy(*ledger_, yaml, o);
  }

  testing::LedgerFixture f_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<PolicyIndex> index_;
};

const char kV1[] = "nhitrace_policy: 1\nid: acme\nrules:\n  identity-dormant: {period: 90d}\n";
const char kV2[] =
    "nhitrace_policy: 1\nid: acme\nrules:\n  identity-dormant: {period: 60d}\n"
    "  self-approval: {severity: critical}\nauthoritative:\n  approval: [jira]\n";

TEST_F(PolicyLedgerTest, PublishGivesConsecutiveVersionsAndLoadsThemBack) {
  auto r1 = Publish(kV1, "initial");
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  EXPECT_FALSE(r1->unchanged);
  EXPECT_EQ(r1->info.version, 1u);
  EXPECT_EQ(r1->info.published_by, "alice@example.com");
  EXPECT_EQ(r1->info.note, "initial");
  f_.clock().Advance(3600'000'000'000);
  auto r2 = Publish(kV2);
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  EXPECT_EQ(r2->info.version, 2u);
  EXPECT_EQ(ledger_->size(), 2u);

  // The event: kind policy, the document as its raw record, {id, version, hash} as its policy.
  auto row = ledger_->store().GetEvent(r2->info.seq);
  ASSERT_TRUE(row.ok() && *row);
  EXPECT_EQ((*row)->kind, "policy");
  auto leaf = event::DecodeLeaf((*row)->leaf);
  ASSERT_TRUE(leaf.ok());
  ASSERT_TRUE(leaf->event.policy);
  EXPECT_EQ(leaf->event.policy->version, "2");
  EXPECT_EQ(leaf->event.policy->id, "acme");
  EXPECT_EQ(leaf->event.policy->hash, "sha256:" + HexEncode(crypto::AsBytes(crypto::Sha256(kV2))));
  auto raw = ledger_->store().GetRawForEvent(r2->info.seq);
  ASSERT_TRUE(raw.ok() && *raw);
  EXPECT_EQ((*raw)->bytes, kV2);

  auto latest = LoadPolicy(ledger_->store(), std::nullopt);
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  EXPECT_EQ(latest->version, 2u);
  EXPECT_EQ(latest->Rule("identity-dormant").Duration("period"), 60LL * 86400 * 1'000'000'000);
  EXPECT_EQ(latest->Ref().version, "2");
  EXPECT_EQ(latest->published_ns, testing::kTestEpochNs + 3600'000'000'000);
  auto v1 = LoadPolicy(ledger_->store(), 1);
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(v1->document, kV1);
  auto missing = LoadPolicy(ledger_->store(), 3);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "no policy version 3 (the latest is 2)");

  auto list = ListPolicies(ledger_->store());
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].version, 1u);
  EXPECT_EQ((*list)[1].canonical_hash, latest->canonical_hash);

  auto diff = DiffPolicies(*v1, *latest);
  ASSERT_EQ(diff.size(), 3u);
  EXPECT_EQ(diff[0].op, '+');
  EXPECT_EQ(diff[0].path, "authoritative");
  EXPECT_EQ(diff[0].after, R"({"approval":["jira"]})");
  EXPECT_EQ(diff[1].op, '~');
  EXPECT_EQ(diff[1].path, "rules.identity-dormant.period");
  EXPECT_EQ(diff[1].before, "\"90d\"");
  EXPECT_EQ(diff[1].after, "\"60d\"");
  EXPECT_EQ(diff[2].op, '+');
  EXPECT_EQ(diff[2].path, "rules.self-approval");
}

TEST_F(PolicyLedgerTest, IdenticalDocumentIsNotPublishedAgain) {
  ASSERT_TRUE(Publish(kV1).ok());
  auto again = Publish(kV1);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->unchanged);
  EXPECT_EQ(again->info.version, 1u);
  EXPECT_EQ(ledger_->size(), 1u);
  // A comment makes it a different document, hence a new version.
  auto commented = Publish(std::string(kV1) + "# reviewed\n");
  ASSERT_TRUE(commented.ok());
  EXPECT_EQ(commented->info.version, 2u);
}

TEST_F(PolicyLedgerTest, InvalidDocumentChangesNothing) {
  ASSERT_TRUE(Publish(kV1).ok());
  auto cp = ledger_->LatestCheckpoint();
  ASSERT_TRUE(cp.ok());
  auto bad = Publish("nhitrace_policy: 1\nid: acme\nrules:\n  identity-dormant: {period: soon}\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().rfind("test.yaml:4:30: rules.identity-dormant.period:", 0), 0u)
      << bad.status().message();
  EXPECT_EQ(ledger_->size(), 1u);
  auto cp2 = ledger_->LatestCheckpoint();
  ASSERT_TRUE(cp2.ok());
  EXPECT_EQ(cp2->size, cp->size);
  auto list = ListPolicies(ledger_->store());
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 1u);
  PublishOptions anonymous;
  EXPECT_EQ(PublishPolicy(*ledger_, kV2, anonymous).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(PolicyLedgerTest, ForgedPolicyEventIsNotAVersion) {
  ASSERT_TRUE(Publish(kV1).ok());
  // A line of kind "policy" fed through ingest: its raw record is the line, not a document
  // with the hash it names, so it is kept but is no version.
  std::string line =
      R"({"v":1,"kind":"policy","source":{"system":"nhitrace","event_id":"policy/2"},)"
      R"("time":"2026-03-01T01:00:00Z","policy":{"id":"acme","version":"2","hash":"sha256:)" +
      std::string(64, '0') + R"("}})";
  auto batch = ledger_->BeginBatch();
  ASSERT_TRUE(batch.ok());
  auto o = (*batch)->Append(testing::Record(line), line);
  ASSERT_TRUE(o.ok());
  ASSERT_TRUE((*batch)->Commit().ok());
  batch->reset();
  auto list = ListPolicies(ledger_->store());
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 1u);
  auto next = Publish(kV2);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->info.version, 2u);
}

TEST_F(PolicyLedgerTest, TamperedDocumentIsDataLoss) {
  auto r = Publish(kV1);
  ASSERT_TRUE(r.ok());
  ledger_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(f_.store_path().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "UPDATE raw_records SET bytes = CAST('nhitrace_policy: 1\nid: evil\n' "
                         "AS BLOB)",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto l = f_.Open();
  ASSERT_TRUE(l.ok());
  auto p = LoadPolicy((*l)->store(), 1);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(p.status().message().find("does not match its hash"), std::string::npos);
}

TEST_F(PolicyLedgerTest, FoldRebuildsTheTable) {
  ASSERT_TRUE(Publish(kV1).ok());
  ASSERT_TRUE(Publish(kV2).ok());
  store::Store& store = ledger_->store();
  auto before = store.ListPolicies();
  ASSERT_TRUE(before.ok());
  auto txn = store.BeginWrite();
  ASSERT_TRUE(txn.ok());
  ASSERT_TRUE((*txn)->ClearReconcile().ok());
  ASSERT_TRUE(store
                  .ScanEvents(0,
                              [&](const store::EventRow& row) -> Status {
                                NHI_ASSIGN_OR_RETURN(auto leaf, event::DecodeLeaf(row.leaf));
                                return PolicyIndex::Fold(store, **txn, row.seq, leaf.event);
                              })
                  .ok());
  ASSERT_TRUE((*txn)->Commit().ok());
  auto after = store.ListPolicies();
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*before, *after);
}

}  // namespace
}  // namespace nhitrace::policy
