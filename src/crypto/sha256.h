// SHA-256 (FIPS 180-4) over OpenSSL 3, with the message digest fetched once per process and a
// reusable context, because the ledger hashes two small inputs per event and the per-call
// provider lookup of EVP_Digest would dominate.
//
//   Hash h = Sha256("abc");
//   Sha256Hasher s; s.Update(a); s.Update(b); Hash h2 = s.Final();
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace nhitrace::crypto {

using Hash = std::array<uint8_t, 32>;

inline std::string_view AsBytes(const Hash& h) {
  return {reinterpret_cast<const char*>(h.data()), h.size()};
}
// nullopt unless `bytes` is exactly 32 bytes long.
std::optional<Hash> HashFromBytes(std::string_view bytes);

// Incremental SHA-256. Not thread-safe; one per thread. Reusable after Final().
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;

  void Update(std::string_view data);
  void Update(const void* data, size_t n);
  // Returns the digest and resets the hasher for the next message.
  Hash Final();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

// One-shot SHA-256 (uses a thread-local hasher).
Hash Sha256(std::string_view data);
// SHA-256(a || b) without concatenating.
Hash Sha256(std::string_view a, std::string_view b);

}  // namespace nhitrace::crypto
