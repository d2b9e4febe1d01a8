// Right to erasure: a raw record's bytes and salt are deleted, the erasure is recorded in the
// ledger, every proof still verifies, and the bytes are gone from the store's files.
#include "ledger/erasure.h"

#include <filesystem>

#include <gtest/gtest.h>

#include "base/file.h"
#include "event/codec.h"
#include "ledger/verify.h"
#include "testing/ledger_fixture.h"
#include "tlog/checkpoint.h"
#include "tlog/proof.h"

namespace nhitrace::ledger {
namespace {

using testing::LedgerFixture;
using testing::Record;

// An action whose upstream record (`raw`, kept but not signed as content) holds `marker`,
// `repeat` times.
std::string LineWith(int i, const std::string& marker, int repeat = 1) {
  std::string note;
  for (int r = 0; r < repeat; ++r) note += marker + " ";
  return R"({"kind":"action","source":{"system":"test","event_id":"ev-)" + std::to_string(i) +
         R"("},"time":"2026-03-01T10:00:0)" + std::to_string(i % 10) +
         R"(Z","identity":"aws:accesskey:AKIATEST","raw":{"requester":")" + note + R"("}})";
}

class ErasureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(f_.Init().ok());
    Open();
    lines_ = {LineWith(0, "nobody"), LineWith(1, "PII-ana.silva@example.com-7f3a"),
              LineWith(2, "nobody-else"),
              // Large enough to spill into overflow pages of its own.
              LineWith(3, "PII-BIGRECORD-c81e", 20000), LineWith(4, "CONTROL-kept-5d2b")};
    auto batch = ledger_->BeginBatch();
    ASSERT_TRUE(batch.ok());
    for (const auto& line : lines_) {
      auto o = (*batch)->Append(Record(line), line);
      ASSERT_TRUE(o.ok() && o->status == AppendStatus::kAccepted);
    }
    ASSERT_TRUE((*batch)->Commit().ok());
  }

  void Open() {
    ledger_.reset();
    auto l = f_.Open();
    ASSERT_TRUE(l.ok()) << l.status().ToString();
    ledger_ = std::move(l).value();
  }

  VerifyReport RunVerify() {
    auto r = Verify(ledger_->store(), {});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : VerifyReport{};
  }

  static std::string Problems(const VerifyReport& r) {
    std::string s;
    for (const auto& p : r.problems) s += p.what + "\n";
    return s;
  }

  // Whether `needle` occurs in the store's database file or its write-ahead log.
  bool InStoreFiles(const std::string& needle) {
    for (const std::string& path : {f_.store_path(), f_.store_path() + "-wal"}) {
      if (!PathExists(path)) continue;
      auto bytes = ReadFileToString(path, size_t{1} << 30);
      EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
      if (bytes.ok() && bytes->find(needle) != std::string::npos) return true;
    }
    return false;
  }

  LedgerFixture f_;
  std::unique_ptr<Ledger> ledger_;
  std::vector<std::string> lines_;
};

TEST_F(ErasureTest, KeepsEveryProofAndRecordsWhoErasedWhatAndWhy) {
  const uint64_t size_before = ledger_->size();
  auto old_note = ledger_->CheckpointNote(size_before);
  ASSERT_TRUE(old_note.ok());
  auto digest_before = ledger_->store().GetRaw(1);
  ASSERT_TRUE(digest_before.ok() && *digest_before);

  f_.clock().Advance(3600'000'000'000);
  auto r = EraseRawRecord(*ledger_, {1, "DSR-2231: GDPR Art. 17 request", "dpo@example.com"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->erased_seq, 1u);
  EXPECT_EQ(r->erasure_seq, 5u);
  EXPECT_EQ(r->tree_size, 6u);
  EXPECT_EQ(r->size, lines_[1].size());
  EXPECT_EQ(r->erased_ns, f_.clock().NowUnixNanos());
  EXPECT_TRUE(r->purge.ok()) << r->purge.ToString();

  // The record: bytes and salt gone, hash and size kept; the unsalted content hash cleared.
  auto raw = ledger_->store().GetRaw(1);
  ASSERT_TRUE(raw.ok() && *raw);
  EXPECT_EQ((*raw)->erased_ns, r->erased_ns);
  EXPECT_TRUE((*raw)->bytes.empty());
  EXPECT_TRUE((*raw)->salt.empty());
  EXPECT_EQ((*raw)->salted_sha256, (*digest_before)->salted_sha256);
  EXPECT_EQ((*raw)->size, lines_[1].size());
  auto row = ledger_->store().GetEvent(1);
  ASSERT_TRUE(row.ok() && *row);
  EXPECT_TRUE((*row)->content_hash.empty());

  // The erasure event says who, when, why, and which event; none of the erased bytes.
  auto erasure = ledger_->store().GetEvent(5);
  ASSERT_TRUE(erasure.ok() && *erasure);
  auto leaf = event::DecodeLeaf((*erasure)->leaf);
  ASSERT_TRUE(leaf.ok());
  EXPECT_EQ(leaf->event.kind, event::Kind::kErasure);
  EXPECT_EQ(ErasedSeq(leaf->event), std::optional<uint64_t>(1));
  EXPECT_EQ(leaf->event.rationale, "DSR-2231: GDPR Art. 17 request");
  ASSERT_TRUE(leaf->event.actor);
  EXPECT_EQ(leaf->event.actor->id, "dpo@example.com");
  EXPECT_EQ(leaf->event.time_ns, r->erased_ns);
  auto erasure_raw = ledger_->store().GetRaw(5);
  ASSERT_TRUE(erasure_raw.ok() && *erasure_raw);
  EXPECT_EQ((*erasure_raw)->bytes.find("ana.silva"), std::string::npos);
  EXPECT_EQ(
      (*erasure_raw)->bytes,
      ErasureRecordLine(1, r->erased_ns, "DSR-2231: GDPR Art. 17 request", "dpo@example.com"));

  // The ledger verifies; the old checkpoint is byte for byte what it was and a prefix of the
  // new one.
  VerifyReport v = RunVerify();
  EXPECT_TRUE(v.ok()) << Problems(v);
  EXPECT_EQ(v.raw_erased, 1u);
  EXPECT_EQ(v.raw_checked, 5u);
  EXPECT_EQ(*ledger_->CheckpointNote(size_before), *old_note);
  auto consistency = ledger_->ProveConsistency(size_before, std::nullopt);
  ASSERT_TRUE(consistency.ok()) << consistency.status().ToString();
  auto inclusion = ledger_->ProveInclusion(1, std::nullopt);
  ASSERT_TRUE(inclusion.ok()) << inclusion.status().ToString();
}

TEST_F(ErasureTest, ErasedBytesAreGoneFromTheStoreFiles) {
  const std::string small = "PII-ana.silva@example.com-7f3a", big = "PII-BIGRECORD-c81e",
                    control = "CONTROL-kept-5d2b";
  // The scan sees what is stored, wherever SQLite put it.
  ASSERT_TRUE(InStoreFiles(small));
  ASSERT_TRUE(InStoreFiles(big));
  ASSERT_TRUE(InStoreFiles(control));

  auto r1 = EraseRawRecord(*ledger_, {1, "DSR-1", ""});
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  ASSERT_TRUE(r1->purge.ok()) << r1->purge.ToString();
  auto r3 = EraseRawRecord(*ledger_, {3, "DSR-2", ""});
  ASSERT_TRUE(r3.ok()) << r3.status().ToString();
  ASSERT_TRUE(r3->purge.ok()) << r3->purge.ToString();

  // While the store is still open (its WAL exists) and after it is closed.
  EXPECT_FALSE(InStoreFiles(small));
  EXPECT_FALSE(InStoreFiles(big));
  EXPECT_TRUE(InStoreFiles(control));
  ledger_.reset();
  EXPECT_FALSE(InStoreFiles(small));
  EXPECT_FALSE(InStoreFiles(big));
  EXPECT_TRUE(InStoreFiles(control));
  Open();
  VerifyReport v = RunVerify();
  EXPECT_TRUE(v.ok()) << Problems(v);
  EXPECT_EQ(v.raw_erased, 2u);
}

TEST_F(ErasureTest, RefusesWhatItCannotErase) {
  EXPECT_EQ(EraseRawRecord(*ledger_, {99, "x", ""}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(EraseRawRecord(*ledger_, {1, "", ""}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(EraseRawRecord(*ledger_, {1, "x", std::string(2000, 'a')}).status().code(),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(EraseRawRecord(*ledger_, {1, "x", ""}).ok());
  auto again = EraseRawRecord(*ledger_, {1, "x", ""});
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(again.status().message().find("erased already"), std::string::npos);
  // Nothing was appended by the refusals.
  EXPECT_EQ(ledger_->size(), 6u);
}

TEST_F(ErasureTest, ReingestingTheErasedRecordIsADuplicate) {
  ASSERT_TRUE(EraseRawRecord(*ledger_, {1, "x", ""}).ok());
  auto batch = ledger_->BeginBatch();
  ASSERT_TRUE(batch.ok());
  auto o = (*batch)->Append(Record(lines_[1]), lines_[1]);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->status, AppendStatus::kDuplicate);
  EXPECT_EQ(o->seq, 1u);
}

TEST_F(ErasureTest, VerifyNamesAnErasureNoEventRecords) {
  // Bytes deleted behind the ledger's back, with no erasure event.
  {
    auto txn = ledger_->store().BeginWrite();
    ASSERT_TRUE(txn.ok());
    auto erased = (*txn)->EraseRaw(2, 1);
    ASSERT_TRUE(erased.ok() && *erased);
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  VerifyReport v = RunVerify();
  ASSERT_EQ(v.problem_count, 1u) << Problems(v);
  EXPECT_EQ(v.first_bad_seq, std::optional<uint64_t>(2));
  EXPECT_NE(v.problems[0].what.find("no erasure event in the ledger records it"), std::string::npos)
      << Problems(v);
}

TEST_F(ErasureTest, VerifyNamesAnErasureEventWhoseBytesRemain) {
  // An erasure record appended without erasing anything.
  std::string forged = ErasureRecordLine(0, f_.clock().NowUnixNanos(), "no such request", "");
  auto batch = ledger_->BeginBatch();
  ASSERT_TRUE(batch.ok());
  ASSERT_TRUE((*batch)->Append(Record(forged), forged).ok());
  ASSERT_TRUE((*batch)->Commit().ok());
  batch->reset();
  VerifyReport v = RunVerify();
  ASSERT_EQ(v.problem_count, 1u) << Problems(v);
  EXPECT_EQ(v.first_bad_seq, std::optional<uint64_t>(0));
  EXPECT_NE(v.problems[0].what.find("the store still holds it"), std::string::npos) << Problems(v);
}

}  // namespace
}  // namespace nhitrace::ledger
