#include "ingest/k8s_audit/k8s_audit.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "event/codec.h"
#include "ingest/internal/record_fields.h"
#include "json/dom.h"

namespace nhitrace::ingest::k8s_audit {
namespace {

namespace rf = record_fields;
using event::Event;
using event::Kind;
using simdjson::dom::element;
using simdjson::dom::element_type;

constexpr std::string_view kSourceSystem = "k8s-audit";
// The longest suffix appended to an auditID ("#subject-4095"), so that ids stay identifiers.
constexpr size_t kMaxAuditIdBytes = event::kMaxKeyBytes - 32;
constexpr std::string_view kRbacGroup = "rbac.authorization.k8s.io";
constexpr std::string_view kTokenSecretType = "kubernetes.io/service-account-token";

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

struct UserInfo {
  std::string_view username;
  std::optional<element> extra;
};

Result<UserInfo> ReadUser(const element& obj, std::string_view path) {
  UserInfo u;
  NHI_ASSIGN_OR_RETURN(u.username, rf::RequiredString(obj, "username", path));
  NHI_ASSIGN_OR_RETURN(u.extra, rf::OptionalObject(obj, "extra", path));
  return u;
}

// The first string of user.extra[key] ("" when absent or not a list of strings).
std::string_view ExtraValue(const UserInfo& u, std::string_view key) {
  if (!u.extra) return {};
  std::optional<element> v = rf::Member(*u.extra, key);
  if (!v || v->type() != element_type::ARRAY) return {};
  for (element item : json::ArrayOf(*v)) {
    if (item.type() == element_type::STRING) return item.get_string().value_unsafe();
    break;
  }
  return {};
}

struct ObjectRef {
  std::string_view resource;
  std::string_view subresource;
  std::string_view ns;
  std::string_view name;
  std::string_view api_group;
  std::string_view uid;
};

// One audit.k8s.io Event, validated. Views point into the parsed record.
struct AuditEvent {
  std::string prefix;  // "" or "properties.log" (AKS): where the Event sits in the record
  std::string_view audit_id;
  std::string_view stage;
  std::string_view verb;
  std::string_view level;
  std::string_view request_uri;
  std::string_view user_agent;
  std::string_view time;
  int64_t time_ns = 0;
  UserInfo user;
  std::optional<UserInfo> impersonated;
  std::optional<ObjectRef> ref;
  std::optional<int64_t> code;
  std::string_view status_message;
  std::optional<element> request_object;
  std::optional<element> response_object;
  std::optional<element> annotations;
  std::vector<std::string_view> source_ips;
  std::string_view cluster;  // AKS: the envelope's resourceId
};

std::string P(const AuditEvent& a, std::string_view field) { return rf::Join(a.prefix, field); }

Result<AuditEvent> ParseEvent(const element& root, std::string prefix) {
  AuditEvent a;
  a.prefix = std::move(prefix);
  const std::string& pre = a.prefix;
  if (root.type() != element_type::OBJECT) {
    return rf::WrongType(pre.empty() ? "record" : pre, root, "an object");
  }
  NHI_ASSIGN_OR_RETURN(std::string_view kind, rf::RequiredString(root, "kind", pre));
  if (kind == "EventList") {
    return rf::FieldError(P(a, "kind"),
                          "an EventList (an audit webhook batch) must be split into its items");
  }
  if (kind != "Event") return rf::FieldError(P(a, "kind"), "must be \"Event\"");
  NHI_ASSIGN_OR_RETURN(std::string_view api_version, rf::OptionalString(root, "apiVersion", pre));
  if (!api_version.empty() && !StartsWith(api_version, "audit.k8s.io/")) {
    return rf::FieldError(P(a, "apiVersion"), "must be audit.k8s.io/<version>");
  }
  NHI_ASSIGN_OR_RETURN(a.audit_id, rf::RequiredString(root, "auditID", pre));
  NHI_RETURN_IF_ERROR(rf::CheckIdentifier(P(a, "auditID"), a.audit_id, "a source event id"));
  if (a.audit_id.size() > kMaxAuditIdBytes) {
    return rf::FieldError(P(a, "auditID"), "longer than " + std::to_string(kMaxAuditIdBytes) +
                                               " bytes (cannot be a source event id)");
  }
  NHI_ASSIGN_OR_RETURN(a.stage, rf::RequiredString(root, "stage", pre));
  NHI_ASSIGN_OR_RETURN(a.verb, rf::RequiredString(root, "verb", pre));
  NHI_ASSIGN_OR_RETURN(a.level, rf::OptionalString(root, "level", pre));
  NHI_ASSIGN_OR_RETURN(a.request_uri, rf::OptionalString(root, "requestURI", pre));
  NHI_ASSIGN_OR_RETURN(a.user_agent, rf::OptionalString(root, "userAgent", pre));
  NHI_ASSIGN_OR_RETURN(a.source_ips, rf::OptionalStringList(root, "sourceIPs", pre));

  NHI_ASSIGN_OR_RETURN(std::optional<element> user, rf::OptionalObject(root, "user", pre));
  if (!user) return rf::FieldError(P(a, "user"), "required field is missing");
  NHI_ASSIGN_OR_RETURN(a.user, ReadUser(*user, P(a, "user")));
  NHI_ASSIGN_OR_RETURN(std::optional<element> imp,
                       rf::OptionalObject(root, "impersonatedUser", pre));
  if (imp) {
    NHI_ASSIGN_OR_RETURN(UserInfo u, ReadUser(*imp, P(a, "impersonatedUser")));
    a.impersonated = u;
  }

  // The time: when the stage was reached; older (v1beta1) records may only have the others.
  bool have_time = false;
  for (std::string_view field : {"stageTimestamp", "requestReceivedTimestamp", "timestamp"}) {
    NHI_ASSIGN_OR_RETURN(std::string_view t, rf::OptionalString(root, field, pre));
    if (t.empty()) continue;
    Event probe;
    NHI_RETURN_IF_ERROR(rf::SetTime(P(a, field), t, &probe));
    a.time = t;
    a.time_ns = probe.time_ns;
    have_time = true;
    break;
  }
  if (!have_time) return rf::FieldError(P(a, "stageTimestamp"), "required field is missing");

  NHI_ASSIGN_OR_RETURN(std::optional<element> ref, rf::OptionalObject(root, "objectRef", pre));
  if (ref) {
    const std::string rp = P(a, "objectRef");
    ObjectRef r;
    NHI_ASSIGN_OR_RETURN(r.resource, rf::OptionalString(*ref, "resource", rp));
    NHI_ASSIGN_OR_RETURN(r.subresource, rf::OptionalString(*ref, "subresource", rp));
    NHI_ASSIGN_OR_RETURN(r.ns, rf::OptionalString(*ref, "namespace", rp));
    NHI_ASSIGN_OR_RETURN(r.name, rf::OptionalString(*ref, "name", rp));
    NHI_ASSIGN_OR_RETURN(r.api_group, rf::OptionalString(*ref, "apiGroup", rp));
    NHI_ASSIGN_OR_RETURN(r.uid, rf::OptionalString(*ref, "uid", rp));
    a.ref = r;
  }
  NHI_ASSIGN_OR_RETURN(std::optional<element> status,
                       rf::OptionalObject(root, "responseStatus", pre));
  if (status) {
    const std::string sp = P(a, "responseStatus");
    NHI_ASSIGN_OR_RETURN(a.code, rf::OptionalInt(*status, "code", sp));
    NHI_ASSIGN_OR_RETURN(a.status_message, rf::OptionalString(*status, "message", sp));
  }
  NHI_ASSIGN_OR_RETURN(a.annotations, rf::OptionalObject(root, "annotations", pre));
  a.request_object = rf::Member(root, "requestObject");
  a.response_object = rf::Member(root, "responseObject");
  return a;
}

std::string_view Annotation(const AuditEvent& a, std::string_view key) {
  if (!a.annotations) return {};
  std::optional<element> v = rf::Member(*a.annotations, key);
  if (!v || v->type() != element_type::STRING) return {};
  return v->get_string().value_unsafe();
}

// A string member at a path of nested objects ("" when any step is absent or not an object, or
// the value is not a string).
std::string_view StringAt(const std::optional<element>& root,
                          std::initializer_list<std::string_view> path) {
  if (!root) return {};
  element cur = *root;
  for (std::string_view step : path) {
    std::optional<element> next = rf::Member(cur, step);
    if (!next) return {};
    cur = *next;
  }
  if (cur.type() != element_type::STRING) return {};
  return cur.get_string().value_unsafe();
}

struct ServiceAccount {
  std::string_view ns;
  std::string_view name;
};

// system:serviceaccount:<ns>:<name>
std::optional<ServiceAccount> ServiceAccountUser(std::string_view username) {
  constexpr std::string_view kPrefix = "system:serviceaccount:";
  if (!StartsWith(username, kPrefix)) return std::nullopt;
  std::string_view rest = username.substr(kPrefix.size());
  size_t colon = rest.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == rest.size()) {
    return std::nullopt;
  }
  return ServiceAccount{rest.substr(0, colon), rest.substr(colon + 1)};
}

std::string SaKey(std::string_view ns, std::string_view name) {
  return "k8s:sa:" + std::string(ns) + "/" + std::string(name);
}

// A user that is a non-human identity: a service account, or a node bootstrap token
// (system:bootstrap:<token id>).
struct NhiUser {
  std::string key;
  std::string_view subject_kind;
  std::string name;
};

std::optional<NhiUser> NhiUserOf(std::string_view username) {
  if (auto sa = ServiceAccountUser(username)) {
    return NhiUser{SaKey(sa->ns, sa->name), "service_account",
                   std::string(sa->ns) + "/" + std::string(sa->name)};
  }
  constexpr std::string_view kBootstrap = "system:bootstrap:";
  if (StartsWith(username, kBootstrap) && username.size() > kBootstrap.size()) {
    std::string_view id = username.substr(kBootstrap.size());
    return NhiUser{"k8s:bootstrap-token:" + std::string(id), "token", std::string(id)};
  }
  return std::nullopt;
}

std::string ResourceName(const ObjectRef& r, bool with_group) {
  std::string s(r.resource);
  if (with_group && !r.api_group.empty()) {
    s += '.';
    s += r.api_group;
  }
  if (!r.subresource.empty()) {
    s += '/';
    s += r.subresource;
  }
  return s;
}

// The request URI without its query: what a request without objectRef is about (/healthz).
std::string_view UriPath(std::string_view uri) { return uri.substr(0, uri.find('?')); }

std::string IgnoredName(const AuditEvent& a) {
  std::string n(a.verb);
  n += ' ';
  if (a.ref && !a.ref->resource.empty()) {
    n += ResourceName(*a.ref, /*with_group=*/false);
  } else if (!a.request_uri.empty()) {
    n += UriPath(a.request_uri);
  } else {
    n += "(no resource)";
  }
  return n;
}

// [<group>/]namespaces/<ns>/<resource>[/<name>][/<subresource>]
std::string ObjectPath(const ObjectRef& r) {
  std::string p;
  if (!r.api_group.empty()) {
    p += r.api_group;
    p += '/';
  }
  if (!r.ns.empty()) {
    p += "namespaces/";
    p += r.ns;
    p += '/';
  }
  p += r.resource;
  if (!r.name.empty()) {
    p += '/';
    p += r.name;
  }
  if (!r.subresource.empty()) {
    p += '/';
    p += r.subresource;
  }
  return p;
}

// The user who made a request, as an actor; nullopt when the username cannot be an identifier
// (it stays in attributes.user).
std::optional<event::Actor> ActorOf(const UserInfo& u) {
  if (auto n = NhiUserOf(u.username); n && rf::IsIdentifier(n->key)) {
    return event::Actor{n->key, "nhi"};
  }
  if (!rf::IsIdentifier(u.username)) return std::nullopt;
  if (StartsWith(u.username, "system:")) return event::Actor{std::string(u.username), "system"};
  return event::Actor{std::string(u.username), ""};
}

std::optional<event::Outcome> OutcomeOf(const AuditEvent& a) {
  event::Outcome o;
  bool failed;
  if (a.code) {
    o.code = std::to_string(*a.code);
    failed = *a.code >= 400 || a.stage == "Panic";
  } else if (a.stage == "Panic" || Annotation(a, "authorization.k8s.io/decision") == "forbid") {
    failed = true;
  } else {
    return std::nullopt;
  }
  o.result = failed ? "failure" : "success";
  if (failed && !a.status_message.empty()) o.message = rf::ClipText(a.status_message);
  return o;
}

bool Succeeded(const AuditEvent& a) {
  std::optional<event::Outcome> o = OutcomeOf(a);
  return !o || o->result == "success";
}

Event BaseEvent(const AuditEvent& a, Kind kind, std::string_view suffix) {
  Event ev;
  ev.kind = kind;
  ev.source_system = std::string(kSourceSystem);
  ev.source_event_id = std::string(a.audit_id) + std::string(suffix);
  ev.time = std::string(a.time);
  ev.time_ns = a.time_ns;
  ev.outcome = OutcomeOf(a);
  return ev;
}

void AddCommonAttributes(const AuditEvent& a, rf::Attributes* at) {
  at->String("user", a.user.username);
  if (a.impersonated) at->String("impersonated_user", a.impersonated->username);
  at->Strings("source_ips", a.source_ips);
  at->String("user_agent", a.user_agent);
  at->String("stage", a.stage);
  at->String("level", a.level);
  at->String("request_uri", a.request_uri);
  at->String("authorization_decision", Annotation(a, "authorization.k8s.io/decision"));
  at->String("authorization_reason", Annotation(a, "authorization.k8s.io/reason"));
  at->String("cluster", a.cluster);
  if (a.ref) at->String("object_uid", a.ref->uid);
}

void SetSubject(std::string_view kind, std::string name, Event* ev) {
  ev->subject.emplace();
  ev->subject->kind = std::string(kind);
  ev->subject->system = "kubernetes";
  if (rf::IsIdentifier(name)) ev->subject->name = std::move(name);
}

// The object a create or delete is about: its namespace and name, from objectRef, else from the
// response or request body.
ObjectRef Target(const AuditEvent& a) {
  ObjectRef r = a.ref.value_or(ObjectRef{});
  for (const auto* body : {&a.response_object, &a.request_object}) {
    if (r.name.empty()) r.name = StringAt(*body, {"metadata", "name"});
    if (r.ns.empty()) r.ns = StringAt(*body, {"metadata", "namespace"});
  }
  return r;
}

// A service account created or deleted.
Result<std::optional<Event>> ServiceAccountLifecycle(const AuditEvent& a) {
  ObjectRef t = Target(a);
  if (t.name.empty() || t.ns.empty()) return std::optional<Event>();
  Kind kind = a.verb == "create" ? Kind::kProvision : Kind::kRevocation;
  Event ev = BaseEvent(a, kind, "#serviceaccount");
  ev.identity = SaKey(t.ns, t.name);
  NHI_RETURN_IF_ERROR(rf::CheckIdentifier(P(a, "objectRef.name"), ev.identity, "an identity key"));
  ev.actor = ActorOf(a.user);
  SetSubject("service_account", std::string(t.ns) + "/" + std::string(t.name), &ev);
  rf::Attributes at;
  AddCommonAttributes(a, &at);
  at.String("service_account_uid", StringAt(a.response_object, {"metadata", "uid"}));
  ev.attributes = at.Build();
  return std::optional<Event>(std::move(ev));
}

// A TokenRequest (create serviceaccounts/token): the issuance of a token for the service account.
Result<std::optional<Event>> TokenRequest(const AuditEvent& a) {
  const ObjectRef& r = *a.ref;
  if (r.name.empty() || r.ns.empty()) return std::optional<Event>();
  std::string sa = SaKey(r.ns, r.name);
  NHI_RETURN_IF_ERROR(rf::CheckIdentifier(P(a, "objectRef.name"), sa, "an identity key"));
  Event ev = BaseEvent(a, Kind::kProvision, "#token");
  ev.correlation_key = "k8s:tokenrequest:" + std::string(a.audit_id);
  ev.actor = ActorOf(a.user);
  rf::Attributes at;
  AddCommonAttributes(a, &at);
  at.String("service_account", std::string(r.ns) + "/" + std::string(r.name));
  if (Succeeded(a)) {
    // Kubernetes 1.29+ names the token it issued ("JTI=<uuid>"); requests made with it carry the
    // same value in user.extra["authentication.kubernetes.io/credential-id"].
    std::string_view credential =
        Annotation(a, "authentication.kubernetes.io/issued-credential-id");
    ev.identity = credential.empty() ? "k8s:tokenrequest:" + std::string(a.audit_id)
                                     : "k8s:credential:" + std::string(credential);
    NHI_RETURN_IF_ERROR(
        rf::CheckIdentifier(P(a, "annotations.authentication.kubernetes.io/issued-credential-id"),
                            ev.identity, "an identity key"));
    ev.aliases.push_back(sa);
    SetSubject("token", {}, &ev);
    std::string_view expires = StringAt(a.response_object, {"status", "expirationTimestamp"});
    event::Window w;
    if (std::optional<int64_t> ns = rf::WindowBound(expires)) {
      w.not_after = std::string(expires);
      w.not_after_ns = *ns;
    }
    std::optional<element> spec;
    if (a.request_object) spec = rf::Member(*a.request_object, "spec");
    if (spec) {
      auto seconds = rf::OptionalInt(*spec, "expirationSeconds", "requestObject.spec");
      if (seconds.ok() && *seconds && **seconds >= 1 && **seconds <= (int64_t{1} << 40)) {
        w.ttl_seconds = **seconds;
      }
      auto audiences = rf::OptionalStringList(*spec, "audiences", "requestObject.spec");
      if (audiences.ok()) at.Strings("audiences", *audiences);
      std::optional<element> bound = rf::Member(*spec, "boundObjectRef");
      at.String("bound_object_kind", StringAt(bound, {"kind"}));
      at.String("bound_object_name", StringAt(bound, {"name"}));
    }
    if (!w.not_after.empty() || w.ttl_seconds) ev.window = std::move(w);
  }
  ev.attributes = at.Build();
  return std::optional<Event>(std::move(ev));
}

// Legacy token secrets are named "<service account>-token-<5 characters>" by the token
// controller, from the alphabet of Kubernetes' random strings.
std::string_view LegacyTokenSecretOwner(std::string_view name) {
  constexpr std::string_view kAlphabet = "bcdfghjklmnpqrstvwxz2456789";
  constexpr std::string_view kInfix = "-token-";
  if (name.size() < kInfix.size() + 6) return {};
  std::string_view tail = name.substr(name.size() - 5);
  for (char c : tail) {
    if (kAlphabet.find(c) == std::string_view::npos) return {};
  }
  if (name.substr(name.size() - 5 - kInfix.size(), kInfix.size()) != kInfix) return {};
  return name.substr(0, name.size() - 5 - kInfix.size());
}

// Bootstrap token secrets must be named "bootstrap-token-<token id>" in kube-system, the id being
// 6 characters of [a-z0-9]; the id is the public half of the token.
std::string_view BootstrapTokenId(const ObjectRef& t) {
  constexpr std::string_view kPrefix = "bootstrap-token-";
  if (t.ns != "kube-system" || !StartsWith(t.name, kPrefix)) return {};
  std::string_view id = t.name.substr(kPrefix.size());
  if (id.size() != 6) return {};
  for (char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return {};
  }
  return id;
}

// A node bootstrap token created or deleted: k8s:bootstrap-token:<id>, whose requests come as
// system:bootstrap:<id>.
Result<std::optional<Event>> BootstrapTokenLifecycle(const AuditEvent& a) {
  ObjectRef t = Target(a);
  std::string_view id = BootstrapTokenId(t);
  if (id.empty()) return std::optional<Event>();
  Kind kind = a.verb == "create" ? Kind::kProvision : Kind::kRevocation;
  Event ev = BaseEvent(a, kind, "#secret");
  ev.identity = "k8s:bootstrap-token:" + std::string(id);
  ev.actor = ActorOf(a.user);
  SetSubject("token", std::string(id), &ev);
  rf::Attributes at;
  AddCommonAttributes(a, &at);
  at.String("secret", std::string(t.ns) + "/" + std::string(t.name));
  ev.attributes = at.Build();
  return std::optional<Event>(std::move(ev));
}

// A service account token secret created or deleted; nullopt for any other secret.
Result<std::optional<Event>> TokenSecretLifecycle(const AuditEvent& a) {
  ObjectRef t = Target(a);
  if (t.name.empty() || t.ns.empty()) return std::optional<Event>();
  if (!BootstrapTokenId(t).empty()) return BootstrapTokenLifecycle(a);
  std::string_view evidence;
  std::string_view owner;
  for (const auto* body : {&a.response_object, &a.request_object}) {
    if (StringAt(*body, {"type"}) == kTokenSecretType) {
      evidence = "type";
      owner = StringAt(*body, {"metadata", "annotations", "kubernetes.io/service-account.name"});
      break;
    }
  }
  bool no_body = !a.request_object && !a.response_object;
  if (evidence.empty() && (no_body || a.verb == "delete")) {
    // Without the object (audit level Metadata, or a delete), the name is the evidence: for a
    // create, only when the token controller made it.
    std::string_view from_name = LegacyTokenSecretOwner(t.name);
    bool by_controller = a.user.username == "system:kube-controller-manager" ||
                         a.user.username == "system:serviceaccount:kube-system:token-controller";
    if (!from_name.empty() && (a.verb == "delete" || by_controller)) {
      evidence = "name";
      owner = from_name;
    }
  }
  if (evidence.empty()) return std::optional<Event>();
  Kind kind = a.verb == "create" ? Kind::kProvision : Kind::kRevocation;
  Event ev = BaseEvent(a, kind, "#secret");
  ev.identity = "k8s:secret:" + std::string(t.ns) + "/" + std::string(t.name);
  NHI_RETURN_IF_ERROR(rf::CheckIdentifier(P(a, "objectRef.name"), ev.identity, "an identity key"));
  if (!owner.empty()) rf::AddUnique(&ev.aliases, SaKey(t.ns, owner));
  ev.actor = ActorOf(a.user);
  SetSubject("token", std::string(t.ns) + "/" + std::string(t.name), &ev);
  rf::Attributes at;
  AddCommonAttributes(a, &at);
  at.String("token_secret_evidence", evidence);
  ev.attributes = at.Build();
  return std::optional<Event>(std::move(ev));
}

// The identity key of an RBAC subject.
Result<std::string> SubjectKey(const element& subject, std::string_view path,
                               std::string_view binding_ns) {
  NHI_ASSIGN_OR_RETURN(std::string_view kind, rf::RequiredString(subject, "kind", path));
  NHI_ASSIGN_OR_RETURN(std::string_view name, rf::RequiredString(subject, "name", path));
  NHI_ASSIGN_OR_RETURN(std::string_view ns, rf::OptionalString(subject, "namespace", path));
  std::string key;
  if (kind == "ServiceAccount") {
    std::string_view n = ns.empty() ? binding_ns : ns;
    if (n.empty()) return rf::FieldError(rf::Join(path, "namespace"), "required field is missing");
    key = SaKey(n, name);
  } else if (kind == "User") {
    auto sa = ServiceAccountUser(name);
    key = sa ? SaKey(sa->ns, sa->name) : "k8s:user:" + std::string(name);
  } else if (kind == "Group") {
    key = "k8s:group:" + std::string(name);
  } else {
    return rf::FieldError(rf::Join(path, "kind"), "must be ServiceAccount, User or Group");
  }
  NHI_RETURN_IF_ERROR(rf::CheckIdentifier(rf::Join(path, "name"), key, "an identity key"));
  return key;
}

// Role and cluster role bindings: the grant of a role to subjects. Each subject's grant is a
// provision in the chain of the binding; deleting the binding revokes it.
Result<std::vector<Event>> BindingLifecycle(const AuditEvent& a) {
  std::vector<Event> out;
  const bool cluster = a.ref->resource == "clusterrolebindings";
  // The binding as stored: the response body, else (create, update) the request body. A patch's
  // request body is a patch, not a binding.
  const std::optional<element>* body = nullptr;
  std::string body_path;
  if (a.response_object && rf::Member(*a.response_object, "roleRef")) {
    body = &a.response_object;
    body_path = P(a, "responseObject");
  } else if (a.verb != "patch" && a.request_object && rf::Member(*a.request_object, "roleRef")) {
    body = &a.request_object;
    body_path = P(a, "requestObject");
  }
  ObjectRef t = Target(a);
  if (t.name.empty() || (!cluster && t.ns.empty())) return out;
  std::string binding = cluster
                            ? "k8s:clusterrolebinding:" + std::string(t.name)
                            : "k8s:rolebinding:" + std::string(t.ns) + "/" + std::string(t.name);
  NHI_RETURN_IF_ERROR(rf::CheckIdentifier(P(a, "objectRef.name"), binding, "a correlation key"));

  rf::Attributes at;
  AddCommonAttributes(a, &at);
  at.String("binding", binding);
  if (a.verb == "delete" || a.verb == "deletecollection") {
    if (a.verb == "deletecollection") return out;  // no name: which bindings is not recorded
    Event ev = BaseEvent(a, Kind::kRevocation, "#binding");
    ev.identity = binding;
    ev.correlation_key = binding;
    ev.actor = ActorOf(a.user);
    ev.attributes = at.Build();
    out.push_back(std::move(ev));
    return out;
  }
  if (a.verb != "create" && a.verb != "update" && a.verb != "patch") return out;
  if (body == nullptr) {
    // Audit level Metadata: the binding was created, to whom is not recorded.
    if (a.verb != "create") return out;
    Event ev = BaseEvent(a, Kind::kProvision, "#binding");
    ev.correlation_key = binding;
    ev.actor = ActorOf(a.user);
    ev.attributes = at.Build();
    out.push_back(std::move(ev));
    return out;
  }
  const element& obj = **body;
  NHI_ASSIGN_OR_RETURN(std::optional<element> role_ref,
                       rf::OptionalObject(obj, "roleRef", body_path));
  const std::string rp = rf::Join(body_path, "roleRef");
  NHI_ASSIGN_OR_RETURN(std::string_view role_kind, rf::RequiredString(*role_ref, "kind", rp));
  NHI_ASSIGN_OR_RETURN(std::string_view role_name, rf::RequiredString(*role_ref, "name", rp));
  std::string role = role_kind == "ClusterRole"
                         ? "k8s:clusterrole:" + std::string(role_name)
                         : "k8s:role:" + std::string(t.ns) + "/" + std::string(role_name);
  NHI_RETURN_IF_ERROR(rf::CheckIdentifier(rf::Join(rp, "name"), role, "a permission"));
  event::Scope scope;
  scope.permissions.push_back(role);
  if (!cluster) rf::AddUnique(&scope.resources, "namespaces/" + std::string(t.ns));

  std::optional<element> subjects = rf::Member(obj, "subjects");
  const std::string sp = rf::Join(body_path, "subjects");
  if (subjects && subjects->type() != element_type::ARRAY) {
    return rf::WrongType(sp, *subjects, "an array");
  }
  size_t i = 0;
  if (subjects) {
    for (element s : json::ArrayOf(*subjects)) {
      std::string path = sp + "[" + std::to_string(i) + "]";
      if (s.type() != element_type::OBJECT) return rf::WrongType(path, s, "an object");
      if (i >= event::kMaxListItems) {
        return rf::FieldError(sp, "more than " + std::to_string(event::kMaxListItems) + " items");
      }
      NHI_ASSIGN_OR_RETURN(std::string key, SubjectKey(s, path, t.ns));
      Event ev = BaseEvent(a, Kind::kProvision, "#subject-" + std::to_string(i));
      ev.identity = std::move(key);
      ev.correlation_key = binding;
      ev.actor = ActorOf(a.user);
      ev.scope = scope;
      if (StartsWith(ev.identity, "k8s:sa:")) {
        SetSubject("service_account", ev.identity.substr(7), &ev);
      }
      ev.attributes = at.Build();
      out.push_back(std::move(ev));
      ++i;
    }
  }
  if (i == 0) {
    Event ev = BaseEvent(a, Kind::kProvision, "#binding");
    ev.correlation_key = binding;
    ev.actor = ActorOf(a.user);
    ev.scope = scope;
    ev.attributes = at.Build();
    out.push_back(std::move(ev));
  }
  return out;
}

// The action of a service account (or bootstrap token): the authenticated user, or the user it
// impersonated.
Result<std::optional<Event>> NhiAction(const AuditEvent& a) {
  std::optional<NhiUser> effective;
  bool impersonated = false;
  if (a.impersonated) {
    effective = NhiUserOf(a.impersonated->username);
    impersonated = effective.has_value();
  }
  if (!effective) effective = NhiUserOf(a.user.username);
  if (!effective) return std::optional<Event>();
  Event ev = BaseEvent(a, Kind::kAction, "");
  ev.identity = effective->key;
  NHI_RETURN_IF_ERROR(
      rf::CheckIdentifier(P(a, impersonated ? "impersonatedUser.username" : "user.username"),
                          ev.identity, "an identity key"));
  const UserInfo& as = impersonated ? *a.impersonated : a.user;
  // The token the request was made with (Kubernetes 1.29+).
  std::string_view credential = ExtraValue(as, "authentication.kubernetes.io/credential-id");
  if (!credential.empty()) rf::AddUnique(&ev.aliases, "k8s:credential:" + std::string(credential));
  if (impersonated) {
    // Someone acted as the service account: they are the actor, and its identity the credential
    // they acted with; a person (neither NHI nor system component) is the sponsor.
    ev.actor = ActorOf(a.user);
    ev.delegation.emplace();
    ev.delegation->credential = ev.identity;
    if (ev.actor && ev.actor->type.empty()) ev.delegation->sponsor = ev.actor->id;
  }
  SetSubject(effective->subject_kind, effective->name, &ev);
  event::Scope scope;
  if (a.ref && !a.ref->resource.empty()) {
    rf::AddUnique(&scope.permissions,
                  std::string(a.verb) + " " + ResourceName(*a.ref, /*with_group=*/true));
    rf::AddUnique(&scope.resources, ObjectPath(*a.ref));
  } else if (!a.request_uri.empty()) {
    rf::AddUnique(&scope.permissions,
                  std::string(a.verb) + " " + std::string(UriPath(a.request_uri)));
    rf::AddUnique(&scope.resources, std::string(UriPath(a.request_uri)));
  }
  if (!scope.permissions.empty() || !scope.resources.empty()) ev.scope = std::move(scope);
  rf::Attributes at;
  AddCommonAttributes(a, &at);
  at.String("pod_name", ExtraValue(as, "authentication.kubernetes.io/pod-name"));
  at.String("node_name", ExtraValue(as, "authentication.kubernetes.io/node-name"));
  ev.attributes = at.Build();
  return std::optional<Event>(std::move(ev));
}

Result<MapResult> MapEvent(const AuditEvent& a) {
  MapResult out;
  if (a.stage != "ResponseComplete" && a.stage != "Panic") {
    out.ignored = "stage " + std::string(a.stage);
    return out;
  }
  auto add = [&out](Event ev) { out.events.push_back({std::move(ev), std::nullopt}); };
  NHI_ASSIGN_OR_RETURN(std::optional<Event> action, NhiAction(a));
  if (action) add(std::move(*action));
  if (a.ref && a.ref->api_group.empty()) {
    const ObjectRef& r = *a.ref;
    if (r.resource == "serviceaccounts" && r.subresource.empty() &&
        (a.verb == "create" || a.verb == "delete")) {
      NHI_ASSIGN_OR_RETURN(std::optional<Event> ev, ServiceAccountLifecycle(a));
      if (ev) add(std::move(*ev));
    } else if (r.resource == "serviceaccounts" && r.subresource == "token" && a.verb == "create") {
      NHI_ASSIGN_OR_RETURN(std::optional<Event> ev, TokenRequest(a));
      if (ev) add(std::move(*ev));
    } else if (r.resource == "secrets" && r.subresource.empty() &&
               (a.verb == "create" || a.verb == "delete")) {
      NHI_ASSIGN_OR_RETURN(std::optional<Event> ev, TokenSecretLifecycle(a));
      if (ev) add(std::move(*ev));
    }
  } else if (a.ref && a.ref->api_group == kRbacGroup && a.ref->subresource.empty() &&
             (a.ref->resource == "rolebindings" || a.ref->resource == "clusterrolebindings")) {
    NHI_ASSIGN_OR_RETURN(std::vector<Event> evs, BindingLifecycle(a));
    for (Event& ev : evs) add(std::move(ev));
  }
  if (out.events.empty()) out.ignored = IgnoredName(a);
  return out;
}

bool IsEnvelope(const element& record) {
  return record.type() == element_type::OBJECT && rf::Member(record, "properties") &&
         rf::Member(record, "category") && !rf::Member(record, "auditID");
}

class K8sAuditImporter final : public Importer {
 public:
  std::string_view format() const override { return "k8s-audit"; }

  Result<MapResult> Map(const element& record, std::string_view /*raw*/) override {
    if (!IsEnvelope(record)) {
      NHI_ASSIGN_OR_RETURN(AuditEvent a, ParseEvent(record, ""));
      return MapEvent(a);
    }
    // AKS diagnostic settings: {"category": "kube-audit", "properties": {"log": "<Event>"}, ...}
    NHI_ASSIGN_OR_RETURN(std::string_view category, rf::OptionalString(record, "category", ""));
    if (!StartsWith(category, "kube-audit")) {
      return rf::FieldError("category", "must be kube-audit or kube-audit-admin");
    }
    NHI_ASSIGN_OR_RETURN(std::optional<element> props,
                         rf::OptionalObject(record, "properties", ""));
    NHI_ASSIGN_OR_RETURN(std::string_view log, rf::RequiredString(*props, "log", "properties"));
    NHI_ASSIGN_OR_RETURN(std::string_view cluster, rf::OptionalString(record, "resourceId", ""));
    element inner;
    if (auto err = json::ParseJson(parser_, log, &inner)) {
      return rf::FieldError("properties.log",
                            "not valid JSON (" + std::string(simdjson::error_message(err)) + ")");
    }
    NHI_ASSIGN_OR_RETURN(AuditEvent a, ParseEvent(inner, "properties.log"));
    a.cluster = cluster;
    return MapEvent(a);
  }

 private:
  simdjson::dom::parser parser_;  // for the Event inside an AKS envelope
};

}  // namespace

std::unique_ptr<Importer> MakeImporter() { return std::make_unique<K8sAuditImporter>(); }

bool LooksLike(const simdjson::dom::element& record) {
  if (record.type() != element_type::OBJECT) return false;
  std::optional<element> kind = rf::Member(record, "kind");
  if (kind && kind->type() == element_type::STRING &&
      kind->get_string().value_unsafe() == "Event") {
    if (rf::Member(record, "auditID")) return true;
    std::optional<element> v = rf::Member(record, "apiVersion");
    return v && v->type() == element_type::STRING &&
           StartsWith(v->get_string().value_unsafe(), "audit.k8s.io/");
  }
  std::optional<element> category = rf::Member(record, "category");
  std::optional<element> props = rf::Member(record, "properties");
  return category && category->type() == element_type::STRING &&
         StartsWith(category->get_string().value_unsafe(), "kube-audit") && props &&
         props->type() == element_type::OBJECT;
}

}  // namespace nhitrace::ingest::k8s_audit
