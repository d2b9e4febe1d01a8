// ByteSource: where ingest reads its input from — a file descriptor, a memory buffer, or a gzip
// stream over either (detected from the gzip magic bytes, so `ingest file.json.gz` just works).
//
//   NHI_ASSIGN_OR_RETURN(auto src, OpenInput(std::make_unique<FdSource>(fd)));
//   char buf[65536];
//   NHI_ASSIGN_OR_RETURN(size_t n, src->Read(buf, sizeof buf));  // 0 at the end
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

namespace nhitrace::ingest {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to `n` bytes into `buf`; 0 only at the end of the stream.
  virtual Result<size_t> Read(char* buf, size_t n) = 0;
  // Whether the stream was decompressed (for the summary).
  virtual bool compressed() const { return false; }
};

// Reads a file descriptor (not owned).
class FdSource final : public ByteSource {
 public:
  explicit FdSource(int fd) : fd_(fd) {}
  Result<size_t> Read(char* buf, size_t n) override;

 private:
  int fd_;
};

// Reads a buffer (not owned; must outlive the source).
class MemorySource final : public ByteSource {
 public:
  explicit MemorySource(std::string_view data) : data_(data) {}
  Result<size_t> Read(char* buf, size_t n) override;

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

// `inner` as is, or decompressed if it starts with the gzip magic bytes. Concatenated gzip
// members (as `cat a.gz b.gz` makes) are read one after the other. A corrupt or truncated gzip
// stream is a kDataLoss error naming the compressed offset.
Result<std::unique_ptr<ByteSource>> OpenInput(std::unique_ptr<ByteSource> inner);

}  // namespace nhitrace::ingest
