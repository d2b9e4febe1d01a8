// A ledger with its derived state, for evidence-pack tests: ingest lines, export packs in
// memory, verify them.
#pragma once

#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cases/projection.h"
#include "cases/session.h"
#include "correlate/derived_state.h"
#include "evidence/export.h"
#include "evidence/verify_pack.h"
#include "testing/ledger_fixture.h"

namespace nhitrace::testing {

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::vector<std::string> NonEmptyLines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

// The example ledger of docs/format/event.md (examples/access-chain.jsonl).
inline std::vector<std::string> ExampleLines() {
  return NonEmptyLines(ReadFile(std::string(NHITRACE_SOURCE_DIR) + "/examples/access-chain.jsonl"));
}

// A policy event publishing the policy version the example's approval names.
inline const char kExamplePolicyLine[] =
    R"({"v":1,"kind":"policy","source":{"system":"nhitrace","event_id":"policy/nhi-access/7"},)"
    R"("time":"2026-02-20T09:00:00Z","policy":{"id":"nhi-access","version":"7",)"
    R"("hash":"sha256:4f1c9a0e"},"raw":{"document":"rules: [approve-by-owner]"}})";

class EvidenceLedger {
 public:
  EvidenceLedger() {
    f_.set_durable(false);
    Status s = f_.Init("test.example/evidence");
    EXPECT_TRUE(s.ok()) << s.ToString();
    Reopen();
  }

  void Reopen() {
    cases_.reset();
    derived_.reset();
    ledger_.reset();
    auto l = f_.Open();
    EXPECT_TRUE(l.ok()) << l.status().ToString();
    ledger_ = std::move(l).value();
    derived_ = std::make_unique<correlate::DerivedState>(ledger_->store());
    ledger_->AddObserver(derived_.get());
    cases_ = std::make_unique<cases::CaseProjection>(ledger_->store());
    ledger_->AddObserver(cases_.get());
  }

  // Appends `lines`, `per_batch` to a batch (one signed checkpoint each); every line must be
  // accepted.
  void Ingest(const std::vector<std::string>& lines, size_t per_batch = 1000) {
    for (size_t i = 0; i < lines.size(); i += per_batch) {
      auto batch = ledger_->BeginBatch();
      ASSERT_TRUE(batch.ok()) << batch.status().ToString();
      for (size_t j = i; j < std::min(lines.size(), i + per_batch); ++j) {
        f_.clock().Advance(1000000);
        auto o = (*batch)->Append(Record(lines[j]), lines[j]);
        ASSERT_TRUE(o.ok()) << o.status().ToString();
        ASSERT_EQ(o->status, ledger::AppendStatus::kAccepted) << lines[j];
      }
      Status s = (*batch)->Commit();
      ASSERT_TRUE(s.ok()) << s.ToString();
    }
  }

  Result<std::string> Export(const evidence::PackQuery& q, evidence::ExportStats* stats = nullptr) {
    std::string out;
    evidence::ExportOptions opts;
    opts.scratch_dir = f_.dir().path().string();
    NHI_ASSIGN_OR_RETURN(evidence::ExportStats st,
                         evidence::ExportPack(store(), q, opts, [&](std::string_view s) {
                           out.append(s);
                           return OkStatus();
                         }));
    if (stats) *stats = st;
    return out;
  }

  // Runs `ops` in a case session over one batch (committed when every op succeeded), acting
  // under `policy`. The clock moves one second first.
  void CaseOps(const std::function<void(cases::CaseSession&)>& ops,
               cases::PolicyContext policy = {}) {
    f_.clock().Advance(1000000000);
    auto batch = ledger_->BeginBatch();
    ASSERT_TRUE(batch.ok()) << batch.status().ToString();
    cases::BatchEventWriter writer(**batch);
    cases::CaseSession session(store(), *cases_, writer, {&f_.clock(), std::move(policy), nullptr});
    ops(session);
    if (::testing::Test::HasFatalFailure()) return;
    Status s = (*batch)->Commit();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  evidence::PackReport Verify(std::string_view pack, evidence::VerifyPackOptions opts = {}) {
    opts.scratch_dir = f_.dir().path().string();
    auto r = evidence::VerifyPack(pack, opts);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : evidence::PackReport{};
  }

  ledger::Ledger& ledger() { return *ledger_; }
  store::Store& store() { return ledger_->store(); }
  LedgerFixture& fixture() { return f_; }

 private:
  LedgerFixture f_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<correlate::DerivedState> derived_;
  std::unique_ptr<cases::CaseProjection> cases_;
};

// All problems of a report, one per line, for failure messages.
inline std::string Problems(const evidence::PackReport& r) {
  std::string s;
  for (const auto& p : r.problems) s += p.ToString() + "\n";
  return s;
}

}  // namespace nhitrace::testing
