// --format auto for the four vendor importers: on every record of every shared sample (theirs
// and the other importers' formats), at most one of gcp_audit, github_audit, okta and entra
// claims it, and the one that does is the right one.
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "ingest/entra/entra.h"
#include "ingest/gcp_audit/gcp_audit.h"
#include "ingest/github_audit/github_audit.h"
#include "ingest/okta/okta.h"
#include "ingest/vendor_test_util.h"
#include "json/dom.h"
#include "testing/shared_data.h"

namespace nhitrace::ingest {
namespace {

std::vector<std::string> Claims(const simdjson::dom::element& r) {
  std::vector<std::string> out;
  if (gcp_audit::LooksLike(r)) out.emplace_back("gcp-audit");
  if (github_audit::LooksLike(r)) out.emplace_back("github-audit");
  if (okta::LooksLike(r)) out.emplace_back("okta");
  if (entra::LooksLike(r)) out.emplace_back("entra");
  return out;
}

// The records of a sample file: a JSON document ({"Records": [...]}, an array, or one record),
// else JSON Lines. Each record as JSON text with its 1-based position.
std::vector<std::pair<size_t, std::string>> Records(const std::filesystem::path& path) {
  std::vector<std::pair<size_t, std::string>> out;
  simdjson::dom::parser parser;
  auto padded = simdjson::padded_string::load(path.string());
  if (padded.error() != simdjson::SUCCESS) return out;
  simdjson::dom::element doc;
  if (parser.parse(padded.value()).get(doc) == simdjson::SUCCESS) {
    simdjson::dom::element records;
    if (doc.type() == simdjson::dom::element_type::OBJECT &&
        doc["Records"].get(records) == simdjson::SUCCESS) {
      doc = records;
    }
    if (doc.type() == simdjson::dom::element_type::ARRAY) {
      size_t n = 0;
      for (auto item : json::ArrayOf(doc)) out.emplace_back(++n, simdjson::minify(item));
    } else {
      out.emplace_back(1, simdjson::minify(doc));
    }
    return out;
  }
  size_t n = 0;
  for (auto& line : testing::ReadLines(path)) out.emplace_back(++n, line);
  return out;
}

std::string Expected(const std::filesystem::path& rel, size_t record) {
  std::string r = rel.generic_string();
  if (r.rfind("gcp-audit/", 0) == 0) return "gcp-audit";
  if (r.rfind("github-audit/", 0) == 0) return "github-audit";
  if (r == "panther-fixtures/Okta_SystemLog.jsonl") {
    // Lines 71 and 83 hold only Panther enrichment members, no Okta event.
    return record == 71 || record == 83 ? "" : "okta";
  }
  if (r == "panther-fixtures/Azure_Audit.jsonl" ||
      r == "panther-fixtures/Microsoft365_Audit_AzureActiveDirectory.jsonl") {
    return "entra";
  }
  return "";  // CloudTrail, Vault, Kubernetes, Azure activity, OpenAI, Anthropic, ...
}

TEST(VendorDetection, MutuallyExclusiveAndRightOnEverySharedSample) {
  NHI_REQUIRE_SHARED("data");
  const auto root = shared_path;
  size_t files = 0, records = 0;
  std::map<std::string, size_t> claimed;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    auto rel = std::filesystem::relative(entry.path(), root);
    std::string name = rel.filename().string();
    if (name == "README.md" || name.find(".meta.") != std::string::npos) continue;
    ++files;
    simdjson::dom::parser parser;
    for (const auto& [n, text] : Records(entry.path())) {
      simdjson::dom::element r;
      ASSERT_EQ(json::ParseJson(parser, text, &r), simdjson::SUCCESS) << rel << " #" << n;
      ++records;
      auto claims = Claims(r);
      ASSERT_LE(claims.size(), 1u)
          << rel << " #" << n << " claimed by " << claims[0] << " and " << claims[1];
      std::string got = claims.empty() ? "" : claims[0];
      EXPECT_EQ(got, Expected(rel, n)) << rel << " #" << n;
      if (!got.empty()) ++claimed[got];
    }
  }
  EXPECT_GT(files, 600u);
  EXPECT_GT(records, 3000u);
  EXPECT_EQ(claimed["gcp-audit"], 1u);
  EXPECT_EQ(claimed["github-audit"], 2u);
  EXPECT_EQ(claimed["okta"], 86u);
  EXPECT_EQ(claimed["entra"], 52u);
}

struct Shape {
  const char* json;
  const char* format;  // "" for none of the four
};

TEST(VendorDetection, ShapesOfEachFormatAndNearMisses) {
  const Shape shapes[] = {
      {R"({"protoPayload":{"@type":"type.googleapis.com/google.cloud.audit.AuditLog"}})",
       "gcp-audit"},
      {R"({"logName":"projects/p/logs/cloudaudit.googleapis.com%2Factivity","protoPayload":{}})",
       "gcp-audit"},
      {R"({"protoPayload":{"methodName":"m","serviceName":"s"}})", "gcp-audit"},
      {R"({"protoPayload":{"foo":1},"eventType":"user.session.start","uuid":"u"})", ""},
      {R"({"action":"repo.create","actor":"a","@timestamp":1})", "github-audit"},
      {R"({"action":"repo.create","data":{}})", ""},
      {R"({"action":"create","actor":"a"})", ""},
      {R"({"eventType":"user.session.start","uuid":"u","published":"2024-01-01T00:00:00Z"})",
       "okta"},
      {R"({"source":"aws.partner/okta.com/x","detail":{"eventType":"e","actor":{}}})", "okta"},
      // CloudTrail's eventType is not Okta's.
      {R"({"eventType":"AwsApiCall","eventName":"CreateUser","eventSource":"iam.amazonaws.com",)"
       R"("userIdentity":{}, "outcome":{}})",
       ""},
      {R"({"activityDisplayName":"Add service principal","targetResources":[]})", "entra"},
      {R"({"category":"AuditLogs","properties":{}})", "entra"},
      {R"({"category":"kube-audit","properties":{"log":"{}"}})", ""},
      {R"({"category":"Administrative","resourceId":"/subscriptions/s","properties":{}})", ""},
      {R"({"Operation":"Add user.","CreationTime":"2022-12-12T15:57:57","RecordType":8})", "entra"},
      {R"({"Operation":"MailItemsAccessed","CreationTime":"2022-12-12T15:57:57","RecordType":50,)"
       R"("Workload":"Exchange"})",
       ""},
      {R"({"createdDateTime":"2024-01-01T00:00:00Z","appId":"a","servicePrincipalId":"s",)"
       R"("status":{}})",
       "entra"},
      {R"({"kind":"Event","apiVersion":"audit.k8s.io/v1","verb":"get"})", ""},
      {R"({"type":"request","request":{"id":"x"},"time":"2024-01-01T00:00:00Z"})", ""},
      {R"([1,2,3])", ""},
      {R"("text")", ""},
  };
  for (const auto& s : shapes) {
    simdjson::dom::parser parser;
    simdjson::dom::element r;
    ASSERT_EQ(json::ParseJson(parser, s.json, &r), simdjson::SUCCESS) << s.json;
    auto claims = Claims(r);
    ASSERT_LE(claims.size(), 1u) << s.json;
    EXPECT_EQ(claims.empty() ? "" : claims[0], std::string(s.format)) << s.json;
  }
}

}  // namespace
}  // namespace nhitrace::ingest
