#include "crypto/sha256.h"

#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "base/encoding.h"

namespace nhitrace::crypto {
namespace {

std::string Hex(const Hash& h) { return HexEncode(AsBytes(h)); }

// FIPS 180-2 appendix B (and `sha256sum` for the empty string).
constexpr char kEmpty[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr char kAbc[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
constexpr char k448Bit[] = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
constexpr char k448BitMessage[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
constexpr char kMillionA[] = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";

TEST(Sha256Test, KnownAnswers) {
  EXPECT_EQ(Hex(Sha256("")), kEmpty);
  EXPECT_EQ(Hex(Sha256("abc")), kAbc);
  EXPECT_EQ(Hex(Sha256(k448BitMessage)), k448Bit);
  EXPECT_EQ(Hex(Sha256(std::string(1000000, 'a'))), kMillionA);
}

// Repeated one-shot calls reuse a thread-local context; each must start from a fresh state.
TEST(Sha256Test, OneShotIsStateless) {
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Hex(Sha256("abc")), kAbc);
    EXPECT_EQ(Hex(Sha256("")), kEmpty);
  }
}

TEST(Sha256Test, TwoPartOneShot) {
  EXPECT_EQ(Hex(Sha256("a", "bc")), kAbc);
  EXPECT_EQ(Hex(Sha256("", "abc")), kAbc);
  EXPECT_EQ(Hex(Sha256("abc", "")), kAbc);
  EXPECT_EQ(Hex(Sha256("", "")), kEmpty);
  EXPECT_EQ(Hex(Sha256("abcdbcdecdefdefgefghfghighijhijkijkl", "jklmklmnlmnomnopnopq")), k448Bit);
}

// Split at every point of the 448-bit message, and in random pieces of a long one.
TEST(Sha256Test, IncrementalEqualsOneShot) {
  const std::string msg = k448BitMessage;
  Sha256Hasher h;
  for (size_t cut = 0; cut <= msg.size(); ++cut) {
    h.Update(std::string_view(msg).substr(0, cut));
    h.Update(msg.data() + cut, msg.size() - cut);
    ASSERT_EQ(Hex(h.Final()), k448Bit) << cut;  // Final() also resets for the next round
  }
  std::mt19937 rng(180);
  std::string a(1000000, 'a');
  size_t pos = 0;
  while (pos < a.size()) {
    size_t n = std::min<size_t>(rng() % 5000, a.size() - pos);
    h.Update(std::string_view(a).substr(pos, n));
    pos += n;
  }
  EXPECT_EQ(Hex(h.Final()), kMillionA);
  EXPECT_EQ(Hex(h.Final()), kEmpty) << "a finalised hasher restarts empty";
}

TEST(Sha256Test, HashFromBytes) {
  Hash abc = Sha256("abc");
  auto back = HashFromBytes(AsBytes(abc));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, abc);
  EXPECT_FALSE(HashFromBytes(std::string(31, 'x')).has_value());
  EXPECT_FALSE(HashFromBytes(std::string(33, 'x')).has_value());
  EXPECT_FALSE(HashFromBytes("").has_value());
  EXPECT_EQ(AsBytes(abc).size(), 32u);
}

// The thread-local hashers do not interfere across threads.
TEST(Sha256Test, ConcurrentThreads) {
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &ok] {
      bool all = true;
      for (int i = 0; i < 200; ++i) {
        all = all && HexEncode(AsBytes(Sha256("abc"))) == kAbc &&
              HexEncode(AsBytes(Sha256(k448BitMessage))) == k448Bit;
      }
      ok[t] = all ? 1 : 0;
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(ok[t], 1) << t;
}

}  // namespace
}  // namespace nhitrace::crypto
