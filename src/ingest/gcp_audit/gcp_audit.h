// Importer for Google Cloud Audit Logs (docs/importers/gcp-audit.md).
//
// One record is one LogEntry whose protoPayload is a google.cloud.audit.AuditLog (Admin
// Activity, Data Access, System Event or Policy Denied), as Cloud Logging exports it (sinks to
// Cloud Storage, BigQuery JSON, Pub/Sub message bodies, `gcloud logging read --format=json`).
// It maps service account and service account key lifecycles, short-lived credential issuance
// (GenerateAccessToken, GenerateIdToken, SignJwt) with its delegation chain, IAM policy binding
// changes (SetIamPolicy), and every call made by a service account or workload identity
// principal (an action, its status code kept). Calls by people that change none of these are
// "not NHI-relevant" under their methodName.
//
//   auto importer = gcp_audit::MakeImporter();
//   Result<MapResult> r = importer->Map(record, raw_bytes);
#pragma once

#include <memory>

#include "ingest/importer.h"

namespace simdjson::dom {
class element;
}

namespace nhitrace::ingest::gcp_audit {

// The --format name and the source.system of every event this importer writes.
inline constexpr std::string_view kFormat = "gcp-audit";
inline constexpr std::string_view kSourceSystem = "gcp-audit";

// A new importer. Not thread-safe; one per stream.
std::unique_ptr<Importer> MakeImporter();

// Whether `record` is a Cloud Audit Logs LogEntry (a protoPayload of type AuditLog, or a
// cloudaudit.googleapis.com log name). Mutually exclusive with the other vendor formats'
// LooksLike.
bool LooksLike(const simdjson::dom::element& record);

}  // namespace nhitrace::ingest::gcp_audit
