#include "crypto/random.h"

#include <algorithm>

#include <openssl/crypto.h>
#include <openssl/rand.h>

namespace nhitrace::crypto {

Result<std::string> RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    return UnavailableError("the OpenSSL random generator failed");
  }
  return out;
}

Status RandomPool::Draw(size_t n, std::string* out) {
  while (n > 0) {
    if (pos_ == buf_.size()) {
      auto fresh = RandomBytes(4096);
      if (!fresh.ok()) return fresh.status();
      OPENSSL_cleanse(buf_.data(), buf_.size());
      buf_ = std::move(fresh).value();
      pos_ = 0;
    }
    size_t take = std::min(n, buf_.size() - pos_);
    out->append(buf_, pos_, take);
    // Drawn bytes are wiped from the pool so they exist in one place only.
    OPENSSL_cleanse(buf_.data() + pos_, take);
    pos_ += take;
    n -= take;
  }
  return OkStatus();
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace nhitrace::crypto
