// Unit tests of the API's parsers and policies: request targets (data-driven from
// target_cases.txt), the router, the rate limiter (with a fake clock), tokens and authentication,
// and JSON bodies.
#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "api/auth.h"
#include "api/json_body.h"
#include "api/rate_limiter.h"
#include "api/readers.h"
#include "api/router.h"
#include "api/target.h"
#include "testing/ledger_fixture.h"
#include "testing/temp_dir.h"

namespace nhitrace::api {
namespace {

std::vector<std::string> Split(const std::string& s, const std::string& sep) {
  std::vector<std::string> out;
  if (s.empty()) return out;
  size_t pos = 0;
  for (;;) {
    size_t i = s.find(sep, pos);
    out.push_back(s.substr(pos, i == std::string::npos ? std::string::npos : i - pos));
    if (i == std::string::npos) break;
    pos = i + sep.size();
  }
  return out;
}

TEST(TargetTest, CasesFromFile) {
  std::ifstream in(std::string(NHITRACE_SOURCE_DIR) + "/tests/api/target_cases.txt");
  ASSERT_TRUE(in) << "tests/api/target_cases.txt";
  std::string line;
  int cases = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto f = Split(line, "\t");
    ASSERT_GE(f.size(), 3u) << line;
    ++cases;
    auto r = ParseTarget(f[0]);
    if (f[1] == "error") {
      ASSERT_FALSE(r.ok()) << f[0];
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
      EXPECT_NE(r.status().message().find(f[2]), std::string::npos)
          << f[0] << ": " << r.status().message();
      continue;
    }
    ASSERT_TRUE(r.ok()) << f[0] << ": " << r.status().ToString();
    std::string segs;
    for (size_t i = 0; i < r->segments.size(); ++i) segs += (i ? " | " : "") + r->segments[i];
    EXPECT_EQ(segs, f[2]) << f[0];
    std::string query;
    for (size_t i = 0; i < r->query.size(); ++i) {
      query += (i ? " & " : "") + r->query[i].first + "=" + r->query[i].second;
    }
    EXPECT_EQ(query, f.size() > 3 ? f[3] : "") << f[0];
  }
  EXPECT_GE(cases, 25);
}

TEST(TargetTest, LimitsAreEnforced) {
  TargetLimits lim;
  lim.max_segments = 3;
  lim.max_params = 2;
  lim.max_param_bytes = 4;
  lim.max_segment_bytes = 5;
  EXPECT_TRUE(ParseTarget("/a/b/c", lim).ok());
  EXPECT_FALSE(ParseTarget("/a/b/c/d", lim).ok());
  EXPECT_FALSE(ParseTarget("/a?x=1&y=2&z=3", lim).ok());
  EXPECT_FALSE(ParseTarget("/a?x=12345", lim).ok());
  EXPECT_FALSE(ParseTarget("/abcdef", lim).ok());
}

TEST(TargetTest, PercentEncodeRoundTrips) {
  for (std::string s : {"k8s:sa:ns/name", "a b+c&d=e?f#g", "€uro", "../x"}) {
    auto d = PercentDecode(PercentEncode(s), false);
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(*d, s);
  }
}

ApiResponse Named(const char* name) { return ApiResponse::Json(200, name); }

TEST(RouterTest, MatchesLiteralsBeforeParametersAndReports405) {
  Router r;
  auto h = [](const char* n) { return [n](RequestContext&) { return Named(n); }; };
  ASSERT_TRUE(r.Add(Route::Make(Method::kGet, "/v1/cases/{id}", kReadRoles, h("id"))).ok());
  ASSERT_TRUE(r.Add(Route::Make(Method::kGet, "/v1/cases/queue", kReadRoles, h("queue"))).ok());
  ASSERT_TRUE(
      r.Add(Route::Make(Method::kPost, "/v1/cases/{id}/decisions", kReadRoles, h("dec"))).ok());
  EXPECT_EQ(r.Add(Route::Make(Method::kGet, "/v1/cases/{other}", kReadRoles, h("x"))).code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(r.Add(Route::Make(Method::kGet, "v1/x", kReadRoles, h("x"))).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(r.Add(Route::Make(Method::kGet, "/v1/{x", kReadRoles, h("x"))).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(r.Add(Route::Make(Method::kGet, "/v1/none", RoleSet(), h("x"))).code(),
            StatusCode::kInvalidArgument);

  auto f = r.Find(Method::kGet, {"v1", "cases", "queue"});
  ASSERT_NE(f.route, nullptr);
  EXPECT_EQ(f.route->pattern, "/v1/cases/queue");
  f = r.Find(Method::kGet, {"v1", "cases", "C-1"});
  ASSERT_NE(f.route, nullptr);
  EXPECT_EQ(f.route->pattern, "/v1/cases/{id}");
  ASSERT_EQ(f.params.size(), 1u);
  EXPECT_EQ(f.params[0], (std::pair<std::string, std::string>{"id", "C-1"}));
  f = r.Find(Method::kDelete, {"v1", "cases", "C-1"});
  EXPECT_EQ(f.route, nullptr);
  EXPECT_EQ(f.allowed, std::vector<Method>{Method::kGet});
  f = r.Find(Method::kGet, {"v1", "cases", ""});  // a parameter never matches an empty segment
  EXPECT_EQ(f.route, nullptr);
  EXPECT_TRUE(f.allowed.empty());
  f = r.Find(Method::kGet, {"v1", "nothing"});
  EXPECT_EQ(f.route, nullptr);
  EXPECT_TRUE(f.allowed.empty());
}

TEST(RouterTest, ParseDecimalRejectsSignsZerosAndOverflow) {
  EXPECT_EQ(ParseDecimal("0"), 0u);
  EXPECT_EQ(ParseDecimal("18446744073709551615"), UINT64_MAX);
  for (const char* bad : {"", "-1", "+1", "01", "1e3", "18446744073709551616", " 1", "0x10"}) {
    EXPECT_FALSE(ParseDecimal(bad).has_value()) << bad;
  }
}

TEST(RateLimiterTest, BucketRefillsWithTheInjectedClock) {
  FakeClock clock(1'000'000'000);
  RateLimiter lim(clock, /*rate=*/2, /*burst=*/3);
  int64_t retry = 0;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(lim.Allow("t1", &retry)) << i;
  EXPECT_FALSE(lim.Allow("t1", &retry));
  EXPECT_EQ(retry, 1);
  EXPECT_TRUE(lim.Allow("t2", &retry));  // buckets are per key
  clock.Advance(499'000'000);
  EXPECT_FALSE(lim.Allow("t1", &retry));
  clock.Advance(2'000'000);  // 0.501 s: one request's worth
  EXPECT_TRUE(lim.Allow("t1", &retry));
  EXPECT_FALSE(lim.Allow("t1", &retry));
  clock.Advance(60'000'000'000);  // refills only up to the burst
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(lim.Allow("t1", &retry));
  EXPECT_FALSE(lim.Allow("t1", &retry));
}

TEST(RateLimiterTest, SlowRateGivesLongerRetryAfterAndBoundedKeys) {
  FakeClock clock(0);
  RateLimiter lim(clock, 0.1, 1, /*max_keys=*/2);
  int64_t retry = 0;
  EXPECT_TRUE(lim.Allow("a", &retry));
  EXPECT_FALSE(lim.Allow("a", &retry));
  EXPECT_EQ(retry, 10);
  EXPECT_TRUE(lim.Allow("b", &retry));
  EXPECT_FALSE(lim.Allow("c", &retry));  // table full of non-refilled buckets
  clock.Advance(20'000'000'000);
  EXPECT_TRUE(lim.Allow("c", &retry));  // refilled buckets were dropped
  RateLimiter off(clock, 0, 1);
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(off.Allow("x", &retry));
}

TEST(AuthTest, TokensAreRandomHashedAndCheckedAgainstTheStore) {
  testing::TempDir dir;
  store::StoreOptions opts;
  opts.path = dir.File("s.db");
  opts.create = true;
  auto st = store::OpenStore(opts);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  store::Store& store = **st;
  FakeClock clock(1'700'000'000'000'000'000);
  auto a = MakeToken("ci-ingest", Role::kIngest, clock);
  auto b = MakeToken("auditor-1", Role::kAuditor, clock);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->token, b->token);
  EXPECT_EQ(a->token.size(), 4 + 16 + 1 + 64u);
  EXPECT_EQ(TokenId(a->token), a->row.id);
  EXPECT_EQ(a->row.token_sha256.size(), 32u);
  EXPECT_EQ(a->token.find(a->row.token_sha256), std::string::npos);
  {
    auto txn = store.BeginWrite();
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE((*txn)->InsertApiToken(a->row).ok());
    ASSERT_TRUE((*txn)->InsertApiToken(b->row).ok());
    auto dup = MakeToken("ci-ingest", Role::kAdmin, clock);
    EXPECT_EQ((*txn)->InsertApiToken(dup->row).code(), StatusCode::kAlreadyExists);
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  auto who = Authenticate(store, "Bearer " + a->token);
  ASSERT_TRUE(who.ok()) << who.status().ToString();
  EXPECT_EQ(who->name, "ci-ingest");
  EXPECT_EQ(who->role, Role::kIngest);
  EXPECT_TRUE(Authenticate(store, "bearer  " + b->token + " ").ok());

  std::string wrong_secret = a->token;
  wrong_secret.back() = wrong_secret.back() == '0' ? '1' : '0';
  std::string other_id = b->token.substr(0, 21) + a->token.substr(21);
  for (const std::string& bad :
       {std::string(), std::string("Basic abc"), std::string("Bearer"), "Bearer " + wrong_secret,
        "Bearer " + other_id, "Bearer " + a->token + "x", "Bearer " + a->token.substr(0, 20),
        std::string("Bearer nhi_' OR '1'='1")}) {
    auto r = Authenticate(store, bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated) << bad;
  }
  {
    auto txn = store.BeginWrite();
    ASSERT_TRUE(txn.ok());
    EXPECT_EQ(*(*txn)->RevokeApiToken("ci-ingest", 5), true);
    EXPECT_EQ(*(*txn)->RevokeApiToken("ci-ingest", 6), false);  // already revoked
    EXPECT_EQ(*(*txn)->RevokeApiToken("' OR 1=1 --", 6), false);
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  EXPECT_EQ(Authenticate(store, "Bearer " + a->token).status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_TRUE(Authenticate(store, "Bearer " + b->token).ok());  // only the one was revoked
  auto rows = store.ListApiTokens();
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].revoked_ns.value_or(-1) + (*rows)[1].revoked_ns.value_or(-1), 5 - 1);

  for (const char* bad_name : {"", "-x", "a b", "a\nb", "x'--", "<script>"}) {
    EXPECT_FALSE(MakeToken(bad_name, Role::kAdmin, clock).ok()) << bad_name;
  }
  EXPECT_FALSE(MakeToken(std::string(65, 'a'), Role::kAdmin, clock).ok());
}

// The pool opens at most max_handles connections (each with its own page cache): one more
// request waits for a lease to come back instead of opening another (the server's RSS bound).
TEST(ReaderPoolTest, OpensAtMostMaxHandlesAndWaitsForOneBack) {
  testing::LedgerFixture f;
  ASSERT_TRUE(f.Init().ok());
  ReaderPool pool(f.store_path(), f.clock(), 2);
  ASSERT_TRUE(pool.Warm().ok());
  EXPECT_EQ(pool.open_handles(), 1u);  // warmed and idle
  auto a = pool.Acquire();
  auto b = pool.Acquire();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(pool.open_handles(), 2u);
  std::atomic<bool> done{false};
  std::thread third([&] {
    auto c = pool.Acquire();  // both are leased: waits
    EXPECT_TRUE(c.ok());
    if (c.ok()) {
      EXPECT_TRUE(c->store().EventCount().ok());
    }
    done = true;
  });
  while (pool.waiting() == 0 && !done) std::this_thread::yield();
  EXPECT_FALSE(done) << "a third handle was leased while two were out";
  EXPECT_EQ(pool.open_handles(), 2u);
  { auto back = std::move(a).value(); }  // the lease returns its handle when destroyed
  third.join();
  EXPECT_TRUE(done);
  EXPECT_EQ(pool.open_handles(), 2u);  // the third reused the returned handle
  EXPECT_EQ(pool.waiting(), 0u);
}

TEST(AuditTest, AuditRowForSeqCoversExactlyItsRange) {
  testing::TempDir dir;
  store::StoreOptions opts;
  opts.path = dir.File("s.db");
  opts.create = true;
  auto st = store::OpenStore(opts);
  ASSERT_TRUE(st.ok());
  {
    auto txn = (*st)->BeginWrite();
    store::ApiAuditRow a;
    a.request_id = "r1";
    a.token_name = "t";
    a.action = "POST /v1/ingest";
    a.first_seq = 10;
    a.event_count = 5;
    ASSERT_TRUE((*txn)->InsertApiAudit(a).ok());
    a.request_id = "r2";
    a.first_seq = 20;
    a.event_count = 1;
    ASSERT_TRUE((*txn)->InsertApiAudit(a).ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  auto at = [&](uint64_t seq) {
    auto r = (*st)->ApiAuditForSeq(seq);
    EXPECT_TRUE(r.ok());
    return r.ok() && *r ? (*r)->request_id : std::string("-");
  };
  EXPECT_EQ(at(9), "-");
  EXPECT_EQ(at(10), "r1");
  EXPECT_EQ(at(14), "r1");
  EXPECT_EQ(at(15), "-");
  EXPECT_EQ(at(20), "r2");
  EXPECT_EQ(at(21), "-");
  auto list = (*st)->ListApiAudit(0, 10);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[1].first_seq, 20u);
}

TEST(JsonBodyTest, StrictObjectsOnly) {
  auto ok = JsonBody::Parse(R"({"name":"a","role":"auditor","n":3,"b":true})");
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(ok->Fields({"name", "role", "n", "b"}).ok());
  EXPECT_FALSE(ok->Fields({"name", "role"}).ok());
  EXPECT_EQ(*ok->String("name", 10), "a");
  EXPECT_FALSE(ok->String("name", 0).ok());
  EXPECT_FALSE(ok->String("missing", 10).ok());
  EXPECT_FALSE(ok->String("n", 10).ok());
  EXPECT_EQ(**ok->OptionalInt("n"), 3);
  EXPECT_FALSE(ok->OptionalInt("name").ok());
  EXPECT_EQ(**ok->OptionalBool("b"), true);
  EXPECT_FALSE(ok->OptionalString("missing", 5)->has_value());

  auto dup = JsonBody::Parse(R"({"name":"a","name":"b"})");
  ASSERT_TRUE(dup.ok());
  EXPECT_NE(dup->Fields({"name"}).message().find("more than once"), std::string::npos);
  EXPECT_FALSE(JsonBody::Parse(R"({"name":"")").ok());
  for (std::string bad : std::vector<std::string>{
           "", "[]", "null", "1", "{", "{\"a\":1}x", "\xff", "{\"a\":\"\xc0\xaf\"}",
           std::string(100000, '[') + std::string(100000, ']')}) {
    auto r = JsonBody::Parse(bad);
    ASSERT_FALSE(r.ok()) << bad.substr(0, 20);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(ResponseTest, ErrorsMapToStatusesAndHideInternalDetail) {
  ApiResponse nf(NotFoundError("no event with seq 3"));
  EXPECT_EQ(nf.status, 404);
  EXPECT_EQ(nf.body,
            R"({"error":{"code":"not_found","message":"no event with seq 3","details":{}}})");
  ApiResponse in(InternalError("SELECT secret FROM x failed"));
  EXPECT_EQ(in.status, 500);
  EXPECT_EQ(in.body.find("SELECT"), std::string::npos);
  EXPECT_EQ(in.log_detail, "SELECT secret FROM x failed");
  EXPECT_EQ(ApiResponse(ResourceExhaustedError("big")).status, 413);
  EXPECT_EQ(ApiResponse(UnavailableError("busy")).status, 503);
  EXPECT_EQ(ApiResponse(PermissionDeniedError("no")).status, 403);
  EXPECT_EQ(ApiResponse(OkStatus()).status, 500);
  EXPECT_EQ(SanitizeUtf8("a\xff"
                         "b"),
            "a\xEF\xBF\xBD"
            "b");
}

}  // namespace
}  // namespace nhitrace::api
