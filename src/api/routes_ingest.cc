// POST /v1/ingest: a batch of records as the request body (JSON Lines), through the same
// pipeline as `nhitrace ingest` (ingest/ingest.h), on the writer thread.
//
// The body is streamed into an anonymous memory file (memfd) while its lines are counted, so a
// request over the batch limit is refused (413) before anything is written, and the ingest
// pipeline reads it from a file descriptor as it reads files and stdin. The response comes after
// the pipeline's last commit, so every event it counts as accepted is durable.
//
// Attribution: the quarantine rows of rejected lines name the source "api:<token name>:<request
// id>"; the events accepted are attributed to the token by the api_audit rows the writer commits
// with them (api/writer.h).
//
// Formats: `?format=` names the input format: "auto" (the default: chosen from the first
// record), "native", or one of the importers of ingest/importer.h.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <sys/mman.h>
#include <unistd.h>

#include "api/route_groups.h"
#include "base/file.h"
#include "ingest/importer.h"
#include "ingest/ingest.h"
#include "json/writer.h"

namespace nhitrace::api {
namespace {

constexpr size_t kMaxRejectionsListed = 1000;

const std::vector<std::string>& SupportedFormats() {
  static const std::vector<std::string> kFormats = [] {
    std::vector<std::string> v = {"auto", "native"};
    for (const auto& f : ingest::ImporterFormats()) v.push_back(f);
    return v;
  }();
  return kFormats;
}

// Runs the ingest pipeline for `format` over `fd`. REQUIRES: format is supported.
Result<ingest::IngestStats> RunPipeline(const std::string& format, int fd, ledger::Ledger& ledger,
                                        const ingest::IngestOptions& options) {
  ingest::IngestOptions opts = options;
  opts.format = format;
  return ingest::IngestFd(fd, ledger, opts);
}

Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return UnavailableError("cannot buffer the request body: " + ErrnoMessage(errno));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return OkStatus();
}

ApiResponse Ingest(RequestContext& rc) {
  std::string format = rc.Query("format") ? *rc.Query("format") : "auto";
  const auto& formats = SupportedFormats();
  if (std::find(formats.begin(), formats.end(), format) == formats.end()) {
    json::JsonWriter d;
    d.BeginObject();
    d.Key("supported").BeginArray();
    for (const auto& f : formats) d.String(f);
    d.EndArray();
    d.EndObject();
    return ApiResponse::Error(400, "unsupported_format",
                              "format " + format + " is not supported by this server", d.Take());
  }

  UniqueFd fd(::memfd_create("nhitrace-ingest", MFD_CLOEXEC));
  if (!fd.valid()) {
    return ApiResponse(UnavailableError("cannot buffer the request body: " + ErrnoMessage(errno)));
  }
  const size_t max_lines = rc.limits().max_batch_lines;
  uint64_t lines = 0, bytes = 0;
  char last = '\n';
  bool too_many_lines = false;
  Status s = rc.StreamBody([&](std::string_view piece) -> Status {
    if (piece.empty()) return OkStatus();
    for (const char* p = piece.data();
         (p = static_cast<const char*>(std::memchr(p, '\n', piece.data() + piece.size() - p)));
         ++p) {
      ++lines;
    }
    bytes += piece.size();
    last = piece.back();
    if (lines > max_lines) {
      too_many_lines = true;
      return ResourceExhaustedError("too many lines");
    }
    return WriteAll(fd.get(), piece);
  });
  if (bytes > 0 && last != '\n') ++lines;  // a last line without a newline
  if (too_many_lines || (s.ok() && lines > max_lines)) {
    return ApiResponse::Error(413, "batch_too_large",
                              "the batch has more than " + std::to_string(max_lines) +
                                  " lines; split it into several requests",
                              "{\"max_batch_lines\":" + std::to_string(max_lines) + "}");
  }
  if (!s.ok()) return ApiResponse(s);
  if (bytes == 0) {
    return ApiResponse::Error(400, "empty_body", "the request body holds no records");
  }
  if (::lseek(fd.get(), 0, SEEK_SET) != 0) {
    return ApiResponse(UnavailableError("cannot rewind the buffered body: " + ErrnoMessage(errno)));
  }

  ingest::IngestStats stats;
  std::vector<ingest::Rejection> rejections;
  uint64_t omitted = 0;
  const std::string source = "api:" + rc.actor().name + ":" + rc.request_id();
  const size_t max_line_bytes = rc.limits().max_line_bytes;
  reconcile::Engine* reconciler = rc.reconciler();
  WriteJob job = rc.Job("POST /v1/ingest", [&](ledger::Ledger& ledger) -> Status {
    ingest::IngestOptions opts;
    opts.source_name = source;
    opts.max_line_bytes = max_line_bytes;
    opts.on_reject = [&](const ingest::Rejection& r) {
      if (rejections.size() < kMaxRejectionsListed) {
        rejections.push_back(r);
      } else {
        ++omitted;
      }
    };
    NHI_ASSIGN_OR_RETURN(stats, RunPipeline(format, fd.get(), ledger, opts));
    // As `nhitrace ingest`: the reconciliation engine looks at what the batch touched and
    // records its findings (and the cases they open) in a batch of its own. The events are
    // committed either way; a failure here is logged and left to the next pass, not reported
    // as a failed ingest.
    if (reconciler != nullptr) {
      auto r = reconciler->RunIncremental();
      if (!r.ok()) {
        std::fprintf(stderr,
                     "nhitrace serve: reconcile after ingest failed (run `nhitrace "
                     "reconcile`): %s\n",
                     r.status().message().c_str());
      }
    }
    return OkStatus();
  });
  NHI_RETURN_IF_ERROR(rc.writer().Run(std::move(job), bytes));

  json::JsonWriter w;
  w.BeginObject();
  w.Key("request_id").String(rc.request_id());
  w.Key("format").String(stats.format.empty() ? format : stats.format);
  w.Key("framing").String(stats.framing);
  w.Key("lines").Uint(stats.lines);
  w.Key("blank").Uint(stats.blank);
  w.Key("records").Uint(stats.records);
  w.Key("mapped").Uint(stats.mapped);
  w.Key("ignored").Uint(stats.ignored);
  w.Key("ignored_by_name").BeginObject();
  for (const auto& [name, n] : stats.ignored_by_name) w.Key(SanitizeUtf8(name)).Uint(n);
  w.EndObject();
  w.Key("accepted").Uint(stats.accepted);
  w.Key("duplicate").Uint(stats.duplicate);
  w.Key("quarantined").Uint(stats.quarantined);
  w.Key("tree_size").Uint(stats.tree_size);
  w.Key("rejections").BeginArray();
  for (const auto& r : rejections) {
    std::string field = SanitizeUtf8(r.field), reason = SanitizeUtf8(r.reason);
    w.BeginObject();
    w.Key("line").Uint(r.line);
    w.Key("field").String(field);
    w.Key("reason").String(reason);
    w.Key("text").String(std::to_string(r.line) + ": " + field + ": " + reason);
    w.EndObject();
  }
  w.EndArray();
  w.Key("rejections_omitted").Uint(omitted);
  w.EndObject();
  return ApiResponse::Json(200, w.Take());
}

}  // namespace

Status AddIngestRoutes(Router& router, Services&) {
  return router.Add(Route::Make(Method::kPost, "/v1/ingest", kIngestRoles, Ingest)
                        .Query({"format"})
                        .Body()
                        .Writes()
                        .Summary("Append a batch of records (JSON Lines body)"));
}

}  // namespace nhitrace::api
