// Importer for Microsoft Entra ID (Azure AD) audit and sign-in logs (docs/importers/entra.md).
//
// One record is one of:
//   - a Microsoft Graph directoryAudit (/auditLogs/directoryAudits) or signIn;
//   - an Azure Monitor diagnostic-settings record of an Entra ID log category (AuditLogs,
//     ServicePrincipalSignInLogs, ... as Event Hubs, storage accounts and Log Analytics exports
//     write them: the Graph record in "properties");
//   - an Office 365 Management Activity API record of the Azure AD workload.
// Service principal and application creation and deletion, credentials added to or removed
// from them (one event per key, `entra:credential:<keyId>`), app role assignments to service
// principals and directory role assignments map to provision, revocation and request events;
// service principal and managed identity sign-ins, and every audited operation a service
// principal initiated, are actions. User sign-ins and other operations are "not NHI-relevant"
// under their category or activity name.
//
//   auto importer = entra::MakeImporter();
//   Result<MapResult> r = importer->Map(record, raw_bytes);
#pragma once

#include <memory>

#include "ingest/importer.h"

namespace simdjson::dom {
class element;
}

namespace nhitrace::ingest::entra {

// The --format name and the source.system of every event this importer writes.
inline constexpr std::string_view kFormat = "entra";
inline constexpr std::string_view kSourceSystem = "entra";

// A new importer. Not thread-safe; one per stream.
std::unique_ptr<Importer> MakeImporter();

// Whether `record` is an Entra ID audit or sign-in record in one of the shapes above.
// Mutually exclusive with the other vendor formats' LooksLike.
bool LooksLike(const simdjson::dom::element& record);

}  // namespace nhitrace::ingest::entra
