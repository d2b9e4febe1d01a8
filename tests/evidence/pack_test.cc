// Evidence packs: export, offline verification, and that tampering with any byte of any part is
// detected and named by its line, part and item.
#include <filesystem>
#include <map>

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "cases/explain.h"
#include "correlate/trace.h"
#include "correlate/trace_text.h"
#include "evidence/evidence_fixture.h"
#include "evidence/export.h"
#include "evidence/pack_format.h"
#include "evidence/verify_pack.h"
#include "json/canonical.h"
#include "ledger/erasure.h"
#include "reconcile/finding.h"

namespace nhitrace::evidence {
namespace {

using testing::EvidenceLedger;
using testing::Problems;

constexpr char kKey[] = "aws:accesskey:AKIAQ3EGUXPL7EXAMPLE";

// The example ledger plus the policy it names, ingested three lines per batch (so there are
// several checkpoints), then an unrelated identity's events after it.
// The pack's last line, its summary, parsed.
Result<SummaryLine> LastSummary(const std::string& pack) {
  std::string last = pack.substr(pack.rfind('\n', pack.size() - 2) + 1);
  last.pop_back();
  LineParser parser;
  NHI_ASSIGN_OR_RETURN(PackLine line, parser.Parse(last));
  if (!std::holds_alternative<SummaryLine>(line)) return InvalidArgumentError("not a summary");
  return std::get<SummaryLine>(std::move(line));
}

class PackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<std::string> lines = testing::ExampleLines();
    ASSERT_EQ(lines.size(), 10u);
    lines.insert(lines.begin(), testing::kExamplePolicyLine);
    l_.Ingest(lines, 3);
    l_.Ingest({testing::ActionLine(1, "k8s:sa:payments/other"),
               testing::ActionLine(2, "k8s:sa:payments/other")});
  }

  std::string MustExport(const PackQuery& q, ExportStats* st = nullptr) {
    auto p = l_.Export(q, st);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() ? *p : "";
  }

  // A case about kKey: opened by alice linking the key, event 8 (the GuardDuty signal) and a
  // finding (recorded as the reconcile module records one, naming events 4 and 6 as evidence),
  // assigned, decided by carol relying on event 5, verified with event 10 as evidence; all
  // under the example's policy version. Returns the case id.
  uint64_t MakeCase() {
    reconcile::Finding f;
    f.rule_id = "action-after-revocation";
    f.rule_version = 1;
    f.subject = kKey;
    f.id = reconcile::FindingId(f.rule_id, f.subject_type, f.subject);
    f.title = "Action after revocation";
    f.status = "open";
    f.severity = reconcile::Severity::kHigh;
    f.policy_id = "nhi-access";
    f.policy_version = 7;
    f.policy_hash = "sha256:4f1c9a0e";
    f.identity = kKey;
    f.evidence = {4, 6};
    f.evidence_count = 2;
    f.first_seen_ns = 1772800000000000000;
    f.last_seen_ns = 1773000000000000000;
    f.message = "used after revocation";
    f.horizon = 12;
    f.as_of_ns = 1773100000000000000;
    f.revision = 1;
    finding_id_ = f.id;
    l_.Ingest({reconcile::FindingEventLine(f, 1773100000000000000)});
    cases::PolicyContext policy;
    policy.ref = event::PolicyRef{"nhi-access", "7", "sha256:4f1c9a0e"};
    uint64_t id = 0;
    l_.CaseOps(
        [&](cases::CaseSession& s) {
          cases::OpenArgs o;
          o.kind = cases::CaseKind::kIncident;
          o.severity = cases::Severity::kHigh;
          o.title = "Key used from an unusual network";
          o.links.identities = {kKey};
          o.links.events = {8};
          o.links.findings = {f.id};
          auto r = s.Open(o, {"alice@example.com"});
          ASSERT_TRUE(r.ok()) << r.status().ToString();
          id = r->case_id;
          ASSERT_TRUE(s.Assign(id, "bob@example.com", {"alice@example.com"}, "on call").ok());
          cases::DecideArgs d;
          d.outcome = cases::Outcome::kRevoke;
          d.rationale = "Used from an unusual network; revoke the key";
          d.signal_events = {5};
          auto dr = s.Decide(id, d, {"carol@example.com"});
          ASSERT_TRUE(dr.ok()) << dr.status().ToString();
          auto v = s.Verify(id, "passed", "no use after revocation", {10}, {"bob@example.com"});
          ASSERT_TRUE(v.ok()) << v.status().ToString();
        },
        policy);
    return id;
  }

  EvidenceLedger l_;
  std::string finding_id_;
};

TEST_F(PackTest, IdentityPackVerifiesAndCarriesTheStoresTrace) {
  ExportStats st;
  std::string pack = MustExport(PackQuery::ForIdentity(kKey), &st);
  EXPECT_EQ(st.events, 11u);  // the 10 events of the example and the policy
  EXPECT_EQ(st.raw_kept, 11u);
  EXPECT_EQ(st.policies, 1u);
  EXPECT_EQ(st.latest_size, 13u);
  EXPECT_EQ(st.checkpoint_size, 11u);  // the first checkpoint covering seq 10
  EXPECT_EQ(st.bytes, pack.size());

  PackReport r = l_.Verify(pack);
  EXPECT_TRUE(r.ok()) << Problems(r);
  EXPECT_TRUE(r.summary_checked);
  EXPECT_EQ(r.summary_type, "trace");
  EXPECT_EQ(r.query.identity, kKey);
  EXPECT_EQ(r.events, 11u);
  EXPECT_EQ(r.raw_checked, 11u);
  EXPECT_EQ(r.policies, 1u);
  EXPECT_EQ(r.checkpoint_size, 11u);
  EXPECT_EQ(r.latest_size, 13u);
  EXPECT_EQ(r.key, l_.ledger().verifier().ToString());
  EXPECT_FALSE(r.key_trusted);

  // The summary is the store's own trace, text and JSON.
  auto trace = correlate::BuildTrace(l_.store(), correlate::TraceQuery{"", kKey, std::nullopt});
  ASSERT_TRUE(trace.ok());
  Result<SummaryLine> parsed = LastSummary(pack);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  const SummaryLine& summary = *parsed;
  EXPECT_EQ(summary.text, correlate::TraceToText(*trace));
  EXPECT_EQ(summary.json, *json::Canonicalize(correlate::TraceToJson(*trace)));
  EXPECT_NE(summary.text.find("REQUEST SEC-4711"), std::string::npos);
}

TEST_F(PackTest, RequestAndWindowPacksVerify) {
  ExportStats st;
  std::string request = MustExport(PackQuery::ForRequest("SEC-4711"), &st);
  PackReport r = l_.Verify(request);
  EXPECT_TRUE(r.ok()) << Problems(r);
  EXPECT_EQ(r.query.request, "SEC-4711");
  EXPECT_EQ(st.events, 11u);

  // 2026-03-02: the request, its approval and provision, and the first action.
  std::string window =
      MustExport(PackQuery::ForWindow("2026-03-02T00:00:00Z", "2026-03-03T00:00:00+00:00"), &st);
  r = l_.Verify(window);
  EXPECT_TRUE(r.ok()) << Problems(r);
  EXPECT_EQ(r.summary_type, "listing");
  EXPECT_EQ(st.events, 5u);  // four in the window, and the policy the approval names
  EXPECT_EQ(st.policies, 1u);
  EXPECT_NE(window.find(R"("json":{"count":4,)"), std::string::npos);
  EXPECT_NE(window.find("4 events (by authoritative time, then seq)"), std::string::npos);
}

TEST_F(PackTest, TrustedKeyMustBeThePacksKey) {
  std::string pack = MustExport(PackQuery::ForIdentity(kKey));
  VerifyPackOptions opts;
  opts.trusted_key = l_.ledger().verifier();
  PackReport r = l_.Verify(pack, opts);
  EXPECT_TRUE(r.ok()) << Problems(r);
  EXPECT_TRUE(r.key_trusted);

  // Another ledger's key: the pack's key is not it, and no signature verifies with it.
  EvidenceLedger other;
  opts.trusted_key = other.ledger().verifier();
  r = l_.Verify(pack, opts);
  ASSERT_FALSE(r.ok());
  ASSERT_GE(r.problems.size(), 2u) << Problems(r);
  EXPECT_EQ(r.problems[0].part, "key");
  EXPECT_EQ(r.problems[0].line, 2u);
  EXPECT_EQ(r.problems[1].part, "checkpoint");
  EXPECT_FALSE(r.summary_checked);
}

TEST_F(PackTest, ExportRefusesWhatItCannotProve) {
  EXPECT_EQ(l_.Export(PackQuery::ForIdentity("aws:accesskey:NOPE")).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(l_.Export(PackQuery::ForRequest("SEC-0")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(l_.Export(PackQuery::ForWindow("2020-01-01T00:00:00Z", "2020-02-01T00:00:00Z"))
                .status()
                .code(),
            StatusCode::kNotFound);
  EXPECT_EQ(l_.Export(PackQuery()).status().code(), StatusCode::kInvalidArgument);
  PackQuery both = PackQuery::ForIdentity(kKey);
  both.request = "SEC-4711";
  EXPECT_EQ(l_.Export(both).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(l_.Export(PackQuery::ForWindow("2020-01-01", "2020-02-01T00:00:00Z")).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(l_.Export(PackQuery::ForWindow("2020-02-01T00:00:00Z", "2020-01-01T00:00:00Z"))
                .status()
                .code(),
            StatusCode::kInvalidArgument);
}

TEST_F(PackTest, ExportToFileIsPrivateAndNeverReplacesAFile) {
  std::string path = l_.fixture().dir().File("out.pack");
  auto st = ExportPackToFile(l_.store(), PackQuery::ForIdentity(kKey), {}, path);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  struct stat info;
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_EQ(static_cast<uint64_t>(info.st_size), st->bytes);
  EXPECT_TRUE(l_.Verify(testing::ReadFile(path)).ok());

  auto again = ExportPackToFile(l_.store(), PackQuery::ForIdentity(kKey), {}, path);
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  // A failed export leaves nothing behind.
  auto none = ExportPackToFile(l_.store(), PackQuery::ForIdentity("nobody"), {},
                               l_.fixture().dir().File("none.pack"));
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(l_.fixture().dir().path())) {
    files += e.path().filename().string().find(".pack") != std::string::npos;
  }
  EXPECT_EQ(files, 1u);
}

TEST_F(PackTest, ExportRefusesATamperedStore) {
  // A raw record altered behind the ledger's back: the pack would not verify, so there is none.
  std::string path = l_.fixture().store_path();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE raw_records SET bytes = CAST('{}' AS BLOB) WHERE id = 4",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto p = l_.Export(PackQuery::ForIdentity(kKey));
  ASSERT_EQ(p.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(p.status().message().find("seq 4"), std::string::npos) << p.status().message();
}

// Splits a pack into its lines (with their "\n") and says where each starts.
struct Layout {
  std::vector<std::string> parts;  // part name per line
  std::vector<std::string> items;  // "seq N" for events, "" otherwise
  std::vector<size_t> start;
};

Layout LayoutOf(const std::string& pack) {
  Layout lay;
  LineParser parser;
  size_t pos = 0;
  while (pos < pack.size()) {
    size_t nl = pack.find('\n', pos);
    auto line = parser.Parse(std::string_view(pack).substr(pos, nl - pos));
    EXPECT_TRUE(line.ok());
    lay.parts.push_back(kPartNames[line->index()]);
    lay.items.push_back(std::holds_alternative<EventLine>(*line)
                            ? "seq " + std::to_string(std::get<EventLine>(*line).seq)
                            : "");
    lay.start.push_back(pos);
    pos = nl + 1;
  }
  return lay;
}

// Every byte of every part of `pack`, flipped, is detected and named: a problem on that line,
// of that part (and for an event, naming its seq, unless the line no longer parses). A newline
// that is flipped merges two lines, which the first of them reports. The summary is recomputed
// for every flip that leaves the events intact, so its JSON and text bytes are sampled, 1 in 40,
// rather than all flipped (its short members, type and query, are flipped in full). `stride`
// samples the rest: every stride-th byte (1: all).
void ExpectEveryFlipDetectedAndNamed(EvidenceLedger& l, const std::string& pack, size_t stride) {
  ASSERT_TRUE(l.Verify(pack).ok());
  Layout lay = LayoutOf(pack);
  const size_t summary_start = lay.start.back();
  const size_t json_start = pack.find(R"({"json":)", summary_start) + 8;
  const size_t text_start = pack.find(R"(,"text":")", summary_start);
  std::map<std::string, size_t> flips;
  for (size_t i = 0; i < pack.size(); i += stride) {
    // Sample the summary's JSON and text: 1 byte in 40.
    bool big =
        i > json_start && (i < text_start - 10 || i > text_start + 10) && i + 20 < pack.size();
    if (i >= summary_start && big && i % 40 != 0) continue;
    size_t line = std::upper_bound(lay.start.begin(), lay.start.end(), i) - lay.start.begin();
    std::string tampered = pack;
    tampered[i] = static_cast<char>(tampered[i] ^ 0x01);
    PackReport r = l.Verify(tampered);
    ASSERT_FALSE(r.ok()) << "byte " << i << " of line " << line << " (" << lay.parts[line - 1]
                         << ") flipped undetected";
    ++flips[lay.parts[line - 1]];
    if (i + 1 == pack.size()) {
      EXPECT_EQ(r.problems.front().part, "pack") << Problems(r);
      continue;
    }
    bool named = false;
    for (const auto& p : r.problems) {
      bool same_part = p.part == lay.parts[line - 1] ||
                       (pack[i] == '\n' && p.line == line) ||  // merged with the next line
                       (lay.parts[line - 1] == "header" && p.part == "pack");
      // A flipped sequence number renames the item; the line still names it.
      bool same_item = lay.items[line - 1].empty() || p.item.empty() ||
                       p.item == lay.items[line - 1] ||
                       p.what.find(lay.items[line - 1]) != std::string::npos;
      named = named || (p.line == line && same_part && same_item) ||
              (p.line == 0 && same_part && same_item && lay.parts[line - 1] == "policy");
    }
    EXPECT_TRUE(named) << "byte " << i << " of line " << line << " (" << lay.parts[line - 1] << " "
                       << lay.items[line - 1] << ") flipped; problems:\n"
                       << Problems(r);
    if (!named) break;
  }
  for (const char* part : kPartNames) EXPECT_GT(flips[part], 0u) << part;
}

TEST_F(PackTest, EveryFlippedByteIsDetectedAndNamed) {
  // Erase one raw record first, so that the pack also has an erasure.
  ASSERT_TRUE(ledger::EraseRawRecord(l_.ledger(), {6, "DSR-1 (test)", "dpo@example.com"}).ok());
  std::string pack = MustExport(PackQuery::ForIdentity(kKey));
  ASSERT_NE(pack.find(R"("erased_by":)"), std::string::npos);
#ifdef NDEBUG
  ExpectEveryFlipDetectedAndNamed(l_, pack, 1);
#else
  ExpectEveryFlipDetectedAndNamed(l_, pack, 5);  // sanitizer builds: a fifth of the bytes
#endif
}

// The same for a case pack (format version 2), with an erased raw record among the events the
// case refers to. Its verification is cheaper (no scratch store) but the pack is longer, so only
// every 3rd byte is flipped (every 31st under the sanitizers); the helper still requires flips
// in every part.
TEST_F(PackTest, EveryFlippedByteOfACasePackIsDetectedAndNamed) {
  uint64_t id = MakeCase();
  ASSERT_TRUE(ledger::EraseRawRecord(l_.ledger(), {6, "DSR-1 (test)", "dpo@example.com"}).ok());
  std::string pack = MustExport(PackQuery::ForCase(id));
  ASSERT_NE(pack.find(R"("erased_by":)"), std::string::npos);
  ASSERT_EQ(pack.rfind(R"({"events":)", 0), 0u);
  ASSERT_NE(pack.find(R"("version":2})"), std::string::npos);
#ifdef NDEBUG
  ExpectEveryFlipDetectedAndNamed(l_, pack, 3);
#else
  ExpectEveryFlipDetectedAndNamed(l_, pack, 31);
#endif
}

TEST_F(PackTest, CasePackVerifiesAndCarriesTheStoresExplanation) {
  uint64_t id = MakeCase();
  ExportStats st;
  std::string pack = MustExport(PackQuery::ForCase(id), &st);
  // The case's 4 events; events 8, 5 and 10 it refers to; the finding's event and its evidence
  // 4 and 6; the policy event its decisions (and the finding) name.
  EXPECT_EQ(st.events, 11u);
  EXPECT_EQ(st.policies, 1u);
  EXPECT_EQ(pack.rfind(R"({"events":11,"format":"nhitrace-evidence-pack","version":2})", 0), 0u);

  PackReport r = l_.Verify(pack);
  EXPECT_TRUE(r.ok()) << Problems(r);
  EXPECT_TRUE(r.summary_checked);
  EXPECT_EQ(r.version, 2);
  EXPECT_EQ(r.summary_type, "case");
  EXPECT_EQ(r.query.case_id, id);

  // The summary is `case explain` of the store, as of the pack's checkpoint.
  auto x = cases::ExplainCase(l_.store(), id);
  ASSERT_TRUE(x.ok()) << x.status().ToString();
  EXPECT_TRUE(x->view_consistent);
  x->ledger_size = r.checkpoint_size;
  Result<SummaryLine> parsed = LastSummary(pack);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  const SummaryLine& summary = *parsed;
  EXPECT_EQ(summary.text, cases::ExplanationToText(*x));
  EXPECT_EQ(summary.json, *json::Canonicalize(cases::ExplanationToJson(*x)));
  EXPECT_NE(summary.text.find("decided revoke"), std::string::npos) << summary.text;

  // Identity, request and window packs stay version 1.
  std::string identity = MustExport(PackQuery::ForIdentity(kKey));
  EXPECT_EQ(identity.substr(identity.find('\n') - 12, 12), R"("version":1})");
  EXPECT_EQ(l_.Export(PackQuery::ForCase(id + 1)).status().code(), StatusCode::kNotFound);
}

TEST_F(PackTest, ACasePackMissingAnEventItNeedsIsRefused) {
  uint64_t id = MakeCase();
  std::string pack = MustExport(PackQuery::ForCase(id));
  Layout lay = LayoutOf(pack);
  // Each event line dropped in turn (the header's count adjusted): every one is needed, by the
  // fold (the case's own events), as one the case refers to, as the finding's evidence, or (the
  // finding event) as what makes its evidence needed at all; the policy event by the policy line.
  size_t events = 0;
  for (size_t n = 5; n <= lay.parts.size(); ++n) {
    if (lay.parts[n - 1] != "event") continue;
    ++events;
    std::string cut =
        pack.substr(0, lay.start[n - 1]) + (n < lay.start.size() ? pack.substr(lay.start[n]) : "");
    cut.replace(cut.find("\"events\":11"), 11, "\"events\":10");
    PackReport r = l_.Verify(cut);
    ASSERT_FALSE(r.ok()) << lay.items[n - 1] << " dropped undetected";
    // The policy event is missed by its policy line; any other by the case summary.
    const std::string want = lay.items[n - 1] == "seq 0" ? "policy" : "summary";
    EXPECT_EQ(r.problems.back().part, want) << lay.items[n - 1] << ":\n" << Problems(r);
  }
  EXPECT_EQ(events, 11u);

  // Dropping one event the case refers to names it.
  size_t at = pack.find(R"("seq":10})");
  ASSERT_NE(at, std::string::npos);
  size_t from = pack.rfind('\n', at) + 1;
  std::string cut = pack.substr(0, from) + pack.substr(pack.find('\n', at) + 1);
  cut.replace(cut.find("\"events\":11"), 11, "\"events\":10");
  PackReport r = l_.Verify(cut);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.problems.back().part, "summary") << Problems(r);
  EXPECT_NE(r.problems.back().what.find("refers to event seq 10, which the pack does not hold"),
            std::string::npos)
      << Problems(r);
}

TEST_F(PackTest, VersionsOneAndTwoEachBelongToTheirQueries) {
  uint64_t id = MakeCase();
  std::string case_pack = MustExport(PackQuery::ForCase(id));
  std::string identity_pack = MustExport(PackQuery::ForIdentity(kKey));
  ASSERT_NE(identity_pack.find(R"("version":1})"), std::string::npos);

  // A case pack that says version 1 is refused: version 1 has no case packs.
  std::string v1 = case_pack;
  v1.replace(v1.find(R"("version":2})"), 12, R"("version":1})");
  PackReport r = l_.Verify(v1);
  ASSERT_EQ(r.problems.size(), 1u) << Problems(r);
  EXPECT_EQ(r.problems[0].part, "summary");
  EXPECT_NE(r.problems[0].what.find("version 1 has no case packs"), std::string::npos);
  EXPECT_FALSE(r.summary_checked);

  // An identity pack that says version 2: the header is named.
  std::string v2 = identity_pack;
  v2.replace(v2.find(R"("version":1})"), 12, R"("version":2})");
  r = l_.Verify(v2);
  ASSERT_EQ(r.problems.size(), 1u) << Problems(r);
  EXPECT_EQ(r.problems[0].ToString(), "line 1: header: a pack for identity " + std::string(kKey) +
                                          " is format version 1, not 2");

  // A version 1 pack whose summary claims to be a case explanation.
  std::string typed = identity_pack;
  typed.replace(typed.rfind(R"("type":"trace"})"), 15, R"("type":"case"})");
  r = l_.Verify(typed);
  ASSERT_EQ(r.problems.size(), 1u) << Problems(r);
  EXPECT_EQ(r.problems[0].what, "type \"case\" is not in pack format version 1");

  // Versions other than 1 and 2 are refused by name.
  std::string v3 = case_pack;
  v3.replace(v3.find(R"("version":2})"), 12, R"("version":3})");
  r = l_.Verify(v3);
  ASSERT_EQ(r.problems.size(), 1u) << Problems(r);
  EXPECT_NE(r.problems[0].what.find("version 3 is not supported"), std::string::npos);
}

TEST_F(PackTest, RemovedReorderedAndForeignLinesAreNamed) {
  std::string pack = MustExport(PackQuery::ForIdentity(kKey));
  Layout lay = LayoutOf(pack);
  auto line_text = [&](size_t n) {  // 1-based
    size_t end = n < lay.start.size() ? lay.start[n] : pack.size();
    return pack.substr(lay.start[n - 1], end - lay.start[n - 1]);
  };
  auto without = [&](size_t n) {
    return pack.substr(0, lay.start[n - 1]) +
           pack.substr(n < lay.start.size() ? lay.start[n] : pack.size());
  };

  // An event removed (header count adjusted): the trace recomputed without it differs.
  std::string removed = without(9);
  size_t count = removed.find("\"events\":11");
  ASSERT_NE(count, std::string::npos);
  removed.replace(count, 11, "\"events\":10");
  PackReport r = l_.Verify(removed);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.problems.back().part, "summary") << Problems(r);

  // The same without adjusting the count: the header names it.
  r = l_.Verify(without(9));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.problems.front().part, "header") << Problems(r);

  // Two events swapped.
  std::string swapped =
      pack.substr(0, lay.start[5]) + line_text(7) + line_text(6) + pack.substr(lay.start[7]);
  r = l_.Verify(swapped);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.problems.front().part, "event") << Problems(r);
  EXPECT_EQ(r.problems.front().line, 7u) << Problems(r);

  // The summary dropped; the pack cut short.
  r = l_.Verify(without(lay.start.size()));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.problems.back().part, "summary") << Problems(r);
  r = l_.Verify(pack.substr(0, lay.start[6] + 20));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.problems.front().part, "pack") << Problems(r);

  // An event line from another identity's pack, with a proof against another checkpoint.
  std::string other = MustExport(PackQuery::ForIdentity("k8s:sa:payments/other"));
  Layout other_lay = LayoutOf(other);
  std::string foreign = other.substr(other_lay.start[4], other_lay.start[5] - other_lay.start[4]);
  std::string mixed = pack.substr(0, lay.start[4]) + foreign + pack.substr(lay.start[5]);
  r = l_.Verify(mixed);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.problems.front().line, 5u) << Problems(r);
  EXPECT_EQ(r.problems.front().part, "event") << Problems(r);

  // The same content in another encoding (members reordered, an escape spelt out): a pack
  // has one encoding.
  std::string reordered = pack;
  size_t key_line = reordered.find(R"({"part":"key","verifier_key":)");
  ASSERT_NE(key_line, std::string::npos);
  size_t key_end = reordered.find('\n', key_line);
  std::string key = reordered.substr(key_line + 29, key_end - key_line - 30);
  reordered.replace(key_line, key_end - key_line,
                    R"({"verifier_key":)" + key + R"(,"part":"key"})");
  r = l_.Verify(reordered);
  ASSERT_EQ(r.problems.size(), 1u) << Problems(r);
  EXPECT_EQ(r.problems[0].ToString(),
            "line 2: key: not in canonical form (RFC 8785: members sorted, no white space, "
            "shortest escapes; base64 padded)");
  std::string escaped = pack;
  escaped.replace(escaped.find(R"("part":"checkpoint")"), 19, R"("part":"checkpoin\u0074")");
  r = l_.Verify(escaped);
  ASSERT_EQ(r.problems.size(), 1u) << Problems(r);
  EXPECT_EQ(r.problems[0].line, 3u);

  // A future format version is refused by name.
  std::string v9 = pack;
  v9.replace(v9.find("\"version\":1"), 11, "\"version\":9");
  r = l_.Verify(v9);
  ASSERT_EQ(r.problems.size(), 1u) << Problems(r);
  EXPECT_EQ(r.problems[0].part, "header");
  EXPECT_NE(r.problems[0].what.find("version 9 is not supported"), std::string::npos);

  // Not a pack at all.
  r = l_.Verify("hello\n");
  ASSERT_EQ(r.problems.size(), 1u) << Problems(r);
  EXPECT_EQ(r.problems[0].ToString(), "line 1: header: not a JSON object on one line");
  r = l_.Verify("");
  EXPECT_EQ(r.problems.at(0).part, "pack");
}

}  // namespace
}  // namespace nhitrace::evidence
