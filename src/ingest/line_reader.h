// LineReader: splits a byte stream into lines in bounded memory.
//
// A line longer than the limit is not held in memory: its first `max_line_bytes` bytes are
// kept, the rest is only hashed and counted, so a caller can quarantine it with its size and
// SHA-256 and go on with the next line.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "crypto/sha256.h"

namespace nhitrace::ingest {

struct Line {
  std::string_view data;  // without the "\n"; for an overlong line, its first bytes only.
                          // Valid until the next call of Next().
  uint64_t number = 0;    // 1-based
  bool overlong = false;
  uint64_t full_size = 0;      // bytes of the whole line (set for every line)
  crypto::Hash full_sha256{};  // of the whole line; set for overlong lines only
};

class LineReader {
 public:
  // Reads from `fd` (not owned). REQUIRES: max_line_bytes > 0.
  LineReader(int fd, size_t max_line_bytes);

  // Fills `line` and returns true, or returns false at the end of the stream.
  Result<bool> Next(Line* line);

  uint64_t bytes_read() const { return bytes_read_; }

 private:
  // Reads more input into the buffer; returns false at EOF.
  Result<bool> Fill();

  int fd_;
  size_t max_line_;
  std::vector<char> buf_;
  size_t begin_ = 0, end_ = 0;
  bool eof_ = false;
  uint64_t line_no_ = 0;
  uint64_t bytes_read_ = 0;
  std::string overlong_prefix_;
};

}  // namespace nhitrace::ingest
