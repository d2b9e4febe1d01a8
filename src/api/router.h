// Routes, the router, and what a route handler gets (RequestContext).
//
// A route is a method, a path pattern ("/v1/events/{seq}": literal segments and {name}
// parameters, each matching one decoded segment), the roles allowed to call it, the query
// parameters it accepts (any other is 400), whether it takes a body, and its handler. The server
// does everything before the handler: parsing the target, 404/405, authentication, the role
// check (403), the rate limit (429) and the query check, so a handler only sees authorised,
// well-formed requests. Route groups add their routes in their own file (route_groups.h).
//
//   router.Add(Route::Make(Method::kGet, "/v1/events/{seq}", kReadRoles,
//                          [](RequestContext& rc) -> ApiResponse {
//                            NHI_ASSIGN_OR_RETURN(uint64_t seq, rc.PathUint("seq"));
//                            ...
//                          })
//                  .Summary("One event"));
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/readers.h"
#include "api/response.h"
#include "api/roles.h"
#include "api/target.h"
#include "api/writer.h"
#include "base/status.h"
#include "base/time.h"
#include "cases/projection.h"
#include "reconcile/engine.h"

namespace nhitrace::api {

enum class Method { kGet, kPost, kPut, kPatch, kDelete };
std::string_view MethodName(Method m);
// "GET" (and "HEAD", which is served as GET), "POST", "PUT", "PATCH", "DELETE".
std::optional<Method> ParseMethod(std::string_view name);

// The server's limits (serve's flags; docs/api/README.md).
struct Limits {
  size_t max_body_bytes = size_t{16} << 20;            // any request body
  size_t max_json_body_bytes = size_t{1} << 20;        // JSON bodies (routes with json_body)
  size_t max_batch_lines = 10000;                      // lines of one ingest request
  size_t max_line_bytes = size_t{1} << 20;             // one ingest line (longer: quarantined)
  size_t max_header_bytes = 16384;                     // all request headers together
  int64_t body_timeout_ns = int64_t{60} * 1000000000;  // to receive a whole body
  size_t max_query_limit = 10000;                      // largest ?limit= of a listing
};

class RequestContext;
using Handler = std::function<ApiResponse(RequestContext&)>;

struct Route {
  // A route for `roles` (no fields left to chance: build with these and the setters below).
  static Route Make(Method method, std::string pattern, RoleSet roles, Handler handler) {
    Route r;
    r.method = method;
    r.pattern = std::move(pattern);
    r.roles = roles;
    r.handler = std::move(handler);
    return r;
  }
  // A route that needs no token.
  static Route Public(Method method, std::string pattern, Handler handler) {
    Route r = Make(method, std::move(pattern), RoleSet(), std::move(handler));
    r.is_public = true;
    return r;
  }
  Route& Query(std::vector<std::string> names) {
    query = std::move(names);
    return *this;
  }
  Route& Body() {
    has_body = true;
    return *this;
  }
  Route& JsonBody() {
    has_body = json_body = true;
    return *this;
  }
  Route& Writes() {
    writes = true;
    return *this;
  }
  Route& Summary(std::string text) {
    summary = std::move(text);
    return *this;
  }

  Method method = Method::kGet;
  std::string pattern;
  bool is_public = false;          // no token needed (health and readiness only)
  RoleSet roles;                   // who may call it; ignored when public
  std::vector<std::string> query;  // accepted query parameters
  bool has_body = false;           // takes a request body
  bool json_body = false;          // the body is JSON (limit max_json_body_bytes)
  bool writes = false;             // changes state
  std::string summary;
  Handler handler;
};

class Router {
 public:
  // kInvalidArgument for a malformed pattern; kAlreadyExists for a method and pattern that is
  // already routed, or a pattern that overlaps one (same shape, different parameter names).
  Status Add(Route route);

  struct Found {
    const Route* route = nullptr;  // null: no route for this method
    std::vector<std::pair<std::string, std::string>> params;
    std::vector<Method> allowed;  // methods routed for this path (for 405's Allow)
  };
  // Literal segments take precedence over parameters at each position.
  Found Find(Method method, const std::vector<std::string>& segments) const;

  const std::vector<std::unique_ptr<Route>>& routes() const { return routes_; }

 private:
  struct Compiled {
    std::vector<std::string> parts;  // literal, or "{name}"
    Route* route;
  };
  std::vector<std::unique_ptr<Route>> routes_;
  std::vector<Compiled> compiled_;
};

// What routes use: the store readers, the writer, the clock and the limits. Owned by the server.
struct Services {
  ReaderPool& readers;
  Writer& writer;
  const Clock& clock;
  const Limits& limits;
  const std::atomic<bool>& serving;  // false once shutdown has begun
  // The case projection observing the writer's ledger (case routes fold through it on the
  // writer thread); null: the case write routes answer 503.
  cases::CaseProjection* case_projection = nullptr;
  // The reconciliation engine observing the writer's ledger: ingest runs its incremental pass
  // after each batch, on the writer thread, as `nhitrace ingest` does (null: no reconciliation;
  // findings then wait for the next `nhitrace reconcile`).
  reconcile::Engine* reconciler = nullptr;
};

// Reads the request body in pieces, enforcing the route's size and time limits. Implemented by
// the server over its HTTP library.
class BodySource {
 public:
  virtual ~BodySource() = default;
  // Calls `sink` with consecutive pieces until the body ends. Fails with kResourceExhausted past
  // the size limit (the server answers 413), kAborted when the client sends too slowly or goes
  // away (408), or with the sink's error.
  virtual Status Read(const std::function<Status(std::string_view)>& sink) = 0;
};

class RequestContext {
 public:
  RequestContext(const Route& route, const ParsedTarget& target,
                 std::vector<std::pair<std::string, std::string>> params,
                 std::optional<Actor> actor, std::string request_id, Services& services,
                 BodySource* body);

  const Route& route() const { return route_; }
  const std::string& request_id() const { return request_id_; }
  // REQUIRES: the route is not public.
  const Actor& actor() const { return *actor_; }
  bool authenticated() const { return actor_.has_value(); }

  // The decoded path parameter `name` of the pattern. REQUIRES: the pattern has it.
  const std::string& Path(std::string_view name) const;
  // The parameter as a decimal integer (no sign, no leading zeros but "0"); 400 otherwise.
  Result<uint64_t> PathUint(std::string_view name) const;
  // The query parameter `name`, or nullptr.
  const std::string* Query(std::string_view name) const { return target_.Param(name); }
  Result<std::optional<uint64_t>> QueryUint(std::string_view name) const;
  // An RFC 3339 time, as Unix nanoseconds.
  Result<std::optional<int64_t>> QueryTime(std::string_view name) const;
  // ?limit=, default `def`, at most Limits::max_query_limit.
  Result<size_t> QueryLimit(size_t def) const;

  // The whole body (a route with has_body only; at most the route's limit).
  Result<std::string> ReadBody();
  // The body in pieces (for bodies that need not be held in memory).
  Status StreamBody(const std::function<Status(std::string_view)>& sink);

  // A read-only store for this request (leased on first use, returned after the response).
  Result<store::Store*> Store();
  // The lease's ledger, up to date with the latest checkpoint (for proofs).
  Result<ledger::Ledger*> Ledger();

  Writer& writer() { return services_.writer; }
  reconcile::Engine* reconciler() { return services_.reconciler; }
  const Clock& clock() const { return services_.clock; }
  const Limits& limits() const { return services_.limits; }

  // A WriteJob attributed to this request's actor (REQUIRES: authenticated()).
  WriteJob Job(std::string action, std::function<Status(ledger::Ledger&)> run) const;

 private:
  const Route& route_;
  const ParsedTarget& target_;
  std::vector<std::pair<std::string, std::string>> params_;
  std::optional<Actor> actor_;
  std::string request_id_;
  Services& services_;
  BodySource* body_;
  bool body_read_ = false;
  std::optional<ReaderPool::Lease> lease_;
};

// Parses a decimal integer without sign or leading zeros (other than "0") that fits 64 bits.
std::optional<uint64_t> ParseDecimal(std::string_view s);

}  // namespace nhitrace::api
