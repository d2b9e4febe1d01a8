// Cases (docs/cases.md) over HTTP: list, show, explain, the closure check, and every case
// operation, each through cases::CaseSession exactly as `nhitrace case ...` runs it
// (src/cli/cmd_case.cc): on the writer thread, one ledger batch per request, the due timers of
// every case recorded first (Tick), then the operation; a refused operation appends nothing of
// its own (timer events that fell due are still committed: they happened).
//
// The actor of every operation is the acting token's name (type human); the api_audit row of the
// batch names the token too. Segregation of duties is CaseSession's (requester never decides,
// the control owner of an override is a different person, only the named control owner accepts
// its risk); the API adds one rule of its own: a risk acceptance needs a token of role
// control_owner (the route table allows no other role). Refusals map as documented in
// docs/api/README.md: kPermissionDenied -> 403 sod_violation with the rule named in details,
// kFailedPrecondition -> 409 failed_precondition (a refused transition names the states allowed,
// a refused close the criteria not met), kInvalidArgument -> 400, kNotFound -> 404.
#include <functional>

#include "api/json_body.h"
#include "api/route_groups.h"
#include "base/encoding.h"
#include "cases/case_policy.h"
#include "cases/explain.h"
#include "cases/session.h"
#include "json/writer.h"
#include "policy/policy.h"
#include "reconcile/case_link.h"

namespace nhitrace::api {
namespace {

using cases::ActorRef;
using cases::CaseSession;
using cases::OpResult;

// Who may do what with cases (the x-roles of docs/api/openapi.yaml).
constexpr RoleSet kCaseWorkRoles{Role::kInvestigator, Role::kAdmin};
constexpr RoleSet kCaseCommentRoles{Role::kInvestigator, Role::kApprover, Role::kControlOwner,
                                    Role::kAdmin};
constexpr RoleSet kCaseDecideRoles{Role::kApprover, Role::kAdmin};
constexpr RoleSet kCaseRiskRoles{Role::kControlOwner};

constexpr size_t kMaxListItems = 256;  // links, signals, controls, evidence per request
constexpr size_t kMaxInlineAttachmentBytes = size_t{8} << 20;

std::string StateArray(const std::vector<cases::CaseState>& states) {
  json::JsonWriter w;
  w.BeginArray();
  for (auto s : states) w.String(cases::CaseStateName(s));
  w.EndArray();
  return w.Take();
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

using OpFn = std::function<Result<OpResult>(CaseSession&, const ActorRef&)>;

// What a refused operation adds to its error's details (runs in the refused request's batch).
using RefusalFn = std::function<void(CaseSession&, json::JsonWriter&)>;

// Runs `op` as `nhitrace case` does (cli/cmd_case.cc RunChange), on the writer thread.
ApiResponse RunCaseChange(RequestContext& rc, Services& services, const std::string& action,
                          const OpFn& op, int success_status, const RefusalFn& on_refusal = {}) {
  if (services.case_projection == nullptr) {
    return ApiResponse(UnavailableError("this server has no case projection attached"));
  }
  ActorRef actor{rc.actor().name, "human"};
  std::vector<OpResult> all;
  Status refused;
  std::optional<cases::SodViolation> sod;  // the rule a kPermissionDenied refusal broke
  std::string refusal_details;
  const Clock& clock = rc.clock();
  cases::CaseProjection& projection = *services.case_projection;
  NHI_RETURN_IF_ERROR(rc.writer().Run(rc.Job(action, [&](ledger::Ledger& l) -> Status {
    NHI_ASSIGN_OR_RETURN(cases::PolicyContext policy,
                         reconcile::LatestCasePolicyContext(l.store()));
    NHI_ASSIGN_OR_RETURN(auto batch, l.BeginBatch());
    cases::BatchEventWriter writer(*batch);
    CaseSession session(l.store(), projection, writer, {&clock, policy, nullptr});
    NHI_ASSIGN_OR_RETURN(all, session.Tick());
    Result<OpResult> r = op(session, actor);
    if (r.ok()) {
      all.push_back(std::move(r).value());
    } else {
      refused = r.status();
      sod = session.sod_violation();
      json::JsonWriter d;
      d.BeginObject();
      if (on_refusal) on_refusal(session, d);
      d.EndObject();
      refusal_details = d.Take();
    }
    if (!all.empty()) return batch->Commit();
    return OkStatus();  // nothing to write: the batch rolls back
  })));
  if (!refused.ok()) {
    std::string message = SanitizeUtf8(refused.message());
    if (refused.code() == StatusCode::kPermissionDenied) {
      if (!sod)
        return ApiResponse(InternalError("a permission refusal without its rule: " + message));
      json::JsonWriter d;
      d.BeginObject();
      d.Key("rule").String(cases::SodRuleName(sod->rule));
      d.EndObject();
      return ApiResponse::Error(403, "sod_violation", message, d.Take());
    }
    if (refused.code() == StatusCode::kFailedPrecondition) {
      return ApiResponse::Error(409, "failed_precondition", message, refusal_details);
    }
    return ApiResponse(refused);
  }
  json::JsonWriter w;
  w.BeginObject();
  w.Key("ops").BeginArray();
  for (const OpResult& r : all) WriteOp(w, r);
  w.EndArray();
  w.Key("case").Raw(cases::CaseViewToJson(all.back().view));
  w.EndObject();
  return ApiResponse::Json(success_status, w.Take());
}

// Details of a refused operation: the case's state and where it may go from there.
void StateDetails(CaseSession& s, uint64_t id, json::JsonWriter& d) {
  auto v = s.Get(id);
  if (!v.ok()) return;
  d.Key("state").String(cases::CaseStateName(v->state));
  d.Key("allowed_states").Raw(StateArray(cases::AllowedTransitions(v->state)));
  d.Key("may_close").Bool(cases::MayCloseFrom(v->state));
}

Result<JsonBody> Body(RequestContext& rc, std::initializer_list<std::string_view> fields) {
  NHI_ASSIGN_OR_RETURN(std::string text, rc.ReadBody());
  NHI_ASSIGN_OR_RETURN(JsonBody body, JsonBody::Parse(text));
  NHI_RETURN_IF_ERROR(body.Fields(fields));
  return body;
}

Result<std::string> Opt(const JsonBody& b, std::string_view field, size_t max) {
  NHI_ASSIGN_OR_RETURN(auto v, b.OptionalString(field, max));
  return v.value_or("");
}

template <typename E>
Result<E> Enum(const JsonBody& b, std::string_view field,
               std::optional<E> (*parse)(std::string_view), const std::string& def,
               const std::string& choices) {
  NHI_ASSIGN_OR_RETURN(std::string s, Opt(b, field, 64));
  if (s.empty()) {
    if (def.empty()) return InvalidArgumentError(std::string(field) + ": required");
    s = def;
  }
  auto e = parse(s);
  if (!e) return InvalidArgumentError(std::string(field) + ": one of " + choices);
  return *e;
}

template <typename E, size_t N>
std::string Choices(const E (&all)[N], std::string_view (*name)(E)) {
  std::string out;
  for (E e : all) out += (out.empty() ? "" : ", ") + std::string(name(e));
  return out;
}

Result<cases::LinkSet> Links(const JsonBody& b) {
  cases::LinkSet l;
  NHI_ASSIGN_OR_RETURN(l.identities,
                       b.StringArray("identities", kMaxListItems, cases::kMaxNameBytes));
  NHI_ASSIGN_OR_RETURN(l.findings, b.StringArray("findings", kMaxListItems, cases::kMaxNameBytes));
  NHI_ASSIGN_OR_RETURN(l.chains, b.StringArray("chains", kMaxListItems, cases::kMaxNameBytes));
  NHI_ASSIGN_OR_RETURN(l.tickets, b.StringArray("tickets", kMaxListItems, cases::kMaxNameBytes));
  NHI_ASSIGN_OR_RETURN(l.events, b.UintArray("events", kMaxListItems));
  return l;
}

// ---- reads ----

ApiResponse ListCases(RequestContext& rc) {
  store::CaseQuery q;
  auto check = [&](const char* name, auto parse, std::string* out,
                   const std::string& choices) -> Status {
    if (const std::string* v = rc.Query(name)) {
      if (!parse(*v)) {
        return InvalidArgumentError(std::string("query parameter ") + name + ": one of " + choices);
      }
      *out = *v;
    }
    return OkStatus();
  };
  NHI_RETURN_IF_ERROR(check("state", cases::ParseCaseState, &q.state,
                            Choices(cases::kAllCaseStates, cases::CaseStateName)));
  NHI_RETURN_IF_ERROR(check("kind", cases::ParseCaseKind, &q.kind,
                            Choices(cases::kAllCaseKinds, cases::CaseKindName)));
  NHI_RETURN_IF_ERROR(check("severity", cases::ParseSeverity, &q.severity,
                            Choices(cases::kAllSeverities, cases::SeverityName)));
  if (const std::string* v = rc.Query("owner")) q.owner = *v;
  for (const char* flag : {"open", "due"}) {
    if (const std::string* v = rc.Query(flag)) {
      if (*v != "true" && *v != "false") {
        return ApiResponse(
            InvalidArgumentError(std::string("query parameter ") + flag + ": true or false"));
      }
      if (*v == "true" && flag[0] == 'o') q.open_only = true;
      if (*v == "true" && flag[0] == 'd') q.due_before = rc.clock().NowUnixNanos();
    }
  }
  NHI_ASSIGN_OR_RETURN(auto after, rc.QueryUint("after"));
  q.after_id = after.value_or(0);
  NHI_ASSIGN_OR_RETURN(q.limit, rc.QueryLimit(100));
  NHI_ASSIGN_OR_RETURN(store::Store * store, rc.Store());
  json::JsonWriter w;
  w.BeginObject();
  w.Key("cases").BeginArray();
  size_t count = 0;
  uint64_t last = 0;
  NHI_RETURN_IF_ERROR(store->ScanCases(q, [&](const store::CaseRow& r) {
    ++count;
    last = r.id;
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
    r.closed_ns ? w.String(FormatRfc3339Utc(*r.closed_ns, 6)) : w.Null();
    w.Key("next_due");
    r.next_due_ns ? w.String(FormatRfc3339Utc(*r.next_due_ns, 6)) : w.Null();
    w.Key("ops").Uint(r.op_count);
    w.Key("escalation_level").Uint(r.escalation_level);
    w.Key("open_tasks").Uint(r.open_tasks);
    w.EndObject();
    return OkStatus();
  }));
  w.EndArray();
  w.Key("next_after");
  count == q.limit ? w.Uint(last) : w.Null();
  w.EndObject();
  return ApiResponse::Json(200, w.Take());
}

ApiResponse GetCase(RequestContext& rc) {
  NHI_ASSIGN_OR_RETURN(uint64_t id, rc.PathUint("id"));
  NHI_ASSIGN_OR_RETURN(store::Store * store, rc.Store());
  cases::CaseProjection proj(*store);
  NHI_ASSIGN_OR_RETURN(auto v, proj.Load(id));
  if (!v) return ApiResponse(NotFoundError("no case " + std::to_string(id)));
  return ApiResponse::Json(200, cases::CaseViewToJson(*v));
}

ApiResponse ExplainCase(RequestContext& rc) {
  NHI_ASSIGN_OR_RETURN(uint64_t id, rc.PathUint("id"));
  NHI_ASSIGN_OR_RETURN(store::Store * store, rc.Store());
  NHI_ASSIGN_OR_RETURN(auto x, cases::ExplainCase(*store, id));
  return ApiResponse::Json(200, cases::ExplanationToJson(x));
}

// A session over a read-only store, for the closure check (as `case close --check`).
class NoWriter final : public cases::CaseEventWriter {
 public:
  Result<uint64_t> Append(const event::Event&) override {
    return FailedPreconditionError("this request does not write");
  }
};

ApiResponse CheckClosure(RequestContext& rc) {
  NHI_ASSIGN_OR_RETURN(uint64_t id, rc.PathUint("id"));
  std::string res = rc.Query("resolution") ? *rc.Query("resolution") : "resolved";
  auto resolution = cases::ParseResolution(res);
  if (!resolution) {
    return ApiResponse(
        InvalidArgumentError("query parameter resolution: one of " +
                             Choices(cases::kAllResolutions, cases::ResolutionName)));
  }
  NHI_ASSIGN_OR_RETURN(store::Store * store, rc.Store());
  NHI_ASSIGN_OR_RETURN(cases::PolicyContext policy, reconcile::LatestCasePolicyContext(*store));
  cases::CaseProjection proj(*store);
  NoWriter none;
  CaseSession ss(*store, proj, none, {&rc.clock(), policy, nullptr});
  NHI_ASSIGN_OR_RETURN(auto results, ss.CheckClosure(id, *resolution));
  json::JsonWriter w;
  bool all = true;
  w.BeginObject();
  w.Key("resolution").String(res);
  w.Key("criteria").BeginArray();
  for (const auto& r : results) {
    all = all && r.met;
    w.BeginObject();
    w.Key("id").String(r.id);
    w.Key("met").Bool(r.met);
    w.Key("detail").String(r.detail);
    w.Key("evidence").BeginArray();
    for (uint64_t e : r.evidence) w.Uint(e);
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.Key("may_close").Bool(all);
  w.EndObject();
  return ApiResponse::Json(200, w.Take());
}

// ---- writes ----

Status AddCaseWriteRoutes(Router& router, Services& services) {
  Services* sv = &services;
  auto add = [&](Method m, const char* pattern, RoleSet roles, const char* summary,
                 std::function<ApiResponse(RequestContext&, Services&)> h,
                 bool inline_bytes = false) {
    Route r = Route::Make(m, pattern, roles, [sv, h](RequestContext& rc) { return h(rc, *sv); });
    if (inline_bytes) {
      r.Body();
    } else {
      r.JsonBody();
    }
    return router.Add(std::move(r.Writes().Summary(summary)));
  };

  NHI_RETURN_IF_ERROR(add(
      Method::kPost, "/v1/cases", kCaseWorkRoles, "Open a case",
      [](RequestContext& rc, Services& s) -> ApiResponse {
        NHI_ASSIGN_OR_RETURN(JsonBody b,
                             Body(rc, {"kind", "severity", "title", "description", "requester",
                                       "reporter", "channel", "identities", "events", "findings",
                                       "chains", "tickets", "reason"}));
        cases::OpenArgs o;
        NHI_ASSIGN_OR_RETURN(o.kind, Enum(b, "kind", cases::ParseCaseKind, "alert",
                                          Choices(cases::kAllCaseKinds, cases::CaseKindName)));
        NHI_ASSIGN_OR_RETURN(o.severity, Enum(b, "severity", cases::ParseSeverity, "medium",
                                              Choices(cases::kAllSeverities, cases::SeverityName)));
        NHI_ASSIGN_OR_RETURN(o.title, b.String("title", cases::kMaxNameBytes));
        NHI_ASSIGN_OR_RETURN(o.description, Opt(b, "description", cases::kMaxTextBytes));
        NHI_ASSIGN_OR_RETURN(o.requester, Opt(b, "requester", cases::kMaxNameBytes));
        NHI_ASSIGN_OR_RETURN(o.reporter, Opt(b, "reporter", cases::kMaxNameBytes));
        NHI_ASSIGN_OR_RETURN(o.channel, Opt(b, "channel", cases::kMaxNameBytes));
        NHI_ASSIGN_OR_RETURN(o.links, Links(b));
        NHI_ASSIGN_OR_RETURN(o.reason, Opt(b, "reason", cases::kMaxTextBytes));
        return RunCaseChange(
            rc, s, "case.open", [&](CaseSession& ss, const ActorRef& a) { return ss.Open(o, a); },
            201);
      }));

  NHI_RETURN_IF_ERROR(
      add(Method::kPost, "/v1/cases/{id}/set", kCaseWorkRoles, "Change a case's severity or title",
          [](RequestContext& rc, Services& s) -> ApiResponse {
            NHI_ASSIGN_OR_RETURN(uint64_t id, rc.PathUint("id"));
            NHI_ASSIGN_OR_RETURN(JsonBody b, Body(rc, {"severity", "title", "reason"}));
            NHI_ASSIGN_OR_RETURN(std::string sev, Opt(b, "severity", 64));
            std::optional<cases::Severity> severity;
            if (!sev.empty()) {
              severity = cases::ParseSeverity(sev);
              if (!severity) {
                return ApiResponse(InvalidArgumentError(
                    "severity: one of " + Choices(cases::kAllSeverities, cases::SeverityName)));
              }
            }
            NHI_ASSIGN_OR_RETURN(std::string title, Opt(b, "title", cases::kMaxNameBytes));
            NHI_ASSIGN_OR_RETURN(std::string reason, b.String("reason", cases::kMaxTextBytes));
            return RunCaseChange(
                rc, s, "case.set",
                [&](CaseSession& ss, const ActorRef& a) {
                  return ss.Set(id, severity, title, a, reason);
                },
                200);
          }));

  NHI_RETURN_IF_ERROR(add(
      Method::kPost, "/v1/cases/{id}/assign", kCaseWorkRoles, "Make someone the owner",
      [](RequestContext& rc, Services& s) -> ApiResponse {
        NHI_ASSIGN_OR_RETURN(uint64_t id, rc.PathUint("id"));
        NHI_ASSIGN_OR_RETURN(JsonBody b, Body(rc, {"to", "reason"}));
        NHI_ASSIGN_OR_RETURN(std::string to, b.String("to", cases::kMaxNameBytes));
        NHI_ASSIGN_OR_RETURN(std::string reason, Opt(b, "reason", cases::kMaxTextBytes));
        return RunCaseChange(
            rc, s, "case.assign",
            [&](CaseSession& ss, const ActorRef& a) { return ss.Assign(id, to, a, reason); }, 200);
      }));

  NHI_RETURN_IF_ERROR(add(
      Method::kPost, "/v1/cases/{id}/transition", kCaseWorkRoles, "Move a case to another state",
      [](RequestContext& rc, Services& s) -> ApiResponse {
        NHI_ASSIGN_OR_RETURN(uint64_t id, rc.PathUint("id"));
        NHI_ASSIGN_OR_RETURN(JsonBody b, Body(rc, {"to", "reason"}));
        NHI_ASSIGN_OR_RETURN(cases::CaseState to,
                             Enum(b, "to", cases::ParseCaseState, "",
                                  Choices(cases::kAllCaseStates, cases::CaseStateName)));
        NHI_ASSIGN_OR_RETURN(std::string reason, b.String("reason", cases::kMaxTextBytes));
        return RunCaseChange(
            rc, s, "case.transition",
            [&](CaseSession& ss, const ActorRef& a) { return ss.Transition(id, to, a, reason); },
            200, [id](CaseSession& ss, json::JsonWriter& d) { StateDetails(ss, id, d); });
      }));

  NHI_RETURN_IF_ERROR(
      add(Method::kPost, "/v1/cases/{id}/escalate", kCaseWorkRoles, "Escalate to the next level",
          [](RequestContext& rc, Services& s) -> ApiResponse {
            NHI_ASSIGN_OR_RETURN(uint64_t id, rc.PathUint("id"));
            NHI_ASSIGN_OR_RETURN(JsonBody b, Body(rc, {"to", "reason"}));
            NHI_ASSIGN_OR_RETURN(std::string to, b.String("to", cases::kMaxNameBytes));
            NHI_ASSIGN_OR_RETURN(std::string reason, b.String("reason", cases::kMaxTextBytes));
            return RunCaseChange(
                rc, s, "case.escalate",
                [&](CaseSession& ss, const ActorRef& a) { return ss.Escalate(id, to, reason, a); },
                200);
          }));

  NHI_RETURN_IF_ERROR(
      add(Method::kPost, "/v1/cases/{id}/comments", kCaseCommentRoles, "Add a comment",
          [](RequestContext& rc, Services& s) -> ApiResponse {
            NHI_ASSIGN_OR_RETURN(uint64_t id, rc.PathUint("id"));
            NHI_ASSIGN_OR_RETURN(JsonBody b, Body(rc, {"text"}));
            NHI_ASSIGN_OR_RETURN(std::string text, b.String("text", cases::kMaxTextBytes));
            return RunCaseChange(
                rc, s, "case.comment",
                [&](CaseSession& ss, const ActorRef& a) { return ss.Comment(id, text, a); }, 200);
          }));

  NHI_RETURN_IF_ERROR(add(
      Method::kPost, "/v1/cases/{id}/tasks", kCaseWorkRoles,
      "Add a task, or mark one done, cancelled or open again",
      [](RequestContext& rc, Services& s) -> ApiResponse {
        NHI_ASSIGN_OR_RETURN(uint64_t id, rc.PathUint("id"));
        NHI_ASSIGN_OR_RETURN(JsonBody b,
                             Body(rc, {"action", "task", "title", "owner", "due", "reason"}));
        NHI_ASSIGN_OR_RETURN(std::string action, b.String("action", 16));
        if (action != "add" && action != "done" && action != "cancel" && action != "reopen") {
          return ApiResponse(InvalidArgumentError("action: one of add, done, cancel, reopen"));
        }
        NHI_ASSIGN_OR_RETURN(auto task, b.OptionalInt("task"));
        NHI_ASSIGN_OR_RETURN(std::string title, Opt(b, "title", cases::kMaxNameBytes));
        NHI_ASSIGN_OR_RETURN(std::string owner, Opt(b, "owner", cases::kMaxNameBytes));
        NHI_ASSIGN_OR_RETURN(std::string due, Opt(b, "due", 64));
        NHI_ASSIGN_OR_RETURN(std::string reason, Opt(b, "reason", cases::kMaxTextBytes));
        if (action != "add" && (!task || *task < 1 || *task > UINT32_MAX)) {
          return ApiResponse(InvalidArgumentError("task: a task number is required for " + action));
        }
        return RunCaseChange(
            rc, s, "case.task",
            [&](CaseSession& ss, const ActorRef& a) -> Result<OpResult> {
              if (action == "add") {
                std::optional<int64_t> due_ns;
                if (!due.empty()) {
                  NHI_ASSIGN_OR_RETURN(due_ns, cases::ParseTimeOrOffset("due", due, ss.Now()));
                }
                return ss.AddTask(id, title, owner, due_ns, a, reason);
              }
              return ss.UpdateTask(id, static_cast<uint32_t>(*task), action, a, reason);
            },
            200);
      }));

  NHI_RETURN_IF_ERROR(add(
      Method::kPost, "/v1/cases/{id}/attachments", kCaseWorkRoles,
      "Attach evidence: inline bytes (kept, hashed) or a URL with the hash of its content",
      [](RequestContext& rc, Services& s) -> ApiResponse {
        NHI_ASSIGN_OR_RETURN(uint64_t id, rc.PathUint("id"));
        NHI_ASSIGN_OR_RETURN(JsonBody b, Body(rc, {"name", "media_type", "url", "sha256",
                                                   "content_base64", "reason"}));
        cases::AttachArgs x;
        NHI_ASSIGN_OR_RETURN(x.name, b.String("name", cases::kMaxNameBytes));
        NHI_ASSIGN_OR_RETURN(x.media_type, Opt(b, "media_type", 255));
        NHI_ASSIGN_OR_RETURN(x.url, Opt(b, "url", 8192));
        NHI_ASSIGN_OR_RETURN(x.sha256_hex, Opt(b, "sha256", 64));
        NHI_ASSIGN_OR_RETURN(x.reason, Opt(b, "reason", cases::kMaxTextBytes));
        const size_t max_b64 = (kMaxInlineAttachmentBytes + 2) / 3 * 4;
        auto content = b.OptionalString("content_base64", max_b64 + 1);
        if (!content.ok()) return ApiResponse(content.status());
        if (*content) {
          if ((*content)->size() > max_b64) {
            return ApiResponse::Error(
                413, "payload_too_large",
                "content_base64: an inline attachment holds at most " +
                    std::to_string(kMaxInlineAttachmentBytes) + " bytes; attach a URL instead",
                "{\"max_attachment_bytes\":" + std::to_string(kMaxInlineAttachmentBytes) + "}");
          }
          auto bytes = Base64Decode(**content);
          if (!bytes) return ApiResponse(InvalidArgumentError("content_base64: not base64"));
          x.bytes = std::move(*bytes);
        }
        return RunCaseChange(
            rc, s, "case.attach",
            [&](CaseSession& ss, const ActorRef& a) { return ss.Attach(id, x, a); }, 200);
      },
      /*inline_bytes=*/true));

  NHI_RETURN_IF_ERROR(add(
      Method::kPost, "/v1/cases/{id}/links", kCaseWorkRoles,
      "Link identities, events, findings, grant chains, tickets",
      [](RequestContext& rc, Services& s) -> ApiResponse {
        NHI_ASSIGN_OR_RETURN(uint64_t id, rc.PathUint("id"));
        NHI_ASSIGN_OR_RETURN(JsonBody b, Body(rc, {"identities", "events", "findings", "chains",
                                                   "tickets", "reason"}));
        NHI_ASSIGN_OR_RETURN(cases::LinkSet links, Links(b));
        NHI_ASSIGN_OR_RETURN(std::string reason, Opt(b, "reason", cases::kMaxTextBytes));
        return RunCaseChange(
            rc, s, "case.link",
            [&](CaseSession& ss, const ActorRef& a) { return ss.Link(id, links, a, reason); }, 200);
      }));

  NHI_RETURN_IF_ERROR(add(
      Method::kPost, "/v1/cases/{id}/decisions", kCaseDecideRoles, "Record a decision",
      [](RequestContext& rc, Services& s) -> ApiResponse {
        NHI_ASSIGN_OR_RETURN(uint64_t id, rc.PathUint("id"));
        NHI_ASSIGN_OR_RETURN(JsonBody b,
                             Body(rc, {"outcome", "rationale", "signal_events", "signal_findings",
                                       "overrides_decision", "overrides_event", "control_owner",
                                       "identity", "chain"}));
        cases::DecideArgs d;
        NHI_ASSIGN_OR_RETURN(d.outcome, Enum(b, "outcome", cases::ParseOutcome, "",
                                             Choices(cases::kAllOutcomes, cases::OutcomeName)));
        NHI_ASSIGN_OR_RETURN(d.rationale, b.String("rationale", cases::kMaxTextBytes));
        NHI_ASSIGN_OR_RETURN(d.signal_events, b.UintArray("signal_events", kMaxListItems));
        NHI_ASSIGN_OR_RETURN(d.signal_findings,
                             b.StringArray("signal_findings", kMaxListItems, cases::kMaxNameBytes));
        NHI_ASSIGN_OR_RETURN(auto od, b.OptionalInt("overrides_decision"));
        if (od) {
          if (*od < 1 || *od > UINT32_MAX) {
            return ApiResponse(InvalidArgumentError("overrides_decision: a decision number"));
          }
          d.overrides_decision = static_cast<uint32_t>(*od);
        }
        NHI_ASSIGN_OR_RETURN(auto oe, b.OptionalInt("overrides_event"));
        if (oe) {
          if (*oe < 0) return ApiResponse(InvalidArgumentError("overrides_event: an event seq"));
          d.overrides_event = static_cast<uint64_t>(*oe);
        }
        NHI_ASSIGN_OR_RETURN(d.control_owner, Opt(b, "control_owner", cases::kMaxNameBytes));
        NHI_ASSIGN_OR_RETURN(d.identity, Opt(b, "identity", cases::kMaxNameBytes));
        NHI_ASSIGN_OR_RETURN(d.correlation_key, Opt(b, "chain", cases::kMaxNameBytes));
        return RunCaseChange(
            rc, s, "case.decide",
            [&](CaseSession& ss, const ActorRef& a) { return ss.Decide(id, d, a); }, 200,
            [id](CaseSession& ss, json::JsonWriter& w) { StateDetails(ss, id, w); });
      }));

  NHI_RETURN_IF_ERROR(add(
      Method::kPost, "/v1/cases/{id}/exceptions", kCaseDecideRoles,
      "Grant an exception with an expiry, a re-review date and compensating controls",
      [](RequestContext& rc, Services& s) -> ApiResponse {
        NHI_ASSIGN_OR_RETURN(uint64_t id, rc.PathUint("id"));
        NHI_ASSIGN_OR_RETURN(JsonBody b,
                             Body(rc, {"justification", "expires", "review_by", "controls",
                                       "signal_events", "signal_findings", "identity", "chain"}));
        cases::ExceptArgs x;
        NHI_ASSIGN_OR_RETURN(x.justification, b.String("justification", cases::kMaxTextBytes));
        NHI_ASSIGN_OR_RETURN(std::string expires, b.String("expires", 64));
        NHI_ASSIGN_OR_RETURN(std::string review_by, b.String("review_by", 64));
        NHI_ASSIGN_OR_RETURN(x.compensating_controls,
                             b.StringArray("controls", kMaxListItems, cases::kMaxNameBytes));
        NHI_ASSIGN_OR_RETURN(x.signal_events, b.UintArray("signal_events", kMaxListItems));
        NHI_ASSIGN_OR_RETURN(x.signal_findings,
                             b.StringArray("signal_findings", kMaxListItems, cases::kMaxNameBytes));
        NHI_ASSIGN_OR_RETURN(x.identity, Opt(b, "identity", cases::kMaxNameBytes));
        NHI_ASSIGN_OR_RETURN(x.correlation_key, Opt(b, "chain", cases::kMaxNameBytes));
        return RunCaseChange(
            rc, s, "case.except",
            [&](CaseSession& ss, const ActorRef& a) -> Result<OpResult> {
              NHI_ASSIGN_OR_RETURN(x.expires_ns,
                                   cases::ParseTimeOrOffset("expires", expires, ss.Now()));
              NHI_ASSIGN_OR_RETURN(x.review_ns,
                                   cases::ParseTimeOrOffset("review_by", review_by, ss.Now()));
              return ss.Except(id, x, a);
            },
            200);
      }));

  NHI_RETURN_IF_ERROR(add(
      Method::kPost, "/v1/cases/{id}/risk-acceptances", kCaseRiskRoles,
      "As the named control owner, accept the residual risk of an override",
      [](RequestContext& rc, Services& s) -> ApiResponse {
        NHI_ASSIGN_OR_RETURN(uint64_t id, rc.PathUint("id"));
        NHI_ASSIGN_OR_RETURN(JsonBody b, Body(rc, {"decision", "rationale", "until"}));
        NHI_ASSIGN_OR_RETURN(auto decision, b.OptionalInt("decision"));
        if (!decision || *decision < 1 || *decision > UINT32_MAX) {
          return ApiResponse(InvalidArgumentError("decision: the override's decision number"));
        }
        NHI_ASSIGN_OR_RETURN(std::string rationale, b.String("rationale", cases::kMaxTextBytes));
        NHI_ASSIGN_OR_RETURN(std::string until, Opt(b, "until", 64));
        if (rc.actor().role != Role::kControlOwner) {  // the route allows no other; kept explicit
          return ApiResponse::Error(
              403, "sod_violation", "a risk acceptance needs a token of role control_owner",
              "{\"rule\":\"" + std::string(cases::SodRuleName(cases::SodRule::kControlOwnerRole)) +
                  "\"}");
        }
        return RunCaseChange(
            rc, s, "case.accept_risk",
            [&](CaseSession& ss, const ActorRef& a) -> Result<OpResult> {
              std::optional<int64_t> until_ns;
              if (!until.empty()) {
                NHI_ASSIGN_OR_RETURN(until_ns, cases::ParseTimeOrOffset("until", until, ss.Now()));
              }
              return ss.AcceptRisk(id, static_cast<uint32_t>(*decision), rationale, until_ns, a);
            },
            200);
      }));

  NHI_RETURN_IF_ERROR(
      add(Method::kPost, "/v1/cases/{id}/verifications", kCaseWorkRoles,
          "Record a verification of the remediation",
          [](RequestContext& rc, Services& s) -> ApiResponse {
            NHI_ASSIGN_OR_RETURN(uint64_t id, rc.PathUint("id"));
            NHI_ASSIGN_OR_RETURN(JsonBody b, Body(rc, {"result", "note", "evidence"}));
            NHI_ASSIGN_OR_RETURN(std::string result, b.String("result", 16));
            if (result != "passed" && result != "failed") {
              return ApiResponse(InvalidArgumentError("result: passed or failed"));
            }
            NHI_ASSIGN_OR_RETURN(std::string note, Opt(b, "note", cases::kMaxTextBytes));
            NHI_ASSIGN_OR_RETURN(auto evidence, b.UintArray("evidence", kMaxListItems));
            return RunCaseChange(
                rc, s, "case.verify",
                [&](CaseSession& ss, const ActorRef& a) {
                  return ss.Verify(id, result, note, evidence, a);
                },
                200);
          }));

  NHI_RETURN_IF_ERROR(add(
      Method::kPost, "/v1/cases/{id}/support", kCaseWorkRoles,
      "Record the support trail of a support case",
      [](RequestContext& rc, Services& s) -> ApiResponse {
        NHI_ASSIGN_OR_RETURN(uint64_t id, rc.PathUint("id"));
        NHI_ASSIGN_OR_RETURN(
            JsonBody b, Body(rc, {"reporter", "channel", "affected_identity", "entitlement_diff",
                                  "approved_change", "remediation", "reason"}));
        cases::SupportArgs x;
        NHI_ASSIGN_OR_RETURN(x.reporter, Opt(b, "reporter", cases::kMaxNameBytes));
        NHI_ASSIGN_OR_RETURN(x.channel, Opt(b, "channel", cases::kMaxNameBytes));
        NHI_ASSIGN_OR_RETURN(x.affected_identity,
                             Opt(b, "affected_identity", cases::kMaxNameBytes));
        NHI_ASSIGN_OR_RETURN(x.entitlement_diff, Opt(b, "entitlement_diff", cases::kMaxTextBytes));
        NHI_ASSIGN_OR_RETURN(x.approved_change, Opt(b, "approved_change", cases::kMaxNameBytes));
        NHI_ASSIGN_OR_RETURN(x.remediation, Opt(b, "remediation", cases::kMaxTextBytes));
        NHI_ASSIGN_OR_RETURN(x.reason, Opt(b, "reason", cases::kMaxTextBytes));
        return RunCaseChange(
            rc, s, "case.support",
            [&](CaseSession& ss, const ActorRef& a) { return ss.Support(id, x, a); }, 200);
      }));

  NHI_RETURN_IF_ERROR(add(
      Method::kPost, "/v1/cases/{id}/close", kCaseWorkRoles,
      "Close a case once its closure criteria are met",
      [](RequestContext& rc, Services& s) -> ApiResponse {
        NHI_ASSIGN_OR_RETURN(uint64_t id, rc.PathUint("id"));
        NHI_ASSIGN_OR_RETURN(JsonBody b, Body(rc, {"resolution", "reason"}));
        NHI_ASSIGN_OR_RETURN(cases::Resolution resolution,
                             Enum(b, "resolution", cases::ParseResolution, "resolved",
                                  Choices(cases::kAllResolutions, cases::ResolutionName)));
        NHI_ASSIGN_OR_RETURN(std::string reason, b.String("reason", cases::kMaxTextBytes));
        return RunCaseChange(
            rc, s, "case.close",
            [&](CaseSession& ss, const ActorRef& a) { return ss.Close(id, resolution, reason, a); },
            200,
            [id, resolution](CaseSession& ss, json::JsonWriter& d) {
              StateDetails(ss, id, d);
              auto results = ss.CheckClosure(id, resolution);
              if (!results.ok()) return;
              d.Key("unmet_criteria").BeginArray();
              for (const auto& c : *results) {
                if (c.met) continue;
                d.BeginObject();
                d.Key("id").String(c.id);
                d.Key("detail").String(c.detail);
                d.EndObject();
              }
              d.EndArray();
            });
      }));

  return add(Method::kPost, "/v1/cases/{id}/reopen", kCaseWorkRoles, "Reopen a closed case",
             [](RequestContext& rc, Services& s) -> ApiResponse {
               NHI_ASSIGN_OR_RETURN(uint64_t id, rc.PathUint("id"));
               NHI_ASSIGN_OR_RETURN(JsonBody b, Body(rc, {"reason"}));
               NHI_ASSIGN_OR_RETURN(std::string reason, b.String("reason", cases::kMaxTextBytes));
               return RunCaseChange(
                   rc, s, "case.reopen",
                   [&](CaseSession& ss, const ActorRef& a) { return ss.Reopen(id, reason, a); },
                   200, [id](CaseSession& ss, json::JsonWriter& d) { StateDetails(ss, id, d); });
             });
}

}  // namespace

Status AddCaseRoutes(Router& router, Services& services) {
  NHI_RETURN_IF_ERROR(
      router.Add(Route::Make(Method::kGet, "/v1/cases", kReadRoles, ListCases)
                     .Query({"state", "kind", "owner", "severity", "open", "due", "after", "limit"})
                     .Summary("Cases, by id, with filters")));
  NHI_RETURN_IF_ERROR(router.Add(Route::Make(Method::kGet, "/v1/cases/{id}", kReadRoles, GetCase)
                                     .Summary("A case as it stands")));
  NHI_RETURN_IF_ERROR(
      router.Add(Route::Make(Method::kGet, "/v1/cases/{id}/explain", kReadRoles, ExplainCase)
                     .Summary("Why the case was decided this way, from the ledger")));
  NHI_RETURN_IF_ERROR(
      router.Add(Route::Make(Method::kGet, "/v1/cases/{id}/closure", kReadRoles, CheckClosure)
                     .Query({"resolution"})
                     .Summary("The closure criteria as they stand (changes nothing)")));
  return AddCaseWriteRoutes(router, services);
}

}  // namespace nhitrace::api
