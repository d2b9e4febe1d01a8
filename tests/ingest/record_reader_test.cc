#include "ingest/record_reader.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <zlib.h>

#include "ingest/byte_source.h"

namespace nhitrace::ingest {
namespace {

// Reads through a source that returns at most `step` bytes per Read, to cross every boundary.
class TrickleSource final : public ByteSource {
 public:
  TrickleSource(std::string data, size_t step) : data_(std::move(data)), step_(step) {}
  Result<size_t> Read(char* buf, size_t n) override {
    size_t take = std::min({n, step_, data_.size() - pos_});
    std::copy_n(data_.data() + pos_, take, buf);
    pos_ += take;
    return take;
  }

 private:
  std::string data_;
  size_t step_;
  size_t pos_ = 0;
};

struct Read {
  std::vector<std::string> records;
  std::vector<uint64_t> lines;
  std::vector<bool> overlong;
  std::string framing;
  uint64_t blank = 0;
};

Read ReadAll(const std::string& input, size_t max = 1 << 20, size_t step = 1 << 20,
             bool lines_only = false) {
  auto src = OpenInput(std::make_unique<TrickleSource>(input, step));
  EXPECT_TRUE(src.ok());
  RecordReader reader(src->get(), max, lines_only);
  Read out;
  Record r;
  for (;;) {
    auto more = reader.Next(&r);
    EXPECT_TRUE(more.ok()) << more.status().ToString();
    if (!more.ok() || !*more) break;
    out.records.emplace_back(r.data);
    out.lines.push_back(r.line);
    out.overlong.push_back(r.overlong);
  }
  out.framing = std::string(reader.framing());
  out.blank = reader.blank_lines();
  return out;
}

std::string Gzip(const std::string& data) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, data.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// Every framing, read whole and one byte at a time, gives the same records.
struct FramingCase {
  const char* name;
  std::string input;
  std::vector<std::string> records;
  std::string framing;
};

class FramingTest : public ::testing::TestWithParam<FramingCase> {};

TEST_P(FramingTest, SplitsIntoExactRecordBytes) {
  const FramingCase& c = GetParam();
  for (size_t step : {size_t{1}, size_t{3}, size_t{1} << 20}) {
    Read r = ReadAll(c.input, 1 << 20, step);
    EXPECT_EQ(r.records, c.records) << c.name << " step " << step;
    EXPECT_EQ(r.framing, c.framing) << c.name;
    Read z = ReadAll(Gzip(c.input), 1 << 20, step);
    EXPECT_EQ(z.records, c.records) << c.name << " gzip step " << step;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Framings, FramingTest,
    ::testing::Values(
        FramingCase{"lines",
                    "{\"a\":1}\n\n  \n{\"b\":\"}\\\"{\"}\r\n{\"c\":3}",
                    {"{\"a\":1}", "{\"b\":\"}\\\"{\"}\r", "{\"c\":3}"},
                    "json-lines"},
        FramingCase{"malformed line does not swallow the next",
                    "{\"a\":1}\n{\"b\":[1,\n{\"c\":3}\n",
                    {"{\"a\":1}", "{\"b\":[1,", "{\"c\":3}"},
                    "json-lines"},
        FramingCase{"pretty documents",
                    "{\n  \"a\": {\"x\": [1, 2]}\n}\n{\n  \"b\": \"]\"\n}\n",
                    {"{\n  \"a\": {\"x\": [1, 2]}\n}", "{\n  \"b\": \"]\"\n}"},
                    "json"},
        FramingCase{"array",
                    " [ {\"a\":1} ,\n {\"b\":[2]},{\"c\":\"]\"} ]\n",
                    {"{\"a\":1}", "{\"b\":[2]}", "{\"c\":\"]\"}"},
                    "json-array"},
        FramingCase{"cloudtrail records",
                    "{\"Records\": [{\"eventID\":\"1\"},\n{\"eventID\":\"2\"}], \"x\": {\"y\": "
                    "\"}\"}}{\"Records\":[{\"eventID\":\"3\"}]}",
                    {"{\"eventID\":\"1\"}", "{\"eventID\":\"2\"}", "{\"eventID\":\"3\"}"},
                    "cloudtrail-records"},
        FramingCase{"empty", "", {}, "json-lines"},
        FramingCase{"empty array", "[]", {}, "json-array"}),
    [](const auto& param_info) {
      std::string n;
      for (char ch : std::string(param_info.param.name)) n += std::isalnum(ch) ? ch : '_';
      return n;
    });

TEST(RecordReaderTest, LinesCountBlankLinesAndNumberRecordsByLine) {
  Read r = ReadAll("{\"a\":1}\n\n \t\n{\"b\":2}\n");
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.lines, (std::vector<uint64_t>{1, 4}));
  EXPECT_EQ(r.blank, 2u);
}

TEST(RecordReaderTest, DocumentsAreNumberedByTheirFirstLine) {
  Read r = ReadAll("[\n{\"a\":\n1},\n\n{\"b\":2}]");
  EXPECT_EQ(r.lines, (std::vector<uint64_t>{2, 5}));
}

TEST(RecordReaderTest, JsonLinesOnlyKeepsAnArrayLineAsOneRecord) {
  Read r = ReadAll("[{\"a\":1}]\n{\"b\":2}\n", 1 << 20, 1 << 20, true);
  EXPECT_EQ(r.records, (std::vector<std::string>{"[{\"a\":1}]", "{\"b\":2}"}));
}

TEST(RecordReaderTest, OverlongRecordsKeepAPrefixAndTheNextRecordSurvives) {
  std::string big = "{\"a\":\"" + std::string(5000, 'x') + "\"}";
  for (const std::string& input : {big + "\n{\"b\":2}\n", "[" + big + ",{\"b\":2}]"}) {
    for (size_t step : {size_t{7}, size_t{1} << 20}) {
      Read r = ReadAll(input, 100, step);
      ASSERT_EQ(r.records.size(), 2u) << input.substr(0, 20);
      EXPECT_TRUE(r.overlong[0]);
      EXPECT_EQ(r.records[0], big.substr(0, 100));
      EXPECT_FALSE(r.overlong[1]);
      EXPECT_EQ(r.records[1], "{\"b\":2}");
    }
  }
}

TEST(ByteSourceTest, ConcatenatedGzipMembersAreReadInOrder) {
  std::string input = Gzip("{\"a\":1}\n") + Gzip("{\"b\":2}\n");
  Read r = ReadAll(input);
  EXPECT_EQ(r.records, (std::vector<std::string>{"{\"a\":1}", "{\"b\":2}"}));
}

TEST(ByteSourceTest, TruncatedOrCorruptGzipIsDataLoss) {
  std::string gz = Gzip(std::string(10000, 'a'));
  for (const std::string& bad : {gz.substr(0, gz.size() / 2), gz.substr(0, 12) + "garbage!!"}) {
    auto src = OpenInput(std::make_unique<MemorySource>(bad));
    ASSERT_TRUE(src.ok());
    char buf[4096];
    Status st = OkStatus();
    for (;;) {
      auto n = (*src)->Read(buf, sizeof buf);
      if (!n.ok()) {
        st = n.status();
        break;
      }
      if (*n == 0) break;
    }
    EXPECT_EQ(st.code(), StatusCode::kDataLoss) << st.ToString();
    EXPECT_NE(st.message().find("compressed byte"), std::string::npos) << st.message();
  }
}

}  // namespace
}  // namespace nhitrace::ingest
