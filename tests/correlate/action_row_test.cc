// The actions table: what DerivedState writes for each action, what ActionReader reads back, and
// that migration 6 fills the table of a store made before it with the same rows.
#include "correlate/action_row.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "correlate/derived_state.h"
#include "event/event.h"
#include "testing/ledger_fixture.h"

namespace nhitrace::correlate {
namespace {

// Actions with and without scope, delegation (with and without credential) and failure, with
// strings the canonical form must escape, and events of other kinds that must not be rows.
const std::vector<std::string> kLines = {
    R"({"kind":"action","source":{"system":"t","event_id":"a1"},"time":"2026-03-01T10:00:00Z","identity":"key-1","scope":{"resources":["arn:aws:s3:::b\u00fccket/\"q\"/\\x"],"permissions":["s3:GetObject","s3:PutObject"]}})",
    R"({"kind":"action","source":{"system":"t","event_id":"a2"},"time":"2026-03-01T10:00:01Z","identity":"key-1","outcome":{"result":"failure","code":"AccessDenied"}})",
    R"({"kind":"action","source":{"system":"t","event_id":"a3"},"time":"2026-03-01T09:00:00Z","identity":"agent-7","delegation":{"agent_instance":"run-1","credential":"key-1","sponsor":"ana@example.com"},"scope":{"permissions":["repo:read"]}})",
    R"({"kind":"action","source":{"system":"t","event_id":"a4"},"time":"2026-03-01T09:00:00Z","identity":"agent-7","delegation":{"tool_call":"call-9"},"outcome":{"result":"success"}})",
    R"({"kind":"provision","source":{"system":"t","event_id":"p1"},"time":"2026-03-01T08:00:00Z","identity":"key-1","correlation_key":"REQ-1"})",
    R"({"kind":"signal","source":{"system":"t","event_id":"s1"},"time":"2026-03-01T08:30:00Z","identity":"key-1"})",
    // Appended last, at the time of a3 and a4, but first of the three by source.
    R"({"kind":"action","source":{"system":"t","event_id":"a0"},"time":"2026-03-01T09:00:00Z","identity":"agent-7"})",
};

class ActionRowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    f_.set_durable(false);
    ASSERT_TRUE(f_.Init().ok());
    auto l = f_.Open();
    ASSERT_TRUE(l.ok()) << l.status().ToString();
    ledger_ = std::move(l).value();
    derived_ = std::make_unique<DerivedState>(ledger_->store());
    ledger_->AddObserver(derived_.get());
    auto batch = ledger_->BeginBatch();
    ASSERT_TRUE(batch.ok());
    for (const auto& line : kLines) {
      auto o = (*batch)->Append(testing::Record(line), line);
      ASSERT_TRUE(o.ok()) << o.status().ToString();
      ASSERT_EQ(o->status, ledger::AppendStatus::kAccepted) << line;
    }
    ASSERT_TRUE((*batch)->Commit().ok());
  }

  // The actions of `key` with from <= time < to, as ScanActionsOfIdentity gives them.
  std::vector<store::ActionRow> Rows(const std::string& key, std::optional<int64_t> from,
                                     std::optional<int64_t> to) {
    std::vector<store::ActionRow> out;
    EXPECT_TRUE(ledger_->store()
                    .ScanActionsOfIdentity(key, from, to,
                                           [&](const store::ActionRow& r) {
                                             out.push_back(r);
                                             return OkStatus();
                                           })
                    .ok());
    return out;
  }

  std::vector<store::ActionRow> All(store::Store& store) {
    std::vector<store::ActionRow> out;
    EXPECT_TRUE(store
                    .ScanActions([&](const store::ActionRow& r) {
                      out.push_back(r);
                      return OkStatus();
                    })
                    .ok());
    return out;
  }

  testing::LedgerFixture f_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<DerivedState> derived_;
};

TEST_F(ActionRowTest, OneRowPerActionWithWhatAttributionReads) {
  auto rows = All(ledger_->store());
  ASSERT_EQ(rows.size(), 5u);  // the provision and the signal are not actions
  // Ordered by identity key, then time: agent-7's three (same time: by seq), then key-1's.
  EXPECT_EQ(rows[0].identity_key, "agent-7");
  EXPECT_EQ(rows[0].seq, 2u);
  EXPECT_TRUE(rows[0].delegated);
  EXPECT_EQ(rows[0].credential, "key-1");
  EXPECT_EQ(rows[0].scope, R"({"permissions":["repo:read"]})");
  EXPECT_EQ(rows[1].seq, 3u);
  EXPECT_TRUE(rows[1].delegated);
  EXPECT_EQ(rows[1].credential, "");
  EXPECT_FALSE(rows[1].failed);
  EXPECT_EQ(rows[1].scope, "");
  EXPECT_EQ(rows[2].seq, 6u);
  EXPECT_FALSE(rows[2].delegated);
  rows.erase(rows.begin(), rows.begin() + 2);  // key-1's now at 1 and 2
  EXPECT_EQ(rows[1].identity_key, "key-1");
  EXPECT_EQ(rows[1].seq, 0u);
  EXPECT_FALSE(rows[1].delegated);
  // The scope exactly as the leaf holds it (canonical: sorted members, minimal escapes).
  EXPECT_EQ(rows[1].scope,
            "{\"permissions\":[\"s3:GetObject\",\"s3:PutObject\"],\"resources\":[\"arn:aws:s3:::"
            "b\xc3\xbc"
            "cket/\\\"q\\\"/\\\\x\"]}");
  auto leaf = ledger_->store().GetEvent(0);
  ASSERT_TRUE(leaf.ok() && leaf->has_value());
  EXPECT_NE((*leaf)->leaf.find("\"scope\":" + rows[1].scope), std::string::npos);
  EXPECT_TRUE(rows[2].failed);
  EXPECT_EQ(rows[2].time_ns - rows[1].time_ns, 1'000'000'000);
}

TEST_F(ActionRowTest, ReaderGivesBackTheFieldsAttributionReads) {
  store::Store& store = ledger_->store();
  ActionReader reader;
  std::vector<ChainEvent> got;
  for (const store::ActionRow& r : Rows("key-1", std::nullopt, std::nullopt)) {
    auto ce = reader.Read(r);
    ASSERT_TRUE(ce.ok()) << ce.status().ToString();
    got.push_back(std::move(ce).value());
  }
  ASSERT_EQ(got.size(), 2u);
  // The same scope, time, identity and failure as the leaf decodes to.
  for (const ChainEvent& ce : got) {
    auto row = store.GetEvent(ce.seq);
    ASSERT_TRUE(row.ok() && row->has_value());
    auto full = DecodeEventRow(**row);
    ASSERT_TRUE(full.ok());
    EXPECT_EQ(ce.event.kind, event::Kind::kAction);
    EXPECT_EQ(ce.event.time_ns, full->event.time_ns);
    EXPECT_EQ(ce.event.identity, full->event.identity);
    EXPECT_EQ(ce.event.scope, full->event.scope) << ce.seq;
    EXPECT_EQ(ce.event.outcome && ce.event.outcome->result == "failure",
              full->event.outcome && full->event.outcome->result == "failure");
  }
  EXPECT_EQ(got[0].event.scope->resources.size(), 1u);
  EXPECT_EQ(got[0].event.scope->permissions.size(), 2u);

  // A time range: [from, to).
  auto later = Rows("key-1", got[1].event.time_ns, std::nullopt);
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].seq, 1u);
  auto earlier = Rows("key-1", std::nullopt, got[1].event.time_ns);
  ASSERT_EQ(earlier.size(), 1u);
  EXPECT_EQ(earlier[0].seq, 0u);

  // A damaged stored scope is named, not misread.
  auto rows = Rows("key-1", std::nullopt, std::nullopt);
  ASSERT_FALSE(rows.empty());
  store::ActionRow bad = rows[0];
  bad.scope = R"({"resources":"not a list"})";
  auto r = reader.Read(bad);
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find("action 0"), std::string::npos) << r.status().ToString();
}

TEST_F(ActionRowTest, EventsOfIdentityLeavesActionsToTheActionsTable) {
  std::vector<std::string> kinds;
  ASSERT_TRUE(ledger_->store()
                  .ScanEventsOfIdentity("key-1",
                                        [&](const store::EventRow& r) {
                                          kinds.push_back(r.kind);
                                          return OkStatus();
                                        })
                  .ok());
  EXPECT_EQ(kinds, (std::vector<std::string>{"provision", "signal"}));
}

// Queries by identity merge the actions table with the other kinds' index.
TEST_F(ActionRowTest, QueriesByIdentityGiveActionsAndOtherKindsInTimeOrder) {
  store::Store& store = ledger_->store();
  auto ids = [&](store::EventQuery q) {
    auto rows = store.QueryEvents(q);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    std::vector<std::string> out;
    if (rows.ok()) {
      for (const auto& r : *rows) out.push_back(r.source_event_id);
    }
    return out;
  };
  store::EventQuery q;
  q.identity_key = "key-1";
  EXPECT_EQ(ids(q), (std::vector<std::string>{"p1", "s1", "a1", "a2"}));
  q.limit = 3;
  EXPECT_EQ(ids(q), (std::vector<std::string>{"p1", "s1", "a1"}));
  q.limit = 1000;
  q.kind = "action";
  EXPECT_EQ(ids(q), (std::vector<std::string>{"a1", "a2"}));
  q.kind.clear();
  q.kinds = {"signal", "action"};
  EXPECT_EQ(ids(q), (std::vector<std::string>{"s1", "a1", "a2"}));
  q.kinds = {"provision"};
  EXPECT_EQ(ids(q), (std::vector<std::string>{"p1"}));
  q.kinds.clear();
  auto s1 = store.GetEvent(5);
  ASSERT_TRUE(s1.ok() && s1->has_value());
  q.from_ns = (*s1)->time_ns;
  q.to_ns = (*s1)->time_ns + 1'000'000'000LL * 3600 * 2;  // 08:30 to 10:30, exclusive
  EXPECT_EQ(ids(q), (std::vector<std::string>{"s1", "a1", "a2"}));
  q.from_ns.reset();
  q.to_ns.reset();
  q.correlation_key = "REQ-1";
  EXPECT_EQ(ids(q), (std::vector<std::string>{"p1"}));
  q.correlation_key.clear();
  q.identity_key = "agent-7";
  EXPECT_EQ(ids(q), (std::vector<std::string>{"a3", "a4", "a0"}));  // same time: by seq

  // The first action in a window is the earliest, and at equal times the first by source, not
  // by arrival: a0 came last.
  auto first = store.FirstEventOf("agent-7", "action", INT64_MIN, INT64_MAX);
  ASSERT_TRUE(first.ok() && first->has_value()) << first.status().ToString();
  EXPECT_EQ((*first)->source_event_id, "a0");
  first = store.FirstEventOf("key-1", "action", INT64_MIN, INT64_MAX);
  ASSERT_TRUE(first.ok() && first->has_value());
  EXPECT_EQ((*first)->source_event_id, "a1");
  first = store.FirstEventOf("key-1", "action", (*first)->time_ns + 1, INT64_MAX);
  ASSERT_TRUE(first.ok() && first->has_value());
  EXPECT_EQ((*first)->source_event_id, "a2");
  first = store.FirstEventOf("key-1", "provision", INT64_MIN, INT64_MAX);
  ASSERT_TRUE(first.ok() && first->has_value());
  EXPECT_EQ((*first)->source_event_id, "p1");
  first = store.FirstEventOf("key-1", "signal", INT64_MIN, (*s1)->time_ns);
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->has_value());
}

TEST_F(ActionRowTest, RebuildAndTheMigrationFromAnOlderStoreGiveTheSameRows) {
  const auto before = All(ledger_->store());
  ASSERT_TRUE(DerivedState::Rebuild(ledger_->store()).ok());
  EXPECT_EQ(All(ledger_->store()), before);
  ledger_.reset();

  // Make the store what it was before migrations 6 and 7, then open it again.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(f_.store_path().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "DROP TABLE actions; DROP INDEX events_by_identity; "
                         "CREATE INDEX events_by_identity ON events(identity_key, kind, time_ns) "
                         "WHERE identity_key IS NOT NULL; "
                         "DELETE FROM schema_migrations WHERE version >= 6",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto l = f_.Open();
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  EXPECT_EQ((*l)->store().schema_version(), 7);
  EXPECT_EQ(All((*l)->store()), before);
  // The index holds no actions any more.
  ASSERT_EQ(sqlite3_open(f_.store_path().c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(
      sqlite3_prepare_v2(db, "SELECT sql FROM sqlite_master WHERE name = 'events_by_identity'", -1,
                         &st, nullptr),
      SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_NE(std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)))
                .find("kind <> 'action'"),
            std::string::npos);
  sqlite3_finalize(st);
  sqlite3_close(db);
}

}  // namespace
}  // namespace nhitrace::correlate
