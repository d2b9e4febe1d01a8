#include "api/server.h"

#include <atomic>
#include <cstdio>
#include <exception>

#include <httplib.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include "api/auth.h"
#include "api/rate_limiter.h"
#include "api/route_groups.h"
#include "base/encoding.h"
#include "crypto/random.h"
#include "json/writer.h"

namespace nhitrace::api {
namespace {

// httplib listens with a backlog of 5 (compiled into Debian's library); 64 connections opened
// at once would see SYN retries. listen() again on the bound socket raises it (Linux).
template <class Base>
class ListeningServer : public Base {
 public:
  using Base::Base;
  void RaiseBacklog(int backlog) {
    int fd = this->svr_sock_;
    if (fd >= 0) ::listen(fd, backlog);
  }
  // Makes a listener that has not started accepting yet return at once when it does (stop()
  // only acts on a running one).
  void ShutdownListener() {
    int fd = this->svr_sock_;
    if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
  }
};

// What the access log line needs, set by the request thread while it handles a request (the
// logger runs on the same thread after the response is written).
struct LogInfo {
  std::string request_id;
  std::string actor;  // token name
  std::string route;  // the matched pattern
};
thread_local LogInfo tl_log;

// A printable, bounded rendering of client-supplied text for the log.
std::string ForLog(std::string_view s, size_t max = 120) {
  std::string out;
  for (size_t i = 0; i < s.size() && out.size() < max; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x21 || c >= 0x7F || c == '"' || c == '\\') {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > max) out += "...";
  return out;
}

class HttplibBody final : public BodySource {
 public:
  HttplibBody(const httplib::Request& req, const httplib::ContentReader* reader, size_t limit,
              int64_t deadline_ns, const Clock& clock)
      : req_(req), reader_(reader), limit_(limit), deadline_ns_(deadline_ns), clock_(clock) {}

  Status Read(const std::function<Status(std::string_view)>& sink) override {
    if (reader_ == nullptr) {  // the library already read it (a body on a bodiless method)
      if (req_.body.size() > limit_) return TooLarge();
      return req_.body.empty() ? OkStatus() : sink(req_.body);
    }
    Status inner;
    size_t total = 0;
    bool ok = (*reader_)([&](const char* data, size_t n) {
      total += n;
      if (total > limit_) {
        inner = TooLarge();
        return false;
      }
      if (clock_.NowUnixNanos() > deadline_ns_) {
        timed_out_ = true;
        inner = AbortedError("the request body was not received in time");
        return false;
      }
      inner = sink(std::string_view(data, n));
      return inner.ok();
    });
    if (!inner.ok()) return inner;
    if (!ok) {
      timed_out_ = true;
      return AbortedError("the request body could not be read (client too slow or gone)");
    }
    return OkStatus();
  }

  bool timed_out() const { return timed_out_; }

 private:
  Status TooLarge() const {
    return ResourceExhaustedError("request body is larger than the limit of " +
                                  std::to_string(limit_) + " bytes");
  }
  const httplib::Request& req_;
  const httplib::ContentReader* reader_;
  size_t limit_;
  int64_t deadline_ns_;
  const Clock& clock_;
  bool timed_out_ = false;
};

std::string JsonStringArray(const std::vector<std::string_view>& items) {
  json::JsonWriter w;
  w.BeginArray();
  for (auto s : items) w.String(s);
  w.EndArray();
  return w.Take();
}

}  // namespace

class Server::Impl {
 public:
  Impl(const ServerOptions& options, std::string store_path,
       std::unique_ptr<ledger::Ledger> writer_ledger, const Clock& clock)
      : options_(options),
        clock_(clock),
        readers_(std::move(store_path), clock, static_cast<size_t>(options.max_readers)),
        writer_(std::move(writer_ledger), clock, options.max_write_queue_bytes),
        services_{readers_, writer_, clock_, options_.limits, serving_, nullptr},
        token_limiter_(clock, options.rate_per_second, options.rate_burst),
        auth_limiter_(clock, options.auth_failures_per_second, options.auth_failure_burst) {}

  void set_case_projection(cases::CaseProjection* p) { services_.case_projection = p; }
  void set_reconciler(reconcile::Engine* e) { services_.reconciler = e; }

  Status Init() {
    NHI_RETURN_IF_ERROR(readers_.Warm());
    NHI_RETURN_IF_ERROR(AddAllRoutes(router_, services_));
    NHI_ASSIGN_OR_RETURN(std::string prefix, crypto::RandomBytes(4));
    request_prefix_ = HexEncode(prefix);
    if (!options_.tls_cert.empty() || !options_.tls_key.empty()) {
      if (options_.tls_cert.empty() || options_.tls_key.empty()) {
        return InvalidArgumentError("--tls-cert and --tls-key go together");
      }
      auto tls = std::make_unique<ListeningServer<httplib::SSLServer>>(options_.tls_cert.c_str(),
                                                                       options_.tls_key.c_str());
      if (!tls->is_valid()) {
        return InvalidArgumentError("cannot load the TLS certificate " + options_.tls_cert +
                                    " or key " + options_.tls_key);
      }
      SSL_CTX_set_min_proto_version(tls->ssl_context(), TLS1_2_VERSION);
      raise_backlog_ = [p = tls.get()](int n) { p->RaiseBacklog(n); };
      shutdown_listener_ = [p = tls.get()] { p->ShutdownListener(); };
      http_ = std::move(tls);
    } else {
      auto plain = std::make_unique<ListeningServer<httplib::Server>>();
      raise_backlog_ = [p = plain.get()](int n) { p->RaiseBacklog(n); };
      shutdown_listener_ = [p = plain.get()] { p->ShutdownListener(); };
      http_ = std::move(plain);
    }
    Configure();
    return OkStatus();
  }

  Result<int> Bind() {
    int port = options_.port;
    if (port == 0) {
      port = http_->bind_to_any_port(options_.host);
      if (port < 0) return UnavailableError("cannot listen on " + options_.host);
    } else if (!http_->bind_to_port(options_.host, port)) {
      return UnavailableError("cannot listen on " + options_.host + ":" + std::to_string(port) +
                              " (in use, or not an address of this machine)");
    }
    raise_backlog_(1024);
    return port;
  }

  Status Serve() {
    if (stopped_) {
      writer_.Stop();
      return OkStatus();
    }
    serving_ = true;
    bool ok = http_->listen_after_bind();
    serving_ = false;
    // Every request thread has finished (httplib joined them), so every ticket was waited for.
    writer_.Stop();
    if (!ok && !stopped_) return UnavailableError("the HTTP listener failed");
    return OkStatus();
  }

  void Stop() {
    stopped_ = true;
    serving_ = false;
    http_->stop();
    shutdown_listener_();
  }

 private:
  void Configure() {
    httplib::Server& s = *http_;
    int threads = options_.threads;
    s.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
    s.set_read_timeout(options_.read_timeout_s, 0);
    s.set_write_timeout(options_.write_timeout_s, 0);
    s.set_keep_alive_timeout(options_.keep_alive_timeout_s);
    s.set_keep_alive_max_count(options_.keep_alive_max_requests);
    s.set_tcp_nodelay(true);
    // A backstop: bodies are counted and limited per route by HttplibBody.
    s.set_payload_max_length(options_.limits.max_body_bytes + 1);
    auto plain = [this](const httplib::Request& req, httplib::Response& res) {
      Handle(req, res, nullptr);
    };
    auto reading = [this](const httplib::Request& req, httplib::Response& res,
                          const httplib::ContentReader& reader) { Handle(req, res, &reader); };
    s.Get(".*", plain);
    s.Post(".*", reading);
    s.Put(".*", reading);
    s.Patch(".*", reading);
    s.Delete(".*", reading);
    s.Delete(".*", plain);
    s.Options(".*", plain);
    // Errors raised by the library itself (malformed request line or header, URI too long,
    // payload over the backstop) get the same JSON envelope.
    s.set_error_handler([](const httplib::Request&, httplib::Response& res) {
      if (!res.body.empty()) return;
      std::string code = res.status == 413   ? "payload_too_large"
                         : res.status == 414 ? "uri_too_long"
                         : res.status == 404 ? "not_found"
                                             : "malformed_request";
      std::string message = res.status == 413   ? "request body too large"
                            : res.status == 414 ? "request target longer than 8192 bytes"
                            : res.status == 404
                                ? "no such route"
                                : "malformed HTTP request (request line, a header line longer than "
                                  "8192 bytes, or an unsupported method)";
      res.set_content(ErrorBody(code, message), "application/json");
    });
    s.set_exception_handler(
        [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
          std::string what = "unknown exception";
          try {
            if (ep) std::rethrow_exception(ep);
          } catch (const std::exception& e) {
            what = e.what();
          } catch (...) {
          }
          std::fprintf(stderr, "nhitrace serve: request %s: exception: %s\n",
                       tl_log.request_id.c_str(), ForLog(what, 300).c_str());
          res.status = 500;
          res.set_content(ErrorBody("internal", "internal error; see the server log"),
                          "application/json");
        });
    if (options_.access_log) {
      s.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
        std::string path = req.target.substr(0, req.target.find('?'));
        std::fprintf(stderr, "%s %s %s %s %s %s %d %zu\n",
                     FormatRfc3339Utc(clock_.NowUnixNanos(), 3).c_str(),
                     tl_log.request_id.empty() ? "-" : tl_log.request_id.c_str(),
                     ForLog(req.remote_addr, 64).c_str(),
                     tl_log.actor.empty() ? "-" : tl_log.actor.c_str(),
                     ForLog(req.method, 16).c_str(),
                     tl_log.route.empty() ? ForLog(path).c_str() : tl_log.route.c_str(), res.status,
                     res.body.size());
        tl_log = LogInfo{};
      });
    }
  }

  std::string NextRequestId() {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%s-%llx", request_prefix_.c_str(),
                  static_cast<unsigned long long>(++request_counter_));
    return buf;
  }

  void Handle(const httplib::Request& req, httplib::Response& res,
              const httplib::ContentReader* reader) {
    tl_log = LogInfo{};
    tl_log.request_id = NextRequestId();
    ApiResponse r = Dispatch(req, reader);
    if (!r.log_detail.empty()) {
      std::fprintf(stderr, "nhitrace serve: request %s: %s\n", tl_log.request_id.c_str(),
                   ForLog(r.log_detail, 1000).c_str());
    }
    res.status = r.status;
    for (auto& [k, v] : r.headers) res.set_header(k.c_str(), v);
    res.set_header("X-Request-Id", tl_log.request_id);
    res.set_header("Cache-Control", "no-store");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_content(r.body, "application/json");
  }

  ApiResponse Dispatch(const httplib::Request& req, const httplib::ContentReader* reader) {
    const Limits& limits = options_.limits;
    auto method = ParseMethod(req.method);
    if (!method) {
      return ApiResponse::Error(405, "method_not_allowed",
                                "method " + ForLog(req.method, 16) + " is not supported")
          .Header("Allow", "GET, POST, PUT, PATCH, DELETE");
    }
    auto target = ParseTarget(req.target);
    if (!target.ok()) return ApiResponse::Error(400, "invalid_target", target.status().message());
    size_t header_bytes = req.method.size() + req.target.size() + req.version.size() + 4;
    for (const auto& [k, v] : req.headers) header_bytes += k.size() + v.size() + 4;
    if (header_bytes > limits.max_header_bytes) {
      return ApiResponse::Error(431, "headers_too_large",
                                "request headers are " + std::to_string(header_bytes) +
                                    " bytes, more than the limit of " +
                                    std::to_string(limits.max_header_bytes));
    }
    Router::Found found = router_.Find(*method, target->segments);
    if (found.route == nullptr) {
      if (found.allowed.empty()) {
        return ApiResponse::Error(404, "not_found", "no route for this path");
      }
      std::string allow;
      std::vector<std::string_view> names;
      for (Method m : found.allowed) {
        allow += (allow.empty() ? "" : ", ") + std::string(MethodName(m));
        names.push_back(MethodName(m));
      }
      return ApiResponse::Error(405, "method_not_allowed",
                                std::string(MethodName(*method)) + " is not allowed here",
                                "{\"allowed\":" + JsonStringArray(names) + "}")
          .Header("Allow", allow);
    }
    const Route& route = *found.route;
    tl_log.route = route.pattern;

    std::optional<Actor> actor;
    if (!route.is_public) {
      if (req.get_header_value_count("Authorization") > 1) {
        return Unauthenticated(req, "more than one Authorization header");
      }
      auto lease = readers_.Acquire();
      if (!lease.ok()) return ApiResponse(lease.status());
      auto a = Authenticate(lease->store(), req.get_header_value("Authorization"));
      if (!a.ok()) {
        if (a.status().code() != StatusCode::kUnauthenticated) return ApiResponse(a.status());
        return Unauthenticated(req, a.status().message());
      }
      actor = std::move(a).value();
      tl_log.actor = actor->name;
      if (!route.roles.Has(actor->role)) {
        json::JsonWriter d;
        d.BeginObject();
        d.Key("role").String(RoleName(actor->role));
        d.Key("allowed_roles").Raw(JsonStringArray(route.roles.Names()));
        d.EndObject();
        return ApiResponse::Error(403, "forbidden",
                                  "role " + std::string(RoleName(actor->role)) + " may not call " +
                                      std::string(MethodName(route.method)) + " " + route.pattern,
                                  d.Take());
      }
      int64_t retry = 0;
      if (!token_limiter_.Allow(actor->token_id, &retry)) {
        return ApiResponse::Error(
                   429, "rate_limited",
                   "too many requests for this token; retry after " + std::to_string(retry) + " s",
                   "{\"retry_after_seconds\":" + std::to_string(retry) + "}")
            .Header("Retry-After", std::to_string(retry));
      }
    }
    for (const auto& [name, value] : target->query) {
      bool known = false;
      for (const auto& q : route.query) known = known || q == name;
      if (!known) {
        std::vector<std::string_view> names(route.query.begin(), route.query.end());
        return ApiResponse::Error(400, "unknown_parameter",
                                  "query parameter " + name + " is not accepted here",
                                  "{\"accepted\":" + JsonStringArray(names) + "}");
      }
    }
    size_t body_limit = route.json_body ? limits.max_json_body_bytes : limits.max_body_bytes;
    if (route.has_body && req.has_header("Content-Length")) {
      auto declared = ParseDecimal(req.get_header_value("Content-Length"));
      if (declared && *declared > body_limit) {
        return ApiResponse::Error(413, "payload_too_large",
                                  "request body of " + std::to_string(*declared) +
                                      " bytes is larger than the limit of " +
                                      std::to_string(body_limit));
      }
    }
    HttplibBody body(req, reader, body_limit, clock_.NowUnixNanos() + limits.body_timeout_ns,
                     clock_);
    RequestContext rc(route, *target, std::move(found.params), std::move(actor), tl_log.request_id,
                      services_, &body);
    ApiResponse r;
    try {
      r = route.handler(rc);
    } catch (const std::exception& e) {
      r = ApiResponse(InternalError(std::string("exception: ") + e.what()));
    }
    if (body.timed_out()) {
      return ApiResponse::Error(408, "request_timeout",
                                "the request body was not received in time or the client went "
                                "away")
          .Header("Connection", "close");
    }
    return r;
  }

  ApiResponse Unauthenticated(const httplib::Request& req, const std::string& message) {
    int64_t retry = 0;
    if (!auth_limiter_.Allow(req.remote_addr, &retry)) {
      return ApiResponse::Error(429, "rate_limited",
                                "too many failed authentications from this address; retry after " +
                                    std::to_string(retry) + " s",
                                "{\"retry_after_seconds\":" + std::to_string(retry) + "}")
          .Header("Retry-After", std::to_string(retry));
    }
    return ApiResponse::Error(401, "unauthenticated", message)
        .Header("WWW-Authenticate", "Bearer realm=\"nhitrace\"");
  }

  ServerOptions options_;
  const Clock& clock_;
  ReaderPool readers_;
  Writer writer_;
  std::atomic<bool> serving_{false};
  std::atomic<bool> stopped_{false};
  Services services_;
  Router router_;
  RateLimiter token_limiter_;
  RateLimiter auth_limiter_;
  std::unique_ptr<httplib::Server> http_;
  std::function<void(int)> raise_backlog_;
  std::function<void()> shutdown_listener_;
  std::string request_prefix_;
  std::atomic<uint64_t> request_counter_{0};
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() = default;

Result<std::unique_ptr<Server>> Server::Create(const ServerOptions& options, std::string store_path,
                                               std::unique_ptr<ledger::Ledger> writer_ledger,
                                               const Clock& clock,
                                               cases::CaseProjection* case_projection,
                                               reconcile::Engine* reconciler) {
  auto impl =
      std::make_unique<Impl>(options, std::move(store_path), std::move(writer_ledger), clock);
  impl->set_case_projection(case_projection);
  impl->set_reconciler(reconciler);
  NHI_RETURN_IF_ERROR(impl->Init());
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Status Server::Bind() {
  NHI_ASSIGN_OR_RETURN(port_, impl_->Bind());
  return OkStatus();
}

Status Server::Serve() { return impl_->Serve(); }

void Server::Stop() { impl_->Stop(); }

}  // namespace nhitrace::api
