// Writer: the one thread that writes. It owns the appending Ledger; every change to the store
// made by the API (ingest batches, token changes, and later case and policy events) runs on it
// as a WriteJob, one at a time in submission order, so there is a single SQLite writer and the
// ledger's sequencer is never contended.
//
// Acknowledgement: a job's ticket completes only after the job returned, and a job commits its
// own batches (ledger::Batch::Commit is durable when it returns), so a request answered with
// success never loses what it was told was stored.
//
// Attribution: while a job runs, every event the ledger appends is attributed to the job's
// actor: the AuditRecorder (an AppendObserver) writes one api_audit row per committed batch in
// the batch's own transaction (store::ApiAuditRow), so an event can never be committed without
// the record of who caused it.
//
//   WriteJob job{actor, request_id, "POST /v1/ingest", [&](ledger::Ledger& l) { ... }};
//   NHI_ASSIGN_OR_RETURN(auto ticket, writer.Submit(std::move(job), body_bytes));
//   Status s = ticket->Wait();
//
// Thread-safety: Submit and Stop may be called from any thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "api/roles.h"
#include "base/status.h"
#include "base/time.h"
#include "ledger/ledger.h"

namespace nhitrace::api {

// The authenticated caller of a request.
struct Actor {
  std::string token_id;
  std::string name;
  Role role = Role::kAuditor;
};

struct WriteJob {
  Actor actor;
  std::string request_id;
  std::string action;  // "POST /v1/ingest", "token.create", ...
  // Runs on the writer thread. It may open and commit batches (ledger.BeginBatch) or, for data
  // outside the ledger, write through ledger.store().BeginWrite(); it must not leave either
  // open.
  std::function<Status(ledger::Ledger&)> run;
};

// The completion of one submitted job.
class WriteTicket {
 public:
  // Blocks until the job has run; its result.
  Status Wait();

 private:
  friend class Writer;
  void Complete(Status s);
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  Status status_;
};

// Writes the api_audit row of each batch committed while a job runs.
class AuditRecorder final : public ledger::AppendObserver {
 public:
  explicit AuditRecorder(const Clock& clock) : clock_(clock) {}
  // Attributes what is appended from now on to `job` (nullptr: to nobody).
  void SetJob(const WriteJob* job) { job_ = job; }

  Status OnAppend(store::WriteTxn& txn, uint64_t seq, const event::Event& event) override;
  Status BeforeCommit(store::WriteTxn& txn) override;
  void OnRollback() override;

 private:
  const Clock& clock_;
  const WriteJob* job_ = nullptr;
  std::optional<uint64_t> first_seq_;
  uint64_t count_ = 0;
};

class Writer {
 public:
  // Takes the ledger (opened with its signing key) and starts the thread. `max_queued_bytes`
  // bounds the bytes of submitted jobs not yet finished (their bodies); past it Submit fails
  // with kUnavailable so that a flood of ingest cannot exhaust memory.
  Writer(std::unique_ptr<ledger::Ledger> ledger, const Clock& clock, size_t max_queued_bytes);
  ~Writer();  // Stop()
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Queues `job`, accounting `bytes` against the queue bound until it finishes. kUnavailable
  // when stopping or the queue is full.
  Result<std::shared_ptr<WriteTicket>> Submit(WriteJob job, size_t bytes);
  // Submit and Wait.
  Status Run(WriteJob job, size_t bytes = 0);

  // Runs every queued job, then ends the thread. Later Submits fail. Idempotent.
  void Stop();

  // Whether the thread is running and accepting jobs.
  bool accepting() const;
  // The ledger's size after the last job (for readiness and logs).
  uint64_t tree_size() const;

 private:
  struct Item {
    WriteJob job;
    size_t bytes = 0;
    std::shared_ptr<WriteTicket> ticket;
  };
  void Loop();

  std::unique_ptr<ledger::Ledger> ledger_;
  AuditRecorder audit_;
  size_t max_queued_bytes_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  size_t queued_bytes_ = 0;
  bool stopping_ = false;
  uint64_t tree_size_ = 0;
  std::thread thread_;
};

}  // namespace nhitrace::api
