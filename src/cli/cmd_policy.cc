// nhitrace policy publish|list|show|diff (docs/cli.md, docs/format/policy.md).
#include <cstdio>
#include <cstdlib>

#include <CLI/CLI.hpp>

#include "base/file.h"
#include "base/time.h"
#include "cases/case_policy.h"
#include "cli/commands.h"
#include "json/writer.h"
#include "policy/policy.h"

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

void WriteInfo(json::JsonWriter& w, const policy::PolicyInfo& i) {
  w.Key("version").Uint(i.version);
  w.Key("seq").Uint(i.seq);
  w.Key("id").String(i.id);
  w.Key("hash").String(i.hash);
  w.Key("canonical_hash").String(i.canonical_hash);
  w.Key("published_at").String(FormatRfc3339Utc(i.published_ns, 9));
  w.Key("published_by").String(i.published_by);
  w.Key("note").String(i.note);
}

struct PublishArgs {
  std::string file, by, note;
  bool json = false;
};

int RunPublish(Context& ctx, const PublishArgs& a) {
  auto yaml = ReadFileToString(a.file, policy::kMaxDocumentBytes + 1);
  if (!yaml.ok()) {
    PrintError(yaml.status().WithContext(a.file));
    return kExitError;
  }
  std::string by = a.by;
  for (const char* env : {"NHITRACE_ACTOR", "USER", "LOGNAME"}) {
    if (!by.empty()) break;
    if (const char* v = std::getenv(env); v != nullptr) by = v;
  }
  if (by.empty()) {
    PrintError(InvalidArgumentError("say who publishes the policy: --by NAME"));
    return kExitUsage;
  }
  // Validate before opening the ledger: a bad document is reported without touching the store.
  // The `cases:` section is checked as the cases module reads it (reconcile opens cases by it).
  policy::ParseOptions parse;
  parse.validate_cases = cases::ValidateCasesSection;
  auto parsed = policy::ParsePolicy(*yaml, a.file, parse);
  if (!parsed.ok()) {
    PrintError(parsed.status());
    return kExitError;
  }
  ctx.set_reconcile(false);  // publishing appends one event; `reconcile` applies the policy
  auto ledger = ctx.OpenLedger(true);
  if (!ledger.ok()) {
    PrintError(ledger.status());
    return kExitError;
  }
  policy::PublishOptions o;
  o.source_name = a.file;
  o.published_by = by;
  o.note = a.note;
  o.parse = parse;
  auto r = policy::PublishPolicy(**ledger, *yaml, o);
  if (!r.ok()) {
    PrintError(r.status());
    return kExitError;
  }
  if (a.json) {
    json::JsonWriter w;
    w.BeginObject();
    WriteInfo(w, r->info);
    w.Key("unchanged").Bool(r->unchanged);
    w.EndObject();
    std::printf("%s\n", w.str().c_str());
  } else if (r->unchanged) {
    std::printf("unchanged: %s is identical to version %llu; nothing was published\n",
                a.file.c_str(), static_cast<unsigned long long>(r->info.version));
  } else {
    std::printf("published policy %s version %llu (%s) as event %llu\n", r->info.id.c_str(),
                static_cast<unsigned long long>(r->info.version), r->info.hash.c_str(),
                static_cast<unsigned long long>(r->info.seq));
    std::printf(
        "it applies from the next reconciliation (`nhitrace reconcile`, or the next "
        "ingest)\n");
  }
  return kExitOk;
}

int RunList(Context& ctx, bool as_json) {
  auto store = ctx.OpenStoreOnly();
  if (!store.ok()) {
    PrintError(store.status());
    return kExitError;
  }
  auto list = policy::ListPolicies(**store);
  if (!list.ok()) {
    PrintError(list.status());
    return kExitError;
  }
  if (as_json) {
    json::JsonWriter w;
    w.BeginArray();
    for (const auto& i : *list) {
      w.BeginObject();
      WriteInfo(w, i);
      w.EndObject();
    }
    w.EndArray();
    std::printf("%s\n", w.str().c_str());
    return kExitOk;
  }
  // 80 columns: 4 + 20 + 16 + 18 + 17 and four separating spaces.
  std::printf("%4s %-20s %-16s %-18s %-17s\n", "VER", "PUBLISHED (UTC)", "ID", "BY", "HASH");
  for (const auto& i : *list) {
    std::printf("%4llu %-20s %-16s %-18s %-17s\n", static_cast<unsigned long long>(i.version),
                ShortTime(i.published_ns).c_str(), Fit(i.id, 16).c_str(),
                Fit(i.published_by, 18).c_str(), i.hash.substr(0, 17).c_str());
    if (!i.note.empty()) std::printf("     %s\n", Fit(i.note, 75).c_str());
  }
  if (list->empty()) std::printf("no policy is published\n");
  return kExitOk;
}

int RunShow(Context& ctx, std::optional<uint64_t> version, bool as_json) {
  auto store = ctx.OpenStoreOnly();
  if (!store.ok()) {
    PrintError(store.status());
    return kExitError;
  }
  auto p = policy::LoadPolicy(**store, version);
  if (!p.ok()) {
    PrintError(p.status());
    return kExitError;
  }
  if (!as_json) {
    std::fwrite(p->document.data(), 1, p->document.size(), stdout);  // exactly as published
    return kExitOk;
  }
  json::JsonWriter w;
  w.BeginObject();
  policy::PolicyInfo info;
  info.version = p->version;
  info.seq = p->seq;
  info.id = p->id;
  info.hash = p->hash;
  info.canonical_hash = p->canonical_hash;
  info.published_ns = p->published_ns;
  info.published_by = p->published_by;
  WriteInfo(w, info);
  w.Key("document").String(p->document);
  w.Key("canonical").Raw(p->canonical_json);
  w.EndObject();
  std::printf("%s\n", w.str().c_str());
  return kExitOk;
}

int RunDiff(Context& ctx, uint64_t v1, uint64_t v2, bool as_json) {
  auto store = ctx.OpenStoreOnly();
  if (!store.ok()) {
    PrintError(store.status());
    return kExitError;
  }
  auto a = policy::LoadPolicy(**store, v1);
  auto b = a.ok() ? policy::LoadPolicy(**store, v2) : a;
  if (!b.ok()) {
    PrintError(b.status());
    return kExitError;
  }
  auto diff = policy::DiffPolicies(*a, *b);
  if (as_json) {
    json::JsonWriter w;
    w.BeginArray();
    for (const auto& d : diff) {
      w.BeginObject();
      w.Key("op").String(d.op == '+' ? "added" : d.op == '-' ? "removed" : "changed");
      w.Key("path").String(d.path);
      w.Key("before");
      d.before.empty() ? w.Null() : w.Raw(d.before);
      w.Key("after");
      d.after.empty() ? w.Null() : w.Raw(d.after);
      w.EndObject();
    }
    w.EndArray();
    std::printf("%s\n", w.str().c_str());
    return kExitOk;
  }
  std::printf("--- version %llu (%s)\n+++ version %llu (%s)\n", static_cast<unsigned long long>(v1),
              a->hash.substr(0, 19).c_str(), static_cast<unsigned long long>(v2),
              b->hash.substr(0, 19).c_str());
  for (const auto& d : diff) {
    if (d.op == '~') {
      std::printf("~ %s: %s -> %s\n", d.path.c_str(), d.before.c_str(), d.after.c_str());
    } else {
      std::printf("%c %s: %s\n", d.op, d.path.c_str(), (d.op == '+' ? d.after : d.before).c_str());
    }
  }
  if (diff.empty()) {
    std::printf(a->hash == b->hash ? "identical documents\n"
                                   : "the same policy (only comments or layout differ)\n");
  }
  return kExitOk;
}

}  // namespace

void RegisterPolicyCommands(CLI::App& app, Context& ctx, int* exit_code) {
  auto* policy = app.add_subcommand("policy", "Publish and inspect policy versions");
  policy->require_subcommand(1);
  {
    auto a = std::make_shared<PublishArgs>();
    auto* cmd = policy->add_subcommand("publish",
                                       "Validate a policy document and append it as "
                                       "the next version");
    cmd->add_option("file", a->file, "The YAML document (docs/format/policy.md)")->required();
    cmd->add_option("--by", a->by, "Who publishes it (default: $NHITRACE_ACTOR, else $USER)");
    cmd->add_option("--note", a->note, "Why (kept as the event's rationale)");
    cmd->add_flag("--json", a->json, "JSON output");
    cmd->callback([&ctx, exit_code, a] { *exit_code = RunPublish(ctx, *a); });
  }
  {
    auto as_json = std::make_shared<bool>(false);
    auto* cmd = policy->add_subcommand("list", "Every published version");
    cmd->add_flag("--json", *as_json, "JSON output");
    cmd->callback([&ctx, exit_code, as_json] { *exit_code = RunList(ctx, *as_json); });
  }
  {
    auto version = std::make_shared<std::optional<uint64_t>>();
    auto as_json = std::make_shared<bool>(false);
    auto* cmd = policy->add_subcommand("show", "A version's document, exactly as published");
    cmd->add_option("version", *version, "The version (default: the latest)");
    cmd->add_flag("--json", *as_json, "Metadata, the document and its canonical JSON");
    cmd->callback(
        [&ctx, exit_code, version, as_json] { *exit_code = RunShow(ctx, *version, *as_json); });
  }
  {
    auto v = std::make_shared<std::pair<uint64_t, uint64_t>>();
    auto as_json = std::make_shared<bool>(false);
    auto* cmd = policy->add_subcommand("diff", "What changed between two versions");
    cmd->add_option("v1", v->first, "The older version")->required();
    cmd->add_option("v2", v->second, "The newer version")->required();
    cmd->add_flag("--json", *as_json, "JSON output");
    cmd->callback([&ctx, exit_code, v, as_json] {
      *exit_code = RunDiff(ctx, v->first, v->second, *as_json);
    });
  }
}

}  // namespace nhitrace::cli
