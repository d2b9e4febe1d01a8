// Importer for the GitHub audit log (docs/importers/github-audit.md).
//
// One record is one audit log event as GitHub streams and exports it (enterprise and
// organization audit log streaming, the REST API, JSON exports): a flat object with "action",
// "actor", "@timestamp" (epoch milliseconds) and "_document_id". Token lifecycles (fine-grained
// and classic personal access tokens, OAuth tokens, their organization access requests and
// grants), deploy keys and SSH keys, and GitHub App installations map to request, approval,
// provision, rotation and revocation events; every event that carries token data (token_id,
// hashed_token, token_scopes: api.request and git events) is an action of that token; events of
// bots are actions of their app. The rest is "not NHI-relevant" under its action name.
//
//   auto importer = github_audit::MakeImporter();
//   Result<MapResult> r = importer->Map(record, raw_bytes);
#pragma once

#include <memory>

#include "ingest/importer.h"

namespace simdjson::dom {
class element;
}

namespace nhitrace::ingest::github_audit {

// The --format name and the source.system of every event this importer writes.
inline constexpr std::string_view kFormat = "github-audit";
inline constexpr std::string_view kSourceSystem = "github-audit";

// A new importer. Not thread-safe; one per stream.
std::unique_ptr<Importer> MakeImporter();

// Whether `record` is a GitHub audit log event (a dotted "action" plus actor, @timestamp,
// _document_id, created_at or org). Mutually exclusive with the other vendor formats' LooksLike.
bool LooksLike(const simdjson::dom::element& record);

}  // namespace nhitrace::ingest::github_audit
