// Ed25519 (RFC 8032) signing and verification over OpenSSL 3.
//
// Keys are handled as raw bytes: a 32-byte seed (the private key) and a 32-byte public key,
// which is what the C2SP signed-note key strings carry.
//
//   auto key = Ed25519PrivateKey::Generate();
//   std::string sig = key->Sign("message");           // 64 bytes
//   bool ok = Ed25519Verify(key->public_key(), "message", sig);
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

namespace nhitrace::crypto {

class Ed25519PrivateKey {
 public:
  // A fresh key from the CSPRNG.
  static Result<Ed25519PrivateKey> Generate();
  // REQUIRES: seed.size() == 32, else kInvalidArgument.
  static Result<Ed25519PrivateKey> FromSeed(std::string_view seed);

  Ed25519PrivateKey(Ed25519PrivateKey&&) noexcept;
  Ed25519PrivateKey& operator=(Ed25519PrivateKey&&) noexcept;
  ~Ed25519PrivateKey();

  // The 64-byte signature of `message` (deterministic).
  Result<std::string> Sign(std::string_view message) const;
  // 32 bytes.
  const std::string& public_key() const { return public_key_; }
  // 32 bytes. Secret: never log it.
  const std::string& seed() const { return seed_; }

 private:
  struct Pkey;
  Ed25519PrivateKey(std::unique_ptr<Pkey> pkey, std::string seed, std::string pub);
  std::unique_ptr<Pkey> pkey_;
  std::string seed_;
  std::string public_key_;
};

// True iff `signature` is a valid Ed25519 signature of `message` under the 32-byte `public_key`.
bool Ed25519Verify(std::string_view public_key, std::string_view message,
                   std::string_view signature);

}  // namespace nhitrace::crypto
