#include "json/writer.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/file.h"
#include "json/canonical.h"
#include "testing/shared_data.h"

namespace nhitrace::json {
namespace {

std::string Canon(std::string_view in) {
  Result<std::string> r = Canonicalize(in);
  EXPECT_TRUE(r.ok()) << in << ": " << r.status().ToString();
  return r.ok() ? *r : "<error>";
}

TEST(JsonWriterTest, CompactOutputInWrittenOrder) {
  JsonWriter w;
  w.BeginObject();
  w.Key("seq").Int(12);
  w.Key("kind").String("action");
  w.Key("list")
      .BeginArray()
      .Int(1)
      .BeginObject()
      .EndObject()
      .BeginArray()
      .EndArray()
      .Null()
      .EndArray();
  w.Key("nested").BeginObject().Key("b").Bool(true).Key("a").Bool(false).EndObject();
  w.EndObject();
  EXPECT_EQ(w.str(),
            R"({"seq":12,"kind":"action","list":[1,{},[],null],"nested":{"b":true,"a":false}})");
}

TEST(JsonWriterTest, ScalarsAtTopLevel) {
  EXPECT_EQ(JsonWriter().String("a\"b\n").str(), R"("a\"b\n")");
  EXPECT_EQ(JsonWriter().Double(1e21).str(), "1e+21");
  EXPECT_EQ(JsonWriter().Double(-0.0).str(), "0");
  EXPECT_EQ(JsonWriter().Int(-5).str(), "-5");
  EXPECT_EQ(JsonWriter().Uint(5).str(), "5");
  EXPECT_EQ(JsonWriter().Null().str(), "null");
  JsonWriter w;
  w.Bool(true);
  EXPECT_EQ(w.Take(), "true");
}

// Numbers past 2^53 are written as the double they denote, as Canonicalize would write them
// (a uint64 above INT64_MAX used to come out negative).
TEST(JsonWriterTest, LargeIntegersAreCanonical) {
  EXPECT_EQ(JsonWriter().Uint(std::numeric_limits<uint64_t>::max()).str(), "18446744073709552000");
  EXPECT_EQ(JsonWriter().Uint(uint64_t{1} << 63).str(), "9223372036854776000");
  EXPECT_EQ(JsonWriter().Uint((uint64_t{1} << 53) + 1).str(), "9007199254740992");
  EXPECT_EQ(JsonWriter().Uint(uint64_t{1} << 53).str(), "9007199254740992");
  EXPECT_EQ(JsonWriter().Int((int64_t{1} << 53) + 1).str(), "9007199254740992");
  EXPECT_EQ(JsonWriter().Int(std::numeric_limits<int64_t>::min()).str(), "-9223372036854776000");
}

TEST(JsonWriterTest, RawInsertsValue) {
  JsonWriter w = JsonWriter::Canonical();
  w.BeginObject().Key("a").Raw(R"({"x":1})").Key("b").BeginArray().Raw("[]").Raw("2").EndArray();
  w.EndObject();
  EXPECT_EQ(w.str(), R"({"a":{"x":1},"b":[[],2]})");
}

// The canonical writer reproduces the RFC 8785 vector output byte for byte when the members are
// written in canonical order.
TEST(JsonWriterTest, CanonicalReproducesJcsValuesVector) {
  NHI_REQUIRE_SHARED("vectors/jcs-rfc8785/output/values.json");
  Result<std::string> expected = ReadFileToString(shared_path.string());
  ASSERT_TRUE(expected.ok());
  JsonWriter w = JsonWriter::Canonical();
  w.BeginObject();
  w.Key("literals").BeginArray().Null().Bool(true).Bool(false).EndArray();
  w.Key("numbers").BeginArray();
  w.Double(333333333.33333329)
      .Double(1E30)
      .Double(4.50)
      .Double(2e-3)
      .Double(0.000000000000000000000000001);
  w.EndArray();
  w.Key("string").String("\xE2\x82\xAC$\x0f\nA'B\"\\\\\"/");
  w.EndObject();
  EXPECT_EQ(w.str(), *expected);
}

TEST(JsonWriterTest, CanonicalReproducesJcsWeirdVector) {
  NHI_REQUIRE_SHARED("vectors/jcs-rfc8785/output/weird.json");
  Result<std::string> expected = ReadFileToString(shared_path.string());
  ASSERT_TRUE(expected.ok());
  JsonWriter w = JsonWriter::Canonical();
  w.BeginObject();
  w.Key("\n").String("Newline");
  w.Key("\r").String("Carriage Return");
  w.Key("1").String("One");
  w.Key("</script>").String("Browser Challenge");
  w.Key("\xC2\x80").String("Control\x7f");
  w.Key("\xC3\xB6").String("Latin Small Letter O With Diaeresis");
  w.Key("\xE2\x82\xAC").String("Euro Sign");
  w.Key("\xF0\x9F\x98\x82").String("Smiley");  // a surrogate pair sorts before U+FB33
  w.Key("\xEF\xAC\xB3").String("Hebrew Letter Dalet With Dagesh");
  w.EndObject();
  EXPECT_EQ(w.str(), *expected);
}

// Random documents written in canonical order are equal to their own canonical form.
TEST(JsonWriterTest, CanonicalOutputIsAFixedPoint) {
  std::mt19937_64 rng(8785);
  const std::vector<std::string> key_pool = {
      "", "a", "b", "aa", "A", "\xC3\xA9", "\xEE\x80\x80", "\xF0\x9F\x98\x82", "\x01", "z z"};
  auto value = [&](JsonWriter& w) {
    switch (rng() % 7) {
      case 0:
        w.Int(static_cast<int64_t>(rng()));
        break;
      case 1:
        w.Uint(rng());
        break;
      case 2: {
        double d = std::bit_cast<double>(rng());
        w.Double(std::isfinite(d) ? d : 0.5);
        break;
      }
      case 3:
        w.String(key_pool[rng() % key_pool.size()] + "\"\\\t\x1f");
        break;
      case 4:
        w.Bool(rng() % 2 == 0);
        break;
      case 5:
        w.Null();
        break;
      default:
        w.Int(static_cast<int64_t>(rng() % 2000) - 1000);
    }
  };
  for (int doc = 0; doc < 300; ++doc) {
    std::vector<std::string> keys = key_pool;
    std::shuffle(keys.begin(), keys.end(), rng);
    keys.resize(rng() % keys.size());
    std::sort(keys.begin(), keys.end(),
              [](const std::string& a, const std::string& b) { return CompareUtf16(a, b) < 0; });
    JsonWriter w = JsonWriter::Canonical();
    w.BeginObject();
    for (const std::string& k : keys) {
      w.Key(k);
      if (rng() % 3 == 0) {
        w.BeginArray();
        for (int i = static_cast<int>(rng() % 4); i > 0; --i) value(w);
        w.EndArray();
      } else {
        value(w);
      }
    }
    w.EndObject();
    ASSERT_EQ(Canon(w.str()), w.str());
  }
}

using JsonWriterDeathTest = ::testing::Test;

// An out-of-order or repeated key in canonical mode is a programming error that would change a
// leaf hash, so it aborts.
TEST(JsonWriterDeathTest, CanonicalModeAbortsOnOrderViolation) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        JsonWriter w = JsonWriter::Canonical();
        w.BeginObject().Key("b").Int(1).Key("a").Int(2);
      },
      "out of canonical order");
  EXPECT_DEATH(
      {
        JsonWriter w = JsonWriter::Canonical();
        w.BeginObject().Key("a").Int(1).Key("a").Int(2);
      },
      "out of canonical order");
  EXPECT_DEATH(
      {
        JsonWriter w = JsonWriter::Canonical();
        w.BeginObject().Key("\xEE\x80\x80").Int(1).Key("\xF0\x9F\x98\x82").Int(2);
      },
      "out of canonical order");
}

// Order is checked per object: a nested object starts afresh.
TEST(JsonWriterTest, CanonicalOrderIsPerObject) {
  JsonWriter w = JsonWriter::Canonical();
  w.BeginObject();
  w.Key("m").BeginObject().Key("z").Int(1).EndObject();
  w.Key("n").BeginObject().Key("a").Int(2).EndObject();
  w.EndObject();
  EXPECT_EQ(w.str(), R"({"m":{"z":1},"n":{"a":2}})");
}

}  // namespace
}  // namespace nhitrace::json
