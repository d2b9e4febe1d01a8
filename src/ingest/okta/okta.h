// Importer for the Okta System Log (docs/importers/okta.md).
//
// One record is one System Log event (LogEvent of /api/v1/logs, or the same event in Okta's
// Amazon EventBridge log stream, inside "detail"). API token creation and revocation become
// provision and revocation events of `okta:api-token:<id>`; admin privilege grants to users,
// groups and OAuth service apps become provision/revocation events with the privileges as scope;
// every other eventType is "not NHI-relevant" under its eventType.
//
//   auto importer = okta::MakeImporter();
//   Result<MapResult> r = importer->Map(record, raw_bytes);
#pragma once

#include <memory>

#include "ingest/importer.h"

namespace simdjson::dom {
class element;
}

namespace nhitrace::ingest::okta {

// The --format name and the source.system of every event this importer writes.
inline constexpr std::string_view kFormat = "okta";
inline constexpr std::string_view kSourceSystem = "okta";

// A new importer. Not thread-safe; one per stream.
std::unique_ptr<Importer> MakeImporter();

// Whether `record` is an Okta System Log event (eventType plus actor/uuid/published), or one in
// an EventBridge envelope. Mutually exclusive with the other vendor formats' LooksLike.
bool LooksLike(const simdjson::dom::element& record);

}  // namespace nhitrace::ingest::okta
