// Tamper-detection tests: each edits the store file behind the ledger's back with plain SQL, the
// way someone with write access to the database could, and checks that `Verify` names it.
#include "ledger/verify.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "base/encoding.h"
#include "ledger/ledger.h"
#include "testing/ledger_fixture.h"

namespace nhitrace::ledger {
namespace {

using testing::ActionLine;
using testing::LedgerFixture;
using testing::Record;

class VerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(f_.Init().ok());
    auto l = f_.Open();
    ASSERT_TRUE(l.ok());
    int next = 0;
    for (int n : {7, 6, 7}) {  // 20 events in three batches
      auto batch = (*l)->BeginBatch();
      ASSERT_TRUE(batch.ok());
      for (int i = next; i < next + n; ++i) {
        std::string line = ActionLine(i);
        ASSERT_TRUE((*batch)->Append(Record(line), line).ok());
      }
      next += n;
      ASSERT_TRUE((*batch)->Commit().ok());
    }
  }

  // Runs SQL directly against the store file.
  void Sql(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(f_.store_path().c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    std::string msg = err ? err : "";
    sqlite3_free(err);
    sqlite3_close(db);
    ASSERT_EQ(rc, SQLITE_OK) << msg << " in " << sql;
  }

  VerifyReport Run(const VerifyOptions& opts = {}) {
    store::StoreOptions so;
    so.path = f_.store_path();
    auto store = store::OpenStore(so);
    EXPECT_TRUE(store.ok());
    auto r = Verify(**store, opts);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : VerifyReport{};
  }

  static std::string Problems(const VerifyReport& r) {
    std::string s;
    for (const auto& p : r.problems) s += "  " + p.what + "\n";
    return s;
  }

  LedgerFixture f_;
};

TEST_F(VerifyTest, UntouchedStoreVerifiesClean) {
  VerifyReport r = Run();
  EXPECT_TRUE(r.ok()) << Problems(r);
  EXPECT_EQ(r.events, 20u);
  EXPECT_EQ(r.raw_checked, 20u);
  EXPECT_EQ(r.checkpoints, 4u);  // sizes 0, 7, 13, 20
  EXPECT_EQ(r.tree_size, 20u);
  EXPECT_EQ(r.nodes_checked, 20u - 2u);  // a 20-leaf tree has 10+5+2+1 = 18 perfect nodes
  EXPECT_FALSE(r.first_bad_seq);
}

TEST_F(VerifyTest, OneEditedByteOfALeafIsNamed) {
  // 'ev-9' -> 'ev-X' inside the signed bytes of seq 9 (a real one-byte change).
  Sql("UPDATE events SET leaf = CAST(replace(CAST(leaf AS TEXT), '\"ev-9\"', '\"ev-X\"') AS BLOB) "
      "WHERE seq = 9");
  VerifyReport r = Run();
  EXPECT_FALSE(r.ok());
  ASSERT_TRUE(r.first_bad_seq);
  EXPECT_EQ(*r.first_bad_seq, 9u) << Problems(r);
  EXPECT_NE(Problems(r).find("seq 9: the leaf bytes do not match the stored leaf hash"),
            std::string::npos)
      << Problems(r);
}

TEST_F(VerifyTest, AnEditWithARecomputedHashIsStillCaughtByTheTree) {
  // A careful forger also recomputes the leaf hash: then only the tree and checkpoints can tell.
  Sql("UPDATE events SET leaf = CAST(replace(CAST(leaf AS TEXT), 'bucket/4\"', 'bucket/Z\"') AS "
      "BLOB)"
      " WHERE seq = 4");
  store::StoreOptions so;
  so.path = f_.store_path();
  {
    auto store = store::OpenStore(so);
    auto row = (*store)->GetEvent(4);
    tlog::Hash h = tlog::LeafHash((*row)->leaf);
    Sql("UPDATE events SET leaf_hash = x'" + HexEncode(crypto::AsBytes(h)) + "' WHERE seq = 4");
  }
  VerifyReport r = Run();
  EXPECT_FALSE(r.ok());
  ASSERT_TRUE(r.first_bad_seq);
  EXPECT_EQ(*r.first_bad_seq, 4u) << Problems(r);
  EXPECT_NE(Problems(r).find("tree node (level 1, index 2) covering seq 4-5 differs"),
            std::string::npos)
      << Problems(r);
}

TEST_F(VerifyTest, ADeletedRowIsNamed) {
  Sql("DELETE FROM events WHERE seq = 11");
  VerifyReport r = Run();
  EXPECT_FALSE(r.ok());
  ASSERT_TRUE(r.first_bad_seq);
  EXPECT_EQ(*r.first_bad_seq, 11u) << Problems(r);
  EXPECT_NE(Problems(r).find("seq 11: missing (deleted)"), std::string::npos) << Problems(r);
}

TEST_F(VerifyTest, DeletingTheNewestRowsIsNamed) {
  Sql("DELETE FROM events WHERE seq >= 18");
  VerifyReport r = Run();
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(*r.first_bad_seq, 18u) << Problems(r);
  EXPECT_NE(Problems(r).find("seq 18-19: signed by checkpoint 20 but missing"), std::string::npos)
      << Problems(r);
}

TEST_F(VerifyTest, AnInsertedRowIsNamed) {
  // A copy of seq 3 appended as seq 20 with another source id (the unique key forbids an exact
  // copy), its own leaf hash recomputed.
  Sql("INSERT INTO events(seq, leaf, leaf_hash, content_hash, kind, time_ns, ingested_ns, "
      "source_system, source_event_id, correlation_key, identity_key, actor_id, raw_id, "
      "tree_nodes) SELECT 20, leaf, leaf_hash, content_hash, kind, time_ns, ingested_ns, "
      "source_system, 'forged', correlation_key, identity_key, actor_id, raw_id, tree_nodes "
      "FROM events WHERE seq = 3");
  VerifyReport r = Run();
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(*r.first_bad_seq, 20u) << Problems(r);
  EXPECT_NE(Problems(r).find("seq 20-20: not covered by any signed checkpoint"), std::string::npos)
      << Problems(r);
}

TEST_F(VerifyTest, SwappedRowsAreNamed) {
  // Exchange the whole content of seq 5 and 12 (leaf, hash and columns), keeping the seq keys.
  Sql("UPDATE events SET seq = -1 WHERE seq = 5;"
      "UPDATE events SET seq = 5 WHERE seq = 12;"
      "UPDATE events SET seq = 12 WHERE seq = -1;");
  VerifyReport r = Run();
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(*r.first_bad_seq, 5u) << Problems(r);
  EXPECT_NE(Problems(r).find("seq 5: the signed leaf says it is seq 12"), std::string::npos)
      << Problems(r);
}

TEST_F(VerifyTest, AChangedStoredHashIsNamed) {
  Sql("UPDATE events SET leaf_hash = zeroblob(32) WHERE seq = 15");
  VerifyReport r = Run();
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(*r.first_bad_seq, 15u) << Problems(r);
}

TEST_F(VerifyTest, AChangedTreeNodeIsNamed) {
  // Node (2, 1) is the second hash in the row of leaf 7, which completed it.
  Sql("UPDATE events SET tree_nodes = substr(tree_nodes, 1, 32) || zeroblob(32) || "
      "substr(tree_nodes, 65) WHERE seq = 7");
  VerifyReport r = Run();
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(*r.first_bad_seq, 4u) << Problems(r);  // level 2 index 1 covers seq 4-7
}

TEST_F(VerifyTest, ATruncatedNodeBlobIsAFindingNotACrash) {
  // Regression: a short tree_nodes blob made verify throw std::out_of_range.
  Sql("UPDATE events SET tree_nodes = x'' WHERE seq = 11");
  VerifyReport r = Run();
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(*r.first_bad_seq, 11u) << Problems(r);  // the row whose stored nodes are damaged
  EXPECT_NE(Problems(r).find("seq 11: holds 0 tree node hashes where the tree completes 2"),
            std::string::npos)
      << Problems(r);
}

TEST_F(VerifyTest, AnIndexColumnThatLiesIsNamed) {
  // The signed leaf is intact but the lookup column points at another identity: queries would
  // return the event for the wrong identity.
  Sql("UPDATE events SET identity_key = 'aws:accesskey:SOMEONEELSE' WHERE seq = 2");
  VerifyReport r = Run();
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(*r.first_bad_seq, 2u);
  EXPECT_NE(Problems(r).find("seq 2: column identity_key is \"aws:accesskey:SOMEONEELSE\""),
            std::string::npos)
      << Problems(r);
}

TEST_F(VerifyTest, AnEditedRawRecordIsNamed) {
  Sql("UPDATE raw_records SET bytes = CAST(replace(CAST(bytes AS TEXT), 'AKIATEST', 'AKIATESX') "
      "AS BLOB) WHERE id = (SELECT raw_id FROM events WHERE seq = 17)");
  VerifyReport r = Run();
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(*r.first_bad_seq, 17u);
  EXPECT_NE(Problems(r).find("seq 17: the raw record does not match the salted hash"),
            std::string::npos)
      << Problems(r);
}

TEST_F(VerifyTest, AForgedCheckpointSignatureIsNamed) {
  Sql("UPDATE checkpoints SET note = replace(note, '\n13\n', '\n14\n') WHERE size = 13");
  VerifyReport r = Run();
  EXPECT_FALSE(r.ok());
  EXPECT_NE(Problems(r).find("checkpoint at size 13: signature or format does not verify"),
            std::string::npos)
      << Problems(r);
}

TEST_F(VerifyTest, AReplacedStoreKeyIsCaughtWithATrustedKey) {
  auto signer = LoadSigningKey(f_.key_path());
  ASSERT_TRUE(signer.ok());
  VerifyOptions opts;
  opts.trusted_key = signer->Verifier();
  EXPECT_TRUE(Run(opts).ok());

  auto other = tlog::NoteSigner::Generate("test.example/log");
  ASSERT_TRUE(other.ok());
  Sql("UPDATE meta SET value = '" + other->Verifier().ToString() +
      "' WHERE key = 'ledger.verifier_key'");
  VerifyReport r = Run(opts);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(Problems(r).find("is not the trusted key"), std::string::npos) << Problems(r);
  // Without the trusted key, the store's (replaced) key fails the existing signatures too.
  EXPECT_FALSE(Run().ok());
}

}  // namespace
}  // namespace nhitrace::ledger
