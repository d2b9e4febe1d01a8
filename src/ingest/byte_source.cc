#include "ingest/byte_source.h"

#include <cerrno>
#include <cstring>
#include <vector>

#include <unistd.h>
#include <zlib.h>

#include "base/file.h"

namespace nhitrace::ingest {

Result<size_t> FdSource::Read(char* buf, size_t n) {
  for (;;) {
    ssize_t r = ::read(fd_, buf, n);
    if (r >= 0) return static_cast<size_t>(r);
    if (errno == EINTR) continue;
    return UnavailableError("read failed: " + ErrnoMessage(errno));
  }
}

Result<size_t> MemorySource::Read(char* buf, size_t n) {
  size_t take = std::min(n, data_.size() - pos_);
  std::memcpy(buf, data_.data() + pos_, take);
  pos_ += take;
  return take;
}

namespace {

// Replays bytes already read from `inner` before reading on.
class PrefixedSource final : public ByteSource {
 public:
  PrefixedSource(std::string prefix, std::unique_ptr<ByteSource> inner)
      : prefix_(std::move(prefix)), inner_(std::move(inner)) {}
  Result<size_t> Read(char* buf, size_t n) override {
    if (pos_ < prefix_.size()) {
      size_t take = std::min(n, prefix_.size() - pos_);
      std::memcpy(buf, prefix_.data() + pos_, take);
      pos_ += take;
      return take;
    }
    return inner_->Read(buf, n);
  }

 private:
  std::string prefix_;
  size_t pos_ = 0;
  std::unique_ptr<ByteSource> inner_;
};

class GzipSource final : public ByteSource {
 public:
  explicit GzipSource(std::unique_ptr<ByteSource> inner) : inner_(std::move(inner)) {
    in_.resize(1 << 16);
  }
  ~GzipSource() override {
    if (initialised_) inflateEnd(&z_);
  }
  GzipSource(const GzipSource&) = delete;
  GzipSource& operator=(const GzipSource&) = delete;

  bool compressed() const override { return true; }

  Result<size_t> Read(char* buf, size_t n) override {
    if (!initialised_) {
      std::memset(&z_, 0, sizeof z_);
      // 16 + MAX_WBITS: gzip wrapper only.
      if (inflateInit2(&z_, 16 + MAX_WBITS) != Z_OK) return InternalError("inflateInit2 failed");
      initialised_ = true;
    }
    if (done_ || n == 0) return size_t{0};
    z_.next_out = reinterpret_cast<Bytef*>(buf);
    z_.avail_out = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
    while (z_.avail_out == static_cast<uInt>(std::min<size_t>(n, 1u << 30))) {
      if (z_.avail_in == 0) {
        NHI_ASSIGN_OR_RETURN(size_t got, inner_->Read(in_.data(), in_.size()));
        if (got == 0) {
          if (member_started_) {
            return DataLossError("gzip stream truncated at compressed byte " +
                                 std::to_string(consumed_));
          }
          done_ = true;
          break;
        }
        z_.next_in = reinterpret_cast<Bytef*>(in_.data());
        z_.avail_in = static_cast<uInt>(got);
      }
      uInt before = z_.avail_in;
      int rc = inflate(&z_, Z_NO_FLUSH);
      consumed_ += before - z_.avail_in;
      member_started_ = true;
      if (rc == Z_STREAM_END) {
        member_started_ = false;
        if (inflateReset(&z_) != Z_OK) return InternalError("inflateReset failed");
        // Another member may follow; trailing zero padding is tolerated by inflate's reset
        // failing on it below, reported as corrupt.
        continue;
      }
      if (rc == Z_BUF_ERROR) continue;  // needs more input
      if (rc != Z_OK) {
        return DataLossError("gzip stream corrupt at compressed byte " + std::to_string(consumed_) +
                             ": " + (z_.msg != nullptr ? z_.msg : "inflate error"));
      }
    }
    return static_cast<size_t>(std::min<size_t>(n, 1u << 30) - z_.avail_out);
  }

 private:
  std::unique_ptr<ByteSource> inner_;
  std::vector<char> in_;
  z_stream z_;
  bool initialised_ = false;
  bool done_ = false;
  bool member_started_ = false;
  uint64_t consumed_ = 0;
};

}  // namespace

Result<std::unique_ptr<ByteSource>> OpenInput(std::unique_ptr<ByteSource> inner) {
  std::string head(2, '\0');
  size_t have = 0;
  while (have < 2) {
    NHI_ASSIGN_OR_RETURN(size_t n, inner->Read(head.data() + have, 2 - have));
    if (n == 0) break;
    have += n;
  }
  head.resize(have);
  bool gzip = have == 2 && static_cast<unsigned char>(head[0]) == 0x1f &&
              static_cast<unsigned char>(head[1]) == 0x8b;
  std::unique_ptr<ByteSource> src =
      std::make_unique<PrefixedSource>(std::move(head), std::move(inner));
  if (gzip) return std::unique_ptr<ByteSource>(std::make_unique<GzipSource>(std::move(src)));
  return src;
}

}  // namespace nhitrace::ingest
