// Fuzzes ingest::LineReader, which splits every ingested stream into lines in bounded memory.
//
// Input layout (so that small inputs also reach the 1 MiB buffer refill logic):
//   byte 0: bits 0-5 = m, bits 6-7 = mode
//     mode 0: max_line_bytes = m + 1, the stream is bytes 1.. of the input, read from a memfd
//     mode 1: max_line_bytes = m + 1, the stream is a filler + bytes 3.., from a memfd
//     mode 2: max_line_bytes = 1 MiB - 32 + m (around the buffer size), filler + bytes 3..
//     mode 3: as mode 0, but read from a pipe
//   with a filler: byte 1 = o, byte 2 = f. The filler is (1 MiB - 128 + o) bytes of lines of
//   8192 + 64 f 'x' and a "\n" (f = 255: no "\n" at all), cut off wherever its length ends, so
//   the fuzzed bytes straddle the point where the reader's first 1 MiB read ends. (Filler lines
//   are long so that checking a filler stream stays in the milliseconds.)
//
// Properties, over the whole stream S: lines are numbered 1, 2, ...; each line is the bytes of S
// up to the next "\n" (or the end of S), in full when it fits max_line_bytes and else as its
// first max_line_bytes bytes plus its full size and SHA-256; the lines and the "\n" between
// them account for every byte of S; the end of the stream stays the end.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "crypto/sha256.h"
#include "fuzz_check.h"
#include "ingest/line_reader.h"

namespace {

constexpr size_t kMiB = size_t{1} << 20;

// Writes all of `bytes` to `fd` at its current offset.
void WriteAll(int fd, std::string_view bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    FUZZ_CHECK(n > 0, "write failed");
    done += static_cast<size_t>(n);
  }
}

// A pipe whose read end yields `bytes` and then EOF. Returns the read end.
// REQUIRES: the bytes fit in the pipe buffer (64 KiB), as nothing reads concurrently.
int PipeWith(std::string_view bytes) {
  int fds[2];
  FUZZ_CHECK(::pipe2(fds, O_CLOEXEC) == 0);
  WriteAll(fds[1], bytes);
  ::close(fds[1]);
  return fds[0];
}

// A memfd that yields `bytes` and then EOF, at offset 0. One memfd serves every run (not owned
// by the caller), so that its pages are reused: fresh 1 MiB files made runs several times slower.
int MemfdWith(std::string_view bytes) {
  static const int fd = ::memfd_create("line_reader_fuzz", MFD_CLOEXEC);
  FUZZ_CHECK(fd >= 0);
  FUZZ_CHECK(::lseek(fd, 0, SEEK_SET) == 0);
  WriteAll(fd, bytes);
  FUZZ_CHECK(::ftruncate(fd, static_cast<off_t>(bytes.size())) == 0);
  FUZZ_CHECK(::lseek(fd, 0, SEEK_SET) == 0);
  return fd;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using nhitrace::ingest::Line;
  using nhitrace::ingest::LineReader;
  if (size == 0) return 0;
  const unsigned m = data[0] & 0x3F;
  const unsigned mode = data[0] >> 6;
  const bool filler = mode == 1 || mode == 2;
  if (filler && size < 3) return 0;
  // Keep the pipe mode within a default pipe buffer.
  if (mode == 3 && size > 65536 + 1) return 0;
  const size_t max_line = mode == 2 ? kMiB - 32 + m : m + 1;

  static std::string stream;  // reused: keeps its capacity between runs
  stream.clear();
  if (filler) {
    const size_t filler_size = kMiB - 128 + data[1];
    const unsigned f = data[2];
    if (f == 255) {
      stream.assign(filler_size, 'x');
    } else {
      std::string unit(8192 + 64 * f, 'x');
      unit += '\n';
      while (stream.size() + unit.size() <= filler_size) stream += unit;
      stream.append(unit, 0, filler_size - stream.size());
    }
    stream.append(reinterpret_cast<const char*>(data) + 3, size - 3);
  } else {
    stream.assign(reinterpret_cast<const char*>(data) + 1, size - 1);
  }
  const std::string_view s(stream);

  const bool pipe = mode == 3;
  const int fd = pipe ? PipeWith(s) : MemfdWith(s);
  LineReader reader(fd, max_line);
  Line line;
  size_t pos = 0;  // where the next line starts in s
  uint64_t expected_no = 1;
  bool ended_without_newline = false;
  for (;;) {
    auto more = reader.Next(&line);
    FUZZ_CHECK(more.ok(), more.status().ToString());
    if (!*more) break;
    FUZZ_CHECK(!ended_without_newline, "a line after the last line");
    FUZZ_CHECK(line.number == expected_no, "line numbers are not consecutive");
    ++expected_no;
    FUZZ_CHECK(pos + line.full_size <= s.size(), "line reaches past the end of the stream");
    const std::string_view whole = s.substr(pos, line.full_size);
    FUZZ_CHECK(whole.find('\n') == std::string_view::npos, "a line contains a newline");
    if (line.overlong) {
      FUZZ_CHECK(line.full_size > max_line, "overlong line within the limit");
      FUZZ_CHECK(line.data == whole.substr(0, max_line), "overlong line: wrong first bytes");
      FUZZ_CHECK(line.full_sha256 == nhitrace::crypto::Sha256(whole), "overlong line: wrong hash");
    } else {
      FUZZ_CHECK(line.full_size <= max_line, "line over the limit not marked overlong");
      FUZZ_CHECK(line.data == whole, "line bytes differ from the stream");
    }
    pos += line.full_size;
    if (pos < s.size()) {
      FUZZ_CHECK(s[pos] == '\n', "line does not end at a newline");
      ++pos;
    } else {
      // The last line, without a newline. The reader never reports an empty one: after a
      // final "\n" the stream just ends.
      FUZZ_CHECK(line.full_size > 0, "an empty line after the final newline");
      ended_without_newline = true;
    }
  }
  FUZZ_CHECK(pos == s.size(), "lines and newlines do not account for every byte: " +
                                  std::to_string(pos) + " of " + std::to_string(s.size()));
  FUZZ_CHECK(reader.bytes_read() == s.size());
  auto again = reader.Next(&line);
  FUZZ_CHECK(again.ok() && !*again, "the end of the stream is not sticky");
  if (pipe) ::close(fd);
  return 0;
}
