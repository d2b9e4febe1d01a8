#include "ingest/ingest.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include <pthread.h>

#include "base/utf8.h"
#include "crypto/sha256.h"
#include "event/codec.h"
#include "ingest/importer.h"
#include "ingest/record_reader.h"
#include "json/dom.h"

namespace nhitrace::ingest {

std::string Rejection::ToString() const {
  return source + ":" + std::to_string(line) + ": " + field + ": " + reason;
}

namespace {

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

// One event (or one record without events) after the position-independent work.
struct Item {
  enum class Kind { kBlank, kRejected, kIgnored, kPrepared };
  Kind kind = Kind::kBlank;
  bool first_of_record = true;  // the record's first item: counts the record
  uint64_t line = 0;
  size_t offset = 0, length = 0;  // the raw bytes within Chunk::bytes
  bool overlong = false;
  uint64_t full_size = 0;
  crypto::Hash full_sha256{};
  Rejection rejection;
  std::string ignored_name;
  ledger::PreparedEvent prepared;
};

// Lines travel from the preparing thread to the appending thread in chunks, with their raw
// bytes in one buffer.
struct Chunk {
  std::string bytes;
  std::vector<Item> items;
  uint64_t bytes_read = 0;  // of the input, after this chunk
};

constexpr size_t kChunkItems = 256;
constexpr size_t kChunkBytes = 1 << 20;
constexpr size_t kQueueChunks = 8;  // with kChunkBytes: at most ~8 MiB of lines in flight

// A bounded single-producer single-consumer queue of chunks. The producer ends the stream with
// Close(status); the consumer can Cancel() to make the producer stop early.
class ChunkQueue {
 public:
  // Blocks while full; false if cancelled.
  bool Push(Chunk chunk) {
    std::unique_lock lock(mu_);
    not_full_.wait(lock, [&] { return q_.size() < kQueueChunks || cancelled_; });
    if (cancelled_) return false;
    q_.push_back(std::move(chunk));
    not_empty_.notify_one();
    return true;
  }
  void Close(Status status) {
    std::lock_guard lock(mu_);
    closed_ = true;
    status_ = std::move(status);
    not_empty_.notify_one();
  }
  // Blocks while empty; false at the end of the stream (then see status()).
  bool Pop(Chunk* chunk) {
    std::unique_lock lock(mu_);
    not_empty_.wait(lock, [&] { return !q_.empty() || closed_; });
    if (q_.empty()) return false;
    *chunk = std::move(q_.front());
    q_.pop_front();
    not_full_.notify_one();
    return true;
  }
  void Cancel() {
    std::lock_guard lock(mu_);
    cancelled_ = true;
    not_full_.notify_one();
  }
  bool cancelled() {
    std::lock_guard lock(mu_);
    return cancelled_;
  }
  Status status() {
    std::lock_guard lock(mu_);
    return status_;
  }
  // The consumer hands back chunks it is done with, so that their memory is freed (or reused)
  // on the producer's thread, not the busier consumer's.
  void Recycle(Chunk chunk) {
    std::lock_guard lock(mu_);
    recycled_.push_back(std::move(chunk));
  }
  // A recycled chunk, emptied but with its capacity, or a new one.
  Chunk Fresh() {
    Chunk c;
    {
      std::lock_guard lock(mu_);
      if (!recycled_.empty()) {
        c = std::move(recycled_.front());
        recycled_.pop_front();
      }
    }
    c.bytes.clear();
    c.items.clear();
    c.bytes_read = 0;
    return c;
  }

 private:
  std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
  std::deque<Chunk> q_;
  std::deque<Chunk> recycled_;
  bool closed_ = false;
  bool cancelled_ = false;
  Status status_;
};

// The preparing side: frames records, decodes or maps them, validates and canonicalises.
class Preparer {
 public:
  Preparer(ByteSource* source, const IngestOptions& options, const Clock& clock, ChunkQueue* queue)
      : reader_(source, options.max_line_bytes,
                options.format == "native" && options.importer == nullptr),
        options_(options),
        clock_(clock),
        queue_(queue),
        format_(options.format) {
    if (options.importer != nullptr) {
      importer_ = options.importer;
      format_ = std::string(importer_->format());
    } else if (format_ != "native" && format_ != "auto") {
      owned_importer_ = MakeImporter(format_);
      importer_ = owned_importer_.get();
    }
  }

  void Run() { queue_->Close(Loop()); }

  // After Run: what was read.
  const std::string& format() const { return format_; }
  std::string framing() const { return std::string(reader_.framing()); }
  uint64_t blank_lines() const { return reader_.blank_lines(); }

 private:
  Status Loop() {
    if (format_ != "native" && format_ != "auto" && !importer_) {
      return InvalidArgumentError("unknown format \"" + format_ + "\"");
    }
    chunk_ = queue_->Fresh();
    Record record;
    for (;;) {
      NHI_ASSIGN_OR_RETURN(bool more, reader_.Next(&record));
      if (!more) break;
      NHI_RETURN_IF_ERROR(Prepare(record));
      if (chunk_.items.size() >= kChunkItems || chunk_.bytes.size() >= kChunkBytes) {
        chunk_.bytes_read = reader_.bytes_read();
        if (!queue_->Push(std::move(chunk_))) return OkStatus();  // cancelled
        chunk_ = queue_->Fresh();
      }
    }
    if (importer_) {
      auto held = importer_->Finish();
      Item base;
      if (!held.ok()) {
        base.kind = Item::Kind::kRejected;
        base.offset = chunk_.bytes.size();
        base.rejection.field = "record";
        base.rejection.reason = held.status().message();
        chunk_.items.push_back(std::move(base));
      } else {
        base.offset = chunk_.bytes.size();
        AddMapped(std::move(held).value(), base, std::string_view());
      }
    }
    chunk_.bytes_read = reader_.bytes_read();
    if (!chunk_.items.empty() || chunk_.bytes_read > 0) queue_->Push(std::move(chunk_));
    return OkStatus();
  }

  void Reject(Item* item, std::string field, std::string reason) {
    item->kind = Item::Kind::kRejected;
    item->rejection.field = std::move(field);
    item->rejection.reason = std::move(reason);
  }

  Status Prepare(const Record& record) {
    Item item;
    item.line = record.line;
    item.offset = chunk_.bytes.size();
    item.length = record.data.size();
    item.overlong = record.overlong;
    item.full_size = record.full_size;
    item.full_sha256 = record.full_sha256;
    chunk_.bytes.append(record.data);
    const std::string_view raw(chunk_.bytes.data() + item.offset, item.length);
    if (record.overlong) {
      Reject(&item, "record",
             std::string(reader_.framing() == "json-lines" ? "line" : "record") + " is " +
                 std::to_string(record.full_size) + " bytes, longer than the limit of " +
                 std::to_string(options_.max_line_bytes) +
                 " (--max-line-bytes); its first bytes and SHA-256 are kept");
      chunk_.items.push_back(std::move(item));
      return OkStatus();
    }
    size_t bad = 0;
    if (!IsValidUtf8(raw, &bad)) {
      Reject(&item, "record", "invalid UTF-8 at byte " + std::to_string(bad));
      chunk_.items.push_back(std::move(item));
      return OkStatus();
    }
    simdjson::dom::element root;
    if (auto err = json::ParseJson(parser_, raw, &root)) {
      Reject(&item, "record", std::string("not valid JSON (") + simdjson::error_message(err) + ")");
      chunk_.items.push_back(std::move(item));
      return OkStatus();
    }
    if (format_ == "auto") {
      std::optional<std::string> chosen = DetectFormat(root);
      if (!chosen) {
        return InvalidArgumentError(
            options_.source_name + ":" + std::to_string(record.line) +
            ": --format auto: the first record is in none of the formats this build reads (" +
            FormatList() + "); name the format with --format");
      }
      format_ = *chosen;
      if (format_ != "native") {
        owned_importer_ = MakeImporter(format_);
        importer_ = owned_importer_.get();
      }
      if (options_.on_format) options_.on_format(format_);
    }
    if (!importer_) {
      auto decoded = event::DecodeNative(root);
      if (!decoded.ok()) {
        item.kind = Item::Kind::kRejected;
        SplitFieldError(decoded.status().message(), &item.rejection);
        chunk_.items.push_back(std::move(item));
        return OkStatus();
      }
      PrepareOne(std::move(decoded).value(), raw, &item);
      chunk_.items.push_back(std::move(item));
      return OkStatus();
    }
    if (!root.is_object()) {
      Reject(&item, "record", "must be a JSON object");
      chunk_.items.push_back(std::move(item));
      return OkStatus();
    }
    auto mapped = importer_->Map(root, raw);
    if (!mapped.ok()) {
      item.kind = Item::Kind::kRejected;
      SplitFieldError(mapped.status().message(), &item.rejection);
      chunk_.items.push_back(std::move(item));
      return OkStatus();
    }
    AddMapped(std::move(mapped).value(), item, raw);
    return OkStatus();
  }

  // Adds the items of one record's mapping. `base` carries the record's position and raw span.
  void AddMapped(MapResult result, const Item& base, std::string_view raw) {
    if (result.events.empty()) {
      if (raw.empty() && base.length == 0) return;  // Finish() with nothing held back
      Item item = base;
      item.kind = Item::Kind::kIgnored;
      item.ignored_name = result.ignored.empty() ? "(unnamed)" : std::move(result.ignored);
      chunk_.items.push_back(std::move(item));
      return;
    }
    bool own_seen = false;
    for (MappedEvent& m : result.events) {
      Item item = base;
      // A held-back record was counted when it was held; the first event of this record
      // counts this one.
      item.first_of_record = !m.raw.has_value() && !own_seen;
      if (!m.raw) own_seen = true;
      std::string_view event_raw = raw;
      if (m.raw) {
        item.offset = chunk_.bytes.size();
        item.length = m.raw->size();
        item.full_size = m.raw->size();
        item.line = 0;
        chunk_.bytes.append(*m.raw);
      }
      event_raw = std::string_view(chunk_.bytes.data() + item.offset, item.length);
      // The importer's event must be one the native decoder accepts, unchanged.
      std::string content = event::EncodeContent(m.event);
      simdjson::dom::element root;
      Status valid = OkStatus();
      if (auto err = json::ParseJson(check_parser_, content, &root)) {
        valid = InternalError(std::string("cannot parse own encoding: ") +
                              simdjson::error_message(err));
      } else {
        auto back = event::DecodeNative(root);
        if (!back.ok()) {
          valid = back.status();
        } else if (!(back->event == m.event)) {
          valid = InvalidArgumentError("event: does not survive encoding unchanged");
        }
      }
      if (!valid.ok()) {
        Rejection r;
        SplitFieldError(valid.message(), &r);
        Reject(&item, "event." + r.field, format_ + " importer made an invalid event: " + r.reason);
        chunk_.items.push_back(std::move(item));
        continue;
      }
      PrepareOne(event::NativeRecord{std::move(m.event), std::string()}, event_raw, &item);
      chunk_.items.push_back(std::move(item));
    }
  }

  void PrepareOne(event::NativeRecord record, std::string_view raw, Item* item) {
    auto prepared = ledger::PrepareEvent(std::move(record), raw, clock_, salts_);
    if (!prepared.ok()) {
      return Reject(item, "record", "cannot prepare: " + prepared.status().message());
    }
    item->kind = Item::Kind::kPrepared;
    item->prepared = std::move(prepared).value();
  }

  static std::optional<std::string> DetectFormat(const simdjson::dom::element& root) {
    if (root.is_object()) {
      auto obj = json::ObjectOf(root);
      // "v" is optional in native records; "kind" and "source" (an object) are required.
      simdjson::dom::element source;
      if (obj["kind"].error() == simdjson::SUCCESS && !obj["source"].get(source) &&
          source.is_object()) {
        return "native";
      }
    }
    for (const std::string& f : ImporterFormats()) {
      if (LooksLike(f, root)) return f;
    }
    return std::nullopt;
  }

  static std::string FormatList() {
    std::string s = "native";
    for (const std::string& f : ImporterFormats()) s += ", " + f;
    return s;
  }

  RecordReader reader_;
  const IngestOptions& options_;
  const Clock& clock_;
  ChunkQueue* queue_;
  std::string format_;
  std::unique_ptr<Importer> owned_importer_;
  Importer* importer_ = nullptr;
  Chunk chunk_;
  simdjson::dom::parser parser_;
  simdjson::dom::parser check_parser_;
  crypto::RandomPool salts_;
};

// The appending side: the order-dependent part (deduplication, sequence numbers, leaves, the
// tree, the store), batched into durable commits.
class Appender {
 public:
  Appender(ledger::Ledger& ledger, const IngestOptions& options)
      : ledger_(ledger), options_(options) {}

  // The format named in quarantine rows (with auto: known once the first record is read).
  void set_format_source(std::function<std::string()> f) { format_source_ = std::move(f); }

  Result<IngestStats> Run(ChunkQueue* queue) {
    stats_.tree_size = ledger_.size();
    NHI_RETURN_IF_ERROR(StartBatch());
    Chunk chunk;
    while (queue->Pop(&chunk)) {
      for (Item& item : chunk.items) {
        NHI_RETURN_IF_ERROR(Process(chunk, item));
        ++batch_lines_;
        if (batch_lines_ >= options_.batch_lines ||
            (batch_lines_ % 256 == 0 &&
             ledger_.clock().NowUnixNanos() - batch_start_ns_ >= options_.batch_nanos)) {
          stats_.bytes = chunk.bytes_read;
          NHI_RETURN_IF_ERROR(CommitBatch());
          NHI_RETURN_IF_ERROR(StartBatch());
        }
      }
      stats_.bytes = chunk.bytes_read;
      queue->Recycle(std::move(chunk));
    }
    NHI_RETURN_IF_ERROR(queue->status());
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
    stats_.records += pending_.records;
    stats_.lines += pending_.records;
    stats_.mapped += pending_.mapped;
    stats_.ignored += pending_.ignored;
    for (auto& [name, n] : pending_ignored_) {
      auto it = stats_.ignored_by_name.find(name);
      if (it == stats_.ignored_by_name.end() && stats_.ignored_by_name.size() >= 1000) {
        stats_.ignored_by_name["(other)"] += n;
      } else {
        stats_.ignored_by_name[name] += n;
      }
    }
    pending_ignored_.clear();
    stats_.tree_size = ledger_.size();
    for (const Rejection& r : pending_rejections_) {
      if (options_.on_reject) options_.on_reject(r);
    }
    pending_rejections_.clear();
    if (options_.on_commit) options_.on_commit(stats_);
    return OkStatus();
  }

  Status Quarantine(const Chunk& chunk, const Item& item, Rejection r) {
    std::string_view raw(chunk.bytes.data() + item.offset, item.length);
    store::QuarantineRow q;
    q.received_ns = ledger_.clock().NowUnixNanos();
    q.source = options_.source_name;
    q.line = item.line;
    q.format = format_source_();
    q.field = r.field;
    q.reason = r.reason;
    q.raw = std::string(raw);
    q.raw_size = item.full_size;
    q.truncated = item.overlong;
    q.raw_sha256 =
        std::string(crypto::AsBytes(item.overlong ? item.full_sha256 : crypto::Sha256(raw)));
    NHI_RETURN_IF_ERROR(batch_->Quarantine(q));
    ++pending_.quarantined;
    if (item.first_of_record) {
      ++pending_.records;
    } else {
      // A record whose earlier event was accepted: it counted as mapped, now as quarantined.
      if (pending_.mapped > 0 && record_counted_as_mapped_) --pending_.mapped;
    }
    record_counted_as_mapped_ = false;
    r.source = options_.source_name;
    r.line = item.line;
    pending_rejections_.push_back(std::move(r));
    return OkStatus();
  }

  Status Process(const Chunk& chunk, Item& item) {
    switch (item.kind) {
      case Item::Kind::kBlank:
        return OkStatus();
      case Item::Kind::kRejected:
        return Quarantine(chunk, item, item.rejection);
      case Item::Kind::kIgnored:
        ++pending_.records;
        ++pending_.ignored;
        ++pending_ignored_[item.ignored_name];
        return OkStatus();
      case Item::Kind::kPrepared:
        break;
    }
    std::string_view raw(chunk.bytes.data() + item.offset, item.length);
    NHI_ASSIGN_OR_RETURN(ledger::AppendOutcome outcome, batch_->Append(item.prepared, raw));
    switch (outcome.status) {
      case ledger::AppendStatus::kAccepted:
        ++pending_.accepted;
        break;
      case ledger::AppendStatus::kDuplicate:
        ++pending_.duplicate;
        break;
      case ledger::AppendStatus::kConflict:
        return Quarantine(chunk, item,
                          {"", 0, "source.event_id",
                           "conflicts with stored event seq " + std::to_string(outcome.seq) +
                               ": same source record id with different content (the stored "
                               "event is kept)"});
    }
    if (item.first_of_record) {
      ++pending_.records;
      ++pending_.mapped;
      record_counted_as_mapped_ = true;
    }
    return OkStatus();
  }

  struct Counts {
    uint64_t accepted = 0, duplicate = 0, quarantined = 0, records = 0, mapped = 0, ignored = 0;
  };

  ledger::Ledger& ledger_;
  const IngestOptions& options_;
  std::unique_ptr<ledger::Batch> batch_;
  size_t batch_lines_ = 0;
  int64_t batch_start_ns_ = 0;
  Counts pending_;
  std::map<std::string, uint64_t> pending_ignored_;
  bool record_counted_as_mapped_ = false;
  std::function<std::string()> format_source_;
  std::vector<Rejection> pending_rejections_;
  IngestStats stats_;
};

}  // namespace

Result<IngestStats> IngestStream(std::unique_ptr<ByteSource> raw_source, ledger::Ledger& ledger,
                                 const IngestOptions& options) {
  NHI_ASSIGN_OR_RETURN(std::unique_ptr<ByteSource> source, OpenInput(std::move(raw_source)));
  IngestOptions opts = options;
  std::mutex format_mu;
  std::string chosen =
      options.importer != nullptr ? std::string(options.importer->format()) : options.format;
  // The preparer picks the format (auto) before it hands over the first record's items, so
  // the appender learns it in time for quarantine rows.
  opts.on_format = [&](const std::string& f) {
    {
      std::lock_guard lock(format_mu);
      chosen = f;
    }
    if (options.on_format) options.on_format(f);
  };
  ChunkQueue queue;
  Preparer preparer(source.get(), opts, ledger.clock(), &queue);
  std::thread thread([&] {
    pthread_setname_np(pthread_self(), "nhi-prepare");
    preparer.Run();
  });
  Appender appender(ledger, opts);
  appender.set_format_source([&] {
    std::lock_guard lock(format_mu);
    return chosen;
  });
  Result<IngestStats> result = appender.Run(&queue);
  queue.Cancel();  // stops the preparer early if the appender failed
  thread.join();
  if (!result.ok()) return result;
  IngestStats stats = std::move(result).value();
  stats.format = preparer.format();
  stats.framing = preparer.framing();
  stats.gzip = source->compressed();
  stats.blank = preparer.blank_lines();
  stats.lines = stats.records + stats.blank;
  return stats;
}

Result<IngestStats> IngestFd(int fd, ledger::Ledger& ledger, const IngestOptions& options) {
  return IngestStream(std::make_unique<FdSource>(fd), ledger, options);
}

Result<IngestStats> IngestNativeStream(int fd, ledger::Ledger& ledger,
                                       const IngestOptions& options) {
  IngestOptions opts = options;
  opts.format = "native";
  return IngestFd(fd, ledger, opts);
}

}  // namespace nhitrace::ingest
