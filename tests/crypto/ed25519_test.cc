#include "crypto/ed25519.h"

#include <set>
#include <string>

#include <gtest/gtest.h>

#include "base/encoding.h"
#include "crypto/random.h"

namespace nhitrace::crypto {
namespace {

std::string Unhex(std::string_view hex) {
  auto b = HexDecode(hex);
  EXPECT_TRUE(b.has_value()) << hex;
  return b.value_or("");
}

struct Rfc8032Vector {
  const char* name;
  const char* seed;
  const char* public_key;
  const char* message;
  const char* signature;
};

// RFC 8032 section 7.1, TEST 1, TEST 2 and TEST 3.
constexpr Rfc8032Vector kVectors[] = {
    {"TEST 1", "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9"
     "b46bd25bf5f0595bbe24655141438e7a100b"},
    {"TEST 2", "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f1"
     "1d8c387b2eaeb4302aeeb00d291612bb0c00"},
    {"TEST 3", "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984d"
     "c6594a7c15e9716ed28dc027beceea1ec40a"},
};

// seed -> public key -> signature, byte for byte, and the signature verifies.
TEST(Ed25519Test, Rfc8032Vectors) {
  for (const auto& v : kVectors) {
    SCOPED_TRACE(v.name);
    Result<Ed25519PrivateKey> key = Ed25519PrivateKey::FromSeed(Unhex(v.seed));
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    EXPECT_EQ(HexEncode(key->public_key()), v.public_key);
    EXPECT_EQ(HexEncode(key->seed()), v.seed);
    const std::string msg = Unhex(v.message);
    Result<std::string> sig = key->Sign(msg);
    ASSERT_TRUE(sig.ok()) << sig.status().ToString();
    EXPECT_EQ(HexEncode(*sig), v.signature);
    EXPECT_TRUE(Ed25519Verify(Unhex(v.public_key), msg, Unhex(v.signature)));
  }
}

// Flipping any single bit of the signature, the message or the key makes verification fail.
TEST(Ed25519Test, VerifyRejectsAnyFlippedBit) {
  const auto& v = kVectors[2];
  const std::string pub = Unhex(v.public_key);
  const std::string msg = Unhex(v.message);
  const std::string sig = Unhex(v.signature);
  ASSERT_TRUE(Ed25519Verify(pub, msg, sig));
  for (size_t bit = 0; bit < sig.size() * 8; ++bit) {
    std::string bad = sig;
    bad[bit / 8] = static_cast<char>(bad[bit / 8] ^ (1 << (bit % 8)));
    ASSERT_FALSE(Ed25519Verify(pub, msg, bad)) << "signature bit " << bit;
  }
  for (size_t bit = 0; bit < msg.size() * 8; ++bit) {
    std::string bad = msg;
    bad[bit / 8] = static_cast<char>(bad[bit / 8] ^ (1 << (bit % 8)));
    ASSERT_FALSE(Ed25519Verify(pub, bad, sig)) << "message bit " << bit;
  }
  for (size_t bit = 0; bit < pub.size() * 8; ++bit) {
    std::string bad = pub;
    bad[bit / 8] = static_cast<char>(bad[bit / 8] ^ (1 << (bit % 8)));
    ASSERT_FALSE(Ed25519Verify(bad, msg, sig)) << "key bit " << bit;
  }
}

TEST(Ed25519Test, VerifyRejectsWrongSizesAndOtherMessages) {
  const auto& v = kVectors[1];
  const std::string pub = Unhex(v.public_key);
  const std::string sig = Unhex(v.signature);
  EXPECT_FALSE(Ed25519Verify(pub, "", sig));
  EXPECT_FALSE(Ed25519Verify(pub, std::string("\x72\x00", 2), sig));
  EXPECT_FALSE(Ed25519Verify(pub, "\x72", sig.substr(0, 63)));
  EXPECT_FALSE(Ed25519Verify(pub, "\x72", sig + '\0'));
  EXPECT_FALSE(Ed25519Verify(pub.substr(0, 31), "\x72", sig));
  EXPECT_FALSE(Ed25519Verify("", "\x72", sig));
  EXPECT_FALSE(Ed25519Verify(Unhex(kVectors[0].public_key), "\x72", sig)) << "another key";
}

TEST(Ed25519Test, FromSeedRejectsWrongLength) {
  for (size_t n : {0, 1, 31, 33, 64}) {
    Result<Ed25519PrivateKey> key = Ed25519PrivateKey::FromSeed(std::string(n, 'k'));
    EXPECT_FALSE(key.ok()) << n;
    EXPECT_EQ(key.status().code(), StatusCode::kInvalidArgument) << n;
  }
}

TEST(Ed25519Test, GeneratedKeysSignAndDiffer) {
  Result<Ed25519PrivateKey> a = Ed25519PrivateKey::Generate();
  Result<Ed25519PrivateKey> b = Ed25519PrivateKey::Generate();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->seed().size(), 32u);
  EXPECT_EQ(a->public_key().size(), 32u);
  EXPECT_NE(a->seed(), b->seed());
  EXPECT_NE(a->public_key(), b->public_key());
  // The public key is a function of the seed.
  Result<Ed25519PrivateKey> again = Ed25519PrivateKey::FromSeed(a->seed());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->public_key(), a->public_key());

  Result<std::string> sig = a->Sign("checkpoint");
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(sig->size(), 64u);
  EXPECT_TRUE(Ed25519Verify(a->public_key(), "checkpoint", *sig));
  EXPECT_FALSE(Ed25519Verify(b->public_key(), "checkpoint", *sig));
  // Deterministic (RFC 8032 section 5.1.6).
  EXPECT_EQ(*a->Sign("checkpoint"), *sig);
}

TEST(Ed25519Test, MoveKeepsTheKey) {
  Result<Ed25519PrivateKey> key = Ed25519PrivateKey::FromSeed(Unhex(kVectors[1].seed));
  ASSERT_TRUE(key.ok());
  Ed25519PrivateKey moved = std::move(key).value();
  Result<Ed25519PrivateKey> other = Ed25519PrivateKey::FromSeed(Unhex(kVectors[0].seed));
  ASSERT_TRUE(other.ok());
  moved = std::move(other).value();
  EXPECT_EQ(HexEncode(moved.public_key()), kVectors[0].public_key);
  EXPECT_EQ(HexEncode(*moved.Sign("")), kVectors[0].signature);
}

TEST(RandomTest, RandomBytes) {
  Result<std::string> a = RandomBytes(32);
  Result<std::string> b = RandomBytes(32);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->size(), 32u);
  EXPECT_NE(*a, *b);
  Result<std::string> none = RandomBytes(0);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

// Draws of any size, across the pool's 4 KiB refills, append fresh bytes.
TEST(RandomTest, RandomPoolDraws) {
  RandomPool pool;
  std::string out = "prefix";
  ASSERT_TRUE(pool.Draw(0, &out).ok());
  EXPECT_EQ(out, "prefix");
  ASSERT_TRUE(pool.Draw(16, &out).ok());
  EXPECT_EQ(out.size(), 22u);
  EXPECT_EQ(out.substr(0, 6), "prefix");
  std::string a, b;
  ASSERT_TRUE(pool.Draw(32, &a).ok());
  ASSERT_TRUE(pool.Draw(32, &b).ok());
  EXPECT_NE(a, b);
  std::string big;
  ASSERT_TRUE(pool.Draw(10000, &big).ok());  // spans several refills
  EXPECT_EQ(big.size(), 10000u);
  size_t total = 22 - 6 + 64 + 10000;
  std::string rest;
  ASSERT_TRUE(pool.Draw(4096 - total % 4096 + 5, &rest).ok());  // ends just past a refill
  // Random data has all byte values in 10 KB; a pool handing out zeros (wiped bytes) would not.
  std::set<unsigned char> values(big.begin(), big.end());
  EXPECT_GT(values.size(), 250u);
  // Every 32-byte window differs: no block is handed out twice.
  std::set<std::string> blocks;
  for (size_t i = 0; i + 32 <= big.size(); i += 32) blocks.insert(big.substr(i, 32));
  EXPECT_EQ(blocks.size(), big.size() / 32);
}

TEST(RandomTest, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("token", "token"));
  EXPECT_FALSE(ConstantTimeEquals("token", "tokeN"));
  EXPECT_FALSE(ConstantTimeEquals("token", "Token"));
  EXPECT_FALSE(ConstantTimeEquals("token", "token "));
  EXPECT_FALSE(ConstantTimeEquals("token", ""));
  EXPECT_FALSE(ConstantTimeEquals("", "x"));
  EXPECT_TRUE(ConstantTimeEquals(std::string("a\0b", 3), std::string("a\0b", 3)));
  EXPECT_FALSE(ConstantTimeEquals(std::string("a\0b", 3), std::string("a\0c", 3)));
}

}  // namespace
}  // namespace nhitrace::crypto
