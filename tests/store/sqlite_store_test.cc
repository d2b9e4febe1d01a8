#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "base/file.h"
#include "store/store.h"
#include "testing/temp_dir.h"

namespace nhitrace::store {
namespace {

using testing::TempDir;

EventRow Row(uint64_t seq, const std::string& event_id, const std::string& correlation = "") {
  EventRow r;
  r.seq = seq;
  r.leaf = "{\"leaf\":" + std::to_string(seq) + "}";
  r.leaf_hash.fill(static_cast<uint8_t>(seq));
  r.content_hash = std::string(32, 'c');
  r.kind = "action";
  r.time_ns = static_cast<int64_t>(1000 - seq);
  r.ingested_ns = 5;
  r.source_system = "sys";
  r.source_event_id = event_id;
  r.correlation_key = correlation;
  r.identity_key = "id-" + std::to_string(seq % 2);
  // Leaf k completes as many nodes as k has trailing 1 bits; fill them with recognisable bytes.
  for (uint64_t k = seq, level = 1; k & 1; k >>= 1, ++level) {
    r.tree_nodes.append(32, static_cast<char>(0x40 + level));
  }
  return r;
}

std::unique_ptr<Store> Create(const TempDir& dir) {
  StoreOptions opts;
  opts.path = dir.File("s.db");
  opts.create = true;
  auto s = OpenStore(opts);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

TEST(SqliteStoreTest, CreatesPrivateFileWithSchemaAndRefusesToRecreate) {
  TempDir dir;
  auto store = Create(dir);
  ASSERT_TRUE(store);
  EXPECT_EQ(store->backend(), "sqlite");
  EXPECT_EQ(store->schema_version(),
            7);  // ledger (1), derived (2), API (3), reconcile (4), cases (5), actions (6, 7)
  EXPECT_EQ(*FileMode(dir.File("s.db")), 0600u);
  StoreOptions again;
  again.path = dir.File("s.db");
  again.create = true;
  EXPECT_EQ(OpenStore(again).status().code(), StatusCode::kAlreadyExists);
}

TEST(SqliteStoreTest, OpeningAMissingStoreIsNotFound) {
  TempDir dir;
  StoreOptions opts;
  opts.path = dir.File("nope.db");
  auto s = OpenStore(opts);
  EXPECT_EQ(s.status().code(), StatusCode::kNotFound);
  EXPECT_NE(s.status().message().find("nhitrace init"), std::string::npos);
}

TEST(SqliteStoreTest, RefusesAStoreFromANewerVersion) {
  TempDir dir;
  { ASSERT_TRUE(Create(dir)); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(dir.File("s.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "INSERT INTO schema_migrations VALUES (999, 'future', 0)", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  StoreOptions opts;
  opts.path = dir.File("s.db");
  auto s = OpenStore(opts);
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("newer"), std::string::npos);
}

TEST(SqliteStoreTest, WritesAreVisibleOnlyAfterCommit) {
  TempDir dir;
  auto store = Create(dir);
  ASSERT_TRUE(store);
  {
    auto txn = store->BeginWrite();
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE(*(*txn)->InsertEvent(Row(0, "a")));
    auto found = (*txn)->FindBySource("sys", Row(0, "a").time_ns, "a");
    ASSERT_TRUE(found.ok() && found->has_value());  // own writes are visible
    EXPECT_EQ((*found)->seq, 0u);
    // No commit: the destructor rolls back.
  }
  EXPECT_EQ(*store->EventCount(), 0u);
  {
    auto txn = store->BeginWrite();
    ASSERT_TRUE(txn.ok());
    EXPECT_EQ(store->BeginWrite().status().code(), StatusCode::kFailedPrecondition);
    ASSERT_TRUE(*(*txn)->InsertEvent(Row(0, "a")));
    ASSERT_TRUE(*(*txn)->InsertEvent(Row(1, "b", "REQ-1")));
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  EXPECT_EQ(*store->EventCount(), 2u);
  auto e = store->GetEvent(1);
  ASSERT_TRUE(e.ok() && e->has_value());
  EXPECT_EQ((*e)->correlation_key, "REQ-1");
  EXPECT_EQ((*e)->leaf, "{\"leaf\":1}");
  EXPECT_FALSE(store->GetEvent(2)->has_value());
}

TEST(SqliteStoreTest, SourceIdentityIsUniqueAndASecondInsertIsRefused) {
  TempDir dir;
  auto store = Create(dir);
  ASSERT_TRUE(store);
  auto txn = store->BeginWrite();
  ASSERT_TRUE(txn.ok());
  EXPECT_TRUE(*(*txn)->InsertEvent(Row(0, "a")));
  EventRow same = Row(1, "a");
  same.time_ns = Row(0, "a").time_ns;  // same system, time and id: the same record
  auto again = (*txn)->InsertEvent(same);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);  // refused, not an error
  // The same source id at another time is another record.
  EXPECT_TRUE(*(*txn)->InsertEvent(Row(1, "a")));
  // The sequence number is still a primary key: reusing one is an error.
  EXPECT_EQ((*txn)->InsertEvent(Row(0, "b")).status().code(), StatusCode::kAborted);
  ASSERT_TRUE((*txn)->Commit().ok());
  EXPECT_EQ(*store->EventCount(), 2u);
}

TEST(SqliteStoreTest, TreeNodesAreReadFromTheRowOfTheLeafThatCompletedThem) {
  TempDir dir;
  auto store = Create(dir);
  ASSERT_TRUE(store);
  {
    auto txn = store->BeginWrite();
    ASSERT_TRUE(txn.ok());
    for (uint64_t i = 0; i < 8; ++i) ASSERT_TRUE(*(*txn)->InsertEvent(Row(i, std::to_string(i))));
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  // (3, 0) is completed by leaf 7 (its third hash); (1, 2) by leaf 5 (its first); (2, 1) by 7.
  std::vector<NodeId> ids = {{3, 0}, {1, 2}, {2, 1}, {0, 6}};
  auto nodes = store->nodes().ReadNodes(ids);
  ASSERT_TRUE(nodes.ok()) << nodes.status().ToString();
  Hash l3, l1, l2;
  l3.fill(0x43);
  l1.fill(0x41);
  l2.fill(0x42);
  EXPECT_EQ((*nodes)[0], l3);
  EXPECT_EQ((*nodes)[1], l1);
  EXPECT_EQ((*nodes)[2], l2);
  EXPECT_EQ((*nodes)[3], Row(6, "6").leaf_hash);
  std::vector<NodeId> missing = {{1, 4}};  // would be leaf 9's
  EXPECT_EQ(store->nodes().ReadNodes(missing).status().code(), StatusCode::kNotFound);
  std::vector<NodeId> absurd = {{62, 5}};
  EXPECT_EQ(store->nodes().ReadNodes(absurd).status().code(), StatusCode::kNotFound);
}

TEST(SqliteStoreTest, QueryBindsValuesSoSqlInValuesIsInert) {
  TempDir dir;
  auto store = Create(dir);
  ASSERT_TRUE(store);
  {
    auto txn = store->BeginWrite();
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE(*(*txn)->InsertEvent(Row(0, "a", "REQ-1")));
    ASSERT_TRUE(*(*txn)->InsertEvent(Row(1, "b", "x' OR '1'='1")));
    ASSERT_TRUE(*(*txn)->InsertEvent(Row(2, "c", "REQ-1")));
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  EventQuery q;
  q.correlation_key = "REQ-1";
  auto rows = store->QueryEvents(q);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].seq, 2u);  // ordered by time_ns (1000 - seq)
  q.correlation_key = "x' OR '1'='1";
  rows = store->QueryEvents(q);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].seq, 1u);
  q.correlation_key = "'; DROP TABLE events; --";
  EXPECT_TRUE(store->QueryEvents(q)->empty());
  EXPECT_EQ(*store->EventCount(), 3u);
  EventQuery by_time;
  by_time.from_ns = 999;
  by_time.to_ns = 1000;
  rows = store->QueryEvents(by_time);
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].seq, 1u);
}

TEST(SqliteStoreTest, RawCheckpointsQuarantineAndMeta) {
  TempDir dir;
  auto store = Create(dir);
  ASSERT_TRUE(store);
  Hash h{};
  h.fill(9);
  {
    auto txn = store->BeginWrite();
    ASSERT_TRUE(txn.ok());
    EventRow e = Row(0, "a");
    e.raw_id = 0;
    ASSERT_TRUE(*(*txn)->InsertEvent(e));
    std::string salt(32, 's'), bytes("line\0bytes", 10), digest(32, 'd');
    RawRef raw{0, salt, bytes, digest};
    ASSERT_TRUE((*txn)->InsertRaw(raw).ok());
    EXPECT_EQ((*txn)->InsertRaw(raw).code(), StatusCode::kAborted);  // never overwritten
    ASSERT_TRUE((*txn)->InsertCheckpoint({1, h, "note-1\n", 7}).ok());
    ASSERT_TRUE((*txn)->InsertCheckpoint({0, h, "note-0\n", 6}).ok());
    QuarantineRow q;
    q.source = "f.jsonl";
    q.line = 3;
    q.format = "native";
    q.field = "time";
    q.reason = "bad";
    q.raw = std::string("\xff\x00zz", 4);
    q.raw_size = 4;
    q.raw_sha256 = std::string(32, 'h');
    ASSERT_TRUE((*txn)->InsertQuarantine(q).ok());
    ASSERT_TRUE((*txn)->SetMeta("k", "v1").ok());
    ASSERT_TRUE((*txn)->SetMeta("k", "v2").ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  auto raw = store->GetRawForEvent(0);
  ASSERT_TRUE(raw.ok() && raw->has_value());
  EXPECT_EQ((*raw)->bytes, std::string("line\0bytes", 10));
  EXPECT_EQ((*raw)->salt, std::string(32, 's'));
  EXPECT_FALSE((*raw)->erased_ns);
  EXPECT_EQ((*store->LatestCheckpoint())->note, "note-1\n");
  EXPECT_EQ((*store->CheckpointAt(0))->note, "note-0\n");
  EXPECT_FALSE(store->CheckpointAt(5)->has_value());
  EXPECT_EQ(store->ListCheckpoints()->size(), 2u);
  auto qs = store->ListQuarantine(0, 10);
  ASSERT_TRUE(qs.ok());
  ASSERT_EQ(qs->size(), 1u);
  EXPECT_EQ((*qs)[0].raw, std::string("\xff\x00zz", 4));  // bytes kept exactly
  EXPECT_EQ((*qs)[0].field, "time");
  EXPECT_EQ(*store->QuarantineCount(), 1u);
  EXPECT_EQ(**store->GetMeta("k"), "v2");
  EXPECT_FALSE(store->GetMeta("absent")->has_value());
}

}  // namespace
}  // namespace nhitrace::store
