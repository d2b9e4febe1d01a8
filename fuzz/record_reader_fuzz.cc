// Fuzzes ingest::OpenInput + ingest::RecordReader, which frame every imported stream (JSON
// Lines, documents, arrays, CloudTrail's {"Records":[...]}, gzip) into records.
//
// Checks, beyond "no crash": without gzip, every record that is not overlong is a byte-exact
// substring of the input, later than the previous one and within the limit; an overlong record
// keeps exactly `max` first bytes; line numbers never go backwards.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ingest/byte_source.h"
#include "ingest/record_reader.h"

#define FUZZ_CHECK(cond, what)                                \
  do {                                                        \
    if (!(cond)) {                                            \
      std::fprintf(stderr, "record_reader_fuzz: %s\n", what); \
      std::abort();                                           \
    }                                                         \
  } while (0)

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nhitrace::ingest;
  if (size == 0) return 0;
  const size_t max = (data[0] & 0x7F) + 1;
  const bool lines_only = (data[0] & 0x80) != 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto src = OpenInput(std::make_unique<MemorySource>(input));
  FUZZ_CHECK(src.ok(), "OpenInput failed on memory");
  const bool gzip = (*src)->compressed();
  RecordReader reader(src->get(), max, lines_only);
  Record r;
  size_t pos = 0;
  uint64_t last_line = 0, last_index = 0;
  for (;;) {
    auto more = reader.Next(&r);
    if (!more.ok()) {
      FUZZ_CHECK(gzip, "a read error without gzip");
      break;
    }
    if (!*more) break;
    FUZZ_CHECK(r.line >= last_line, "line numbers went backwards");
    FUZZ_CHECK(r.index == last_index + 1, "record numbers are not consecutive");
    last_line = r.line;
    last_index = r.index;
    if (r.overlong) {
      FUZZ_CHECK(r.full_size > max, "overlong record within the limit");
      FUZZ_CHECK(r.data.size() == max, "overlong record: prefix is not the limit");
    } else {
      FUZZ_CHECK(r.data.size() <= max, "record over the limit not marked overlong");
      FUZZ_CHECK(r.full_size == r.data.size(), "full_size differs from the record");
    }
    if (!gzip && !r.overlong) {
      size_t at = input.find(r.data, pos);
      FUZZ_CHECK(at != std::string_view::npos, "record bytes are not in the input after the last");
      pos = at + r.data.size();
    }
  }
  return 0;
}
