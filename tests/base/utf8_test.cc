#include "base/utf8.h"

#include <cstdint>
#include <string>

#include <gtest/gtest.h>

namespace nhitrace {
namespace {

using std::string_literals::operator""s;

// UTF-8 encoding of a code point per RFC 3629 section 3 (also used for surrogates, which is
// what a careless encoder would produce).
std::string Encode(uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | cp >> 6);
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    s += static_cast<char>(0xE0 | cp >> 12);
    s += static_cast<char>(0x80 | (cp >> 6 & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    s += static_cast<char>(0xF0 | cp >> 18);
    s += static_cast<char>(0x80 | (cp >> 12 & 0x3F));
    s += static_cast<char>(0x80 | (cp >> 6 & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

TEST(Utf8Test, ValidStrings) {
  for (const std::string& s : {
           ""s, "plain ascii, long enough to take the 8-byte fast path"s, "\x00"s,
           "caf\xC3\xA9"s,                       // U+00E9
           "\xC2\x80"s,                          // U+0080, smallest 2-byte
           "\xDF\xBF"s,                          // U+07FF
           "\xE0\xA0\x80"s,                      // U+0800, smallest 3-byte
           "\xE2\x82\xAC"s,                      // U+20AC
           "\xED\x9F\xBF"s,                      // U+D7FF, just below the surrogates
           "\xEE\x80\x80"s,                      // U+E000, just above them
           "\xEF\xBF\xBF"s,                      // U+FFFF
           "\xF0\x90\x80\x80"s,                  // U+10000, smallest 4-byte
           "\xF0\x9F\x98\x82"s,                  // U+1F602
           "\xF4\x8F\xBF\xBF"s,                  // U+10FFFF, the last code point
           "abcdefg\xE2\x82\xACxyz0123456789"s,  // multi-byte across the fast-path boundary
       }) {
    size_t bad = 12345;
    EXPECT_TRUE(IsValidUtf8(s, &bad)) << testing::PrintToString(s);
    EXPECT_EQ(bad, 12345u) << "bad_offset must be left alone on success";
  }
}

TEST(Utf8Test, InvalidStringsWithOffset) {
  const struct {
    std::string text;
    size_t offset;
  } cases[] = {
      {"ab\x80"s, 2},  // lone continuation byte
      {"\xBF"s, 0},
      {"\xC0\x80"s, 0},          // overlong NUL
      {"\xC1\xBF"s, 0},          // overlong U+007F
      {"\xE0\x80\x80"s, 0},      // overlong 3-byte
      {"\xE0\x9F\xBF"s, 0},      // overlong U+07FF
      {"\xF0\x80\x80\x80"s, 0},  // overlong 4-byte
      {"\xF0\x8F\xBF\xBF"s, 0},  // overlong U+FFFF
      {"\xED\xA0\x80"s, 0},      // U+D800, a surrogate
      {"\xED\xBF\xBF"s, 0},      // U+DFFF
      {"x\xED\xB0\x80y"s, 1},    // lone low surrogate U+DC00
      {"\xF4\x90\x80\x80"s, 0},  // U+110000
      {"\xF5\x80\x80\x80"s, 0},
      {"\xF7\xBF\xBF\xBF"s, 0},
      {"\xF8\x88\x80\x80\x80"s, 0},  // 5-byte form
      {"\xFE"s, 0},
      {"\xFF"s, 0},
      {"\xC3"s, 0},          // truncated 2-byte
      {"abc\xE2\x82"s, 3},   // truncated 3-byte
      {"\xF0\x9F\x98"s, 0},  // truncated 4-byte
      {"x\xE2"s, 1},
      {"\xC3\x28"s, 0},  // bad continuation
      {"\xE2\x28\xA1"s, 0},
      {"\xE2\x82\x28"s, 0},               // bad third byte
      {"\xF0\x9F\x98\x28"s, 0},           // bad fourth byte
      {"0123456789abcdef\xC3\x28"s, 16},  // after two fast-path words
      {"012345678\xFF"s, 9},              // inside the second word
      {"caf\xC3\xA9 \xC3\xA9\xC3"s, 8},   // valid multi-byte first
  };
  for (const auto& c : cases) {
    size_t bad = 12345;
    EXPECT_FALSE(IsValidUtf8(c.text, &bad)) << testing::PrintToString(c.text);
    EXPECT_EQ(bad, c.offset) << testing::PrintToString(c.text);
    EXPECT_FALSE(IsValidUtf8(c.text)) << "null bad_offset";
  }
}

// Every Unicode scalar value is accepted, every encoded surrogate is rejected.
TEST(Utf8Test, AllCodePoints) {
  for (uint32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    std::string s = Encode(cp);
    bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;
    ASSERT_EQ(IsValidUtf8(s), !surrogate) << std::hex << cp;
  }
}

// Every two-byte string, against the RFC 3629 grammar written out by hand.
TEST(Utf8Test, AllTwoByteStrings) {
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      std::string s = {static_cast<char>(a), static_cast<char>(b)};
      bool want = (a < 0x80 && b < 0x80) || (a >= 0xC2 && a <= 0xDF && b >= 0x80 && b <= 0xBF);
      size_t bad = 99;
      ASSERT_EQ(IsValidUtf8(s, &bad), want) << a << " " << b;
      if (!want) {
        size_t expected = a < 0x80 ? 1 : 0;
        ASSERT_EQ(bad, expected) << a << " " << b;
      }
    }
  }
}

}  // namespace
}  // namespace nhitrace
