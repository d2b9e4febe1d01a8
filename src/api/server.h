// Server: the HTTP JSON API of `nhitrace serve` (docs/api/README.md, docs/api/openapi.yaml).
//
// One process: one writer thread owning the appending ledger (api/writer.h), and request threads
// that read through their own read-only store handles (api/readers.h). Every request passes, in
// this order: target parsing (400), header size (431), routing (404, 405), authentication (401),
// the route's roles (403), the per-token rate limit (429), the query parameters (400), then the
// handler, whose body reads are bounded in size (413) and time (408). Every error is the JSON
// envelope of api/response.h.
//
// HTTP is cpp-httplib (Debian's libcpp-httplib, a compiled library built with OpenSSL), used only
// in server.cc: it parses HTTP/1.1, keeps connections alive and applies per-read and per-write
// socket timeouts; TLS is optional (--tls-cert/--tls-key, TLS 1.2 or later).
//
// Shutdown (Stop, e.g. on SIGTERM): the listening socket is closed, requests in progress finish
// (an ingest request is answered after its commit), idle connections are closed, then the writer
// runs what is queued and stops. Nothing acknowledged is lost, since nothing is acknowledged
// before it is durable.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "api/router.h"
#include "base/status.h"
#include "base/time.h"
#include "cases/projection.h"
#include "ledger/ledger.h"

namespace nhitrace::api {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                // 0: any free port (see Server::port())
  std::string tls_cert, tls_key;  // PEM files; both or neither
  Limits limits;
  int threads = 32;  // request threads (each serves one connection at a time)
  // Read-only store connections shared by the request threads (each keeps a page cache of up to
  // 4 MiB): at most this many requests read the store at once; others wait for a connection.
  int max_readers = 16;
  int read_timeout_s = 10;   // a client that sends nothing for this long is disconnected
  int write_timeout_s = 10;  // a client that reads nothing for this long is disconnected
  int keep_alive_timeout_s = 5;
  size_t keep_alive_max_requests = 10000;
  double rate_per_second = 50;  // per token; 0: no limit
  double rate_burst = 100;
  double auth_failures_per_second = 5;  // per client address
  double auth_failure_burst = 20;
  size_t max_write_queue_bytes = size_t{256} << 20;
  bool access_log = true;  // one line per request on stderr (no tokens, no query values)
};

class Server {
 public:
  // `writer_ledger` is the ledger opened with its signing key (and its derived-state observer);
  // the server's writer thread takes it. `store_path` is opened read-only by request threads.
  // `case_projection` (not owned; outlives the server) is the CaseProjection that observes
  // `writer_ledger`: case operations run through it (null: case writes answer 503).
  // `reconciler` (not owned; outlives the server), the reconcile::Engine observing
  // `writer_ledger`: each ingest request runs its incremental pass after committing (null: none).
  static Result<std::unique_ptr<Server>> Create(const ServerOptions& options,
                                                std::string store_path,
                                                std::unique_ptr<ledger::Ledger> writer_ledger,
                                                const Clock& clock,
                                                cases::CaseProjection* case_projection = nullptr,
                                                reconcile::Engine* reconciler = nullptr);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the listening socket. After it, port() is the bound port.
  Status Bind();
  int port() const { return port_; }

  // Serves until Stop(); then drains as described above and returns.
  Status Serve();
  // Begins shutdown. Thread-safe; idempotent.
  void Stop();

 private:
  class Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace nhitrace::api
