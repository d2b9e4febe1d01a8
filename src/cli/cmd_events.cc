#include <cstdio>

#include <CLI/CLI.hpp>

#include "base/encoding.h"
#include "base/time.h"
#include "base/utf8.h"
#include "cli/commands.h"
#include "json/writer.h"

namespace nhitrace::cli {
namespace {

// Printable preview of bytes for a terminal: control and non-UTF-8 bytes as \xNN.
std::string Preview(std::string_view s, size_t max) {
  std::string out;
  bool utf8 = IsValidUtf8(s);
  for (size_t i = 0; i < s.size() && out.size() < max; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F || (!utf8 && c >= 0x80)) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (out.size() >= max) out += "...";
  return out;
}

std::string Fit(std::string s, size_t width) {
  if (s.size() > width) {
    s.resize(width - 1);
    s += "~";
  }
  return s;
}

std::string ShortTime(int64_t ns) {
  std::string t = FormatRfc3339Utc(ns, 0);  // 2026-03-01T09:15:00Z
  t[10] = ' ';
  return t;
}

int PrintEvent(Context& ctx, uint64_t seq, bool raw, bool json_out) {
  auto store = ctx.OpenStoreOnly();
  if (!store.ok()) {
    PrintError(store.status());
    return kExitError;
  }
  auto row = (*store)->GetEvent(seq);
  if (!row.ok()) {
    PrintError(row.status());
    return kExitError;
  }
  if (!*row) {
    PrintError(NotFoundError("no event with seq " + std::to_string(seq)));
    return kExitError;
  }
  const store::EventRow& e = **row;
  std::optional<store::RawRow> raw_row;
  if (e.raw_id) {
    auto r = (*store)->GetRaw(*e.raw_id);
    if (!r.ok()) {
      PrintError(r.status());
      return kExitError;
    }
    raw_row = *r;
  }
  if (raw) {
    if (!raw_row || raw_row->erased_ns) {
      PrintError(NotFoundError("event " + std::to_string(seq) + " has no raw record kept"));
      return kExitError;
    }
    std::fwrite(raw_row->bytes.data(), 1, raw_row->bytes.size(), stdout);
    std::fputs("\n", stdout);
    return kExitOk;
  }
  if (json_out) {
    json::JsonWriter w;
    w.BeginObject();
    w.Key("seq").Uint(e.seq);
    w.Key("leaf").Raw(e.leaf);
    w.Key("leaf_hash").String(Base64Encode(crypto::AsBytes(e.leaf_hash)));
    if (raw_row && !raw_row->erased_ns) {
      w.Key("raw_base64").String(Base64Encode(raw_row->bytes));
    } else if (raw_row) {
      w.Key("raw_erased_at").String(FormatRfc3339Utc(*raw_row->erased_ns));
    }
    w.EndObject();
    std::printf("%s\n", w.str().c_str());
    return kExitOk;
  }
  std::printf("seq         %llu\n", static_cast<unsigned long long>(e.seq));
  std::printf("kind        %s\n", e.kind.c_str());
  std::printf("time        %s\n", FormatRfc3339Utc(e.time_ns, 6).c_str());
  std::printf("ingested    %s\n", FormatRfc3339Utc(e.ingested_ns, 6).c_str());
  std::printf("source      %s %s\n", e.source_system.c_str(), e.source_event_id.c_str());
  if (!e.correlation_key.empty()) std::printf("request     %s\n", e.correlation_key.c_str());
  if (!e.identity_key.empty()) std::printf("identity    %s\n", e.identity_key.c_str());
  if (!e.actor_id.empty()) std::printf("actor       %s\n", e.actor_id.c_str());
  std::printf("leaf hash   %s\n", Base64Encode(crypto::AsBytes(e.leaf_hash)).c_str());
  std::printf("leaf        %s\n", e.leaf.c_str());
  if (raw_row) {
    if (raw_row->erased_ns) {
      std::printf("raw         erased at %s\n", FormatRfc3339Utc(*raw_row->erased_ns).c_str());
    } else {
      std::printf("raw         %llu bytes: %s\n", static_cast<unsigned long long>(raw_row->size),
                  Preview(raw_row->bytes, 200).c_str());
    }
  }
  return kExitOk;
}

struct ListArgs {
  std::string request, identity, kind, from, to;
  size_t limit = 1000;
  bool json = false;
};

int ListEvents(Context& ctx, const ListArgs& a) {
  store::EventQuery q;
  q.correlation_key = a.request;
  q.identity_key = a.identity;
  q.kind = a.kind;
  q.limit = a.limit;
  for (auto [text, out] : {std::pair{&a.from, &q.from_ns}, std::pair{&a.to, &q.to_ns}}) {
    if (text->empty()) continue;
    auto t = ParseRfc3339(*text);
    if (!t.ok()) {
      PrintError(t.status());
      return kExitUsage;
    }
    *out = t->unix_nanos;
  }
  auto store = ctx.OpenStoreOnly();
  if (!store.ok()) {
    PrintError(store.status());
    return kExitError;
  }
  auto rows = (*store)->QueryEvents(q);
  if (!rows.ok()) {
    PrintError(rows.status());
    return kExitError;
  }
  if (a.json) {
    json::JsonWriter w;
    w.BeginArray();
    for (const auto& e : *rows) {
      w.BeginObject();
      w.Key("seq").Uint(e.seq);
      w.Key("leaf").Raw(e.leaf);
      w.EndObject();
    }
    w.EndArray();
    std::printf("%s\n", w.str().c_str());
    return kExitOk;
  }
  std::printf("%-6s %-20s %-14s %-16s %s\n", "SEQ", "TIME (UTC)", "KIND", "ACTOR", "IDENTITY");
  for (const auto& e : *rows) {
    std::printf("%-6llu %-20s %-14s %-16s %s\n", static_cast<unsigned long long>(e.seq),
                ShortTime(e.time_ns).c_str(), e.kind.c_str(),
                Fit(e.actor_id.empty() ? "-" : e.actor_id, 16).c_str(),
                Fit(e.identity_key.empty() ? "-" : e.identity_key, 20).c_str());
  }
  std::printf("%zu event(s)%s\n", rows->size(),
              rows->size() == a.limit ? " (limit reached; use --limit)" : "");
  return kExitOk;
}

int ListQuarantine(Context& ctx, size_t limit, bool json_out) {
  auto store = ctx.OpenStoreOnly();
  if (!store.ok()) {
    PrintError(store.status());
    return kExitError;
  }
  auto rows = (*store)->ListQuarantine(0, limit);
  if (!rows.ok()) {
    PrintError(rows.status());
    return kExitError;
  }
  if (json_out) {
    json::JsonWriter w;
    w.BeginArray();
    for (const auto& q : *rows) {
      w.BeginObject();
      w.Key("id").Int(q.id);
      w.Key("received_at").String(FormatRfc3339Utc(q.received_ns));
      w.Key("source").String(q.source);
      w.Key("line").Uint(q.line);
      w.Key("format").String(q.format);
      w.Key("field").String(q.field);
      w.Key("reason").String(q.reason);
      w.Key("raw_base64").String(Base64Encode(q.raw));
      w.Key("raw_size").Uint(q.raw_size);
      w.Key("raw_sha256").String(HexEncode(q.raw_sha256));
      w.Key("truncated").Bool(q.truncated);
      w.EndObject();
    }
    w.EndArray();
    std::printf("%s\n", w.str().c_str());
    return kExitOk;
  }
  for (const auto& q : *rows) {
    std::printf("#%lld %s:%llu: %s: %s\n    %s\n", static_cast<long long>(q.id), q.source.c_str(),
                static_cast<unsigned long long>(q.line), q.field.c_str(), q.reason.c_str(),
                Preview(q.raw, 120).c_str());
  }
  std::printf("%zu quarantined record(s)\n", rows->size());
  return kExitOk;
}

}  // namespace

void RegisterEventCommands(CLI::App& app, Context& ctx, int* exit_code) {
  {
    struct ShowArgs {
      uint64_t seq = 0;
      bool raw = false, json = false;
    };
    auto a = std::make_shared<ShowArgs>();
    auto* cmd = app.add_subcommand("show", "Show one event: its signed leaf and raw record");
    cmd->add_option("seq", a->seq, "Event sequence number")->required();
    cmd->add_flag("--raw", a->raw, "Print only the original record, byte for byte");
    cmd->add_flag("--json", a->json, "JSON output");
    cmd->callback([&ctx, exit_code, a] { *exit_code = PrintEvent(ctx, a->seq, a->raw, a->json); });
  }
  {
    auto a = std::make_shared<ListArgs>();
    auto* cmd = app.add_subcommand("events", "List events by request, identity, kind or time");
    cmd->add_option("--request", a->request, "Correlation key (request id)");
    cmd->add_option("--identity", a->identity, "Identity key");
    cmd->add_option("--kind", a->kind, "Event kind");
    cmd->add_option("--from", a->from, "Source time >= (RFC 3339)");
    cmd->add_option("--to", a->to, "Source time < (RFC 3339)");
    cmd->add_option("--limit", a->limit, "At most this many")->capture_default_str();
    cmd->add_flag("--json", a->json, "JSON output");
    cmd->callback([&ctx, exit_code, a] { *exit_code = ListEvents(ctx, *a); });
  }
  {
    auto limit = std::make_shared<size_t>(100);
    auto json_out = std::make_shared<bool>(false);
    auto* cmd = app.add_subcommand("quarantine", "List rejected input records and why");
    cmd->add_option("--limit", *limit, "At most this many")->capture_default_str();
    cmd->add_flag("--json", *json_out, "JSON output (raw bytes in base64)");
    cmd->callback([&ctx, exit_code, limit, json_out] {
      *exit_code = ListQuarantine(ctx, *limit, *json_out);
    });
  }
}

}  // namespace nhitrace::cli
