#include "ingest/record_reader.h"

#include <algorithm>
#include <cstring>

namespace nhitrace::ingest {

namespace {
constexpr size_t kReadChunk = 1 << 16;
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
}  // namespace

RecordReader::RecordReader(ByteSource* source, size_t max_record_bytes, bool json_lines_only)
    : source_(source), max_(max_record_bytes) {
  if (json_lines_only) {
    mode_ = Mode::kLines;
    framing_ = "json-lines";
  }
  buf_.resize(max_record_bytes + kReadChunk);
}

Result<bool> RecordReader::Fill() {
  if (eof_) return false;
  if (pos_ > 0) {
    std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
    end_ -= pos_;
    pos_ = 0;
  }
  if (end_ == buf_.size()) return true;  // full: the caller handles it
  NHI_ASSIGN_OR_RETURN(size_t n, source_->Read(buf_.data() + end_, buf_.size() - end_));
  if (n == 0) {
    eof_ = true;
    return false;
  }
  end_ += n;
  bytes_read_ += n;
  return true;
}

Result<bool> RecordReader::Ensure(size_t n) {
  while (end_ - pos_ < n) {
    NHI_ASSIGN_OR_RETURN(bool more, Fill());
    if (!more) return end_ - pos_ >= n;
    if (end_ == buf_.size() && pos_ == 0) return end_ - pos_ >= n;
  }
  return true;
}

void RecordReader::Consume(size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (buf_[pos_ + i] == '\n') ++line_;
  }
  pos_ += n;
}

Result<bool> RecordReader::SkipSpace(bool skip_commas) {
  for (;;) {
    while (pos_ < end_ && (IsSpace(buf_[pos_]) || (skip_commas && buf_[pos_] == ','))) {
      Consume(1);
    }
    if (pos_ < end_) return true;
    NHI_ASSIGN_OR_RETURN(bool more, Fill());
    if (!more) return false;
  }
}

bool RecordReader::IsRecordsWrapper(size_t at) const {
  size_t i = at + 1;
  auto skip = [&] {
    while (i < end_ && IsSpace(buf_[i])) ++i;
  };
  skip();
  static constexpr std::string_view kKey = "\"Records\"";
  if (end_ - i < kKey.size() || std::string_view(buf_.data() + i, kKey.size()) != kKey) {
    return false;
  }
  i += kKey.size();
  skip();
  if (i >= end_ || buf_[i] != ':') return false;
  ++i;
  skip();
  if (i >= end_ || buf_[i] != '[') return false;
  const_cast<RecordReader*>(this)->wrapper_end_ = i + 1;
  return true;
}

Result<bool> RecordReader::TryOpenRecordsWrapper() {
  NHI_ASSIGN_OR_RETURN(bool enough, Ensure(256));
  (void)enough;  // look at what there is
  if (!IsRecordsWrapper(pos_)) return false;
  Consume(wrapper_end_ - pos_);
  return true;
}

Status RecordReader::Detect() {
  // Fill until the first value's first line is in the buffer (or the buffer is full).
  for (;;) {
    size_t i = pos_;
    while (i < end_ && IsSpace(buf_[i])) ++i;
    bool have_line = i < end_ && std::memchr(buf_.data() + i, '\n', end_ - i) != nullptr;
    if (have_line || (i < end_ && end_ - pos_ >= 256 && buf_[i] != '{' && buf_[i] != '[')) {
      // enough to decide
    } else {
      NHI_ASSIGN_OR_RETURN(bool more, Fill());
      if (more && end_ < buf_.size()) continue;
    }
    if (i >= end_) {
      mode_ = Mode::kLines;  // empty or blank input
      framing_ = "json-lines";
      return OkStatus();
    }
    char c = buf_[i];
    if (c == '[') {
      mode_ = Mode::kScan;
      framing_ = "json-array";
      return OkStatus();
    }
    if (c == '{' && IsRecordsWrapper(i)) {
      mode_ = Mode::kScan;
      framing_ = "cloudtrail-records";
      return OkStatus();
    }
    // Does the first value end before its line does?
    int depth = 0;
    bool in_string = false, escape = false, ended = false;
    for (size_t j = i; j < end_; ++j) {
      char d = buf_[j];
      if (d == '\n') break;
      if (in_string) {
        if (escape) {
          escape = false;
        } else if (d == '\\') {
          escape = true;
        } else if (d == '"') {
          in_string = false;
        }
        continue;
      }
      if (d == '"') {
        in_string = true;
      } else if (d == '{' || d == '[') {
        ++depth;
      } else if ((d == '}' || d == ']') && --depth <= 0) {
        ended = true;
        break;
      }
    }
    if (c != '{' || ended) {
      mode_ = Mode::kLines;
      framing_ = "json-lines";
    } else {
      mode_ = Mode::kScan;
      framing_ = "json";
    }
    return OkStatus();
  }
}

Result<bool> RecordReader::SkipWrapperRest() {
  // Inside the wrapper object, after its "Records" array: skip other members to its '}'.
  int depth = 1;
  bool in_string = false, escape = false;
  for (;;) {
    while (pos_ < end_) {
      char c = buf_[pos_];
      Consume(1);
      if (in_string) {
        if (escape) {
          escape = false;
        } else if (c == '\\') {
          escape = true;
        } else if (c == '"') {
          in_string = false;
        }
        continue;
      }
      if (c == '"') {
        in_string = true;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (--depth == 0) return true;
      }
    }
    NHI_ASSIGN_OR_RETURN(bool more, Fill());
    if (!more) return false;
  }
}

Result<bool> RecordReader::Next(Record* record) {
  if (mode_ == Mode::kUnknown) NHI_RETURN_IF_ERROR(Detect());
  if (mode_ == Mode::kLines) return NextLine(record);
  // Find the start of the next record, opening and closing containers on the way.
  for (;;) {
    NHI_ASSIGN_OR_RETURN(bool more, SkipSpace(container_ != Container::kNone));
    if (!more) return false;
    char c = buf_[pos_];
    if (container_ != Container::kNone && c == ']') {
      Consume(1);
      if (container_ == Container::kRecords) {
        NHI_ASSIGN_OR_RETURN(bool closed, SkipWrapperRest());
        (void)closed;  // an unclosed wrapper at EOF: nothing more to read either way
      }
      container_ = Container::kNone;
      continue;
    }
    if (container_ == Container::kNone && c == '[') {
      container_ = Container::kArray;
      Consume(1);
      continue;
    }
    if (container_ == Container::kNone && c == '{') {
      NHI_ASSIGN_OR_RETURN(bool wrapper, TryOpenRecordsWrapper());
      if (wrapper) {
        container_ = Container::kRecords;
        continue;
      }
    }
    break;
  }

  // Scan one value from pos_. Its bytes are [pos_, pos_ + len) while it fits in the buffer.
  const uint64_t start_line = line_;
  const char first = buf_[pos_];
  const bool composite = first == '{' || first == '[';
  const bool string_scalar = first == '"';
  int depth = 0;
  bool in_string = false, escape = false;
  size_t len = 0;
  bool overlong = false;
  uint64_t dropped = 0;  // bytes of an overlong record already hashed and dropped
  crypto::Sha256Hasher hasher;
  bool done = false;
  // A scalar (or a stray '}', ']' or ',') is at least its first byte, so the reader always
  // moves on.
  if (!composite && !string_scalar) len = 1;
  for (;;) {
    while (pos_ + len < end_) {
      char c = buf_[pos_ + len];
      if (!composite && !string_scalar) {
        if (IsSpace(c) || c == ',' || c == ']' || c == '}') {
          done = true;
          break;
        }
        ++len;
        continue;
      }
      ++len;
      if (in_string) {
        if (escape) {
          escape = false;
        } else if (c == '\\') {
          escape = true;
        } else if (c == '"') {
          in_string = false;
          if (string_scalar && depth == 0) {
            done = true;
            break;
          }
        }
        continue;
      }
      if (c == '"') {
        in_string = true;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (--depth == 0) {
          done = true;
          break;
        }
      }
    }
    if (done) break;
    if (len > max_) {
      // Overlong: keep the first bytes, hash and drop the rest as it is scanned.
      if (!overlong) {
        overlong = true;
        overlong_prefix_.assign(buf_.data() + pos_, max_);
      }
      hasher.Update(buf_.data() + pos_, len);
      for (size_t i = 0; i < len; ++i) {
        if (buf_[pos_ + i] == '\n') ++line_;
      }
      dropped += len;
      pos_ += len;
      len = 0;
    }
    NHI_ASSIGN_OR_RETURN(bool more, Fill());
    if (!more) break;  // EOF inside the record: it ends here (and will fail to parse)
  }

  ++index_;
  record->line = start_line;
  record->index = index_;
  record->full_size = dropped + len;
  if (overlong || dropped + len > max_) {
    if (!overlong) overlong_prefix_.assign(buf_.data() + pos_, max_);
    hasher.Update(buf_.data() + pos_, len);
    record->overlong = true;
    record->full_sha256 = hasher.Final();
    record->data = overlong_prefix_;
  } else {
    record->overlong = false;
    record->data = std::string_view(buf_.data() + pos_, len);
  }
  Consume(len);
  return true;
}

Result<bool> RecordReader::NextLine(Record* record) {
  // JSON Lines: the record is the line exactly, without its "\n" (memchr is much faster than
  // scanning the JSON structure). Blank lines are counted and skipped.
  for (;;) {
    const uint64_t start_line = line_;
    size_t scanned = 0;
    bool overlong = false;
    for (;;) {
      size_t avail = end_ - pos_;
      const void* nl = std::memchr(buf_.data() + pos_ + scanned, '\n', avail - scanned);
      if (nl != nullptr) {
        size_t len = static_cast<size_t>(static_cast<const char*>(nl) - (buf_.data() + pos_));
        if (len > max_) {
          overlong = true;
          break;
        }
        if (IsBlankLine(len)) {
          ++blank_;
          ++line_;
          pos_ += len + 1;
          break;
        }
        FinishLine(record, start_line, len, true);
        return true;
      }
      scanned = avail;
      if (avail > max_) {
        overlong = true;
        break;
      }
      NHI_ASSIGN_OR_RETURN(bool more, Fill());
      if (!more) {
        size_t len = end_ - pos_;
        if (len == 0) return false;
        if (IsBlankLine(len)) {
          ++blank_;
          pos_ = end_;
          return false;
        }
        FinishLine(record, start_line, len, false);
        return true;
      }
    }
    if (!overlong) continue;  // a blank line was skipped
    // Overlong: keep the first bytes, hash all of it, skip to the end of the line.
    crypto::Sha256Hasher hasher;
    overlong_prefix_.assign(buf_.data() + pos_, max_);
    uint64_t size = 0;
    for (;;) {
      size_t avail = end_ - pos_;
      const void* nl = std::memchr(buf_.data() + pos_, '\n', avail);
      size_t take =
          nl ? static_cast<size_t>(static_cast<const char*>(nl) - (buf_.data() + pos_)) : avail;
      hasher.Update(buf_.data() + pos_, take);
      size += take;
      pos_ += take;
      if (nl != nullptr) {
        ++pos_;
        ++line_;
        break;
      }
      NHI_ASSIGN_OR_RETURN(bool more, Fill());
      if (!more) break;
    }
    ++index_;
    record->line = start_line;
    record->index = index_;
    record->overlong = true;
    record->full_size = size;
    record->full_sha256 = hasher.Final();
    record->data = overlong_prefix_;
    return true;
  }
}

bool RecordReader::IsBlankLine(size_t len) const {
  for (size_t i = 0; i < len; ++i) {
    char c = buf_[pos_ + i];
    if (c != ' ' && c != '\t' && c != '\r') return false;
  }
  return true;
}

void RecordReader::FinishLine(Record* record, uint64_t start_line, size_t len, bool newline) {
  ++index_;
  record->line = start_line;
  record->index = index_;
  record->overlong = false;
  record->full_size = len;
  record->data = std::string_view(buf_.data() + pos_, len);
  pos_ += len + (newline ? 1 : 0);
  if (newline) ++line_;
}

}  // namespace nhitrace::ingest
