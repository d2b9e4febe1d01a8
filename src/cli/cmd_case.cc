// nhitrace case ...: case management (docs/cases.md).
//
// There is no login on the command line: every command that changes a case names the person
// (or system) acting with --actor NAME (or $NHITRACE_ACTOR), and the ledger records it as the
// event's actor. The HTTP API sets the same from the caller's bearer token.
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>

#include <CLI/CLI.hpp>

#include "base/file.h"
#include "base/time.h"
#include "cases/case_policy.h"
#include "cases/explain.h"
#include "cases/projection.h"
#include "cases/session.h"
#include "cli/commands.h"
#include "json/writer.h"
#include "reconcile/case_link.h"

namespace nhitrace::cli {
namespace {

using cases::ActorRef;
using cases::CaseSession;
using cases::CaseView;
using cases::OpResult;

// The policy case commands run under: the latest published version, or the built-in defaults
// of docs/cases.md when none is published (the same as the API's case routes).
Result<cases::PolicyContext> LoadCasePolicy(store::Store& store) {
  return reconcile::LatestCasePolicyContext(store);
}

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

int Fail(const Status& s) {
  PrintError(s);
  return s.code() == StatusCode::kInvalidArgument ? kExitUsage : kExitError;
}

// Options every changing command has.
struct Common {
  std::string actor;
  std::string actor_type = "human";
  std::string reason;
  bool json = false;
};

void AddCommon(CLI::App* cmd, Common* c, bool reason_required, const char* reason_help) {
  cmd->add_option("--actor", c->actor,
                  "Who acts (required; default $NHITRACE_ACTOR): the CLI has no login");
  cmd->add_option("--actor-type", c->actor_type, "human (default), nhi or system")
      ->check(CLI::IsMember({"human", "nhi", "system"}));
  auto* r = cmd->add_option("--reason", c->reason, reason_help);
  if (reason_required) r->required();
  cmd->add_flag("--json", c->json, "JSON output");
}

Result<ActorRef> ActorOf(const Common& c) {
  ActorRef a;
  a.id = c.actor;
  if (a.id.empty()) {
    if (const char* env = std::getenv("NHITRACE_ACTOR"); env != nullptr) a.id = env;
  }
  if (a.id.empty()) {
    return InvalidArgumentError(
        "--actor is required: the command line has no login, so name the person acting (or set "
        "NHITRACE_ACTOR)");
  }
  a.type = c.actor_type;
  if (a.id == cases::kSystemActor && a.type != "system") {
    return InvalidArgumentError("the actor name \"nhitrace\" is reserved for nhitrace itself");
  }
  return a;
}

void WriteOp(json::JsonWriter& w, const OpResult& r) {
  w.BeginObject();
  w.Key("case").Uint(r.case_id);
  w.Key("op").Uint(r.op_seq);
  w.Key("seq").Uint(r.seq);
  w.Key("operation").String(cases::OpTypeName(r.type));
  w.Key("time").String(FormatRfc3339Utc(r.time_ns, 6));
  w.Key("actor").String(r.actor);
  w.Key("summary").String(cases::SummarizeOp(r.op));
  w.Key("state").String(cases::CaseStateName(r.view.state));
  w.EndObject();
}

void PrintOps(const std::vector<OpResult>& ops) {
  for (const OpResult& r : ops) {
    std::printf("case %llu op %u (seq %llu): %s\n", static_cast<unsigned long long>(r.case_id),
                r.op_seq, static_cast<unsigned long long>(r.seq), cases::SummarizeOp(r.op).c_str());
  }
}

// Runs a changing command: records due timers, runs `op`, commits, prints what was written.
// Timer events recorded before a refused operation are still committed: they happened.
int RunChange(Context& ctx, const Common& c,
              const std::function<Result<std::vector<OpResult>>(CaseSession&, const ActorRef&)>& op,
              const Clock* session_clock = nullptr) {
  auto actor = ActorOf(c);
  if (!actor.ok()) return Fail(actor.status());
  auto ledger = ctx.OpenLedger(/*need_signer=*/true);
  if (!ledger.ok()) return Fail(ledger.status());
  store::Store& store = (*ledger)->store();
  auto policy = LoadCasePolicy(store);
  if (!policy.ok()) return Fail(policy.status());
  auto batch = (*ledger)->BeginBatch();
  if (!batch.ok()) return Fail(batch.status());
  cases::BatchEventWriter writer(**batch);
  CaseSession session(store, *ctx.case_projection(), writer,
                      {session_clock ? session_clock : &ctx.clock(), *policy, nullptr});
  auto ticks = session.Tick();
  if (!ticks.ok()) return Fail(ticks.status());
  auto result = op(session, *actor);
  std::vector<OpResult> all = std::move(*ticks);
  if (result.ok()) {
    for (auto& r : *result) all.push_back(std::move(r));
  }
  if (!all.empty() || result.ok()) {
    Status s = (*batch)->Commit();
    if (!s.ok()) return Fail(s.WithContext("commit"));
  }
  if (!result.ok()) {
    if (!all.empty() && !c.json) PrintOps(all);
    if (result.status().code() == StatusCode::kPermissionDenied && session.sod_violation()) {
      // Segregation of duties: the rule broken, by its stable name (docs/cases.md section 3).
      return Fail(Status(StatusCode::kPermissionDenied,
                         result.status().message() + " (rule " +
                             std::string(cases::SodRuleName(session.sod_violation()->rule)) + ")"));
    }
    return Fail(result.status());
  }
  if (c.json) {
    json::JsonWriter w;
    w.BeginObject();
    w.Key("ops").BeginArray();
    for (const OpResult& r : all) WriteOp(w, r);
    w.EndArray();
    if (!all.empty()) w.Key("case").Raw(cases::CaseViewToJson(all.back().view));
    w.EndObject();
    std::printf("%s\n", w.str().c_str());
  } else {
    PrintOps(all);
    if (all.empty()) std::printf("nothing was due\n");
  }
  return kExitOk;
}

std::vector<OpResult> One(OpResult r) {
  std::vector<OpResult> v;
  v.push_back(std::move(r));
  return v;
}

template <typename T>
Result<std::vector<OpResult>> Wrap(Result<T> r) {
  if (!r.ok()) return r.status();
  return One(std::move(r).value());
}

struct Links {
  std::vector<std::string> identities, findings, chains, tickets;
  std::vector<uint64_t> events;
  cases::LinkSet Get() const { return {identities, findings, chains, tickets, events}; }
};

void AddLinkOptions(CLI::App* cmd, Links* l) {
  cmd->add_option("--identity", l->identities, "Link an identity key (repeatable)");
  cmd->add_option("--event", l->events, "Link a ledger event by seq (repeatable)");
  cmd->add_option("--finding", l->findings, "Link a finding id (repeatable)");
  cmd->add_option("--chain", l->chains, "Link a grant chain by request id (repeatable)");
  cmd->add_option("--ticket", l->tickets, "Link an external ticket reference (repeatable)");
}

template <typename E, size_t N>
CLI::Validator MemberOf(const E (&all)[N], std::string_view (*name)(E)) {
  std::vector<std::string> names;
  for (E e : all) names.emplace_back(name(e));
  return CLI::IsMember(names);
}

// Renders a case for `case show`.
void PrintCase(const CaseView& v, int64_t now) {
  std::printf("CASE %llu  %s  %s  %s%s\n", static_cast<unsigned long long>(v.id),
              std::string(cases::CaseKindName(v.kind)).c_str(),
              std::string(cases::SeverityName(v.severity)).c_str(),
              std::string(cases::CaseStateName(v.state)).c_str(),
              v.resolution.empty() ? "" : (" (" + v.resolution + ")").c_str());
  std::printf("\"%s\"\n", v.title.c_str());
  std::printf("opened     %s by %s; requester %s\n", ShortTime(v.opened.time_ns).c_str(),
              v.opened.actor.c_str(), v.requester.c_str());
  std::printf("owner      %s\n", v.owner.empty() ? "(none)" : v.owner.c_str());
  std::printf("updated    %s, %u ops\n", ShortTime(v.updated_ns).c_str(), v.op_count);
  for (const auto& l : v.links) std::printf("linked     %s %s\n", l.type.c_str(), l.value.c_str());
  auto timer = [&](const char* name, const cases::SlaTimer& t) {
    if (!t.due_ns) return;
    std::string st = t.met        ? "met " + ShortTime(t.met->time_ns)
                     : t.breached ? "BREACHED (recorded " + ShortTime(t.breached->time_ns) + ")"
                     : *t.due_ns <= now ? "OVERDUE (not yet recorded: case tick)"
                                        : "running";
    std::printf("sla        %s due %s: %s\n", name, ShortTime(*t.due_ns).c_str(), st.c_str());
  };
  timer("respond", v.respond);
  timer("resolve", v.resolve);
  if (v.escalation_level > 0) {
    std::printf("escalated  level %u to %s\n", v.escalation_level, v.escalated_to.c_str());
  }
  for (const auto& s : v.escalation) {
    if (s.fired || s.cancelled) continue;
    std::printf("escalation level %u to %s due %s\n", s.level, s.to.c_str(),
                ShortTime(s.due_ns).c_str());
  }
  if (auto due = cases::NextDue(v)) {
    std::printf("next due   %s%s\n", ShortTime(*due).c_str(),
                *due <= now ? "  (overdue: recorded by the next case command or case tick)" : "");
  }
  if (!v.tasks.empty()) {
    std::printf("\nTASKS\n");
    for (const auto& t : v.tasks) {
      std::printf("  %u [%s] %s%s%s\n", t.id, t.status.c_str(), t.title.c_str(),
                  t.owner.empty() ? "" : (" (" + t.owner + ")").c_str(),
                  t.due_ns ? (" due " + ShortTime(*t.due_ns)).c_str() : "");
    }
  }
  if (!v.decisions.empty()) {
    std::printf("\nDECISIONS\n");
    for (const auto& d : v.decisions) {
      std::printf("  %u %s by %s at %s [%s]: %s\n", d.id,
                  std::string(cases::OutcomeName(d.outcome)).c_str(), d.at.actor.c_str(),
                  ShortTime(d.at.time_ns).c_str(), d.status.c_str(), d.rationale.c_str());
      if (!d.control_owner.empty()) {
        std::printf("    control owner %s: %s\n", d.control_owner.c_str(),
                    d.risk ? ("risk accepted " + ShortTime(d.risk->at.time_ns)).c_str()
                           : "risk NOT accepted yet");
      }
      if (d.exception) {
        std::printf("    exception until %s, re-review by %s [%s]\n",
                    ShortTime(d.exception->expires_ns).c_str(),
                    ShortTime(d.exception->review_ns).c_str(), d.exception->status.c_str());
      }
    }
  }
  if (!v.attachments.empty()) {
    std::printf("\nATTACHMENTS\n");
    for (const auto& a : v.attachments) {
      std::printf("  %u %s sha256 %s%s\n", a.id, a.name.c_str(), a.sha256_hex.c_str(),
                  a.url.empty() ? "" : (" " + a.url).c_str());
    }
  }
  if (!v.verifications.empty()) {
    std::printf("\nVERIFICATIONS\n");
    for (const auto& x : v.verifications) {
      std::printf("  %s by %s at %s: %s\n", x.result.c_str(), x.at.actor.c_str(),
                  ShortTime(x.at.time_ns).c_str(), x.note.c_str());
    }
  }
  if (!v.comments.empty()) {
    std::printf("\nCOMMENTS\n");
    for (const auto& c : v.comments) {
      std::printf("  %s %s: %s\n", ShortTime(c.at.time_ns).c_str(), c.at.actor.c_str(),
                  c.text.c_str());
    }
  }
}

// A session over a read-only store, for commands that only look.
class NoWriter final : public cases::CaseEventWriter {
 public:
  Result<uint64_t> Append(const event::Event&) override {
    return FailedPreconditionError("this command does not write");
  }
};

}  // namespace

void RegisterCaseCommands(CLI::App& app, Context& ctx, int* exit_code) {
  CLI::App* cmd = app.add_subcommand("case", "Case management: investigate, decide, close");
  cmd->require_subcommand(1);

  {  // open
    struct A {
      Common c;
      std::string kind = "alert", severity = "medium", title, description, requester, reporter,
                  channel;
      Links links;
    };
    auto a = std::make_shared<A>();
    auto* s = cmd->add_subcommand("open", "Open a case");
    s->add_option("--kind", a->kind,
                  "alert, finding, access_review, exception, support, "
                  "offboarding or incident (default alert)")
        ->check(MemberOf(cases::kAllCaseKinds, cases::CaseKindName));
    s->add_option("--severity", a->severity, "low, medium (default), high or critical")
        ->check(MemberOf(cases::kAllSeverities, cases::SeverityName));
    s->add_option("--title", a->title, "One line")->required();
    s->add_option("--description", a->description, "Free text");
    s->add_option("--requester", a->requester, "Who asked (default: the actor)");
    s->add_option("--reporter", a->reporter, "Support cases: who reported it");
    s->add_option("--channel", a->channel, "Support cases: where it was reported (chat, ...)");
    AddLinkOptions(s, &a->links);
    AddCommon(s, &a->c, false, "Why the case is opened");
    s->callback([&ctx, exit_code, a] {
      *exit_code = RunChange(ctx, a->c, [&](CaseSession& ss, const ActorRef& actor) {
        cases::OpenArgs o;
        o.kind = *cases::ParseCaseKind(a->kind);
        o.severity = *cases::ParseSeverity(a->severity);
        o.title = a->title;
        o.description = a->description;
        o.requester = a->requester;
        o.reporter = a->reporter;
        o.channel = a->channel;
        o.links = a->links.Get();
        o.reason = a->c.reason;
        return Wrap(ss.Open(o, actor));
      });
    });
  }
  {  // set
    struct A {
      Common c;
      uint64_t id = 0;
      std::string severity, title;
    };
    auto a = std::make_shared<A>();
    auto* s = cmd->add_subcommand("set", "Change a case's severity or title");
    s->add_option("id", a->id, "Case id")->required();
    s->add_option("--severity", a->severity, "New severity (re-plans the SLA timers)")
        ->check(MemberOf(cases::kAllSeverities, cases::SeverityName));
    s->add_option("--title", a->title, "New title");
    AddCommon(s, &a->c, true, "Why (required)");
    s->callback([&ctx, exit_code, a] {
      *exit_code = RunChange(ctx, a->c, [&](CaseSession& ss, const ActorRef& actor) {
        std::optional<cases::Severity> sev;
        if (!a->severity.empty()) sev = cases::ParseSeverity(a->severity);
        return Wrap(ss.Set(a->id, sev, a->title, actor, a->c.reason));
      });
    });
  }
  {  // assign
    struct A {
      Common c;
      uint64_t id = 0;
      std::string to;
    };
    auto a = std::make_shared<A>();
    auto* s = cmd->add_subcommand("assign", "Make someone the owner of a case");
    s->add_option("id", a->id, "Case id")->required();
    s->add_option("--to", a->to, "The new owner")->required();
    AddCommon(s, &a->c, false, "Why");
    s->callback([&ctx, exit_code, a] {
      *exit_code = RunChange(ctx, a->c, [&](CaseSession& ss, const ActorRef& actor) {
        return Wrap(ss.Assign(a->id, a->to, actor, a->c.reason));
      });
    });
  }
  {  // transition
    struct A {
      Common c;
      uint64_t id = 0;
      std::string to;
    };
    auto a = std::make_shared<A>();
    auto* s = cmd->add_subcommand("transition", "Move a case to another state");
    s->add_option("id", a->id, "Case id")->required();
    s->add_option("--to", a->to, "The new state")
        ->required()
        ->check(MemberOf(cases::kAllCaseStates, cases::CaseStateName));
    AddCommon(s, &a->c, true, "Why (required)");
    s->callback([&ctx, exit_code, a] {
      *exit_code = RunChange(ctx, a->c, [&](CaseSession& ss, const ActorRef& actor) {
        return Wrap(ss.Transition(a->id, *cases::ParseCaseState(a->to), actor, a->c.reason));
      });
    });
  }
  {  // escalate
    struct A {
      Common c;
      uint64_t id = 0;
      std::string to;
    };
    auto a = std::make_shared<A>();
    auto* s = cmd->add_subcommand("escalate", "Escalate a case by hand to the next level");
    s->add_option("id", a->id, "Case id")->required();
    s->add_option("--to", a->to, "Who it is escalated to")->required();
    AddCommon(s, &a->c, true, "Why (required)");
    s->callback([&ctx, exit_code, a] {
      *exit_code = RunChange(ctx, a->c, [&](CaseSession& ss, const ActorRef& actor) {
        return Wrap(ss.Escalate(a->id, a->to, a->c.reason, actor));
      });
    });
  }
  {  // comment
    struct A {
      Common c;
      uint64_t id = 0;
      std::string text;
    };
    auto a = std::make_shared<A>();
    auto* s = cmd->add_subcommand("comment", "Add a comment");
    s->add_option("id", a->id, "Case id")->required();
    s->add_option("--text", a->text, "The comment")->required();
    AddCommon(s, &a->c, false, "(unused for comments)");
    s->callback([&ctx, exit_code, a] {
      *exit_code = RunChange(ctx, a->c, [&](CaseSession& ss, const ActorRef& actor) {
        return Wrap(ss.Comment(a->id, a->text, actor));
      });
    });
  }
  {  // task
    struct A {
      Common c;
      uint64_t id = 0;
      std::string action, title, owner, due;
      uint32_t task = 0;
    };
    auto a = std::make_shared<A>();
    auto* s = cmd->add_subcommand("task", "Add a task, or mark one done, cancelled or open again");
    s->add_option("id", a->id, "Case id")->required();
    s->add_option("action", a->action, "add, done, cancel or reopen")
        ->required()
        ->check(CLI::IsMember({"add", "done", "cancel", "reopen"}));
    s->add_option("--task", a->task, "The task number (done, cancel, reopen)");
    s->add_option("--title", a->title, "What is to be done (add)");
    s->add_option("--owner", a->owner, "Who does it (add)");
    s->add_option("--due", a->due, "Due date: RFC 3339 or +DURATION (add)");
    AddCommon(s, &a->c, false, "Why");
    s->callback([&ctx, exit_code, a] {
      *exit_code = RunChange(
          ctx, a->c, [&](CaseSession& ss, const ActorRef& actor) -> Result<std::vector<OpResult>> {
            if (a->action == "add") {
              std::optional<int64_t> due;
              if (!a->due.empty()) {
                NHI_ASSIGN_OR_RETURN(int64_t d,
                                     cases::ParseTimeOrOffset("--due", a->due, ss.Now()));
                due = d;
              }
              return Wrap(ss.AddTask(a->id, a->title, a->owner, due, actor, a->c.reason));
            }
            if (a->task == 0) return InvalidArgumentError("--task N is required for " + a->action);
            return Wrap(ss.UpdateTask(a->id, a->task, a->action, actor, a->c.reason));
          });
    });
  }
  {  // attach
    struct A {
      Common c;
      uint64_t id = 0;
      std::string file, url, sha256, name, media_type;
    };
    auto a = std::make_shared<A>();
    auto* s = cmd->add_subcommand(
        "attach", "Attach evidence: a file (kept, hashed) or a URL with the hash of its content");
    s->add_option("id", a->id, "Case id")->required();
    s->add_option("--file", a->file, "A file to keep with the case (at most 64 MiB)");
    s->add_option("--url", a->url,
                  "A URL (not fetched: give --sha256, or --file with its content)");
    s->add_option("--sha256", a->sha256, "The SHA-256 of the content, in hex");
    s->add_option("--name", a->name, "A name for it (default: the file name or URL)");
    s->add_option("--media-type", a->media_type, "e.g. image/png");
    AddCommon(s, &a->c, false, "Why it is evidence");
    s->callback([&ctx, exit_code, a] {
      *exit_code = RunChange(
          ctx, a->c, [&](CaseSession& ss, const ActorRef& actor) -> Result<std::vector<OpResult>> {
            cases::AttachArgs x;
            x.url = a->url;
            x.sha256_hex = a->sha256;
            x.media_type = a->media_type;
            x.reason = a->c.reason;
            if (!a->file.empty()) {
              NHI_ASSIGN_OR_RETURN(std::string bytes,
                                   ReadFileToString(a->file, cases::kMaxAttachmentBytes));
              x.bytes = std::move(bytes);
            }
            x.name = a->name;
            if (x.name.empty()) {
              const std::string& from = a->file.empty() ? a->url : a->file;
              x.name = a->file.empty() ? from : from.substr(from.find_last_of('/') + 1);
            }
            return Wrap(ss.Attach(a->id, x, actor));
          });
    });
  }
  {  // link
    struct A {
      Common c;
      uint64_t id = 0;
      Links links;
    };
    auto a = std::make_shared<A>();
    auto* s = cmd->add_subcommand("link", "Link identities, events, findings, grants, tickets");
    s->add_option("id", a->id, "Case id")->required();
    AddLinkOptions(s, &a->links);
    AddCommon(s, &a->c, false, "Why");
    s->callback([&ctx, exit_code, a] {
      *exit_code = RunChange(ctx, a->c, [&](CaseSession& ss, const ActorRef& actor) {
        return Wrap(ss.Link(a->id, a->links.Get(), actor, a->c.reason));
      });
    });
  }
  {  // decide
    struct A {
      Common c;
      uint64_t id = 0;
      std::string outcome, rationale, control_owner, identity, chain;
      std::vector<uint64_t> signal_events;
      std::vector<std::string> signal_findings;
      std::optional<uint32_t> overrides_decision;
      std::optional<uint64_t> overrides_event;
    };
    auto a = std::make_shared<A>();
    auto* s = cmd->add_subcommand("decide", "Record a decision");
    s->add_option("id", a->id, "Case id")->required();
    s->add_option("--outcome", a->outcome,
                  "approve, deny, override, revoke, rotate or accept_risk (exceptions: case "
                  "except)")
        ->required()
        ->check(MemberOf(cases::kAllOutcomes, cases::OutcomeName));
    s->add_option("--rationale", a->rationale, "Why (required)")->required();
    s->add_option("--signal-event", a->signal_events, "A ledger event relied on (repeatable)");
    s->add_option("--signal-finding", a->signal_findings, "A finding relied on (repeatable)");
    s->add_option("--overrides-decision", a->overrides_decision,
                  "override: the deny decision of this case it overrides");
    s->add_option("--overrides-event", a->overrides_event,
                  "override: the denial event (seq) it overrides");
    s->add_option("--control-owner", a->control_owner,
                  "override: the control owner who must accept the residual risk");
    s->add_option("--identity", a->identity,
                  "The linked identity it is about (default: the case's only one)");
    s->add_option("--chain", a->chain,
                  "The linked request it is about (default: the case's only one)");
    AddCommon(s, &a->c, false, "(the rationale is the reason)");
    s->callback([&ctx, exit_code, a] {
      *exit_code = RunChange(ctx, a->c, [&](CaseSession& ss, const ActorRef& actor) {
        cases::DecideArgs d;
        d.outcome = *cases::ParseOutcome(a->outcome);
        d.rationale = a->rationale;
        d.signal_events = a->signal_events;
        d.signal_findings = a->signal_findings;
        d.overrides_decision = a->overrides_decision;
        d.overrides_event = a->overrides_event;
        d.control_owner = a->control_owner;
        d.identity = a->identity;
        d.correlation_key = a->chain;
        return Wrap(ss.Decide(a->id, d, actor));
      });
    });
  }
  {  // accept-risk
    struct A {
      Common c;
      uint64_t id = 0;
      uint32_t decision = 0;
      std::string rationale, until;
    };
    auto a = std::make_shared<A>();
    auto* s = cmd->add_subcommand(
        "accept-risk", "As the named control owner, accept the residual risk of an override");
    s->add_option("id", a->id, "Case id")->required();
    s->add_option("--decision", a->decision, "The override decision")->required();
    s->add_option("--rationale", a->rationale, "Why the risk is acceptable (required)")->required();
    s->add_option("--until", a->until, "Acceptance valid until: RFC 3339 or +DURATION");
    AddCommon(s, &a->c, false, "(the rationale is the reason)");
    s->callback([&ctx, exit_code, a] {
      *exit_code = RunChange(
          ctx, a->c, [&](CaseSession& ss, const ActorRef& actor) -> Result<std::vector<OpResult>> {
            std::optional<int64_t> until;
            if (!a->until.empty()) {
              NHI_ASSIGN_OR_RETURN(int64_t u,
                                   cases::ParseTimeOrOffset("--until", a->until, ss.Now()));
              until = u;
            }
            return Wrap(ss.AcceptRisk(a->id, a->decision, a->rationale, until, actor));
          });
    });
  }
  {  // except
    struct A {
      Common c;
      uint64_t id = 0;
      std::string justification, expires, review_by, identity, chain;
      std::vector<std::string> controls, signal_findings;
      std::vector<uint64_t> signal_events;
    };
    auto a = std::make_shared<A>();
    auto* s = cmd->add_subcommand("except", "Grant an exception with an expiry and controls");
    s->add_option("id", a->id, "Case id")->required();
    s->add_option("--justification", a->justification, "The business justification")->required();
    s->add_option("--expires", a->expires, "Expiry: RFC 3339 or +DURATION")->required();
    s->add_option("--review-by", a->review_by, "Re-review date: RFC 3339 or +DURATION")->required();
    s->add_option("--control", a->controls, "A compensating control (repeatable, at least one)")
        ->required();
    s->add_option("--signal-event", a->signal_events, "A ledger event relied on (repeatable)");
    s->add_option("--signal-finding", a->signal_findings, "A finding relied on (repeatable)");
    s->add_option("--identity", a->identity,
                  "The linked identity it covers (default: the case's only one)");
    s->add_option("--chain", a->chain,
                  "The linked request it covers (default: the case's only one)");
    AddCommon(s, &a->c, false, "(the justification is the reason)");
    s->callback([&ctx, exit_code, a] {
      *exit_code = RunChange(
          ctx, a->c, [&](CaseSession& ss, const ActorRef& actor) -> Result<std::vector<OpResult>> {
            cases::ExceptArgs x;
            x.justification = a->justification;
            NHI_ASSIGN_OR_RETURN(x.expires_ns,
                                 cases::ParseTimeOrOffset("--expires", a->expires, ss.Now()));
            NHI_ASSIGN_OR_RETURN(x.review_ns,
                                 cases::ParseTimeOrOffset("--review-by", a->review_by, ss.Now()));
            x.compensating_controls = a->controls;
            x.signal_events = a->signal_events;
            x.signal_findings = a->signal_findings;
            return Wrap(ss.Except(a->id, x, actor));
          });
    });
  }
  {  // verify
    struct A {
      Common c;
      uint64_t id = 0;
      std::string result, note;
      std::vector<uint64_t> evidence;
    };
    auto a = std::make_shared<A>();
    auto* s = cmd->add_subcommand("verify", "Record a verification of the remediation");
    s->add_option("id", a->id, "Case id")->required();
    s->add_option("--result", a->result, "passed or failed")
        ->required()
        ->check(CLI::IsMember({"passed", "failed"}));
    s->add_option("--note", a->note, "What was checked");
    s->add_option("--evidence", a->evidence, "A ledger event proving it (repeatable)");
    AddCommon(s, &a->c, false, "(the note is the reason)");
    s->callback([&ctx, exit_code, a] {
      *exit_code = RunChange(ctx, a->c, [&](CaseSession& ss, const ActorRef& actor) {
        return Wrap(ss.Verify(a->id, a->result, a->note, a->evidence, actor));
      });
    });
  }
  {  // support
    struct A {
      Common c;
      uint64_t id = 0;
      cases::SupportArgs s;
    };
    auto a = std::make_shared<A>();
    auto* s = cmd->add_subcommand("support", "Record the support trail of a support case");
    s->add_option("id", a->id, "Case id")->required();
    s->add_option("--reporter", a->s.reporter, "Who reported it");
    s->add_option("--channel", a->s.channel, "Where: chat, email, phone, portal, ...");
    s->add_option("--affected-identity", a->s.affected_identity, "The identity key concerned");
    s->add_option("--entitlement-diff", a->s.entitlement_diff,
                  "What access it had vs. what it needed");
    s->add_option("--approved-change", a->s.approved_change, "The approved change (ticket id)");
    s->add_option("--remediation", a->s.remediation, "What was done");
    AddCommon(s, &a->c, false, "Why");
    s->callback([&ctx, exit_code, a] {
      *exit_code = RunChange(ctx, a->c, [&](CaseSession& ss, const ActorRef& actor) {
        cases::SupportArgs x = a->s;
        x.reason = a->c.reason;
        return Wrap(ss.Support(a->id, x, actor));
      });
    });
  }
  {  // close
    struct A {
      Common c;
      uint64_t id = 0;
      std::string resolution = "resolved";
      bool check = false;
    };
    auto a = std::make_shared<A>();
    auto* s = cmd->add_subcommand("close", "Close a case once its closure criteria are met");
    s->add_option("id", a->id, "Case id")->required();
    s->add_option("--resolution", a->resolution,
                  "resolved (default), false_positive, duplicate, risk_accepted or "
                  "exception_granted")
        ->check(MemberOf(cases::kAllResolutions, cases::ResolutionName));
    s->add_flag("--check", a->check, "Only evaluate the closure criteria; change nothing");
    AddCommon(s, &a->c, false, "Why (required unless --check)");
    s->callback([&ctx, exit_code, a] {
      auto resolution = *cases::ParseResolution(a->resolution);
      if (a->check) {
        auto store = ctx.OpenStoreOnly();
        if (!store.ok()) {
          *exit_code = Fail(store.status());
          return;
        }
        auto policy = LoadCasePolicy(**store);
        if (!policy.ok()) {
          *exit_code = Fail(policy.status());
          return;
        }
        cases::CaseProjection proj(**store);
        NoWriter none;
        CaseSession ss(**store, proj, none, {&ctx.clock(), *policy, nullptr});
        auto results = ss.CheckClosure(a->id, resolution);
        if (!results.ok()) {
          *exit_code = Fail(results.status());
          return;
        }
        bool all = true;
        json::JsonWriter w;
        w.BeginArray();
        for (const auto& r : *results) {
          all = all && r.met;
          if (a->c.json) {
            w.BeginObject();
            w.Key("id").String(r.id);
            w.Key("met").Bool(r.met);
            w.Key("detail").String(r.detail);
            w.Key("evidence").BeginArray();
            for (uint64_t e : r.evidence) w.Uint(e);
            w.EndArray();
            w.EndObject();
          } else {
            std::printf("%s %-30s %s\n", r.met ? "ok     " : "MISSING", r.id.c_str(),
                        r.detail.c_str());
          }
        }
        w.EndArray();
        if (a->c.json) std::printf("%s\n", w.str().c_str());
        *exit_code = all ? kExitOk : kExitError;
        return;
      }
      if (a->c.reason.empty()) {
        *exit_code = Fail(InvalidArgumentError("--reason is required to close a case"));
        return;
      }
      *exit_code = RunChange(ctx, a->c, [&](CaseSession& ss, const ActorRef& actor) {
        return Wrap(ss.Close(a->id, resolution, a->c.reason, actor));
      });
    });
  }
  {  // reopen
    struct A {
      Common c;
      uint64_t id = 0;
    };
    auto a = std::make_shared<A>();
    auto* s = cmd->add_subcommand("reopen", "Reopen a closed case");
    s->add_option("id", a->id, "Case id")->required();
    AddCommon(s, &a->c, true, "Why (required)");
    s->callback([&ctx, exit_code, a] {
      *exit_code = RunChange(ctx, a->c, [&](CaseSession& ss, const ActorRef& actor) {
        return Wrap(ss.Reopen(a->id, a->c.reason, actor));
      });
    });
  }
  {  // tick
    struct A {
      Common c;
      std::string as_of;
    };
    auto a = std::make_shared<A>();
    auto* s = cmd->add_subcommand(
        "tick", "Record every timer that is due: SLA breaches, escalations, exception expiry");
    s->add_option("--as-of", a->as_of, "Evaluate as of this RFC 3339 time instead of now");
    s->add_flag("--json", a->c.json, "JSON output");
    s->callback([&ctx, exit_code, a] {
      a->c.actor = cases::kSystemActor;
      a->c.actor_type = "system";
      std::unique_ptr<FakeClock> fixed;
      if (!a->as_of.empty()) {
        auto t = ParseRfc3339(a->as_of);
        if (!t.ok()) {
          *exit_code = Fail(InvalidArgumentError("--as-of: " + t.status().message()));
          return;
        }
        fixed = std::make_unique<FakeClock>(t->unix_nanos);
      }
      *exit_code = RunChange(
          ctx, a->c,
          [](CaseSession&, const ActorRef&) -> Result<std::vector<OpResult>> {
            return std::vector<OpResult>();
          },
          fixed.get());
    });
  }
  {  // show
    struct A {
      uint64_t id = 0;
      bool json = false;
    };
    auto a = std::make_shared<A>();
    auto* s = cmd->add_subcommand("show", "A case as it stands");
    s->add_option("id", a->id, "Case id")->required();
    s->add_flag("--json", a->json, "JSON output (docs/cases.md)");
    s->callback([&ctx, exit_code, a] {
      auto store = ctx.OpenStoreOnly();
      if (!store.ok()) {
        *exit_code = Fail(store.status());
        return;
      }
      cases::CaseProjection proj(**store);
      auto v = proj.Load(a->id);
      if (!v.ok()) {
        *exit_code = Fail(v.status());
        return;
      }
      if (!*v) {
        *exit_code = Fail(NotFoundError("no case " + std::to_string(a->id)));
        return;
      }
      if (a->json) {
        std::printf("%s\n", cases::CaseViewToJson(**v).c_str());
      } else {
        PrintCase(**v, ctx.clock().NowUnixNanos());
      }
      *exit_code = kExitOk;
    });
  }
  {  // list
    struct A {
      store::CaseQuery q;
      bool json = false, due = false;
    };
    auto a = std::make_shared<A>();
    a->q.limit = 100;
    auto* s = cmd->add_subcommand("list", "List cases");
    s->add_option("--state", a->q.state, "Only this state")
        ->check(MemberOf(cases::kAllCaseStates, cases::CaseStateName));
    s->add_option("--kind", a->q.kind, "Only this kind")
        ->check(MemberOf(cases::kAllCaseKinds, cases::CaseKindName));
    s->add_option("--owner", a->q.owner, "Only this owner");
    s->add_option("--severity", a->q.severity, "Only this severity")
        ->check(MemberOf(cases::kAllSeverities, cases::SeverityName));
    s->add_flag("--open", a->q.open_only, "Only cases not closed");
    s->add_flag("--due", a->due, "Only cases with a timer due now");
    s->add_option("--after", a->q.after_id, "Only ids after this (paging)");
    s->add_option("--limit", a->q.limit, "At most this many (default 100)");
    s->add_flag("--json", a->json, "JSON output");
    s->callback([&ctx, exit_code, a] {
      auto store = ctx.OpenStoreOnly();
      if (!store.ok()) {
        *exit_code = Fail(store.status());
        return;
      }
      store::CaseQuery q = a->q;
      if (a->due) q.due_before = ctx.clock().NowUnixNanos();
      json::JsonWriter w;
      w.BeginArray();
      if (!a->json) {
        std::printf("%6s %-13s %-8s %-17s %-14s %-10s %s\n", "ID", "KIND", "SEVERITY", "STATE",
                    "OWNER", "UPDATED", "TITLE");
      }
      size_t count = 0;
      Status scanned = (*store)->ScanCases(q, [&](const store::CaseRow& r) {
        ++count;
        if (a->json) {
          w.BeginObject();
          w.Key("id").Uint(r.id);
          w.Key("kind").String(r.kind);
          w.Key("state").String(r.state);
          w.Key("severity").String(r.severity);
          w.Key("title").String(r.title);
          w.Key("owner").String(r.owner);
          w.Key("requester").String(r.requester);
          w.Key("opened").String(FormatRfc3339Utc(r.opened_ns, 6));
          w.Key("updated").String(FormatRfc3339Utc(r.updated_ns, 6));
          w.Key("closed");
          if (r.closed_ns) {
            w.String(FormatRfc3339Utc(*r.closed_ns, 6));
          } else {
            w.Null();
          }
          w.Key("next_due");
          if (r.next_due_ns) {
            w.String(FormatRfc3339Utc(*r.next_due_ns, 6));
          } else {
            w.Null();
          }
          w.Key("ops").Uint(r.op_count);
          w.Key("escalation_level").Uint(r.escalation_level);
          w.Key("open_tasks").Uint(r.open_tasks);
          w.EndObject();
        } else {
          std::printf("%6llu %-13s %-8s %-17s %-14s %-10s %s\n",
                      static_cast<unsigned long long>(r.id), r.kind.c_str(), r.severity.c_str(),
                      r.state.c_str(), Fit(r.owner.empty() ? "-" : r.owner, 14).c_str(),
                      ShortTime(r.updated_ns).substr(0, 10).c_str(), Fit(r.title, 40).c_str());
        }
        return OkStatus();
      });
      if (!scanned.ok()) {
        *exit_code = Fail(scanned);
        return;
      }
      w.EndArray();
      if (a->json) {
        std::printf("%s\n", w.str().c_str());
      } else {
        std::printf("%zu case%s\n", count, count == 1 ? "" : "s");
      }
      *exit_code = kExitOk;
    });
  }
  {  // explain
    struct A {
      uint64_t id = 0;
      bool json = false;
    };
    auto a = std::make_shared<A>();
    auto* s = cmd->add_subcommand(
        "explain", "Why was this case decided this way: the answer reconstructed from the ledger");
    s->add_option("id", a->id, "Case id")->required();
    s->add_flag("--json", a->json, "JSON output (docs/cases.md)");
    s->callback([&ctx, exit_code, a] {
      auto store = ctx.OpenStoreOnly();
      if (!store.ok()) {
        *exit_code = Fail(store.status());
        return;
      }
      auto x = cases::ExplainCase(**store, a->id);
      if (!x.ok()) {
        *exit_code = Fail(x.status());
        return;
      }
      std::string out = a->json ? cases::ExplanationToJson(*x) : cases::ExplanationToText(*x);
      std::fwrite(out.data(), 1, out.size(), stdout);
      if (a->json) std::fputs("\n", stdout);
      *exit_code = kExitOk;
    });
  }
  {  // rebuild
    auto* s = cmd->add_subcommand("rebuild", "Recompute the case tables from the ledger");
    s->callback([&ctx, exit_code] {
      auto store = ctx.OpenStoreOnly();
      if (!store.ok()) {
        *exit_code = Fail(store.status());
        return;
      }
      Status st = cases::CaseProjection::Rebuild(**store);
      if (!st.ok()) {
        *exit_code = Fail(st);
        return;
      }
      store::CaseQuery all;
      all.limit = SIZE_MAX >> 1;
      auto rows = (*store)->ListCases(all);
      auto rejected = (*store)->ListCaseRejections();
      if (!rows.ok() || !rejected.ok()) {
        *exit_code = Fail(rows.ok() ? rejected.status() : rows.status());
        return;
      }
      std::printf("rebuilt %zu case%s from the ledger", rows->size(), rows->size() == 1 ? "" : "s");
      if (!rejected->empty()) {
        std::printf("; %zu case event%s did not fit a case (the first: seq %llu: %s)",
                    rejected->size(), rejected->size() == 1 ? "" : "s",
                    static_cast<unsigned long long>(rejected->front().first),
                    rejected->front().second.c_str());
      }
      std::printf("\n");
      *exit_code = kExitOk;
    });
  }
}

}  // namespace nhitrace::cli
