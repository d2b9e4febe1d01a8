#include "api/router.h"

namespace nhitrace::api {

std::string_view MethodName(Method m) {
  switch (m) {
    case Method::kGet:
      return "GET";
    case Method::kPost:
      return "POST";
    case Method::kPut:
      return "PUT";
    case Method::kPatch:
      return "PATCH";
    case Method::kDelete:
      return "DELETE";
  }
  return "?";
}

std::optional<Method> ParseMethod(std::string_view name) {
  if (name == "GET" || name == "HEAD") return Method::kGet;
  if (name == "POST") return Method::kPost;
  if (name == "PUT") return Method::kPut;
  if (name == "PATCH") return Method::kPatch;
  if (name == "DELETE") return Method::kDelete;
  return std::nullopt;
}

std::optional<uint64_t> ParseDecimal(std::string_view s) {
  if (s.empty() || s.size() > 20 || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

namespace {

bool IsParam(std::string_view part) {
  return part.size() > 2 && part.front() == '{' && part.back() == '}';
}

}  // namespace

Status Router::Add(Route route) {
  if (route.pattern.empty() || route.pattern[0] != '/') {
    return InvalidArgumentError("route pattern must start with '/': " + route.pattern);
  }
  if (!route.handler) return InvalidArgumentError("route has no handler: " + route.pattern);
  if (!route.is_public && route.roles.empty()) {
    return InvalidArgumentError("route allows no role and is not public: " + route.pattern);
  }
  Compiled c;
  std::string_view p = std::string_view(route.pattern).substr(1);
  for (;;) {
    size_t slash = p.find('/');
    std::string part(p.substr(0, slash));
    if (part.empty() || (part.find_first_of("{}") != std::string::npos && !IsParam(part))) {
      return InvalidArgumentError("malformed route pattern: " + route.pattern);
    }
    c.parts.push_back(std::move(part));
    if (slash == std::string_view::npos) break;
    p.remove_prefix(slash + 1);
  }
  for (const Compiled& o : compiled_) {
    if (o.route->method != route.method || o.parts.size() != c.parts.size()) continue;
    bool same = true;
    for (size_t i = 0; i < c.parts.size() && same; ++i) {
      same = IsParam(c.parts[i]) ? IsParam(o.parts[i]) : c.parts[i] == o.parts[i];
    }
    if (same) {
      return AlreadyExistsError(std::string(MethodName(route.method)) + " " + route.pattern +
                                " is already routed (as " + o.route->pattern + ")");
    }
  }
  routes_.push_back(std::make_unique<Route>(std::move(route)));
  c.route = routes_.back().get();
  compiled_.push_back(std::move(c));
  return OkStatus();
}

Router::Found Router::Find(Method method, const std::vector<std::string>& segments) const {
  Found out;
  // Score: at the first position where two matching patterns differ, a literal beats a
  // parameter. Comparing the literal/parameter masks lexicographically gives exactly that.
  std::vector<bool> best_mask;
  for (const Compiled& c : compiled_) {
    if (c.parts.size() != segments.size()) continue;
    bool match = true;
    std::vector<bool> mask(c.parts.size());
    for (size_t i = 0; i < c.parts.size() && match; ++i) {
      if (IsParam(c.parts[i])) {
        match = !segments[i].empty();
      } else {
        match = c.parts[i] == segments[i];
        mask[i] = true;
      }
    }
    if (!match) continue;
    bool known = false;
    for (Method m : out.allowed) known = known || m == c.route->method;
    if (!known) out.allowed.push_back(c.route->method);
    if (c.route->method != method) continue;
    if (out.route != nullptr && !(mask > best_mask)) continue;
    out.route = c.route;
    best_mask = mask;
    out.params.clear();
    for (size_t i = 0; i < c.parts.size(); ++i) {
      if (IsParam(c.parts[i])) {
        out.params.emplace_back(c.parts[i].substr(1, c.parts[i].size() - 2), segments[i]);
      }
    }
  }
  return out;
}

RequestContext::RequestContext(const Route& route, const ParsedTarget& target,
                               std::vector<std::pair<std::string, std::string>> params,
                               std::optional<Actor> actor, std::string request_id,
                               Services& services, BodySource* body)
    : route_(route),
      target_(target),
      params_(std::move(params)),
      actor_(std::move(actor)),
      request_id_(std::move(request_id)),
      services_(services),
      body_(body) {}

const std::string& RequestContext::Path(std::string_view name) const {
  for (const auto& [k, v] : params_) {
    if (k == name) return v;
  }
  static const std::string kEmpty;
  return kEmpty;
}

Result<uint64_t> RequestContext::PathUint(std::string_view name) const {
  auto v = ParseDecimal(Path(name));
  if (!v) {
    return InvalidArgumentError("path parameter " + std::string(name) +
                                ": must be a non-negative decimal integer");
  }
  return *v;
}

Result<std::optional<uint64_t>> RequestContext::QueryUint(std::string_view name) const {
  const std::string* s = Query(name);
  if (s == nullptr) return std::optional<uint64_t>();
  auto v = ParseDecimal(*s);
  if (!v) {
    return InvalidArgumentError("query parameter " + std::string(name) +
                                ": must be a non-negative decimal integer");
  }
  return std::optional<uint64_t>(*v);
}

Result<std::optional<int64_t>> RequestContext::QueryTime(std::string_view name) const {
  const std::string* s = Query(name);
  if (s == nullptr) return std::optional<int64_t>();
  auto t = ParseRfc3339(*s);
  if (!t.ok()) {
    return InvalidArgumentError("query parameter " + std::string(name) + ": " +
                                t.status().message());
  }
  return std::optional<int64_t>(t->unix_nanos);
}

Result<size_t> RequestContext::QueryLimit(size_t def) const {
  NHI_ASSIGN_OR_RETURN(auto v, QueryUint("limit"));
  if (!v) return def;
  if (*v == 0 || *v > limits().max_query_limit) {
    return InvalidArgumentError("query parameter limit: must be 1 to " +
                                std::to_string(limits().max_query_limit));
  }
  return static_cast<size_t>(*v);
}

Status RequestContext::StreamBody(const std::function<Status(std::string_view)>& sink) {
  if (body_ == nullptr || !route_.has_body) return OkStatus();
  if (body_read_) return InternalError("the request body was already read");
  body_read_ = true;
  return body_->Read(sink);
}

Result<std::string> RequestContext::ReadBody() {
  std::string body;
  NHI_RETURN_IF_ERROR(StreamBody([&](std::string_view piece) {
    body.append(piece);
    return OkStatus();
  }));
  return body;
}

Result<store::Store*> RequestContext::Store() {
  if (!lease_) {
    NHI_ASSIGN_OR_RETURN(auto lease, services_.readers.Acquire());
    lease_.emplace(std::move(lease));
  }
  return &lease_->store();
}

Result<ledger::Ledger*> RequestContext::Ledger() {
  NHI_RETURN_IF_ERROR(Store().status());
  return lease_->FreshLedger();
}

WriteJob RequestContext::Job(std::string action, std::function<Status(ledger::Ledger&)> run) const {
  return WriteJob{*actor_, request_id_, std::move(action), std::move(run)};
}

}  // namespace nhitrace::api
