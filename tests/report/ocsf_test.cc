// export --ocsf: every line is an OCSF Detection Finding (2004) or Incident Finding (2005) with
// the attributes OCSF 1.x requires, of the right types and enum values (the check list below is
// taken from the schema: events/base_event.json, events/findings/finding.json,
// detection_finding.json, incident_finding.json, objects/metadata.json, product.json,
// finding_info.json, observable.json), and the lines are the store's findings and cases.
#include "report/ocsf.h"

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "report_fixture.h"
#include "testing/process.h"
#include "testing/temp_dir.h"

namespace nhitrace::report {
namespace {

using simdjson::dom::element;
using testing::kAsOf;

// A check list for one event: which members must be there, with which type or values.
struct Checker {
  const element& e;
  std::string where;

  element Member(element obj, const char* path) {
    element v;
    EXPECT_EQ(obj.at_pointer(path).get(v), simdjson::SUCCESS) << where << ": missing " << path;
    return v;
  }
  int64_t Int(const char* path, const std::set<int64_t>& allowed = {}) {
    element v = Member(e, path);
    int64_t i = 0;
    EXPECT_EQ(v.get_int64().get(i), simdjson::SUCCESS)
        << where << ": " << path << " not an integer";
    if (!allowed.empty()) {
      EXPECT_TRUE(allowed.count(i)) << where << ": " << path << " = " << i << " not in the enum";
    }
    return i;
  }
  std::string String(const char* path) {
    element v = Member(e, path);
    std::string_view s;
    EXPECT_EQ(v.get_string().get(s), simdjson::SUCCESS) << where << ": " << path << " not a string";
    EXPECT_FALSE(s.empty()) << where << ": " << path << " empty";
    return std::string(s);
  }
  simdjson::dom::array Array(const char* path) {
    element v = Member(e, path);
    simdjson::dom::array a;
    EXPECT_EQ(v.get_array().get(a), simdjson::SUCCESS) << where << ": " << path << " not an array";
    return a;
  }
  bool Has(const char* path) {
    element v;
    return e.at_pointer(path).get(v) == simdjson::SUCCESS;
  }
};

// OCSF 1.x, base event and finding classes.
const std::set<int64_t> kSeverityIds = {0, 1, 2, 3, 4, 5, 6, 99};
const std::set<int64_t> kFindingActivities = {1, 2, 3};
const std::set<int64_t> kDetectionStatus = {0, 1, 2, 3, 4, 5, 6, 99};
const std::set<int64_t> kIncidentStatus = {0, 1, 2, 3, 4, 5, 99};
const std::set<int64_t> kObservableTypes = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12,
                                            13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25,
                                            26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38,
                                            39, 40, 41, 42, 43, 44, 45, 46, 47, 99};

void CheckBase(Checker& c, int64_t class_uid) {
  EXPECT_EQ(c.Int("/category_uid"), 2) << c.where;
  EXPECT_EQ(c.Int("/class_uid"), class_uid) << c.where;
  int64_t activity = c.Int("/activity_id", kFindingActivities);
  EXPECT_EQ(c.Int("/type_uid"), class_uid * 100 + activity) << c.where;
  c.Int("/severity_id", kSeverityIds);
  EXPECT_GT(c.Int("/time"), 1'000'000'000'000) << c.where << ": time is not in milliseconds";
  c.String("/metadata/product/name");
  std::string version = c.String("/metadata/version");
  EXPECT_EQ(version.rfind("1.", 0), 0u) << c.where << ": OCSF version " << version;
}

void CheckFindingInfo(Checker& c, element info, const std::string& where) {
  Checker fi{info, where};
  fi.String("/uid");
  fi.String("/title");
  if (fi.Has("/types")) {
    for (element t : fi.Array("/types")) EXPECT_TRUE(t.is_string()) << where;
  }
  if (fi.Has("/first_seen_time")) fi.Int("/first_seen_time");
  if (fi.Has("/last_seen_time")) fi.Int("/last_seen_time");
  (void)c;
}

class OcsfTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(fx_.Build()); }

  std::vector<std::string> Export(const OcsfOptions& o) {
    std::string out;
    auto st = ExportOcsf(fx_.store(), o, [&out](std::string_view s) {
      out.append(s);
      return OkStatus();
    });
    EXPECT_TRUE(st.ok()) << st.status().ToString();
    std::vector<std::string> lines;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    if (st.ok()) {
      EXPECT_EQ(st->findings + st->cases, lines.size());
      EXPECT_EQ(st->bytes, out.size());
    }
    return lines;
  }

  testing::ReportFixture fx_;
  simdjson::dom::parser parser_;
};

TEST_F(OcsfTest, EveryLineHasTheRequiredAttributesAndTheLinesAreTheStoresFindingsAndCases) {
  OcsfOptions o;
  o.product_version = "0.1.0";
  std::vector<std::string> lines = Export(o);
  std::map<std::string, element> detections;  // by finding_info.uid
  std::map<uint64_t, element> incidents;      // by case id
  std::vector<simdjson::dom::parser> parsers(lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    element e;
    ASSERT_EQ(parsers[i].parse(lines[i]).get(e), simdjson::SUCCESS) << lines[i];
    Checker c{e, "line " + std::to_string(i + 1)};
    int64_t class_uid = c.Int("/class_uid", {2004, 2005});
    CheckBase(c, class_uid);
    if (class_uid == 2004) {
      c.Int("/status_id", kDetectionStatus);
      CheckFindingInfo(c, c.Member(e, "/finding_info"), c.where + " finding_info");
      for (element ob : c.Array("/observables")) {
        Checker oc{ob, c.where + " observable"};
        oc.String("/name");
        oc.Int("/type_id", kObservableTypes);
      }
      std::string uid = c.String("/finding_info/uid");
      EXPECT_FALSE(detections.count(uid)) << uid << " twice";
      detections[uid] = e;
    } else {
      c.Int("/status_id", kIncidentStatus);
      auto list = c.Array("/finding_info_list");
      EXPECT_GT(list.size(), 0u) << c.where;
      for (element info : list) CheckFindingInfo(c, info, c.where + " finding_info_list");
      EXPECT_TRUE(c.Has("/assignee") || c.Has("/assignee_group"))
          << c.where << ": OCSF wants an assignee or an assignee group";
      incidents[static_cast<uint64_t>(c.Int("/unmapped/nhitrace/case_id"))] = e;
    }
  }
  // The lines are the store's findings and cases, each once.
  std::set<std::string> store_findings;
  ASSERT_TRUE(fx_.store()
                  .ScanFindings([&](const store::FindingRow& r) {
                    store_findings.insert(r.id);
                    return OkStatus();
                  })
                  .ok());
  std::set<std::string> exported;
  for (const auto& [uid, e] : detections) exported.insert(uid);
  EXPECT_EQ(exported, store_findings);
  store::CaseQuery q;
  auto cases = fx_.store().ListCases(q);
  ASSERT_TRUE(cases.ok());
  EXPECT_EQ(incidents.size(), cases->size());
  for (const auto& c : *cases) EXPECT_TRUE(incidents.count(c.id)) << "case " << c.id;

  // What the attributes say, for findings the fixture made.
  element a = detections.at(fx_.f_issuance);
  EXPECT_EQ(int64_t(a["severity_id"]), 4);  // high
  EXPECT_EQ(int64_t(a["activity_id"]), 1);  // first revision, open: Create
  EXPECT_EQ(int64_t(a["status_id"]), 1);    // New
  EXPECT_EQ(std::string_view(a["finding_info"]["analytic"]["uid"]), "issuance-without-approval");
  std::set<std::string> types;
  for (element t : a["finding_info"]["types"].get_array())
    types.insert(std::string(t.get_string().value()));
  EXPECT_TRUE(types.count("OWASP NHI Top 10 (2025): NHI5:2025"));
  EXPECT_TRUE(types.count("NIST CSF 2.0: PR.AA-05"));
  EXPECT_TRUE(types.count("NIST CSF 2.0: PR.AA-01"));
  EXPECT_EQ(int64_t(a["finding_info"]["first_seen_time"]),
            testing::T("2026-05-02T10:00:00Z") / 1'000'000);
  element r = detections.at(fx_.f_no_grant);
  EXPECT_EQ(int64_t(r["activity_id"]), 3);  // resolved: Close
  EXPECT_EQ(int64_t(r["status_id"]), 4);    // Resolved
  EXPECT_EQ(int64_t(r["type_uid"]), 200403);
  EXPECT_EQ(int64_t(detections.at(fx_.f_revocation)["severity_id"]), 5);  // critical

  element c1 = incidents.at(1);
  EXPECT_EQ(std::string_view(c1["assignee"]["name"]), "ana@example.com");
  EXPECT_EQ(std::string_view(c1.at_pointer("/finding_info_list/0/uid")), fx_.f_issuance);
  EXPECT_EQ(int64_t(c1["status_id"]), 1);  // open: New
  element c2 = incidents.at(2);
  EXPECT_EQ(std::string_view(c2["message"]), testing::kScriptTitle);  // JSON keeps it verbatim
  EXPECT_EQ(std::string_view(c2["assignee_group"]["name"]), "unassigned");
  EXPECT_EQ(int64_t(c2["status_id"]), 2);  // investigating: In Progress
  element c3 = incidents.at(3);
  EXPECT_EQ(int64_t(c3["status_id"]), 5);  // closed: Closed
  EXPECT_EQ(int64_t(c3["activity_id"]), 3);
  EXPECT_EQ(int64_t(c3["end_time"]), testing::T("2026-05-08T12:00:00Z") / 1'000'000);
  element c5 = incidents.at(5);  // no finding linked: the case describes itself
  EXPECT_EQ(std::string_view(c5.at_pointer("/finding_info_list/0/uid")), "case/5");
}

TEST_F(OcsfTest, AWindowSelectsFindingsByEvidenceAndCasesByOpening) {
  OcsfOptions o;
  o.from_ns = testing::T("2026-04-15T00:00:00Z");
  o.to_ns = kAsOf;
  std::vector<std::string> lines = Export(o);
  size_t detections = 0, incidents = 0;
  for (const auto& l : lines) {
    (l.find("\"class_uid\":2004") != std::string::npos ? detections : incidents)++;
  }
  EXPECT_EQ(detections, 4u);
  EXPECT_EQ(incidents, 3u);
}

TEST_F(OcsfTest, CommandLine) {
  ::nhitrace::testing::TempDir dir;
  std::string out = dir.File("out.ocsf.jsonl");
  auto bad = ::nhitrace::testing::RunNhitrace(
      fx_.fixture().store_path(), {"export", "--ocsf", "--identity", "x", "--out", out});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  auto r = ::nhitrace::testing::RunNhitrace(fx_.fixture().store_path(),
                                            {"export", "--ocsf", "--out", out, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"detection_findings\":5"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"incident_findings\":5"), std::string::npos) << r.out;
  std::ifstream in(out);
  size_t n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  EXPECT_EQ(n, 10u);
  auto again = ::nhitrace::testing::RunNhitrace(fx_.fixture().store_path(),
                                                {"export", "--ocsf", "--out", out});
  EXPECT_EQ(again.exit_code, 1);  // the file exists
  auto html = ::nhitrace::testing::RunNhitrace(
      fx_.fixture().store_path(),
      {"report", "--html", dir.File("r.html"), "--as-of", "2026-06-01T00:00:00Z", "--json"});
  ASSERT_EQ(html.exit_code, 0) << html.err;
  EXPECT_NE(html.out.find("\"open_cases\":3"), std::string::npos) << html.out;
  EXPECT_NE(html.out.find("\"actions_under_approved_grant\":4"), std::string::npos) << html.out;
  auto window = ::nhitrace::testing::RunNhitrace(
      fx_.fixture().store_path(), {"report", "--html", dir.File("w.html"), "--from",
                                   "2026-05-02T00:00:00Z", "--to", "2026-05-01T00:00:00Z"});
  EXPECT_EQ(window.exit_code, 2) << window.err;
}

}  // namespace
}  // namespace nhitrace::report
