#include "ingest/vault/vault.h"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <simdjson.h>

#include "event/codec.h"
#include "ingest/internal/record_fields.h"
#include "json/dom.h"

namespace nhitrace::ingest::vault {
namespace {

namespace rf = record_fields;
using event::Event;
using event::Kind;
using simdjson::dom::element;

constexpr std::string_view kSourceSystem = "vault";
// The longest suffix appended to request.id ("#request"), so that ids stay identifiers.
constexpr size_t kMaxRequestIdBytes = event::kMaxKeyBytes - 16;

// What a path does to tokens and leases. Anything else is kOther: an action and nothing more.
enum class Op {
  kOther,
  kLogin,        // auth/<mount>/login[/...]: issues a token
  kTokenCreate,  // auth/token/create, create-orphan, create/<role>
  kTokenRenew,   // auth/token/renew, renew-self, renew-accessor
  kTokenRevoke,  // auth/token/revoke, revoke-self, revoke-accessor, revoke-orphan
  kLeaseRenew,   // sys/leases/renew[/<id>], sys/renew[/<id>]
  kLeaseRevoke,  // sys/leases/revoke[/<id>], sys/revoke[/<id>]
};

struct PathInfo {
  Op op = Op::kOther;
  std::string_view detail;  // login: the auth mount; token create: the role; token renew and
                            // revoke: "", "self", "accessor" or "orphan"; lease: the id in the path
};

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// `path` is `base` exactly or `base/<rest>`; sets *rest.
bool Under(std::string_view path, std::string_view base, std::string_view* rest) {
  if (!StartsWith(path, base)) return false;
  std::string_view tail = path.substr(base.size());
  if (tail.empty()) {
    *rest = {};
    return true;
  }
  if (tail.front() != '/') return false;
  *rest = tail.substr(1);
  return true;
}

bool IsLifecycleOperation(std::string_view operation) {
  return operation.empty() || operation == "update" || operation == "create";
}

PathInfo ClassifyPath(std::string_view path, std::string_view operation) {
  PathInfo info;
  if (!IsLifecycleOperation(operation)) return info;
  std::string_view rest;
  if (StartsWith(path, "auth/token/")) {
    std::string_view sub = path.substr(11);
    if (sub == "create" || sub == "create-orphan") {
      info.op = Op::kTokenCreate;
    } else if (StartsWith(sub, "create/") && sub.size() > 7) {
      info.op = Op::kTokenCreate;
      info.detail = sub.substr(7);
    } else if (sub == "renew" || sub == "renew-self" || sub == "renew-accessor") {
      info.op = Op::kTokenRenew;
      info.detail = sub.size() > 5 ? sub.substr(6) : std::string_view();
    } else if (sub == "revoke" || sub == "revoke-self" || sub == "revoke-accessor" ||
               sub == "revoke-orphan") {
      info.op = Op::kTokenRevoke;
      info.detail = sub.size() > 6 ? sub.substr(7) : std::string_view();
    }
    return info;
  }
  if (StartsWith(path, "auth/")) {
    // The first "/login" segment after a non-empty mount: auth/<mount>/login[/<name>].
    for (size_t pos = path.find("/login", 6); pos != std::string_view::npos;
         pos = path.find("/login", pos + 1)) {
      size_t end = pos + 6;
      if (end == path.size() || path[end] == '/') {
        info.op = Op::kLogin;
        info.detail = path.substr(5, pos - 5);
        return info;
      }
    }
    return info;
  }
  if (Under(path, "sys/leases/renew", &rest) || Under(path, "sys/renew", &rest)) {
    info.op = Op::kLeaseRenew;
    info.detail = rest;
  } else if (Under(path, "sys/leases/revoke", &rest) || Under(path, "sys/revoke", &rest)) {
    info.op = Op::kLeaseRevoke;
    info.detail = rest;
  }
  return info;
}

// An `auth` object: the caller's token (entry.auth) or a token issued or renewed
// (response.auth).
struct AuthInfo {
  std::string_view accessor;
  std::string_view client_token;
  std::string_view display_name;
  std::string_view entity_id;
  std::string_view token_type;
  std::vector<std::string_view> policies;  // token_policies, else policies
  std::optional<int64_t> token_ttl;
  std::optional<element> metadata;
};

Result<AuthInfo> ReadAuth(const element& parent, std::string_view key, std::string_view prefix) {
  AuthInfo a;
  NHI_ASSIGN_OR_RETURN(std::optional<element> obj, rf::OptionalObject(parent, key, prefix));
  if (!obj) return a;
  const std::string p = rf::Join(prefix, key);
  NHI_ASSIGN_OR_RETURN(a.accessor, rf::OptionalString(*obj, "accessor", p));
  NHI_ASSIGN_OR_RETURN(a.client_token, rf::OptionalString(*obj, "client_token", p));
  NHI_ASSIGN_OR_RETURN(a.display_name, rf::OptionalString(*obj, "display_name", p));
  NHI_ASSIGN_OR_RETURN(a.entity_id, rf::OptionalString(*obj, "entity_id", p));
  NHI_ASSIGN_OR_RETURN(a.token_type, rf::OptionalString(*obj, "token_type", p));
  NHI_ASSIGN_OR_RETURN(a.policies, rf::OptionalStringList(*obj, "token_policies", p));
  NHI_ASSIGN_OR_RETURN(std::vector<std::string_view> policies,
                       rf::OptionalStringList(*obj, "policies", p));
  if (a.policies.empty()) a.policies = std::move(policies);
  NHI_ASSIGN_OR_RETURN(a.token_ttl, rf::OptionalInt(*obj, "token_ttl", p));
  NHI_ASSIGN_OR_RETURN(a.metadata, rf::OptionalObject(*obj, "metadata", p));
  return a;
}

// A metadata value, when it is a string ("" otherwise: metadata is free-form).
std::string_view MetadataString(const AuthInfo& a, std::string_view key) {
  if (!a.metadata) return {};
  std::optional<element> v = rf::Member(*a.metadata, key);
  if (!v || v->type() != simdjson::dom::element_type::STRING) return {};
  return v->get_string().value_unsafe();
}

// One audit entry, validated. Views point into the parsed record.
struct Entry {
  bool is_response = false;
  std::string_view time;
  int64_t time_ns = 0;
  std::string_view error;
  AuthInfo auth;  // the caller's token, as Vault resolved it
  std::string_view id;
  std::string_view operation;
  std::string_view path;
  std::string_view mount_type;
  std::string_view mount_point;
  std::string_view remote_address;
  std::string_view namespace_path;
  std::string_view forwarded_from;
  std::string_view request_client_token;
  std::string_view request_accessor;
  std::optional<element> request_data;
  // Response entries only.
  AuthInfo response_auth;
  std::string_view lease_id;          // response.secret.lease_id
  std::string_view wrapped_accessor;  // response.wrap_info.wrapped_accessor
  PathInfo path_info;
  // Keys of the caller ("" when the entry names no token).
  std::string caller_key;
  std::string caller_token_key;
};

std::string AccessorKey(std::string_view v) { return "vault:accessor:" + std::string(v); }
std::string TokenKey(std::string_view v) { return "vault:token:" + std::string(v); }

// The identity key of a token given by accessor and/or token HMAC; checks it is an identifier.
Result<std::string> TokenIdentity(std::string_view accessor, std::string_view accessor_path,
                                  std::string_view token, std::string_view token_path) {
  if (!accessor.empty()) {
    std::string k = AccessorKey(accessor);
    NHI_RETURN_IF_ERROR(rf::CheckIdentifier(accessor_path, k, "an identity key"));
    return k;
  }
  if (!token.empty()) {
    std::string k = TokenKey(token);
    NHI_RETURN_IF_ERROR(rf::CheckIdentifier(token_path, k, "an identity key"));
    return k;
  }
  return std::string();
}

Result<Entry> ParseEntry(const element& root) {
  if (root.type() != simdjson::dom::element_type::OBJECT) {
    return rf::WrongType("record", root, "an object");
  }
  Entry e;
  NHI_ASSIGN_OR_RETURN(std::string_view type, rf::RequiredString(root, "type", ""));
  if (type == "response") {
    e.is_response = true;
  } else if (type != "request") {
    return rf::FieldError("type", "must be \"request\" or \"response\"");
  }
  NHI_ASSIGN_OR_RETURN(e.time, rf::RequiredString(root, "time", ""));
  {
    Event probe;
    NHI_RETURN_IF_ERROR(rf::SetTime("time", e.time, &probe));
    e.time_ns = probe.time_ns;
  }
  NHI_ASSIGN_OR_RETURN(e.error, rf::OptionalString(root, "error", ""));
  NHI_ASSIGN_OR_RETURN(e.forwarded_from, rf::OptionalString(root, "forwarded_from", ""));
  NHI_ASSIGN_OR_RETURN(e.auth, ReadAuth(root, "auth", ""));

  NHI_ASSIGN_OR_RETURN(std::optional<element> request, rf::OptionalObject(root, "request", ""));
  if (!request) return rf::FieldError("request", "required field is missing");
  NHI_ASSIGN_OR_RETURN(e.id, rf::RequiredString(*request, "id", "request"));
  NHI_RETURN_IF_ERROR(rf::CheckIdentifier("request.id", e.id, "a source event id"));
  if (e.id.size() > kMaxRequestIdBytes) {
    return rf::FieldError("request.id", "longer than " + std::to_string(kMaxRequestIdBytes) +
                                            " bytes (cannot be a source event id)");
  }
  NHI_ASSIGN_OR_RETURN(e.path, rf::OptionalString(*request, "path", "request"));
  NHI_ASSIGN_OR_RETURN(e.operation, rf::OptionalString(*request, "operation", "request"));
  NHI_ASSIGN_OR_RETURN(e.mount_type, rf::OptionalString(*request, "mount_type", "request"));
  NHI_ASSIGN_OR_RETURN(e.mount_point, rf::OptionalString(*request, "mount_point", "request"));
  NHI_ASSIGN_OR_RETURN(e.remote_address, rf::OptionalString(*request, "remote_address", "request"));
  NHI_ASSIGN_OR_RETURN(e.request_client_token,
                       rf::OptionalString(*request, "client_token", "request"));
  NHI_ASSIGN_OR_RETURN(e.request_accessor,
                       rf::OptionalString(*request, "client_token_accessor", "request"));
  NHI_ASSIGN_OR_RETURN(e.request_data, rf::OptionalObject(*request, "data", "request"));
  NHI_ASSIGN_OR_RETURN(std::optional<element> ns,
                       rf::OptionalObject(*request, "namespace", "request"));
  if (ns) {
    NHI_ASSIGN_OR_RETURN(e.namespace_path, rf::OptionalString(*ns, "path", "request.namespace"));
  }

  NHI_ASSIGN_OR_RETURN(std::optional<element> response, rf::OptionalObject(root, "response", ""));
  if (response) {
    if (!e.is_response) return rf::FieldError("response", "present in a request entry");
    NHI_ASSIGN_OR_RETURN(e.response_auth, ReadAuth(*response, "auth", "response"));
    NHI_ASSIGN_OR_RETURN(std::optional<element> secret,
                         rf::OptionalObject(*response, "secret", "response"));
    if (secret) {
      NHI_ASSIGN_OR_RETURN(e.lease_id, rf::OptionalString(*secret, "lease_id", "response.secret"));
    }
    NHI_ASSIGN_OR_RETURN(std::optional<element> wrap,
                         rf::OptionalObject(*response, "wrap_info", "response"));
    if (wrap) {
      NHI_ASSIGN_OR_RETURN(e.wrapped_accessor,
                           rf::OptionalString(*wrap, "wrapped_accessor", "response.wrap_info"));
    }
  }
  e.path_info = ClassifyPath(e.path, e.operation);

  // The caller: Vault's resolved auth first, the request's own fields otherwise.
  bool from_auth = !e.auth.accessor.empty();
  std::string_view accessor = from_auth ? e.auth.accessor : e.request_accessor;
  bool token_from_auth = !e.auth.client_token.empty();
  std::string_view token = token_from_auth ? e.auth.client_token : e.request_client_token;
  NHI_ASSIGN_OR_RETURN(
      e.caller_key,
      TokenIdentity(accessor, from_auth ? "auth.accessor" : "request.client_token_accessor", token,
                    token_from_auth ? "auth.client_token" : "request.client_token"));
  if (!accessor.empty() && !token.empty()) e.caller_token_key = TokenKey(token);
  return e;
}

// The resource an operation touched: the path, under its namespace when not the root one.
std::string ResourceOf(const Entry& e) {
  std::string r;
  if (!e.namespace_path.empty() && e.namespace_path != "root") {
    r.assign(e.namespace_path);
    if (r.back() != '/') r += '/';
  }
  r += e.path;
  return r;
}

std::string IgnoredName(const Entry& e) {
  std::string n(e.operation.empty() ? std::string_view("request") : e.operation);
  n += ' ';
  n += e.path.empty() ? std::string_view("(no path)") : e.path;
  return n;
}

// The auth mount of a login or token issuance: request.mount_point without "auth/" and the
// trailing "/", else what the path says.
std::string AuthMount(const Entry& e) {
  std::string_view m = e.mount_point;
  if (StartsWith(m, "auth/")) m.remove_prefix(5);
  while (!m.empty() && m.back() == '/') m.remove_suffix(1);
  if (!m.empty()) return std::string(m);
  if (e.path_info.op == Op::kLogin) return std::string(e.path_info.detail);
  if (e.path_info.op == Op::kTokenCreate) return "token";
  std::string_view p = e.path;
  if (StartsWith(p, "auth/")) p.remove_prefix(5);
  return std::string(p.substr(0, p.find('/')));
}

// Auth methods people log in with: their roles are shared by many people, so a role is not made
// an alias there (it would join everyone who logs in with it into one identity).
bool IsHumanAuthMethod(std::string_view mount_type) {
  return mount_type == "oidc" || mount_type == "userpass" || mount_type == "ldap" ||
         mount_type == "okta" || mount_type == "radius" || mount_type == "github";
}

void AddCommonAttributes(const Entry& e, rf::Attributes* a) {
  a->String("entry", e.is_response ? "response" : "request");
  a->String("operation", e.operation);
  a->String("path", e.path);
  a->String("mount_type", e.mount_type);
  a->String("mount_point", e.mount_point);
  a->String("namespace", e.namespace_path);
  a->String("remote_address", e.remote_address);
  a->String("forwarded_from", e.forwarded_from);
}

event::Outcome OutcomeOf(std::string_view error) {
  event::Outcome o;
  if (error.empty()) {
    o.result = "success";
  } else {
    o.result = "failure";
    o.message = rf::ClipText(error);
  }
  return o;
}

Event BaseEvent(const Entry& e, Kind kind, std::string_view suffix) {
  Event ev;
  ev.kind = kind;
  ev.source_system = std::string(kSourceSystem);
  ev.source_event_id = std::string(e.id) + std::string(suffix);
  ev.time = std::string(e.time);
  ev.time_ns = e.time_ns;
  return ev;
}

void SetTokenSubject(std::string_view display_name, Event* ev) {
  ev->subject.emplace();
  ev->subject->kind = "token";
  ev->subject->system = "vault";
  if (rf::IsIdentifier(display_name)) ev->subject->name = std::string(display_name);
}

void SetScope(const Entry& e, Event* ev) {
  event::Scope s;
  rf::AddUnique(&s.resources, ResourceOf(e));
  rf::AddUnique(&s.permissions, std::string(e.operation));
  if (!s.resources.empty() || !s.permissions.empty()) ev->scope = std::move(s);
}

void SetTtl(const std::optional<int64_t>& ttl, Event* ev) {
  if (ttl && *ttl >= 1 && *ttl <= (int64_t{1} << 40)) {
    ev->window.emplace();
    ev->window->ttl_seconds = *ttl;
  }
}

void SetActor(const Entry& e, Event* ev) {
  if (!e.caller_key.empty()) ev->actor = event::Actor{e.caller_key, ""};
}

// The action of the caller's token: `suffix` is "" for a response, "#request" for a request
// mapped alone (then the outcome is known only when the request already failed).
Event CallerAction(const Entry& e, std::string_view suffix) {
  Event ev = BaseEvent(e, Kind::kAction, suffix);
  ev.identity = e.caller_key;
  rf::AddUnique(&ev.aliases, e.caller_token_key);
  if (!e.auth.entity_id.empty())
    rf::AddUnique(&ev.aliases, "vault:entity:" + std::string(e.auth.entity_id));
  SetTokenSubject(e.auth.display_name, &ev);
  SetScope(e, &ev);
  if (e.is_response || !e.error.empty()) ev.outcome = OutcomeOf(e.error);
  rf::Attributes a;
  AddCommonAttributes(e, &a);
  a.String("token_type", e.auth.token_type);
  a.Strings("policies", e.auth.policies);
  ev.attributes = a.Build();
  return ev;
}

// The access request of a login or token creation: opens the chain vault:request:<id>.
Event AccessRequest(const Entry& e) {
  Event ev = BaseEvent(e, Kind::kRequest, "#request");
  ev.correlation_key = "vault:request:" + std::string(e.id);
  SetActor(e, &ev);
  SetScope(e, &ev);
  if (!e.error.empty()) ev.outcome = OutcomeOf(e.error);
  rf::Attributes a;
  AddCommonAttributes(e, &a);
  if (e.path_info.op == Op::kTokenCreate) a.String("role", e.path_info.detail);
  ev.attributes = a.Build();
  return ev;
}

// The issuance of a token by a login or token creation (or any auth/ path whose response
// carries a new token). nullopt when the response issued nothing and did not fail (e.g. an MFA
// challenge).
Result<std::optional<Event>> TokenIssuance(const Entry& e) {
  const AuthInfo& issued = e.response_auth;
  NHI_ASSIGN_OR_RETURN(std::string identity,
                       TokenIdentity(issued.accessor, "response.auth.accessor", issued.client_token,
                                     "response.auth.client_token"));
  if (identity.empty() && !e.wrapped_accessor.empty()) {
    identity = AccessorKey(e.wrapped_accessor);
    NHI_RETURN_IF_ERROR(
        rf::CheckIdentifier("response.wrap_info.wrapped_accessor", identity, "an identity key"));
  }
  if (identity.empty() && e.error.empty()) return std::optional<Event>();
  Event ev = BaseEvent(e, Kind::kProvision, "#token");
  ev.correlation_key = "vault:request:" + std::string(e.id);
  ev.identity = identity;
  // The caller, when there is one: a login has none (its response's `auth` is the new token).
  if (e.path_info.op != Op::kLogin && e.caller_key != identity) SetActor(e, &ev);
  ev.outcome = OutcomeOf(e.error);
  rf::Attributes a;
  AddCommonAttributes(e, &a);
  if (!identity.empty()) {
    if (!issued.accessor.empty() && !issued.client_token.empty()) {
      rf::AddUnique(&ev.aliases, TokenKey(issued.client_token));
    }
    if (!issued.entity_id.empty()) {
      rf::AddUnique(&ev.aliases, "vault:entity:" + std::string(issued.entity_id));
    }
    std::string mount = AuthMount(e);
    std::string_view role =
        e.path_info.op == Op::kTokenCreate ? e.path_info.detail : MetadataString(issued, "role");
    if (role.empty()) role = MetadataString(issued, "role_name");
    if (!role.empty() && !mount.empty()) {
      if (IsHumanAuthMethod(e.mount_type)) {
        a.String("role", std::string(mount) + "/" + std::string(role));
      } else {
        rf::AddUnique(&ev.aliases, "vault:role:" + mount + "/" + std::string(role));
      }
    }
    // Kubernetes auth: the service account that logged in.
    std::string_view sa_ns = MetadataString(issued, "service_account_namespace");
    std::string_view sa_name = MetadataString(issued, "service_account_name");
    if (!sa_ns.empty() && !sa_name.empty()) {
      rf::AddUnique(&ev.aliases, "k8s:sa:" + std::string(sa_ns) + "/" + std::string(sa_name));
    }
    SetTokenSubject(issued.display_name, &ev);
    SetTtl(issued.token_ttl, &ev);
    a.String("token_type", issued.token_type);
    a.Strings("policies", issued.policies);
    a.String("wrapped_accessor", e.wrapped_accessor);
  }
  ev.attributes = a.Build();
  return std::optional<Event>(std::move(ev));
}

// A data member of the request ("" when absent or not a string).
std::string_view RequestData(const Entry& e, std::string_view key) {
  if (!e.request_data) return {};
  std::optional<element> v = rf::Member(*e.request_data, key);
  if (!v || v->type() != simdjson::dom::element_type::STRING) return {};
  return v->get_string().value_unsafe();
}

// The token a renew or revoke acts on: the one in the response, the caller's for "-self", else
// the token or accessor in the request data (HMAC'd like every other token value).
Result<std::string> TargetToken(const Entry& e) {
  NHI_ASSIGN_OR_RETURN(std::string from_response,
                       TokenIdentity(e.response_auth.accessor, "response.auth.accessor",
                                     e.response_auth.client_token, "response.auth.client_token"));
  if (!from_response.empty()) return from_response;
  std::string_view how = e.path_info.detail;
  if (how == "self") return e.caller_key;
  if (how == "accessor") {
    return TokenIdentity(RequestData(e, "accessor"), "request.data.accessor", {}, {});
  }
  return TokenIdentity({}, {}, RequestData(e, "token"), "request.data.token");
}

Event TokenLifecycle(const Entry& e, Kind kind, std::string identity) {
  Event ev = BaseEvent(e, kind, "#token");
  ev.identity = std::move(identity);
  if (ev.identity == AccessorKey(e.response_auth.accessor) &&
      !e.response_auth.client_token.empty()) {
    rf::AddUnique(&ev.aliases, TokenKey(e.response_auth.client_token));
  }
  SetActor(e, &ev);
  ev.outcome = OutcomeOf(e.error);
  SetTokenSubject(e.response_auth.display_name, &ev);
  if (kind == Kind::kRotation) SetTtl(e.response_auth.token_ttl, &ev);
  rf::Attributes a;
  AddCommonAttributes(e, &a);
  ev.attributes = a.Build();
  return ev;
}

// The lease a lease renewal or revocation acts on: the response's, the one in the path, else the
// request data's.
std::string_view TargetLease(const Entry& e) {
  if (!e.lease_id.empty()) return e.lease_id;
  if (!e.path_info.detail.empty()) return e.path_info.detail;
  return RequestData(e, "lease_id");
}

// `<mount>/creds/<role>`: the secrets engine role a leased credential was issued for.
std::string CredsRole(std::string_view path) {
  size_t pos = path.find("/creds/");
  if (pos == std::string_view::npos || pos == 0) return {};
  std::string_view role = path.substr(pos + 7);
  if (role.empty() || role.find('/') != std::string_view::npos) return {};
  return std::string(path.substr(0, pos)) + "/" + std::string(role);
}

Result<Event> LeaseLifecycle(const Entry& e, Kind kind, std::string_view lease,
                             std::string_view lease_path) {
  Event ev = BaseEvent(e, kind, "#lease");
  ev.identity = "vault:lease:" + std::string(lease);
  NHI_RETURN_IF_ERROR(rf::CheckIdentifier(lease_path, ev.identity, "an identity key"));
  if (kind == Kind::kProvision) {
    ev.correlation_key = "vault:request:" + std::string(e.id);
    if (std::string role = CredsRole(e.path); !role.empty()) {
      rf::AddUnique(&ev.aliases, "vault:role:" + role);
    }
  }
  SetActor(e, &ev);
  ev.outcome = OutcomeOf(e.error);
  ev.subject.emplace();
  ev.subject->kind = "other";
  ev.subject->system = "vault";
  rf::Attributes a;
  AddCommonAttributes(e, &a);
  ev.attributes = a.Build();
  return ev;
}

// The events of a response entry.
// Whether a response is the issuance of a token: a login or token creation, or any other auth/
// path whose response carries a new token (an OIDC callback), except renewals and revocations.
bool IsTokenIssuance(const Entry& e) {
  const Op op = e.path_info.op;
  if (op == Op::kLogin || op == Op::kTokenCreate) return true;
  bool carries_token = !e.response_auth.accessor.empty() || !e.response_auth.client_token.empty();
  return carries_token && StartsWith(e.path, "auth/") && op != Op::kTokenRenew &&
         op != Op::kTokenRevoke;
}

// The events of a response entry: the caller's action, then what the operation did to a token or
// lease.
Result<MapResult> MapResponse(const Entry& e) {
  MapResult out;
  const Op op = e.path_info.op;
  std::optional<Event> lifecycle;
  if (IsTokenIssuance(e)) {
    NHI_ASSIGN_OR_RETURN(lifecycle, TokenIssuance(e));
  } else if (op == Op::kTokenRenew || op == Op::kTokenRevoke) {
    NHI_ASSIGN_OR_RETURN(std::string target, TargetToken(e));
    if (!target.empty()) {
      lifecycle = TokenLifecycle(e, op == Op::kTokenRenew ? Kind::kRotation : Kind::kRevocation,
                                 std::move(target));
    }
  } else if (op == Op::kLeaseRenew || op == Op::kLeaseRevoke) {
    std::string_view lease = TargetLease(e);
    if (!lease.empty()) {
      std::string_view where = !e.lease_id.empty()           ? "response.secret.lease_id"
                               : !e.path_info.detail.empty() ? "request.path"
                                                             : "request.data.lease_id";
      NHI_ASSIGN_OR_RETURN(
          lifecycle, LeaseLifecycle(e, op == Op::kLeaseRenew ? Kind::kRotation : Kind::kRevocation,
                                    lease, where));
    }
  } else if (!e.lease_id.empty()) {
    NHI_ASSIGN_OR_RETURN(
        lifecycle, LeaseLifecycle(e, Kind::kProvision, e.lease_id, "response.secret.lease_id"));
  }
  // A login is made without a token: the `auth` Vault logs with its response is the token it
  // issued, which is no caller (its first use comes later).
  bool has_caller = !e.caller_key.empty() && op != Op::kLogin &&
                    !(IsTokenIssuance(e) && lifecycle && lifecycle->identity == e.caller_key);
  if (has_caller) out.events.push_back({CallerAction(e, ""), std::nullopt});
  if (lifecycle) out.events.push_back({std::move(*lifecycle), std::nullopt});
  if (out.events.empty()) out.ignored = IgnoredName(e);
  return out;
}

bool OpensChain(const Entry& e) {
  return e.path_info.op == Op::kLogin || e.path_info.op == Op::kTokenCreate;
}

constexpr std::string_view kHeld = "request (held for its response)";

class VaultImporter final : public Importer {
 public:
  explicit VaultImporter(const Options& options) : options_(options) {}

  std::string_view format() const override { return "vault"; }

  Result<MapResult> Map(const element& record, std::string_view raw) override {
    NHI_ASSIGN_OR_RETURN(Entry e, ParseEntry(record));
    if (e.is_response) {
      Forget(e.id);
      return MapResponse(e);
    }
    MapResult out;
    if (OpensChain(e)) {
      out.events.push_back({AccessRequest(e), std::nullopt});
      return out;
    }
    if (e.caller_key.empty()) {
      out.ignored = IgnoredName(e);
      return out;
    }
    out.ignored = std::string(kHeld);
    if (auto it = by_id_.find(std::string(e.id)); it != by_id_.end()) {
      if (pending_.at(it->second).raw == raw) return out;  // the same entry again
      NHI_RETURN_IF_ERROR(MapAlone(it->second, &out));
    }
    uint64_t seq = next_seq_++;
    pending_.emplace(seq, Pending{std::string(e.id), std::string(raw)});
    by_id_.emplace(std::string(e.id), seq);
    pending_bytes_ += raw.size();
    while (!pending_.empty() && (pending_.size() > options_.max_pending_requests ||
                                 pending_bytes_ > options_.max_pending_bytes)) {
      NHI_RETURN_IF_ERROR(MapAlone(pending_.begin()->first, &out));
    }
    return out;
  }

  Result<MapResult> Finish() override {
    MapResult out;
    while (!pending_.empty()) NHI_RETURN_IF_ERROR(MapAlone(pending_.begin()->first, &out));
    return out;
  }

 private:
  struct Pending {
    std::string id;
    std::string raw;
  };

  void Forget(std::string_view id) {
    auto it = by_id_.find(std::string(id));
    if (it == by_id_.end()) return;
    auto p = pending_.find(it->second);
    pending_bytes_ -= p->second.raw.size();
    pending_.erase(p);
    by_id_.erase(it);
  }

  // Maps the held request `seq` on its own (its response never came) and forgets it.
  Status MapAlone(uint64_t seq, MapResult* out) {
    auto node = pending_.extract(seq);
    Pending p = std::move(node.mapped());
    by_id_.erase(p.id);
    pending_bytes_ -= p.raw.size();
    element root;
    if (auto err = json::ParseJson(parser_, p.raw, &root)) {
      return InternalError("vault: a held request no longer parses: " +
                           std::string(simdjson::error_message(err)));
    }
    NHI_ASSIGN_OR_RETURN(Entry e, ParseEntry(root));
    out->events.push_back({CallerAction(e, "#request"), std::move(p.raw)});
    return OkStatus();
  }

  Options options_;
  std::map<uint64_t, Pending> pending_;  // by arrival
  std::unordered_map<std::string, uint64_t> by_id_;
  uint64_t next_seq_ = 0;
  size_t pending_bytes_ = 0;
  simdjson::dom::parser parser_;
};

}  // namespace

std::unique_ptr<Importer> MakeImporter() { return MakeImporter(Options{}); }

std::unique_ptr<Importer> MakeImporter(const Options& options) {
  return std::make_unique<VaultImporter>(options);
}

bool LooksLike(const simdjson::dom::element& record) {
  std::optional<element> type = rf::Member(record, "type");
  if (!type || type->type() != simdjson::dom::element_type::STRING) return false;
  std::string_view t = type->get_string().value_unsafe();
  if (t != "request" && t != "response") return false;
  std::optional<element> request = rf::Member(record, "request");
  return request && request->type() == simdjson::dom::element_type::OBJECT;
}

}  // namespace nhitrace::ingest::vault
