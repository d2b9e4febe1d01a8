// nhitrace serve: the HTTP JSON API (docs/api/README.md).
#include <cstdio>
#include <thread>

#include <CLI/CLI.hpp>
#include <pthread.h>
#include <signal.h>

#include "api/server.h"
#include "cli/commands.h"

namespace nhitrace::cli {
namespace {

struct ServeArgs {
  std::string listen = "127.0.0.1:8080";
  api::ServerOptions server;
  int64_t body_timeout_s = 60;
  bool quiet = false;
};

// "host:port", "[v6]:port".
Status ParseListen(const std::string& s, std::string* host, int* port) {
  size_t colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == s.size()) {
    return InvalidArgumentError("--listen " + s + ": expected HOST:PORT");
  }
  *host = s.substr(0, colon);
  if (host->size() > 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  int p = 0;
  for (char c : s.substr(colon + 1)) {
    if (c < '0' || c > '9' || p > 65535)
      return InvalidArgumentError("--listen " + s + ": bad port");
    p = p * 10 + (c - '0');
  }
  if (p > 65535) return InvalidArgumentError("--listen " + s + ": bad port");
  *port = p;
  return OkStatus();
}

int RunServe(Context& ctx, ServeArgs& a) {
  api::ServerOptions& o = a.server;
  if (Status s = ParseListen(a.listen, &o.host, &o.port); !s.ok()) {
    PrintError(s);
    return kExitUsage;
  }
  o.limits.body_timeout_ns = a.body_timeout_s * 1000000000;
  o.access_log = !a.quiet;

  // SIGINT and SIGTERM are taken by one thread with sigwait, so they must be blocked before any
  // other thread starts (threads inherit the mask). SIGPIPE would kill the process when a
  // client goes away mid-response.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  ctx.set_read_mostly(false);
  auto ledger = ctx.OpenLedger(true);
  if (!ledger.ok()) {
    PrintError(ledger.status());
    return kExitError;
  }
  uint64_t size = (*ledger)->size();
  auto server = api::Server::Create(o, ctx.StorePath(), std::move(ledger).value(), ctx.clock(),
                                    ctx.case_projection(), ctx.reconciler());
  if (!server.ok()) {
    PrintError(server.status());
    return kExitError;
  }
  if (Status s = (*server)->Bind(); !s.ok()) {
    PrintError(s);
    return kExitError;
  }
  std::string scheme = o.tls_cert.empty() ? "http" : "https";
  std::string host = o.host.find(':') != std::string::npos ? "[" + o.host + "]" : o.host;
  std::fprintf(stderr, "nhitrace serve: listening on %s://%s:%d (store %s, tree size %llu)\n",
               scheme.c_str(), host.c_str(), (*server)->port(), ctx.StorePath().c_str(),
               static_cast<unsigned long long>(size));
  std::fflush(stderr);

  api::Server* srv = server->get();
  std::thread signal_thread([srv, signals] {
    int sig = 0;
    sigwait(&signals, &sig);
    std::fprintf(stderr, "nhitrace serve: %s: finishing requests in progress, then stopping\n",
                 sig == SIGINT ? "SIGINT" : "SIGTERM");
    std::fflush(stderr);
    srv->Stop();
  });
  Status s = srv->Serve();
  pthread_kill(signal_thread.native_handle(), SIGTERM);  // wakes it if no signal came
  signal_thread.join();
  server->reset();
  if (!s.ok()) {
    PrintError(s);
    return kExitError;
  }
  std::fprintf(stderr, "nhitrace serve: stopped\n");
  return kExitOk;
}

}  // namespace

void RegisterServe(CLI::App& app, Context& ctx, int* exit_code) {
  auto a = std::make_shared<ServeArgs>();
  api::ServerOptions& o = a->server;
  auto* cmd = app.add_subcommand("serve", "Serve the HTTP JSON API (docs/api/README.md)");
  cmd->add_option("--listen", a->listen, "Address and port (port 0: any free port)")
      ->capture_default_str();
  cmd->add_option("--tls-cert", o.tls_cert, "PEM certificate chain (HTTPS; with --tls-key)");
  cmd->add_option("--tls-key", o.tls_key, "PEM private key");
  cmd->add_option("--threads", o.threads, "Request threads (one connection each at a time)")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  cmd->add_option("--max-readers", o.max_readers,
                  "Read-only store connections (each up to 4 MiB of page cache); more requests "
                  "reading at once wait for one")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  cmd->add_option("--max-body-bytes", o.limits.max_body_bytes, "Largest request body")
      ->check(CLI::Range(size_t{1024}, size_t{1} << 32))
      ->capture_default_str();
  cmd->add_option("--max-batch-lines", o.limits.max_batch_lines, "Most lines in one ingest request")
      ->check(CLI::Range(size_t{1}, size_t{10000000}))
      ->capture_default_str();
  cmd->add_option("--max-line-bytes", o.limits.max_line_bytes,
                  "Longer ingest lines are quarantined (first bytes and SHA-256 kept)")
      ->check(CLI::Range(size_t{64}, size_t{64} << 20))
      ->capture_default_str();
  cmd->add_option("--max-header-bytes", o.limits.max_header_bytes,
                  "Largest total of request headers (each line is also limited to 8192 bytes)")
      ->check(CLI::Range(size_t{1024}, size_t{1} << 20))
      ->capture_default_str();
  cmd->add_option("--body-timeout", a->body_timeout_s, "Seconds to receive a whole request body")
      ->check(CLI::Range(int64_t{1}, int64_t{3600}))
      ->capture_default_str();
  cmd->add_option("--read-timeout", o.read_timeout_s,
                  "Seconds a client may send nothing before it is disconnected")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  cmd->add_option("--write-timeout", o.write_timeout_s,
                  "Seconds a client may read nothing before it is disconnected")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  cmd->add_option("--keep-alive-timeout", o.keep_alive_timeout_s,
                  "Seconds an idle connection is kept open")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  cmd->add_option("--rate-limit", o.rate_per_second, "Requests per second per token (0: no limit)")
      ->check(CLI::Range(0.0, 1e9))
      ->capture_default_str();
  cmd->add_option("--rate-burst", o.rate_burst, "Requests a token may make at once")
      ->check(CLI::Range(1.0, 1e9))
      ->capture_default_str();
  cmd->add_option("--max-write-queue-bytes", o.max_write_queue_bytes,
                  "Bytes of request bodies waiting for the writer; past it, 503")
      ->check(CLI::Range(size_t{1} << 20, size_t{1} << 40))
      ->capture_default_str();
  cmd->add_flag("--quiet", a->quiet, "No access log on stderr");
  cmd->callback([&ctx, exit_code, a] { *exit_code = RunServe(ctx, *a); });
}

}  // namespace nhitrace::cli
