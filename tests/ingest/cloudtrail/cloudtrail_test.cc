// Tests of the CloudTrail importer (src/ingest/cloudtrail/):
//   - the mapping cases in mapping_cases.json (one record in, the expected events, ignore name
//     or error out), run by one runner;
//   - every record of the real samples in ../shared/data/cloudtrail/ (invictus-aws-dataset,
//     traildiscover), with assertions on what they must contain;
//   - ParseResponseTime, LooksLike, determinism and limits.
// Every event the importer produces is checked to survive the native decoder:
// EncodeContent -> JSON parse -> DecodeNative gives the same Event, as ingest requires.
#include "ingest/cloudtrail/cloudtrail.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "base/time.h"
#include "event/codec.h"
#include "json/canonical.h"
#include "json/dom.h"
#include "testing/shared_data.h"

namespace nhitrace::ingest::cloudtrail {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// "" when `e` survives the native decoder unchanged, else what went wrong.
std::string RoundTripProblem(const event::Event& e) {
  const std::string content = event::EncodeContent(e);
  simdjson::dom::parser parser;
  element root;
  if (json::ParseJson(parser, content, &root) != simdjson::SUCCESS) {
    return "content is not JSON: " + content;
  }
  auto rec = event::DecodeNative(root);
  if (!rec.ok()) return "rejected by the decoder: " + rec.status().message() + "\n  " + content;
  if (!(rec->event == e)) {
    return "changed by the round trip:\n  before: " + content +
           "\n  after:  " + event::EncodeContent(rec->event) + "\n  time_ns " +
           std::to_string(e.time_ns) + " vs " + std::to_string(rec->event.time_ns);
  }
  return {};
}

// Maps one record given as JSON text, checking the round trip of every event.
class Mapper {
 public:
  Result<MapResult> Map(std::string_view json) {
    element root;
    auto err = json::ParseJson(parser_, json, &root);
    if (err != simdjson::SUCCESS) return InvalidArgumentError("test input is not JSON");
    auto r = importer_->Map(root, json);
    if (r.ok()) {
      for (const auto& m : r->events) {
        std::string problem = RoundTripProblem(m.event);
        EXPECT_EQ(problem, "") << "record: " << json.substr(0, 300);
        EXPECT_FALSE(m.raw.has_value());
      }
      if (r->events.empty()) {
        EXPECT_FALSE(r->ignored.empty()) << "neither events nor an ignore name";
      } else {
        EXPECT_TRUE(r->ignored.empty());
      }
    } else {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
      EXPECT_NE(r.status().message().find(": "), std::string::npos) << r.status().message();
    }
    return r;
  }

 private:
  std::unique_ptr<Importer> importer_ = MakeImporter();
  simdjson::dom::parser parser_;
};

// ---------------------------------------------------------------------------------------------
// The mapping cases.

std::string Canonical(const element& e) {
  std::string out;
  Status s = json::AppendCanonical(e, &out);
  EXPECT_TRUE(s.ok()) << s.message();
  return out;
}

// Compares `actual` (an event) with the partial expectation `want`: every member `want` names
// must be equal ("event_id" is source.event_id; null means absent); "attributes" compares only
// the members it lists.
void ExpectEventMatches(const std::string& where, const event::Event& actual, const element& want) {
  const std::string content = event::EncodeContent(actual);
  simdjson::dom::parser parser;
  element got;
  ASSERT_EQ(json::ParseJson(parser, content, &got), simdjson::SUCCESS);
  for (simdjson::dom::key_value_pair kv : json::ObjectOf(want)) {
    std::string_view key = kv.key;
    if (key == "event_id") {
      EXPECT_EQ(actual.source_event_id, kv.value.get_string().value_unsafe()) << where;
      continue;
    }
    element have;
    bool present = got.at_key(key).get(have) == simdjson::SUCCESS;
    if (kv.value.type() == element_type::NULL_VALUE) {
      EXPECT_FALSE(present) << where << ": " << key << " should be absent, is "
                            << (present ? Canonical(have) : "");
      continue;
    }
    if (!present) {
      ADD_FAILURE() << where << ": " << key << " is absent, want " << Canonical(kv.value)
                    << "\n  event: " << content;
      continue;
    }
    if (key == "attributes") {
      for (simdjson::dom::key_value_pair a : json::ObjectOf(kv.value)) {
        element v;
        if (have.at_key(a.key).get(v) != simdjson::SUCCESS) {
          ADD_FAILURE() << where << ": attributes." << a.key << " is absent\n  event: " << content;
        } else {
          EXPECT_EQ(Canonical(v), Canonical(a.value)) << where << ": attributes." << a.key;
        }
      }
      continue;
    }
    EXPECT_EQ(Canonical(have), Canonical(kv.value))
        << where << ": " << key << "\n  event: " << content;
  }
}

TEST(CloudTrailMappingCases, EveryCaseMapsAsExpected) {
  const auto path = std::filesystem::path(NHITRACE_SOURCE_DIR) / "tests" / "ingest" / "cloudtrail" /
                    "mapping_cases.json";
  const std::string text = ReadFile(path);
  simdjson::dom::parser parser;
  element cases;
  ASSERT_EQ(json::ParseJson(parser, text, &cases), simdjson::SUCCESS) << path;
  ASSERT_EQ(cases.type(), element_type::ARRAY);
  std::set<std::string> names;
  size_t count = 0;
  for (element c : json::ArrayOf(cases)) {
    ++count;
    std::string name(c["name"].get_string().value());
    EXPECT_TRUE(names.insert(name).second) << "duplicate case name " << name;
    SCOPED_TRACE(name);
    std::string record = simdjson::minify(c["record"].value());
    element expect = c["expect"].value();
    Mapper m;
    auto r = m.Map(record);
    element want;
    if (expect.at_key("error").get(want) == simdjson::SUCCESS) {
      ASSERT_FALSE(r.ok()) << name << ": mapped, want error " << want;
      EXPECT_EQ(r.status().message(), want.get_string().value()) << name;
      continue;
    }
    ASSERT_TRUE(r.ok()) << name << ": " << r.status().ToString();
    if (expect.at_key("ignored").get(want) == simdjson::SUCCESS) {
      EXPECT_TRUE(r->events.empty()) << name;
      EXPECT_EQ(r->ignored, want.get_string().value()) << name;
      continue;
    }
    ASSERT_EQ(expect.at_key("events").get(want), simdjson::SUCCESS) << name;
    ASSERT_EQ(r->events.size(), json::ArrayOf(want).size()) << name << ": got " << [&] {
      std::string s;
      for (const auto& e : r->events) s += "\n  " + event::EncodeContent(e.event);
      return s;
    }();
    size_t i = 0;
    for (element w : json::ArrayOf(want)) {
      ExpectEventMatches(name + " event " + std::to_string(i), r->events[i].event, w);
      ++i;
    }
  }
  EXPECT_GE(count, 40u);
}

// ---------------------------------------------------------------------------------------------
// The real samples.

struct SampleRecord {
  std::string file;  // name of the file it came from
  std::string json;  // the record, minified
};

// The records of every *.json file under `dir`: S3 delivery files {"Records":[...]}, JSON
// arrays of records, or a single record.
std::vector<SampleRecord> LoadSamples(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<SampleRecord> out;
  simdjson::dom::parser parser;
  for (const auto& f : files) {
    const std::string text = ReadFile(f);
    element root;
    EXPECT_EQ(json::ParseJson(parser, text, &root), simdjson::SUCCESS) << f;
    element records;
    if (root.type() == element_type::OBJECT &&
        root.at_key("Records").get(records) == simdjson::SUCCESS) {
      root = records;
    }
    std::string name = f.filename().string();
    if (root.type() == element_type::ARRAY) {
      for (element r : json::ArrayOf(root)) out.push_back({name, simdjson::minify(r)});
    } else {
      out.push_back({name, simdjson::minify(root)});
    }
  }
  return out;
}

struct CorpusResult {
  std::map<std::string, std::string> errors;  // "<file> <eventID-or-index>" -> message
  std::map<std::string, int> ignored;         // ignore name -> records
  std::vector<event::Event> events;
  std::map<std::string, int> by_kind_suffix;  // "provision#issued-key" -> events
  std::map<std::string, std::vector<const event::Event*>> by_source_id;
  size_t records = 0;
};

CorpusResult MapCorpus(const std::vector<SampleRecord>& records) {
  CorpusResult out;
  Mapper m;
  for (size_t i = 0; i < records.size(); ++i) {
    auto r = m.Map(records[i].json);
    ++out.records;
    if (!r.ok()) {
      out.errors[records[i].file + " #" + std::to_string(i)] = r.status().message();
      continue;
    }
    if (r->events.empty()) ++out.ignored[r->ignored];
    for (auto& e : r->events) out.events.push_back(std::move(e.event));
  }
  for (const auto& e : out.events) {
    size_t hash = e.source_event_id.find('#');
    std::string suffix = hash == std::string::npos ? "" : e.source_event_id.substr(hash);
    size_t colon = suffix.find(':');
    if (colon != std::string::npos) suffix.resize(colon);
    ++out.by_kind_suffix[std::string(event::KindName(e.kind)) + suffix];
    out.by_source_id[e.source_event_id].push_back(&e);
  }
  return out;
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

const event::Event* Find(const CorpusResult& c, const std::string& source_id) {
  auto it = c.by_source_id.find(source_id);
  return it == c.by_source_id.end() ? nullptr : it->second.front();
}

class InvictusTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const auto dir = testing::SharedPath("data/cloudtrail/invictus-aws-dataset");
    if (!std::filesystem::exists(dir)) return;
    corpus_ = new CorpusResult(MapCorpus(LoadSamples(dir)));
  }
  static void TearDownTestSuite() {
    delete corpus_;
    corpus_ = nullptr;
  }
  void SetUp() override {
    if (corpus_ == nullptr) {
      GTEST_SKIP() << "needs ../shared/data/cloudtrail/invictus-aws-dataset";
    }
  }
  static CorpusResult* corpus_;
};
CorpusResult* InvictusTest::corpus_ = nullptr;

constexpr char kAccount[] = "123837392027";
constexpr char kBertJanKey[] = "aws:accesskey:AKIATFQR7NSC8Q4X20BJ";

TEST_F(InvictusTest, EveryRecordMapsOrIsNamedAsNotRelevant) {
  const CorpusResult& c = *corpus_;
  EXPECT_EQ(c.records, 2900u);
  EXPECT_TRUE(c.errors.empty()) << c.errors.size() << " errors, first: "
                                << (c.errors.empty() ? ""
                                                     : c.errors.begin()->first + ": " +
                                                           c.errors.begin()->second);
  // No principal of the account: AWS service events, and the bucket ACL reads CloudTrail
  // itself makes (the 26 AssumeRole calls by AWS services issue keys, so they map).
  std::map<std::string, int> want_ignored = {{"secretsmanager:StartSecretVersionDelete", 20},
                                             {"secretsmanager:EndSecretVersionDelete", 20},
                                             {"ec2:SharedSnapshotVolumeCreated", 2},
                                             {"s3:GetBucketAcl", 8}};
  EXPECT_EQ(c.ignored, want_ignored);
}

TEST_F(InvictusTest, EventCountsByKindAndRole) {
  const CorpusResult& c = *corpus_;
  std::map<std::string, int> want = {
      // every call but the 50 ignored records and the 26 AssumeRole calls AWS services made
      {"action", 2824},
      {"action#secret-read", 60},      // GetSecretValue
      {"action#parameter-read", 124},  // 82 GetParameter + 5 GetParameters naming 42
      {"provision#provision", 81},     // users 4, keys 2, roles 13, secrets 20, parameters 42
      {"provision#issued-key", 36},    // the 36 successful AssumeRole of 49
      {"revocation#revocation", 76},   // users 4, keys 2, roles 13, secrets 17, parameters 40
      {"rotation#rotation", 20},       // PutSecretValue
      {"identity#policy", 24},         // user/role policy attach/detach/put/delete, trust
  };
  EXPECT_EQ(c.by_kind_suffix, want);
  for (const auto& [id, events] : c.by_source_id) {
    EXPECT_EQ(events.size(), 1u) << "source event id " << id << " is not unique";
  }
}

TEST_F(InvictusTest, UserAndAccessKeyLifecycles) {
  const CorpusResult& c = *corpus_;
  struct Lifecycle {
    std::string user, key, create_user, create_key, delete_key, delete_user;
  };
  const Lifecycle cases[] = {
      {"malicious-iam-user", "AKIATFQR7NSCQLA2F4OD", "85c89720-8103-4281-9e0e-8977b52bcdbe",
       "8c282c0b-00d1-4369-95b7-cb50b6eee620", "20e603c0-e2d6-4bc4-9f25-031d3e314950",
       "0bb0dbe3-f64f-461a-aa94-bde583ff90b6"},
      {"stratus-red-team-backdoor-u-user", "AKIATFQR7NSC3ZO6PKAZ",
       "648d0a9c-6d07-4c99-bd4e-9a27b3ad45d2", "64b7de64-bf53-47ae-b7e3-d30cb1b5136e",
       "770e2eb6-4951-4711-b159-55cc49dd6db6", "b5efbaf7-37dc-4f5b-b522-82e85ce5b657"},
  };
  for (const auto& l : cases) {
    SCOPED_TRACE(l.user);
    const std::string user_key = std::string("aws:iam-user:") + kAccount + "/" + l.user;
    const std::string key = "aws:accesskey:" + l.key;
    const event::Event* cu = Find(c, l.create_user + "#provision");
    const event::Event* ck = Find(c, l.create_key + "#provision");
    const event::Event* dk = Find(c, l.delete_key + "#revocation");
    const event::Event* du = Find(c, l.delete_user + "#revocation");
    ASSERT_TRUE(cu && ck && dk && du);
    EXPECT_EQ(cu->kind, event::Kind::kProvision);
    EXPECT_EQ(cu->identity, user_key);
    EXPECT_EQ(cu->subject->kind, "service_account");
    EXPECT_EQ(ck->kind, event::Kind::kProvision);
    EXPECT_EQ(ck->identity, key);
    EXPECT_EQ(ck->aliases, std::vector<std::string>{user_key});
    EXPECT_EQ(ck->subject->kind, "api_key");
    EXPECT_EQ(ck->actor->id, kBertJanKey);  // created by bert-jan's key
    EXPECT_EQ(dk->kind, event::Kind::kRevocation);
    EXPECT_EQ(dk->identity, key);
    EXPECT_EQ(dk->aliases, std::vector<std::string>{user_key});
    EXPECT_EQ(du->kind, event::Kind::kRevocation);
    EXPECT_EQ(du->identity, user_key);
    EXPECT_LT(cu->time_ns, ck->time_ns);
    EXPECT_LT(ck->time_ns, dk->time_ns);
    EXPECT_LE(dk->time_ns, du->time_ns);
    for (const event::Event* e : {cu, ck, dk, du}) {
      EXPECT_EQ(e->source_system, "aws-cloudtrail");
      EXPECT_EQ(e->outcome->result, "success");
      EXPECT_TRUE(e->correlation_key.empty());  // created in a console: no request id
    }
    // Each record is also the creator's action.
    const event::Event* action = Find(c, l.create_key);
    ASSERT_NE(action, nullptr);
    EXPECT_EQ(action->kind, event::Kind::kAction);
    EXPECT_EQ(action->identity, kBertJanKey);
    EXPECT_EQ(action->scope->permissions, std::vector<std::string>{"iam:CreateAccessKey"});
  }
}

TEST_F(InvictusTest, AssumeRoleIssuedKeysAreIdentitiesOfTheirRoleAndActLater) {
  const CorpusResult& c = *corpus_;
  std::map<std::string, const event::Event*> issued;  // identity -> its issuance
  for (const auto& e : c.events) {
    if (e.source_event_id.ends_with("#issued-key")) issued[e.identity] = &e;
  }
  ASSERT_EQ(issued.size(), 36u);
  for (const auto& [key, e] : issued) {
    SCOPED_TRACE(key);
    EXPECT_TRUE(key.starts_with("aws:accesskey:ASIA"));
    EXPECT_EQ(e->kind, event::Kind::kProvision);
    EXPECT_EQ(e->subject->kind, "token");
    size_t roles = std::count_if(e->aliases.begin(), e->aliases.end(),
                                 [](const std::string& a) { return a.starts_with("aws:role:"); });
    EXPECT_EQ(roles, 1u);
    ASSERT_TRUE(e->window.has_value());
    EXPECT_EQ(e->window->not_before, e->time);
    EXPECT_GT(e->window->not_after_ns, e->time_ns);
    ASSERT_TRUE(e->actor.has_value());
    // Who obtained the key is its actor, not an alias: bert-jan's key, or an AWS service (EC2,
    // RDS, Inspector, IAM Roles Anywhere) assuming its role.
    if (e->actor->type == "system") {
      EXPECT_TRUE(e->actor->id.starts_with("aws:service:"));
    } else {
      EXPECT_EQ(e->actor->id, kBertJanKey);
    }
    EXPECT_EQ(e->aliases.size(), 2u);  // the session and the role
    EXPECT_TRUE(e->aliases[0].starts_with("aws:sts-session:"));
  }
  // Later calls signed with an issued key are actions of that key, with its role as alias.
  std::map<std::string, int> uses;
  for (const auto& e : c.events) {
    if (e.kind != event::Kind::kAction || !issued.contains(e.identity)) continue;
    ++uses[e.identity];
    const event::Event* issuance = issued[e.identity];
    EXPECT_GE(e.time_ns, issuance->time_ns) << e.source_event_id;
    for (const auto& a : e.aliases) {
      if (a.starts_with("aws:role:")) {
        EXPECT_TRUE(Contains(issuance->aliases, a)) << a;
      }
    }
  }
  std::map<std::string, int> want_uses = {
      {"aws:accesskey:ASIATFQR7NSCWLLE7IWW", 29}, {"aws:accesskey:ASIATFQR7NSC2632JLFK", 15},
      {"aws:accesskey:ASIATFQR7NSCSHSEVYP5", 13}, {"aws:accesskey:ASIATFQR7NSCWFKWOWVD", 8},
      {"aws:accesskey:ASIATFQR7NSC36DZQP7P", 2},  {"aws:accesskey:ASIATFQR7NSCVW2R4OHT", 1},
      {"aws:accesskey:ASIATFQR7NSC7TITDFL2", 1},  {"aws:accesskey:ASIATFQR7NSCXLFJ4S5E", 1}};
  EXPECT_EQ(uses, want_uses);
}

TEST_F(InvictusTest, GetPasswordDataKeyTracesToItsIssuance) {
  const CorpusResult& c = *corpus_;
  const std::string role =
      std::string("aws:role:") + kAccount + "/stratus-red-team-ec2-get-password-data-role";
  const std::string key = "aws:accesskey:ASIATFQR7NSCWLLE7IWW";
  const event::Event* issuance = Find(c, "bbe86c7c-5981-4ac8-ad20-9248612b16c1#issued-key");
  ASSERT_NE(issuance, nullptr);
  EXPECT_EQ(issuance->identity, key);
  EXPECT_EQ(issuance->aliases,
            (std::vector<std::string>{
                std::string("aws:sts-session:") + kAccount +
                    "/stratus-red-team-ec2-get-password-data-role/aws-go-sdk-1688990082523310002",
                role}));
  EXPECT_EQ(issuance->actor->id, kBertJanKey);
  EXPECT_EQ(issuance->window->not_before, "2023-07-10T11:54:47Z");
  EXPECT_EQ(issuance->window->not_after, "2023-07-10T12:09:47Z");  // "Jul 10, 2023, 12:09:47 PM"
  int calls = 0;
  for (const auto& e : c.events) {
    if (e.identity != key) continue;
    if (e.kind != event::Kind::kAction) continue;
    ++calls;
    EXPECT_EQ(e.scope->permissions, std::vector<std::string>{"ec2:GetPasswordData"});
    // Denied, and still evidence.
    EXPECT_EQ(e.outcome->result, "failure");
    EXPECT_EQ(e.outcome->code, "Client.UnauthorizedOperation");
    EXPECT_TRUE(Contains(e.aliases, role));
    EXPECT_LE(e.time_ns, issuance->window->not_after_ns);
  }
  EXPECT_EQ(calls, 29);
}

// The identities nhitrace forms from these events: keys named together as identity and alias
// by one event are one identity, transitively (docs/format/trace.md, section 5).
class AliasGroups {
 public:
  explicit AliasGroups(const std::vector<event::Event>& events) {
    for (const auto& e : events) {
      if (e.identity.empty()) continue;
      Find(e.identity);
      for (const auto& a : e.aliases) parent_[Find(a)] = Find(e.identity);
    }
  }
  std::string Find(const std::string& key) {
    auto it = parent_.try_emplace(key, key).first;
    if (it->second == key) return key;
    std::string root = Find(it->second);
    parent_[key] = root;
    return root;
  }
  std::set<std::string> KeysOf(const std::string& key) {
    std::set<std::string> out;
    const std::string root = Find(key);
    std::vector<std::string> all;
    for (const auto& [k, p] : parent_) all.push_back(k);
    for (const auto& k : all) {
      if (Find(k) == root) out.insert(k);
    }
    return out;
  }

 private:
  std::map<std::string, std::string> parent_;
};

// What each identity's events are: "<kind><suffix>" -> count.
std::map<std::string, int> EventsOf(const CorpusResult& c, AliasGroups& groups,
                                    const std::string& key) {
  std::map<std::string, int> out;
  const std::string root = groups.Find(key);
  for (const auto& e : c.events) {
    if (e.identity.empty() || groups.Find(e.identity) != root) continue;
    size_t hash = e.source_event_id.find('#');
    ++out[std::string(event::KindName(e.kind)) +
          (hash == std::string::npos ? "" : e.source_event_id.substr(hash))];
  }
  return out;
}

TEST_F(InvictusTest, IssuedAndCreatedKeysFormTheirOwnIdentities) {
  const CorpusResult& c = *corpus_;
  AliasGroups groups(c.events);
  // The role session's keys: the two AssumeRole issuances of the get-password-data role, the
  // role's own lifecycle and inline policies, and the 29 GetPasswordData calls. bert-jan, who
  // assumed it, is the actor of the issuances, not part of the identity.
  const std::string role =
      std::string("aws:role:") + kAccount + "/stratus-red-team-ec2-get-password-data-role";
  EXPECT_EQ(
      groups.KeysOf("aws:accesskey:ASIATFQR7NSCWLLE7IWW"),
      (std::set<std::string>{
          "aws:accesskey:ASIATFQR7NSC7E2ZIBM2", "aws:accesskey:ASIATFQR7NSCWLLE7IWW", role,
          std::string("aws:sts-session:") + kAccount +
              "/stratus-red-team-ec2-get-password-data-role/aws-go-sdk-1688990082523310002"}));
  EXPECT_EQ(EventsOf(c, groups, role), (std::map<std::string, int>{{"action", 29},
                                                                   {"identity#policy", 2},
                                                                   {"provision#issued-key", 2},
                                                                   {"provision#provision", 1},
                                                                   {"revocation#revocation", 1}}));
  // The keys made by CreateAccessKey: each with its user, created and deleted, never used.
  for (const auto& [key, user] :
       {std::pair{"AKIATFQR7NSCQLA2F4OD", "malicious-iam-user"},
        std::pair{"AKIATFQR7NSC3ZO6PKAZ", "stratus-red-team-backdoor-u-user"}}) {
    SCOPED_TRACE(key);
    const std::string user_key = std::string("aws:iam-user:") + kAccount + "/" + user;
    EXPECT_EQ(groups.KeysOf(std::string("aws:accesskey:") + key),
              (std::set<std::string>{std::string("aws:accesskey:") + key, user_key}));
    auto events = EventsOf(c, groups, user_key);
    EXPECT_EQ(events["provision#provision"], 2);    // the user, the key
    EXPECT_EQ(events["revocation#revocation"], 2);  // the key, the user
    EXPECT_EQ(events["action"], 0);
  }
  // Different principals stay apart: bert-jan is not in the role's identity.
  EXPECT_NE(groups.Find(kBertJanKey), groups.Find(role));
}

TEST_F(InvictusTest, FailedCallsKeepTheirOutcomeAndIssueNothing) {
  const CorpusResult& c = *corpus_;
  // bert-jan's AssumeRole of the get-password-data role before its trust policy allowed it.
  const event::Event* denied = Find(c, "e4bad408-6272-4892-bf47-bd41b435ce40");
  ASSERT_NE(denied, nullptr);
  EXPECT_EQ(denied->kind, event::Kind::kAction);
  EXPECT_EQ(denied->identity, kBertJanKey);
  EXPECT_EQ(denied->outcome->result, "failure");
  EXPECT_EQ(denied->outcome->code, "AccessDenied");
  EXPECT_TRUE(denied->outcome->message.starts_with(
      "User: arn:aws:iam::123837392027:user/bert-jan is not authorized to perform: "
      "sts:AssumeRole"));
  EXPECT_EQ(Find(c, "e4bad408-6272-4892-bf47-bd41b435ce40#issued-key"), nullptr);
  int failures = 0;
  for (const auto& e : c.events) {
    if (e.kind == event::Kind::kAction && e.outcome->result == "failure") ++failures;
  }
  EXPECT_EQ(failures, 300);  // every record with an errorCode is an API call by a principal
}

TEST_F(InvictusTest, SecretsCreateReadRotateDelete) {
  const CorpusResult& c = *corpus_;
  const std::string arn =
      "arn:aws:secretsmanager:us-east-1:123837392027:secret:stratus-red-team-retrieve-secret-0-"
      "xehWok";
  const std::string key = "aws:secret:" + arn;
  const event::Event* created = Find(c, "30f9bf7b-a5dd-4661-8c97-d288ef5680a1#provision");
  ASSERT_NE(created, nullptr);
  EXPECT_EQ(created->identity, key);
  EXPECT_EQ(created->aliases,
            std::vector<std::string>{"aws:secret:arn:aws:secretsmanager:us-east-1:123837392027:"
                                     "secret:stratus-red-team-retrieve-secret-0"});
  EXPECT_EQ(created->actor->id, kBertJanKey);
  const event::Event* rotated = Find(c, "69b8d408-f752-4095-a247-301862953fbb#rotation");
  ASSERT_NE(rotated, nullptr);
  EXPECT_EQ(rotated->identity, key);
  const event::Event* deleted = Find(c, "963b9b1e-70e4-4c39-ac9a-8174ed5c8c09#revocation");
  ASSERT_NE(deleted, nullptr);
  EXPECT_EQ(deleted->identity, key);
  EXPECT_EQ(deleted->aliases, created->aliases);  // DeleteSecret names it ("aRN", "name")
  int reads = 0;
  for (const auto& e : c.events) {
    if (e.identity == key && e.source_event_id.ends_with("#secret-read")) {
      ++reads;
      EXPECT_EQ(e.kind, event::Kind::kAction);
      EXPECT_EQ(e.actor->id, kBertJanKey);
      EXPECT_EQ(e.scope->permissions, std::vector<std::string>{"secretsmanager:GetSecretValue"});
    }
  }
  EXPECT_EQ(reads, 3);
}

TEST_F(InvictusTest, ParameterKeysMatchTheArnsCloudTrailReports) {
  const CorpusResult& c = *corpus_;
  int checked = 0;
  for (const auto& e : c.events) {
    if (!e.identity.starts_with("aws:ssm-parameter:")) continue;
    // The action of the same record lists the resources CloudTrail reported.
    std::string action_id = e.source_event_id.substr(0, e.source_event_id.find('#'));
    const event::Event* action = Find(c, action_id);
    ASSERT_NE(action, nullptr);
    if (!action->scope || action->scope->resources.empty()) continue;
    EXPECT_TRUE(Contains(action->scope->resources, e.identity.substr(18))) << e.identity;
    ++checked;
  }
  EXPECT_GT(checked, 100);
}

TEST_F(InvictusTest, ConsoleSignInsAreActionsOfTheUser) {
  const CorpusResult& c = *corpus_;
  const event::Event* login = Find(c, "70e5932e-9022-4b38-837e-ca10dad94eb7");
  ASSERT_NE(login, nullptr);
  EXPECT_EQ(login->kind, event::Kind::kAction);
  EXPECT_EQ(login->identity,
            std::string("aws:iam-user:") + kAccount + "/stratus-red-team-nmfalu-gfjyeaypjt");
  EXPECT_EQ(login->scope->permissions, std::vector<std::string>{"signin:ConsoleLogin"});
  EXPECT_EQ(login->outcome->result, "success");
}

TEST(TrailDiscoverTest, EveryRecordMapsExceptTheOneWithoutUserIdentity) {
  NHI_REQUIRE_SHARED("data/cloudtrail/traildiscover");
  const auto records = LoadSamples(shared_path);
  CorpusResult c = MapCorpus(records);
  EXPECT_EQ(c.records, 563u);
  // The publisher removed userIdentity (and eventVersion) from this record: without a caller it
  // is not a CloudTrail API call record, and it is quarantined with this reason.
  ASSERT_EQ(c.errors.size(), 1u);
  EXPECT_TRUE(c.errors.begin()->first.starts_with("SendEmail.json"));
  EXPECT_EQ(c.errors.begin()->second, "userIdentity: required field is missing");
  // Everything else is a call or sign-in by a principal of the account.
  EXPECT_TRUE(c.ignored.empty());
  std::set<std::string> names;
  for (const auto& e : c.events) {
    // The keys are masked ("AKIA****************"): never an identity; the principal is, and
    // the masked value stays in the attributes. (Masked principal names, such as the role
    // "AWSReservedSSO_AdministratorAccess_********", are kept as the record names them.)
    EXPECT_FALSE(e.identity.starts_with("aws:accesskey:") &&
                 e.identity.find('*') != std::string::npos)
        << e.identity;
    if (e.kind == event::Kind::kAction && e.source_event_id.find('#') == std::string::npos) {
      names.insert(e.scope->permissions.front());
      EXPECT_NE(e.attributes.find("\"accessKeyId\":\"A"), std::string::npos) << e.attributes;
    }
  }
  EXPECT_GE(names.size(), 290u);
  EXPECT_TRUE(names.contains("lambda:AddPermission"));             // AddPermission20150331v2
  EXPECT_TRUE(names.contains("lambda:CreateEventSourceMapping"));  // ...20150331
  EXPECT_TRUE(names.contains("cloudfront:CreateFunction"));        // ...2020_05_31
  // The same record under two file names maps to the same events.
  std::map<std::string, std::string> content;
  size_t repeated = 0;
  for (const auto& e : c.events) {
    auto [it, inserted] = content.emplace(e.source_event_id, event::EncodeContent(e));
    if (!inserted) {
      ++repeated;
      EXPECT_EQ(it->second, event::EncodeContent(e)) << e.source_event_id;
    }
  }
  EXPECT_GE(repeated, 249u);
}

TEST(TrailDiscoverTest, DeniedCredentialCallsAreActionsOnly) {
  NHI_REQUIRE_SHARED("data/cloudtrail/traildiscover");
  Mapper m;
  for (const char* file : {"CreateAccessKey.json", "GetSessionToken.json",
                           "GetFederationToken.json", "AssumeRole.json", "GetSecretValue.json"}) {
    SCOPED_TRACE(file);
    const auto records = LoadSamples(shared_path);
    auto it = std::find_if(records.begin(), records.end(),
                           [&](const SampleRecord& r) { return r.file == file; });
    ASSERT_NE(it, records.end());
    auto r = m.Map(it->json);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->events.size(), 1u);
    const event::Event& e = r->events[0].event;
    EXPECT_EQ(e.kind, event::Kind::kAction);
    EXPECT_EQ(e.identity, "aws:iam-user:111111111111/TrailDiscover");
    EXPECT_EQ(e.outcome->result, "failure");
    EXPECT_EQ(e.outcome->code, "AccessDenied");
    EXPECT_FALSE(e.outcome->message.empty());
  }
}

// ---------------------------------------------------------------------------------------------
// Smaller properties.

TEST(CloudTrailTest, ParseResponseTime) {
  auto at = [](const char* rfc) { return ParseRfc3339(rfc)->unix_nanos; };
  EXPECT_EQ(ParseResponseTime("Jul 10, 2023, 12:55:24 PM"), at("2023-07-10T12:55:24Z"));
  EXPECT_EQ(ParseResponseTime("Jul 10, 2023 12:24:29 PM"), at("2023-07-10T12:24:29Z"));
  EXPECT_EQ(ParseResponseTime("Jul 10, 2023, 6:30:22 PM"), at("2023-07-10T18:30:22Z"));
  EXPECT_EQ(ParseResponseTime("May 24, 2025, 2:51:14\u202fPM"), at("2025-05-24T14:51:14Z"));
  EXPECT_EQ(ParseResponseTime("Jan 1, 2024, 12:00:00 AM"), at("2024-01-01T00:00:00Z"));
  EXPECT_EQ(ParseResponseTime("Feb 29, 2024, 12:30:00 PM"), at("2024-02-29T12:30:00Z"));
  EXPECT_EQ(ParseResponseTime("2023-07-10T12:55:24+02:00"), at("2023-07-10T10:55:24Z"));
  for (const char* bad :
       {"", "Jul 10 2023, 12:55:24 PM", "Jul 10, 2023, 12:55:24", "Foo 10, 2023, 1:00:00 PM",
        "Feb 29, 2023, 12:30:00 PM", "Jul 10, 2023, 13:00:00 PM", "Jul 10, 2023, 12:55:24 PMX",
        "2023-07-10T12:55:24", "1688990082"}) {
    EXPECT_EQ(ParseResponseTime(bad), std::nullopt) << bad;
  }
}

TEST(CloudTrailTest, LooksLike) {
  simdjson::dom::parser parser;
  auto looks = [&](const char* json) {
    element root;
    EXPECT_EQ(json::ParseJson(parser, json, &root), simdjson::SUCCESS) << json;
    return LooksLike(root);
  };
  EXPECT_TRUE(looks(
      R"({"eventVersion":"1.08","userIdentity":{"type":"IAMUser"},"eventSource":"s3.amazonaws.com","eventName":"GetObject"})"));
  EXPECT_TRUE(looks(
      R"({"eventVersion":"1.08","eventSource":"ec2.amazonaws.com","eventName":"RunInstances","eventType":"AwsCloudTrailInsight"})"));
  EXPECT_FALSE(looks(
      R"({"v":1,"kind":"action","source":{"system":"aws-cloudtrail","event_id":"x"},"time":"2026-03-02T10:31:40Z","identity":"aws:accesskey:AKIAQ3EGUXPL7EXAMPLE"})"));
  EXPECT_FALSE(
      looks(R"({"eventSource":"s3.amazonaws.com","eventName":"GetObject","userIdentity":{}})"));
  EXPECT_FALSE(
      looks(R"({"eventVersion":1.08,"eventSource":"s","eventName":"n","userIdentity":{}})"));
  EXPECT_FALSE(looks(R"([{"eventVersion":"1.08"}])"));
  EXPECT_FALSE(looks(R"({"Records":[]})"));
}

TEST(CloudTrailTest, FormatNameAndStatelessness) {
  auto importer = MakeImporter();
  EXPECT_EQ(importer->format(), "cloudtrail");
  auto finish = importer->Finish();
  ASSERT_TRUE(finish.ok());
  EXPECT_TRUE(finish->events.empty());
}

std::string CallWithEventId(const std::string& id) {
  return R"({"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::111122223333:user/ci","accountId":"111122223333","accessKeyId":"AKIAIOSFODNN7EXAMPLE","userName":"ci"},"eventTime":"2024-05-01T10:00:00Z","eventSource":"iam.amazonaws.com","eventName":"DeleteAccessKey","awsRegion":"us-east-1","requestParameters":{"accessKeyId":"AKIAI44QH8DHBEXAMPLE","userName":"deployer"},"responseElements":null,"eventID":")" +
         id + R"(","eventType":"AwsApiCall","recipientAccountId":"111122223333"})";
}

TEST(CloudTrailTest, LongEventIdsAreRejectedBeforeTheSuffixOverflows) {
  Mapper m;
  // The longest accepted id still leaves room for every suffix.
  auto ok = m.Map(CallWithEventId(std::string(992, 'e')));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  ASSERT_EQ(ok->events.size(), 2u);
  EXPECT_EQ(ok->events[1].event.source_event_id, std::string(992, 'e') + "#revocation");
  auto bad = m.Map(CallWithEventId(std::string(993, 'e')));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "eventID: longer than 992 bytes");
}

TEST(CloudTrailTest, SameRecordSameEvents) {
  Mapper a, b;
  const std::string record = CallWithEventId("4f1c9a0e-0000-4000-8000-000000000001");
  auto x = a.Map(record);
  auto y = b.Map(record);
  auto z = a.Map(record);
  ASSERT_TRUE(x.ok() && y.ok() && z.ok());
  ASSERT_EQ(x->events.size(), y->events.size());
  for (size_t i = 0; i < x->events.size(); ++i) {
    EXPECT_EQ(x->events[i].event, y->events[i].event);
    EXPECT_EQ(x->events[i].event, z->events[i].event);
  }
  EXPECT_NE(x->events[0].event.source_event_id, x->events[1].event.source_event_id);
}

TEST(CloudTrailTest, ManyResourcesAreCappedAndCounted) {
  std::string resources;
  for (int i = 0; i < 5000; ++i) {
    if (i > 0) resources += ',';
    resources += R"({"ARN":"arn:aws:s3:::bucket/object-)" + std::to_string(i) + R"("})";
  }
  const std::string record =
      R"({"eventVersion":"1.08","userIdentity":{"type":"IAMUser","accountId":"111122223333","accessKeyId":"AKIAIOSFODNN7EXAMPLE","userName":"ci"},"eventTime":"2024-05-01T10:00:00Z","eventSource":"s3.amazonaws.com","eventName":"DeleteObjects","eventID":"e1","eventType":"AwsApiCall","recipientAccountId":"111122223333","resources":[)" +
      resources + "]}";
  Mapper m;
  auto r = m.Map(record);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->events.size(), 1u);
  EXPECT_EQ(r->events[0].event.scope->resources.size(), event::kMaxListItems);
  EXPECT_NE(r->events[0].event.attributes.find("\"resourcesOmitted\":904"), std::string::npos);
}

}  // namespace
}  // namespace nhitrace::ingest::cloudtrail
