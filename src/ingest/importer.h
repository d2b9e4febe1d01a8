// Importers: vendor audit records in, native events out.
//
// An importer maps one source record (a CloudTrail record, a Vault audit entry, a Kubernetes
// audit Event, ...) to zero or more events. The framework (ingest/ingest.h) frames the input
// into records (JSON Lines, a JSON array, CloudTrail's {"Records":[...]}, any of them gzipped),
// hands each record to the importer, validates every event it returns with the native decoder's
// rules, and appends it with the record's exact bytes as its raw record. So an importer only
// translates; it never writes to the store.
//
// Every record ends up in exactly one of three places, so nothing is dropped silently:
//   - events: MapResult::events is not empty;
//   - "not NHI-relevant": no events, and MapResult::ignored names the record (its event name);
//   - quarantine: Map returns an error (kInvalidArgument, message "field.path: reason").
//
// Identity of records: each event's (source_system, time, source_event_id) must be the same
// every time the same source record is imported (ingesting a file twice stores it once) and
// differ between different events. When one record yields several events, suffix the source's
// record id ("<eventID>", "<eventID>#issued-key", ...) and document it in docs/importers/.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "event/event.h"

namespace simdjson::dom {
class element;
}

namespace nhitrace::ingest {

struct MappedEvent {
  event::Event event;
  // The bytes of the source record the event was made from, when that is not the record being
  // mapped (an importer that pairs records, such as Vault's request and response, may hold one
  // back and emit it later; it was counted when it was held). Empty: the record just passed to
  // Map.
  std::optional<std::string> raw;
};

struct MapResult {
  std::vector<MappedEvent> events;
  // When `events` is empty: what the record is, for the "not NHI-relevant" count by name
  // ("s3:GetBucketAcl", "get /api/v1/pods"). Must not be empty then. A record the importer
  // holds back (a request waiting for its response) is reported here as well, under a name
  // that says so ("request (held for its response)"); if its events come later (MappedEvent
  // with `raw`), they are appended but the record is not counted a second time.
  std::string ignored;
};

class Importer {
 public:
  virtual ~Importer() = default;

  // The --format name: "cloudtrail", "vault", "k8s-audit", "gcp-audit", "github-audit", "okta",
  // "entra".
  virtual std::string_view format() const = 0;

  // Maps one record. `raw` is the record's exact bytes (what `record` was parsed from);
  // `record` is always a JSON object (the framework quarantines anything else).
  // An error quarantines the record with the error's message; the stream goes on.
  virtual Result<MapResult> Map(const simdjson::dom::element& record, std::string_view raw) = 0;

  // At the end of the stream: events still held back (e.g. a request whose response never came).
  virtual Result<MapResult> Finish() { return MapResult{}; }
};

// A new importer for a --format name, or nullptr if there is none by that name.
std::unique_ptr<Importer> MakeImporter(std::string_view format);

// The importer formats, in the order `--format auto` tries them.
const std::vector<std::string>& ImporterFormats();

// Whether `record` looks like a record of `format` (for --format auto: the first record of a
// stream decides). Cheap: looks at a few members only.
bool LooksLike(std::string_view format, const simdjson::dom::element& record);

}  // namespace nhitrace::ingest
