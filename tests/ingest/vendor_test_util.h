// Test helpers for the vendor importers (gcp_audit, github_audit, okta, entra): mapping a JSON
// text or a JSON Lines sample file record by record, and checking that every produced event
// passes the native decoder's rules unchanged (EncodeContent -> parse -> DecodeNative).
#pragma once

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "event/codec.h"
#include "ingest/importer.h"
#include "json/canonical.h"
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

// Runs a data-driven case file: a JSON array of cases, each
//   {"name": "...", "record": {...vendor record...}, and one of
//    "events": [ {...native event content, any member order...}, ... ]   (in order)
//    "ignored": "<name counted as not NHI-relevant>"
//    "error": "<the quarantine message>" }
// Each produced event must also round-trip through the native decoder. With the environment
// variable NHITRACE_PRINT_CASES=1 the actual results are printed (to write new expectations;
// review them before pasting).
inline void RunCaseFile(const std::function<std::unique_ptr<Importer>()>& make,
                        const std::filesystem::path& file) {
  simdjson::dom::parser parser;
  simdjson::dom::element cases;
  auto padded = simdjson::padded_string::load(file.string());
  ASSERT_EQ(padded.error(), simdjson::SUCCESS) << file;
  ASSERT_EQ(parser.parse(padded.value()).get(cases), simdjson::SUCCESS) << file;
  const bool print = std::getenv("NHITRACE_PRINT_CASES") != nullptr;
  size_t n = 0;
  for (simdjson::dom::element c : json::ArrayOf(cases)) {
    ++n;
    std::string_view name = c["name"].get_string().value_unsafe();
    SCOPED_TRACE(std::string(file.filename()) + ": " + std::string(name));
    simdjson::dom::element record;
    ASSERT_EQ(c["record"].get(record), simdjson::SUCCESS);
    std::string raw = simdjson::minify(record);
    auto importer = make();
    auto r = MapJson(*importer, raw);
    if (print) {
      std::cout << "== " << name << "\n";
      if (!r.ok()) {
        std::cout << "error: " << r.status().message() << "\n";
      } else if (r->events.empty()) {
        std::cout << "ignored: " << r->ignored << "\n";
      } else {
        for (const auto& m : r->events) std::cout << event::EncodeContent(m.event) << "\n";
      }
    }
    simdjson::dom::element want;
    if (c["error"].get(want) == simdjson::SUCCESS) {
      ASSERT_FALSE(r.ok()) << "expected an error";
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
      EXPECT_EQ(r.status().message(), want.get_string().value_unsafe());
      continue;
    }
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    if (c["ignored"].get(want) == simdjson::SUCCESS) {
      EXPECT_TRUE(r->events.empty());
      EXPECT_EQ(r->ignored, want.get_string().value_unsafe());
      continue;
    }
    ASSERT_EQ(c["events"].get(want), simdjson::SUCCESS) << "a case needs events, ignored or error";
    std::vector<std::string> expected;
    for (simdjson::dom::element e : json::ArrayOf(want)) {
      auto canon = json::Canonicalize(simdjson::minify(e));
      ASSERT_TRUE(canon.ok()) << canon.status().ToString();
      expected.push_back(*canon);
    }
    std::vector<std::string> actual;
    for (const auto& m : r->events) {
      EXPECT_TRUE(RoundTrips(m.event));
      actual.push_back(event::EncodeContent(m.event));
    }
    EXPECT_EQ(actual.size(), expected.size());
    for (size_t i = 0; i < std::min(actual.size(), expected.size()); ++i) {
      EXPECT_EQ(actual[i], expected[i]) << "event " << i;
    }
  }
  EXPECT_GT(n, 0u) << file << " has no cases";
}

inline std::filesystem::path CaseFile(const std::string& rel) {
  return std::filesystem::path(NHITRACE_SOURCE_DIR) / "tests" / "ingest" / rel;
}

}  // namespace nhitrace::ingest::testing
