#include "ingest/line_reader.h"

#include <cerrno>
#include <cstring>

#include <unistd.h>

#include "base/file.h"

namespace nhitrace::ingest {

LineReader::LineReader(int fd, size_t max_line_bytes) : fd_(fd), max_line_(max_line_bytes) {
  buf_.resize(std::max<size_t>(max_line_bytes + 1, 1 << 20));
}

Result<bool> LineReader::Fill() {
  if (eof_) return false;
  if (begin_ > 0) {
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == buf_.size()) return true;  // full; caller handles
  for (;;) {
    ssize_t n = ::read(fd_, buf_.data() + end_, buf_.size() - end_);
    if (n < 0) {
      if (errno == EINTR) continue;
      return UnavailableError("read failed: " + ErrnoMessage(errno));
    }
    if (n == 0) {
      eof_ = true;
      return false;
    }
    end_ += static_cast<size_t>(n);
    bytes_read_ += static_cast<uint64_t>(n);
    return true;
  }
}

Result<bool> LineReader::Next(Line* line) {
  size_t scanned = 0;  // bytes of [begin_, end_) already searched for '\n'
  for (;;) {
    const char* start = buf_.data() + begin_;
    size_t avail = end_ - begin_;
    const void* nl = std::memchr(start + scanned, '\n', avail - scanned);
    if (nl != nullptr) {
      size_t len = static_cast<size_t>(static_cast<const char*>(nl) - start);
      if (len > max_line_) break;  // overlong, handled below
      *line = Line{std::string_view(start, len), ++line_no_, false, len, {}};
      begin_ += len + 1;
      return true;
    }
    scanned = avail;
    if (avail > max_line_) break;  // overlong, handled below
    NHI_ASSIGN_OR_RETURN(bool more, Fill());
    if (!more) {
      if (end_ == begin_) return false;
      // The last line has no newline.
      size_t len = end_ - begin_;
      *line = Line{std::string_view(buf_.data() + begin_, len), ++line_no_, false, len, {}};
      begin_ = end_;
      return true;
    }
  }
  // An overlong line: keep its first max_line_ bytes, hash all of it, skip to its end.
  crypto::Sha256Hasher hasher;
  overlong_prefix_.assign(buf_.data() + begin_, max_line_);
  uint64_t size = 0;
  for (;;) {
    const char* start = buf_.data() + begin_;
    size_t avail = end_ - begin_;
    const void* nl = std::memchr(start, '\n', avail);
    size_t take = nl ? static_cast<size_t>(static_cast<const char*>(nl) - start) : avail;
    hasher.Update(start, take);
    size += take;
    if (nl != nullptr) {
      begin_ += take + 1;
      break;
    }
    begin_ = end_;
    NHI_ASSIGN_OR_RETURN(bool more, Fill());
    if (!more) break;
  }
  *line = Line{overlong_prefix_, ++line_no_, true, size, hasher.Final()};
  return true;
}

}  // namespace nhitrace::ingest
