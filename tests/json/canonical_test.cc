#include "json/canonical.h"

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

namespace nhitrace::json {
namespace {

using std::string_literals::operator""s;

std::string Canon(std::string_view in) {
  Result<std::string> r = Canonicalize(in);
  EXPECT_TRUE(r.ok()) << in << ": " << r.status().ToString();
  return r.ok() ? *r : "<error: " + r.status().ToString() + ">";
}

std::string Number(double v) {
  std::string out;
  AppendCanonicalNumber(v, &out);
  return out;
}

// RFC 8785 Appendix B: IEEE-754 bit patterns and their canonical text.
TEST(CanonicalNumberTest, Rfc8785AppendixB) {
  const struct {
    uint64_t bits;
    const char* text;
  } cases[] = {
      {0x0000000000000000, "0"},
      {0x8000000000000000, "0"},
      {0x0000000000000001, "5e-324"},
      {0x8000000000000001, "-5e-324"},
      {0x7fefffffffffffff, "1.7976931348623157e+308"},
      {0xffefffffffffffff, "-1.7976931348623157e+308"},
      {0x4340000000000000, "9007199254740992"},
      {0xc340000000000000, "-9007199254740992"},
      {0x4430000000000000, "295147905179352830000"},
      {0x44b52d02c7e14af5, "9.999999999999997e+22"},
      {0x44b52d02c7e14af6, "1e+23"},
      {0x44b52d02c7e14af7, "1.0000000000000001e+23"},
      {0x444b1ae4d6e2ef4e, "999999999999999700000"},
      {0x444b1ae4d6e2ef4f, "999999999999999900000"},
      {0x444b1ae4d6e2ef50, "1e+21"},
      {0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"},
      {0x3eb0c6f7a0b5ed8d, "0.000001"},
      {0x41b3de4355555553, "333333333.3333332"},
      {0x41b3de4355555554, "333333333.33333325"},
      {0x41b3de4355555555, "333333333.3333333"},
      {0x41b3de4355555556, "333333333.3333334"},
      {0x41b3de4355555557, "333333333.33333343"},
      {0xbecbf647612f3696, "-0.0000033333333333333333"},
      {0x43143ff3c1cb0959, "1424953923781206.2"},
  };
  for (const auto& c : cases) {
    double v = std::bit_cast<double>(c.bits);
    EXPECT_EQ(Number(v), c.text) << std::hex << c.bits;
    // The same value arriving as JSON text.
    EXPECT_EQ(Canon(c.text), c.text);
  }
}

// ECMAScript Number::toString layout (ECMA-262 Number::toString, steps for n, k): plain
// integers up to 21 digits, plain decimals down to 1e-6, exponential form outside.
TEST(CanonicalNumberTest, EcmaScriptLayout) {
  EXPECT_EQ(Number(1e21), "1e+21");
  EXPECT_EQ(Number(1e20), "100000000000000000000");
  EXPECT_EQ(Number(123456789012345680000.0), "123456789012345680000");
  EXPECT_EQ(Number(1e-7), "1e-7");
  EXPECT_EQ(Number(1e-6), "0.000001");
  EXPECT_EQ(Number(1.5e-6), "0.0000015");
  EXPECT_EQ(Number(1.5e-7), "1.5e-7");
  EXPECT_EQ(Number(123.45), "123.45");
  EXPECT_EQ(Number(-123.45), "-123.45");
  EXPECT_EQ(Number(0.5), "0.5");
  EXPECT_EQ(Number(1), "1");
  EXPECT_EQ(Number(-1), "-1");
  EXPECT_EQ(Number(100), "100");
  EXPECT_EQ(Number(1.25e30), "1.25e+30");
  EXPECT_EQ(Number(-1.25e-30), "-1.25e-30");
  EXPECT_EQ(Number(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(Number(std::numeric_limits<double>::min()), "2.2250738585072014e-308");
  EXPECT_EQ(Number(std::numeric_limits<double>::denorm_min()), "5e-324");
  EXPECT_EQ(Number(-0.0), "0");
  // Appends, never replaces.
  std::string out = "[";
  AppendCanonicalNumber(2.5, &out);
  EXPECT_EQ(out, "[2.5");
}

// Numbers as JSON text: every spelling of a double becomes its one canonical form; integers
// beyond 2^53 are rounded to the nearest double as ECMAScript would.
TEST(CanonicalNumberTest, FromText) {
  const struct {
    const char* in;
    const char* out;
  } cases[] = {
      {"0", "0"},
      {"-0", "0"},
      {"-0.0", "0"},
      {"0e10", "0"},
      {"1E30", "1e+30"},
      {"1e21", "1e+21"},
      {"1e+21", "1e+21"},
      {"1e-7", "1e-7"},
      {"0.000001", "0.000001"},
      {"1e-6", "0.000001"},
      {"4.50", "4.5"},
      {"2e-3", "0.002"},
      {"0.000000000000000000000000001", "1e-27"},
      {"1e2", "100"},
      {"100.0", "100"},
      {"56.0", "56"},
      {"-1.5e-10", "-1.5e-10"},
      {"5e-324", "5e-324"},
      {"4.9e-324", "5e-324"},
      {"1.7976931348623157e308", "1.7976931348623157e+308"},
      {"333333333.33333329", "333333333.3333333"},
      {"9007199254740992", "9007199254740992"},
      {"9007199254740993", "9007199254740992"},
      {"-9007199254740993", "-9007199254740992"},
      {"9007199254740995", "9007199254740996"},
      {"9223372036854775807", "9223372036854776000"},
      {"-9223372036854775808", "-9223372036854776000"},
      {"18446744073709551615", "18446744073709552000"},
      {"295147905179352825856", "295147905179352830000"},
      {"123456789012345678901234567890", "1.2345678901234568e+29"},
      {"1.0000000000000001e23", "1.0000000000000001e+23"},
  };
  for (const auto& c : cases) EXPECT_EQ(Canon(c.in), c.out) << c.in;
}

// simdjson alone refuses integer literals outside 64 bits; to JCS they are just doubles, and
// the canonical forms of Appendix B (e.g. 295147905179352830000) must read back.
TEST(CanonicalNumberTest, IntegersBeyond64Bits) {
  EXPECT_EQ(Canon("[1234567890123456789012]"), "[1.2345678901234568e+21]");
  EXPECT_EQ(Canon("-9223372036854775809"), "-9223372036854776000");
  EXPECT_EQ(Canon("18446744073709551616"), "18446744073709552000");
  EXPECT_EQ(Canon("-18446744073709551616"), "-18446744073709552000");
  EXPECT_EQ(Canon(std::string(308, '9')), "1e+308");
  // Digits inside strings, keys included, are never touched.
  EXPECT_EQ(Canon(R"({"12345678901234567890123":12345678901234567890123})"),
            R"({"12345678901234567890123":1.2345678901234568e+22})");
  EXPECT_EQ(Canon(R"(["a\"12345678901234567890123",99999999999999999999999])"),
            R"(["a\"12345678901234567890123",1e+23])");
  EXPECT_EQ(Canon(R"(["\\",12345678901234567890123,"\\\"x"])"),
            R"(["\\",1.2345678901234568e+22,"\\\"x"])");
  // Still not JSON, or still not a finite double.
  for (const char* bad : {"01234567890123456789012", "[1234567890123456789012 x]", "-",
                          "[-12345678901234567890123-]"}) {
    EXPECT_FALSE(Canonicalize(bad).ok()) << bad;
  }
  EXPECT_FALSE(Canonicalize(std::string(310, '9')).ok());
}

TEST(CanonicalNumberTest, RejectsNonFiniteAndNonJson) {
  for (const char* bad : {"1e400", "-1e400", "1.8e308", "NaN", "Infinity", "-Infinity", "01", "+1",
                          ".5", "1.", "0x10", "1e", "--1"}) {
    Result<std::string> r = Canonicalize(bad);
    EXPECT_FALSE(r.ok()) << bad << " -> " << (r.ok() ? *r : "");
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(CanonicalIntegerTest, MatchesNumberForm) {
  for (int64_t v : {int64_t{0}, int64_t{1}, int64_t{-1}, int64_t{42}, int64_t{1} << 53,
                    -(int64_t{1} << 53), int64_t{1000000}, int64_t{-987654321}}) {
    std::string a, b;
    AppendCanonicalInteger(v, &a);
    AppendCanonicalNumber(static_cast<double>(v), &b);
    EXPECT_EQ(a, b) << v;
  }
  std::string out;
  AppendCanonicalInteger(-(int64_t{1} << 53), &out);
  EXPECT_EQ(out, "-9007199254740992");
}

// Beyond 2^53 an integer is written as the double it becomes, so that writer output stays equal
// to its own canonical form.
TEST(CanonicalIntegerTest, BeyondTwoToTheFiftyThree) {
  const struct {
    int64_t v;
    const char* text;
  } cases[] = {
      {(int64_t{1} << 53) + 1, "9007199254740992"},
      {-(int64_t{1} << 53) - 1, "-9007199254740992"},
      {std::numeric_limits<int64_t>::max(), "9223372036854776000"},
      {std::numeric_limits<int64_t>::min(), "-9223372036854776000"},
  };
  for (const auto& c : cases) {
    std::string out;
    AppendCanonicalInteger(c.v, &out);
    EXPECT_EQ(out, c.text) << c.v;
  }
}

TEST(CanonicalStringTest, Escapes) {
  const struct {
    std::string in;
    std::string out;
  } cases[] = {
      {"", R"("")"},
      {"plain", R"("plain")"},
      {"\"", R"("\"")"},
      {"\\", R"("\\")"},
      {"/", R"("/")"},  // never escaped
      {"\b\f\n\r\t", R"("\b\f\n\r\t")"},
      {"\x00"s, R"("\u0000")"},
      {"\x01", R"("\u0001")"},
      {"\x0b", R"("\u000b")"},
      {"\x1f", R"("\u001f")"},
      {"\x7f", "\"\x7f\""},  // DEL is not a control character for JSON
      {"\xC2\x80", "\"\xC2\x80\""},
      {"\xE2\x80\xA8", "\"\xE2\x80\xA8\""},  // U+2028 stays literal
      {"caf\xC3\xA9", "\"caf\xC3\xA9\""},
      {"a\x1f"
       "b\"c",
       R"("a\u001fb\"c")"},
  };
  for (const auto& c : cases) {
    std::string out;
    AppendCanonicalString(c.in, &out);
    EXPECT_EQ(out, c.out) << testing::PrintToString(c.in);
  }
}

// Escapes in the input are resolved; only the mandatory ones come back, in lower-case hex.
TEST(CanonicalStringTest, FromText) {
  EXPECT_EQ(Canon(R"("\u001F\u000B\u0000")"), R"("\u001f\u000b\u0000")");
  EXPECT_EQ(Canon(R"("\u0008\u000c\u000a\u000d\u0009")"), R"("\b\f\n\r\t")");
  EXPECT_EQ(Canon(R"("\/\u002f")"), R"("//")");
  EXPECT_EQ(Canon(R"("\u00e9\u20AC")"), "\"\xC3\xA9\xE2\x82\xAC\"");
  EXPECT_EQ(Canon(R"("\ud83d\ude02")"), "\"\xF0\x9F\x98\x82\"");
  EXPECT_EQ(Canon(R"("\u007f")"), "\"\x7f\"");
  EXPECT_EQ(Canon(R"("\"\\")"), R"("\"\\")");
}

TEST(CompareUtf16Test, Order) {
  EXPECT_EQ(CompareUtf16("", ""), 0);
  EXPECT_EQ(CompareUtf16("abc", "abc"), 0);
  EXPECT_LT(CompareUtf16("", "a"), 0);
  EXPECT_LT(CompareUtf16("a", "ab"), 0);
  EXPECT_GT(CompareUtf16("b", "ab"), 0);
  EXPECT_LT(CompareUtf16("A", "a"), 0);
  EXPECT_LT(CompareUtf16("\x7f", "\xC2\x80"), 0);
  EXPECT_LT(CompareUtf16("\xC3\xB6", "\xE2\x82\xAC"), 0);  // U+00F6 < U+20AC
  // A supplementary-plane character is a surrogate pair (D800-DBFF ...) in UTF-16, so it sorts
  // before U+E000..U+FFFF although its code point is larger.
  const std::string u10000 = "\xF0\x90\x80\x80";   // U+10000 = D800 DC00
  const std::string u1f602 = "\xF0\x9F\x98\x82";   // U+1F602 = D83D DE02
  const std::string u10ffff = "\xF4\x8F\xBF\xBF";  // U+10FFFF = DBFF DFFF
  const std::string ue000 = "\xEE\x80\x80";
  const std::string ufb33 = "\xEF\xAC\xB3";
  const std::string uffff = "\xEF\xBF\xBF";
  const std::string ud7ff = "\xED\x9F\xBF";
  for (const std::string& bmp_high : {ue000, ufb33, uffff}) {
    for (const std::string& supp : {u10000, u1f602, u10ffff}) {
      EXPECT_LT(CompareUtf16(supp, bmp_high), 0);
      EXPECT_GT(CompareUtf16(bmp_high, supp), 0);
    }
  }
  for (const std::string& supp : {u10000, u1f602, u10ffff}) {
    EXPECT_GT(CompareUtf16(supp, ud7ff), 0);  // D800.. > D7FF
  }
  EXPECT_LT(CompareUtf16(u10000, u1f602), 0);
  EXPECT_LT(CompareUtf16(u1f602, u10ffff), 0);
  EXPECT_LT(CompareUtf16("a" + u10000, "a" + ue000), 0);
  EXPECT_LT(CompareUtf16(u10000 + "a", u10000 + "b"), 0);
}

// Object members are sorted by UTF-16 code units, not by code point or UTF-8 bytes.
TEST(CanonicalObjectTest, SortsByUtf16) {
  EXPECT_EQ(Canon(R"({"\uffff":3,"\ue000":2,"\ud800\udc00":1,"z":0})"),
            "{\"z\":0,\"\xF0\x90\x80\x80\":1,\"\xEE\x80\x80\":2,\"\xEF\xBF\xBF\":3}");
  // RFC 8785 section 3.2.3 example.
  EXPECT_EQ(Canon(R"({"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew",)"
                  R"("1":"One","\ud83d\ude00":"Emoji","\u0080":"Control","\u00f6":"o"})"),
            "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xC2\x80\":\"Control\","
            "\"\xC3\xB6\":\"o\",\"\xE2\x82\xAC\":\"Euro Sign\",\"\xF0\x9F\x98\x80\":\"Emoji\","
            "\"\xEF\xAC\xB3\":\"Hebrew\"}");
  EXPECT_EQ(Canon(R"({"b":[{"d":1,"c":2}],"a":{"y":null,"x":true}})"),
            R"({"a":{"x":true,"y":null},"b":[{"c":2,"d":1}]})");
  EXPECT_EQ(Canon(R"({"aa":1,"a":2,"":3,"ab":4})"), R"({"":3,"a":2,"aa":1,"ab":4})");
}

TEST(CanonicalObjectTest, RejectsDuplicateNames) {
  for (const char* bad : {
           R"({"a":1,"a":2})",
           R"({"a":1,"b":0,"a":1})",
           R"({"a":1,"\u0061":2})",  // equal after unescaping
           R"({"x":{"k":1,"k":1}})",
           R"([{"ok":1},{"dup":1,"dup":2}])",
           R"({"\ud83d\ude02":1,"😂":2})",
       }) {
    Result<std::string> r = Canonicalize(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("duplicate"), std::string::npos) << r.status().message();
  }
  Result<std::string> r = Canonicalize(R"({"name":1,"name":2})");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("\"name\""), std::string::npos) << r.status().message();
  // The same name in different objects is fine.
  EXPECT_EQ(Canon(R"({"a":{"a":1},"b":{"a":2}})"), R"({"a":{"a":1},"b":{"a":2}})");
}

TEST(CanonicalizeTest, RejectsInvalidUtf8) {
  const struct {
    std::string json;
    const char* offset;  // the byte offset named in the message
  } cases[] = {
      {"\"\xff\""s, "byte 1"},
      {"{\"k\xC0\x80\":1}"s, "byte 3"},          // overlong in a key
      {"[\"ok\",\"\xED\xA0\x80\"]"s, "byte 7"},  // encoded surrogate
      {"\"\xF4\x90\x80\x80\""s, "byte 1"},       // > U+10FFFF
      {"\"abc\xE2\x82\""s, "byte 4"},            // truncated
  };
  for (const auto& c : cases) {
    Result<std::string> r = Canonicalize(c.json);
    ASSERT_FALSE(r.ok()) << testing::PrintToString(c.json);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("UTF-8"), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find(c.offset), std::string::npos) << r.status().message();
  }
}

// Escaped lone surrogates do not denote Unicode text (RFC 8785 section 3.2.2.2, I-JSON).
TEST(CanonicalizeTest, RejectsLoneSurrogateEscapes) {
  for (const char* bad : {R"("\ud800")", R"("\udc00")", R"("\ud800\u0041")", R"("\ude02\ud83d")",
                          R"({"\udfff":1})", R"(["a\ud83dz"])", R"("\ud800\ud800")"}) {
    Result<std::string> r = Canonicalize(bad);
    EXPECT_FALSE(r.ok()) << bad << " -> " << (r.ok() ? testing::PrintToString(*r) : "");
  }
}

TEST(CanonicalizeTest, RejectsSyntaxErrors) {
  for (const char* bad : {"", " ", "{", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{'a':1}", "[1] x",
                          "{} {}", "/* c */ 1", "tru", "nul", "\"unterminated", "\"\x01\"",
                          "\"tab\tinside\"", "[\"\\x41\"]", "{\"a\":undefined}"}) {
    Result<std::string> r = Canonicalize(bad);
    EXPECT_FALSE(r.ok()) << testing::PrintToString(std::string(bad));
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  }
}

std::string Nested(int depth, char open, char close, const std::string& inner) {
  std::string s;
  for (int i = 0; i < depth; ++i) s += open == '{' ? "{\"k\":" : std::string(1, open);
  s += inner;
  for (int i = 0; i < depth; ++i) s += close;
  return s;
}

// 256 levels of nesting are accepted, 257 are not, nor anything simdjson would refuse.
TEST(CanonicalizeTest, DepthLimit) {
  EXPECT_EQ(Canon(Nested(256, '[', ']', "1")), Nested(256, '[', ']', "1"));
  EXPECT_EQ(Canon(Nested(256, '{', '}', "1")), Nested(256, '{', '}', "1"));
  EXPECT_EQ(Canon(Nested(255, '[', ']', "[]")), Nested(255, '[', ']', "[]"));
  for (const std::string& deep : {Nested(257, '[', ']', "1"), Nested(256, '[', ']', "[]"),
                                  Nested(257, '{', '}', "1"), Nested(5000, '[', ']', "")}) {
    Result<std::string> r = Canonicalize(deep);
    ASSERT_FALSE(r.ok()) << deep.size();
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(CanonicalizeTest, ScalarsAndWhitespace) {
  EXPECT_EQ(Canon(" \t\r\n true \n"), "true");
  EXPECT_EQ(Canon("false"), "false");
  EXPECT_EQ(Canon("null"), "null");
  EXPECT_EQ(Canon("\"x\""), "\"x\"");
  EXPECT_EQ(Canon("[ ]"), "[]");
  EXPECT_EQ(Canon("{ }"), "{}");
  EXPECT_EQ(Canon("[ 1 , [ 2 , { } ] , \"a b\" ]"), "[1,[2,{}],\"a b\"]");
  // Array order is preserved.
  EXPECT_EQ(Canon("[3,1,2]"), "[3,1,2]");
}

// Canonicalize(Canonicalize(x)) == Canonicalize(x) over a mix of documents.
TEST(CanonicalizeTest, Idempotent) {
  for (const char* doc : {
           R"({"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001]})",
           R"({"string":"\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/"})",
           R"({"\uffff":3,"\ue000":2,"\ud800\udc00":1,"z":[-0,1e21,1e-7]})",
           R"([{"b":{"d":[true,false,null],"c":"\t"},"a":9007199254740993}])",
           R"("\u0000\u001f\u007f")",
       }) {
    std::string once = Canon(doc);
    EXPECT_EQ(Canon(once), once) << doc;
  }
}

TEST(CanonicalizeTest, AppendCanonicalFromParsedElement) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(R"({"b":2,"a":[1.50,"x"]})"s).get(root), simdjson::SUCCESS);
  std::string out = "prefix:";
  ASSERT_TRUE(AppendCanonical(root, &out).ok());
  EXPECT_EQ(out, R"(prefix:{"a":[1.5,"x"],"b":2})");
}

}  // namespace
}  // namespace nhitrace::json
