#include "ingest/ingest.h"

#include "base/utf8.h"
#include "crypto/sha256.h"
#include "event/codec.h"
#include "ingest/line_reader.h"
#include "json/dom.h"

namespace nhitrace::ingest {

std::string Rejection::ToString() const {
  return source + ":" + std::to_string(line) + ": " + field + ": " + reason;
}

namespace {

bool IsBlank(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\r') return false;
  }
  return true;
}

// Splits a codec error "path: reason" into its two parts.
void SplitFieldError(const std::string& message, Rejection* r) {
  size_t p = message.find(": ");
  if (p == std::string::npos) {
    r->field = "record";
    r->reason = message;
  } else {
    r->field = message.substr(0, p);
    r->reason = message.substr(p + 2);
  }
}

class NativeIngest {
 public:
  NativeIngest(ledger::Ledger& ledger, const IngestOptions& options)
      : ledger_(ledger), options_(options) {}

  Result<IngestStats> Run(int fd) {
    LineReader reader(fd, options_.max_line_bytes);
    stats_.tree_size = ledger_.size();
    NHI_RETURN_IF_ERROR(StartBatch());
    Line line;
    for (;;) {
      NHI_ASSIGN_OR_RETURN(bool more, reader.Next(&line));
      if (!more) break;
      ++stats_.lines;
      stats_.bytes = reader.bytes_read();
      NHI_RETURN_IF_ERROR(ProcessLine(line));
      ++batch_lines_;
      if (batch_lines_ >= options_.batch_lines ||
          (batch_lines_ % 256 == 0 &&
           ledger_.clock().NowUnixNanos() - batch_start_ns_ >= options_.batch_nanos)) {
        NHI_RETURN_IF_ERROR(CommitBatch());
        NHI_RETURN_IF_ERROR(StartBatch());
      }
    }
    stats_.bytes = reader.bytes_read();
    NHI_RETURN_IF_ERROR(CommitBatch());
    return stats_;
  }

 private:
  Status StartBatch() {
    NHI_ASSIGN_OR_RETURN(batch_, ledger_.BeginBatch());
    batch_lines_ = 0;
    batch_start_ns_ = ledger_.clock().NowUnixNanos();
    pending_ = {};
    return OkStatus();
  }

  Status CommitBatch() {
    NHI_RETURN_IF_ERROR(batch_->Commit());
    batch_.reset();
    stats_.accepted += pending_.accepted;
    stats_.duplicate += pending_.duplicate;
    stats_.quarantined += pending_.quarantined;
    stats_.blank += pending_.blank;
    stats_.tree_size = ledger_.size();
    for (const Rejection& r : pending_rejections_) {
      if (options_.on_reject) options_.on_reject(r);
    }
    pending_rejections_.clear();
    if (options_.on_commit) options_.on_commit(stats_);
    return OkStatus();
  }

  Status Reject(const Line& line, Rejection r) {
    store::QuarantineRow q;
    q.received_ns = ledger_.clock().NowUnixNanos();
    q.source = options_.source_name;
    q.line = line.number;
    q.format = "native";
    q.field = r.field;
    q.reason = r.reason;
    q.raw = std::string(line.data);
    q.raw_size = line.full_size;
    q.truncated = line.overlong;
    q.raw_sha256 = std::string(
        crypto::AsBytes(line.overlong ? line.full_sha256 : crypto::Sha256(line.data)));
    NHI_RETURN_IF_ERROR(batch_->Quarantine(q));
    ++pending_.quarantined;
    r.source = options_.source_name;
    r.line = line.number;
    pending_rejections_.push_back(std::move(r));
    return OkStatus();
  }

  Status ProcessLine(const Line& line) {
    if (line.overlong) {
      return Reject(line, {"", 0, "record",
                           "line is " + std::to_string(line.full_size) +
                               " bytes, longer than the limit of " +
                               std::to_string(options_.max_line_bytes) +
                               " (--max-line-bytes); its first bytes and SHA-256 are kept"});
    }
    if (IsBlank(line.data)) {
      ++pending_.blank;
      return OkStatus();
    }
    size_t bad = 0;
    if (!IsValidUtf8(line.data, &bad)) {
      return Reject(line, {"", 0, "record", "invalid UTF-8 at byte " + std::to_string(bad)});
    }
    simdjson::dom::element root;
    if (auto err = parser_.parse(line.data.data(), line.data.size(), true).get(root)) {
      return Reject(line, {"", 0, "record",
                           std::string("not valid JSON (") + simdjson::error_message(err) + ")"});
    }
    auto record = event::DecodeNative(root);
    if (!record.ok()) {
      Rejection r;
      SplitFieldError(record.status().message(), &r);
      return Reject(line, std::move(r));
    }
    NHI_ASSIGN_OR_RETURN(ledger::AppendOutcome outcome, batch_->Append(*record, line.data));
    switch (outcome.status) {
      case ledger::AppendStatus::kAccepted:
        ++pending_.accepted;
        break;
      case ledger::AppendStatus::kDuplicate:
        ++pending_.duplicate;
        break;
      case ledger::AppendStatus::kConflict:
        return Reject(line, {"", 0, "source.event_id",
                             "conflicts with stored event seq " + std::to_string(outcome.seq) +
                                 ": same source record id with different content (the stored "
                                 "event is kept)"});
    }
    return OkStatus();
  }

  struct Counts {
    uint64_t accepted = 0, duplicate = 0, quarantined = 0, blank = 0;
  };

  ledger::Ledger& ledger_;
  const IngestOptions& options_;
  simdjson::dom::parser parser_;
  std::unique_ptr<ledger::Batch> batch_;
  size_t batch_lines_ = 0;
  int64_t batch_start_ns_ = 0;
  Counts pending_;
  std::vector<Rejection> pending_rejections_;
  IngestStats stats_;
};

}  // namespace

Result<IngestStats> IngestNativeStream(int fd, ledger::Ledger& ledger,
                                       const IngestOptions& options) {
  NativeIngest ingest(ledger, options);
  return ingest.Run(fd);
}

}  // namespace nhitrace::ingest
