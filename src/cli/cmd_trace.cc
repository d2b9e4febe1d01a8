#include <cstdio>
#include <map>

#include <CLI/CLI.hpp>
#include <unistd.h>

#include "base/time.h"
#include "cli/commands.h"
#include "correlate/derived_state.h"
#include "correlate/trace.h"
#include "json/writer.h"
#include "reconcile/engine.h"

namespace nhitrace::cli {
namespace {

using correlate::ActionSummary;
using correlate::GrantChain;
using correlate::Trace;

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

std::string Join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += sep;
    out += v[i];
  }
  return out;
}

// Prints "label  value", wrapping value at 80 columns under itself.
void Field(const char* label, const std::string& value) {
  if (value.empty()) return;
  constexpr size_t kIndent = 11, kWidth = 80 - kIndent;
  std::printf("%-10s ", label);
  size_t pos = 0;
  bool first = true;
  while (pos < value.size()) {
    size_t len = std::min(kWidth, value.size() - pos);
    if (pos + len < value.size()) {
      size_t sp = value.rfind(' ', pos + len);
      if (sp != std::string::npos && sp > pos) len = sp - pos;
    }
    std::printf("%s%s\n", first ? "" : std::string(kIndent, ' ').c_str(),
                value.substr(pos, len).c_str());
    pos += len;
    while (pos < value.size() && value[pos] == ' ') ++pos;
    first = false;
  }
}

const correlate::ChainEvent* FindEvent(const correlate::GrantTrace& g, uint64_t seq) {
  for (const auto& e : g.events) {
    if (e.seq == seq) return &e;
  }
  return nullptr;
}

void StageLine(const correlate::GrantTrace& g, const char* stage, const std::vector<uint64_t>& seqs,
               bool applicable = true) {
  if (seqs.empty()) {
    std::printf("  %-17s %s\n", stage, applicable ? "MISSING" : "-");
    return;
  }
  for (size_t i = 0; i < seqs.size(); ++i) {
    const correlate::ChainEvent* e = FindEvent(g, seqs[i]);
    std::string who = e ? e->event.source_system : "?";
    if (e && e->event.actor) who += " / " + e->event.actor->id;
    if (e && e->event.outcome && e->event.outcome->result == "failure") {
      who +=
          " (failed" + (e->event.outcome->code.empty() ? "" : ": " + e->event.outcome->code) + ")";
    }
    std::printf("  %-17s %-20s %6llu  %s\n", i == 0 ? stage : "",
                e ? ShortTime(e->event.time_ns).c_str() : "?",
                static_cast<unsigned long long>(seqs[i]), Fit(who, 30).c_str());
  }
}

std::string ScopeText(const std::optional<event::Scope>& s) {
  if (!s) return "";
  std::string out = Join(s->permissions, " ");
  if (!s->resources.empty()) out += (out.empty() ? "on " : " on ") + Join(s->resources, " ");
  return out;
}

void PrintActions(const ActionSummary& s, const char* title) {
  std::printf("%s  %llu", title, static_cast<unsigned long long>(s.count));
  if (s.count) {
    std::printf(" (%s .. %s)", ShortTime(s.first_ns).c_str(), ShortTime(s.last_ns).c_str());
  }
  std::printf("\n");
  if (!s.count) return;
  std::printf(
      "  covered %llu · out of scope %llu · before grant %llu · after revocation %llu\n"
      "  after expiry %llu · no grant %llu · by agents/workloads %llu\n",
      static_cast<unsigned long long>(s.covered), static_cast<unsigned long long>(s.out_of_scope),
      static_cast<unsigned long long>(s.before_grant),
      static_cast<unsigned long long>(s.after_revocation),
      static_cast<unsigned long long>(s.after_expiry), static_cast<unsigned long long>(s.no_grant),
      static_cast<unsigned long long>(s.delegated));
  for (const auto& a : s.exceptions) {
    const event::Event& e = a.action.event;
    std::string what = a.uncovered.empty() ? "" : Join(a.uncovered, " ");
    if (what.empty() && e.scope) what = ScopeText(e.scope);
    std::printf("  ! %-6llu %s %-16s %s\n", static_cast<unsigned long long>(a.action.seq),
                ShortTime(e.time_ns).c_str(),
                std::string(correlate::VerdictName(a.verdict)).c_str(), Fit(what, 30).c_str());
    if (e.delegation) {
      std::printf("           agent %s for %s\n", Fit(e.delegation->agent_instance, 28).c_str(),
                  Fit(e.delegation->sponsor, 30).c_str());
    }
  }
  if (s.exceptions_omitted) {
    std::printf("  ... and %llu more (trace --json lists the first %zu)\n",
                static_cast<unsigned long long>(s.exceptions_omitted), correlate::kMaxExceptions);
  }
}

void PrintGrant(const correlate::GrantTrace& g) {
  const GrantChain& c = g.chain;
  std::printf("REQUEST %-49s status: %s\n", Fit(c.correlation_key, 49).c_str(),
              std::string(correlate::ChainStatusName(c.status)).c_str());
  Field("credential", c.identity.empty() ? "(none named)" : c.identity);
  Field("requester", c.requester);
  Field("approvers", Join(c.approvers, ", "));
  if (c.policy) {
    Field("policy", c.policy->id + (c.policy->version.empty() ? "" : " v" + c.policy->version) +
                        (c.policy->hash.empty() ? "" : " (" + c.policy->hash + ")"));
  }
  Field("approved", ScopeText(c.approved_scope));
  if (c.provisioned_scope) Field("issued", ScopeText(c.provisioned_scope));
  if (c.start_ns != INT64_MIN) {
    Field("window", ShortTime(c.start_ns) + " .. " + ShortTime(c.end_ns) +
                        (c.end_reason.empty() ? "" : " (" + c.end_reason + ")"));
  }
  std::printf("\n  %-17s %-20s %6s  %s\n", "STAGE", "TIME (UTC)", "SEQ", "SOURCE / ACTOR");
  bool denied = c.status == correlate::ChainStatus::kDenied;
  StageLine(g, "requested", c.requested);
  if (!c.denied.empty()) StageLine(g, "denied", c.denied);
  if (!denied || !c.approved.empty()) StageLine(g, "approved", c.approved);
  if (!c.provision_failed.empty()) StageLine(g, "provision_failed", c.provision_failed);
  StageLine(g, "provisioned", c.provisioned, !denied);
  if (c.first_use) {
    std::printf("  %-17s %-20s %6llu  first use\n", "active",
                ShortTime(c.first_use->time_ns).c_str(),
                static_cast<unsigned long long>(c.first_use->seq));
  } else {
    std::printf("  %-17s %s\n", "active", c.provisioned.empty() ? "-" : "no use on record");
  }
  if (!c.rotated.empty()) StageLine(g, "rotated", c.rotated);
  bool ended = !c.revoked.empty() || !c.expired.empty();
  if (!c.revoked.empty()) StageLine(g, "revoked", c.revoked);
  if (!c.expired.empty()) StageLine(g, "expired", c.expired);
  if (!ended) std::printf("  %-17s %s\n", "revoked/expired", "not yet");
  if (ended || !c.reconciled.empty()) StageLine(g, "reconciled", c.reconciled, ended);
  if (!c.other.empty()) StageLine(g, "other", c.other);
  std::printf("\n");
  PrintActions(g.actions, "ACTIONS");
  if (!c.issues.empty()) {
    std::printf("ISSUES\n");
    for (const auto& i : c.issues) {
      std::string seqs;
      for (uint64_t s : i.seqs) seqs += (seqs.empty() ? " (seq " : ", ") + std::to_string(s);
      if (!seqs.empty()) seqs += ")";
      std::printf("  - %s: %s%s\n", i.code.c_str(), i.message.c_str(), seqs.c_str());
    }
  }
}

void PrintIdentity(const correlate::IdentityInfo& id) {
  std::printf("IDENTITY %s\n", id.canonical.c_str());
  std::string facts = id.kind;
  if (!id.system.empty()) facts += (facts.empty() ? "" : ", ") + std::string("system ") + id.system;
  Field("kind", facts);
  Field("owner", id.owner.empty() ? "(none on record)" : id.owner);
  Field("sponsor", id.sponsor.empty() ? "(none on record)" : id.sponsor);
  Field("seen", ShortTime(id.first_seen_ns) + " .. " + ShortTime(id.last_seen_ns) + ", " +
                    std::to_string(id.event_count) + " events, " + std::to_string(id.action_count) +
                    " actions");
  if (id.keys.size() > 1) {
    std::printf("keys\n");
    for (const auto& k : id.keys) {
      std::string how;
      for (const auto& l : k.links) {
        how += (how.empty() ? "linked to " : "; ") + (l.key_a == k.row.key ? l.key_b : l.key_a) +
               " by seq " + std::to_string(l.seq);
      }
      std::printf("  %s\n", k.row.key.c_str());
      if (!how.empty()) std::printf("      %s\n", how.c_str());
    }
  }
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
  if (t->event) {
    const event::Event& e = t->event->event;
    std::printf("EVENT %llu  %s  %s  %s %s\n\n", static_cast<unsigned long long>(t->event->seq),
                std::string(event::KindName(e.kind)).c_str(), ShortTime(e.time_ns).c_str(),
                e.source_system.c_str(), e.source_event_id.c_str());
  }
  if (t->identity && a.request.empty() && !(t->event && !t->event->event.correlation_key.empty())) {
    PrintIdentity(*t->identity);
    std::printf("\n");
  }
  for (size_t i = 0; i < t->grants.size(); ++i) {
    if (i) std::printf("\n");
    PrintGrant(t->grants[i]);
  }
  if (t->identity && a.request.empty() && t->unattributed.count) {
    std::printf("\n");
    PrintActions(t->unattributed, "ACTIONS UNDER NO GRANT");
  }
  if (t->grants.empty() && t->identity) std::printf("no grant on record for this identity\n");
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
        "rebuild", "Recompute identities, grant chains, cases, policies and findings from the ledger");
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
