#include "ingest/cloudtrail/cloudtrail.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <simdjson.h>

#include "base/time.h"
#include "event/codec.h"
#include "json/canonical.h"
#include "json/dom.h"
#include "json/field_errors.h"

namespace nhitrace::ingest::cloudtrail {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
using OptElement = std::optional<element>;

// eventID plus the longest suffix ("#parameter-read:999") must fit an identifier.
constexpr size_t kMaxSuffixBytes = 32;
constexpr size_t kMaxEventIdBytes = event::kMaxKeyBytes - kMaxSuffixBytes;
// The most targets one record may name (GetParameters, DeleteParameters and
// BatchGetSecretValue take at most 20; more is not a CloudTrail record).
constexpr size_t kMaxTargets = 1000;
// What CloudTrail writes instead of a value it withholds.
constexpr std::string_view kHidden = "HIDDEN_DUE_TO_SECURITY_REASONS";

// ---------------------------------------------------------------------------------------------
// Errors and reading members.

using json::FieldError;
using json::TypeName;
using json::WrongType;

std::string Join(std::string_view parent, std::string_view key) {
  std::string p(parent);
  if (!p.empty()) p += '.';
  p += key;
  return p;
}

// Member `key` of `obj` (an object, or nullopt for "no object"); nullopt when absent or null.
OptElement Member(const OptElement& obj, std::string_view key) {
  if (!obj || obj->type() != element_type::OBJECT) return std::nullopt;
  element v;
  if (obj->at_key(key).get(v) != simdjson::SUCCESS) return std::nullopt;
  if (v.type() == element_type::NULL_VALUE) return std::nullopt;
  return v;
}

// A string value at `path`; absent or null reads as "". Any other type is an error.
Status StringValue(const OptElement& v, std::string_view path, std::string_view* out) {
  *out = {};
  if (!v || v->type() == element_type::NULL_VALUE) return OkStatus();
  if (v->type() != element_type::STRING) return WrongType(path, *v, "a string");
  *out = v->get_string().value_unsafe();
  return OkStatus();
}

// A string member; absent or null reads as "". Any other type is an error.
Status GetString(const OptElement& obj, std::string_view parent, std::string_view key,
                 std::string_view* out) {
  OptElement v = Member(obj, key);
  if (!v) {
    *out = {};
    return OkStatus();
  }
  return StringValue(v, Join(parent, key), out);
}

// An object member; absent or null reads as nullopt. Any other type is an error.
Status GetObject(const OptElement& obj, std::string_view parent, std::string_view key,
                 OptElement* out) {
  *out = Member(obj, key);
  if (*out && (*out)->type() != element_type::OBJECT) {
    return WrongType(Join(parent, key), **out, "an object");
  }
  return OkStatus();
}

// A required, non-empty string member `key` of the record, whose value is `v`.
Status RequiredString(const OptElement& v, std::string_view key, std::string_view* out) {
  if (!v) return FieldError(key, "required field is missing");
  if (v->type() != element_type::STRING) return WrongType(key, *v, "a string");
  *out = v->get_string().value_unsafe();
  if (out->empty()) return FieldError(key, "must not be empty");
  return OkStatus();
}

// An object value at `path`; absent or null reads as nullopt. Any other type is an error.
Status ObjectValue(const OptElement& v, std::string_view path, OptElement* out) {
  out->reset();
  if (!v || v->type() == element_type::NULL_VALUE) return OkStatus();
  if (v->type() != element_type::OBJECT) return WrongType(path, *v, "an object");
  *out = v;
  return OkStatus();
}

// The top-level members of a record that the importer reads, found in one pass over it. A
// member that occurs twice counts once, as its first occurrence (as at_key finds it).
struct TopLevel {
  OptElement event_id, event_time, event_source, event_name, event_type, user_identity, aws_region,
      recipient_account_id, request_parameters, response_elements, resources, error_code,
      error_message, source_ip_address, user_agent, request_id, read_only, management_event,
      session_credential_from_console, vpc_endpoint_id;
};

TopLevel ReadTopLevel(const element& root) {
  static constexpr std::pair<std::string_view, OptElement TopLevel::*> kMembers[] = {
      {"eventID", &TopLevel::event_id},
      {"eventTime", &TopLevel::event_time},
      {"eventSource", &TopLevel::event_source},
      {"eventName", &TopLevel::event_name},
      {"eventType", &TopLevel::event_type},
      {"userIdentity", &TopLevel::user_identity},
      {"awsRegion", &TopLevel::aws_region},
      {"recipientAccountId", &TopLevel::recipient_account_id},
      {"requestParameters", &TopLevel::request_parameters},
      {"responseElements", &TopLevel::response_elements},
      {"resources", &TopLevel::resources},
      {"errorCode", &TopLevel::error_code},
      {"errorMessage", &TopLevel::error_message},
      {"sourceIPAddress", &TopLevel::source_ip_address},
      {"userAgent", &TopLevel::user_agent},
      {"requestID", &TopLevel::request_id},
      {"readOnly", &TopLevel::read_only},
      {"managementEvent", &TopLevel::management_event},
      {"sessionCredentialFromConsole", &TopLevel::session_credential_from_console},
      {"vpcEndpointId", &TopLevel::vpc_endpoint_id},
  };
  TopLevel t;
  for (simdjson::dom::key_value_pair kv : json::ObjectOf(root)) {
    for (const auto& [name, field] : kMembers) {
      if (kv.key == name) {
        if (!(t.*field)) t.*field = kv.value;
        break;
      }
    }
  }
  return t;
}

// "" when `s` may be an identifier of the native schema (docs/format/event.md section 2), else
// why not.
std::string IdentifierProblem(std::string_view s, size_t max = event::kMaxKeyBytes) {
  if (s.empty()) return "must not be empty";
  if (s.size() > max) return "longer than " + std::to_string(max) + " bytes";
  for (size_t i = 0; i < s.size(); ++i) {
    auto u = static_cast<unsigned char>(s[i]);
    auto next = i + 1 < s.size() ? static_cast<unsigned char>(s[i + 1]) : 0;
    bool c1 = u == 0xC2 && next >= 0x80 && next <= 0x9F;
    bool separator = u == 0xE2 && next == 0x80 && i + 2 < s.size() &&
                     (static_cast<unsigned char>(s[i + 2]) == 0xA8 ||
                      static_cast<unsigned char>(s[i + 2]) == 0xA9);
    if (u < 0x20 || u == 0x7F || c1 || separator) {
      return "must not contain control characters or line separators";
    }
  }
  if (s.front() == ' ' || s.back() == ' ') return "must not start or end with a space";
  return {};
}

// OK when `value` (read from the record at `path`) may be an identifier.
Status CheckIdentifier(std::string_view value, std::string_view path,
                       size_t max = event::kMaxKeyBytes) {
  std::string problem = IdentifierProblem(value, max);
  if (!problem.empty()) return FieldError(path, problem);
  return OkStatus();
}

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// An AWS access key id: 16 to 128 upper-case letters and digits (AKIA..., ASIA...). A masked
// id ("AKIA****************") is not one.
bool IsAccessKeyId(std::string_view s) {
  if (s.size() < 16 || s.size() > 128) return false;
  for (char c : s) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// ARNs and identity keys (docs/importers/cloudtrail.md, "Identity keys").

struct Arn {
  std::string_view partition, service, region, account, resource;
};

std::optional<Arn> ParseArn(std::string_view s) {
  if (!StartsWith(s, "arn:")) return std::nullopt;
  std::array<std::string_view, 5> parts;
  size_t pos = 4;
  for (size_t i = 0; i < 4; ++i) {
    size_t colon = s.find(':', pos);
    if (colon == std::string_view::npos) return std::nullopt;
    parts[i] = s.substr(pos, colon - pos);
    pos = colon + 1;
  }
  parts[4] = s.substr(pos);
  if (parts[0].empty() || parts[1].empty() || parts[4].empty()) return std::nullopt;
  return Arn{parts[0], parts[1], parts[2], parts[3], parts[4]};
}

std::string_view LastSegment(std::string_view s) {
  size_t slash = s.rfind('/');
  return slash == std::string_view::npos ? s : s.substr(slash + 1);
}

std::string AccessKeyKey(std::string_view id) { return "aws:accesskey:" + std::string(id); }
std::string RootKey(std::string_view account) { return "aws:root:" + std::string(account); }
std::string UserKey(std::string_view account, std::string_view name) {
  return "aws:iam-user:" + std::string(account) + "/" + std::string(name);
}
std::string RoleKey(std::string_view account, std::string_view name) {
  return "aws:role:" + std::string(account) + "/" + std::string(name);
}
std::string SessionKey(std::string_view account, std::string_view role, std::string_view session) {
  return "aws:sts-session:" + std::string(account) + "/" + std::string(role) + "/" +
         std::string(session);
}
std::string FederatedKey(std::string_view account, std::string_view name) {
  return "aws:federated-user:" + std::string(account) + "/" + std::string(name);
}

// The subject kind of an access key: temporary (ASIA...) keys are tokens.
std::string_view AccessKeyKind(std::string_view id) {
  return StartsWith(id, "ASIA") ? "token" : "api_key";
}

// The role and session of an STS assumed-role ARN (arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION).
bool SplitAssumedRole(const Arn& a, std::string_view* role, std::string_view* session) {
  if (a.service != "sts" || !StartsWith(a.resource, "assumed-role/")) return false;
  std::string_view rest = a.resource.substr(13);
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 >= rest.size()) return false;
  *role = rest.substr(0, slash);
  *session = rest.substr(slash + 1);
  return true;
}

// ---------------------------------------------------------------------------------------------
// Attributes: a canonical JSON object built from members added in any order.

class Attributes {
 public:
  void String(std::string_view key, std::string_view v) {
    if (v.empty()) return;
    size_t begin = Begin(key);
    json::AppendCanonicalString(v, &values_);
    End(begin);
  }
  void Int(std::string_view key, int64_t v) {
    size_t begin = Begin(key);
    json::AppendCanonicalInteger(v, &values_);
    End(begin);
  }
  // Strings, numbers and booleans are copied; other values (objects, arrays, null) are not.
  void Scalar(std::string_view key, const OptElement& v) {
    if (!v) return;
    switch (v->type()) {
      case element_type::STRING:
        String(key, v->get_string().value_unsafe());
        return;
      case element_type::BOOL: {
        size_t begin = Begin(key);
        values_ += v->get_bool().value_unsafe() ? "true" : "false";
        End(begin);
        return;
      }
      case element_type::INT64:
      case element_type::UINT64:
      case element_type::DOUBLE: {
        size_t begin = Begin(key);
        if (json::AppendCanonical(*v, &values_).ok()) {
          End(begin);
        } else {
          values_.resize(begin);
          items_.pop_back();
        }
        return;
      }
      default:
        return;
    }
  }
  // The canonical object text; "" when nothing was added. Members added in canonical order
  // cost no sorting.
  std::string Take() {
    if (items_.empty()) return {};
    std::stable_sort(items_.begin(), items_.end(), [](const Item& a, const Item& b) {
      return json::CompareUtf16(a.key, b.key) < 0;
    });
    std::string out;
    out.reserve(values_.size() + items_.size() * 24);
    out += '{';
    for (size_t i = 0; i < items_.size(); ++i) {
      if (i > 0) out += ',';
      json::AppendCanonicalString(items_[i].key, &out);
      out += ':';
      out.append(values_, items_[i].begin, items_[i].end - items_[i].begin);
    }
    out += '}';
    items_.clear();
    values_.clear();
    return out;
  }

 private:
  struct Item {
    std::string_view key;
    size_t begin, end;  // the value's bytes in values_
  };
  size_t Begin(std::string_view key) {
    items_.push_back(Item{key, values_.size(), 0});
    return values_.size();
  }
  void End(size_t begin) {
    (void)begin;
    items_.back().end = values_.size();
  }
  std::vector<Item> items_;
  std::string values_;
};

void AddUnique(std::vector<std::string>* v, std::string s) {
  if (s.empty()) return;
  if (std::find(v->begin(), v->end(), s) == v->end()) v->push_back(std::move(s));
}

// ---------------------------------------------------------------------------------------------
// The caller: who made the call, from userIdentity.

struct Principal {
  std::string type;       // userIdentity.type as given
  std::string identity;   // key of the caller's events: the access key, else `principal`
  std::string principal;  // the principal's own key (iam-user, sts-session, root, ...) or ""
  std::vector<std::string> aliases;  // other keys of `identity`
  event::Subject subject;            // describes `identity`
  bool is_service = false;           // an AWS service acting on its own behalf
  std::string service;               // "aws:service:<invokedBy>" (also for services on behalf)
  std::string account;               // the principal's account
  std::string user_name;             // IAM users: their name
  std::string masked_key;            // userIdentity.accessKeyId when it is not a usable key id
  OptElement session_attrs;          // userIdentity.sessionContext.attributes
  std::string_view source_identity, arn, principal_id, invoked_by;  // as in userIdentity
};

// Fills `principal`, `aliases` and the subject from an ARN when the type-specific members did
// not name the principal.
void PrincipalFromArn(const Arn& a, Principal* p) {
  std::string_view role, session;
  if (SplitAssumedRole(a, &role, &session)) {
    p->principal = SessionKey(a.account, role, session);
    AddUnique(&p->aliases, RoleKey(a.account, role));
    p->subject.kind = "token";
    p->subject.name = std::string(role) + "/" + std::string(session);
  } else if (a.service == "sts" && StartsWith(a.resource, "federated-user/")) {
    p->principal = FederatedKey(a.account, a.resource.substr(15));
    p->subject.kind = "token";
    p->subject.name = std::string(a.resource.substr(15));
  } else if (a.service == "iam" && a.resource == "root") {
    p->principal = RootKey(a.account);
    p->subject.kind = "other";
    p->subject.name = "root";
  } else if (a.service == "iam" && StartsWith(a.resource, "user/")) {
    p->user_name = std::string(LastSegment(a.resource));
    p->principal = UserKey(a.account, p->user_name);
    p->subject.kind = "service_account";
    p->subject.name = p->user_name;
  } else if (a.service == "iam" && StartsWith(a.resource, "role/")) {
    p->principal = RoleKey(a.account, LastSegment(a.resource));
    p->subject.kind = "role";
    p->subject.name = std::string(LastSegment(a.resource));
  }
}

Result<Principal> ResolvePrincipal(const element& ui) {
  constexpr std::string_view kUi = "userIdentity";
  const OptElement u = ui;
  Principal p;
  std::string_view type, principal_id, arn_text, account, key_id, user_name, invoked_by, provider;
  NHI_RETURN_IF_ERROR(GetString(u, kUi, "type", &type));
  NHI_RETURN_IF_ERROR(GetString(u, kUi, "principalId", &principal_id));
  NHI_RETURN_IF_ERROR(GetString(u, kUi, "arn", &arn_text));
  NHI_RETURN_IF_ERROR(GetString(u, kUi, "accountId", &account));
  NHI_RETURN_IF_ERROR(GetString(u, kUi, "accessKeyId", &key_id));
  NHI_RETURN_IF_ERROR(GetString(u, kUi, "userName", &user_name));
  NHI_RETURN_IF_ERROR(GetString(u, kUi, "invokedBy", &invoked_by));
  NHI_RETURN_IF_ERROR(GetString(u, kUi, "identityProvider", &provider));
  if (user_name == kHidden) user_name = {};
  OptElement session_context, issuer;
  NHI_RETURN_IF_ERROR(GetObject(u, kUi, "sessionContext", &session_context));
  const std::string sc_path = "userIdentity.sessionContext";
  NHI_RETURN_IF_ERROR(GetObject(session_context, sc_path, "sessionIssuer", &issuer));
  NHI_RETURN_IF_ERROR(GetObject(session_context, sc_path, "attributes", &p.session_attrs));
  NHI_RETURN_IF_ERROR(GetString(session_context, sc_path, "sourceIdentity", &p.source_identity));
  std::string_view issuer_type, issuer_arn, issuer_name;
  const std::string issuer_path = sc_path + ".sessionIssuer";
  NHI_RETURN_IF_ERROR(GetString(issuer, issuer_path, "type", &issuer_type));
  NHI_RETURN_IF_ERROR(GetString(issuer, issuer_path, "arn", &issuer_arn));
  NHI_RETURN_IF_ERROR(GetString(issuer, issuer_path, "userName", &issuer_name));

  p.type = std::string(type);
  p.arn = arn_text;
  p.principal_id = principal_id;
  p.invoked_by = invoked_by;
  std::optional<Arn> arn = ParseArn(arn_text);
  p.account = std::string(account.empty() && arn ? arn->account : account);
  p.subject.system = "aws";
  if (!invoked_by.empty()) {
    NHI_RETURN_IF_ERROR(CheckIdentifier(invoked_by, "userIdentity.invokedBy"));
    p.service = "aws:service:" + std::string(invoked_by);
  }

  if (type == "AWSService") {
    p.is_service = !p.service.empty();
    return p;
  }
  if (type == "Root" && !p.account.empty()) {
    p.principal = RootKey(p.account);
    p.subject.kind = "other";
    p.subject.name = "root";
  } else if (type == "IAMUser" && !user_name.empty() && !p.account.empty()) {
    p.user_name = std::string(user_name);
    p.principal = UserKey(p.account, user_name);
    p.subject.kind = "service_account";
    p.subject.name = p.user_name;
  } else if (type == "AssumedRole" && !(arn && arn->service == "sts") && !issuer_name.empty() &&
             !p.account.empty()) {
    // No assumed-role ARN: the role from the session issuer, the session from the principal id
    // ("AROA...:SESSION").
    size_t colon = principal_id.find(':');
    if (colon != std::string_view::npos && colon + 1 < principal_id.size()) {
      std::string_view session = principal_id.substr(colon + 1);
      p.principal = SessionKey(p.account, issuer_name, session);
      p.subject.kind = "token";
      p.subject.name = std::string(issuer_name) + "/" + std::string(session);
    } else {
      p.principal = RoleKey(p.account, issuer_name);
      p.subject.kind = "role";
      p.subject.name = std::string(issuer_name);
    }
    AddUnique(&p.aliases, RoleKey(p.account, issuer_name));
  } else if ((type == "WebIdentityUser" || type == "SAMLUser") && !provider.empty() &&
             !user_name.empty()) {
    p.principal = std::string(type == "WebIdentityUser" ? "aws:web-identity:" : "aws:saml-user:") +
                  std::string(provider) + "/" + std::string(user_name);
    p.subject.kind = type == "WebIdentityUser" ? "workload" : "other";
    p.subject.name = std::string(user_name);
  }
  if (p.principal.empty() && arn) PrincipalFromArn(*arn, &p);
  if (p.principal.empty() && !principal_id.empty()) {
    p.principal =
        "aws:principal:" + (p.account.empty() ? "" : p.account + "/") + std::string(principal_id);
    p.subject.kind = "other";
    p.subject.name = std::string(principal_id);
  }
  // A federated user's session was issued by an IAM user (or root): that is who it acts for.
  if (type == "FederatedUser" && issuer_type == "IAMUser" && !issuer_name.empty()) {
    std::optional<Arn> ia = ParseArn(issuer_arn);
    std::string_view acct = ia ? ia->account : std::string_view(p.account);
    if (!acct.empty()) AddUnique(&p.aliases, UserKey(acct, issuer_name));
  } else if (type == "FederatedUser" && issuer_type == "Root") {
    std::optional<Arn> ia = ParseArn(issuer_arn);
    if (ia && !ia->account.empty()) AddUnique(&p.aliases, RootKey(ia->account));
  }

  std::vector<std::string> others = std::move(p.aliases);
  p.aliases.clear();
  if (IsAccessKeyId(key_id)) {
    p.identity = AccessKeyKey(key_id);
    AddUnique(&p.aliases, p.principal);
    p.subject.kind = std::string(AccessKeyKind(key_id));
  } else {
    if (!key_id.empty()) p.masked_key = std::string(key_id);
    p.identity = p.principal;
  }
  for (auto& o : others) {
    if (o != p.identity) AddUnique(&p.aliases, std::move(o));
  }
  if (p.identity.empty()) {
    // Nothing names a principal of the account.
    p.aliases.clear();
    p.is_service = !p.service.empty() && type.empty();
    return p;
  }
  // The keys are made of these members: name the one that cannot be part of an identifier.
  const std::pair<std::string_view, std::string_view> parts[] = {
      {"userIdentity.accountId", account},
      {"userIdentity.userName", user_name},
      {"userIdentity.arn", arn_text},
      {"userIdentity.principalId", principal_id},
      {"userIdentity.identityProvider", provider},
      {"userIdentity.sessionContext.sessionIssuer.userName", issuer_name},
      {"userIdentity.sessionContext.sessionIssuer.arn", issuer_arn}};
  auto check = [&](const std::string& key) {
    std::string problem = IdentifierProblem(key);
    if (problem.empty()) return OkStatus();
    for (const auto& [path, value] : parts) {
      // (inside a key, a member's own leading or trailing space is no problem)
      std::string wrapped;  // (built by append: GCC 12 -O3 misreports "x" + s + "x")
      wrapped.reserve(value.size() + 2);
      wrapped.append(1, 'x').append(value).append(1, 'x');
      std::string inner = IdentifierProblem(wrapped);
      if (!value.empty() && !inner.empty()) return FieldError(path, inner);
    }
    return FieldError("userIdentity", problem);
  };
  NHI_RETURN_IF_ERROR(check(p.identity));
  for (const auto& a : p.aliases) NHI_RETURN_IF_ERROR(check(a));
  if (!p.subject.name.empty() && !IdentifierProblem(p.subject.name).empty()) p.subject.name.clear();
  return p;
}

// ---------------------------------------------------------------------------------------------
// The record.

struct Record {
  std::string_view event_id, event_time, event_source, event_name, event_type;
  int64_t time_ns = 0;
  std::string service;     // eventSource without ".amazonaws.com"
  std::string permission;  // "<IAM service prefix>:<action>"
  std::string_view region, recipient_account;
  OptElement request, response;
  event::Outcome outcome;
  Principal caller;
  const TopLevel* top = nullptr;
  std::string account;  // where the call's targets live: recipientAccountId, else the caller's
};

bool IsDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The IAM action name of a call: "<prefix>:<action>". CloudTrail names a few services and
// actions differently from IAM: CloudWatch logs as monitoring.amazonaws.com, and Lambda and
// CloudFront append the API version to the event name (CreateFunction20150331,
// UpdateDistribution2020_05_31).
std::string Permission(std::string_view service, std::string_view name) {
  std::string prefix(service == "monitoring" ? "cloudwatch" : service);
  std::string_view action = name;
  if (service == "lambda") {
    // ...YYYYMMDD or ...YYYYMMDDvN
    std::string_view a = action;
    size_t v = a.rfind('v');
    if (v != std::string_view::npos && v + 1 < a.size() && IsDigits(a.substr(v + 1))) {
      a = a.substr(0, v);
    }
    if (a.size() > 8 && IsDigits(a.substr(a.size() - 8))) action = a.substr(0, a.size() - 8);
  } else if (service == "cloudfront" && action.size() > 10) {
    std::string_view tail = action.substr(action.size() - 10);  // YYYY_MM_DD
    if (tail[4] == '_' && tail[7] == '_' && IsDigits(tail.substr(0, 4)) &&
        IsDigits(tail.substr(5, 2)) && IsDigits(tail.substr(8, 2))) {
      action = action.substr(0, action.size() - 10);
    }
  }
  return prefix + ":" + std::string(action);
}

event::Event NewEvent(const Record& r, event::Kind kind, std::string_view suffix) {
  event::Event e;
  e.kind = kind;
  e.source_system = std::string(kSourceSystem);
  e.source_event_id = std::string(r.event_id) + std::string(suffix);
  e.time = std::string(r.event_time);
  e.time_ns = r.time_ns;
  e.outcome = r.outcome;
  return e;
}

// The caller as the actor of a lifecycle event.
void SetCallerActor(const Record& r, event::Event* e) {
  if (r.caller.is_service) {
    e->actor = event::Actor{r.caller.service, "system"};
  } else if (!r.caller.identity.empty()) {
    e->actor = event::Actor{r.caller.identity, ""};
  }
}

void SetSubject(event::Event* e, std::string_view kind, std::string_view name) {
  e->subject = event::Subject{};
  e->subject->kind = std::string(kind);
  if (IdentifierProblem(name).empty()) e->subject->name = std::string(name);
  e->subject->system = "aws";
}

void Push(MapResult* out, event::Event e) { out->events.push_back(MappedEvent{std::move(e), {}}); }

bool Succeeded(const Record& r) { return r.outcome.result == "success"; }

// The account a target of the call lives in, named after `path` in the error when unknown.
Status TargetAccount(const Record& r, std::string_view target_arn, std::string* out) {
  std::optional<Arn> a = ParseArn(target_arn);
  if (a && !a->account.empty()) {
    *out = std::string(a->account);
  } else {
    *out = r.account;
  }
  if (out->empty()) {
    return FieldError("recipientAccountId",
                      "required to name the target of " + r.permission + " (no account id)");
  }
  return OkStatus();
}

Status MissingTarget(const Record& r, std::string_view path) {
  return FieldError(path,
                    "required for a successful " + r.service + ":" + std::string(r.event_name));
}

// ---------------------------------------------------------------------------------------------
// Policy documents: the Allow statements' actions and resources as a scope.

std::string UrlDecode(std::string_view s) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else if (s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

void AddStrings(const element& v, std::vector<std::string>* out) {
  auto add = [out](const element& s) {
    if (s.type() != element_type::STRING || out->size() >= event::kMaxListItems) return;
    std::string_view text = s.get_string().value_unsafe();
    if (IdentifierProblem(text).empty()) AddUnique(out, std::string(text));
  };
  if (v.type() == element_type::ARRAY) {
    for (element s : json::ArrayOf(v)) add(s);
  } else {
    add(v);
  }
}

std::optional<event::Scope> PolicyScope(simdjson::dom::parser& parser, std::string_view doc) {
  std::string decoded;
  if (StartsWith(doc, "%7B") || StartsWith(doc, "%7b")) {
    decoded = UrlDecode(doc);
    doc = decoded;
  }
  element root;
  if (json::ParseJson(parser, doc, &root) != simdjson::SUCCESS) return std::nullopt;
  OptElement statements = Member(root, "Statement");
  if (!statements) return std::nullopt;
  std::vector<element> list;
  if (statements->type() == element_type::ARRAY) {
    for (element s : json::ArrayOf(*statements)) list.push_back(s);
  } else {
    list.push_back(*statements);
  }
  event::Scope scope;
  for (const element& st : list) {
    OptElement effect = Member(st, "Effect");
    if (!effect || effect->type() != element_type::STRING ||
        effect->get_string().value_unsafe() != "Allow") {
      continue;
    }
    if (OptElement a = Member(st, "Action")) AddStrings(*a, &scope.permissions);
    if (OptElement res = Member(st, "Resource")) AddStrings(*res, &scope.resources);
  }
  if (scope.permissions.empty() && scope.resources.empty()) return std::nullopt;
  return scope;
}

// ---------------------------------------------------------------------------------------------
// IAM: users, access keys, roles and their policies.

// The IAM user a key belongs to: the request's userName, else the caller (a key call without
// userName acts on the caller's own keys).
std::string KeyOwner(const Record& r, std::string_view user_name) {
  if (!user_name.empty() && !r.account.empty()) return UserKey(r.account, user_name);
  if (user_name.empty() && r.caller.type == "IAMUser" && !r.caller.user_name.empty()) {
    return r.caller.principal;
  }
  if (user_name.empty() && r.caller.type == "Root" && !r.caller.account.empty()) {
    return RootKey(r.caller.account);
  }
  return {};
}

Status MapIamUser(const Record& r, MapResult* out) {
  const bool create = r.event_name == "CreateUser";
  std::string_view name, arn, user_id, path;
  if (create) {
    OptElement user;
    NHI_RETURN_IF_ERROR(GetObject(r.response, "responseElements", "user", &user));
    NHI_RETURN_IF_ERROR(GetString(user, "responseElements.user", "userName", &name));
    NHI_RETURN_IF_ERROR(GetString(user, "responseElements.user", "arn", &arn));
    NHI_RETURN_IF_ERROR(GetString(user, "responseElements.user", "userId", &user_id));
    NHI_RETURN_IF_ERROR(GetString(user, "responseElements.user", "path", &path));
  }
  if (name.empty()) {
    NHI_RETURN_IF_ERROR(GetString(r.request, "requestParameters", "userName", &name));
  }
  if (name.empty()) {
    if (Succeeded(r)) return MissingTarget(r, "requestParameters.userName");
    return OkStatus();
  }
  std::string account;
  NHI_RETURN_IF_ERROR(TargetAccount(r, arn, &account));
  event::Event e = NewEvent(r, create ? event::Kind::kProvision : event::Kind::kRevocation,
                            create ? "#provision" : "#revocation");
  e.identity = UserKey(account, name);
  NHI_RETURN_IF_ERROR(CheckIdentifier(e.identity, "requestParameters.userName"));
  SetCallerActor(r, &e);
  SetSubject(&e, "service_account", name);
  Attributes at;
  at.String("eventName", r.event_name);
  at.String("userArn", arn);
  at.String("userId", user_id);
  at.String("path", path);
  e.attributes = at.Take();
  Push(out, std::move(e));
  return OkStatus();
}

Status MapAccessKey(const Record& r, MapResult* out) {
  std::string_view key_id, user_name, status;
  const bool create = r.event_name == "CreateAccessKey";
  std::string_view key_path = "requestParameters.accessKeyId";
  if (create) {
    OptElement key;
    key_path = "responseElements.accessKey.accessKeyId";
    NHI_RETURN_IF_ERROR(GetObject(r.response, "responseElements", "accessKey", &key));
    NHI_RETURN_IF_ERROR(GetString(key, "responseElements.accessKey", "accessKeyId", &key_id));
    NHI_RETURN_IF_ERROR(GetString(key, "responseElements.accessKey", "userName", &user_name));
    NHI_RETURN_IF_ERROR(GetString(key, "responseElements.accessKey", "status", &status));
  } else {
    NHI_RETURN_IF_ERROR(GetString(r.request, "requestParameters", "accessKeyId", &key_id));
    NHI_RETURN_IF_ERROR(GetString(r.request, "requestParameters", "status", &status));
  }
  if (user_name.empty()) {
    NHI_RETURN_IF_ERROR(GetString(r.request, "requestParameters", "userName", &user_name));
  }
  if (!IsAccessKeyId(key_id)) {
    if (!Succeeded(r)) return OkStatus();
    if (key_id.empty()) return MissingTarget(r, key_path);
    return FieldError(key_path, "not an access key id (16 to 128 upper-case letters and digits)");
  }
  event::Kind kind = create ? event::Kind::kProvision : event::Kind::kRevocation;
  std::string_view suffix = create ? "#provision" : "#revocation";
  if (r.event_name == "UpdateAccessKey") {
    if (status == "Active") {
      kind = event::Kind::kProvision;
      suffix = "#provision";
    } else if (status != "Inactive") {
      if (!Succeeded(r)) return OkStatus();
      return FieldError("requestParameters.status", "must be Active or Inactive");
    }
  }
  event::Event e = NewEvent(r, kind, suffix);
  e.identity = AccessKeyKey(key_id);
  std::string owner = KeyOwner(r, user_name);
  if (!owner.empty()) {
    NHI_RETURN_IF_ERROR(CheckIdentifier(owner, "requestParameters.userName"));
    e.aliases.push_back(std::move(owner));
  }
  SetCallerActor(r, &e);
  SetSubject(&e, AccessKeyKind(key_id), user_name);
  Attributes at;
  at.String("eventName", r.event_name);
  at.String("status", status);
  at.String("userName", user_name);
  e.attributes = at.Take();
  Push(out, std::move(e));
  return OkStatus();
}

Status MapRole(const Record& r, MapResult* out) {
  const bool create = r.event_name == "CreateRole";
  std::string_view name, arn, role_id, trust, path;
  if (create) {
    OptElement role;
    NHI_RETURN_IF_ERROR(GetObject(r.response, "responseElements", "role", &role));
    NHI_RETURN_IF_ERROR(GetString(role, "responseElements.role", "roleName", &name));
    NHI_RETURN_IF_ERROR(GetString(role, "responseElements.role", "arn", &arn));
    NHI_RETURN_IF_ERROR(GetString(role, "responseElements.role", "roleId", &role_id));
    NHI_RETURN_IF_ERROR(
        GetString(r.request, "requestParameters", "assumeRolePolicyDocument", &trust));
    NHI_RETURN_IF_ERROR(GetString(r.request, "requestParameters", "path", &path));
  }
  if (name.empty()) {
    NHI_RETURN_IF_ERROR(GetString(r.request, "requestParameters", "roleName", &name));
  }
  if (name.empty()) {
    if (Succeeded(r)) return MissingTarget(r, "requestParameters.roleName");
    return OkStatus();
  }
  std::string account;
  NHI_RETURN_IF_ERROR(TargetAccount(r, arn, &account));
  event::Event e = NewEvent(r, create ? event::Kind::kProvision : event::Kind::kRevocation,
                            create ? "#provision" : "#revocation");
  e.identity = RoleKey(account, name);
  NHI_RETURN_IF_ERROR(CheckIdentifier(e.identity, "requestParameters.roleName"));
  SetCallerActor(r, &e);
  SetSubject(&e, "role", name);
  Attributes at;
  at.String("eventName", r.event_name);
  at.String("roleArn", arn);
  at.String("roleId", role_id);
  at.String("path", path);
  at.String("assumeRolePolicyDocument", trust);
  at.Scalar("maxSessionDuration", Member(r.request, "maxSessionDuration"));
  e.attributes = at.Take();
  Push(out, std::move(e));
  return OkStatus();
}

// Attach/Detach/Put/Delete User/Role Policy and UpdateAssumeRolePolicy: an `identity` event
// about the user or role whose permissions (or trust) changed.
Status MapPolicyChange(const Record& r, simdjson::dom::parser& parser, MapResult* out) {
  std::string_view n = r.event_name;
  const bool user = n.find("User") != std::string_view::npos;
  std::string_view change = StartsWith(n, "Attach")   ? "attach"
                            : StartsWith(n, "Detach") ? "detach"
                            : StartsWith(n, "Put")    ? "put"
                            : StartsWith(n, "Delete") ? "delete"
                                                      : "trust";
  std::string_view name_key = user ? "userName" : "roleName";
  std::string_view name, policy_arn, policy_name, document;
  NHI_RETURN_IF_ERROR(GetString(r.request, "requestParameters", name_key, &name));
  NHI_RETURN_IF_ERROR(GetString(r.request, "requestParameters", "policyArn", &policy_arn));
  NHI_RETURN_IF_ERROR(GetString(r.request, "requestParameters", "policyName", &policy_name));
  NHI_RETURN_IF_ERROR(GetString(r.request, "requestParameters", "policyDocument", &document));
  if (name.empty()) {
    if (Succeeded(r)) return MissingTarget(r, Join("requestParameters", name_key));
    return OkStatus();
  }
  std::string account;
  NHI_RETURN_IF_ERROR(TargetAccount(r, "", &account));
  event::Event e = NewEvent(r, event::Kind::kIdentity, "#policy");
  e.identity = user ? UserKey(account, name) : RoleKey(account, name);
  NHI_RETURN_IF_ERROR(CheckIdentifier(e.identity, Join("requestParameters", name_key)));
  SetCallerActor(r, &e);
  SetSubject(&e, user ? "service_account" : "role", name);
  if (change == "put" && !document.empty()) e.scope = PolicyScope(parser, document);
  Attributes at;
  at.String("eventName", r.event_name);
  at.String("change", change);
  at.String("policyArn", policy_arn);
  at.String("policyName", policy_name);
  at.String("policyDocument", document);
  e.attributes = at.Take();
  Push(out, std::move(e));
  return OkStatus();
}

// ---------------------------------------------------------------------------------------------
// STS: temporary keys.

Status MapIssuedKey(const Record& r, MapResult* out) {
  if (!Succeeded(r)) return OkStatus();  // nothing was issued; the action records the attempt
  const std::string_view n = r.event_name;
  const bool assume = StartsWith(n, "AssumeRole");
  OptElement creds, assumed, federated;
  NHI_RETURN_IF_ERROR(GetObject(r.response, "responseElements", "credentials", &creds));
  NHI_RETURN_IF_ERROR(GetObject(r.response, "responseElements", "assumedRoleUser", &assumed));
  NHI_RETURN_IF_ERROR(GetObject(r.response, "responseElements", "federatedUser", &federated));
  std::string_view key_id, expiration, assumed_arn, federated_arn;
  NHI_RETURN_IF_ERROR(GetString(creds, "responseElements.credentials", "accessKeyId", &key_id));
  NHI_RETURN_IF_ERROR(GetString(creds, "responseElements.credentials", "expiration", &expiration));
  NHI_RETURN_IF_ERROR(GetString(assumed, "responseElements.assumedRoleUser", "arn", &assumed_arn));
  NHI_RETURN_IF_ERROR(
      GetString(federated, "responseElements.federatedUser", "arn", &federated_arn));
  std::string_view role_arn, session_name, fed_name, source_identity;
  NHI_RETURN_IF_ERROR(GetString(r.request, "requestParameters", "roleArn", &role_arn));
  NHI_RETURN_IF_ERROR(GetString(r.request, "requestParameters", "roleSessionName", &session_name));
  NHI_RETURN_IF_ERROR(GetString(r.request, "requestParameters", "name", &fed_name));
  NHI_RETURN_IF_ERROR(
      GetString(r.request, "requestParameters", "sourceIdentity", &source_identity));

  // The keys the new credential is known by: the session and role (AssumeRole*), the federated
  // user (GetFederationToken), and for some calls its issuer (below).
  std::vector<std::string> targets;
  std::string name, fallback;
  if (assume) {
    std::string_view role, session;
    std::optional<Arn> a = ParseArn(assumed_arn);
    std::optional<Arn> ra = ParseArn(role_arn);
    std::string account;
    if (a && SplitAssumedRole(*a, &role, &session)) {
      account = std::string(a->account);
    } else if (ra && ra->service == "iam" && StartsWith(ra->resource, "role/")) {
      role = LastSegment(ra->resource);
      session = session_name;
      account = std::string(ra->account);
    }
    if (account.empty()) account = r.account;
    if (!role.empty() && !account.empty()) {
      if (!session.empty()) {
        fallback = SessionKey(account, role, session);
        targets.push_back(fallback);
        name = std::string(role) + "/" + std::string(session);
      } else {
        name = std::string(role);
      }
      AddUnique(&targets, RoleKey(account, role));
    }
  } else if (n == "GetFederationToken") {
    std::optional<Arn> a = ParseArn(federated_arn);
    std::string_view fname = fed_name;
    std::string account = r.account;
    if (a && a->service == "sts" && StartsWith(a->resource, "federated-user/")) {
      fname = a->resource.substr(15);
      account = std::string(a->account);
    }
    if (!fname.empty() && !account.empty()) {
      fallback = FederatedKey(account, fname);
      targets.push_back(fallback);
      name = std::string(fname);
    }
  } else {
    name = r.caller.subject.name;
  }
  // The issuer is an alias only when the new key is the issuer's own credential in another form:
  // a session token of the same user (GetSessionToken), a federated user acting for the user
  // (GetFederationToken), or a workload's web identity federated into the role. A principal with
  // credentials of its own that assumes a role (AssumeRole), and a person signing in through SAML,
  // is the issuance's actor instead: as an alias it would fold every role it assumes, and every
  // principal assuming the same role, into one identity (docs/importers/cloudtrail.md, section 6).
  if (!r.caller.is_service &&
      (n == "GetSessionToken" || n == "GetFederationToken" || n == "AssumeRoleWithWebIdentity")) {
    AddUnique(&targets, r.caller.identity);
    AddUnique(&targets, r.caller.principal);
  }

  event::Event e = NewEvent(r, event::Kind::kProvision, "#issued-key");
  if (IsAccessKeyId(key_id)) {
    e.identity = AccessKeyKey(key_id);
  } else if (!fallback.empty()) {
    e.identity = fallback;  // the key id is masked or missing: the session names the credential
  } else if (key_id.empty()) {
    return MissingTarget(r, "responseElements.credentials.accessKeyId");
  } else {
    return FieldError("responseElements.credentials.accessKeyId",
                      "not an access key id (16 to 128 upper-case letters and digits)");
  }
  NHI_RETURN_IF_ERROR(CheckIdentifier(e.identity, "responseElements.credentials.accessKeyId"));
  for (auto& t : targets) {
    if (t == e.identity) continue;
    NHI_RETURN_IF_ERROR(
        CheckIdentifier(t, assume ? "requestParameters.roleArn" : "requestParameters.name"));
    e.aliases.push_back(std::move(t));
  }
  SetCallerActor(r, &e);
  SetSubject(&e, "token", name);

  // Valid from the issuance to the expiration CloudTrail reports (UTC); else for the requested
  // duration.
  event::Window w;
  w.not_before = std::string(r.event_time);
  w.not_before_ns = r.time_ns;
  std::optional<int64_t> until = ParseResponseTime(expiration);
  if (until && *until >= r.time_ns) {
    auto rfc = ParseRfc3339(expiration);
    w.not_after = rfc.ok() ? std::string(expiration) : FormatRfc3339Utc(*until, 0);
    w.not_after_ns = *until;
  } else if (OptElement d = Member(r.request, "durationSeconds");
             d && d->type() == element_type::INT64) {
    int64_t s = d->get_int64().value_unsafe();
    if (s > 0 && s <= (int64_t{1} << 40)) w.ttl_seconds = s;
  }
  e.window = std::move(w);

  Attributes at;
  at.String("eventName", r.event_name);
  at.String("expiration", expiration);
  at.String("roleArn", role_arn);
  at.String("roleSessionName", session_name);
  at.String("sourceIdentity", source_identity);
  at.Scalar("durationSeconds", Member(r.request, "durationSeconds"));
  at.Scalar("policy", Member(r.request, "policy"));
  at.Scalar("provider", Member(r.response, "provider"));
  at.Scalar("subjectFromWebIdentityToken", Member(r.response, "subjectFromWebIdentityToken"));
  at.Scalar("samlSubject", Member(r.response, "subject"));
  at.Scalar("samlIssuer", Member(r.response, "issuer"));
  e.attributes = at.Take();
  Push(out, std::move(e));
  return OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Secrets Manager and SSM Parameter Store.

// The partition of a region's ARNs.
std::string_view PartitionOf(std::string_view region) {
  if (StartsWith(region, "cn-")) return "aws-cn";
  if (StartsWith(region, "us-gov-")) return "aws-us-gov";
  if (StartsWith(region, "us-isob-")) return "aws-iso-b";
  if (StartsWith(region, "us-iso-")) return "aws-iso";
  return "aws";
}

// A secret referred to by ARN (full or partial) or by name: "aws:secret:<ARN>"; a name becomes
// the partial ARN AWS itself accepts for it.
Status SecretKey(const Record& r, std::string_view ref, std::string_view path, std::string* out) {
  if (StartsWith(ref, "arn:")) {
    *out = "aws:secret:" + std::string(ref);
  } else {
    if (r.region.empty() || r.account.empty()) {
      return FieldError(path,
                        "names a secret by name, but awsRegion or recipientAccountId is "
                        "missing to make its ARN");
    }
    *out = "aws:secret:arn:" + std::string(PartitionOf(r.region)) +
           ":secretsmanager:" + std::string(r.region) + ":" + r.account +
           ":secret:" + std::string(ref);
  }
  return CheckIdentifier(*out, path);
}

// The list members `key` of the request (GetParameters' names, BatchGetSecretValue's
// secretIdList), each a string.
Status GetStringList(const Record& r, std::string_view key, std::vector<std::string_view>* out) {
  OptElement v = Member(r.request, key);
  if (!v) return OkStatus();
  std::string path = Join("requestParameters", key);
  if (v->type() != element_type::ARRAY) return WrongType(path, *v, "an array of strings");
  size_t i = 0;
  for (element item : json::ArrayOf(*v)) {
    std::string p = path + "[" + std::to_string(i) + "]";
    if (item.type() != element_type::STRING) return WrongType(p, item, "a string");
    if (++i > kMaxTargets) return FieldError(path, "more than 1000 items");
    out->push_back(item.get_string().value_unsafe());
  }
  return OkStatus();
}

Status MapSecret(const Record& r, MapResult* out) {
  const std::string_view n = r.event_name;
  std::string_view arn, name, ref;
  NHI_RETURN_IF_ERROR(GetString(r.response, "responseElements", "arn", &arn));
  // DeleteSecret's response spells it "aRN".
  if (arn.empty()) NHI_RETURN_IF_ERROR(GetString(r.response, "responseElements", "aRN", &arn));
  NHI_RETURN_IF_ERROR(GetString(r.response, "responseElements", "name", &name));
  if (name.empty()) NHI_RETURN_IF_ERROR(GetString(r.request, "requestParameters", "name", &name));
  NHI_RETURN_IF_ERROR(GetString(r.request, "requestParameters", "secretId", &ref));

  if (n == "GetSecretValue" || n == "BatchGetSecretValue") {
    std::vector<std::string_view> refs;
    if (n == "GetSecretValue") {
      if (!ref.empty()) refs.push_back(ref);
    } else {
      NHI_RETURN_IF_ERROR(GetStringList(r, "secretIdList", &refs));
    }
    if (refs.empty() && Succeeded(r) && n == "GetSecretValue") {
      return MissingTarget(r, "requestParameters.secretId");
    }
    for (size_t i = 0; i < refs.size(); ++i) {
      std::string suffix = "#secret-read";
      if (n == "BatchGetSecretValue") suffix += ":" + std::to_string(i);
      event::Event e = NewEvent(r, event::Kind::kAction, suffix);
      std::string path = n == "GetSecretValue"
                             ? std::string("requestParameters.secretId")
                             : "requestParameters.secretIdList[" + std::to_string(i) + "]";
      NHI_RETURN_IF_ERROR(SecretKey(r, refs[i], path, &e.identity));
      SetCallerActor(r, &e);
      SetSubject(&e, "other", StartsWith(refs[i], "arn:") ? LastSegment(refs[i]) : refs[i]);
      e.scope = event::Scope{{}, {r.permission}};
      Attributes at;
      at.String("eventName", r.event_name);
      at.Scalar("versionId", Member(r.request, "versionId"));
      at.Scalar("versionStage", Member(r.request, "versionStage"));
      e.attributes = at.Take();
      Push(out, std::move(e));
    }
    return OkStatus();
  }

  // One secret, created, changed or deleted: the response's ARN when there is one (the full
  // ARN), else what the request names.
  event::Kind kind = event::Kind::kProvision;
  std::string_view suffix = "#provision";
  if (n == "PutSecretValue" || n == "RotateSecret") {
    kind = event::Kind::kRotation;
    suffix = "#rotation";
  } else if (n == "DeleteSecret") {
    kind = event::Kind::kRevocation;
    suffix = "#revocation";
  }
  std::string_view target = !arn.empty() ? arn : !ref.empty() ? ref : name;
  if (target.empty()) {
    if (Succeeded(r)) {
      return MissingTarget(
          r, n == "CreateSecret" ? "responseElements.arn" : "requestParameters.secretId");
    }
    return OkStatus();
  }
  std::string_view target_path = !arn.empty()   ? "responseElements.arn"
                                 : !ref.empty() ? "requestParameters.secretId"
                                                : "requestParameters.name";
  event::Event e = NewEvent(r, kind, suffix);
  NHI_RETURN_IF_ERROR(SecretKey(r, target, target_path, &e.identity));
  // The full ARN ends in "-" and six random characters; a reference by name (or partial ARN)
  // cannot know them. The name's key is an alias, so reads by name join the secret.
  if (!name.empty() && StartsWith(target, "arn:")) {
    std::string by_name;
    NHI_RETURN_IF_ERROR(SecretKey(r, name, "requestParameters.name", &by_name));
    if (by_name != e.identity) e.aliases.push_back(std::move(by_name));
  }
  SetCallerActor(r, &e);
  SetSubject(&e, "other", !name.empty() ? name : LastSegment(target));
  Attributes at;
  at.String("eventName", r.event_name);
  at.String("secretArn", arn);
  at.Scalar("recoveryWindowInDays", Member(r.request, "recoveryWindowInDays"));
  at.Scalar("forceDeleteWithoutRecovery", Member(r.request, "forceDeleteWithoutRecovery"));
  at.Scalar("deletionDate", Member(r.response, "deletionDate"));
  at.Scalar("versionId", Member(r.response, "versionId"));
  e.attributes = at.Take();
  Push(out, std::move(e));
  return OkStatus();
}

// A parameter by name or ARN: "aws:ssm-parameter:<ARN>". A version or label selector
// ("name:3") is not part of the parameter.
Status ParameterKey(const Record& r, std::string_view ref, std::string_view path,
                    std::string* out) {
  if (StartsWith(ref, "arn:")) {
    std::optional<Arn> a = ParseArn(ref);
    std::string_view arn = ref;
    if (a) {
      size_t colon = a->resource.find(':');
      if (colon != std::string_view::npos)
        arn = ref.substr(0, ref.size() - a->resource.size() + colon);
    }
    *out = "aws:ssm-parameter:" + std::string(arn);
  } else {
    if (r.region.empty() || r.account.empty()) {
      return FieldError(path,
                        "names a parameter, but awsRegion or recipientAccountId is missing "
                        "to make its ARN");
    }
    std::string_view name = ref.substr(0, ref.find(':'));
    if (!name.empty() && name.front() == '/') name.remove_prefix(1);
    if (name.empty()) return FieldError(path, "not a parameter name");
    *out = "aws:ssm-parameter:arn:" + std::string(PartitionOf(r.region)) +
           ":ssm:" + std::string(r.region) + ":" + r.account + ":parameter/" + std::string(name);
  }
  return CheckIdentifier(*out, path);
}

Status MapParameter(const Record& r, MapResult* out) {
  const std::string_view n = r.event_name;
  std::vector<std::string_view> names;
  const bool list = n == "GetParameters" || n == "DeleteParameters";
  if (list) {
    NHI_RETURN_IF_ERROR(GetStringList(r, "names", &names));
  } else {
    std::string_view name;
    NHI_RETURN_IF_ERROR(GetString(r.request, "requestParameters", "name", &name));
    if (!name.empty()) names.push_back(name);
  }
  if (names.empty()) {
    if (Succeeded(r))
      return MissingTarget(r, list ? "requestParameters.names" : "requestParameters.name");
    return OkStatus();
  }
  event::Kind kind = event::Kind::kAction;
  std::string suffix = "#parameter-read";
  if (n == "DeleteParameter" || n == "DeleteParameters") {
    kind = event::Kind::kRevocation;
    suffix = "#revocation";
  } else if (n == "PutParameter") {
    // Version 1 is a new parameter; a later version replaces the value. Without a version (the
    // call failed), what the caller asked for: overwrite or create.
    OptElement version = Member(r.response, "version");
    OptElement overwrite = Member(r.request, "overwrite");
    bool rotate;
    if (version &&
        (version->type() == element_type::INT64 || version->type() == element_type::UINT64 ||
         version->type() == element_type::DOUBLE)) {
      double v = 0;
      if (version->get_double().get(v) != simdjson::SUCCESS) v = 0;
      rotate = v > 1;
    } else {
      rotate = overwrite && overwrite->type() == element_type::BOOL &&
               overwrite->get_bool().value_unsafe();
    }
    kind = rotate ? event::Kind::kRotation : event::Kind::kProvision;
    suffix = rotate ? "#rotation" : "#provision";
  }
  for (size_t i = 0; i < names.size(); ++i) {
    std::string s = suffix;
    if (list) s += ":" + std::to_string(i);
    event::Event e = NewEvent(r, kind, s);
    std::string path = list ? "requestParameters.names[" + std::to_string(i) + "]"
                            : std::string("requestParameters.name");
    NHI_RETURN_IF_ERROR(ParameterKey(r, names[i], path, &e.identity));
    SetCallerActor(r, &e);
    std::string_view shown = names[i];
    if (StartsWith(shown, "arn:")) {
      std::optional<Arn> a = ParseArn(shown);
      if (a && StartsWith(a->resource, "parameter")) shown = a->resource.substr(9);
    }
    SetSubject(&e, "other", shown.substr(0, shown.find(':')));
    if (kind == event::Kind::kAction) e.scope = event::Scope{{}, {r.permission}};
    Attributes at;
    at.String("eventName", r.event_name);
    if (names[i].find(':') != std::string_view::npos && !StartsWith(names[i], "arn:")) {
      at.String("selector", names[i].substr(names[i].find(':') + 1));
    }
    at.Scalar("withDecryption", Member(r.request, "withDecryption"));
    at.Scalar("type", Member(r.request, "type"));
    at.Scalar("tier", Member(r.request, "tier"));
    at.Scalar("overwrite", Member(r.request, "overwrite"));
    at.Scalar("version", Member(r.response, "version"));
    e.attributes = at.Take();
    Push(out, std::move(e));
  }
  return OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Which calls have a lifecycle mapping.

enum class Lifecycle {
  kNone,
  kIamUser,
  kAccessKey,
  kRole,
  kPolicy,
  kIssuedKey,
  kSecret,
  kParameter
};

Lifecycle LifecycleOf(std::string_view service, std::string_view name) {
  if (service == "iam") {
    if (name == "CreateUser" || name == "DeleteUser") return Lifecycle::kIamUser;
    if (name == "CreateAccessKey" || name == "UpdateAccessKey" || name == "DeleteAccessKey") {
      return Lifecycle::kAccessKey;
    }
    if (name == "CreateRole" || name == "DeleteRole") return Lifecycle::kRole;
    static constexpr std::string_view kPolicies[] = {
        "AttachUserPolicy", "DetachUserPolicy", "PutUserPolicy",
        "DeleteUserPolicy", "AttachRolePolicy", "DetachRolePolicy",
        "PutRolePolicy",    "DeleteRolePolicy", "UpdateAssumeRolePolicy"};
    for (std::string_view p : kPolicies) {
      if (name == p) return Lifecycle::kPolicy;
    }
  } else if (service == "sts") {
    if (name == "AssumeRole" || name == "AssumeRoleWithWebIdentity" ||
        name == "AssumeRoleWithSAML" || name == "GetFederationToken" || name == "GetSessionToken") {
      return Lifecycle::kIssuedKey;
    }
  } else if (service == "secretsmanager") {
    if (name == "CreateSecret" || name == "GetSecretValue" || name == "BatchGetSecretValue" ||
        name == "PutSecretValue" || name == "RotateSecret" || name == "DeleteSecret" ||
        name == "RestoreSecret") {
      return Lifecycle::kSecret;
    }
  } else if (service == "ssm") {
    if (name == "PutParameter" || name == "GetParameter" || name == "GetParameters" ||
        name == "GetParameterHistory" || name == "DeleteParameter" || name == "DeleteParameters") {
      return Lifecycle::kParameter;
    }
  }
  return Lifecycle::kNone;
}

// ---------------------------------------------------------------------------------------------
// The action: every call by a principal of the account.

Status AddResources(const OptElement& resources, std::vector<std::string>* out, int64_t* omitted) {
  if (resources && resources->type() != element_type::NULL_VALUE) {
    if (resources->type() != element_type::ARRAY) {
      return WrongType("resources", *resources, "an array");
    }
    size_t i = 0;
    for (element item : json::ArrayOf(*resources)) {
      std::string path = "resources[" + std::to_string(i++) + "]";
      if (item.type() != element_type::OBJECT) return WrongType(path, item, "an object");
      std::string_view arn;
      NHI_RETURN_IF_ERROR(GetString(item, path, "ARN", &arn));
      if (arn.empty()) continue;
      if (!IdentifierProblem(arn).empty() || out->size() >= event::kMaxListItems) {
        ++*omitted;
        continue;
      }
      AddUnique(out, std::string(arn));
    }
  }
  return OkStatus();
}

void AddRequestArns(const OptElement& request, std::vector<std::string>* out, int64_t* omitted) {
  if (!request) return;
  for (simdjson::dom::key_value_pair kv : json::ObjectOf(*request)) {
    if (kv.value.type() != element_type::STRING) continue;
    std::string_view v = kv.value.get_string().value_unsafe();
    if (!StartsWith(v, "arn:")) continue;
    if (!IdentifierProblem(v).empty() || out->size() >= event::kMaxListItems) {
      ++*omitted;
      continue;
    }
    AddUnique(out, std::string(v));
  }
}

// The caller's action. Takes the caller's aliases (nothing after it needs them).
Result<event::Event> ActionEvent(Record& r) {
  Principal& p = r.caller;
  const TopLevel& t = *r.top;
  event::Event e = NewEvent(r, event::Kind::kAction, "");
  e.identity = p.identity;
  e.aliases = std::move(p.aliases);
  if (!p.service.empty()) e.actor = event::Actor{p.service, "system"};  // on the caller's behalf
  e.subject = p.subject;
  event::Scope scope;
  scope.permissions.push_back(r.permission);
  int64_t omitted = 0;
  NHI_RETURN_IF_ERROR(AddResources(t.resources, &scope.resources, &omitted));
  AddRequestArns(r.request, &scope.resources, &omitted);
  e.scope = std::move(scope);

  // In canonical (byte) order, so that Take() has nothing to sort.
  Attributes at;
  at.String("accessKeyId", p.masked_key);
  at.String("awsRegion", r.region);
  at.String("eventName", r.event_name);
  at.String("eventSource", r.event_source);
  at.String("eventType", r.event_type);
  at.String("invokedBy", p.invoked_by);
  at.Scalar("managementEvent", t.management_event);
  at.Scalar("mfaAuthenticated", Member(p.session_attrs, "mfaAuthenticated"));
  at.String("principalArn", p.arn);
  at.String("principalId", p.principal_id);
  at.String("principalType", p.type);
  at.Scalar("readOnly", t.read_only);
  at.String("recipientAccountId", r.recipient_account);
  at.Scalar("requestID", t.request_id);
  if (omitted > 0) at.Int("resourcesOmitted", omitted);
  at.Scalar("sessionCreationDate", Member(p.session_attrs, "creationDate"));
  at.Scalar("sessionCredentialFromConsole", t.session_credential_from_console);
  at.Scalar("sourceIPAddress", t.source_ip_address);
  at.String("sourceIdentity", p.source_identity);
  at.Scalar("userAgent", t.user_agent);
  at.Scalar("vpcEndpointId", t.vpc_endpoint_id);
  e.attributes = at.Take();
  return e;
}

class CloudTrailImporter final : public Importer {
 public:
  std::string_view format() const override { return "cloudtrail"; }
  Result<MapResult> Map(const element& record, std::string_view raw) override;

 private:
  simdjson::dom::parser policy_parser_;  // inline policy documents
};

Result<MapResult> CloudTrailImporter::Map(const element& root, std::string_view /*raw*/) {
  if (root.type() != element_type::OBJECT) return WrongType("record", root, "a JSON object");
  const TopLevel top = ReadTopLevel(root);
  Record r;
  r.top = &top;
  NHI_RETURN_IF_ERROR(RequiredString(top.event_id, "eventID", &r.event_id));
  NHI_RETURN_IF_ERROR(CheckIdentifier(r.event_id, "eventID", kMaxEventIdBytes));
  NHI_RETURN_IF_ERROR(RequiredString(top.event_time, "eventTime", &r.event_time));
  NHI_RETURN_IF_ERROR(CheckIdentifier(r.event_time, "eventTime"));
  auto t = ParseRfc3339(r.event_time);
  if (!t.ok()) return FieldError("eventTime", t.status().message());
  r.time_ns = t->unix_nanos;
  NHI_RETURN_IF_ERROR(RequiredString(top.event_source, "eventSource", &r.event_source));
  NHI_RETURN_IF_ERROR(CheckIdentifier(r.event_source, "eventSource", 256));
  NHI_RETURN_IF_ERROR(RequiredString(top.event_name, "eventName", &r.event_name));
  NHI_RETURN_IF_ERROR(CheckIdentifier(r.event_name, "eventName", 256));
  NHI_RETURN_IF_ERROR(StringValue(top.event_type, "eventType", &r.event_type));

  std::string_view service = r.event_source;
  constexpr std::string_view kDomain = ".amazonaws.com";
  if (service.size() > kDomain.size() &&
      service.substr(service.size() - kDomain.size()) == kDomain) {
    service.remove_suffix(kDomain.size());
  }
  r.service = std::string(service);
  r.permission = Permission(service, r.event_name);
  MapResult out;

  // Only calls (and sign-ins) have a caller; service events and Insights have none.
  const std::string_view et = r.event_type;
  const bool sign_in = et == "AwsConsoleSignIn";
  if (!(et.empty() || et == "AwsApiCall" || et == "AwsConsoleAction" || et == "AwsVpceEvent" ||
        sign_in)) {
    out.ignored = r.service + ":" + std::string(r.event_name);
    return out;
  }

  if (!top.user_identity) return FieldError("userIdentity", "required field is missing");
  if (top.user_identity->type() != element_type::OBJECT) {
    return WrongType("userIdentity", *top.user_identity, "an object");
  }
  NHI_RETURN_IF_ERROR(StringValue(top.aws_region, "awsRegion", &r.region));
  NHI_RETURN_IF_ERROR(
      StringValue(top.recipient_account_id, "recipientAccountId", &r.recipient_account));
  NHI_RETURN_IF_ERROR(ObjectValue(top.request_parameters, "requestParameters", &r.request));
  NHI_RETURN_IF_ERROR(ObjectValue(top.response_elements, "responseElements", &r.response));
  NHI_ASSIGN_OR_RETURN(r.caller, ResolvePrincipal(*top.user_identity));
  r.account = std::string(r.recipient_account.empty() ? std::string_view(r.caller.account)
                                                      : r.recipient_account);
  if (!r.region.empty()) NHI_RETURN_IF_ERROR(CheckIdentifier(r.region, "awsRegion", 64));
  if (!r.account.empty()) NHI_RETURN_IF_ERROR(CheckIdentifier(r.account, "recipientAccountId", 64));

  std::string_view error_code, error_message;
  NHI_RETURN_IF_ERROR(StringValue(top.error_code, "errorCode", &error_code));
  NHI_RETURN_IF_ERROR(StringValue(top.error_message, "errorMessage", &error_message));
  bool failed = !error_code.empty();
  if (sign_in) {
    // ConsoleLogin and its kin answer {"ConsoleLogin": "Failure"} without an errorCode.
    std::string_view answer;
    if (OptElement v = Member(r.response, r.event_name); v && v->type() == element_type::STRING) {
      answer = v->get_string().value_unsafe();
    }
    failed = failed || answer == "Failure";
  }
  r.outcome.result = failed ? "failure" : "success";
  if (!error_code.empty()) {
    NHI_RETURN_IF_ERROR(CheckIdentifier(error_code, "errorCode"));
    r.outcome.code = std::string(error_code);
  }
  if (!error_message.empty()) {
    if (error_message.size() > event::kMaxTextBytes) {
      return FieldError("errorMessage",
                        "longer than " + std::to_string(event::kMaxTextBytes) + " bytes");
    }
    r.outcome.message = std::string(error_message);
  }

  // The action first: it takes the caller's aliases, which the lifecycle events do not use.
  if (!r.caller.is_service && !r.caller.identity.empty()) {
    NHI_ASSIGN_OR_RETURN(event::Event action, ActionEvent(r));
    Push(&out, std::move(action));
  }
  if (!sign_in) {
    switch (LifecycleOf(r.service, r.event_name)) {
      case Lifecycle::kNone:
        break;
      case Lifecycle::kIamUser:
        NHI_RETURN_IF_ERROR(MapIamUser(r, &out));
        break;
      case Lifecycle::kAccessKey:
        NHI_RETURN_IF_ERROR(MapAccessKey(r, &out));
        break;
      case Lifecycle::kRole:
        NHI_RETURN_IF_ERROR(MapRole(r, &out));
        break;
      case Lifecycle::kPolicy:
        NHI_RETURN_IF_ERROR(MapPolicyChange(r, policy_parser_, &out));
        break;
      case Lifecycle::kIssuedKey:
        NHI_RETURN_IF_ERROR(MapIssuedKey(r, &out));
        break;
      case Lifecycle::kSecret:
        NHI_RETURN_IF_ERROR(MapSecret(r, &out));
        break;
      case Lifecycle::kParameter:
        NHI_RETURN_IF_ERROR(MapParameter(r, &out));
        break;
    }
  }
  if (out.events.empty()) out.ignored = r.service + ":" + std::string(r.event_name);
  return out;
}

// "Jan".."Dec" -> 1..12, else 0.
int MonthNumber(std::string_view m) {
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (int i = 0; i < 12; ++i) {
    if (m == kMonths[i]) return i + 1;
  }
  return 0;
}

// Reads 1 to `max` digits at s[*pos].
bool ReadNumber(std::string_view s, size_t* pos, size_t max, int* out) {
  size_t start = *pos;
  int v = 0;
  while (*pos < s.size() && *pos - start < max && s[*pos] >= '0' && s[*pos] <= '9') {
    v = v * 10 + (s[*pos] - '0');
    ++*pos;
  }
  if (*pos == start) return false;
  *out = v;
  return true;
}

bool Consume(std::string_view s, size_t* pos, std::string_view what) {
  if (s.substr(*pos, what.size()) != what) return false;
  *pos += what.size();
  return true;
}

}  // namespace

std::optional<int64_t> ParseResponseTime(std::string_view s) {
  if (auto rfc = ParseRfc3339(s); rfc.ok()) return rfc->unix_nanos;
  // "Mmm D, YYYY[,] H:MM:SS AM"
  if (s.size() < 4) return std::nullopt;
  int month = MonthNumber(s.substr(0, 3));
  size_t pos = 3;
  int day, year, hour, minute, second;
  if (month == 0 || !Consume(s, &pos, " ") || !ReadNumber(s, &pos, 2, &day) ||
      !Consume(s, &pos, ", ") || !ReadNumber(s, &pos, 4, &year)) {
    return std::nullopt;
  }
  Consume(s, &pos, ",");
  if (!Consume(s, &pos, " ") || !ReadNumber(s, &pos, 2, &hour) || !Consume(s, &pos, ":") ||
      !ReadNumber(s, &pos, 2, &minute) || !Consume(s, &pos, ":") ||
      !ReadNumber(s, &pos, 2, &second)) {
    return std::nullopt;
  }
  if (!Consume(s, &pos, " ") && !Consume(s, &pos, "\xC2\xA0") &&
      !Consume(s, &pos, "\xE2\x80\xAF")) {
    return std::nullopt;
  }
  bool pm;
  if (Consume(s, &pos, "AM")) {
    pm = false;
  } else if (Consume(s, &pos, "PM")) {
    pm = true;
  } else {
    return std::nullopt;
  }
  if (pos != s.size() || year < 1970 || year > 2200 || hour < 1 || hour > 12 || minute > 59 ||
      second > 59) {
    return std::nullopt;
  }
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  int days_in_month = month == 2 && leap ? 29 : kDays[month - 1];
  if (day < 1 || day > days_in_month) return std::nullopt;
  int h24 = hour % 12 + (pm ? 12 : 0);
  int64_t days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  int64_t secs = days * 86400 + h24 * 3600 + minute * 60 + second;
  return secs * 1'000'000'000;
}

std::unique_ptr<Importer> MakeImporter() { return std::make_unique<CloudTrailImporter>(); }

bool LooksLike(const simdjson::dom::element& record) {
  if (record.type() != element_type::OBJECT) return false;
  auto is_string = [&](std::string_view key) {
    element v;
    return record.at_key(key).get(v) == simdjson::SUCCESS && v.type() == element_type::STRING;
  };
  if (!is_string("eventVersion") || !is_string("eventSource") || !is_string("eventName")) {
    return false;
  }
  element ui;
  if (record.at_key("userIdentity").get(ui) == simdjson::SUCCESS &&
      ui.type() == element_type::OBJECT) {
    return true;
  }
  return is_string("eventType");
}

}  // namespace nhitrace::ingest::cloudtrail
