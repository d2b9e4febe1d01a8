// RecordReader: splits an input stream into JSON records, in bounded memory, keeping each
// record's exact bytes.
//
// The framing is found from the start of the input:
//   - JSON Lines (the first value ends on its first line): each non-blank line is a record,
//     byte for byte without its "\n", so a malformed line never swallows the lines after it;
//   - JSON documents one after another, pretty-printed or not: each top-level value;
//   - a top-level JSON array: each element is a record;
//   - CloudTrail's S3 delivery file {"Records":[...]}: each element of "Records" is a record
//     (other members of the wrapper are skipped); several such documents may follow each other.
// A record longer than the limit is not held in memory: its first bytes are kept and the whole
// is hashed, as LineReader does.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "crypto/sha256.h"
#include "ingest/byte_source.h"

namespace nhitrace::ingest {

struct Record {
  std::string_view data;  // the record's bytes (first bytes only if overlong); valid until Next
  uint64_t line = 0;      // 1-based line of its first byte
  uint64_t index = 0;     // 1-based record number in the stream
  bool overlong = false;
  uint64_t full_size = 0;
  crypto::Hash full_sha256{};  // of the whole record; set for overlong records only
};

class RecordReader {
 public:
  // Reads from `source` (not owned). With `json_lines_only` every line is a record whatever it
  // holds (the native format is defined as JSON Lines). REQUIRES: max_record_bytes > 0.
  RecordReader(ByteSource* source, size_t max_record_bytes, bool json_lines_only = false);

  // Fills `record` and returns true, or false at the end. An error is an I/O failure only:
  // malformed records are still returned (their parse fails later and they are quarantined).
  Result<bool> Next(Record* record);

  // "json-lines", "json", "json-array" or "cloudtrail-records": the framing found at the start
  // (set by the first call of Next).
  std::string_view framing() const { return framing_; }
  uint64_t bytes_read() const { return bytes_read_; }
  // Blank lines skipped (JSON Lines framing only).
  uint64_t blank_lines() const { return blank_; }

 private:
  Result<bool> Fill();                       // more input; false at EOF
  Result<bool> Ensure(size_t n);             // at least n bytes after pos_, unless EOF
  Result<bool> SkipSpace(bool skip_commas);  // false at EOF
  Status Detect();                           // chooses the framing from the first value
  bool IsRecordsWrapper(size_t at) const;    // {"Records":[ at buf_[at]? (sets wrapper_end_)
  Result<bool> TryOpenRecordsWrapper();      // at '{': consumes {"Records":[ if present
  Result<bool> SkipWrapperRest();            // after the Records array: to the wrapper's '}'
  void Consume(size_t n);                    // advance pos_ counting newlines
  Result<bool> NextLine(Record* record);     // JSON Lines: the record is the line
  bool IsBlankLine(size_t len) const;        // [pos_, pos_ + len) only spaces, tabs, CRs?
  void FinishLine(Record* record, uint64_t start_line, size_t len, bool newline);

  ByteSource* source_;
  size_t max_;
  std::vector<char> buf_;
  size_t pos_ = 0, end_ = 0;
  bool eof_ = false;
  uint64_t line_ = 1;
  uint64_t index_ = 0;
  uint64_t bytes_read_ = 0;
  enum class Container { kNone, kArray, kRecords };
  Container container_ = Container::kNone;
  enum class Mode { kUnknown, kLines, kScan };
  Mode mode_ = Mode::kUnknown;
  size_t wrapper_end_ = 0;  // set by IsRecordsWrapper: the index after the '['
  uint64_t blank_ = 0;
  std::string framing_;
  std::string overlong_prefix_;
};

}  // namespace nhitrace::ingest
