#include "ledger/ledger.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "base/file.h"
#include "crypto/sha256.h"
#include "testing/ledger_fixture.h"
#include "tlog/checkpoint.h"
#include "tlog/proof.h"

namespace nhitrace::ledger {
namespace {

using testing::ActionLine;
using testing::LedgerFixture;
using testing::Record;

// Appends lines [from, to) as one batch.
void AppendRange(Ledger& l, int from, int to) {
  auto batch = l.BeginBatch();
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  for (int i = from; i < to; ++i) {
    std::string line = ActionLine(i);
    auto o = (*batch)->Append(Record(line), line);
    ASSERT_TRUE(o.ok()) << o.status().ToString();
    ASSERT_EQ(o->status, AppendStatus::kAccepted);
  }
  ASSERT_TRUE((*batch)->Commit().ok());
}

TEST(LedgerTest, InitCreatesPrivateKeyAndEmptySignedTree) {
  LedgerFixture f;
  ASSERT_TRUE(f.Init().ok());
  EXPECT_EQ(*FileMode(f.key_path()), 0600u);
  EXPECT_EQ(*FileMode(f.store_path()), 0600u);
  auto l = f.Open();
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  EXPECT_EQ((*l)->size(), 0u);
  EXPECT_EQ((*l)->origin(), "test.example/log");
  auto cp = (*l)->LatestCheckpoint();
  ASSERT_TRUE(cp.ok());
  EXPECT_EQ(cp->size, 0u);
  auto opened = tlog::OpenCheckpoint(cp->note, (*l)->verifier());
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(opened->root, tlog::EmptyTreeHash());
  // A second init over the same paths is refused and changes nothing.
  EXPECT_EQ(f.Init().code(), StatusCode::kAlreadyExists);
}

TEST(LedgerTest, RejectsOriginsThatCannotBeKeyNames) {
  LedgerFixture f;
  EXPECT_EQ(f.Init("has space").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(f.Init("a+b").code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(PathExists(f.store_path()));
  EXPECT_FALSE(PathExists(f.key_path()));
}

TEST(LedgerTest, RefusesAKeyReadableByOthersAndAForeignKey) {
  LedgerFixture f;
  ASSERT_TRUE(f.Init().ok());
  ASSERT_EQ(::chmod(f.key_path().c_str(), 0644), 0);
  auto bad = LoadSigningKey(f.key_path());
  EXPECT_EQ(bad.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(bad.status().message().find("chmod 600"), std::string::npos);
  ASSERT_EQ(::chmod(f.key_path().c_str(), 0600), 0);

  LedgerFixture other;
  ASSERT_TRUE(other.Init().ok());
  auto foreign = LoadSigningKey(other.key_path());
  ASSERT_TRUE(foreign.ok());
  store::StoreOptions opts;
  opts.path = f.store_path();
  auto l = Ledger::Open(std::move(store::OpenStore(opts)).value(), std::move(foreign).value(),
                        f.clock());
  EXPECT_EQ(l.status().code(), StatusCode::kPermissionDenied);
}

TEST(LedgerTest, EveryEventIsProvableAgainstEveryLaterCheckpoint) {
  LedgerFixture f;
  ASSERT_TRUE(f.Init().ok());
  auto l = f.Open();
  ASSERT_TRUE(l.ok());
  // Batches of uneven sizes so that checkpoints fall on odd tree sizes.
  std::vector<uint64_t> sizes = {0};
  int next = 0;
  for (int n : {1, 2, 5, 8, 13, 3}) {
    AppendRange(**l, next, next + n);
    next += n;
    sizes.push_back(static_cast<uint64_t>(next));
  }
  ASSERT_EQ((*l)->size(), 32u);
  auto cps = (*l)->store().ListCheckpoints();
  ASSERT_TRUE(cps.ok());
  ASSERT_EQ(cps->size(), sizes.size());
  for (size_t i = 0; i < sizes.size(); ++i) EXPECT_EQ((*cps)[i].size, sizes[i]);

  for (uint64_t size : sizes) {
    auto note = (*l)->CheckpointNote(size);
    ASSERT_TRUE(note.ok());
    auto cp = tlog::OpenCheckpoint(*note, (*l)->verifier());
    ASSERT_TRUE(cp.ok());
    for (uint64_t seq = 0; seq < size; ++seq) {
      auto p = (*l)->ProveInclusion(seq, size);
      ASSERT_TRUE(p.ok()) << p.status().ToString();
      EXPECT_TRUE(tlog::VerifyInclusion(seq, size, p->leaf_hash, p->hashes, cp->root).ok());
      auto row = (*l)->store().GetEvent(seq);
      EXPECT_EQ(p->leaf_hash, tlog::LeafHash((*row)->leaf));
    }
    for (uint64_t size2 : sizes) {
      if (size2 < size) continue;
      auto c = (*l)->ProveConsistency(size, size2);
      ASSERT_TRUE(c.ok()) << c.status().ToString();
      auto cp2 = tlog::OpenCheckpoint(c->checkpoint2, (*l)->verifier());
      ASSERT_TRUE(cp2.ok());
      EXPECT_TRUE(tlog::VerifyConsistency(size, size2, c->hashes, cp->root, cp2->root).ok());
    }
  }
  EXPECT_EQ((*l)->ProveInclusion(32, std::nullopt).status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ((*l)->ProveConsistency(5, 33).status().code(), StatusCode::kOutOfRange);
}

TEST(LedgerTest, UnpublishedSizesAreSignedDeterministically) {
  LedgerFixture f;
  ASSERT_TRUE(f.Init().ok());
  auto l = f.Open();
  ASSERT_TRUE(l.ok());
  AppendRange(**l, 0, 10);
  EXPECT_FALSE((*l)->store().CheckpointAt(7)->has_value());
  auto a = (*l)->CheckpointNote(7);
  auto b = (*l)->CheckpointNote(7);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
  auto cp = tlog::OpenCheckpoint(*a, (*l)->verifier());
  ASSERT_TRUE(cp.ok());
  EXPECT_EQ(cp->size, 7u);
  // Its root is the root the tree had at 7 leaves: a tree built from the same leaves agrees.
  tlog::CompactRange r;
  for (uint64_t i = 0; i < 7; ++i) r.Append((*(*l)->store().GetEvent(i))->leaf_hash);
  EXPECT_EQ(cp->root, r.Root());
}

TEST(LedgerTest, DuplicatesAndConflictsWriteNothing) {
  LedgerFixture f;
  ASSERT_TRUE(f.Init().ok());
  auto l = f.Open();
  ASSERT_TRUE(l.ok());
  AppendRange(**l, 0, 3);
  auto batch = (*l)->BeginBatch();
  ASSERT_TRUE(batch.ok());
  std::string same = ActionLine(1);
  auto dup = (*batch)->Append(Record(same), same + "   ");  // other bytes, same content
  ASSERT_TRUE(dup.ok());
  EXPECT_EQ(dup->status, AppendStatus::kDuplicate);
  EXPECT_EQ(dup->seq, 1u);
  std::string changed = ActionLine(1, "aws:accesskey:OTHER");
  auto conflict = (*batch)->Append(Record(changed), changed);
  ASSERT_TRUE(conflict.ok());
  EXPECT_EQ(conflict->status, AppendStatus::kConflict);
  EXPECT_EQ(conflict->seq, 1u);
  ASSERT_TRUE((*batch)->Commit().ok());
  EXPECT_EQ((*l)->size(), 3u);
  EXPECT_EQ((*(*l)->store().GetEvent(1))->identity_key, "aws:accesskey:AKIATEST");
  // Nothing appended: no new checkpoint either.
  EXPECT_EQ((*l)->store().ListCheckpoints()->size(), 2u);
}

TEST(LedgerTest, AnUncommittedBatchLeavesNoTrace) {
  LedgerFixture f;
  ASSERT_TRUE(f.Init().ok());
  auto l = f.Open();
  ASSERT_TRUE(l.ok());
  AppendRange(**l, 0, 4);
  tlog::Hash root = (*l)->root();
  {
    auto batch = (*l)->BeginBatch();
    ASSERT_TRUE(batch.ok());
    std::string line = ActionLine(99);
    ASSERT_TRUE((*batch)->Append(Record(line), line).ok());
  }  // dropped without Commit
  EXPECT_EQ((*l)->size(), 4u);
  EXPECT_EQ((*l)->root(), root);
  EXPECT_EQ(*(*l)->store().EventCount(), 4u);
  AppendRange(**l, 99, 101);  // and the ledger keeps working
  EXPECT_EQ((*l)->size(), 6u);
  // Reopening reloads the same tree.
  tlog::Hash after = (*l)->root();
  l->reset();
  auto again = f.Open();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->root(), after);
}

TEST(LedgerTest, KeepsRawBytesAndCommitsToThemWithASaltedHash) {
  LedgerFixture f;
  ASSERT_TRUE(f.Init().ok());
  auto l = f.Open();
  ASSERT_TRUE(l.ok());
  std::string line = ActionLine(5);
  std::string raw = line + "\r";  // whatever the bytes were
  auto batch = (*l)->BeginBatch();
  ASSERT_TRUE((*batch)->Append(Record(line), raw).ok());
  ASSERT_TRUE((*batch)->Commit().ok());
  auto rr = (*l)->store().GetRawForEvent(0);
  ASSERT_TRUE(rr.ok() && rr->has_value());
  EXPECT_EQ((*rr)->bytes, raw);
  EXPECT_EQ((*rr)->salt.size(), 32u);
  auto leaf = event::DecodeLeaf((*(*l)->store().GetEvent(0))->leaf);
  ASSERT_TRUE(leaf.ok());
  ASSERT_TRUE(leaf->envelope.raw);
  EXPECT_EQ(leaf->envelope.raw->size, raw.size());
  EXPECT_EQ(leaf->envelope.raw->salted_sha256,
            std::string(crypto::AsBytes(crypto::Sha256((*rr)->salt, raw))));
  // The unsalted hash of the raw bytes appears nowhere in the leaf.
  EXPECT_EQ(
      leaf->envelope.raw->salted_sha256.find(std::string(crypto::AsBytes(crypto::Sha256(raw)))),
      std::string::npos);
  EXPECT_EQ(leaf->envelope.ingested_ns, testing::kTestEpochNs);
}

}  // namespace
}  // namespace nhitrace::ledger
