// Ingest: turns a stream of input records into ledger events, in bounded memory.
//
// The stream is framed into records (ingest/record_reader.h), each record is decoded as a
// native event or mapped by an importer (ingest/importer.h) to zero or more events, and each
// event is either accepted (a new leaf), a duplicate (the same source record is already stored:
// nothing is written), or quarantined with the reason (kept with its bytes in the quarantine
// table). A record an importer finds not NHI-relevant is counted by name. Nothing stops the stream
// but an I/O or store failure. Commits happen in batches; `on_commit` is called only after a batch
// is durable, so a count it reports survives a crash at any later moment.
//
// Record identity: an event is the same record as a stored one iff its (source.system, time,
// source.event_id) is stored — the same record always carries the same authoritative time.
// With equal content it is a duplicate; with different content it is a conflict and
// quarantined (the stored event is never replaced). Two records with the same source id but
// different times are different records to ingest and are both stored.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "base/status.h"
#include "ingest/byte_source.h"
#include "ledger/ledger.h"

namespace nhitrace::ingest {

class Importer;

struct Rejection {
  std::string source;  // file name, "-" for stdin
  uint64_t line = 0;
  std::string field;  // path of the offending field, or "record"
  std::string reason;

  // "source:line: field: reason"
  std::string ToString() const;
};

struct IngestStats {
  std::string format;   // the format read ("native", "cloudtrail", ...; chosen by auto)
  std::string framing;  // "json-lines", "json", "json-array", "cloudtrail-records"
  bool gzip = false;    // the input was gzip-compressed
  uint64_t lines = 0;   // records read, plus blank lines (JSON Lines)
  uint64_t blank = 0;
  uint64_t records = 0;  // source records read
  // Records by outcome: mapped to events, not NHI-relevant, quarantined. Every record is
  // counted in exactly one (a record whose events were all duplicates counts as mapped).
  uint64_t mapped = 0;
  uint64_t ignored = 0;
  uint64_t quarantined = 0;
  // Events by outcome: new leaves, duplicates of stored events. (An event in conflict with a
  // stored one is quarantined and counted in `quarantined`.)
  uint64_t accepted = 0;
  uint64_t duplicate = 0;
  // The "not NHI-relevant" records by the name the importer gave them (at most 1,000 names;
  // the rest are counted under "(other)").
  std::map<std::string, uint64_t> ignored_by_name;
  uint64_t bytes = 0;      // of the input read (compressed bytes for gzip)
  uint64_t tree_size = 0;  // after the last commit
};

struct IngestOptions {
  std::string source_name = "-";
  // "native", an importer's name (ImporterFormats()), or "auto": chosen from the first record.
  std::string format = "native";
  size_t max_line_bytes = 1 << 20;  // the longest record kept (longer: quarantined)
  // A batch is committed when it holds this many records or is this old, and at the end. Fewer,
  // larger commits rewrite fewer index pages (BENCHMARKS.md: 4x larger batches wrote 43% less).
  size_t batch_lines = 65536;
  int64_t batch_nanos = 1'000'000'000;
  std::function<void(const IngestStats&)> on_commit;  // after each durable commit
  std::function<void(const Rejection&)> on_reject;    // for every quarantined record
  // Use this importer (not owned) rather than the one options.format names (tests, embedders).
  Importer* importer = nullptr;
  // With format "auto": called once with the chosen format.
  std::function<void(const std::string& format)> on_format;
};

// Reads records from `source` until its end (gzip is detected and decompressed).
Result<IngestStats> IngestStream(std::unique_ptr<ByteSource> source, ledger::Ledger& ledger,
                                 const IngestOptions& options);

// Reads from `fd` (not owned) until EOF, in options.format.
Result<IngestStats> IngestFd(int fd, ledger::Ledger& ledger, const IngestOptions& options);

// The same with format "native" (kept for callers that only read native events).
Result<IngestStats> IngestNativeStream(int fd, ledger::Ledger& ledger,
                                       const IngestOptions& options);

}  // namespace nhitrace::ingest
