// Test harness for importers (src/ingest/<format>/): feeds records one at a time, checks every
// event it gets back against the native decoder's rules, and runs data-driven case files.
//
//   ImporterHarness h(vault::MakeImporter());
//   auto r = h.Map(line);          // parses `line`, calls Importer::Map, checks the events
//   auto f = h.Finish();
//   RunCaseFile(path, [] { return vault::MakeImporter(); });
//
// Checks made on every event (failures are reported with ADD_FAILURE, so a test continues):
//   - round trip: event::EncodeContent -> parse -> event::DecodeNative gives back an equal Event
//     (so the framework, which validates with the decoder's rules, accepts it unchanged);
//   - record identity: an event whose (source system, time instant, source event id) equals that
//     of an event this harness saw before has the same content (the same record seen twice, as
//     ingest would store it once); different content under one identity would be a conflict.
//
// Case files are a JSON array of cases:
//   {"name": "...",
//    "records": [<record>, ...],            mapped in order (each minified to its raw bytes)
//    "results": [<result>, ...],            one per record
//    "finish": [<event>, ...]}              optional: the events Finish() returns
// where <result> is {"events": [<event>, ...]} (optionally with "raw_of": [i, ...], the index of
// the record each event's MappedEvent::raw holds, -1 for none), {"ignored": "<name>"} or
// {"error": "<exact message>"}, and <event> is a pattern matched against the event's native
// content: every member it names must match (objects recursively, arrays element by element,
// other values exactly); a member whose pattern is null must be absent.
#pragma once

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
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

// Reads a file whole.
inline std::string ReadFileOrDie(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << p;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The non-blank lines of a JSON Lines file.
inline std::vector<std::string> ReadLines(const std::filesystem::path& p) {
  std::vector<std::string> out;
  std::istringstream in(ReadFileOrDie(p));
  std::string line;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") != std::string::npos) out.push_back(line);
  }
  return out;
}

// Checks that `e` survives the native codec unchanged; returns false (and reports) otherwise.
inline bool ExpectNativeRoundTrip(const event::Event& e) {
  const std::string content = event::EncodeContent(e);
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (json::ParseJson(parser, content, &root) != simdjson::SUCCESS) {
    ADD_FAILURE() << "content does not parse: " << content;
    return false;
  }
  auto decoded = event::DecodeNative(root);
  if (!decoded.ok()) {
    ADD_FAILURE() << "the native decoder rejects the event: " << decoded.status().message()
                  << "\n  content: " << content;
    return false;
  }
  if (!(decoded->event == e)) {
    ADD_FAILURE() << "the event changed through the codec\n  content: " << content
                  << "\n  decoded: " << event::EncodeContent(decoded->event);
    return false;
  }
  return true;
}

class ImporterHarness {
 public:
  explicit ImporterHarness(std::unique_ptr<Importer> importer) : importer_(std::move(importer)) {}

  Importer& importer() { return *importer_; }

  // Parses `raw` as one record and maps it. A record that is not JSON is a test bug.
  Result<MapResult> Map(std::string_view raw) {
    simdjson::dom::element root;
    auto err = json::ParseJson(parser_, raw, &root);
    EXPECT_EQ(err, simdjson::SUCCESS) << "test record is not JSON: " << raw;
    if (err != simdjson::SUCCESS) return InternalError("test record is not JSON");
    Result<MapResult> r = importer_->Map(root, raw);
    if (r.ok()) {
      if (r->events.empty()) {
        EXPECT_FALSE(r->ignored.empty()) << "a record with no events must name what it is";
      }
      Check(*r);
    }
    return r;
  }

  Result<MapResult> Finish() {
    Result<MapResult> r = importer_->Finish();
    if (r.ok()) Check(*r);
    return r;
  }

 private:
  void Check(const MapResult& r) {
    for (const MappedEvent& m : r.events) {
      ExpectNativeRoundTrip(m.event);
      auto key = std::make_tuple(m.event.source_system, m.event.time_ns, m.event.source_event_id);
      std::string content = event::EncodeContent(m.event);
      auto [it, inserted] = seen_.emplace(key, content);
      EXPECT_TRUE(inserted || it->second == content)
          << "two events with different content share the record identity ("
          << m.event.source_system << ", " << m.event.time << ", " << m.event.source_event_id
          << ")\n  first: " << it->second << "\n  now:   " << content;
    }
  }

  std::unique_ptr<Importer> importer_;
  simdjson::dom::parser parser_;
  std::map<std::tuple<std::string, int64_t, std::string>, std::string> seen_;
};

// Whether `actual` matches the pattern `want` (see the file comment); explains the first
// mismatch in *why.
inline bool MatchesPattern(const simdjson::dom::element& want, const simdjson::dom::element& actual,
                           const std::string& path, std::string* why) {
  using simdjson::dom::element_type;
  if (want.type() == element_type::OBJECT) {
    if (actual.type() != element_type::OBJECT) {
      *why = path + ": expected an object";
      return false;
    }
    for (auto kv : json::ObjectOf(want)) {
      std::string p = path + "." + std::string(kv.key);
      simdjson::dom::element got;
      bool present = json::ObjectOf(actual).at_key(kv.key).get(got) == simdjson::SUCCESS;
      if (kv.value.type() == element_type::NULL_VALUE) {
        if (present) {
          *why = p + ": expected absent";
          return false;
        }
        continue;
      }
      if (!present) {
        *why = p + ": missing";
        return false;
      }
      if (!MatchesPattern(kv.value, got, p, why)) return false;
    }
    return true;
  }
  if (want.type() == element_type::ARRAY) {
    if (actual.type() != element_type::ARRAY) {
      *why = path + ": expected an array";
      return false;
    }
    auto w = json::ArrayOf(want);
    auto a = json::ArrayOf(actual);
    if (w.size() != a.size()) {
      *why = path + ": expected " + std::to_string(w.size()) + " items, got " +
             std::to_string(a.size());
      return false;
    }
    size_t i = 0;
    auto ai = a.begin();
    for (simdjson::dom::element item : w) {
      if (!MatchesPattern(item, *ai, path + "[" + std::to_string(i) + "]", why)) return false;
      ++ai;
      ++i;
    }
    return true;
  }
  std::string cw, ca;
  if (!json::AppendCanonical(want, &cw).ok() || !json::AppendCanonical(actual, &ca).ok() ||
      cw != ca) {
    *why = path + ": expected " + cw + ", got " + ca;
    return false;
  }
  return true;
}

// Checks `events` against the patterns in `want` (an array).
inline void ExpectEvents(const simdjson::dom::element& want, const std::vector<MappedEvent>& events,
                         const std::string& where) {
  auto patterns = json::ArrayOf(want);
  std::string all;
  for (const auto& m : events) all += "\n    " + event::EncodeContent(m.event);
  ASSERT_EQ(patterns.size(), events.size()) << where << ": event count; got:" << all;
  size_t i = 0;
  for (simdjson::dom::element pattern : patterns) {
    const std::string content = event::EncodeContent(events[i].event);
    simdjson::dom::parser p;
    simdjson::dom::element actual;
    ASSERT_EQ(json::ParseJson(p, content, &actual), simdjson::SUCCESS);
    std::string why;
    EXPECT_TRUE(MatchesPattern(pattern, actual, "event[" + std::to_string(i) + "]", &why))
        << where << ": " << why << "\n  got: " << content;
    ++i;
  }
}

// Runs every case of a case file, each with a fresh importer from `make`.
inline void RunCaseFile(const std::filesystem::path& file,
                        const std::function<std::unique_ptr<Importer>()>& make) {
  simdjson::dom::parser parser;
  simdjson::dom::element cases;
  const std::string text = ReadFileOrDie(file);
  ASSERT_EQ(json::ParseJson(parser, text, &cases), simdjson::SUCCESS) << file;
  ASSERT_EQ(cases.type(), simdjson::dom::element_type::ARRAY) << file;
  size_t n = 0;
  for (simdjson::dom::element c : json::ArrayOf(cases)) {
    std::string name(c["name"].get_string().value());
    SCOPED_TRACE("case \"" + name + "\"");
    ImporterHarness h(make());
    std::vector<std::string> raws;
    for (simdjson::dom::element rec : json::ArrayOf(c["records"].value())) {
      raws.push_back(simdjson::minify(rec));
    }
    auto results = json::ArrayOf(c["results"].value());
    ASSERT_EQ(results.size(), raws.size()) << "one result per record";
    size_t i = 0;
    for (simdjson::dom::element want : results) {
      std::string where = name + ", record " + std::to_string(i);
      Result<MapResult> got = h.Map(raws[i]);
      simdjson::dom::element v;
      if (want["error"].get(v) == simdjson::SUCCESS) {
        ASSERT_FALSE(got.ok()) << where << ": expected error " << v;
        EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument) << where;
        EXPECT_EQ(got.status().message(), std::string(v.get_string().value())) << where;
      } else {
        ASSERT_TRUE(got.ok()) << where << ": " << got.status().ToString();
        if (want["ignored"].get(v) == simdjson::SUCCESS) {
          EXPECT_TRUE(got->events.empty()) << where;
          EXPECT_EQ(got->ignored, std::string(v.get_string().value())) << where;
        } else {
          ExpectEvents(want["events"].value(), got->events, where);
          simdjson::dom::element raw_of;
          if (want["raw_of"].get(raw_of) == simdjson::SUCCESS) {
            size_t j = 0;
            for (simdjson::dom::element idx : json::ArrayOf(raw_of)) {
              int64_t k = idx.get_int64().value();
              ASSERT_LT(j, got->events.size()) << where;
              const auto& raw = got->events[j].raw;
              if (k < 0) {
                EXPECT_FALSE(raw.has_value()) << where << ": event " << j;
              } else {
                ASSERT_TRUE(raw.has_value()) << where << ": event " << j;
                EXPECT_EQ(*raw, raws[static_cast<size_t>(k)]) << where << ": event " << j;
              }
              ++j;
            }
          } else {
            for (const auto& m : got->events) {
              EXPECT_FALSE(m.raw.has_value()) << where << ": events are from the record itself";
            }
          }
        }
      }
      ++i;
    }
    Result<MapResult> fin = h.Finish();
    ASSERT_TRUE(fin.ok()) << fin.status().ToString();
    simdjson::dom::element finish;
    if (c["finish"].get(finish) == simdjson::SUCCESS) {
      ExpectEvents(finish, fin->events, name + ", finish");
    } else {
      EXPECT_TRUE(fin->events.empty()) << name << ": Finish() returned events";
    }
    ++n;
  }
  EXPECT_GT(n, 0u) << "no cases in " << file;
}

}  // namespace nhitrace::ingest::testing
