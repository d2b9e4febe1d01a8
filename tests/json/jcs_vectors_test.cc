// RFC 8785 conformance against the cyberphone/json-canonicalization test data in
// ../shared/vectors/jcs-rfc8785: input/<name>.json must canonicalise to exactly the bytes of
// output/<name>.json, which outhex/<name>.txt spells out in hex.
#include <filesystem>
#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "base/encoding.h"
#include "base/file.h"
#include "json/canonical.h"
#include "testing/shared_data.h"

namespace nhitrace::json {
namespace {

namespace fs = std::filesystem;

std::string ReadOrDie(const fs::path& p) {
  Result<std::string> r = ReadFileToString(p.string());
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : std::string();
}

// outhex files hold space- and newline-separated hex bytes.
std::string BytesFromOuthex(const std::string& text) {
  std::istringstream in(text);
  std::string token, hex;
  while (in >> token) hex += token;
  auto bytes = HexDecode(hex);
  EXPECT_TRUE(bytes.has_value()) << "bad outhex";
  return bytes.value_or("");
}

TEST(JcsVectorsTest, EveryInputCanonicalisesToItsOutput) {
  NHI_REQUIRE_SHARED("vectors/jcs-rfc8785/input");
  const fs::path root = shared_path.parent_path();
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(shared_path)) {
    if (entry.path().extension() == ".json") names.insert(entry.path().stem().string());
  }
  // The upstream set: arrays, french, structures, unicode, values, weird.
  ASSERT_GE(names.size(), 6u);
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    const std::string input = ReadOrDie(root / "input" / (name + ".json"));
    const std::string expected = ReadOrDie(root / "output" / (name + ".json"));
    const std::string expected_hex = BytesFromOuthex(ReadOrDie(root / "outhex" / (name + ".txt")));
    ASSERT_FALSE(expected.empty());
    EXPECT_EQ(expected_hex, expected) << "output/ and outhex/ disagree";

    Result<std::string> got = Canonicalize(input);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, expected);
    EXPECT_EQ(HexEncode(*got), HexEncode(expected_hex));

    // The canonical form is a fixed point.
    Result<std::string> again = Canonicalize(*got);
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_EQ(*again, *got);
  }
}

}  // namespace
}  // namespace nhitrace::json
