// Store::BeginRead: a consistent view while another connection commits (an export running
// while ingest appends).
#include <gtest/gtest.h>

#include "store/store.h"
#include "testing/temp_dir.h"

namespace nhitrace::store {
namespace {

EventRow Row(uint64_t seq) {
  EventRow r;
  r.seq = seq;
  r.leaf = "{\"leaf\":" + std::to_string(seq) + "}";
  r.leaf_hash.fill(static_cast<uint8_t>(seq));
  r.kind = "action";
  r.time_ns = static_cast<int64_t>(seq);
  r.source_system = "sys";
  r.source_event_id = "e" + std::to_string(seq);
  r.identity_key = "id";
  for (uint64_t k = seq; k & 1; k >>= 1) r.tree_nodes.append(32, 'n');
  return r;
}

void Append(Store& s, uint64_t seq) {
  auto txn = s.BeginWrite();
  ASSERT_TRUE(txn.ok()) << txn.status().ToString();
  auto inserted = (*txn)->InsertEvent(Row(seq));
  ASSERT_TRUE(inserted.ok() && *inserted);
  // As DerivedState does for an action: queries by identity read actions from this table.
  ActionRow a;
  a.identity_key = "id";
  a.time_ns = static_cast<int64_t>(seq);
  a.seq = seq;
  ASSERT_TRUE((*txn)->PutAction(a).ok());
  ASSERT_TRUE((*txn)->Commit().ok());
}

TEST(ReadSnapshotTest, ReadsSeeOneStateWhileAnotherConnectionCommits) {
  testing::TempDir dir;
  StoreOptions opts;
  opts.path = dir.File("s.db");
  opts.create = true;
  auto writer = OpenStore(opts);
  ASSERT_TRUE(writer.ok());
  Append(**writer, 0);
  opts.create = false;
  opts.mmap_bytes = int64_t{1} << 20;  // as query commands open it
  auto reader = OpenStore(opts);
  ASSERT_TRUE(reader.ok());

  {
    auto snapshot = (*reader)->BeginRead();
    ASSERT_TRUE(snapshot.ok() && *snapshot != nullptr);
    EXPECT_EQ(*(*reader)->EventCount(), 1u);
    Append(**writer, 1);
    Append(**writer, 2);
    // Still the state of the first read: counts, queries and node reads alike.
    EXPECT_EQ(*(*reader)->EventCount(), 1u);
    EventQuery q;
    q.identity_key = "id";
    EXPECT_EQ((*reader)->QueryEvents(q)->size(), 1u);
    EXPECT_FALSE((*(*reader)->GetEvent(2)).has_value());
    std::vector<NodeId> ids = {{0, 0}};
    EXPECT_TRUE((*reader)->nodes().ReadNodes(ids).ok());
  }
  // After it, the new events are there.
  EXPECT_EQ(*(*reader)->EventCount(), 3u);
  // Inside a write transaction BeginRead begins nothing (its reads already see one state, the
  // transaction's own): it succeeds, and the write transaction still commits.
  auto txn = (*reader)->BeginWrite();
  ASSERT_TRUE(txn.ok());
  {
    auto inner = (*reader)->BeginRead();
    ASSERT_TRUE(inner.ok()) << inner.status().ToString();
  }
  EXPECT_TRUE((*txn)->Commit().ok());
}

}  // namespace
}  // namespace nhitrace::store
