// nhitrace reconcile | findings | replay (docs/cli.md, docs/reconcile.md).
#include <cstdio>

#include <CLI/CLI.hpp>
#include <unistd.h>

#include "base/time.h"
#include "cli/commands.h"
#include "json/writer.h"
#include "reconcile/engine.h"
#include "reconcile/finding.h"
#include "reconcile/replay.h"

namespace nhitrace::cli {
namespace {

std::string ShortTime(int64_t ns) {
  std::string t = FormatRfc3339Utc(ns, 0);
  t[10] = ' ';
  return t;
}

std::string Fit(std::string s, size_t width) {
  if (s.size() > width) {
    s.resize(width - 1);
    s += "~";
  }
  return s;
}

void WriteStats(json::JsonWriter& w, const reconcile::PassStats& s, double seconds) {
  w.BeginObject();
  w.Key("full").Bool(s.full);
  w.Key("skipped").Bool(s.skipped);
  w.Key("policy_version").Uint(s.policy_version);
  w.Key("as_of").String(FormatRfc3339Utc(s.as_of_ns, 9));
  w.Key("horizon").Uint(s.horizon);
  w.Key("units").Uint(s.units);
  w.Key("actions").Uint(s.actions);
  w.Key("opened").Uint(s.opened);
  w.Key("updated").Uint(s.updated);
  w.Key("resolved").Uint(s.resolved);
  w.Key("open").Uint(s.open_total);
  w.Key("cases").BeginObject();
  w.Key("opened").Uint(s.cases_opened);
  w.Key("joined").Uint(s.cases_joined);
  w.Key("reopened").Uint(s.cases_reopened);
  w.Key("noted").Uint(s.cases_noted);
  w.Key("raised").Uint(s.cases_raised);
  w.EndObject();
  w.Key("seconds").Double(seconds);
  w.EndObject();
}

struct ReconcileArgs {
  std::string as_of;
  bool incremental = false;
  bool json = false;
};

int RunReconcile(Context& ctx, const ReconcileArgs& a) {
  std::optional<int64_t> as_of;
  if (!a.as_of.empty()) {
    auto t = ParseRfc3339(a.as_of);
    if (!t.ok()) {
      PrintError(t.status().WithContext("--as-of"));
      return kExitUsage;
    }
    as_of = t->unix_nanos;
  }
  ctx.set_reconcile(true);
  auto ledger = ctx.OpenLedger(true);
  if (!ledger.ok()) {
    PrintError(ledger.status());
    return kExitError;
  }
  reconcile::Engine* engine = ctx.reconciler();
  const bool tty = ::isatty(2) == 1 && !a.json;
  const int64_t start = ctx.clock().NowUnixNanos();
  auto progress = [tty](uint64_t done, uint64_t total) {
    if (tty) {
      std::fprintf(stderr, "\rreconciling: %llu/%llu units", static_cast<unsigned long long>(done),
                   static_cast<unsigned long long>(total));
    }
  };
  auto s = a.incremental ? engine->RunIncremental(as_of) : engine->RunFull(as_of, progress);
  if (tty && !a.incremental) std::fputs("\n", stderr);
  if (!s.ok()) {
    PrintError(s.status());
    return kExitError;
  }
  double secs = static_cast<double>(ctx.clock().NowUnixNanos() - start) / 1e9;
  if (a.json) {
    json::JsonWriter w;
    WriteStats(w, *s, secs);
    std::printf("%s\n", w.str().c_str());
    return kExitOk;
  }
  if (s->skipped) {
    std::printf("no policy is published: nothing to reconcile\n");
    return kExitOk;
  }
  std::printf("%s pass under policy version %llu as of %s, evidence up to seq %llu\n",
              s->full ? "full" : "incremental", static_cast<unsigned long long>(s->policy_version),
              ShortTime(s->as_of_ns).c_str(), static_cast<unsigned long long>(s->horizon));
  std::printf(
      "%llu units (%llu actions) in %.2f s: %llu opened, %llu updated, %llu resolved; "
      "%llu open\n",
      static_cast<unsigned long long>(s->units), static_cast<unsigned long long>(s->actions), secs,
      static_cast<unsigned long long>(s->opened), static_cast<unsigned long long>(s->updated),
      static_cast<unsigned long long>(s->resolved), static_cast<unsigned long long>(s->open_total));
  std::printf("cases: %llu opened, %llu joined (%llu reopened), %llu noted\n",
              static_cast<unsigned long long>(s->cases_opened),
              static_cast<unsigned long long>(s->cases_joined),
              static_cast<unsigned long long>(s->cases_reopened),
              static_cast<unsigned long long>(s->cases_noted));
  return kExitOk;
}

struct FindingsArgs {
  std::string rule, severity;
  bool open = false;
  bool json = false;
  size_t limit = SIZE_MAX >> 1;
};

int RunFindings(Context& ctx, const FindingsArgs& a) {
  store::FindingQuery q;
  q.rule_id = a.rule;
  if (a.open) q.status = "open";
  q.limit = a.limit;
  if (!a.severity.empty()) {
    auto min = policy::ParseSeverity(a.severity);
    if (!min) {
      PrintError(InvalidArgumentError("--severity " + a.severity +
                                      ": one of low, medium, high, critical"));
      return kExitUsage;
    }
    for (policy::Severity s : policy::kAllSeverities) {
      if (s >= *min) q.severities.emplace_back(policy::SeverityName(s));
    }
  }
  if (!a.rule.empty() && !reconcile::FindRule(a.rule)) {
    std::string ids;
    for (const auto* r : reconcile::AllRules())
      ids += (ids.empty() ? "" : ", ") + std::string(r->info().id);
    PrintError(InvalidArgumentError("--rule " + a.rule + ": no such rule (" + ids + ")"));
    return kExitUsage;
  }
  auto store = ctx.OpenStoreOnly();
  if (!store.ok()) {
    PrintError(store.status());
    return kExitError;
  }
  auto rows = (*store)->QueryFindings(q);
  if (!rows.ok()) {
    PrintError(rows.status());
    return kExitError;
  }
  if (a.json) {
    json::JsonWriter w;
    w.BeginArray();
    for (const auto& r : *rows) {
      w.BeginObject();
      w.Key("state").String(r.status);
      w.Key("opened_at").String(FormatRfc3339Utc(r.opened_ns, 9));
      w.Key("updated_at").String(FormatRfc3339Utc(r.updated_ns, 9));
      w.Key("event_seq").Uint(r.seq);
      w.Key("record").Raw(r.doc);
      w.EndObject();
    }
    w.EndArray();
    std::printf("%s\n", w.str().c_str());
    return kExitOk;
  }
  // 80 columns: 17 + 8 + 8 + 25 + 5 + 10 and five separating spaces; then the subject and the
  // message (or the resolution) on lines of their own.
  std::printf("%-17s %-8s %-8s %-25s %5s %-10s\n", "FINDING", "SEVERITY", "STATE", "RULE", "EV",
              "LAST SEEN");
  for (const auto& r : *rows) {
    auto f = reconcile::FromAttributes(r.doc);
    std::printf("%-17s %-8s %-8s %-25s %5llu %-10s\n", r.id.c_str(), r.severity.c_str(),
                r.status.c_str(), Fit(r.rule_id, 25).c_str(),
                static_cast<unsigned long long>(r.evidence_count),
                ShortTime(r.last_seen_ns).substr(0, 10).c_str());
    std::printf("    %s\n", Fit(r.subject_type + " " + r.subject, 76).c_str());
    if (f.ok()) {
      std::string m = r.status == "resolved" ? "resolved: " + f->resolution : f->message;
      std::printf("    %s\n", Fit(m, 76).c_str());
    }
  }
  std::printf("%zu finding%s\n", rows->size(), rows->size() == 1 ? "" : "s");
  return kExitOk;
}

void PrintFinding(const char* label, const reconcile::Finding& f) {
  std::printf("%s\n", label);
  std::printf("  severity   %s\n", std::string(policy::SeverityName(f.severity)).c_str());
  std::printf("  evidence   %llu event(s), %s .. %s\n",
              static_cast<unsigned long long>(f.evidence_count), ShortTime(f.first_seen_ns).c_str(),
              ShortTime(f.last_seen_ns).c_str());
  std::string seqs;
  for (uint64_t s : f.evidence) seqs += (seqs.empty() ? "" : " ") + std::to_string(s);
  std::printf("  seqs       %s\n", Fit(seqs, 67).c_str());
  std::printf("  message    %s\n", f.message.c_str());
}

int RunReplay(Context& ctx, const std::string& id, std::optional<uint64_t> version, bool as_json) {
  auto store = ctx.OpenStoreOnly();
  if (!store.ok()) {
    PrintError(store.status());
    return kExitError;
  }
  auto r = reconcile::Replay(**store, id, version);
  if (!r.ok()) {
    PrintError(r.status());
    return kExitError;
  }
  const reconcile::Finding& rec = r->recorded;
  if (as_json) {
    json::JsonWriter w;
    w.BeginObject();
    w.Key("finding_id").String(rec.id);
    w.Key("recorded").Raw(reconcile::ToAttributes(rec));
    w.Key("policy_version").Uint(r->policy_version);
    w.Key("expected_to_fire").Bool(r->expected_to_fire);
    w.Key("fires").Bool(r->fires);
    w.Key("replayed");
    if (r->replayed) {
      reconcile::Finding f = *r->replayed;
      f.status = "open";
      w.Raw(reconcile::ToAttributes(f));
    } else {
      w.Null();
    }
    w.Key("same").Bool(r->same);
    w.Key("differences").BeginArray();
    for (const auto& d : r->differences) w.String(d);
    w.EndArray();
    w.Key("scratch").Bool(r->scratch);
    w.EndObject();
    std::printf("%s\n", w.str().c_str());
    return r->same ? kExitOk : kExitReplayDiffers;
  }
  std::printf("FINDING %s  %s (rule version %u) on %s %s\n", rec.id.c_str(), rec.rule_id.c_str(),
              rec.rule_version, std::string(reconcile::SubjectTypeName(rec.subject_type)).c_str(),
              rec.subject.c_str());
  std::printf(
      "recorded revision %u (%s) under policy %s version %llu, as of %s,\n"
      "on the evidence up to seq %llu\n",
      rec.revision, rec.status.c_str(), rec.policy_id.c_str(),
      static_cast<unsigned long long>(rec.policy_version), ShortTime(rec.as_of_ns).c_str(),
      static_cast<unsigned long long>(rec.horizon));
  std::printf("replayed under policy version %llu%s\n\n",
              static_cast<unsigned long long>(r->policy_version),
              r->scratch ? " on a copy of the ledger up to that seq" : "");
  if (r->expected_to_fire) {
    PrintFinding("RECORDED", rec);
  } else {
    std::printf("RECORDED\n  resolved: %s\n", rec.resolution.c_str());
  }
  if (r->replayed) {
    PrintFinding("REPLAYED", *r->replayed);
  } else {
    std::printf("REPLAYED\n  the rule does not fire\n");
  }
  std::printf("\n%s\n", r->same ? "SAME: the replay gives the recorded outcome" : "DIFFERENT:");
  for (const auto& d : r->differences) std::printf("  - %s\n", d.c_str());
  return r->same ? kExitOk : kExitReplayDiffers;
}

}  // namespace

void RegisterReconcileCommands(CLI::App& app, Context& ctx, int* exit_code) {
  {
    auto a = std::make_shared<ReconcileArgs>();
    auto* cmd = app.add_subcommand(
        "reconcile", "Run every reconciliation rule over the ledger and record the findings");
    cmd->add_option("--as-of", a->as_of,
                    "The time the time-based rules judge at (RFC 3339; default: now)");
    cmd->add_flag("--incremental", a->incremental,
                  "Only what changed since the last pass, and what fell due");
    cmd->add_flag("--json", a->json, "JSON output");
    cmd->callback([&ctx, exit_code, a] { *exit_code = RunReconcile(ctx, *a); });
  }
  {
    auto a = std::make_shared<FindingsArgs>();
    auto* cmd = app.add_subcommand("findings", "The findings of reconciliation");
    cmd->add_option("--rule", a->rule, "Only this rule");
    cmd->add_option("--severity", a->severity, "Only this severity or higher");
    cmd->add_flag("--open", a->open, "Only open findings");
    cmd->add_option("--limit", a->limit, "At most N");
    cmd->add_flag("--json", a->json, "JSON output");
    cmd->callback([&ctx, exit_code, a] { *exit_code = RunFindings(ctx, *a); });
  }
  {
    auto id = std::make_shared<std::string>();
    auto version = std::make_shared<std::optional<uint64_t>>();
    auto as_json = std::make_shared<bool>(false);
    auto* cmd = app.add_subcommand(
        "replay", "Re-evaluate a finding's rule on the evidence as it stood; same or different?");
    cmd->add_option("finding", *id, "The finding id (F + 16 hex digits)")->required();
    cmd->add_option("--policy", *version, "Judge with this policy version instead");
    cmd->add_flag("--json", *as_json, "JSON output");
    cmd->callback([&ctx, exit_code, id, version, as_json] {
      *exit_code = RunReplay(ctx, *id, *version, *as_json);
    });
  }
}

}  // namespace nhitrace::cli
