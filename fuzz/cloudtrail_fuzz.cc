// Fuzzes the CloudTrail importer (src/ingest/cloudtrail/) on one record: the input is parsed as
// JSON as the ingest framework parses a framed record, then LooksLike and Map run on it.
//
// Properties:
//   - Map never crashes and an error is kInvalidArgument with a "field: reason" message (the
//     framework quarantines the record with it);
//   - a record maps to events or to a non-empty "not NHI-relevant" name, never both or neither;
//   - every event survives the native decoder: EncodeContent -> parse -> DecodeNative gives an
//     equal Event (ingest validates importer output this way and would quarantine it), and the
//     events of one record have distinct source ids in source system "aws-cloudtrail";
//   - mapping the same record again gives the same result.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "base/utf8.h"
#include "event/codec.h"
#include "fuzz_check.h"
#include "ingest/cloudtrail/cloudtrail.h"
#include "json/dom.h"

namespace {

using nhitrace::StatusCode;
namespace event = nhitrace::event;

void CheckRoundTrip(const event::Event& e) {
  static simdjson::dom::parser parser;
  const std::string content = event::EncodeContent(e);
  simdjson::dom::element root;
  FUZZ_CHECK(nhitrace::json::ParseJson(parser, content, &root) == simdjson::SUCCESS, content);
  auto rec = event::DecodeNative(root);
  FUZZ_CHECK(rec.ok(), rec.status().ToString() + "\n  content: " + content);
  FUZZ_CHECK(rec->event == e, "changed through the decoder:\n  before: " + content +
                                  "\n  after:  " + event::EncodeContent(rec->event));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  if (!nhitrace::IsValidUtf8(input)) return 0;
  static simdjson::dom::parser parser;
  simdjson::dom::element record;
  if (nhitrace::json::ParseJson(parser, input, &record) != simdjson::SUCCESS) return 0;

  (void)nhitrace::ingest::cloudtrail::LooksLike(record);
  auto importer = nhitrace::ingest::cloudtrail::MakeImporter();
  auto result = importer->Map(record, input);
  if (!result.ok()) {
    const auto& st = result.status();
    FUZZ_CHECK(st.code() == StatusCode::kInvalidArgument, st.ToString());
    size_t sep = st.message().find(": ");
    FUZZ_CHECK(sep != std::string::npos && sep > 0 && sep + 2 < st.message().size(), st.message());
    return 0;
  }
  FUZZ_CHECK(result->events.empty() != result->ignored.empty(),
             "events: " + std::to_string(result->events.size()) + ", ignored: " + result->ignored);
  std::set<std::string> ids;
  for (const auto& m : result->events) {
    FUZZ_CHECK(!m.raw.has_value());
    FUZZ_CHECK(m.event.source_system == nhitrace::ingest::cloudtrail::kSourceSystem);
    FUZZ_CHECK(ids.insert(m.event.source_event_id).second, m.event.source_event_id);
    CheckRoundTrip(m.event);
  }
  auto again = importer->Map(record, input);
  FUZZ_CHECK(again.ok() && again->events.size() == result->events.size() &&
             again->ignored == result->ignored);
  for (size_t i = 0; i < again->events.size(); ++i) {
    FUZZ_CHECK(again->events[i].event == result->events[i].event);
  }
  return 0;
}
