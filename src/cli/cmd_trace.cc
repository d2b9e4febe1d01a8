#include <cstdio>
#include <map>

#include <CLI/CLI.hpp>
#include <unistd.h>

#include "base/time.h"
#include "cli/commands.h"
#include "correlate/derived_state.h"
#include "correlate/trace.h"
#include "correlate/trace_text.h"
#include "json/writer.h"
#include "reconcile/engine.h"

namespace nhitrace::cli {
namespace {

std::string ShortTime(int64_t ns) {
  if (ns == INT64_MIN || ns == INT64_MAX) return "-";
  std::string t = FormatRfc3339Utc(ns, 0);
  t[10] = ' ';
  return t;
}

// Fits `s` into `width` columns, marking a cut with '~'.
std::string Fit(std::string s, size_t width) {
  if (s.size() > width) {
    s.resize(width - 1);
    s += "~";
  }
  return s;
}

struct TraceArgs {
  std::string request, identity;
  std::optional<uint64_t> event;
  bool json = false;
};

int RunTrace(Context& ctx, const TraceArgs& a) {
  int given = !a.request.empty() + !a.identity.empty() + (a.event.has_value() ? 1 : 0);
  if (given != 1) {
    PrintError(InvalidArgumentError("give exactly one of --request, --identity, --event"));
    return kExitUsage;
  }
  auto store = ctx.OpenStoreOnly();
  if (!store.ok()) {
    PrintError(store.status());
    return kExitError;
  }
  auto t = correlate::BuildTrace(**store, {a.request, a.identity, a.event});
  if (!t.ok()) {
    PrintError(t.status());
    return kExitError;
  }
  if (a.json) {
    std::printf("%s\n", correlate::TraceToJson(*t).c_str());
    return kExitOk;
  }
  std::string text = correlate::TraceToText(*t);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return kExitOk;
}

struct IdentitiesArgs {
  std::string kind, owner;
  bool json = false;
};

int RunIdentities(Context& ctx, const IdentitiesArgs& a) {
  auto store = ctx.OpenStoreOnly();
  if (!store.ok()) {
    PrintError(store.status());
    return kExitError;
  }
  store::IdentityQuery q;
  q.kind = a.kind;
  q.owner = a.owner;
  auto keys = (*store)->ListCanonicalKeys(q);
  if (!keys.ok()) {
    PrintError(keys.status());
    return kExitError;
  }
  json::JsonWriter w;
  w.BeginArray();
  if (!a.json) {
    // 80 columns: 24 + 10 + 14 + 11 + 10 + 2 + 3 and six separating spaces.
    std::printf("%-24s %-10s %-14s %-11s %-10s %2s %3s\n", "IDENTITY", "KIND", "OWNER/SPONSOR",
                "STATUS", "LAST USE", "GR", "ISS");
  }
  for (const std::string& canonical : *keys) {
    auto id = correlate::LoadIdentity(**store, canonical);
    if (!id.ok() || !*id) {
      PrintError(id.ok() ? InternalError("identity vanished") : id.status());
      return kExitError;
    }
    // Grants and their open issues over all keys of the identity.
    std::map<std::string, store::GrantRow> grants;
    for (const auto& k : (*id)->keys) {
      auto rows = (*store)->ListGrantsForKey(k.row.key);
      if (!rows.ok()) {
        PrintError(rows.status());
        return kExitError;
      }
      for (auto& g : *rows) grants.emplace(g.correlation_key, std::move(g));
    }
    // The identity is as live as its most live grant: active, else provisioned, else the
    // status of its most recent grant (by start, then request id).
    uint64_t issues = 0;
    std::string status = grants.empty() ? "ungranted" : "";
    const store::GrantRow* latest = nullptr;
    for (const auto& [ck, g] : grants) {
      issues += g.issue_count;
      if (g.status == "active") {
        status = "active";
      } else if (g.status == "provisioned" && status != "active") {
        status = "provisioned";
      }
      if (!latest || g.start_ns > latest->start_ns) latest = &g;
    }
    if (status.empty() && latest) status = latest->status;
    const auto& i = **id;
    if (a.json) {
      w.BeginObject();
      w.Key("canonical").String(i.canonical);
      w.Key("grants").Uint(grants.size());
      w.Key("issues").Uint(issues);
      w.Key("keys").Uint(i.keys.size());
      w.Key("kind").String(i.kind);
      w.Key("last_action");
      if (i.last_action_ns) {
        w.String(FormatRfc3339Utc(*i.last_action_ns, 6));
      } else {
        w.Null();
      }
      w.Key("owner").String(i.owner);
      w.Key("sponsor").String(i.sponsor);
      w.Key("status").String(status);
      w.EndObject();
    } else {
      std::string who = i.owner.empty() ? "-" : i.owner;
      if (!i.sponsor.empty()) who += " / " + i.sponsor;
      std::string last = i.last_action_ns ? ShortTime(*i.last_action_ns).substr(0, 10) : "never";
      std::printf("%-24s %-10s %-14s %-11s %-10s %2zu %3llu\n", Fit(i.canonical, 24).c_str(),
                  Fit(i.kind.empty() ? "-" : i.kind, 10).c_str(), Fit(who, 14).c_str(),
                  Fit(status, 11).c_str(), last.c_str(), grants.size(),
                  static_cast<unsigned long long>(issues));
    }
  }
  w.EndArray();
  if (a.json) {
    std::printf("%s\n", w.str().c_str());
  } else {
    std::printf("%zu identit%s\n", keys->size(), keys->size() == 1 ? "y" : "ies");
  }
  return kExitOk;
}

}  // namespace

void RegisterTraceCommands(CLI::App& app, Context& ctx, int* exit_code) {
  {
    auto a = std::make_shared<TraceArgs>();
    auto* cmd = app.add_subcommand(
        "trace", "The chain from request to use: who asked, who approved, what was done");
    cmd->add_option("--request", a->request, "A request id (correlation key)");
    cmd->add_option("--identity", a->identity, "An identity key (any alias)");
    cmd->add_option("--event", a->event, "An event sequence number");
    cmd->add_flag("--json", a->json, "JSON output (docs/format/trace.md)");
    cmd->callback([&ctx, exit_code, a] { *exit_code = RunTrace(ctx, *a); });
  }
  {
    auto a = std::make_shared<IdentitiesArgs>();
    auto* cmd = app.add_subcommand("identities", "The inventory of non-human identities");
    cmd->add_option("--kind", a->kind, "Only this kind (service_account, api_key, ...)");
    cmd->add_option("--owner", a->owner, "Only this owner");
    cmd->add_flag("--json", a->json, "JSON output");
    cmd->callback([&ctx, exit_code, a] { *exit_code = RunIdentities(ctx, *a); });
  }
  {
    auto* cmd = app.add_subcommand(
        "rebuild",
        "Recompute identities, grant chains, cases, policies and findings from the ledger");
    cmd->callback([&ctx, exit_code] {
      auto store = ctx.OpenStoreOnly();
      if (!store.ok()) {
        PrintError(store.status());
        *exit_code = kExitError;
        return;
      }
      bool tty = ::isatty(2) == 1;
      Status s = correlate::DerivedState::Rebuild(**store, [tty](uint64_t n, uint64_t total) {
        if (tty) {
          std::fprintf(stderr, "\rrebuilding: %llu/%llu events", static_cast<unsigned long long>(n),
                       static_cast<unsigned long long>(total));
        }
      });
      if (s.ok()) s = reconcile::Engine::RebuildTables(**store);  // policies, findings
      if (tty) std::fputs("\n", stderr);
      if (!s.ok()) {
        PrintError(s);
        *exit_code = kExitError;
        return;
      }
      s = cases::CaseProjection::Rebuild(**store);
      if (!s.ok()) {
        PrintError(s);
        *exit_code = kExitError;
        return;
      }
      std::printf("rebuilt identities, grant chains, cases, policies and findings\n");
      *exit_code = kExitOk;
    });
  }
}

}  // namespace nhitrace::cli
