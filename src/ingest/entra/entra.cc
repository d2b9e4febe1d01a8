#include "ingest/entra/entra.h"

#include <set>
#include <string>
#include <vector>

#include <simdjson.h>

#include "ingest/internal/vendor_detect.h"
#include "ingest/internal/vendor_json.h"
#include "json/dom.h"

namespace nhitrace::ingest::entra {
namespace {

using internal::Attributes;
using internal::ContainsIgnoreCase;
using internal::Draft;
using internal::element;
using internal::EqualsIgnoreCase;
using internal::FieldError;
using internal::Member;
using internal::StartsWith;
using internal::StringAt;
using simdjson::dom::element_type;

std::string Str(const element& e, std::string_view name) {
  return std::string(StringAt(e, {name}).value_or(""));
}

// Activity names differ in small ways between the shapes: Office 365 ends them with a period,
// and some exports write "–" (en dash) where others write "-".
std::string NormalizeActivity(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s.compare(i, 3, "\xE2\x80\x93") == 0 || s.compare(i, 3, "\xE2\x80\x94") == 0) {
      out += '-';
      i += 2;
    } else {
      out += s[i];
    }
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == '.')) out.pop_back();
  size_t start = out.find_first_not_of(' ');
  return start == std::string::npos ? "" : out.substr(start);
}

struct Prop {
  std::string name;
  std::optional<element> old_value;
  std::optional<element> new_value;
};

struct Target {
  std::string field;  // where it is in the record, for errors
  std::string type;
  std::string id;
  std::string display;
  std::string upn;
  std::vector<Prop> props;
};

struct Initiator {
  bool present = false;
  bool app = false;
  std::string user_id, upn, display, sp_id, app_id;
};

// An audit record, whatever shape it came in.
struct Audit {
  std::string activity;  // normalized
  std::string activity_raw;
  std::string category;
  std::optional<element> id;
  std::string id_field;
  std::optional<element> time;
  std::string time_field;
  std::string result;
  std::string result_reason;
  std::string correlation_id;
  std::string logged_by;
  Initiator initiator;
  std::vector<Target> targets;
  std::string prefix;  // "properties." for Azure Monitor records, for error messages
  std::string targets_field = "targetResources";
};

void ReadGraphInitiator(const std::optional<element>& by, Initiator* in) {
  if (!by) return;
  if (auto app = Member(*by, "app"); app && app->type() == element_type::OBJECT) {
    in->app_id = Str(*app, "appId");
    in->sp_id = Str(*app, "servicePrincipalId");
    in->display = Str(*app, "displayName");
    if (in->display.empty()) in->display = Str(*app, "servicePrincipalName");
    if (!in->app_id.empty() || !in->sp_id.empty() || !in->display.empty()) {
      in->present = in->app = true;
      return;
    }
  }
  if (auto user = Member(*by, "user"); user && user->type() == element_type::OBJECT) {
    in->user_id = Str(*user, "id");
    in->upn = Str(*user, "userPrincipalName");
    in->display = Str(*user, "displayName");
    in->present = !in->user_id.empty() || !in->upn.empty() || !in->display.empty();
  }
}

// A Graph directoryAudit, at the top level or in an Azure Monitor record's "properties".
Audit ReadGraphAudit(const element& p, std::string_view prefix) {
  Audit a;
  a.prefix = std::string(prefix);
  a.targets_field = a.prefix + "targetResources";
  a.activity_raw = Str(p, "activityDisplayName");
  if (a.activity_raw.empty()) a.activity_raw = Str(p, "operationName");
  a.category = Str(p, "category");
  a.id = Member(p, "id");
  a.id_field = std::string(prefix) + "id";
  a.time = Member(p, "activityDateTime");
  a.time_field = std::string(prefix) + "activityDateTime";
  a.result = Str(p, "result");
  a.result_reason = Str(p, "resultReason");
  a.correlation_id = Str(p, "correlationId");
  a.logged_by = Str(p, "loggedByService");
  ReadGraphInitiator(Member(p, "initiatedBy"), &a.initiator);
  auto items = internal::ArrayItems(Member(p, "targetResources"));
  for (size_t i = 0; i < items.size(); ++i) {
    Target t;
    t.field = std::string(prefix) + "targetResources[" + std::to_string(i) + "]";
    t.type = Str(items[i], "type");
    t.id = internal::ScalarAt(items[i], {"id"}).value_or("");
    t.display = Str(items[i], "displayName");
    t.upn = Str(items[i], "userPrincipalName");
    for (const auto& mp : internal::ArrayItems(Member(items[i], "modifiedProperties"))) {
      Prop prop;
      prop.name = Str(mp, "displayName");
      prop.old_value = Member(mp, "oldValue");
      prop.new_value = Member(mp, "newValue");
      if (!prop.name.empty()) t.props.push_back(std::move(prop));
    }
    a.targets.push_back(std::move(t));
  }
  return a;
}

// "ServicePrincipal_<id>" -> {"ServicePrincipal", "<id>"}.
std::optional<std::pair<std::string, std::string>> TypedId(std::string_view s) {
  for (std::string_view type :
       {"ServicePrincipal", "Application", "User", "Group", "Role", "Device", "Policy"}) {
    if (s.size() > type.size() + 1 && StartsWith(s, type) && s[type.size()] == '_') {
      return std::make_pair(std::string(type), std::string(s.substr(type.size() + 1)));
    }
  }
  return std::nullopt;
}

// An Office 365 Management Activity record (Azure AD workload).
Audit ReadO365Audit(const element& r) {
  Audit a;
  a.targets_field = "Target";
  a.activity_raw = Str(r, "Operation");
  a.category = Str(r, "Workload");
  a.id = Member(r, "Id");
  a.id_field = "Id";
  a.time = Member(r, "CreationTime");
  a.time_field = "CreationTime";
  a.result = Str(r, "ResultStatus");
  for (const auto& actor : internal::ArrayItems(Member(r, "Actor"))) {
    auto id = StringAt(actor, {"ID"});
    if (!id) continue;
    if (auto typed = TypedId(*id); typed && typed->first == "ServicePrincipal") {
      a.initiator.present = a.initiator.app = true;
      a.initiator.sp_id = typed->second;
      break;
    }
  }
  if (!a.initiator.present) {
    std::string user = Str(r, "UserId");
    if (auto typed = TypedId(user); typed && typed->first == "ServicePrincipal") {
      a.initiator.present = a.initiator.app = true;
      a.initiator.sp_id = typed->second;
    } else if (!user.empty()) {
      a.initiator.present = true;
      a.initiator.upn = user;
    }
  }
  auto items = internal::ArrayItems(Member(r, "Target"));
  for (size_t i = 0; i < items.size(); ++i) {
    auto id = StringAt(items[i], {"ID"});
    if (!id) continue;
    if (auto typed = TypedId(*id)) {
      Target t;
      t.field = "Target[" + std::to_string(i) + "]";
      t.type = typed->first;
      t.id = typed->second;
      a.targets.push_back(std::move(t));
    }
  }
  std::vector<Prop> props;
  for (const auto& mp : internal::ArrayItems(Member(r, "ModifiedProperties"))) {
    Prop prop;
    prop.name = Str(mp, "Name");
    prop.old_value = Member(mp, "OldValue");
    prop.new_value = Member(mp, "NewValue");
    if (!prop.name.empty()) props.push_back(std::move(prop));
  }
  if (a.targets.empty() && !props.empty()) {
    Target t;
    t.field = "Target";
    a.targets.push_back(std::move(t));
  }
  if (!a.targets.empty()) a.targets[0].props = std::move(props);
  return a;
}

// A credential as the KeyDescription property lists it.
struct KeyCredential {
  std::string key_id, type, usage, display_name;
};

// Reads modified-property values. Entra writes them as JSON text inside a string
// ("[\"value\"]", "[{\"KeyIdentifier\":...}]"); some pipelines have already parsed them.
class ValueReader {
 public:
  std::vector<std::string> Strings(const std::optional<element>& v) {
    std::vector<std::string> out;
    if (!v) return out;
    if (auto s = internal::AsString(v)) {
      element parsed;
      if (ParseEmbedded(*s, &parsed)) {
        Collect(parsed, 0, &out);
      } else {
        out.emplace_back(*s);
      }
      return out;
    }
    Collect(*v, 0, &out);
    return out;
  }

  std::string First(const std::optional<element>& v) {
    auto all = Strings(v);
    return all.empty() ? "" : all.front();
  }

  std::vector<KeyCredential> Keys(const std::optional<element>& v) {
    std::vector<KeyCredential> out;
    if (!v) return out;
    if (auto s = internal::AsString(v)) {
      element parsed;
      if (ParseEmbedded(*s, &parsed)) {
        CollectKeys(parsed, 0, &out);
      } else {
        CollectKeys(*v, 0, &out);
      }
      return out;
    }
    CollectKeys(*v, 0, &out);
    return out;
  }

 private:
  bool ParseEmbedded(std::string_view s, element* out) {
    size_t first = s.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return false;
    char c = s[first];
    if (c != '[' && c != '{' && c != '"') return false;
    return json::ParseJson(parser_, s, out) == simdjson::SUCCESS;
  }

  static void Collect(const element& e, int depth, std::vector<std::string>* out) {
    if (depth > 4) return;
    if (e.type() == element_type::ARRAY) {
      for (element item : json::ArrayOf(e)) Collect(item, depth + 1, out);
    } else if (auto s = internal::ScalarText(e)) {
      out->push_back(*s);
    } else if (e.type() == element_type::BOOL) {
      out->push_back(e.get_bool().value_unsafe() ? "true" : "false");
    }
  }

  // "[KeyIdentifier=7f3c...,KeyType=Password,KeyUsage=Verify,DisplayName=ci secret]"
  static std::optional<KeyCredential> ParseKeyText(std::string_view s) {
    auto value = [&](std::string_view name, bool last) -> std::string {
      size_t at = s.find(name);
      if (at == std::string_view::npos) return "";
      size_t begin = at + name.size();
      size_t end = last ? s.rfind(']') : s.find(',', begin);
      if (end == std::string_view::npos || end < begin) end = s.size();
      return std::string(s.substr(begin, end - begin));
    };
    KeyCredential k;
    k.key_id = value("KeyIdentifier=", false);
    if (k.key_id.empty()) return std::nullopt;
    k.type = value("KeyType=", false);
    k.usage = value("KeyUsage=", false);
    k.display_name = value("DisplayName=", true);
    return k;
  }

  static void CollectKeys(const element& e, int depth, std::vector<KeyCredential>* out) {
    if (depth > 4) return;
    if (e.type() == element_type::ARRAY) {
      for (element item : json::ArrayOf(e)) CollectKeys(item, depth + 1, out);
    } else if (e.type() == element_type::OBJECT) {
      KeyCredential k;
      k.key_id = internal::ScalarAt(e, {"KeyIdentifier"}).value_or("");
      if (k.key_id.empty()) return;
      k.type = Str(e, "KeyType");
      k.usage = Str(e, "KeyUsage");
      k.display_name = Str(e, "DisplayName");
      out->push_back(std::move(k));
    } else if (auto s = internal::AsString(e)) {
      if (auto k = ParseKeyText(*s)) out->push_back(std::move(*k));
    }
  }

  simdjson::dom::parser parser_;
};

// 8-4-4-4-12 hexadecimal digits.
bool IsGuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    char c = s[i];
    bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (dash ? c != '-' : !hex) return false;
  }
  return true;
}

std::string ObjectKey(std::string_view type, std::string_view id) {
  if (EqualsIgnoreCase(type, "ServicePrincipal")) return "entra:sp:" + std::string(id);
  if (EqualsIgnoreCase(type, "Application")) return "entra:app-object:" + std::string(id);
  if (EqualsIgnoreCase(type, "User")) return "entra:user:" + std::string(id);
  if (EqualsIgnoreCase(type, "Group")) return "entra:group:" + std::string(id);
  std::string t;
  for (char c : type) t += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  return "entra:" + (t.empty() ? std::string("object") : t) + ":" + std::string(id);
}

const Prop* FindProp(const Target& t, std::string_view name) {
  for (const auto& p : t.props) {
    if (EqualsIgnoreCase(p.name, name)) return &p;
  }
  return nullptr;
}

std::optional<event::Outcome> ReadOutcome(std::string_view result, std::string_view reason) {
  event::Outcome o;
  if (EqualsIgnoreCase(result, "success") || EqualsIgnoreCase(result, "succeeded")) {
    o.result = "success";
  } else if (EqualsIgnoreCase(result, "failure") || EqualsIgnoreCase(result, "failed") ||
             EqualsIgnoreCase(result, "timeout")) {
    o.result = "failure";
    o.code = EqualsIgnoreCase(result, "timeout") ? "timeout" : "";
    o.message = std::string(reason);
  } else {
    return std::nullopt;
  }
  return o;
}

std::optional<event::Actor> ActorOf(const Initiator& in) {
  if (!in.present) return std::nullopt;
  if (in.app) {
    if (!in.sp_id.empty()) return event::Actor{"entra:sp:" + in.sp_id, "nhi"};
    if (!in.app_id.empty()) return event::Actor{"entra:app:" + in.app_id, "nhi"};
    return event::Actor{in.display, "nhi"};
  }
  if (!in.upn.empty()) return event::Actor{in.upn, "human"};
  if (!in.user_id.empty()) return event::Actor{"entra:user:" + in.user_id, "human"};
  return event::Actor{in.display, "human"};
}

class AuditMapper {
 public:
  AuditMapper(const Audit& audit, std::string_view record_id, ValueReader* values)
      : a_(audit), record_id_(record_id), values_(values) {}

  Result<std::vector<Draft>> Map() {
    std::vector<Draft> drafts;
    const std::string& act = a_.activity;
    auto is = [&](std::string_view name) { return EqualsIgnoreCase(act, name); };
    if (is("Add service principal")) {
      NHI_RETURN_IF_ERROR(ObjectLifecycle(&drafts, event::Kind::kProvision, "ServicePrincipal"));
    } else if (is("Remove service principal") || is("Delete service principal") ||
               is("Hard delete service principal")) {
      NHI_RETURN_IF_ERROR(ObjectLifecycle(&drafts, event::Kind::kRevocation, "ServicePrincipal"));
    } else if (is("Add application")) {
      NHI_RETURN_IF_ERROR(ObjectLifecycle(&drafts, event::Kind::kProvision, "Application"));
    } else if (is("Delete application") || is("Hard delete application")) {
      NHI_RETURN_IF_ERROR(ObjectLifecycle(&drafts, event::Kind::kRevocation, "Application"));
    } else if (is("Add service principal credentials")) {
      NHI_RETURN_IF_ERROR(Credentials(&drafts, event::Kind::kProvision));
    } else if (is("Remove service principal credentials")) {
      NHI_RETURN_IF_ERROR(Credentials(&drafts, event::Kind::kRevocation));
    } else if (internal::EndsWith(act, "Certificates and secrets management")) {
      NHI_RETURN_IF_ERROR(Credentials(&drafts, event::Kind::kIdentity));
    } else if (is("Add app role assignment to service principal")) {
      NHI_RETURN_IF_ERROR(AppRoleAssignment(&drafts, event::Kind::kProvision));
    } else if (is("Remove app role assignment from service principal")) {
      NHI_RETURN_IF_ERROR(AppRoleAssignment(&drafts, event::Kind::kRevocation));
    } else if (StartsWith(act, "Add member to role")) {
      bool requested = ContainsIgnoreCase(act, "requested");
      NHI_RETURN_IF_ERROR(
          RoleAssignment(&drafts, requested ? event::Kind::kRequest : event::Kind::kProvision));
    } else if (StartsWith(act, "Remove member from role") &&
               !ContainsIgnoreCase(act, "requested")) {
      NHI_RETURN_IF_ERROR(RoleAssignment(&drafts, event::Kind::kRevocation));
    }
    if (a_.initiator.app && (!a_.initiator.sp_id.empty() || !a_.initiator.app_id.empty())) {
      ActionByApp(&drafts);
    }
    return drafts;
  }

 private:
  Attributes Common() const {
    Attributes at;
    at.String("activity", a_.activity_raw);
    at.String("category", a_.category);
    at.String("correlation_id", a_.correlation_id);
    at.String("logged_by_service", a_.logged_by);
    at.String("result", a_.result);
    at.String("initiated_by", a_.initiator.app ? a_.initiator.display : a_.initiator.upn);
    return at;
  }

  event::Event Base(event::Kind kind) const {
    event::Event e;
    e.kind = kind;
    e.actor = ActorOf(a_.initiator);
    e.outcome = ReadOutcome(a_.result, a_.result_reason);
    return e;
  }

  // The first target of `type` with an id.
  const Target* TargetOf(std::string_view type) const {
    for (const auto& t : a_.targets) {
      if (!t.id.empty() && EqualsIgnoreCase(t.type, type)) return &t;
    }
    return nullptr;
  }

  // The application (client) id an object names in its properties.
  std::string AppIdOf(const Target& t) {
    for (std::string_view name : {"AppId", "AppPrincipalId", "ServicePrincipal.AppId"}) {
      if (const Prop* p = FindProp(t, name)) {
        std::string v = values_->First(p->new_value);
        if (v.empty()) v = values_->First(p->old_value);
        if (!v.empty()) return v;
      }
    }
    // A service principal's names include its application id (and URIs, which are skipped).
    if (const Prop* p = FindProp(t, "TargetId.ServicePrincipalNames")) {
      for (const auto& v : values_->Strings(p->new_value)) {
        for (const auto& name : internal::SplitList(v, ';')) {
          if (IsGuid(name)) return name;
        }
      }
    }
    return "";
  }

  Status ObjectLifecycle(std::vector<Draft>* out, event::Kind kind, std::string_view type) {
    const Target* t = TargetOf(type);
    if (t == nullptr) {
      return FieldError(a_.targets_field, "no " + std::string(type) + " target with an id");
    }
    Draft d;
    d.suffix = "object";
    d.event = Base(kind);
    event::Event& e = d.event;
    e.identity = ObjectKey(type, t->id);
    e.correlation_key = e.identity;
    if (std::string app_id = AppIdOf(*t); !app_id.empty()) {
      e.aliases.push_back("entra:app:" + app_id);
    }
    std::string name = t->display;
    if (name.empty()) {
      if (const Prop* p = FindProp(*t, "DisplayName")) name = values_->First(p->new_value);
    }
    e.subject = event::Subject{type == "Application" ? "oauth_app" : "service_account", name, "",
                               "", "entra"};
    Attributes at = Common();
    at.String("object_type", type);
    at.String("object_id", t->id);
    e.attributes = at.Finish();
    out->push_back(std::move(d));
    return OkStatus();
  }

  // Credentials added to or removed from a service principal or application: the KeyDescription
  // property lists the keys before and after; each key that appears is a provision, each that
  // disappears a revocation. `kind` is what the activity says when no key can be read.
  Status Credentials(std::vector<Draft>* out, event::Kind kind) {
    const Target* owner = TargetOf("ServicePrincipal");
    if (owner == nullptr) owner = TargetOf("Application");
    if (owner == nullptr) {
      return FieldError(a_.targets_field, "no ServicePrincipal or Application target with an id");
    }
    const std::string owner_key = ObjectKey(owner->type, owner->id);
    const std::string app_id = AppIdOf(*owner);
    std::vector<KeyCredential> before, after;
    const Prop* keys = FindProp(*owner, "KeyDescription");
    if (keys != nullptr) {
      before = values_->Keys(keys->old_value);
      after = values_->Keys(keys->new_value);
    }
    auto contains = [](const std::vector<KeyCredential>& list, const std::string& id) {
      for (const auto& k : list) {
        if (k.key_id == id) return true;
      }
      return false;
    };
    Attributes base = Common();
    base.String("owner_type", owner->type);
    base.String("owner_id", owner->id);
    base.String("owner_display_name", owner->display);

    auto add = [&](event::Kind k, const KeyCredential& key, std::string suffix) {
      Draft d;
      d.suffix = std::move(suffix);
      d.event = Base(k);
      event::Event& e = d.event;
      e.identity = "entra:credential:" + key.key_id;
      e.correlation_key = e.identity;
      e.aliases.push_back(owner_key);
      if (!app_id.empty()) e.aliases.push_back("entra:app:" + app_id);
      std::string subject_kind =
          EqualsIgnoreCase(key.type, "AsymmetricX509Cert") || ContainsIgnoreCase(key.type, "cert")
              ? "certificate"
              : "api_key";
      e.subject = event::Subject{subject_kind, key.display_name, "", "", "entra"};
      Attributes at = base;
      at.String("key_id", key.key_id);
      at.String("key_type", key.type);
      at.String("key_usage", key.usage);
      at.String("key_display_name", key.display_name);
      e.attributes = at.Finish();
      out->push_back(std::move(d));
    };
    size_t mapped = 0;
    std::set<std::string> seen;
    for (const auto& k : after) {
      if (!contains(before, k.key_id) && seen.insert(k.key_id).second) {
        add(event::Kind::kProvision, k, "added:" + k.key_id);
        ++mapped;
      }
    }
    for (const auto& k : before) {
      if (!contains(after, k.key_id) && seen.insert(k.key_id).second) {
        add(event::Kind::kRevocation, k, "removed:" + k.key_id);
        ++mapped;
      }
    }
    if (mapped > 0) return OkStatus();

    // No key named (the record lists none, or the lists are equal): the change is evidence
    // about the owner.
    Draft d;
    d.suffix = "credentials";
    d.event = Base(kind);
    event::Event& e = d.event;
    e.identity = owner_key;
    if (!app_id.empty()) e.aliases.push_back("entra:app:" + app_id);
    if (kind != event::Kind::kIdentity) e.correlation_key = "entra:credentials:" + record_id_;
    e.subject = event::Subject{
        EqualsIgnoreCase(owner->type, "Application") ? "oauth_app" : "service_account",
        owner->display, "", "", "entra"};
    e.rationale = "credentials changed; the record names no key identifier";
    Attributes at = base;
    if (keys != nullptr) {
      at.Strings("key_description",
                 values_->Strings(keys->new_value ? keys->new_value : keys->old_value));
    }
    if (const Prop* type = FindProp(*owner, "KeyType")) {
      at.Strings("key_type", values_->Strings(type->new_value));
    }
    e.attributes = at.Finish();
    out->push_back(std::move(d));
    return OkStatus();
  }

  std::string PropValue(const Target& t, std::string_view name, bool removal) {
    const Prop* p = FindProp(t, name);
    if (p == nullptr) return "";
    std::string v = values_->First(removal ? p->old_value : p->new_value);
    if (v.empty()) v = values_->First(removal ? p->new_value : p->old_value);
    return v;
  }

  Status AppRoleAssignment(std::vector<Draft>* out, event::Kind kind) {
    const bool removal = kind == event::Kind::kRevocation;
    // The resource service principal carries the assignment's properties; the client is
    // ServicePrincipal.ObjectID (or a second ServicePrincipal target).
    const Target* resource = nullptr;
    for (const auto& t : a_.targets) {
      if (EqualsIgnoreCase(t.type, "ServicePrincipal") && FindProp(t, "AppRole.Id")) {
        resource = &t;
        break;
      }
    }
    if (resource == nullptr) resource = TargetOf("ServicePrincipal");
    if (resource == nullptr) {
      return FieldError(a_.targets_field, "no ServicePrincipal target with an id");
    }
    std::string client = PropValue(*resource, "ServicePrincipal.ObjectID", removal);
    if (client.empty()) {
      for (const auto& t : a_.targets) {
        if (&t != resource && EqualsIgnoreCase(t.type, "ServicePrincipal") && !t.id.empty()) {
          client = t.id;
          break;
        }
      }
    }
    if (client.empty()) {
      return FieldError(resource->field + ".modifiedProperties",
                        "no ServicePrincipal.ObjectID: cannot name the assignee");
    }
    std::string role = PropValue(*resource, "AppRole.Value", removal);
    if (role.empty()) role = PropValue(*resource, "AppRole.DisplayName", removal);
    if (role.empty()) role = PropValue(*resource, "AppRole.Id", removal);
    std::string client_app = PropValue(*resource, "ServicePrincipal.AppId", removal);
    const std::string client_key = "entra:sp:" + client;
    const std::string resource_key = "entra:sp:" + resource->id;

    Draft d;
    d.suffix = "app-role";
    d.event = Base(kind);
    event::Event& e = d.event;
    e.identity = client_key;
    if (!client_app.empty()) e.aliases.push_back("entra:app:" + client_app);
    e.correlation_key = "entra:grant:" + client_key + "|" + resource_key + "|" +
                        (role.empty() ? std::string("-") : role);
    e.scope = event::Scope{
        {resource_key}, role.empty() ? std::vector<std::string>{} : std::vector<std::string>{role}};
    e.subject = event::Subject{"service_account",
                               PropValue(*resource, "ServicePrincipal.DisplayName", removal), "",
                               "", "entra"};
    Attributes at = Common();
    at.String("resource_display_name", resource->display);
    at.String("resource_id", resource->id);
    at.String("app_role_id", PropValue(*resource, "AppRole.Id", removal));
    at.String("app_role_value", role);
    e.attributes = at.Finish();
    out->push_back(std::move(d));
    return OkStatus();
  }

  Status RoleAssignment(std::vector<Draft>* out, event::Kind kind) {
    const Target* grantee = nullptr;
    for (const auto& t : a_.targets) {
      if (t.id.empty()) continue;
      if (EqualsIgnoreCase(t.type, "User") || EqualsIgnoreCase(t.type, "ServicePrincipal") ||
          EqualsIgnoreCase(t.type, "Group")) {
        grantee = &t;
        break;
      }
    }
    if (grantee == nullptr) {
      return FieldError(a_.targets_field, "no User, ServicePrincipal or Group target with an id");
    }
    const bool removal = kind == event::Kind::kRevocation;
    std::string role, role_id;
    for (const auto& t : a_.targets) {
      if (role.empty()) role = PropValue(t, "Role.DisplayName", removal);
      if (role_id.empty()) role_id = PropValue(t, "Role.TemplateId", removal);
      if (role_id.empty()) role_id = PropValue(t, "TemplateId", removal);
      if (role_id.empty()) role_id = PropValue(t, "Role.ObjectID", removal);
    }
    const Target* request = nullptr;
    for (const auto& t : a_.targets) {
      if (EqualsIgnoreCase(t.type, "Role")) {
        if (role.empty()) role = t.display;
        if (role_id.empty()) role_id = t.id;
      }
      if (request == nullptr && EqualsIgnoreCase(t.type, "Request") && !t.id.empty()) {
        request = &t;
      }
    }
    const std::string key = ObjectKey(grantee->type, grantee->id);
    Draft d;
    d.suffix = "role";
    d.event = Base(kind);
    event::Event& e = d.event;
    e.identity = key;
    // A PIM request id joins request and completion; otherwise the grant is named by its holder
    // and role, so that the removal finds it.
    if (request != nullptr) {
      e.correlation_key = "entra:pim-request:" + request->id;
    } else {
      e.correlation_key = "entra:grant:" + key +
                          "|role:" + (role_id.empty() ? (role.empty() ? "-" : role) : role_id);
    }
    if (!role.empty()) e.scope = event::Scope{{}, {role}};
    if (EqualsIgnoreCase(grantee->type, "ServicePrincipal")) {
      e.subject = event::Subject{"service_account", grantee->display, "", "", "entra"};
    }
    Attributes at = Common();
    at.String("role", role);
    at.String("role_id", role_id);
    at.String("grantee_type", grantee->type);
    at.String("grantee_display_name", grantee->display);
    at.String("grantee_upn", grantee->upn);
    e.attributes = at.Finish();
    out->push_back(std::move(d));
    return OkStatus();
  }

  // An operation a service principal performed is a use of that service principal.
  void ActionByApp(std::vector<Draft>* out) {
    const Initiator& in = a_.initiator;
    Draft d;
    d.suffix = "action";
    d.event = Base(event::Kind::kAction);
    event::Event& e = d.event;
    if (!in.sp_id.empty()) {
      e.identity = "entra:sp:" + in.sp_id;
      if (!in.app_id.empty()) e.aliases.push_back("entra:app:" + in.app_id);
    } else {
      e.identity = "entra:app:" + in.app_id;
    }
    event::Scope scope;
    for (const auto& t : a_.targets) {
      if (!t.id.empty() && !t.type.empty()) scope.resources.push_back(ObjectKey(t.type, t.id));
    }
    if (!a_.activity.empty()) scope.permissions.push_back(a_.activity);
    e.scope = scope;
    e.attributes = Common().Finish();
    out->push_back(std::move(d));
  }

  const Audit& a_;
  std::string record_id_;
  ValueReader* values_;
};

// A service principal or managed identity sign-in (Graph signIn fields in `p`).
Result<std::vector<Draft>> MapSignIn(const element& p, std::string_view prefix,
                                     std::string_view category) {
  std::string sp = Str(p, "servicePrincipalId");
  if (sp.empty()) {
    return FieldError(std::string(prefix) + "servicePrincipalId",
                      "missing: cannot name the service principal");
  }
  std::string app = Str(p, "appId");
  std::string key_id = Str(p, "servicePrincipalCredentialKeyId");
  const bool managed = ContainsIgnoreCase(category, "ManagedIdentity") ||
                       (StringAt(p, {"managedIdentityType"}) &&
                        !EqualsIgnoreCase(Str(p, "managedIdentityType"), "none"));
  Draft d;
  d.suffix = "sign-in";
  event::Event& e = d.event;
  e.kind = event::Kind::kAction;
  if (!key_id.empty()) {
    e.identity = "entra:credential:" + key_id;
    e.aliases.push_back("entra:sp:" + sp);
  } else {
    e.identity = "entra:sp:" + sp;
  }
  if (!app.empty()) e.aliases.push_back("entra:app:" + app);
  e.actor = event::Actor{"entra:sp:" + sp, "nhi"};
  e.subject = event::Subject{managed ? "workload" : "service_account",
                             Str(p, "servicePrincipalName"), "", "", "entra"};
  std::string resource = Str(p, "resourceDisplayName");
  if (resource.empty()) resource = Str(p, "resourceId");
  if (!resource.empty()) e.scope = event::Scope{{resource}, {}};
  auto code = internal::AsInt(internal::MemberPath(p, {"status", "errorCode"}));
  if (code) {
    event::Outcome o;
    o.result = *code == 0 ? "success" : "failure";
    if (*code != 0) {
      o.code = std::to_string(*code);
      o.message = std::string(StringAt(p, {"status", "failureReason"}).value_or(""));
    }
    e.outcome = o;
  }
  Attributes at;
  at.String("category", category);
  at.String("ip_address", StringAt(p, {"ipAddress"}));
  at.String("app_id", app);
  at.String("resource_id", StringAt(p, {"resourceId"}));
  at.String("resource_display_name", StringAt(p, {"resourceDisplayName"}));
  at.String("credential_key_id", key_id);
  at.String("credential_thumbprint", StringAt(p, {"servicePrincipalCredentialThumbprint"}));
  at.String("client_credential_type", StringAt(p, {"clientCredentialType"}));
  at.String("managed_identity_type", StringAt(p, {"managedIdentityType"}));
  at.String("correlation_id", StringAt(p, {"correlationId"}));
  e.attributes = at.Finish();
  std::vector<Draft> out;
  out.push_back(std::move(d));
  return out;
}

bool IsServicePrincipalSignInCategory(std::string_view c) {
  return EqualsIgnoreCase(c, "ServicePrincipalSignInLogs") ||
         EqualsIgnoreCase(c, "ManagedIdentitySignInLogs") ||
         EqualsIgnoreCase(c, "MicrosoftServicePrincipalSignInLogs");
}

class EntraImporter final : public Importer {
 public:
  std::string_view format() const override { return kFormat; }

  Result<MapResult> Map(const simdjson::dom::element& record, std::string_view) override {
    if (record.type() != element_type::OBJECT) {
      return FieldError("record", "must be a JSON object");
    }
    auto properties = Member(record, "properties");
    const bool monitor =
        properties && properties->type() == element_type::OBJECT && StringAt(record, {"category"});
    if (monitor) return MapMonitor(record, *properties);
    if (StringAt(record, {"activityDisplayName"})) {
      return MapAudit(record, ReadGraphAudit(record, ""));
    }
    if (StringAt(record, {"Operation"}) && Member(record, "CreationTime")) {
      return MapAudit(record, ReadO365Audit(record));
    }
    if (StringAt(record, {"createdDateTime"}) && StringAt(record, {"appId"})) {
      return MapGraphSignIn(record);
    }
    return FieldError("record", "not a Microsoft Entra ID audit or sign-in record");
  }

 private:
  Result<std::string> RecordId(const element& record, const std::optional<element>& id) {
    if (auto s = internal::ScalarText(id)) return *s;
    return internal::ContentId(record);
  }

  Result<MapResult> MapAudit(const element& record, Audit audit,
                             const std::optional<element>& envelope_time = std::nullopt) {
    audit.activity = NormalizeActivity(audit.activity_raw);
    if (audit.activity.empty()) {
      return FieldError(audit.prefix + "activityDisplayName", "missing: cannot tell what happened");
    }
    NHI_ASSIGN_OR_RETURN(std::string id, RecordId(record, audit.id));
    AuditMapper mapper(audit, id, &values_);
    NHI_ASSIGN_OR_RETURN(auto drafts, mapper.Map());
    if (drafts.empty()) return MapResult{{}, audit.activity};
    std::optional<element> when = audit.time;
    std::string field = audit.time_field;
    if (!when && envelope_time) {
      when = envelope_time;
      field = "time";
    }
    NHI_ASSIGN_OR_RETURN(auto time, internal::ReadTimestamp(when, field));
    return internal::FinishEvents(std::move(drafts), kSourceSystem, id, time, audit.activity);
  }

  Result<MapResult> MapMonitor(const element& record, const element& p) {
    std::string category = Str(record, "category");
    if (EqualsIgnoreCase(category, "AuditLogs") || StringAt(p, {"activityDisplayName"})) {
      Audit audit = ReadGraphAudit(p, "properties.");
      if (audit.activity_raw.empty()) audit.activity_raw = Str(record, "operationName");
      if (audit.category.empty()) audit.category = category;
      if (audit.correlation_id.empty()) audit.correlation_id = Str(record, "correlationId");
      return MapAudit(record, std::move(audit), Member(record, "time"));
    }
    if (IsServicePrincipalSignInCategory(category)) {
      NHI_ASSIGN_OR_RETURN(auto drafts, MapSignIn(p, "properties.", category));
      NHI_ASSIGN_OR_RETURN(std::string id, RecordId(record, Member(p, "id")));
      std::optional<element> when = Member(p, "createdDateTime");
      std::string_view field = "properties.createdDateTime";
      if (!when) {
        when = Member(record, "time");
        field = "time";
      }
      NHI_ASSIGN_OR_RETURN(auto time, internal::ReadTimestamp(when, field));
      return internal::FinishEvents(std::move(drafts), kSourceSystem, id, time, category);
    }
    auto resource = StringAt(record, {"resourceId"});
    if (internal::DetectVendorFormat(record) == internal::VendorFormat::kEntra ||
        (resource && ContainsIgnoreCase(*resource, "/providers/microsoft.aadiam"))) {
      return MapResult{{}, category};  // user sign-ins, provisioning, risk events, ...
    }
    return FieldError("category", "not a Microsoft Entra ID log category: \"" + category + "\"");
  }

  Result<MapResult> MapGraphSignIn(const element& record) {
    // A user's sign-in has no service principal; service principal and managed identity
    // sign-ins name one (and say so in signInEventTypes).
    std::string sp = Str(record, "servicePrincipalId");
    bool user = !Str(record, "userId").empty() || !Str(record, "userPrincipalName").empty();
    if (sp.empty() || user) return MapResult{{}, "signIn"};
    std::string category = "ServicePrincipalSignInLogs";
    for (const auto& t : internal::ArrayItems(Member(record, "signInEventTypes"))) {
      if (auto s = internal::AsString(t); s && EqualsIgnoreCase(*s, "managedIdentity")) {
        category = "ManagedIdentitySignInLogs";
      }
    }
    NHI_ASSIGN_OR_RETURN(auto drafts, MapSignIn(record, "", category));
    NHI_ASSIGN_OR_RETURN(std::string id, RecordId(record, Member(record, "id")));
    NHI_ASSIGN_OR_RETURN(
        auto time, internal::ReadTimestamp(Member(record, "createdDateTime"), "createdDateTime"));
    return internal::FinishEvents(std::move(drafts), kSourceSystem, id, time, category);
  }

  ValueReader values_;
};

}  // namespace

std::unique_ptr<Importer> MakeImporter() { return std::make_unique<EntraImporter>(); }

bool LooksLike(const simdjson::dom::element& record) {
  return internal::DetectVendorFormat(record) == internal::VendorFormat::kEntra;
}

}  // namespace nhitrace::ingest::entra
