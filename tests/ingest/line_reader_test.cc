#include "ingest/line_reader.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/file.h"
#include "testing/mem_file.h"

namespace nhitrace::ingest {
namespace {

using testing::MemFile;

std::vector<Line> ReadAll(const std::string& contents, size_t max, std::vector<std::string>* data) {
  UniqueFd fd = MemFile(contents);
  LineReader r(fd.get(), max);
  std::vector<Line> lines;
  Line l;
  for (;;) {
    auto more = r.Next(&l);
    EXPECT_TRUE(more.ok());
    if (!more.ok() || !*more) break;
    lines.push_back(l);
    data->emplace_back(l.data);
  }
  return lines;
}

TEST(LineReaderTest, SplitsLinesKeepsCarriageReturnsAndTheLastLineWithoutNewline) {
  std::vector<std::string> d;
  auto lines = ReadAll("a\r\n\nbb\nccc", 100, &d);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(d, (std::vector<std::string>{"a\r", "", "bb", "ccc"}));
  EXPECT_EQ(lines[3].number, 4u);
  EXPECT_FALSE(lines[3].overlong);
}

TEST(LineReaderTest, EmptyInputHasNoLines) {
  std::vector<std::string> d;
  EXPECT_TRUE(ReadAll("", 10, &d).empty());
}

TEST(LineReaderTest, OverlongLinesKeepTheirPrefixSizeAndHashAndTheNextLineSurvives) {
  std::string big(5000, 'x');
  std::vector<std::string> d;
  auto lines = ReadAll("ok\n" + big + "\n1234567890\nafter", 10, &d);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_FALSE(lines[0].overlong);
  EXPECT_TRUE(lines[1].overlong);
  EXPECT_EQ(d[1], std::string(10, 'x'));
  EXPECT_EQ(lines[1].full_size, 5000u);
  EXPECT_EQ(lines[1].full_sha256, crypto::Sha256(big));
  EXPECT_FALSE(lines[2].overlong);  // exactly at the limit is allowed
  EXPECT_EQ(d[2], "1234567890");
  EXPECT_EQ(d[3], "after");
  EXPECT_EQ(lines[3].number, 4u);
}

TEST(LineReaderTest, AnOverlongLineLargerThanTheBufferIsStreamed) {
  // 3 MiB on one line, larger than the reader's 1 MiB buffer.
  std::string big(3 << 20, 'y');
  std::vector<std::string> d;
  auto lines = ReadAll(big + "\nz", 1000, &d);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_TRUE(lines[0].overlong);
  EXPECT_EQ(lines[0].full_size, big.size());
  EXPECT_EQ(lines[0].full_sha256, crypto::Sha256(big));
  EXPECT_EQ(d[1], "z");
}

TEST(LineReaderTest, ManyLinesAcrossBufferBoundaries) {
  std::string input;
  for (int i = 0; i < 200000; ++i) input += "line-" + std::to_string(i) + "\n";
  std::vector<std::string> d;
  auto lines = ReadAll(input, 64, &d);
  ASSERT_EQ(lines.size(), 200000u);
  for (int i = 0; i < 200000; i += 7919) EXPECT_EQ(d[i], "line-" + std::to_string(i));
}

}  // namespace
}  // namespace nhitrace::ingest
