#include "ingest/gcp_audit/gcp_audit.h"

#include <array>
#include <set>
#include <string>
#include <vector>

#include <simdjson.h>

#include "ingest/internal/vendor_detect.h"
#include "ingest/internal/vendor_json.h"

namespace nhitrace::ingest::gcp_audit {
namespace {

using internal::Attributes;
using internal::Draft;
using internal::element;
using internal::EndsWith;
using internal::EqualsIgnoreCase;
using internal::FieldError;
using internal::Member;
using internal::MemberPath;
using internal::StartsWith;
using internal::StringAt;

bool IsServiceAccountEmail(std::string_view s) {
  return s.find('@') != std::string_view::npos && EndsWith(s, ".gserviceaccount.com");
}

bool IsWorkloadPrincipal(std::string_view s) {
  return StartsWith(s, "principal://") || StartsWith(s, "principalSet://");
}

// "gcp:sa:<email>", or "gcp:sa-id:<unique id>" when only the numeric id is known.
std::string ServiceAccountKey(std::string_view account) {
  if (account.find('@') != std::string_view::npos) return "gcp:sa:" + std::string(account);
  return "gcp:sa-id:" + std::string(account);
}

// A service account or key resource name: [//iam.googleapis.com/]projects/P/serviceAccounts/A
// [/keys/K]. Any part may be missing.
struct SaName {
  std::string project;
  std::string account;
  std::string key;
};

std::optional<SaName> ParseSaName(std::string_view name) {
  size_t p = name.find("projects/");
  if (p == std::string_view::npos) return std::nullopt;
  std::string_view rest = name.substr(p + 9);
  SaName out;
  size_t slash = rest.find('/');
  out.project = std::string(rest.substr(0, slash));
  if (slash == std::string_view::npos) return out;
  rest = rest.substr(slash + 1);
  constexpr std::string_view kAccounts = "serviceAccounts/";
  if (!StartsWith(rest, kAccounts)) return out;
  rest.remove_prefix(kAccounts.size());
  slash = rest.find('/');
  out.account = std::string(rest.substr(0, slash));
  if (slash == std::string_view::npos) return out;
  rest = rest.substr(slash + 1);
  constexpr std::string_view kKeys = "keys/";
  if (StartsWith(rest, kKeys)) out.key = std::string(rest.substr(kKeys.size()));
  return out;
}

// "projects/-/serviceAccounts/x@y" and plain "x@y" alike.
std::string AccountOf(std::string_view s) {
  if (auto n = ParseSaName(s); n && !n->account.empty()) return n->account;
  return std::string(s);
}

struct Principal {
  std::string display;  // as the record names it (email or subject)
  std::string key;      // identity key when it is a non-human principal
  std::string email;    // when a service account
  event::Actor actor;
  bool present = false;
  bool nhi = false;
};

Principal ReadPrincipal(const element& proto) {
  Principal p;
  auto email = StringAt(proto, {"authenticationInfo", "principalEmail"});
  auto subject = StringAt(proto, {"authenticationInfo", "principalSubject"});
  std::string account;
  if (email) {
    p.display = std::string(*email);
    if (IsServiceAccountEmail(*email)) account = p.display;
  } else if (subject) {
    p.display = std::string(*subject);
    if (StartsWith(*subject, "serviceAccount:")) account = std::string(subject->substr(15));
  } else {
    return p;
  }
  p.present = true;
  if (!account.empty()) {
    p.email = account;
    p.key = ServiceAccountKey(account);
    p.nhi = true;
    p.actor = {p.key, "nhi"};
  } else if (subject && !email && IsWorkloadPrincipal(*subject)) {
    p.key = "gcp:principal:" + std::string(*subject);
    p.nhi = true;
    p.actor = {p.key, "nhi"};
  } else if (email) {
    p.actor = {std::string(*email), "human"};
  } else if (StartsWith(*subject, "user:")) {
    p.actor = {std::string(subject->substr(5)), "human"};
  } else {
    p.actor = {std::string(*subject), ""};
  }
  return p;
}

// google.rpc.Code names.
std::string_view CodeName(int64_t code) {
  static constexpr std::array<std::string_view, 17> kNames = {"OK",
                                                              "CANCELLED",
                                                              "UNKNOWN",
                                                              "INVALID_ARGUMENT",
                                                              "DEADLINE_EXCEEDED",
                                                              "NOT_FOUND",
                                                              "ALREADY_EXISTS",
                                                              "PERMISSION_DENIED",
                                                              "RESOURCE_EXHAUSTED",
                                                              "FAILED_PRECONDITION",
                                                              "ABORTED",
                                                              "OUT_OF_RANGE",
                                                              "UNIMPLEMENTED",
                                                              "INTERNAL",
                                                              "UNAVAILABLE",
                                                              "DATA_LOSS",
                                                              "UNAUTHENTICATED"};
  if (code >= 0 && code < static_cast<int64_t>(kNames.size())) {
    return kNames[static_cast<size_t>(code)];
  }
  return "";
}

struct CallStatus {
  int64_t code = 0;
  event::Outcome outcome;
};

// protoPayload.status: absent or code 0 is success; the code is kept by name and number.
CallStatus ReadStatus(const element& proto) {
  CallStatus s;
  auto status = Member(proto, "status");
  s.code = status ? internal::AsInt(Member(*status, "code")).value_or(0) : 0;
  if (s.code == 0) {
    s.outcome.result = "success";
    return s;
  }
  s.outcome.result = "failure";
  std::string_view name = CodeName(s.code);
  s.outcome.code = name.empty() ? std::to_string(s.code) : std::string(name);
  if (status) s.outcome.message = std::string(StringAt(*status, {"message"}).value_or(""));
  return s;
}

// A Duration ("3600s", "3600.5s", {"seconds": 3600}) in whole seconds.
std::optional<int64_t> ReadDurationSeconds(const std::optional<element>& v) {
  if (!v) return std::nullopt;
  if (auto s = internal::AsString(v)) {
    std::string_view t = *s;
    if (!EndsWith(t, "s")) return std::nullopt;
    t.remove_suffix(1);
    size_t dot = t.find('.');
    std::string whole(t.substr(0, dot));
    if (whole.empty()) return std::nullopt;
    for (char c : whole) {
      if (c < '0' || c > '9') return std::nullopt;
    }
    if (whole.size() > 12) return std::nullopt;
    return std::stoll(whole);
  }
  return internal::AsInt(Member(*v, "seconds"));
}

// A Timestamp written as RFC 3339 or as {"seconds": N, "nanos": M}.
std::optional<internal::Timestamp> ReadBound(const std::optional<element>& v) {
  if (!v) return std::nullopt;
  if (auto s = internal::AsString(v)) return internal::WindowBound(*s);
  auto seconds = internal::AsInt(Member(*v, "seconds"));
  if (!seconds) return std::nullopt;
  auto nanos = internal::AsInt(Member(*v, "nanos")).value_or(0);
  if (nanos < 0 || nanos > 999'999'999) return std::nullopt;
  auto text = internal::FormatUtcSeconds(*seconds, static_cast<int32_t>(nanos));
  if (!text) return std::nullopt;
  return internal::WindowBound(*text);
}

// The first of several spellings of a member (audit logs write protobuf fields in snake_case
// or lowerCamelCase depending on the service).
std::optional<element> EitherMember(const std::optional<element>& obj,
                                    std::initializer_list<std::string_view> names) {
  if (!obj) return std::nullopt;
  for (auto n : names) {
    if (auto v = Member(*obj, n)) return v;
  }
  return std::nullopt;
}

class RecordMapper {
 public:
  RecordMapper(const element& entry, const element& proto, std::string_view record_id)
      : entry_(entry), proto_(proto), record_id_(record_id) {
    principal_ = ReadPrincipal(proto);
    status_ = ReadStatus(proto);
    method_ = std::string(StringAt(proto, {"methodName"}).value_or(""));
    size_t dot = method_.rfind('.');
    short_method_ = dot == std::string::npos ? method_ : method_.substr(dot + 1);
    service_ = std::string(StringAt(proto, {"serviceName"}).value_or(""));
    resource_name_ = std::string(StringAt(proto, {"resourceName"}).value_or(""));
    request_ = Member(proto, "request");
    response_ = Member(proto, "response");
  }

  Result<std::vector<Draft>> Map() {
    std::vector<Draft> drafts;
    const bool iam = service_.empty() || service_ == "iam.googleapis.com";
    const bool credentials = service_.empty() || service_ == "iamcredentials.googleapis.com";
    const std::string& m = short_method_;
    if (iam && m == "CreateServiceAccount") {
      NHI_RETURN_IF_ERROR(ServiceAccountCreated(&drafts, event::Kind::kProvision));
    } else if (iam && (m == "EnableServiceAccount" || m == "UndeleteServiceAccount")) {
      NHI_RETURN_IF_ERROR(ServiceAccountChanged(&drafts, event::Kind::kProvision));
    } else if (iam && (m == "DeleteServiceAccount" || m == "DisableServiceAccount")) {
      NHI_RETURN_IF_ERROR(ServiceAccountChanged(&drafts, event::Kind::kRevocation));
    } else if (iam && (m == "CreateServiceAccountKey" || m == "UploadServiceAccountKey")) {
      NHI_RETURN_IF_ERROR(KeyCreated(&drafts));
    } else if (iam && m == "EnableServiceAccountKey") {
      NHI_RETURN_IF_ERROR(KeyChanged(&drafts, event::Kind::kProvision));
    } else if (iam && (m == "DeleteServiceAccountKey" || m == "DisableServiceAccountKey")) {
      NHI_RETURN_IF_ERROR(KeyChanged(&drafts, event::Kind::kRevocation));
    } else if (credentials &&
               (m == "GenerateAccessToken" || m == "GenerateIdToken" || m == "SignJwt")) {
      NHI_RETURN_IF_ERROR(TokenIssued(&drafts));
    } else if (EqualsIgnoreCase(m, "SetIamPolicy") || EqualsIgnoreCase(m, "setIamPermissions")) {
      NHI_RETURN_IF_ERROR(BindingsChanged(&drafts));
    }
    if (principal_.nhi) ActionByPrincipal(&drafts);
    return drafts;
  }

  const std::string& method() const { return method_; }

 private:
  Attributes Common() const {
    Attributes a;
    a.String("method", method_);
    a.String("service", service_);
    a.String("resource_name", resource_name_);
    a.String("caller_ip", StringAt(proto_, {"requestMetadata", "callerIp"}));
    a.String("user_agent", StringAt(proto_, {"requestMetadata", "callerSuppliedUserAgent"}));
    a.String("log_name", StringAt(entry_, {"logName"}));
    if (status_.code != 0) a.Int("status_code", status_.code);
    return a;
  }

  event::Event Base(event::Kind kind) const {
    event::Event e;
    e.kind = kind;
    if (principal_.present && !principal_.actor.id.empty()) e.actor = principal_.actor;
    e.outcome = status_.outcome;
    return e;
  }

  // The service account a lifecycle record is about, from the most reliable place.
  std::string AccountFromRecord() const {
    if (auto email = StringAt(entry_, {"resource", "labels", "email_id"})) {
      return std::string(*email);
    }
    for (const auto& name : {internal::AsString(EitherMember(request_, {"name"})),
                             std::optional<std::string_view>(resource_name_)}) {
      if (!name) continue;
      if (auto n = ParseSaName(*name); n && !n->account.empty()) return n->account;
    }
    if (auto id = StringAt(entry_, {"resource", "labels", "unique_id"})) return std::string(*id);
    return "";
  }

  Status ServiceAccountCreated(std::vector<Draft>* out, event::Kind kind) {
    std::string email(internal::AsString(EitherMember(response_, {"email"})).value_or(""));
    if (email.empty()) {
      // A failed create has no response: the account would have been
      // <account_id>@<project>.iam.gserviceaccount.com.
      auto account_id = internal::AsString(EitherMember(request_, {"account_id", "accountId"}));
      std::string project;
      if (auto name = internal::AsString(EitherMember(request_, {"name"}))) {
        if (auto n = ParseSaName(*name)) project = n->project;
      }
      if (project.empty() || project == "-") {
        project = std::string(StringAt(entry_, {"resource", "labels", "project_id"}).value_or(""));
      }
      if (account_id && !project.empty() && project != "-") {
        email = std::string(*account_id) + "@" + project + ".iam.gserviceaccount.com";
      }
    }
    if (email.empty()) {
      return FieldError("protoPayload.response.email",
                        "missing: cannot name the created service account");
    }
    Draft d;
    d.suffix = "service-account";
    d.event = Base(kind);
    event::Event& e = d.event;
    e.identity = ServiceAccountKey(email);
    e.correlation_key = e.identity;
    if (auto uid = internal::ScalarText(EitherMember(response_, {"unique_id", "uniqueId"}))) {
      e.aliases.push_back("gcp:sa-id:" + *uid);
    }
    event::Subject s;
    s.kind = "service_account";
    s.system = "gcp";
    auto account = EitherMember(request_, {"service_account", "serviceAccount"});
    s.name = std::string(
        internal::AsString(EitherMember(response_, {"display_name", "displayName"}))
            .value_or(internal::AsString(EitherMember(account, {"display_name", "displayName"}))
                          .value_or("")));
    e.subject = s;
    Attributes a = Common();
    a.String("service_account", email);
    e.attributes = a.Finish();
    out->push_back(std::move(d));
    return OkStatus();
  }

  Status ServiceAccountChanged(std::vector<Draft>* out, event::Kind kind) {
    std::string account = AccountFromRecord();
    if (account.empty()) {
      return FieldError("protoPayload.request.name", "missing: cannot name the service account");
    }
    Draft d;
    d.suffix = "service-account";
    d.event = Base(kind);
    event::Event& e = d.event;
    e.identity = ServiceAccountKey(account);
    e.correlation_key = e.identity;
    if (auto uid = StringAt(entry_, {"resource", "labels", "unique_id"});
        uid && account.find('@') != std::string::npos) {
      e.aliases.push_back("gcp:sa-id:" + std::string(*uid));
    }
    e.subject = event::Subject{"service_account", "", "", "", "gcp"};
    Attributes a = Common();
    a.String("service_account", account);
    e.attributes = a.Finish();
    out->push_back(std::move(d));
    return OkStatus();
  }

  Status KeyCreated(std::vector<Draft>* out) {
    std::optional<SaName> key;
    if (auto name = internal::AsString(EitherMember(response_, {"name"}))) key = ParseSaName(*name);
    std::string account =
        key && !key->account.empty() && key->account != "-" ? key->account : AccountFromRecord();
    Draft d;
    d.suffix = "key";
    d.event = Base(event::Kind::kProvision);
    event::Event& e = d.event;
    Attributes a = Common();
    a.String("service_account", account);
    if (!key || key->key.empty()) {
      if (status_.code == 0) {
        return FieldError("protoPayload.response.name", "missing: cannot name the created key");
      }
      // A failed issuance names no key: the attempt is its own chain.
      e.correlation_key = "gcp-audit:" + record_id_;
      e.attributes = a.Finish();
      out->push_back(std::move(d));
      return OkStatus();
    }
    e.identity = "gcp:sa-key:" + key->key;
    e.correlation_key = e.identity;
    if (!account.empty()) e.aliases.push_back(ServiceAccountKey(account));
    e.subject = event::Subject{"api_key", "", "", "", "gcp"};
    auto after = ReadBound(EitherMember(response_, {"valid_after_time", "validAfterTime"}));
    auto before = ReadBound(EitherMember(response_, {"valid_before_time", "validBeforeTime"}));
    if (after || before) {
      event::Window w;
      if (after) {
        w.not_before = after->text;
        w.not_before_ns = after->ns;
      }
      if (before) {
        w.not_after = before->text;
        w.not_after_ns = before->ns;
      }
      e.window = w;
    }
    a.String("key_id", key->key);
    a.Json("key_algorithm", EitherMember(response_, {"key_algorithm", "keyAlgorithm"}));
    a.Json("key_origin", EitherMember(response_, {"key_origin", "keyOrigin"}));
    a.Json("key_type", EitherMember(response_, {"key_type", "keyType"}));
    e.attributes = a.Finish();
    out->push_back(std::move(d));
    return OkStatus();
  }

  Status KeyChanged(std::vector<Draft>* out, event::Kind kind) {
    std::optional<SaName> key;
    for (const auto& name : {internal::AsString(EitherMember(request_, {"name"})),
                             std::optional<std::string_view>(resource_name_)}) {
      if (!name) continue;
      key = ParseSaName(*name);
      if (key && !key->key.empty()) break;
    }
    if (!key || key->key.empty()) {
      return FieldError("protoPayload.request.name", "missing: cannot name the key");
    }
    std::string account =
        !key->account.empty() && key->account != "-" ? key->account : AccountFromRecord();
    Draft d;
    d.suffix = "key";
    d.event = Base(kind);
    event::Event& e = d.event;
    e.identity = "gcp:sa-key:" + key->key;
    e.correlation_key = e.identity;
    if (!account.empty()) e.aliases.push_back(ServiceAccountKey(account));
    e.subject = event::Subject{"api_key", "", "", "", "gcp"};
    Attributes a = Common();
    a.String("service_account", account);
    a.String("key_id", key->key);
    e.attributes = a.Finish();
    out->push_back(std::move(d));
    return OkStatus();
  }

  Status TokenIssued(std::vector<Draft>* out) {
    std::vector<std::string> chain_accounts;
    for (const auto& item :
         internal::ArrayItems(MemberPath(proto_, {"metadata", "identityDelegationChain"}))) {
      if (auto s = internal::AsString(item)) chain_accounts.push_back(AccountOf(*s));
    }
    std::string target;
    if (auto name = internal::AsString(EitherMember(request_, {"name"}))) {
      target = AccountOf(*name);
      if (target == "-") target.clear();
    }
    if (target.empty()) {
      target = std::string(StringAt(entry_, {"resource", "labels", "email_id"}).value_or(""));
    }
    if (target.empty() && !chain_accounts.empty()) target = chain_accounts.back();
    if (target.empty()) {
      return FieldError("protoPayload.request.name", "missing: cannot name the service account");
    }
    if (chain_accounts.empty()) {
      for (const auto& item : internal::ArrayItems(EitherMember(request_, {"delegates"}))) {
        if (auto s = internal::AsString(item)) chain_accounts.push_back(AccountOf(*s));
      }
    }
    if (chain_accounts.empty() || chain_accounts.back() != target) {
      chain_accounts.push_back(target);
    }
    // The delegation chain: the caller, then each service account it went through.
    std::vector<std::string> chain;
    if (!principal_.display.empty()) chain.push_back(principal_.display);
    for (auto& a : chain_accounts) {
      if (chain.empty() || chain.back() != a) chain.push_back(a);
    }

    Draft d;
    d.suffix = "issued-token";
    d.event = Base(event::Kind::kProvision);
    event::Event& e = d.event;
    e.identity = ServiceAccountKey(target);
    e.correlation_key = "gcp-audit:" + record_id_;
    e.subject = event::Subject{"service_account", "", "", "", "gcp"};
    std::vector<std::string> scopes;
    for (const auto& item : internal::ArrayItems(EitherMember(request_, {"scope"}))) {
      if (auto s = internal::AsString(item)) scopes.emplace_back(*s);
    }
    if (!scopes.empty()) e.scope = event::Scope{{}, scopes};
    if (auto ttl = ReadDurationSeconds(EitherMember(request_, {"lifetime"})); ttl && *ttl > 0) {
      event::Window w;
      w.ttl_seconds = *ttl;
      e.window = w;
    }
    Attributes a = Common();
    a.Strings("delegation_chain", chain);
    a.String("token_type", short_method_ == "GenerateAccessToken" ? "access_token"
                           : short_method_ == "GenerateIdToken"   ? "id_token"
                                                                  : "signed_jwt");
    a.String("audience", internal::AsString(EitherMember(request_, {"audience"})));
    a.String("principal_subject", StringAt(proto_, {"authenticationInfo", "principalSubject"}));
    e.attributes = a.Finish();
    out->push_back(std::move(d));
    return OkStatus();
  }

  std::vector<element> BindingDeltas() const {
    auto items =
        internal::ArrayItems(MemberPath(proto_, {"serviceData", "policyDelta", "bindingDeltas"}));
    if (items.empty()) {
      items =
          internal::ArrayItems(MemberPath(proto_, {"metadata", "policyDelta", "bindingDeltas"}));
    }
    if (items.empty()) {
      items =
          internal::ArrayItems(MemberPath(proto_, {"metadata", "datasetChange", "bindingDeltas"}));
    }
    if (items.empty()) {
      items =
          internal::ArrayItems(MemberPath(proto_, {"metadata", "tableChange", "bindingDeltas"}));
    }
    return items;
  }

  // The identity key of an IAM policy member, and whether it is a non-human principal.
  static std::pair<std::string, bool> MemberKey(std::string_view member) {
    std::string_view m = member;
    if (StartsWith(m, "deleted:")) m.remove_prefix(8);
    if (size_t q = m.find("?uid="); q != std::string_view::npos) m = m.substr(0, q);
    if (StartsWith(m, "serviceAccount:")) return {ServiceAccountKey(m.substr(15)), true};
    if (IsWorkloadPrincipal(m)) return {"gcp:principal:" + std::string(m), true};
    for (auto [prefix, key] : {std::pair{"user:", "gcp:user:"}, std::pair{"group:", "gcp:group:"},
                               std::pair{"domain:", "gcp:domain:"}}) {
      std::string_view p(prefix);
      if (StartsWith(m, p)) return {std::string(key) + std::string(m.substr(p.size())), false};
    }
    return {"gcp:member:" + std::string(m), false};
  }

  Status BindingsChanged(std::vector<Draft>* out) {
    auto deltas = BindingDeltas();
    if (deltas.empty()) return OkStatus();  // no delta logged: nothing to map but the call
    if (resource_name_.empty()) {
      return FieldError("protoPayload.resourceName", "missing: cannot name the resource");
    }
    // Bindings of people are NHI evidence when the resource is a service account (who may
    // impersonate it); elsewhere only bindings of non-human principals are.
    const bool on_service_account = resource_name_.find("/serviceAccounts/") != std::string::npos;
    for (size_t i = 0; i < deltas.size(); ++i) {
      const element& delta = deltas[i];
      std::string field = "protoPayload.bindingDeltas[" + std::to_string(i) + "]";
      auto action = StringAt(delta, {"action"});
      auto role = StringAt(delta, {"role"});
      auto member = StringAt(delta, {"member"});
      if (!action || !role || !member) {
        return FieldError(field, "needs action, role and member");
      }
      event::Kind kind;
      if (EqualsIgnoreCase(*action, "ADD")) {
        kind = event::Kind::kProvision;
      } else if (EqualsIgnoreCase(*action, "REMOVE")) {
        kind = event::Kind::kRevocation;
      } else {
        return FieldError(field + ".action", "must be ADD or REMOVE");
      }
      auto [key, nhi] = MemberKey(*member);
      if (!nhi && !on_service_account) continue;
      Draft d;
      d.suffix = "binding-" + std::to_string(i + 1);
      d.event = Base(kind);
      event::Event& e = d.event;
      e.identity = key;
      e.correlation_key = "gcp:binding:" + resource_name_ + "|" + std::string(*role) + "|" + key;
      e.scope = event::Scope{{resource_name_}, {std::string(*role)}};
      if (StartsWith(key, "gcp:sa")) {
        e.subject = event::Subject{"service_account", "", "", "", "gcp"};
      } else if (nhi) {
        e.subject = event::Subject{"workload", "", "", "", "gcp"};
      }
      Attributes a = Common();
      a.String("binding_action", *action);
      a.String("member", *member);
      a.String("role", *role);
      a.Json("condition", Member(delta, "condition"));
      e.attributes = a.Finish();
      out->push_back(std::move(d));
    }
    return OkStatus();
  }

  void ActionByPrincipal(std::vector<Draft>* out) {
    Draft d;
    d.suffix = "action";
    d.event = Base(event::Kind::kAction);
    event::Event& e = d.event;
    e.identity = principal_.key;
    if (auto key_name = StringAt(proto_, {"authenticationInfo", "serviceAccountKeyName"})) {
      if (auto n = ParseSaName(*key_name); n && !n->key.empty()) {
        e.identity = "gcp:sa-key:" + n->key;
        e.aliases.push_back(principal_.key);
      }
    }
    std::vector<std::string> permissions;
    std::set<std::string, std::less<>> seen;
    for (const auto& item : internal::ArrayItems(Member(proto_, "authorizationInfo"))) {
      if (auto p = StringAt(item, {"permission"}); p && seen.insert(std::string(*p)).second) {
        permissions.emplace_back(*p);
      }
    }
    if (permissions.empty() && !method_.empty()) permissions.push_back(method_);
    event::Scope scope;
    if (!resource_name_.empty()) scope.resources.push_back(resource_name_);
    scope.permissions = std::move(permissions);
    e.scope = scope;

    // Impersonation: the principals the call was made on behalf of, first the original caller.
    std::vector<std::string> chain;
    std::string first_human;
    for (const auto& info : internal::ArrayItems(
             MemberPath(proto_, {"authenticationInfo", "serviceAccountDelegationInfo"}))) {
      auto email = StringAt(info, {"firstPartyPrincipal", "principalEmail"});
      auto subject = StringAt(info, {"principalSubject"});
      if (email) {
        chain.emplace_back(*email);
        if (first_human.empty() && chain.size() == 1 && !IsServiceAccountEmail(*email)) {
          first_human = std::string(*email);
        }
      } else if (subject) {
        chain.emplace_back(*subject);
      } else if (auto third = MemberPath(info, {"thirdPartyPrincipal", "thirdPartyClaims"})) {
        if (auto sub = StringAt(*third, {"sub"}))
          chain.push_back("third-party:" + std::string(*sub));
      }
    }
    if (!chain.empty()) chain.push_back(principal_.display);
    if (!first_human.empty()) {
      event::Delegation del;
      del.sponsor = first_human;
      del.credential = e.identity;
      e.delegation = del;
    }
    Attributes a = Common();
    a.Strings("delegation_chain", chain);
    a.String("principal_subject", StringAt(proto_, {"authenticationInfo", "principalSubject"}));
    a.String("service_account_key_name",
             StringAt(proto_, {"authenticationInfo", "serviceAccountKeyName"}));
    e.attributes = a.Finish();
    out->push_back(std::move(d));
  }

  const element& entry_;
  const element& proto_;
  std::string record_id_;
  Principal principal_;
  CallStatus status_;
  std::string method_;
  std::string short_method_;
  std::string service_;
  std::string resource_name_;
  std::optional<element> request_;
  std::optional<element> response_;
};

class GcpAuditImporter final : public Importer {
 public:
  std::string_view format() const override { return kFormat; }

  Result<MapResult> Map(const simdjson::dom::element& record, std::string_view) override {
    if (record.type() != simdjson::dom::element_type::OBJECT) {
      return FieldError("record", "must be a JSON object");
    }
    auto proto = Member(record, "protoPayload");
    if (!proto || proto->type() != simdjson::dom::element_type::OBJECT) {
      return FieldError("protoPayload", "missing: not a Cloud Audit Logs entry");
    }
    if (!StringAt(*proto, {"methodName"})) {
      return FieldError("protoPayload.methodName", "missing");
    }
    std::string id;
    if (auto insert_id = internal::ScalarAt(record, {"insertId"})) {
      id = *insert_id;
    } else {
      NHI_ASSIGN_OR_RETURN(id, internal::ContentId(record));
    }
    RecordMapper mapper(record, *proto, id);
    NHI_ASSIGN_OR_RETURN(auto drafts, mapper.Map());
    if (drafts.empty()) return MapResult{{}, mapper.method()};
    NHI_ASSIGN_OR_RETURN(auto time,
                         internal::ReadTimestamp(Member(record, "timestamp"), "timestamp"));
    return internal::FinishEvents(std::move(drafts), kSourceSystem, id, time, mapper.method());
  }
};

}  // namespace

std::unique_ptr<Importer> MakeImporter() { return std::make_unique<GcpAuditImporter>(); }

bool LooksLike(const simdjson::dom::element& record) {
  return internal::DetectVendorFormat(record) == internal::VendorFormat::kGcpAudit;
}

}  // namespace nhitrace::ingest::gcp_audit
