// The importer path of ingest: framing, mapping to several events, "not NHI-relevant" counts,
// quarantine of mapping errors and of invalid events, records held back and emitted later.
#include <gtest/gtest.h>
#include <simdjson.h>

#include "ingest/importer.h"
#include "ingest/ingest.h"
#include "json/dom.h"
#include "testing/ledger_fixture.h"
#include "testing/mem_file.h"

namespace nhitrace::ingest {
namespace {

using testing::LedgerFixture;
using testing::MemFile;

// Records: {"id":"r1","op":"events","n":2} → n actions; {"op":"ignore","name":"x"} → ignored;
// {"op":"fail"} → error; {"op":"invalid"} → an event with an empty identity on an action;
// {"op":"hold"} → held back, emitted by the next "events" record or by Finish.
class FakeImporter final : public Importer {
 public:
  std::string_view format() const override { return "fake"; }

  Result<MapResult> Map(const simdjson::dom::element& record, std::string_view raw) override {
    auto obj = json::ObjectOf(record);
    std::string_view op, id;
    if (obj["op"].get(op) != simdjson::SUCCESS) return InvalidArgumentError("op: missing");
    if (obj["id"].get(id) != simdjson::SUCCESS) id = "";
    MapResult out;
    if (op == "ignore") {
      std::string_view name;
      if (obj["name"].get(name) != simdjson::SUCCESS) name = "";
      out.ignored = std::string(name);
      return out;
    }
    if (op == "fail") return InvalidArgumentError("detail.thing: is not what it should be");
    if (op == "hold") {
      held_.push_back({Action(std::string(id), 0), std::string(raw)});
      out.ignored = "held";
      return out;
    }
    if (op == "invalid") {
      MappedEvent m{Action(std::string(id), 0), std::nullopt};
      m.event.identity.clear();
      out.events.push_back(std::move(m));
      return out;
    }
    int64_t n = 0;
    if (obj["n"].get(n) != simdjson::SUCCESS) n = 0;
    for (auto& h : held_) out.events.push_back(std::move(h));
    held_.clear();
    for (int64_t i = 0; i < n; ++i) {
      out.events.push_back({Action(std::string(id), static_cast<int>(i)), std::nullopt});
    }
    return out;
  }

  Result<MapResult> Finish() override {
    MapResult out;
    for (auto& h : held_) out.events.push_back(std::move(h));
    held_.clear();
    return out;
  }

 private:
  static event::Event Action(const std::string& id, int i) {
    event::Event e;
    e.kind = event::Kind::kAction;
    e.source_system = "fake";
    e.source_event_id = id + "#" + std::to_string(i);
    e.time = "2026-03-01T10:00:00Z";
    e.time_ns = testing::kTestEpochNs + 36000LL * 1000000000LL;
    e.identity = "fake:key:" + id;
    return e;
  }
  std::vector<MappedEvent> held_;
};

class ImporterPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(f_.Init().ok());
    auto l = f_.Open();
    ASSERT_TRUE(l.ok());
    ledger_ = std::move(l).value();
  }
  Result<IngestStats> Ingest(const std::string& input) {
    IngestOptions opts;
    opts.source_name = "in.json";
    opts.importer = &importer_;
    opts.on_reject = [this](const Rejection& r) { rejections_.push_back(r.ToString()); };
    UniqueFd fd = MemFile(input);
    return IngestFd(fd.get(), *ledger_, opts);
  }
  LedgerFixture f_;
  std::unique_ptr<ledger::Ledger> ledger_;
  FakeImporter importer_;
  std::vector<std::string> rejections_;
};

TEST_F(ImporterPipelineTest, EveryRecordIsMappedIgnoredOrQuarantined) {
  const std::string r1 = R"({"id":"a","op":"events","n":3})";
  std::string input = "[" + r1 + R"(,{"op":"ignore","name":"s3:GetBucketAcl"},
    {"op":"ignore","name":"s3:GetBucketAcl"},{"op":"fail"},{"id":"b","op":"invalid"},[1],
    {"id":"c","op":"events","n":1}])";
  auto s = Ingest(input);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->format, "fake");
  EXPECT_EQ(s->framing, "json-array");
  EXPECT_EQ(s->records, 7u);
  EXPECT_EQ(s->mapped, 2u);
  EXPECT_EQ(s->ignored, 2u);
  EXPECT_EQ(s->quarantined, 3u);
  EXPECT_EQ(s->records, s->mapped + s->ignored + s->quarantined);
  EXPECT_EQ(s->accepted, 4u);
  EXPECT_EQ(s->ignored_by_name.at("s3:GetBucketAcl"), 2u);
  ASSERT_EQ(rejections_.size(), 3u);
  EXPECT_EQ(rejections_[0], "in.json:2: detail.thing: is not what it should be");
  EXPECT_EQ(
      rejections_[1].rfind("in.json:2: event.identity: fake importer made an invalid event", 0), 0u)
      << rejections_[1];
  EXPECT_EQ(rejections_[2], "in.json:2: record: must be a JSON object");
  // Each event of a record keeps the record's exact bytes as its raw record.
  for (uint64_t seq = 0; seq < 3; ++seq) {
    auto raw = ledger_->store().GetRawForEvent(seq);
    ASSERT_TRUE(raw.ok() && raw->has_value());
    EXPECT_EQ((*raw)->bytes, r1);
  }
  // Quarantined records keep their bytes and the format.
  auto q = ledger_->store().ListQuarantine(0, 10);
  ASSERT_TRUE(q.ok());
  ASSERT_EQ(q->size(), 3u);
  EXPECT_EQ((*q)[0].raw, R"({"op":"fail"})");
  EXPECT_EQ((*q)[0].format, "fake");
  // Importing again stores nothing new.
  rejections_.clear();
  auto again = Ingest(input);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->accepted, 0u);
  EXPECT_EQ(again->duplicate, 4u);
}

TEST_F(ImporterPipelineTest, HeldBackRecordsKeepTheirOwnBytes) {
  const std::string held = R"({"id":"h","op":"hold"})";
  const std::string last = R"({"id":"z","op":"hold"})";
  std::string input = held + "\n" + R"({"id":"e","op":"events","n":1})" + "\n" + last + "\n";
  auto s = Ingest(input);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->framing, "json-lines");
  EXPECT_EQ(s->accepted, 3u);
  // The held records were counted when held (as "held"), not again when their events came.
  EXPECT_EQ(s->records, 3u);
  EXPECT_EQ(s->mapped, 1u);
  EXPECT_EQ(s->ignored, 2u);
  EXPECT_EQ(s->ignored_by_name.at("held"), 2u);
  auto raw0 = ledger_->store().GetRawForEvent(0);
  ASSERT_TRUE(raw0.ok() && raw0->has_value());
  EXPECT_EQ((*raw0)->bytes, held);
  auto raw2 = ledger_->store().GetRawForEvent(2);
  ASSERT_TRUE(raw2.ok() && raw2->has_value());
  EXPECT_EQ((*raw2)->bytes, last);  // emitted by Finish
}

}  // namespace
}  // namespace nhitrace::ingest
