// Ingest: turns a stream of input records into ledger events, in bounded memory.
//
// Each input line is either accepted (a new leaf), a duplicate (the same source record is
// already stored: nothing is written), or quarantined with the reason (kept with its bytes in
// the quarantine table). Nothing stops the stream but an I/O or store failure. Commits happen
// in batches; `on_commit` is called only after a batch is durable, so a count it reports
// survives a crash at any later moment.
//
// Record identity: an event is the same record as a stored one iff its (source.system, time,
// source.event_id) is stored — the same record always carries the same authoritative time.
// With equal content it is a duplicate; with different content it is a conflict and
// quarantined (the stored event is never replaced). Two records with the same source id but
// different times are different records to ingest and are both stored.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "base/status.h"
#include "ledger/ledger.h"

namespace nhitrace::ingest {

struct Rejection {
  std::string source;  // file name, "-" for stdin
  uint64_t line = 0;
  std::string field;  // path of the offending field, or "record"
  std::string reason;

  // "source:line: field: reason"
  std::string ToString() const;
};

struct IngestStats {
  uint64_t lines = 0;  // lines read, blank ones included
  uint64_t blank = 0;
  uint64_t accepted = 0;
  uint64_t duplicate = 0;
  uint64_t quarantined = 0;
  uint64_t bytes = 0;
  uint64_t tree_size = 0;  // after the last commit
};

struct IngestOptions {
  std::string source_name = "-";
  size_t max_line_bytes = 1 << 20;
  // A batch is committed when it holds this many lines or is this old, and at the end. Fewer,
  // larger commits rewrite fewer index pages (BENCHMARKS.md: 4x larger batches wrote 43% less).
  size_t batch_lines = 65536;
  int64_t batch_nanos = 1'000'000'000;
  std::function<void(const IngestStats&)> on_commit;  // after each durable commit
  std::function<void(const Rejection&)> on_reject;    // for every quarantined line
};

// Reads native JSON Lines from `fd` until EOF.
Result<IngestStats> IngestNativeStream(int fd, ledger::Ledger& ledger,
                                       const IngestOptions& options);

}  // namespace nhitrace::ingest
