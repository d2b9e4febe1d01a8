// Properties every importer (src/ingest/<format>/) must keep, for the importer fuzz targets.
//
//   - Map's error is kInvalidArgument with a "field: reason" message (non-empty field);
//   - a record mapped without error has events or names what it is (MapResult::ignored);
//   - every event survives the native codec: EncodeContent -> parse -> DecodeNative gives an
//     equal Event (the ingest framework validates events with the decoder's rules).
#pragma once

#include <string>
#include <string_view>

#include <simdjson.h>

#include "base/status.h"
#include "event/codec.h"
#include "fuzz_check.h"
#include "ingest/importer.h"
#include "json/dom.h"

namespace nhitrace::fuzz {

inline void CheckMapError(const Status& st) {
  FUZZ_CHECK(st.code() == StatusCode::kInvalidArgument, st.ToString());
  size_t sep = st.message().find(": ");
  FUZZ_CHECK(sep != std::string::npos && sep > 0 && sep + 2 < st.message().size(), st.message());
}

inline void CheckEvents(const ingest::MapResult& r, bool from_map) {
  if (from_map && r.events.empty()) FUZZ_CHECK(!r.ignored.empty(), "no events and no name");
  for (const ingest::MappedEvent& m : r.events) {
    const std::string content = event::EncodeContent(m.event);
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    FUZZ_CHECK(json::ParseJson(parser, content, &root) == simdjson::SUCCESS, content);
    auto decoded = event::DecodeNative(root);
    FUZZ_CHECK(decoded.ok(), decoded.status().message() + "\n  content: " + content);
    FUZZ_CHECK(decoded->event == m.event,
               "changed through the codec:\n  content: " + content +
                   "\n  decoded: " + event::EncodeContent(decoded->event));
  }
}

// Calls Map and checks the properties above; returns the result.
inline Result<ingest::MapResult> MapAndCheck(ingest::Importer& importer,
                                             const simdjson::dom::element& record,
                                             std::string_view raw) {
  Result<ingest::MapResult> r = importer.Map(record, raw);
  if (!r.ok()) {
    CheckMapError(r.status());
  } else {
    CheckEvents(*r, /*from_map=*/true);
  }
  return r;
}

}  // namespace nhitrace::fuzz
