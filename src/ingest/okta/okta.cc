#include "ingest/okta/okta.h"

#include <string>
#include <vector>

#include <simdjson.h>

#include "ingest/internal/vendor_detect.h"
#include "ingest/internal/vendor_json.h"

namespace nhitrace::ingest::okta {
namespace {

using internal::Attributes;
using internal::Draft;
using internal::element;
using internal::EqualsIgnoreCase;
using internal::FieldError;
using internal::IsIdentifier;
using internal::Member;
using internal::StringAt;

struct Target {
  size_t index = 0;
  std::string type;
  std::string id;
  std::string alternate_id;
  std::string display_name;
};

std::vector<Target> ReadTargets(const element& rec) {
  std::vector<Target> out;
  auto items = internal::ArrayItems(Member(rec, "target"));
  for (size_t i = 0; i < items.size(); ++i) {
    Target t;
    t.index = i;
    t.type = std::string(StringAt(items[i], {"type"}).value_or(""));
    t.id = internal::ScalarAt(items[i], {"id"}).value_or("");
    t.alternate_id = std::string(StringAt(items[i], {"alternateId"}).value_or(""));
    t.display_name = std::string(StringAt(items[i], {"displayName"}).value_or(""));
    out.push_back(std::move(t));
  }
  return out;
}

bool IsAppType(std::string_view type) {
  for (std::string_view t :
       {"AppInstance", "PublicClientApp", "ServiceApp", "OAuth2Client", "APP", "Application"}) {
    if (EqualsIgnoreCase(type, t)) return true;
  }
  return false;
}

// The identity key of a target, by its type.
std::string TargetKey(const Target& t) {
  if (EqualsIgnoreCase(t.type, "User")) return "okta:user:" + t.id;
  if (EqualsIgnoreCase(t.type, "UserGroup") || EqualsIgnoreCase(t.type, "Group")) {
    return "okta:group:" + t.id;
  }
  if (IsAppType(t.type)) return "okta:app:" + t.id;
  if (EqualsIgnoreCase(t.type, "Token")) return "okta:api-token:" + t.id;
  std::string type;
  for (char c : t.type) {
    if (c == ' ') {
      type += '-';
    } else {
      type += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
  }
  return "okta:" + (type.empty() ? std::string("object") : type) + ":" + t.id;
}

std::string TargetField(const Target& t, std::string_view member) {
  return "target[" + std::to_string(t.index) + "]." + std::string(member);
}

// The first target of one of `types` (case-insensitive) with an id; with `any`, else the first
// target with an id.
const Target* FindTarget(const std::vector<Target>& targets,
                         std::initializer_list<std::string_view> types, bool any) {
  for (const auto& t : targets) {
    if (t.id.empty()) continue;
    for (std::string_view want : types) {
      if (EqualsIgnoreCase(t.type, want)) return &t;
    }
  }
  if (any) {
    for (const auto& t : targets) {
      if (!t.id.empty()) return &t;
    }
  }
  return nullptr;
}

std::optional<event::Actor> ReadActor(const element& rec) {
  auto actor = Member(rec, "actor");
  if (!actor) return std::nullopt;
  std::string type(StringAt(*actor, {"type"}).value_or(""));
  std::string id = internal::ScalarAt(*actor, {"id"}).value_or("");
  std::string alternate(StringAt(*actor, {"alternateId"}).value_or(""));
  event::Actor a;
  if (EqualsIgnoreCase(type, "User")) {
    a.id = !alternate.empty() && alternate != "unknown" ? alternate : id;
    a.type = "human";
  } else if (EqualsIgnoreCase(type, "SystemPrincipal")) {
    a.id = !alternate.empty() ? alternate : "okta:system";
    a.type = "system";
  } else if (IsAppType(type) && !id.empty()) {
    a.id = "okta:app:" + id;
    a.type = "nhi";
  } else {
    a.id = !alternate.empty() ? alternate : id;
  }
  if (a.id.empty()) return std::nullopt;
  return a;
}

std::optional<event::Outcome> ReadOutcome(const element& rec) {
  auto result = StringAt(rec, {"outcome", "result"});
  if (!result) return std::nullopt;
  event::Outcome o;
  if (EqualsIgnoreCase(*result, "SUCCESS") || EqualsIgnoreCase(*result, "ALLOW")) {
    o.result = "success";
  } else if (EqualsIgnoreCase(*result, "FAILURE") || EqualsIgnoreCase(*result, "DENY")) {
    o.result = "failure";
  } else {
    return std::nullopt;  // CHALLENGE, SKIPPED, UNKNOWN: kept in attributes
  }
  o.code = std::string(StringAt(rec, {"outcome", "reason"}).value_or(""));
  return o;
}

void CommonAttributes(const element& rec, std::string_view event_type, Attributes* a) {
  a->String("event_type", event_type);
  a->String("display_message", StringAt(rec, {"displayMessage"}));
  a->String("outcome", StringAt(rec, {"outcome", "result"}));
  a->String("client_ip", StringAt(rec, {"client", "ipAddress"}));
  a->String("user_agent", StringAt(rec, {"client", "userAgent", "rawUserAgent"}));
  a->String("request_id", StringAt(rec, {"debugContext", "debugData", "requestId"}));
  a->String("transaction_id", StringAt(rec, {"transaction", "id"}));
}

enum class Mapping { kTokenCreate, kTokenRevoke, kPrivilegeGrant, kPrivilegeRevoke };

struct Rule {
  std::string_view event_type;
  Mapping mapping;
  std::initializer_list<std::string_view> grantee_types;
};

const Rule* FindRule(std::string_view event_type) {
  static const Rule kRules[] = {
      {"system.api_token.create", Mapping::kTokenCreate, {"Token"}},
      {"system.api_token.revoke", Mapping::kTokenRevoke, {"Token"}},
      {"user.account.privilege.grant", Mapping::kPrivilegeGrant, {"User"}},
      {"user.account.privilege.revoke", Mapping::kPrivilegeRevoke, {"User"}},
      {"group.privilege.grant", Mapping::kPrivilegeGrant, {"UserGroup", "Group"}},
      {"group.privilege.revoke", Mapping::kPrivilegeRevoke, {"UserGroup", "Group"}},
      {"app.oauth2.client.privilege.grant",
       Mapping::kPrivilegeGrant,
       {"PublicClientApp", "AppInstance", "ServiceApp", "OAuth2Client"}},
      {"app.oauth2.client.privilege.revoke",
       Mapping::kPrivilegeRevoke,
       {"PublicClientApp", "AppInstance", "ServiceApp", "OAuth2Client"}},
  };
  for (const auto& r : kRules) {
    if (r.event_type == event_type) return &r;
  }
  return nullptr;
}

Result<std::vector<Draft>> MapToken(const element& rec, const Rule& rule,
                                    std::string_view event_type) {
  auto targets = ReadTargets(rec);
  const Target* token = FindTarget(targets, rule.grantee_types, /*any=*/false);
  if (token == nullptr) return FieldError("target", "no target of type Token with an id");
  if (!IsIdentifier(token->id)) {
    return FieldError(TargetField(*token, "id"), "not a valid identifier");
  }
  Draft d;
  event::Event& e = d.event;
  e.kind =
      rule.mapping == Mapping::kTokenCreate ? event::Kind::kProvision : event::Kind::kRevocation;
  e.identity = TargetKey(*token);
  e.correlation_key = e.identity;
  e.actor = ReadActor(rec);
  e.outcome = ReadOutcome(rec);
  event::Subject s;
  s.kind = "api_key";
  s.system = "okta";
  if (token->display_name != "unknown") s.name = token->display_name;
  if (rule.mapping == Mapping::kTokenCreate && e.actor && e.actor->type == "human") {
    s.owner = e.actor->id;
  }
  e.subject = s;
  Attributes a;
  CommonAttributes(rec, event_type, &a);
  a.String("token_name", token->display_name);
  e.attributes = a.Finish();
  d.suffix = rule.mapping == Mapping::kTokenCreate ? "provision" : "revocation";
  std::vector<Draft> out;
  out.push_back(std::move(d));
  return out;
}

Result<std::vector<Draft>> MapPrivilege(const element& rec, const Rule& rule,
                                        std::string_view event_type) {
  auto targets = ReadTargets(rec);
  const Target* grantee = FindTarget(targets, rule.grantee_types, /*any=*/true);
  if (grantee == nullptr) return FieldError("target", "no target with an id");
  if (!IsIdentifier(grantee->id)) {
    return FieldError(TargetField(*grantee, "id"), "not a valid identifier");
  }
  bool grant = rule.mapping == Mapping::kPrivilegeGrant;
  std::string_view own = grant ? "privilegeGranted" : "privilegeRevoked";
  std::string_view other = grant ? "privilegeRevoked" : "privilegeGranted";
  auto listed = StringAt(rec, {"debugContext", "debugData", own});
  if (!listed) listed = StringAt(rec, {"debugContext", "debugData", other});
  std::vector<std::string> privileges;
  if (listed) privileges = internal::SplitList(*listed);

  const std::string key = TargetKey(*grantee);
  event::Subject subject;
  subject.system = "okta";
  subject.name = grantee->display_name;
  if (IsAppType(grantee->type)) subject.kind = "oauth_app";

  Attributes a;
  CommonAttributes(rec, event_type, &a);
  a.String("grantee_type", grantee->type);
  a.String("grantee_alternate_id", grantee->alternate_id);
  a.String("grantee_display_name", grantee->display_name);
  const std::string attributes = a.Finish();

  std::vector<Draft> out;
  // One event per privilege, so that revoking one privilege ends that grant only.
  size_t n = privileges.empty() ? 1 : privileges.size();
  for (size_t i = 0; i < n; ++i) {
    Draft d;
    event::Event& e = d.event;
    e.kind = grant ? event::Kind::kProvision : event::Kind::kRevocation;
    e.identity = key;
    e.actor = ReadActor(rec);
    e.outcome = ReadOutcome(rec);
    e.subject = subject;
    e.attributes = attributes;
    if (privileges.empty()) {
      e.correlation_key = "okta:grant:" + key;
    } else {
      e.correlation_key = "okta:grant:" + key + "|" + privileges[i];
      e.scope = event::Scope{{}, {privileges[i]}};
    }
    d.suffix = "privilege-" + std::to_string(i + 1);
    out.push_back(std::move(d));
  }
  return out;
}

class OktaImporter final : public Importer {
 public:
  std::string_view format() const override { return kFormat; }

  Result<MapResult> Map(const simdjson::dom::element& record, std::string_view) override {
    element rec = record;
    // Okta's EventBridge log stream wraps the LogEvent in "detail".
    if (auto source = StringAt(record, {"source"});
        source && internal::StartsWith(*source, "aws.partner/okta.com")) {
      auto detail = Member(record, "detail");
      if (!detail || detail->type() != simdjson::dom::element_type::OBJECT) {
        return FieldError("detail", "missing: an EventBridge record without its Okta event");
      }
      rec = *detail;
    }
    if (rec.type() != simdjson::dom::element_type::OBJECT) {
      return FieldError("record", "must be a JSON object");
    }
    auto event_type = StringAt(rec, {"eventType"});
    if (!event_type) return FieldError("eventType", "missing: not an Okta System Log event");
    const Rule* rule = FindRule(*event_type);
    if (rule == nullptr) return MapResult{{}, std::string(*event_type)};

    std::string id;
    if (auto uuid = internal::ScalarAt(rec, {"uuid"})) {
      id = *uuid;
    } else {
      NHI_ASSIGN_OR_RETURN(id, internal::ContentId(rec));
    }
    NHI_ASSIGN_OR_RETURN(auto time, internal::ReadTimestamp(Member(rec, "published"), "published"));

    std::vector<Draft> drafts;
    switch (rule->mapping) {
      case Mapping::kTokenCreate:
      case Mapping::kTokenRevoke: {
        NHI_ASSIGN_OR_RETURN(drafts, MapToken(rec, *rule, *event_type));
        break;
      }
      case Mapping::kPrivilegeGrant:
      case Mapping::kPrivilegeRevoke: {
        NHI_ASSIGN_OR_RETURN(drafts, MapPrivilege(rec, *rule, *event_type));
        break;
      }
    }
    return internal::FinishEvents(std::move(drafts), kSourceSystem, id, time, *event_type);
  }
};

}  // namespace

std::unique_ptr<Importer> MakeImporter() { return std::make_unique<OktaImporter>(); }

bool LooksLike(const simdjson::dom::element& record) {
  return internal::DetectVendorFormat(record) == internal::VendorFormat::kOkta;
}

}  // namespace nhitrace::ingest::okta
