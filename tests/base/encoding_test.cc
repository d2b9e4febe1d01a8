#include "base/encoding.h"

#include <random>
#include <string>

#include <gtest/gtest.h>

namespace nhitrace {
namespace {

using std::string_literals::operator""s;

// RFC 4648 section 10 test vectors.
TEST(Base64Test, Rfc4648Vectors) {
  const struct {
    const char* plain;
    const char* b64;
  } cases[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(Base64Encode(c.plain), c.b64);
    auto d = Base64Decode(c.b64);
    ASSERT_TRUE(d.has_value()) << c.b64;
    EXPECT_EQ(*d, c.plain);
  }
}

TEST(Base64Test, BinaryAndAlphabetEnds) {
  EXPECT_EQ(Base64Encode("\x00\x00\x00"s), "AAAA");
  EXPECT_EQ(Base64Encode("\xff\xff\xff"s), "////");
  EXPECT_EQ(Base64Encode("\xfb\xef\xbe"s), "++++");
  EXPECT_EQ(Base64Decode("++++"), "\xfb\xef\xbe"s);
  EXPECT_EQ(Base64Decode("AA=="), "\x00"s);
}

TEST(Base64Test, RejectsMalformed) {
  for (const char* bad : {
           "Zg",    // missing padding
           "Zg=",   // length not a multiple of 4
           "Z===",  // padding may only take the last two positions
           "====",
           "Zg=a",      // data after padding
           "Zg==Zg==",  // padding before the last group
           "Zm9v\n",    // whitespace
           " Zm9v",
           "Zm 9",
           "Zm9-",  // URL-safe alphabet is not accepted
           "Zm9_",
           "Zm9*",
           "Zm9\x80",
       }) {
    EXPECT_FALSE(Base64Decode(bad).has_value()) << '"' << bad << '"';
  }
}

// Only one encoding is accepted per byte string: unused bits of the last group must be zero
// ("Zh==" and "Zm9=" carry non-zero padding bits).
TEST(Base64Test, RejectsNonCanonicalPaddingBits) {
  EXPECT_EQ(Base64Decode("Zg=="), "f");
  EXPECT_FALSE(Base64Decode("Zh==").has_value());
  EXPECT_FALSE(Base64Decode("Zv==").has_value());
  EXPECT_EQ(Base64Decode("Zm8="), "fo");
  EXPECT_FALSE(Base64Decode("Zm9=").has_value());
  EXPECT_FALSE(Base64Decode("Zm/=").has_value());
}

// Exhaustively over every padded final group: a decode succeeds exactly when re-encoding gives
// back the same text, and exactly 256 one-byte and 65536 two-byte groups are accepted.
TEST(Base64Test, ExhaustiveCanonicalFinalGroups) {
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  int one_byte = 0;
  for (char a : alphabet) {
    for (char b : alphabet) {
      std::string s = {a, b, '=', '='};
      auto d = Base64Decode(s);
      if (d) {
        ++one_byte;
        ASSERT_EQ(d->size(), 1u);
        ASSERT_EQ(Base64Encode(*d), s);
      }
    }
  }
  EXPECT_EQ(one_byte, 256);
  int two_byte = 0;
  for (char a : alphabet) {
    for (char b : alphabet) {
      for (char c : alphabet) {
        std::string s = {a, b, c, '='};
        auto d = Base64Decode(s);
        if (d) {
          ++two_byte;
          ASSERT_EQ(d->size(), 2u);
          ASSERT_EQ(Base64Encode(*d), s);
        }
      }
    }
  }
  EXPECT_EQ(two_byte, 65536);
}

TEST(Base64Test, RandomRoundTrip) {
  std::mt19937 rng(4648);
  for (size_t len = 0; len < 100; ++len) {
    std::string bytes(len, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    std::string b64 = Base64Encode(bytes);
    EXPECT_EQ(b64.size(), (len + 2) / 3 * 4);
    auto d = Base64Decode(b64);
    ASSERT_TRUE(d.has_value()) << b64;
    EXPECT_EQ(*d, bytes);
  }
}

TEST(HexTest, EncodeIsLowerCase) {
  EXPECT_EQ(HexEncode(""), "");
  EXPECT_EQ(HexEncode("foobar"), "666f6f626172");  // RFC 4648 section 10, lower-cased
  EXPECT_EQ(HexEncode("\x00\x01\x7f\x80\xfe\xff"s), "00017f80feff");
}

TEST(HexTest, DecodeAcceptsEitherCase) {
  EXPECT_EQ(HexDecode("666F6F626172"), "foobar");
  EXPECT_EQ(HexDecode("666f6f626172"), "foobar");
  EXPECT_EQ(HexDecode("aAbB"), "\xaa\xbb"s);
  EXPECT_EQ(HexDecode(""), "");
  EXPECT_EQ(HexDecode("00ff"), "\x00\xff"s);
}

TEST(HexTest, DecodeRejects) {
  for (const char* bad : {"0", "abc", "0g", "g0", "  ", "0x00", "-1", "12 3", "zz"}) {
    EXPECT_FALSE(HexDecode(bad).has_value()) << '"' << bad << '"';
  }
}

TEST(HexTest, AllBytesRoundTrip) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  std::string hex = HexEncode(all);
  ASSERT_EQ(hex.size(), 512u);
  EXPECT_EQ(hex.substr(0, 8), "00010203");
  EXPECT_EQ(hex.substr(504), "fcfdfeff");
  EXPECT_EQ(HexDecode(hex), all);
}

}  // namespace
}  // namespace nhitrace
