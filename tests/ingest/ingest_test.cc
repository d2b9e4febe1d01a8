#include "ingest/ingest.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/file.h"
#include "testing/ledger_fixture.h"
#include "testing/mem_file.h"

namespace nhitrace::ingest {
namespace {

using testing::MemFile;

using testing::ActionLine;
using testing::LedgerFixture;

class IngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(f_.Init().ok());
    auto l = f_.Open();
    ASSERT_TRUE(l.ok());
    ledger_ = std::move(l).value();
  }

  Result<IngestStats> Ingest(const std::string& input, IngestOptions opts = {}) {
    opts.source_name = "in.jsonl";
    opts.on_reject = [this](const Rejection& r) { rejections_.push_back(r); };
    UniqueFd fd = MemFile(input);
    return IngestNativeStream(fd.get(), *ledger_, opts);
  }

  LedgerFixture f_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::vector<Rejection> rejections_;
};

TEST_F(IngestTest, AcceptsValidLinesSkipsBlankOnesAndCounts) {
  std::string in = ActionLine(1) + "\n\n   \n" + ActionLine(2) + "\r\n" + ActionLine(3);
  auto s = Ingest(in);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->lines, 5u);
  EXPECT_EQ(s->blank, 2u);
  EXPECT_EQ(s->accepted, 3u);
  EXPECT_EQ(s->duplicate, 0u);
  EXPECT_EQ(s->quarantined, 0u);
  EXPECT_EQ(s->tree_size, 3u);
  EXPECT_EQ(s->bytes, in.size());
  // The raw record is the line exactly as received (here with its CR).
  auto raw = ledger_->store().GetRawForEvent(1);
  EXPECT_EQ((*raw)->bytes, ActionLine(2) + "\r");
}

TEST_F(IngestTest, ReingestingIsIdempotent) {
  std::string in;
  for (int i = 0; i < 50; ++i) in += ActionLine(i) + "\n";
  ASSERT_EQ(Ingest(in)->accepted, 50u);
  tlog::Hash root = ledger_->root();
  auto again = Ingest(in);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->accepted, 0u);
  EXPECT_EQ(again->duplicate, 50u);
  EXPECT_EQ(ledger_->size(), 50u);
  EXPECT_EQ(ledger_->root(), root);
  // The same record twice within one input is stored once too.
  auto within = Ingest(ActionLine(100) + "\n" + ActionLine(100) + "\n");
  EXPECT_EQ(within->accepted, 1u);
  EXPECT_EQ(within->duplicate, 1u);
}

TEST_F(IngestTest, ASourceIdAtAnotherTimeIsAnotherRecord) {
  // Record identity is (source.system, time, source.event_id): a re-export with the same time
  // is a duplicate, a record that reuses the id at another time is stored too.
  std::string a =
      R"({"kind":"signal","source":{"system":"s","event_id":"x"},"time":"2026-03-01T10:00:00Z"})";
  std::string b =
      R"({"kind":"signal","source":{"system":"s","event_id":"x"},"time":"2026-03-01T10:00:01Z"})";
  auto s = Ingest(a + "\n" + a + "\n" + b + "\n");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->accepted, 2u);
  EXPECT_EQ(s->duplicate, 1u);
  EXPECT_EQ(s->quarantined, 0u);
}

TEST_F(IngestTest, OutOfOrderTimestampsAreKeptAsGiven) {
  std::string late = R"({"kind":"signal","source":{"system":"s","event_id":"late"},)"
                     R"("time":"2026-03-05T12:00:00.5+02:00"})";
  std::string early = R"({"kind":"signal","source":{"system":"s","event_id":"early"},)"
                      R"("time":"2025-12-31T23:59:59.999999999Z"})";
  auto s = Ingest(late + "\n" + early + "\n");
  ASSERT_EQ(s->accepted, 2u);
  // Sequence follows arrival; the source time is kept verbatim in the signed leaf.
  auto e0 = event::DecodeLeaf((*ledger_->store().GetEvent(0))->leaf);
  auto e1 = event::DecodeLeaf((*ledger_->store().GetEvent(1))->leaf);
  EXPECT_EQ(e0->event.time, "2026-03-05T12:00:00.5+02:00");
  EXPECT_EQ(e1->event.time, "2025-12-31T23:59:59.999999999Z");
  EXPECT_LT(e1->event.time_ns, e0->event.time_ns);
}

struct BadLine {
  const char* name;
  std::string line;
  std::string field;
  std::string reason_prefix;
};

class IngestRejectTest : public IngestTest, public ::testing::WithParamInterface<BadLine> {};

// Every rejected line is quarantined with its bytes and a file:line: field: reason message,
// and the good lines around it are accepted.
TEST_P(IngestRejectTest, QuarantinesWithReasonAndKeepsGoing) {
  const BadLine& b = GetParam();
  IngestOptions opts;
  opts.max_line_bytes = 4096;
  auto s = Ingest(ActionLine(1) + "\n" + b.line + "\n" + ActionLine(2) + "\n", opts);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->accepted, 2u);
  EXPECT_EQ(s->quarantined, 1u);
  ASSERT_EQ(rejections_.size(), 1u);
  const Rejection& r = rejections_[0];
  EXPECT_EQ(r.line, 2u);
  EXPECT_EQ(r.field, b.field);
  EXPECT_EQ(r.reason.substr(0, b.reason_prefix.size()), b.reason_prefix) << r.reason;
  // The prefix must end where a word ends, so "byte 10" cannot pass for "byte 102".
  if (r.reason.size() > b.reason_prefix.size()) {
    char next = r.reason[b.reason_prefix.size()];
    EXPECT_TRUE(next == ' ' || next == ',' || next == '(' || next == ';' || next == ':' ||
                next == '"')
        << r.reason;
  }
  EXPECT_EQ(r.ToString(), "in.jsonl:2: " + b.field + ": " + r.reason);
  auto q = ledger_->store().ListQuarantine(0, 10);
  ASSERT_TRUE(q.ok());
  ASSERT_EQ(q->size(), 1u);
  const store::QuarantineRow& row = (*q)[0];
  EXPECT_EQ(row.source, "in.jsonl");
  EXPECT_EQ(row.line, 2u);
  EXPECT_EQ(row.field, b.field);
  EXPECT_EQ(row.raw_size, b.line.size());
  EXPECT_EQ(row.raw_sha256, std::string(crypto::AsBytes(crypto::Sha256(b.line))));
  if (b.line.size() <= 4096) {
    EXPECT_EQ(row.raw, b.line);
    EXPECT_FALSE(row.truncated);
  } else {
    EXPECT_EQ(row.raw, b.line.substr(0, 4096));
    EXPECT_TRUE(row.truncated);
  }
}

std::string Event(const std::string& extra, const std::string& time = "2026-01-01T00:00:00Z") {
  return R"({"kind":"signal","source":{"system":"s","event_id":"x"},"time":")" + time + "\"" +
         extra + "}";
}

INSTANTIATE_TEST_SUITE_P(
    Classes, IngestRejectTest,
    ::testing::Values(
        BadLine{"invalid_utf8", Event(",\"rationale\":\"caf\xC3\x28\""), "record",
                "invalid UTF-8 at byte 102"},
        BadLine{"overlong", Event(",\"rationale\":\"" + std::string(5000, 'a') + "\""), "record",
                "line is 5101 bytes, longer than the limit of 4096"},
        BadLine{"not_json", "{\"kind\":", "record", "not valid JSON"},
        BadLine{"wrong_type", Event(",\"scope\":{\"resources\":[1]}"), "scope.resources[0]",
                "must be a string, got a number"},
        BadLine{"missing_required", R"({"kind":"signal","time":"2026-01-01T00:00:00Z"})", "source",
                "required field is missing"},
        BadLine{
            "unknown_kind",
            R"({"kind":"teleport","source":{"system":"s","event_id":"x"},"time":"2026-01-01T00:00:00Z"})",
            "kind", "unknown kind \"teleport\""},
        BadLine{"no_offset", Event("", "2026-01-01T00:00:00.123"), "time",
                "not an RFC 3339 date-time with offset (missing offset"},
        BadLine{"conflict", ActionLine(1, "aws:accesskey:DIFFERENT"), "source.event_id",
                "conflicts with stored event seq 0"}),
    [](const auto& p) { return std::string(p.param.name); });

TEST_F(IngestTest, CommitsInBatchesAndReportsOnlyDurableCounts) {
  std::string in;
  for (int i = 0; i < 1000; ++i) in += ActionLine(i) + "\n";
  IngestOptions opts;
  opts.batch_lines = 300;
  std::vector<uint64_t> reported;
  opts.on_commit = [&](const IngestStats& s) {
    reported.push_back(s.accepted);
    // What is reported is already in the store, under a signed checkpoint.
    EXPECT_EQ(*ledger_->store().EventCount(), s.accepted);
    EXPECT_EQ((*ledger_->store().LatestCheckpoint())->size, s.accepted);
  };
  auto s = Ingest(in, opts);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(reported, (std::vector<uint64_t>{300, 600, 900, 1000}));
}

}  // namespace
}  // namespace nhitrace::ingest
