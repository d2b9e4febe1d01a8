// The body shared by the vendor importer targets (gcp_audit_fuzz, github_audit_fuzz, okta_fuzz,
// entra_fuzz): one record through the steps of ingest (UTF-8 check, simdjson DOM parse,
// LooksLike, Importer::Map, Finish).
//
// Properties:
//   - a rejection is kInvalidArgument with a "field: reason" message (the framework
//     quarantines it with that message);
//   - an accepted record gives events, or none and a non-empty "not NHI-relevant" name;
//   - every event carries the importer's source system and passes the native decoder's
//     rules unchanged: EncodeContent -> parse -> DecodeNative gives an equal event, and its
//     content is canonical JSON;
//   - mapping is deterministic: a second importer maps the same record to equal events, and
//     the same parsed record mapped twice by one importer gives equal events;
//   - LooksLike never throws and at most one vendor format claims the record.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "base/utf8.h"
#include "event/codec.h"
#include "fuzz_check.h"
#include "ingest/entra/entra.h"
#include "ingest/gcp_audit/gcp_audit.h"
#include "ingest/github_audit/github_audit.h"
#include "ingest/importer.h"
#include "ingest/okta/okta.h"
#include "json/canonical.h"
#include "json/dom.h"

namespace nhitrace::fuzz {

inline void CheckEvent(const event::Event& e, std::string_view system) {
  FUZZ_CHECK(e.source_system == system, e.source_system);
  const std::string content = event::EncodeContent(e);
  auto canon = json::Canonicalize(content);
  FUZZ_CHECK(canon.ok() && *canon == content, content);
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  FUZZ_CHECK(json::ParseJson(parser, content, &root) == simdjson::SUCCESS, content);
  auto decoded = event::DecodeNative(root);
  FUZZ_CHECK(decoded.ok(), decoded.status().ToString() + "\n  content: " + content);
  FUZZ_CHECK(decoded->event == e, "changed through the codec:\n  built:   " + content +
                                      "\n  decoded: " + event::EncodeContent(decoded->event));
}

inline void CheckResult(const Result<ingest::MapResult>& r, std::string_view system) {
  if (!r.ok()) {
    const Status& st = r.status();
    FUZZ_CHECK(st.code() == StatusCode::kInvalidArgument, st.ToString());
    size_t sep = st.message().find(": ");
    FUZZ_CHECK(sep != std::string::npos && sep > 0 && sep + 2 < st.message().size(), st.message());
    return;
  }
  if (r->events.empty()) FUZZ_CHECK(!r->ignored.empty(), "no events and no name");
  for (const auto& m : r->events) CheckEvent(m.event, system);
}

inline bool SameResult(const Result<ingest::MapResult>& a, const Result<ingest::MapResult>& b) {
  if (a.ok() != b.ok()) return false;
  if (!a.ok()) return a.status() == b.status();
  if (a->ignored != b->ignored || a->events.size() != b->events.size()) return false;
  for (size_t i = 0; i < a->events.size(); ++i) {
    if (!(a->events[i].event == b->events[i].event)) return false;
  }
  return true;
}

inline int FuzzImporter(const uint8_t* data, size_t size,
                        std::unique_ptr<ingest::Importer> (*make)()) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (!IsValidUtf8(text)) return 0;
  static simdjson::dom::parser parser;
  simdjson::dom::element record;
  if (json::ParseJson(parser, text, &record) != simdjson::SUCCESS) return 0;

  int claims = ingest::gcp_audit::LooksLike(record) + ingest::github_audit::LooksLike(record) +
               ingest::okta::LooksLike(record) + ingest::entra::LooksLike(record);
  FUZZ_CHECK(claims <= 1, text);

  static std::unique_ptr<ingest::Importer> importer = make();  // reused, as in a stream
  const std::string system(importer->format());
  auto first = importer->Map(record, text);
  CheckResult(first, system);
  auto again = importer->Map(record, text);
  FUZZ_CHECK(SameResult(first, again), "a second Map of the same record differs");
  auto fresh = make()->Map(record, text);
  FUZZ_CHECK(SameResult(first, fresh), "a new importer maps the record differently");
  auto finish = importer->Finish();
  FUZZ_CHECK(finish.ok() && finish->events.empty(), "these importers hold nothing back");
  return 0;
}

}  // namespace nhitrace::fuzz
