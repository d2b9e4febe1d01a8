// Black-box tests of `nhitrace serve`: the real binary on 127.0.0.1 with a temporary store,
// driven over HTTP. Every response these tests receive is recorded and, in the last test,
// checked against docs/api/openapi.yaml by tests/api/check_openapi.py (python3-jsonschema).
#include <atomic>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <thread>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/target.h"
#include "json/writer.h"
#include "testing/process.h"
#include "testing/temp_dir.h"

namespace nhitrace::api {
namespace {

using testing::ChildProcess;
using testing::RunNhitrace;
using testing::TempDir;

// A server that refuses a body mid-upload closes the connection; writing on must not kill us.
const bool kSigpipeIgnored = (::signal(SIGPIPE, SIG_IGN), true);

const std::vector<std::string> kRoles = {"ingest",        "investigator", "approver",
                                         "control_owner", "auditor",      "admin"};

// One `nhitrace serve` process over its own store, with one token per role.
class ServeProcess {
 public:
  // `prepare` runs on the initialised store before the server starts (the server must be the
  // only writer once it runs).
  explicit ServeProcess(std::vector<std::string> extra = {},
                        const std::function<void(const std::string&)>& prepare = nullptr) {
    store_ = dir_.File("s.db");
    auto init = RunNhitrace(store_, {"init"});
    EXPECT_EQ(init.exit_code, 0) << init.err;
    for (const auto& role : kRoles) tokens_[role] = CreateToken("t-" + role, role);
    if (prepare) prepare(store_);
    std::vector<std::string> argv = {testing::NhitraceBinary(),
                                     "--store",
                                     store_,
                                     "serve",
                                     "--listen",
                                     "127.0.0.1:0",
                                     "--quiet"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    child_ = std::make_unique<ChildProcess>(argv);
    std::string line;
    while (child_->ReadErrLine(&line)) {
      std::smatch m;
      if (std::regex_search(line, m, std::regex("listening on https?://127\\.0\\.0\\.1:(\\d+)"))) {
        port_ = std::stoi(m[1]);
        break;
      }
    }
    EXPECT_GT(port_, 0) << "serve did not start: " << line;
  }

  std::string CreateToken(const std::string& name, const std::string& role) {
    auto r = RunNhitrace(store_, {"token", "create", "--name", name, "--role", role, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::smatch m;
    EXPECT_TRUE(std::regex_search(r.out, m, std::regex("\"token\":\"(nhi_[0-9a-f_]+)\"")));
    return m[1];
  }

  // tree size and root, quarantine count, tokens: what hostile requests must not change.
  std::string Snapshot() {
    auto v = RunNhitrace(store_, {"verify", "--json"});
    EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
    std::smatch m;
    std::regex_search(
        v.out, m,
        std::regex(
            "\"root\":\"[^\"]*\".*\"tree_size\":\\d+|\"tree_size\":\\d+.*\"root\":\"[^\"]*\""));
    auto q = RunNhitrace(store_, {"quarantine", "--json", "--limit", "1000000"});
    auto t = RunNhitrace(store_, {"token", "list", "--json"});
    return m.str(0) + "\n" + std::to_string(q.out.size()) + "\n" + t.out;
  }

  int Stop(int sig = SIGTERM) {
    child_->Kill(sig);
    return child_->Wait();
  }

  int port() const { return port_; }
  const std::string& store() const { return store_; }
  const std::string& token(const std::string& role) { return tokens_[role]; }
  ChildProcess& child() { return *child_; }

 private:
  TempDir dir_;
  std::string store_;
  std::map<std::string, std::string> tokens_;
  std::unique_ptr<ChildProcess> child_;
  int port_ = 0;
};

struct Reply {
  int status = 0;
  std::string body;
  httplib::Headers headers;
};

// Every reply, for the OpenAPI check: {"method","route","status","body"} per line.
std::mutex g_record_mu;
std::string* g_record = nullptr;

void Record(const std::string& method, const std::string& route, const Reply& r) {
  std::lock_guard lock(g_record_mu);
  if (g_record == nullptr || r.status == 0) return;
  json::JsonWriter w;
  w.BeginObject();
  w.Key("method").String(method);
  w.Key("route").String(route);
  w.Key("status").Int(r.status);
  w.Key("body").String(r.body);
  w.EndObject();
  *g_record += w.str() + "\n";
}

// `route` is the documented pattern the target should hit (for the OpenAPI check).
Reply Call(int port, const std::string& method, const std::string& route, const std::string& target,
           const std::string& token, const std::string& body = "",
           const std::string& content_type = "application/json") {
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(60, 0);
  httplib::Headers h;
  if (!token.empty()) h.emplace("Authorization", "Bearer " + token);
  auto send = [&]() -> httplib::Result {
    if (method == "POST") return c.Post(target, h, body, content_type);
    if (method == "DELETE") return c.Delete(target, h);
    if (method == "PUT") return c.Put(target, h, body, content_type);
    return c.Get(target, h);
  };
  httplib::Result res = send();
  Reply r;
  if (!res) return r;
  r.status = res->status;
  r.body = res->body;
  r.headers = res->headers;
  Record(method, route, r);
  return r;
}

// Sends raw bytes and reads until the server closes the connection or `max_wait_s` passes.
std::string RawExchange(int port, const std::string& bytes, int max_wait_s = 10) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return "<connect failed>";
  }
  timeval tv{max_wait_s, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

std::string ErrorCode(const std::string& body) {
  std::smatch m;
  if (std::regex_search(body, m, std::regex("^\\{\"error\":\\{\"code\":\"([a-z_]+)\"")))
    return m[1];
  return "<not an error envelope: " + body.substr(0, 200) + ">";
}

std::string Event(const std::string& id, const std::string& request,
                  const std::string& kind = "request") {
  return R"({"v":1,"kind":")" + kind + R"(","source":{"system":"apitest","event_id":")" + id +
         R"("},"time":"2026-03-02T09:14:07Z","correlation_key":")" + request +
         R"(","identity":"k8s:sa:ns/app","actor":{"id":"a@example.com","type":"human"}})" + "\n";
}

class ApiServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    g_record = new std::string;
    server_ = new ServeProcess(
        {"--max-body-bytes", "1048576", "--max-batch-lines", "1000", "--rate-limit", "0"});
  }
  static void TearDownTestSuite() {
    if (server_) {
      EXPECT_EQ(server_->Stop(), 0);
    }
    delete server_;
    server_ = nullptr;
    delete g_record;
    g_record = nullptr;
  }
  static ServeProcess* server_;
  int port() { return server_->port(); }
  const std::string& tok(const std::string& role) { return server_->token(role); }
};
ServeProcess* ApiServerTest::server_ = nullptr;

TEST_F(ApiServerTest, HealthAndReadinessNeedNoToken) {
  auto h = Call(port(), "GET", "/v1/health", "/v1/health", "");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.body, R"({"status":"ok"})");
  auto r = Call(port(), "GET", "/v1/ready", "/v1/ready", "");
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(h.headers.find("X-Request-Id") == h.headers.end());
}

TEST_F(ApiServerTest, NoWrongOrRevokedTokenIs401) {
  std::string fake = "nhi_0123456789abcdef_" + std::string(64, 'a');
  for (const std::string& t :
       {std::string(), fake, std::string("not-a-token"), tok("auditor").substr(0, 40)}) {
    auto r = Call(port(), "GET", "/v1/events", "/v1/events", t);
    EXPECT_EQ(r.status, 401) << t;
    EXPECT_EQ(ErrorCode(r.body), "unauthenticated");
    EXPECT_EQ(r.headers.count("WWW-Authenticate"), 1u);
  }
  std::string doomed = server_->CreateToken("doomed", "auditor");
  EXPECT_EQ(Call(port(), "GET", "/v1/events", "/v1/events", doomed).status, 200);
  auto rev = RunNhitrace(server_->store(), {"token", "revoke", "doomed"});
  EXPECT_EQ(rev.exit_code, 0) << rev.err;
  EXPECT_EQ(Call(port(), "GET", "/v1/events", "/v1/events", doomed).status, 401);
}

// Every documented route, called with every role: exactly the roles in its x-roles get past
// authorisation, every other role gets 403 naming the allowed ones.
TEST_F(ApiServerTest, EveryRouteEnforcesItsDocumentedRoles) {
  auto table = testing::RunProcess(
      {"/usr/bin/python3", std::string(NHITRACE_SOURCE_DIR) + "/tests/api/check_openapi.py",
       std::string(NHITRACE_SOURCE_DIR) + "/docs/api/openapi.yaml", "--roles"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  std::istringstream in(table.out);
  std::string method, route, roles;
  int checked = 0;
  while (in >> method >> route >> roles) {
    std::string target = std::regex_replace(route, std::regex("\\{seq\\}"), "0");
    target = std::regex_replace(target, std::regex("\\{key\\}"), "nobody");
    target = std::regex_replace(target, std::regex("\\{id\\}"), "no-such-token");
    target = std::regex_replace(target, std::regex("\\{version\\}"), "999");
    std::string body = method == "POST" ? "{}" : "";
    if (roles == "public") {
      EXPECT_EQ(Call(port(), method, route, target, "").status, 200) << route;
      continue;
    }
    for (const auto& role : kRoles) {
      bool allowed = ("," + roles + ",").find("," + role + ",") != std::string::npos;
      auto r = Call(port(), method, route, target, tok(role), body);
      ++checked;
      if (allowed) {
        EXPECT_NE(r.status, 403) << method << " " << route << " as " << role << ": " << r.body;
        EXPECT_NE(r.status, 401) << method << " " << route << " as " << role;
        EXPECT_LT(r.status, 500) << method << " " << route << " as " << role << ": " << r.body;
      } else {
        EXPECT_EQ(r.status, 403) << method << " " << route << " as " << role;
        EXPECT_EQ(ErrorCode(r.body), "forbidden");
        EXPECT_NE(r.body.find("\"allowed_roles\":["), std::string::npos);
      }
    }
  }
  EXPECT_GE(checked, 6 * 38);
}

TEST_F(ApiServerTest, IngestCountsRejectsAndAttributesToTheToken) {
  std::string body = Event("ing-1", "REQ-1") + Event("ing-2", "REQ-1", "approval") +
                     "{\"v\":1,\"kind\":\"nope\"}\n" + "not json\n" + "\n" +
                     std::string("{\"v\":1,\"x\":\"\xff\"}\n");
  auto r =
      Call(port(), "POST", "/v1/ingest", "/v1/ingest", tok("ingest"), body, "application/x-ndjson");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"accepted\":2,\"duplicate\":0,\"quarantined\":3"), std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("\"text\":\"4: record: not valid JSON"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"text\":\"6: record: invalid UTF-8"), std::string::npos) << r.body;
  auto again = Call(port(), "POST", "/v1/ingest", "/v1/ingest?format=native", tok("admin"),
                    Event("ing-1", "REQ-1"), "application/x-ndjson");
  EXPECT_NE(again.body.find("\"accepted\":0,\"duplicate\":1"), std::string::npos) << again.body;

  auto ev = Call(port(), "GET", "/v1/events", "/v1/events?request=REQ-1", tok("investigator"));
  ASSERT_EQ(ev.status, 200);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(ev.body, m, std::regex("\"seq\":(\\d+)")));
  auto one = Call(port(), "GET", "/v1/events/{seq}", "/v1/events/" + m.str(1), tok("auditor"));
  ASSERT_EQ(one.status, 200);
  EXPECT_NE(one.body.find("\"ingested_by\":{\"token_name\":\"t-ingest\",\"role\":\"ingest\""),
            std::string::npos)
      << one.body;
  auto q = Call(port(), "GET", "/v1/quarantine", "/v1/quarantine", tok("auditor"));
  EXPECT_NE(q.body.find("\"source\":\"api:t-ingest:"), std::string::npos) << q.body;
  auto audit = Call(port(), "GET", "/v1/audit", "/v1/audit", tok("auditor"));
  EXPECT_NE(audit.body.find("\"token_name\":\"t-ingest\",\"role\":\"ingest\",\"action\":\"POST "
                            "/v1/ingest\""),
            std::string::npos)
      << audit.body;

  auto bad_format = Call(port(), "POST", "/v1/ingest", "/v1/ingest?format=cloudtrail-ish",
                         tok("ingest"), Event("x", "y"));
  EXPECT_EQ(bad_format.status, 400);
  EXPECT_EQ(ErrorCode(bad_format.body), "unsupported_format");
  EXPECT_EQ(ErrorCode(Call(port(), "POST", "/v1/ingest", "/v1/ingest", tok("ingest"), "").body),
            "empty_body");
}

TEST_F(ApiServerTest, ReadsTraceIdentitiesCheckpointAndProofs) {
  std::string body;
  for (int i = 0; i < 5; ++i) body += Event("rd-" + std::to_string(i), "READ-1");
  ASSERT_EQ(Call(port(), "POST", "/v1/ingest", "/v1/ingest", tok("ingest"), body).status, 200);
  auto t = Call(port(), "GET", "/v1/trace", "/v1/trace?request=READ-1", tok("investigator"));
  EXPECT_EQ(t.status, 200) << t.body;
  EXPECT_NE(t.body.find("\"trace_version\":1"), std::string::npos);
  EXPECT_EQ(
      Call(port(), "GET", "/v1/trace", "/v1/trace?request=READ-1&event=1", tok("auditor")).status,
      400);
  EXPECT_EQ(Call(port(), "GET", "/v1/trace", "/v1/trace?request=NOPE", tok("auditor")).status, 404);
  auto ids = Call(port(), "GET", "/v1/identities", "/v1/identities", tok("approver"));
  EXPECT_EQ(ids.status, 200) << ids.body;
  auto id = Call(port(), "GET", "/v1/identities/{key}",
                 "/v1/identities/" + PercentEncode("k8s:sa:ns/app"), tok("approver"));
  EXPECT_EQ(id.status, 200) << id.body;
  EXPECT_NE(id.body.find("\"canonical\":\"k8s:sa:ns/app\""), std::string::npos);

  auto cp = Call(port(), "GET", "/v1/checkpoint", "/v1/checkpoint", tok("control_owner"));
  ASSERT_EQ(cp.status, 200) << cp.body;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(cp.body, m, std::regex("\"size\":(\\d+)")));
  uint64_t size = std::stoull(m[1]);
  ASSERT_GE(size, 5u);
  auto incl = Call(port(), "GET", "/v1/proofs/inclusion",
                   "/v1/proofs/inclusion?seq=0&size=" + std::to_string(size), tok("auditor"));
  EXPECT_EQ(incl.status, 200) << incl.body;
  auto old_cp = Call(port(), "GET", "/v1/checkpoint", "/v1/checkpoint?size=0", tok("auditor"));
  EXPECT_EQ(old_cp.status, 200) << old_cp.body;
  auto cons = Call(port(), "GET", "/v1/proofs/consistency",
                   "/v1/proofs/consistency?size1=0&size2=" + std::to_string(size), tok("auditor"));
  EXPECT_EQ(cons.status, 200) << cons.body;
  // Sizes no checkpoint was published at, and indexes past the tree.
  EXPECT_EQ(
      Call(port(), "GET", "/v1/checkpoint", "/v1/checkpoint?size=999999", tok("auditor")).status,
      404);
  EXPECT_EQ(
      Call(port(), "GET", "/v1/proofs/inclusion", "/v1/proofs/inclusion?seq=999999", tok("auditor"))
          .status,
      400);
  EXPECT_EQ(
      Call(port(), "GET", "/v1/proofs/inclusion", "/v1/proofs/inclusion", tok("auditor")).status,
      400);
  EXPECT_EQ(Call(port(), "GET", "/v1/events/{seq}", "/v1/events/99999999", tok("auditor")).status,
            404);
}

TEST_F(ApiServerTest, RoutingErrorsAreJson) {
  auto nf = Call(port(), "GET", "/v1/nothing", "/v1/nothing", tok("auditor"));
  EXPECT_EQ(nf.status, 404);
  EXPECT_EQ(ErrorCode(nf.body), "not_found");
  auto na = Call(port(), "DELETE", "/v1/events", "/v1/events", tok("admin"));
  EXPECT_EQ(na.status, 405);
  EXPECT_EQ(ErrorCode(na.body), "method_not_allowed");
  EXPECT_EQ(na.headers.find("Allow")->second, "GET");
  auto unk = Call(port(), "GET", "/v1/events", "/v1/events?colour=red", tok("auditor"));
  EXPECT_EQ(unk.status, 400);
  EXPECT_EQ(ErrorCode(unk.body), "unknown_parameter");
  for (const char* bad : {"/v1/events?limit=0", "/v1/events?limit=-1", "/v1/events?limit=1e3",
                          "/v1/events?from=yesterday", "/v1/events/abc", "/v1/events/-1",
                          "/v1/events/007", "/v1/quarantine?after=99999999999999999999"}) {
    auto r = Call(port(), "GET",
                  std::string(bad).find("/v1/events/") == 0      ? "/v1/events/{seq}"
                  : std::string(bad).find("/v1/quarantine") == 0 ? "/v1/quarantine"
                                                                 : "/v1/events",
                  bad, tok("auditor"));
    EXPECT_EQ(r.status, 400) << bad << " " << r.body;
  }
}

// Hostile input of every kind: a clean 4xx (never 5xx, never a dropped connection) and the
// store exactly as before.
TEST_F(ApiServerTest, HostileInputGetsClean4xxAndLeavesTheStoreUnchanged) {
  std::string before = server_->Snapshot();
  const std::vector<std::string> sql = {"' OR '1'='1",
                                        "\"; DROP TABLE events; --",
                                        "x' UNION SELECT token_sha256 FROM api_tokens --",
                                        "%' --",
                                        "\\",
                                        "*",
                                        "1; DELETE FROM api_tokens",
                                        "') OR 1=1 --",
                                        "`",
                                        "NULL OR 1=1"};
  const std::vector<std::pair<std::string, std::string>> string_params = {
      {"/v1/events", "request"},  {"/v1/events", "identity"},  {"/v1/events", "kind"},
      {"/v1/events", "from"},     {"/v1/events", "to"},        {"/v1/trace", "request"},
      {"/v1/trace", "identity"},  {"/v1/identities", "kind"},  {"/v1/identities", "owner"},
      {"/v1/checkpoint", "size"}, {"/v1/quarantine", "after"}, {"/v1/audit", "after"}};
  int calls = 0;
  for (const auto& s : sql) {
    for (const auto& [route, param] : string_params) {
      auto r =
          Call(port(), "GET", route, route + "?" + param + "=" + PercentEncode(s), tok("admin"));
      ++calls;
      EXPECT_TRUE(r.status == 200 || (r.status >= 400 && r.status < 500))
          << route << "?" << param << "=" << s << " -> " << r.status << " " << r.body;
      if (r.status == 200 && route == "/v1/events") {
        EXPECT_NE(r.body.find("\"events\":[]"), std::string::npos) << s;
      }
    }
    for (const auto& [route, target] : std::vector<std::pair<std::string, std::string>>{
             {"/v1/identities/{key}", "/v1/identities/" + PercentEncode(s)},
             {"/v1/events/{seq}", "/v1/events/" + PercentEncode(s)}}) {
      auto r = Call(port(), "GET", route, target, tok("admin"));
      EXPECT_TRUE(r.status == 404 || r.status == 400) << target << " " << r.status;
    }
    auto del =
        Call(port(), "DELETE", "/v1/tokens/{id}", "/v1/tokens/" + PercentEncode(s), tok("admin"));
    EXPECT_EQ(del.status, 404) << s << " " << del.body;
    json::JsonWriter w;
    w.BeginObject().Key("name").String(s).Key("role").String("auditor").EndObject();
    EXPECT_EQ(Call(port(), "POST", "/v1/tokens", "/v1/tokens", tok("admin"), w.str()).status, 400);
    json::JsonWriter w2;
    w2.BeginObject().Key("name").String("ok-name").Key("role").String(s).EndObject();
    EXPECT_EQ(Call(port(), "POST", "/v1/tokens", "/v1/tokens", tok("admin"), w2.str()).status, 400);
    calls += 5;
  }
  // Malformed JSON and wrong types.
  for (const std::string& body :
       {std::string("{"), std::string("[]"), std::string("null"), std::string(""),
        std::string("{\"name\":1,\"role\":\"auditor\"}"),
        std::string("{\"name\":\"a\",\"role\":[\"admin\"]}"),
        std::string("{\"name\":\"a\",\"role\":\"auditor\",\"admin\":true}"),
        std::string("{\"name\":\"a\",\"name\":\"b\",\"role\":\"auditor\"}"),
        std::string("{\"name\":\"\xff\",\"role\":\"auditor\"}"),
        std::string(200000, '[') + std::string(200000, ']')}) {
    auto r = Call(port(), "POST", "/v1/tokens", "/v1/tokens", tok("admin"), body);
    EXPECT_EQ(r.status, body.size() > (1 << 20) ? 413 : 400) << body.substr(0, 40) << r.body;
  }
  // Invalid UTF-8 and path traversal in targets.
  for (const auto& [route, target, status] : std::vector<std::tuple<std::string, std::string, int>>{
           {"/v1/trace", "/v1/trace?request=%FF%FE", 400},
           {"/v1/identities/{key}", "/v1/identities/%C0%AF", 400},
           {"/v1/identities/{key}", "/v1/identities/a%00b", 400},
           {"/v1/identities/{key}", "/v1/identities/..%2F..%2Fetc%2Fpasswd", 404},
           {"/v1/identities/{key}", "/v1/identities/%2E%2E", 404},
           {"/v1/events/{seq}", "/v1/events/..%2F1", 400},
           {"/v1/health", "/v1/../v1/health", 400},
           {"/v1/tokens/{id}", "/v1/tokens/../../etc", 400}}) {
    auto r =
        Call(port(), route == "/v1/tokens/{id}" ? "DELETE" : "GET", route, target, tok("admin"));
    EXPECT_EQ(r.status, status) << target << " " << r.body;
    EXPECT_EQ(r.body.rfind("{\"error\":{\"code\":", 0), 0u) << target;
  }
  // Huge bodies: declared (refused before the body is read) and streamed (chunked, no length:
  // refused once the count passes the limit). The client stops sending where the server stops
  // reading, so the refusal is not lost to a connection reset.
  for (const auto& [target, token, limit_code] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"/v1/ingest", tok("ingest"), "payload_too_large"},
           {"/v1/tokens", tok("admin"), "payload_too_large"}}) {
    std::string out = RawExchange(
        port(), "POST " + target + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token +
                    "\r\nContent-Length: 3145728\r\nConnection: "
                    "close\r\n\r\n");
    EXPECT_NE(out.find("HTTP/1.1 413"), std::string::npos) << target << out.substr(0, 300);
    EXPECT_NE(out.find("\"code\":\"" + limit_code + "\""), std::string::npos) << out;
  }
  std::string chunked = "POST /v1/ingest HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                        tok("ingest") +
                        "\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
  std::string piece(65536, 'y');
  for (int i = 0; i < 17; ++i) {  // 17 x 64 KiB: just past the 1 MiB limit
    chunked += "10000\r\n" + piece + (i < 16 ? "\r\n" : "");
  }
  std::string raw = RawExchange(port(), chunked);
  EXPECT_NE(raw.find("HTTP/1.1 413"), std::string::npos) << raw.substr(0, 300);
  EXPECT_NE(raw.find("\"code\":\"payload_too_large\""), std::string::npos);
  // Too many lines in one batch: refused as a whole before anything is written.
  std::string lines;
  for (int i = 0; i < 1001; ++i) lines += Event("many-" + std::to_string(i), "MANY");
  auto r3 = Call(port(), "POST", "/v1/ingest", "/v1/ingest", tok("ingest"), lines);
  EXPECT_EQ(r3.status, 413);
  EXPECT_EQ(ErrorCode(r3.body), "batch_too_large");
  EXPECT_GT(calls, 100);
  EXPECT_EQ(server_->Snapshot(), before);
}

TEST_F(ApiServerTest, HeaderLimitsAndMalformedRequestsGetJsonErrors) {
  std::string many = "GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n";
  for (int i = 0; i < 4; ++i)
    many += "X-Pad-" + std::to_string(i) + ": " + std::string(5000, 'p') + "\r\n";
  std::string r1 = RawExchange(port(), many + "\r\n");
  EXPECT_NE(r1.find("HTTP/1.1 431"), std::string::npos) << r1.substr(0, 200);
  EXPECT_NE(r1.find("\"code\":\"headers_too_large\""), std::string::npos);
  std::string r2 = RawExchange(
      port(), "GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Long: " + std::string(9000, 'l') +
                  "\r\nConnection: close\r\n\r\n");
  EXPECT_NE(r2.find("HTTP/1.1 400"), std::string::npos) << r2.substr(0, 200);
  EXPECT_NE(r2.find("\"code\":\"malformed_request\""), std::string::npos);
  std::string r3 =
      RawExchange(port(), "BREW /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(r3.find("HTTP/1.1 4"), std::string::npos) << r3.substr(0, 200);
  EXPECT_NE(r3.find("{\"error\":{\"code\":"), std::string::npos);
  std::string r4 =
      RawExchange(port(), "GET /" + std::string(9000, 'u') + " HTTP/1.1\r\nHost: x\r\n\r\n", 2);
  EXPECT_NE(r4.find("HTTP/1.1 414"), std::string::npos) << r4.substr(0, 200);
  EXPECT_NE(r4.find("\"code\":\"uri_too_long\""), std::string::npos);
}

// A request refused before its body was read must not let the body be taken for a second
// request on the same connection (request smuggling).
TEST_F(ApiServerTest, UnreadBodyOfARefusedRequestIsNotParsedAsARequest) {
  std::string inner = "DELETE /v1/tokens/t-auditor HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                      tok("admin") + "\r\n\r\n";
  std::string outer =
      "POST /v1/ingest HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(inner.size()) +
      "\r\n\r\n" + inner + "GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  std::string out = RawExchange(port(), outer);
  EXPECT_NE(out.find("HTTP/1.1 401"), std::string::npos) << out;
  EXPECT_EQ(out.find("\"revoked\":true"), std::string::npos) << out;
  EXPECT_EQ(Call(port(), "GET", "/v1/events", "/v1/events", tok("auditor")).status, 200);
}

TEST_F(ApiServerTest, TokensCanBeManagedByAdminsOverTheApi) {
  auto created = Call(port(), "POST", "/v1/tokens", "/v1/tokens", tok("admin"),
                      R"({"name":"api-made","role":"investigator"})");
  ASSERT_EQ(created.status, 201) << created.body;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(created.body, m, std::regex("\"token\":\"(nhi_[0-9a-f_]+)\"")));
  std::string token = m[1];
  EXPECT_EQ(Call(port(), "GET", "/v1/trace", "/v1/trace?request=NOPE", token).status, 404);
  auto dup = Call(port(), "POST", "/v1/tokens", "/v1/tokens", tok("admin"),
                  R"({"name":"api-made","role":"auditor"})");
  EXPECT_EQ(dup.status, 409);
  auto list = Call(port(), "GET", "/v1/tokens", "/v1/tokens", tok("admin"));
  EXPECT_NE(list.body.find("\"name\":\"api-made\""), std::string::npos);
  EXPECT_EQ(list.body.find(token.substr(21)), std::string::npos);  // never the secret
  EXPECT_EQ(Call(port(), "DELETE", "/v1/tokens/{id}", "/v1/tokens/api-made", tok("admin")).status,
            200);
  EXPECT_EQ(Call(port(), "GET", "/v1/trace", "/v1/trace?request=NOPE", token).status, 401);
  auto audit = Call(port(), "GET", "/v1/audit", "/v1/audit?limit=1000", tok("auditor"));
  EXPECT_NE(
      audit.body.find("\"token_name\":\"t-admin\",\"role\":\"admin\",\"action\":\"token.revoke\""),
      std::string::npos)
      << audit.body;
}

// The first value of "key" in a JSON body: a number, or a string's contents.
std::string Field(const std::string& body, const std::string& key) {
  std::smatch m;
  if (std::regex_search(body, m, std::regex("\"" + key + "\":(\"([^\"]*)\"|-?[0-9]+)"))) {
    return m[2].matched ? m.str(2) : m.str(1);
  }
  return "<no " + key + " in " + body.substr(0, 300) + ">";
}

std::string JsonObject(const std::vector<std::pair<std::string, std::string>>& fields) {
  json::JsonWriter w;
  w.BeginObject();
  for (const auto& [k, v] : fields) w.Key(k).String(v);
  w.EndObject();
  return w.Take();
}

TEST_F(ApiServerTest, PoliciesArePublishedByAdminsAndInvalidDocumentsWriteNothing) {
  std::string before = server_->Snapshot();
  auto bad = Call(port(), "POST", "/v1/policies", "/v1/policies", tok("admin"),
                  JsonObject({{"document",
                               "nhitrace_policy: 1\nid: api\nrules:\n  identity-dormant: {period: "
                               "soon}\n"}}));
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(ErrorCode(bad.body), "invalid_policy");
  EXPECT_NE(bad.body.find("\"details\":{\"line\":4,\"column\":30,\"reason\":\"rules.identity-"
                          "dormant.period: not a duration"),
            std::string::npos)
      << bad.body;
  for (const std::string& body :
       {std::string("{\"document\":5}"),
        std::string("{\"document\":\"nhitrace_policy: 1\\nid: "
                    "x\\n\",\"by\":\"someone-else\"}"),
        std::string("[]"), std::string("{\"document\":\"\"}"),
        JsonObject({{"document",
                     "nhitrace_policy: 1\nid: x\nrules:\n  \"'; DROP TABLE events; --\": {}\n"}}),
        JsonObject({{"document", "nhitrace_policy: [\n"}}), std::string("{\"document\":null}")}) {
    auto r = Call(port(), "POST", "/v1/policies", "/v1/policies", tok("admin"), body);
    EXPECT_EQ(r.status, 400) << body << " -> " << r.body;
  }
  EXPECT_EQ(Call(port(), "POST", "/v1/policies", "/v1/policies", tok("approver"),
                 JsonObject({{"document", "nhitrace_policy: 1\nid: api-test\n"}}))
                .status,
            403);
  EXPECT_EQ(server_->Snapshot(), before);

  std::string doc = "nhitrace_policy: 1\nid: api-test\n";
  auto pub = Call(port(), "POST", "/v1/policies", "/v1/policies", tok("admin"),
                  JsonObject({{"document", doc}, {"note", "first over HTTP"}}));
  ASSERT_EQ(pub.status, 201) << pub.body;
  EXPECT_EQ(Field(pub.body, "published_by"), "t-admin");
  EXPECT_EQ(Field(pub.body, "note"), "first over HTTP");
  std::string version = Field(pub.body, "version");
  auto again = Call(port(), "POST", "/v1/policies", "/v1/policies", tok("admin"),
                    JsonObject({{"document", doc}}));
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_NE(again.body.find("\"unchanged\":true"), std::string::npos);
  EXPECT_EQ(Field(again.body, "version"), version);

  auto list = Call(port(), "GET", "/v1/policies", "/v1/policies", tok("auditor"));
  EXPECT_EQ(list.status, 200);
  EXPECT_NE(list.body.find("\"published_by\":\"t-admin\""), std::string::npos) << list.body;
  auto one =
      Call(port(), "GET", "/v1/policies/{version}", "/v1/policies/" + version, tok("investigator"));
  EXPECT_EQ(one.status, 200) << one.body;
  EXPECT_NE(one.body.find("\"document\":\"nhitrace_policy: 1\\nid: api-test\\n\""),
            std::string::npos)
      << one.body;
  EXPECT_NE(one.body.find("\"canonical\":{"), std::string::npos);
  EXPECT_EQ(
      Call(port(), "GET", "/v1/policies/{version}", "/v1/policies/999", tok("auditor")).status,
      404);
  for (std::string v : {"abc", "-1", "1%20OR%201%3D1", "..%2F1", "01"}) {
    EXPECT_EQ(
        Call(port(), "GET", "/v1/policies/{version}", "/v1/policies/" + v, tok("auditor")).status,
        400)
        << v;
  }
}

TEST_F(ApiServerTest, FindingsAreServedWithTheFiltersOfTheCli) {
  // Findings come from `nhitrace reconcile`, run on the store before this server starts.
  ServeProcess s({"--rate-limit", "0"}, [](const std::string& store) {
    std::string scenarios = std::string(NHITRACE_SOURCE_DIR) + "/tests/scenarios/reconcile/";
    auto in = RunNhitrace(store, {"ingest", scenarios + "self-approval.jsonl"});
    EXPECT_EQ(in.exit_code, 0) << in.err;
    std::ofstream(store + ".policy.yaml") << "nhitrace_policy: 1\nid: findings\n";
    auto pub = RunNhitrace(store, {"policy", "publish", store + ".policy.yaml", "--by", "alice"});
    EXPECT_EQ(pub.exit_code, 0) << pub.err;
    auto rec = RunNhitrace(store, {"reconcile", "--as-of", "2026-06-01T00:00:00Z"});
    EXPECT_EQ(rec.exit_code, 0) << rec.err;
  });
  auto all = Call(s.port(), "GET", "/v1/findings", "/v1/findings", s.token("auditor"));
  ASSERT_EQ(all.status, 200) << all.body;
  std::string id = Field(all.body, "finding_id");
  ASSERT_EQ(id.size(), 17u) << all.body;
  std::string rule = Field(all.body, "rule_id");
  auto one = Call(s.port(), "GET", "/v1/findings/{id}", "/v1/findings/" + id, s.token("approver"));
  EXPECT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(Field(one.body, "finding_id"), id);
  auto by_rule = Call(s.port(), "GET", "/v1/findings", "/v1/findings?open=true&rule=" + rule,
                      s.token("admin"));
  EXPECT_EQ(by_rule.status, 200);
  size_t n = 0;
  for (size_t p = 0; (p = by_rule.body.find("\"rule_id\":\"", p)) != std::string::npos; ++p) {
    ++n;
    EXPECT_EQ(by_rule.body.compare(p, 11 + rule.size() + 1, "\"rule_id\":\"" + rule + "\""), 0);
  }
  EXPECT_GE(n, 1u);
  auto critical = Call(s.port(), "GET", "/v1/findings", "/v1/findings?severity=critical",
                       s.token("control_owner"));
  EXPECT_EQ(critical.status, 200);
  for (const char* lower :
       {"\"severity\":\"low\"", "\"severity\":\"medium\"", "\"severity\":\"high\""}) {
    EXPECT_EQ(critical.body.find(lower), std::string::npos) << critical.body;
  }
  auto limited =
      Call(s.port(), "GET", "/v1/findings", "/v1/findings?limit=1", s.token("investigator"));
  EXPECT_EQ(limited.status, 200);
  EXPECT_NE(limited.body.find("\"limit\":1,"), std::string::npos);
  EXPECT_EQ(Call(s.port(), "GET", "/v1/findings/{id}", "/v1/findings/F0000000000000000",
                 s.token("auditor"))
                .status,
            404);
  auto bad_rule =
      Call(s.port(), "GET", "/v1/findings", "/v1/findings?rule=no-such-rule", s.token("auditor"));
  EXPECT_EQ(bad_rule.status, 400);
  EXPECT_NE(bad_rule.body.find("\"rules\":[\""), std::string::npos) << bad_rule.body;
  for (std::string q : {"severity=urgent", "open=yes", "limit=0", "status=open"}) {
    EXPECT_EQ(Call(s.port(), "GET", "/v1/findings", "/v1/findings?" + q, s.token("auditor")).status,
              400)
        << q;
  }
  EXPECT_EQ(Call(s.port(), "GET", "/v1/findings", "/v1/findings", s.token("ingest")).status, 403);
  EXPECT_EQ(Call(s.port(), "GET", "/v1/findings", "/v1/findings", "").status, 401);
  EXPECT_EQ(s.Stop(), 0);
}

TEST_F(ApiServerTest, IngestOverHttpReconcilesAsTheCliDoes) {
  // A policy is published before the server starts; the evidence then arrives over HTTP, and
  // the finding must be there without anyone running `nhitrace reconcile`.
  ServeProcess s({"--rate-limit", "0"}, [](const std::string& store) {
    std::ofstream(store + ".policy.yaml") << "nhitrace_policy: 1\nid: findings\n";
    auto pub = RunNhitrace(store, {"policy", "publish", store + ".policy.yaml", "--by", "alice"});
    EXPECT_EQ(pub.exit_code, 0) << pub.err;
  });
  EXPECT_EQ(
      Call(s.port(), "GET", "/v1/findings", "/v1/findings?rule=self-approval", s.token("auditor"))
          .body.find("\"finding_id\""),
      std::string::npos);
  std::ifstream in(
      std::string(NHITRACE_SOURCE_DIR) + "/tests/scenarios/reconcile/self-approval.jsonl",
      std::ios::binary);
  std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(body.empty());
  auto r = Call(s.port(), "POST", "/v1/ingest", "/v1/ingest", s.token("ingest"), body,
                "application/x-ndjson");
  ASSERT_EQ(r.status, 200) << r.body;
  auto found = Call(s.port(), "GET", "/v1/findings", "/v1/findings?open=true&rule=self-approval",
                    s.token("auditor"));
  ASSERT_EQ(found.status, 200) << found.body;
  EXPECT_EQ(Field(found.body, "rule_id"), "self-approval") << found.body;
  EXPECT_EQ(s.Stop(), 0);
}

// Opens a case over HTTP as `token`; its id.
std::string OpenCase(int port, const std::string& token, const std::string& body) {
  auto r = Call(port, "POST", "/v1/cases", "/v1/cases", token, body);
  EXPECT_EQ(r.status, 201) << r.body;
  return Field(r.body, "case");
}

Reply CaseOp(int port, const std::string& token, const std::string& id, const std::string& op,
             const std::string& body) {
  return Call(port, "POST", "/v1/cases/{id}/" + op, "/v1/cases/" + id + "/" + op, token, body);
}

TEST_F(ApiServerTest, CaseIsWorkedEndToEndOverHttp) {
  std::string id =
      OpenCase(port(), tok("investigator"),
               R"({"kind":"alert","severity":"high","title":"Key used from a new ASN",)"
               R"("requester":"dev@example.com","identities":["k8s:sa:ns/app"],)"
               R"("reason":"from the SIEM"})");
  ASSERT_NE(id.find_first_not_of("0123456789"), 0u) << id;
  auto r = CaseOp(port(), tok("investigator"), id, "assign", R"({"to":"t-investigator"})");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Field(r.body, "actor"), "t-investigator");
  // An illegal transition names the states allowed.
  r = CaseOp(port(), tok("investigator"), id, "transition",
             R"({"to":"verifying","reason":"too early"})");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(ErrorCode(r.body), "failed_precondition");
  EXPECT_NE(r.body.find("it can go to"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"allowed_states\":[\"triage\",\"investigating\""), std::string::npos)
      << r.body;
  r = CaseOp(port(), tok("investigator"), id, "transition",
             R"({"to":"investigating","reason":"looking"})");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Field(r.body, "state"), "investigating");
  EXPECT_EQ(
      CaseOp(port(), tok("approver"), id, "comments", R"({"text":"I will decide this"})").status,
      200);
  r = CaseOp(port(), tok("investigator"), id, "tasks",
             R"({"action":"add","title":"Check the ASN","due":"+2d"})");
  EXPECT_EQ(r.status, 200) << r.body;
  std::string inline_bytes =
      "{\"name\":\"siem.txt\",\"media_type\":\"text/plain\",\"content_base64\":"
      "\"aGVsbG8gc2llbQ==\"}";
  r = CaseOp(port(), tok("investigator"), id, "attachments", inline_bytes);
  EXPECT_EQ(r.status, 200) << r.body;
  r = CaseOp(port(), tok("investigator"), id, "attachments",
             R"({"name":"ticket","url":"https://tickets.example.com/SEC-1",)"
             R"("sha256":"0000000000000000000000000000000000000000000000000000000000000000"})");
  EXPECT_EQ(r.status, 200) << r.body;
  // Closing now: the criteria not met are named.
  r = CaseOp(port(), tok("investigator"), id, "close", R"({"reason":"done?"})");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_NE(r.body.find("closure criteria not met"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("{\"id\":\"decision_recorded\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("{\"id\":\"tasks_done\""), std::string::npos) << r.body;
  auto check = Call(port(), "GET", "/v1/cases/{id}/closure",
                    "/v1/cases/" + id + "/closure?resolution=resolved", tok("auditor"));
  EXPECT_EQ(check.status, 200) << check.body;
  EXPECT_NE(check.body.find("\"may_close\":false"), std::string::npos);
  EXPECT_EQ(
      CaseOp(port(), tok("investigator"), id, "tasks", R"({"action":"done","task":1})").status,
      200);
  EXPECT_EQ(CaseOp(port(), tok("investigator"), id, "transition",
                   R"({"to":"awaiting_decision","reason":"ready"})")
                .status,
            200);
  // The investigator may not decide (role); the approver, a different token, does.
  EXPECT_EQ(CaseOp(port(), tok("investigator"), id, "decisions",
                   R"({"outcome":"approve","rationale":"x"})")
                .status,
            403);
  r = CaseOp(port(), tok("approver"), id, "decisions",
             R"({"outcome":"approve","rationale":"expected traffic from the new office"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Field(r.body, "actor"), "t-approver");
  std::string decide_seq = Field(r.body, "seq");
  r = CaseOp(port(), tok("investigator"), id, "close", R"({"reason":"approved and done"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"state\":\"closed\""), std::string::npos);

  // The ledger names the token as the actor of the decision, and the audit trail the batch.
  auto ev = Call(port(), "GET", "/v1/events/{seq}", "/v1/events/" + decide_seq, tok("auditor"));
  EXPECT_EQ(ev.status, 200);
  EXPECT_NE(ev.body.find("\"actor\":{\"id\":\"t-approver\",\"type\":\"human\"}"), std::string::npos)
      << ev.body;
  EXPECT_NE(ev.body.find("\"ingested_by\":{\"token_name\":\"t-approver\",\"role\":\"approver\""),
            std::string::npos)
      << ev.body;
  auto shown = Call(port(), "GET", "/v1/cases/{id}", "/v1/cases/" + id, tok("control_owner"));
  EXPECT_EQ(shown.status, 200);
  EXPECT_EQ(Field(shown.body, "state"), "closed");
  auto x =
      Call(port(), "GET", "/v1/cases/{id}/explain", "/v1/cases/" + id + "/explain", tok("auditor"));
  EXPECT_EQ(x.status, 200) << x.body;
  EXPECT_NE(x.body.find("t-approver"), std::string::npos);
  auto listed =
      Call(port(), "GET", "/v1/cases", "/v1/cases?state=closed&limit=1000", tok("auditor"));
  EXPECT_NE(listed.body.find("\"id\":" + id + ","), std::string::npos) << listed.body;
  // Closed cases accept comments and reopen; the auditor changes nothing.
  EXPECT_EQ(CaseOp(port(), tok("auditor"), id, "reopen", R"({"reason":"x"})").status, 403);
  r = CaseOp(port(), tok("investigator"), id, "reopen", R"({"reason":"new evidence"})");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Field(r.body, "state"), "open");
}

TEST_F(ApiServerTest, SegregationOfDutiesViolationsAre403AndWriteNothing) {
  // The requester may not decide its own request.
  std::string id = OpenCase(port(), tok("investigator"),
                            R"({"kind":"access_review","title":"Grant for t-approver",)"
                            R"("requester":"t-approver"})");
  std::string before = server_->Snapshot();
  std::string case_before =
      Call(port(), "GET", "/v1/cases/{id}", "/v1/cases/" + id, tok("auditor")).body;
  auto r = CaseOp(port(), tok("approver"), id, "decisions",
                  R"({"outcome":"approve","rationale":"my own"})");
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(ErrorCode(r.body), "sod_violation");
  EXPECT_NE(r.body.find("segregation of duties: t-approver requested case " + id),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("\"details\":{\"rule\":\"requester-may-not-decide\"}"), std::string::npos);
  r = CaseOp(port(), tok("approver"), id, "exceptions",
             R"({"justification":"mine","expires":"+30d","review_by":"+7d","controls":["mfa"]})");
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(ErrorCode(r.body), "sod_violation");
  EXPECT_EQ(server_->Snapshot(), before);
  EXPECT_EQ(Call(port(), "GET", "/v1/cases/{id}", "/v1/cases/" + id, tok("auditor")).body,
            case_before);
  // The opener (unless nhitrace) may not decide either, even as admin.
  std::string own = OpenCase(port(), tok("admin"), R"({"title":"Opened by the admin"})");
  before = server_->Snapshot();
  r = CaseOp(port(), tok("admin"), own, "decisions", R"({"outcome":"deny","rationale":"x"})");
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(ErrorCode(r.body), "sod_violation");
  EXPECT_EQ(server_->Snapshot(), before);

  // An override of an automated deny (a denial by a system actor in the ledger) needs a control
  // owner who is not the overrider, who alone accepts the risk, as a separate request.
  std::string denial =
      R"({"v":1,"kind":"denial","source":{"system":"apitest","event_id":"deny-sod-1"},)"
      R"("time":"2026-03-02T10:00:00Z","correlation_key":"REQ-SOD","identity":"k8s:sa:ns/app",)"
      R"("actor":{"id":"opa","type":"system"}})"
      "\n";
  auto ing = Call(port(), "POST", "/v1/ingest", "/v1/ingest", tok("ingest"), denial);
  ASSERT_EQ(ing.status, 200) << ing.body;
  ASSERT_EQ(Field(ing.body, "accepted"), "1");
  std::string denial_seq = std::to_string(std::stoull(Field(ing.body, "tree_size")) - 1);
  std::string ov = OpenCase(port(), tok("investigator"),
                            R"({"kind":"exception","title":"Override the OPA deny",)"
                            R"("requester":"dev@example.com"})");
  before = server_->Snapshot();
  r = CaseOp(port(), tok("approver"), ov, "decisions",
             R"({"outcome":"override","rationale":"needed","overrides_event":)" + denial_seq +
                 R"(,"control_owner":"t-approver"})");
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_NE(r.body.find("\"rule\":\"control-owner-is-not-the-overrider\""), std::string::npos)
      << r.body;
  r = CaseOp(port(), tok("approver"), ov, "decisions",
             R"({"outcome":"override","rationale":"needed","overrides_event":)" + denial_seq + "}");
  EXPECT_EQ(r.status, 409) << r.body;  // no control owner named
  EXPECT_EQ(server_->Snapshot(), before);
  r = CaseOp(port(), tok("approver"), ov, "decisions",
             R"({"outcome":"override","rationale":"needed","overrides_event":)" + denial_seq +
                 R"(,"control_owner":"t-control_owner"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("pending_risk_acceptance"), std::string::npos) << r.body;
  // Another control owner, and the admin, may not accept it.
  std::string other = server_->CreateToken("co-other", "control_owner");
  before = server_->Snapshot();
  r = CaseOp(port(), other, ov, "risk-acceptances", R"({"decision":1,"rationale":"fine"})");
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(ErrorCode(r.body), "sod_violation");
  EXPECT_NE(r.body.find("\"rule\":\"only-the-named-control-owner-accepts\""), std::string::npos);
  r = CaseOp(port(), tok("admin"), ov, "risk-acceptances", R"({"decision":1,"rationale":"fine"})");
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(ErrorCode(r.body), "forbidden");
  EXPECT_EQ(server_->Snapshot(), before);
  r = CaseOp(port(), tok("control_owner"), ov, "risk-acceptances",
             R"({"decision":1,"rationale":"compensated by monitoring","until":"+30d"})");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Field(r.body, "actor"), "t-control_owner");
  auto shown = Call(port(), "GET", "/v1/cases/{id}", "/v1/cases/" + ov, tok("auditor"));
  EXPECT_NE(shown.body.find("\"effective\""), std::string::npos) << shown.body;
}

// Every segregation-of-duties rule of docs/cases.md section 3 comes back under its own name in
// details.rule: the session reports the rule as data (cases::SodViolation), not as text to match.
// Its own server, because the policy it publishes (control owner roles) would change the cases of
// the shared one.
TEST(ApiSodRules, EachRuleIsNamedInItsOwnResponse) {
  ServeProcess server({"--rate-limit", "0"}, [](const std::string& store) {
    TempDir dir;
    std::string policy = dir.File("policy.yaml");
    std::ofstream(policy) << "nhitrace_policy: 1\nid: sod-rules\napprovals:\n  roles:\n"
                             "    risk: [t-control_owner, co-two]\n  override:\n"
                             "    requires_control_owner: true\n    control_owner_roles: [risk]\n";
    auto r = RunNhitrace(store, {"policy", "publish", policy, "--by", "setup"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  });
  int port = server.port();
  std::string co_two = server.CreateToken("co-two", "control_owner");
  struct Row {
    std::string rule;
    std::string requester;      // of the case (opened by the investigator)
    std::string control_owner;  // "": the approver approves; else the approver denies, then
                                // overrides its deny naming this control owner
    std::string accept_as;      // a token that then accepts the override's risk ("": none)
  };
  const std::vector<Row> rows = {
      {"requester-may-not-decide", "t-approver", "", ""},
      {"control-owner-is-not-the-overrider", "dev@example.com", "t-approver", ""},
      {"control-owner-is-not-a-requester", "co-two", "co-two", ""},
      {"control-owner-role", "dev@example.com", "not-an-owner@example.com", ""},
      {"only-the-named-control-owner-accepts", "dev@example.com", "t-control_owner", co_two},
  };
  std::set<std::string> seen;
  for (const Row& row : rows) {
    SCOPED_TRACE(row.rule);
    std::string id = OpenCase(port, server.token("investigator"),
                              JsonObject({{"kind", "exception"},
                                          {"title", "SoD rule " + row.rule},
                                          {"requester", row.requester}}));
    Reply r;
    std::string before;
    if (row.control_owner.empty()) {
      before = server.Snapshot();
      r = CaseOp(port, server.token("approver"), id, "decisions",
                 R"({"outcome":"approve","rationale":"looks right"})");
    } else {
      auto deny = CaseOp(port, server.token("approver"), id, "decisions",
                         R"({"outcome":"deny","rationale":"no owner on record"})");
      ASSERT_EQ(deny.status, 200) << deny.body;
      std::string override_body =
          R"({"outcome":"override","rationale":"owner found","overrides_decision":1,)"
          R"("control_owner":")" +
          row.control_owner + "\"}";
      if (row.accept_as.empty()) {
        before = server.Snapshot();
        r = CaseOp(port, server.token("approver"), id, "decisions", override_body);
      } else {
        auto ov = CaseOp(port, server.token("approver"), id, "decisions", override_body);
        ASSERT_EQ(ov.status, 200) << ov.body;
        before = server.Snapshot();
        r = CaseOp(port, row.accept_as, id, "risk-acceptances",
                   R"({"decision":2,"rationale":"accepted"})");
      }
    }
    EXPECT_EQ(r.status, 403) << r.body;
    EXPECT_EQ(ErrorCode(r.body), "sod_violation");
    EXPECT_NE(r.body.find("\"details\":{\"rule\":\"" + row.rule + "\"}"), std::string::npos)
        << r.body;
    EXPECT_EQ(server.Snapshot(), before);  // a refusal writes nothing
    seen.insert(Field(r.body, "rule"));
  }
  EXPECT_EQ(seen.size(), rows.size());  // five rules, five names
  // The named control owner, a member of the policy's role, may accept (so the refusal above was
  // about who accepted, not about the override).
  std::string last = OpenCase(port, server.token("investigator"),
                              R"({"kind":"exception","title":"accepted","requester":"dev@x"})");
  ASSERT_EQ(CaseOp(port, server.token("approver"), last, "decisions",
                   R"({"outcome":"deny","rationale":"no"})")
                .status,
            200);
  ASSERT_EQ(CaseOp(port, server.token("approver"), last, "decisions",
                   R"({"outcome":"override","rationale":"ok","overrides_decision":1,)"
                   R"("control_owner":"t-control_owner"})")
                .status,
            200);
  auto ok = CaseOp(port, server.token("control_owner"), last, "risk-acceptances",
                   R"({"decision":2,"rationale":"accepted"})");
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(server.Stop(), 0);
}

TEST_F(ApiServerTest, HostileInputOnCaseRoutesGetsClean4xxAndWritesNothing) {
  std::string id = OpenCase(port(), tok("investigator"), R"({"title":"Hostile target"})");
  std::string before = server_->Snapshot();
  const std::vector<std::string> sql = {"' OR '1'='1", "\"; DROP TABLE cases; --",
                                        "1; DELETE FROM case_events",
                                        "x' UNION SELECT * FROM "
                                        "api_tokens --"};
  for (const auto& s : sql) {
    for (const auto& [route, target] : std::vector<std::pair<std::string, std::string>>{
             {"/v1/cases/{id}", "/v1/cases/" + PercentEncode(s)},
             {"/v1/cases/{id}/explain", "/v1/cases/" + PercentEncode(s) + "/explain"},
             {"/v1/findings/{id}", "/v1/findings/" + PercentEncode(s)},
             {"/v1/policies/{version}", "/v1/policies/" + PercentEncode(s)},
             {"/v1/cases", "/v1/cases?state=" + PercentEncode(s)},
             {"/v1/cases", "/v1/cases?kind=" + PercentEncode(s)},
             {"/v1/cases", "/v1/cases?severity=" + PercentEncode(s)},
             {"/v1/findings", "/v1/findings?rule=" + PercentEncode(s)},
             {"/v1/findings", "/v1/findings?severity=" + PercentEncode(s)}}) {
      auto r = Call(port(), "GET", route, target, tok("admin"));
      EXPECT_TRUE(r.status == 400 || r.status == 404) << target << " " << r.status << r.body;
    }
    auto owner =
        Call(port(), "GET", "/v1/cases", "/v1/cases?owner=" + PercentEncode(s), tok("admin"));
    EXPECT_EQ(owner.status, 200);
    EXPECT_NE(owner.body.find("\"cases\":[]"), std::string::npos) << owner.body;
    // SQL metacharacters in every string field of an operation on a case that does not exist,
    // and in enumerated fields of a case that does.
    for (const auto& [op, body] : std::vector<std::pair<std::string, std::string>>{
             {"comments", JsonObject({{"text", s}})},
             {"assign", JsonObject({{"to", s}, {"reason", s}})},
             {"escalate", JsonObject({{"to", s}, {"reason", s}})},
             {"links", ""}}) {
      std::string b = body;
      if (op == "links") {
        json::JsonWriter w;
        w.BeginObject().Key("tickets").BeginArray().String(s).EndArray().EndObject();
        b = w.Take();
      }
      auto r = CaseOp(port(), tok("admin"), "999999", op, b);
      EXPECT_TRUE(r.status == 400 || r.status == 404) << op << " " << r.status << r.body;
    }
    EXPECT_EQ(CaseOp(port(), tok("admin"), id, "transition", JsonObject({{"to", s}, {"reason", s}}))
                  .status,
              400);
    EXPECT_EQ(CaseOp(port(), tok("admin"), id, "decisions",
                     JsonObject({{"outcome", s}, {"rationale", s}}))
                  .status,
              400);
    EXPECT_EQ(
        CaseOp(port(), tok("admin"), id, "close", JsonObject({{"resolution", s}, {"reason", s}}))
            .status,
        400);
    EXPECT_EQ(CaseOp(port(), tok("admin"), id, "tasks", JsonObject({{"action", s}})).status, 400);
    EXPECT_EQ(Call(port(), "POST", "/v1/cases", "/v1/cases", tok("admin"),
                   JsonObject({{"title", s}, {"kind", s}}))
                  .status,
              400);
  }
  // Path traversal and malformed ids.
  for (const auto& [target, status] :
       std::vector<std::pair<std::string, int>>{{"/v1/cases/..%2F..%2Fetc%2Fpasswd/comments", 400},
                                                {"/v1/cases/%2E%2E/comments", 400},
                                                {"/v1/cases/../tokens/comments", 400},
                                                {"/v1/cases/-1/comments", 400},
                                                {"/v1/cases/1e3/comments", 400},
                                                {"/v1/cases/18446744073709551616/comments", 400},
                                                {"/v1/cases/%00/comments", 400}}) {
    auto r =
        Call(port(), "POST", "/v1/cases/{id}/comments", target, tok("admin"), R"({"text":"x"})");
    EXPECT_EQ(r.status, status) << target << " " << r.body;
    EXPECT_EQ(r.body.rfind("{\"error\":{\"code\":", 0), 0u) << target;
  }
  // Wrong types, unknown and repeated fields, bad JSON, invalid UTF-8, oversized inline bytes.
  for (const auto& [op, body] : std::vector<std::pair<std::string, std::string>>{
           {"comments", R"({"text":5})"},
           {"comments", R"({"text":["a"]})"},
           {"comments", R"({"text":"a","actor":"someone-else"})"},
           {"comments", R"({"text":"a","text":"b"})"},
           {"comments", "{\"text\":\"\xff\"}"},
           {"comments", "{"},
           {"comments", "[]"},
           {"comments", ""},
           {"tasks", R"({"action":"done","task":"1"})"},
           {"tasks", R"({"action":"done","task":-1})"},
           {"links", R"({"events":[-1]})"},
           {"links", R"({"events":["1"]})"},
           {"links", R"({"identities":"k8s:sa:x"})"},
           {"links", R"({"events":[99999999]})"},
           {"decisions", R"({"outcome":"approve","rationale":"x","signal_events":[1.5]})"},
           {"decisions", R"({"outcome":"override","rationale":"x","overrides_decision":0})"},
           {"exceptions",
            R"({"justification":"x","expires":"tomorrow","review_by":"+1d","controls":["a"]})"},
           {"attachments", R"({"name":"a","content_base64":"!!!"})"},
           {"transition", R"({"to":"closed","reason":"x"})"}}) {
    auto r = CaseOp(port(), tok("admin"), id, op, body);
    EXPECT_TRUE(r.status == 400 || r.status == 409)
        << op << " " << body << " -> " << r.status << r.body;
  }
  EXPECT_EQ(server_->Snapshot(), before);
}

TEST_F(ApiServerTest, ZZResponsesMatchTheOpenApiDocument) {
  ASSERT_NE(g_record, nullptr);
  TempDir dir;
  std::string path = dir.File("responses.jsonl");
  {
    std::lock_guard lock(g_record_mu);
    std::ofstream(path) << *g_record;
    EXPECT_GT(g_record->size(), 10000u);
  }
  auto r = testing::RunProcess({"/usr/bin/python3",
                                std::string(NHITRACE_SOURCE_DIR) + "/tests/api/check_openapi.py",
                                std::string(NHITRACE_SOURCE_DIR) + "/docs/api/openapi.yaml", path});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

TEST(ApiLimitsTest, PerTokenRateLimitGives429WithRetryAfter) {
  ServeProcess s({"--rate-limit", "0.5", "--rate-burst", "3"});
  int ok = 0, limited = 0;
  Reply last;
  for (int i = 0; i < 6; ++i) {
    auto r = Call(s.port(), "GET", "/v1/events", "/v1/events", s.token("auditor"));
    if (r.status == 200) ++ok;
    if (r.status == 429) {
      ++limited;
      last = r;
    }
  }
  EXPECT_EQ(ok, 3);
  EXPECT_EQ(limited, 3);
  EXPECT_EQ(ErrorCode(last.body), "rate_limited");
  EXPECT_EQ(last.headers.count("Retry-After"), 1u);
  // Another token has its own bucket.
  EXPECT_EQ(Call(s.port(), "GET", "/v1/events", "/v1/events", s.token("admin")).status, 200);
  EXPECT_EQ(s.Stop(), 0);
}

TEST(ApiLimitsTest, SilentClientIsDisconnectedAfterTheReadTimeout) {
  ServeProcess s({"--read-timeout", "1"});
  // Half a request line, then nothing: the server must hang up by itself (RawExchange gives up
  // after 10 s, which would leave `out` empty and the connection open).
  auto start = std::chrono::steady_clock::now();
  std::string out = RawExchange(s.port(), "GET /v1/hea", 10);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(secs, 8.0) << out;
  EXPECT_EQ(Call(s.port(), "GET", "/v1/health", "/v1/health", "").status, 200);
  EXPECT_EQ(s.Stop(), 0);
}

TEST(ApiTlsTest, ServesHttpsWithTheGivenCertificate) {
  TempDir dir;
  auto gen = testing::RunProcess({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                                  "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj",
                                  "/CN=127.0.0.1", "-keyout", dir.File("key.pem"), "-out",
                                  dir.File("cert.pem")});
  if (gen.exit_code != 0) GTEST_SKIP() << "no openssl command: " << gen.err;
  ServeProcess s({"--tls-cert", dir.File("cert.pem"), "--tls-key", dir.File("key.pem")});
  httplib::SSLClient c("127.0.0.1", s.port());
  c.set_ca_cert_path(dir.File("cert.pem").c_str());
  c.enable_server_certificate_verification(false);
  auto r = c.Get("/v1/health");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200);
  // Plain HTTP to the TLS port is not served.
  EXPECT_EQ(Call(s.port(), "GET", "/v1/health", "/v1/health", "").status, 0);
  EXPECT_EQ(s.Stop(), 0);
}

// SIGTERM in the middle of ingest load: every batch the server acknowledged is stored after a
// restart, and the ledger verifies.
TEST(ApiShutdownTest, SigtermMidLoadLosesNothingAcknowledged) {
  auto s = std::make_unique<ServeProcess>(std::vector<std::string>{"--rate-limit", "0"});
  const int kClients = 4, kLines = 300;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> acked;
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      for (int b = 0; !stop; ++b) {
        std::string key = "load-" + std::to_string(c) + "-" + std::to_string(b);
        std::string body;
        for (int i = 0; i < kLines; ++i) body += Event(key + "-" + std::to_string(i), key);
        httplib::Client cl("127.0.0.1", s->port());
        cl.set_read_timeout(60, 0);
        auto r = cl.Post("/v1/ingest", {{"Authorization", "Bearer " + s->token("ingest")}}, body,
                         "application/x-ndjson");
        if (!r) break;  // the server is gone
        if (r->status != 200) continue;
        std::lock_guard lock(mu);
        EXPECT_NE(r->body.find("\"accepted\":" + std::to_string(kLines)), std::string::npos)
            << r->body;
        acked.push_back(key);
        cv.notify_all();
      }
    });
  }
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return acked.size() >= 6; });
  }
  s->child().Kill(SIGTERM);
  int code = s->child().Wait();
  stop = true;
  for (auto& t : clients) t.join();
  EXPECT_EQ(code, 0);
  std::string store = s->store();
  auto v = RunNhitrace(store, {"verify"});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  auto all = RunNhitrace(store, {"events", "--json", "--limit", "10000000"});
  ASSERT_EQ(all.exit_code, 0);
  for (const auto& key : acked) {
    size_t n = 0;
    for (size_t p = 0;
         (p = all.out.find("\"correlation_key\":\"" + key + "\"", p)) != std::string::npos; ++p) {
      ++n;
    }
    EXPECT_EQ(n, static_cast<size_t>(kLines)) << key;
  }
  EXPECT_GE(acked.size(), 6u);
  // The store serves again after the restart.
  auto audit = RunNhitrace(store, {"verify", "--json"});
  EXPECT_NE(audit.out.find("\"ok\":true"), std::string::npos);
}

}  // namespace
}  // namespace nhitrace::api
