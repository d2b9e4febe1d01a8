// Test helpers for the vendor importers (gcp_audit, github_audit, okta, entra): mapping a JSON
// text or a JSON Lines sample file record by record, and checking that every produced event
// passes the native decoder's rules unchanged (EncodeContent -> parse -> DecodeNative).
#pragma once

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "event/codec.h"
#include "ingest/importer.h"
#include "json/dom.h"

namespace nhitrace::ingest::testing {

// Whether `e` survives the native schema: its canonical content decodes to an equal event.
inline ::testing::AssertionResult RoundTrips(const event::Event& e) {
  std::string content = event::EncodeContent(e);
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (json::ParseJson(parser, content, &root) != simdjson::SUCCESS) {
    return ::testing::AssertionFailure() << "content is not JSON: " << content;
  }
  auto decoded = event::DecodeNative(root);
  if (!decoded.ok()) {
    return ::testing::AssertionFailure()
           << "rejected by the native decoder: " << decoded.status().message() << "\n  " << content;
  }
  if (!(decoded->event == e)) {
    return ::testing::AssertionFailure() << "changed through the codec:\n  built:   " << content
                                         << "\n  decoded: " << event::EncodeContent(decoded->event);
  }
  return ::testing::AssertionSuccess();
}

// Maps one JSON text. The document lives only for the call, as in the framework.
inline Result<MapResult> MapJson(Importer& importer, std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (json::ParseJson(parser, json, &root) != simdjson::SUCCESS) {
    return InvalidArgumentError("test input is not JSON");
  }
  return importer.Map(root, json);
}

inline std::vector<std::string> ReadLines(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    lines.push_back(line);
  }
  return lines;
}

struct MappedLine {
  size_t line = 0;  // 1-based
  std::string raw;
  Result<MapResult> result = InvalidArgumentError("not mapped");
};

// Maps every non-blank line of a JSON Lines file.
inline std::vector<MappedLine> MapFile(Importer& importer, const std::filesystem::path& path) {
  std::vector<MappedLine> out;
  size_t n = 0;
  for (auto& line : ReadLines(path)) {
    MappedLine m;
    m.line = ++n;
    m.raw = line;
    m.result = MapJson(importer, line);
    out.push_back(std::move(m));
  }
  return out;
}

// All events of the successfully mapped lines, in order.
inline std::vector<event::Event> EventsOf(const std::vector<MappedLine>& lines) {
  std::vector<event::Event> out;
  for (const auto& l : lines) {
    if (!l.result.ok()) continue;
    for (const auto& m : l.result->events) out.push_back(m.event);
  }
  return out;
}

// The (source system, time instant, source id) pairs that occur more than once with different
// content: what the store would quarantine as conflicts.
inline std::set<std::string> ConflictingIds(const std::vector<event::Event>& events) {
  std::map<std::tuple<std::string, int64_t, std::string>, std::string> seen;
  std::set<std::string> conflicts;
  for (const auto& e : events) {
    auto key = std::make_tuple(e.source_system, e.time_ns, e.source_event_id);
    std::string content = event::EncodeContent(e);
    auto [it, inserted] = seen.emplace(key, content);
    if (!inserted && it->second != content) conflicts.insert(e.source_event_id);
  }
  return conflicts;
}

inline std::string AttributesOf(const event::Event& e) { return e.attributes; }

}  // namespace nhitrace::ingest::testing
