// Black-box: the real vendor samples in ../shared/data go through `nhitrace ingest --format
// auto` (framing, gzip, detection, mapping, the store) with every record accounted for.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "base/file.h"
#include "json/dom.h"
#include "testing/process.h"
#include "testing/shared_data.h"
#include "testing/temp_dir.h"

namespace nhitrace {
namespace {

namespace fs = std::filesystem;
using testing::ProcessResult;
using testing::RunNhitrace;
using testing::TempDir;

struct Summary {
  std::string format, framing;
  bool gzip = false;
  uint64_t records = 0, mapped = 0, ignored = 0, quarantined = 0, accepted = 0, duplicate = 0;
};

class ImportersCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = dir_.File("n.db");
    ASSERT_EQ(RunNhitrace(store_, {"init"}).exit_code, 0);
  }
  Summary Ingest(const std::string& file, const std::string& format = "auto") {
    ProcessResult r =
        RunNhitrace(store_, {"ingest", file, "--format", format, "--json", "--quiet"});
    EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 3) << r.err;
    simdjson::dom::parser p;
    simdjson::dom::element s;
    Summary out;
    if (p.parse(r.out).get(s) != simdjson::SUCCESS) {
      ADD_FAILURE() << "no JSON summary: " << r.out << r.err;
      return out;
    }
    out.format = std::string(std::string_view(s["format"]));
    out.framing = std::string(std::string_view(s["framing"]));
    out.gzip = bool(s["gzip"]);
    out.records = uint64_t(s["records"]);
    out.mapped = uint64_t(s["mapped"]);
    out.ignored = uint64_t(s["ignored"]);
    out.quarantined = uint64_t(s["quarantined"]);
    out.accepted = uint64_t(s["accepted"]);
    out.duplicate = uint64_t(s["duplicate"]);
    EXPECT_EQ(out.records, out.mapped + out.ignored + out.quarantined) << file;
    return out;
  }
  TempDir dir_;
  std::string store_;
};

TEST_F(ImportersCliTest, CloudTrailDeliveryFilesConcatenatedAndGzippedImportOnceAndVerify) {
  NHI_REQUIRE_SHARED("data/cloudtrail/invictus-aws-dataset");
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(shared_path)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  ASSERT_FALSE(files.empty());
  // One file as is, detected as CloudTrail's {"Records":[...]}.
  Summary one = Ingest(files[0].string());
  EXPECT_EQ(one.format, "cloudtrail");
  EXPECT_EQ(one.framing, "cloudtrail-records");
  EXPECT_EQ(one.quarantined, 0u);
  EXPECT_GT(one.accepted, 0u);
  // All of them, one document after another, gzipped (the first again among them).
  std::string all;
  for (const auto& f : files) all += *ReadFileToString(f.string());
  const std::string gz = dir_.File("all.json.gz");
  {
    std::ofstream(dir_.File("all.json"), std::ios::binary) << all;
    ProcessResult z = testing::RunProcess({"/bin/gzip", "-k", dir_.File("all.json")});
    ASSERT_EQ(z.exit_code, 0) << z.err;
  }
  Summary s = Ingest(gz);
  EXPECT_TRUE(s.gzip);
  EXPECT_EQ(s.format, "cloudtrail");
  EXPECT_EQ(s.records, 2900u);  // the dataset's README: 2,900 records
  EXPECT_EQ(s.quarantined, 0u);
  EXPECT_EQ(s.duplicate, one.accepted);  // the first file's events were stored once
  // Again: nothing new.
  Summary again = Ingest(gz);
  EXPECT_EQ(again.accepted, 0u);
  EXPECT_EQ(again.duplicate, s.accepted + s.duplicate);
  ProcessResult v = RunNhitrace(store_, {"verify"});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
}

TEST_F(ImportersCliTest, EverySampleFileIsDetectedAndAccountedFor) {
  NHI_REQUIRE_SHARED("data");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"vault/test-audit.lines1-6.log", "vault"},
      {"k8s-audit/test-kube-audit.log", "k8s-audit"},
  };
  for (const auto& [rel, format] : cases) {
    Summary s = Ingest((shared_path / rel).string());
    EXPECT_EQ(s.format, format) << rel;
    EXPECT_EQ(s.quarantined, 0u) << rel;
    EXPECT_GT(s.records, 0u) << rel;
  }
  for (const auto& e : fs::directory_iterator(shared_path / "k8s-audit" / "falco")) {
    // fal_01_003.json is falco's own malformed-input case, {"kind": 0}: no format can claim
    // it, so it is read as k8s-audit by name and quarantined. Every other file is detected.
    const bool malformed = e.path().filename() == "fal_01_003.json";
    Summary s = Ingest(e.path().string(), malformed ? "k8s-audit" : "auto");
    EXPECT_EQ(s.format, "k8s-audit") << e.path();
    EXPECT_EQ(s.quarantined, malformed ? 1u : 0u) << e.path();
  }
  ProcessResult v = RunNhitrace(store_, {"verify"});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
}

TEST_F(ImportersCliTest, UnknownFirstRecordStopsBeforeWritingAndNamesTheFormats) {
  const std::string f = dir_.File("x.jsonl");
  std::ofstream(f) << R"({"hello":"world"})"
                   << "\n";
  ProcessResult r = RunNhitrace(store_, {"ingest", f});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--format auto: the first record is in none of the formats"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("cloudtrail"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace nhitrace
