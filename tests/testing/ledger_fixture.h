// A ledger in a temporary directory, for tests of the ledger and what builds on it.
#pragma once

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "base/time.h"
#include "event/codec.h"
#include "json/dom.h"
#include "ledger/ledger.h"
#include "testing/temp_dir.h"

namespace nhitrace::testing {

// 2026-03-01T00:00:00Z
inline constexpr int64_t kTestEpochNs = 1772323200LL * 1000000000LL;

class LedgerFixture {
 public:
  LedgerFixture() : clock_(kTestEpochNs) {}

  std::string store_path() const { return dir_.File("store.db"); }
  std::string key_path() const { return dir_.File("store.db.key"); }
  FakeClock& clock() { return clock_; }
  const TempDir& dir() const { return dir_; }

  Status Init(const std::string& origin = "test.example/log") {
    store::StoreOptions opts;
    opts.path = store_path();
    opts.durable = durable_;
    return ledger::Ledger::Init(opts, key_path(), origin, clock_);
  }

  // Commits without fsync (still atomic and crash-safe for the process): for tests that
  // commit thousands of tiny batches.
  void set_durable(bool durable) { durable_ = durable; }

  // Opens (again) with the signing key.
  Result<std::unique_ptr<ledger::Ledger>> Open() {
    NHI_ASSIGN_OR_RETURN(auto signer, ledger::LoadSigningKey(key_path()));
    store::StoreOptions opts;
    opts.path = store_path();
    opts.durable = durable_;
    NHI_ASSIGN_OR_RETURN(auto store, store::OpenStore(opts));
    return ledger::Ledger::Open(std::move(store), std::move(signer), clock_);
  }

 private:
  TempDir dir_;
  FakeClock clock_;
  bool durable_ = true;
};

// Decodes one native line; aborts the test on failure.
inline event::NativeRecord Record(const std::string& line) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  EXPECT_EQ(json::ParseJson(parser, line, &root), simdjson::SUCCESS) << line;
  auto r = event::DecodeNative(root);
  EXPECT_TRUE(r.ok()) << r.status().ToString() << " in " << line;
  return r.ok() ? std::move(r).value() : event::NativeRecord{};
}

// A valid native action line with the given source event id.
inline std::string ActionLine(int i, const std::string& identity = "aws:accesskey:AKIATEST") {
  return R"({"kind":"action","source":{"system":"test","event_id":"ev-)" + std::to_string(i) +
         R"("},"time":"2026-03-01T10:00:)" + (i % 60 < 10 ? "0" : "") + std::to_string(i % 60) +
         R"(Z","identity":")" + identity + R"(","scope":{"resources":["bucket/)" +
         std::to_string(i) + R"("]}})";
}

}  // namespace nhitrace::testing
