#include "api/writer.h"

#include <pthread.h>

#include "json/writer.h"

namespace nhitrace::api {

Status WriteTicket::Wait() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return done_; });
  return status_;
}

void WriteTicket::Complete(Status s) {
  std::lock_guard lock(mu_);
  status_ = std::move(s);
  done_ = true;
  cv_.notify_all();
}

Status AuditRecorder::OnAppend(store::WriteTxn&, uint64_t seq, const event::Event&) {
  if (!first_seq_) first_seq_ = seq;
  ++count_;
  return OkStatus();
}

Status AuditRecorder::BeforeCommit(store::WriteTxn& txn) {
  Status s;
  if (count_ > 0) {
    if (job_ == nullptr) {
      s = InternalError("events appended outside of an API write job");
    } else {
      store::ApiAuditRow row;
      row.time_ns = clock_.NowUnixNanos();
      row.request_id = job_->request_id;
      row.token_id = job_->actor.token_id;
      row.token_name = job_->actor.name;
      row.role = std::string(RoleName(job_->actor.role));
      row.action = job_->action;
      row.first_seq = first_seq_;
      row.event_count = count_;
      s = txn.InsertApiAudit(row);
    }
  }
  first_seq_.reset();
  count_ = 0;
  return s;
}

void AuditRecorder::OnRollback() {
  first_seq_.reset();
  count_ = 0;
}

Writer::Writer(std::unique_ptr<ledger::Ledger> ledger, const Clock& clock, size_t max_queued_bytes)
    : ledger_(std::move(ledger)), audit_(clock), max_queued_bytes_(max_queued_bytes) {
  ledger_->AddObserver(&audit_);
  tree_size_ = ledger_->size();
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "nhi-writer");
    Loop();
  });
}

Writer::~Writer() { Stop(); }

Result<std::shared_ptr<WriteTicket>> Writer::Submit(WriteJob job, size_t bytes) {
  auto ticket = std::make_shared<WriteTicket>();
  std::lock_guard lock(mu_);
  if (stopping_) return UnavailableError("the server is shutting down; retry on another instance");
  if (queued_bytes_ > 0 && queued_bytes_ + bytes > max_queued_bytes_) {
    return UnavailableError("the write queue is full (" + std::to_string(queued_bytes_) +
                            " bytes waiting); retry later");
  }
  queued_bytes_ += bytes;
  queue_.push_back(Item{std::move(job), bytes, ticket});
  cv_.notify_one();
  return ticket;
}

Status Writer::Run(WriteJob job, size_t bytes) {
  NHI_ASSIGN_OR_RETURN(auto ticket, Submit(std::move(job), bytes));
  return ticket->Wait();
}

void Writer::Loop() {
  for (;;) {
    Item item;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return !queue_.empty() || stopping_; });
      if (queue_.empty()) return;  // stopping, and everything queued has run
      item = std::move(queue_.front());
      queue_.pop_front();
    }
    audit_.SetJob(&item.job);
    Status s = item.job.run(*ledger_);
    audit_.SetJob(nullptr);
    {
      std::lock_guard lock(mu_);
      queued_bytes_ -= item.bytes;
      tree_size_ = ledger_->size();
    }
    item.ticket->Complete(std::move(s));
  }
}

void Writer::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

bool Writer::accepting() const {
  std::lock_guard lock(mu_);
  return !stopping_;
}

uint64_t Writer::tree_size() const {
  std::lock_guard lock(mu_);
  return tree_size_;
}

}  // namespace nhitrace::api
