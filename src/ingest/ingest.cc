#include "ingest/ingest.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include <pthread.h>

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

// One input line after the position-independent work: blank, rejected, or ready to append.
struct Item {
  enum class Kind { kBlank, kRejected, kPrepared };
  Kind kind = Kind::kBlank;
  uint64_t line = 0;
  size_t offset = 0, length = 0;  // the raw bytes within Chunk::bytes
  bool overlong = false;
  uint64_t full_size = 0;
  crypto::Hash full_sha256{};
  Rejection rejection;
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

// The preparing side: reads lines, validates, parses and canonicalises them.
class Preparer {
 public:
  Preparer(int fd, const IngestOptions& options, const Clock& clock, ChunkQueue* queue)
      : reader_(fd, options.max_line_bytes), options_(options), clock_(clock), queue_(queue) {}

  void Run() { queue_->Close(Loop()); }

 private:
  Status Loop() {
    Chunk chunk = queue_->Fresh();
    Line line;
    for (;;) {
      NHI_ASSIGN_OR_RETURN(bool more, reader_.Next(&line));
      if (!more) break;
      Item item;
      item.line = line.number;
      item.offset = chunk.bytes.size();
      item.length = line.data.size();
      item.overlong = line.overlong;
      item.full_size = line.full_size;
      item.full_sha256 = line.full_sha256;
      chunk.bytes.append(line.data);
      Prepare(line, &item);
      chunk.items.push_back(std::move(item));
      if (chunk.items.size() >= kChunkItems || chunk.bytes.size() >= kChunkBytes) {
        chunk.bytes_read = reader_.bytes_read();
        if (!queue_->Push(std::move(chunk))) return OkStatus();  // cancelled
        chunk = queue_->Fresh();
      }
    }
    chunk.bytes_read = reader_.bytes_read();
    if (!chunk.items.empty() || chunk.bytes_read > 0) queue_->Push(std::move(chunk));
    return OkStatus();
  }

  void Reject(Item* item, std::string field, std::string reason) {
    item->kind = Item::Kind::kRejected;
    item->rejection.field = std::move(field);
    item->rejection.reason = std::move(reason);
  }

  void Prepare(const Line& line, Item* item) {
    if (line.overlong) {
      return Reject(item, "record",
                    "line is " + std::to_string(line.full_size) +
                        " bytes, longer than the limit of " +
                        std::to_string(options_.max_line_bytes) +
                        " (--max-line-bytes); its first bytes and SHA-256 are kept");
    }
    if (IsBlank(line.data)) return;  // kBlank
    size_t bad = 0;
    if (!IsValidUtf8(line.data, &bad)) {
      return Reject(item, "record", "invalid UTF-8 at byte " + std::to_string(bad));
    }
    simdjson::dom::element root;
    if (auto err = json::ParseJson(parser_, line.data, &root)) {
      return Reject(item, "record",
                    std::string("not valid JSON (") + simdjson::error_message(err) + ")");
    }
    auto record = event::DecodeNative(root);
    if (!record.ok()) {
      item->kind = Item::Kind::kRejected;
      SplitFieldError(record.status().message(), &item->rejection);
      return;
    }
    auto prepared = ledger::PrepareEvent(std::move(record).value(), line.data, clock_, salts_);
    if (!prepared.ok()) {
      return Reject(item, "record", "cannot prepare: " + prepared.status().message());
    }
    item->kind = Item::Kind::kPrepared;
    item->prepared = std::move(prepared).value();
  }

  LineReader reader_;
  const IngestOptions& options_;
  const Clock& clock_;
  ChunkQueue* queue_;
  simdjson::dom::parser parser_;
  crypto::RandomPool salts_;
};

// The appending side: the order-dependent part (deduplication, sequence numbers, leaves, the
// tree, the store), batched into durable commits.
class Appender {
 public:
  Appender(ledger::Ledger& ledger, const IngestOptions& options)
      : ledger_(ledger), options_(options) {}

  Result<IngestStats> Run(ChunkQueue* queue) {
    stats_.tree_size = ledger_.size();
    NHI_RETURN_IF_ERROR(StartBatch());
    Chunk chunk;
    while (queue->Pop(&chunk)) {
      for (Item& item : chunk.items) {
        ++stats_.lines;
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
    stats_.blank += pending_.blank;
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
    q.format = "native";
    q.field = r.field;
    q.reason = r.reason;
    q.raw = std::string(raw);
    q.raw_size = item.full_size;
    q.truncated = item.overlong;
    q.raw_sha256 =
        std::string(crypto::AsBytes(item.overlong ? item.full_sha256 : crypto::Sha256(raw)));
    NHI_RETURN_IF_ERROR(batch_->Quarantine(q));
    ++pending_.quarantined;
    r.source = options_.source_name;
    r.line = item.line;
    pending_rejections_.push_back(std::move(r));
    return OkStatus();
  }

  Status Process(const Chunk& chunk, Item& item) {
    switch (item.kind) {
      case Item::Kind::kBlank:
        ++pending_.blank;
        return OkStatus();
      case Item::Kind::kRejected:
        return Quarantine(chunk, item, item.rejection);
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
    return OkStatus();
  }

  struct Counts {
    uint64_t accepted = 0, duplicate = 0, quarantined = 0, blank = 0;
  };

  ledger::Ledger& ledger_;
  const IngestOptions& options_;
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
  ChunkQueue queue;
  Preparer preparer(fd, options, ledger.clock(), &queue);
  std::thread thread([&] {
    pthread_setname_np(pthread_self(), "nhi-prepare");
    preparer.Run();
  });
  Appender appender(ledger, options);
  Result<IngestStats> result = appender.Run(&queue);
  queue.Cancel();  // stops the preparer early if the appender failed
  thread.join();
  return result;
}

}  // namespace nhitrace::ingest
