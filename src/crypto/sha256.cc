#include "crypto/sha256.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <openssl/evp.h>

namespace nhitrace::crypto {
namespace {

// The SHA-256 implementation, fetched from the default provider once.
const EVP_MD* Md() {
  static EVP_MD* md = [] {
    EVP_MD* m = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (m == nullptr) {
      std::fprintf(stderr, "fatal: OpenSSL has no SHA256\n");
      std::abort();
    }
    return m;
  }();
  return md;
}

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

}  // namespace

struct Sha256Hasher::Ctx {
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx{EVP_MD_CTX_new()};
};

std::optional<Hash> HashFromBytes(std::string_view bytes) {
  if (bytes.size() != 32) return std::nullopt;
  Hash h;
  std::memcpy(h.data(), bytes.data(), 32);
  return h;
}

Sha256Hasher::Sha256Hasher() : ctx_(std::make_unique<Ctx>()) {
  if (!ctx_->ctx || EVP_DigestInit_ex2(ctx_->ctx.get(), Md(), nullptr) != 1) {
    std::fprintf(stderr, "fatal: EVP_DigestInit_ex2 failed\n");
    std::abort();
  }
}

Sha256Hasher::~Sha256Hasher() = default;

void Sha256Hasher::Update(const void* data, size_t n) {
  EVP_DigestUpdate(ctx_->ctx.get(), data, n);
}

void Sha256Hasher::Update(std::string_view data) { Update(data.data(), data.size()); }

Hash Sha256Hasher::Final() {
  Hash h;
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_->ctx.get(), h.data(), &len);
  EVP_DigestInit_ex2(ctx_->ctx.get(), nullptr, nullptr);  // same digest, fresh state
  return h;
}

Hash Sha256(std::string_view data) {
  thread_local Sha256Hasher hasher;
  hasher.Update(data);
  return hasher.Final();
}

Hash Sha256(std::string_view a, std::string_view b) {
  thread_local Sha256Hasher hasher;
  hasher.Update(a);
  hasher.Update(b);
  return hasher.Final();
}

}  // namespace nhitrace::crypto
