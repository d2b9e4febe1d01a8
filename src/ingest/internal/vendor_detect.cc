#include "ingest/internal/vendor_detect.h"

#include <array>
#include <string_view>

#include "ingest/internal/vendor_json.h"

namespace nhitrace::ingest::internal {
namespace {

using simdjson::dom::element_type;

bool Has(const element& r, std::string_view name) { return Member(r, name).has_value(); }

bool IsObject(const std::optional<element>& e) { return e && e->type() == element_type::OBJECT; }

// The diagnostic-settings categories of Microsoft Entra ID (Azure Monitor).
bool IsEntraCategory(std::string_view c) {
  static constexpr std::array<std::string_view, 15> kCategories = {
      "AuditLogs",
      "SignInLogs",
      "NonInteractiveUserSignInLogs",
      "ServicePrincipalSignInLogs",
      "ManagedIdentitySignInLogs",
      "ProvisioningLogs",
      "ADFSSignInLogs",
      "RiskyUsers",
      "UserRiskEvents",
      "RiskyServicePrincipals",
      "ServicePrincipalRiskEvents",
      "MicrosoftGraphActivityLogs",
      "NetworkAccessTrafficLogs",
      "EnrichedOffice365AuditLogs",
      "MicrosoftServicePrincipalSignInLogs"};
  for (auto k : kCategories) {
    if (EqualsIgnoreCase(c, k)) return true;
  }
  return false;
}

bool LooksGcp(const element& r) {
  auto proto = Member(r, "protoPayload");
  if (!IsObject(proto)) return false;
  if (auto type = StringAt(*proto, {"@type"});
      type && ContainsIgnoreCase(*type, "audit.AuditLog")) {
    return true;
  }
  if (auto log = StringAt(r, {"logName"});
      log && ContainsIgnoreCase(*log, "cloudaudit.googleapis.com")) {
    return true;
  }
  return StringAt(*proto, {"methodName"}) && StringAt(*proto, {"serviceName"});
}

bool LooksOktaEvent(const element& r) {
  if (!StringAt(r, {"eventType"})) return false;
  // CloudTrail records also have an "eventType" (AwsApiCall); they have eventName/eventSource.
  if (Has(r, "eventName") || Has(r, "eventSource")) return false;
  if (auto panther = StringAt(r, {"p_log_type"}); panther && StartsWith(*panther, "Okta.")) {
    return true;  // Panther's export names the log type
  }
  return IsObject(Member(r, "actor")) || StringAt(r, {"uuid"}) || Has(r, "published") ||
         Has(r, "legacyEventType") || IsObject(Member(r, "outcome"));
}

bool LooksOkta(const element& r) {
  if (LooksOktaEvent(r)) return true;
  // Okta's Amazon EventBridge log stream: the event in "detail".
  auto source = StringAt(r, {"source"});
  auto detail = Member(r, "detail");
  return source && StartsWith(*source, "aws.partner/okta.com") && IsObject(detail) &&
         LooksOktaEvent(*detail);
}

bool LooksGithub(const element& r) {
  auto action = StringAt(r, {"action"});
  if (!action || action->find('.') == std::string_view::npos) return false;
  if (Has(r, "eventType") || Has(r, "eventName") || Has(r, "Operation") ||
      Has(r, "operationName")) {
    return false;
  }
  return Has(r, "actor") || Has(r, "actor_id") || Has(r, "_document_id") || Has(r, "@timestamp") ||
         Has(r, "created_at") || Has(r, "org") || Has(r, "business");
}

bool LooksEntra(const element& r) {
  // Microsoft Graph directoryAudit.
  if (StringAt(r, {"activityDisplayName"}) &&
      (Has(r, "targetResources") || Has(r, "initiatedBy") || Has(r, "activityDateTime"))) {
    return true;
  }
  // Azure Monitor diagnostic settings (Event Hub, storage, Log Analytics export).
  if (IsObject(Member(r, "properties"))) {
    if (auto c = StringAt(r, {"category"}); c && IsEntraCategory(*c)) return true;
    if (auto id = StringAt(r, {"resourceId"});
        id && ContainsIgnoreCase(*id, "/providers/microsoft.aadiam")) {
      return true;
    }
  }
  // Office 365 Management Activity API, Azure AD workload (record types 8, 9, 15).
  if (StringAt(r, {"Operation"}) && Has(r, "CreationTime")) {
    if (auto w = StringAt(r, {"Workload"}); w && EqualsIgnoreCase(*w, "AzureActiveDirectory")) {
      return true;
    }
    auto type = AsInt(Member(r, "RecordType"));
    if (type && (*type == 8 || *type == 9 || *type == 15)) return true;
  }
  // Microsoft Graph signIn (service principal and managed identity sign-ins).
  return StringAt(r, {"createdDateTime"}) && StringAt(r, {"appId"}) &&
         (Has(r, "servicePrincipalId") || Has(r, "userId")) && IsObject(Member(r, "status"));
}

}  // namespace

VendorFormat DetectVendorFormat(const element& record) {
  if (record.type() != element_type::OBJECT) return VendorFormat::kNone;
  if (Has(record, "protoPayload")) {
    return LooksGcp(record) ? VendorFormat::kGcpAudit : VendorFormat::kNone;
  }
  if (LooksOkta(record)) return VendorFormat::kOkta;
  if (LooksGithub(record)) return VendorFormat::kGithubAudit;
  if (LooksEntra(record)) return VendorFormat::kEntra;
  return VendorFormat::kNone;
}

}  // namespace nhitrace::ingest::internal
