// The lines of an evidence pack (docs/format/evidence-pack.md, versions 1 and 2): their
// in-memory form, their encoding, and a strict parser.
//
// A pack is JSON Lines: one canonical JSON object (RFC 8785) per line, each line ending in "\n",
// in this order:
//
//   header        {"events":N,"format":"nhitrace-evidence-pack","version":1}  (2 for a case)
//   key           {"part":"key","verifier_key":"<name>+<id>+<key>"}
//   checkpoint    {"note":"<signed checkpoint>","part":"checkpoint"}
//   consistency   {"hashes":[...],"latest":"<signed checkpoint>","part":"consistency"}
//   event  x N {"leaf":"<leaf>","part":"event","proof":[...],"raw":"<b64>","salt":"<b64>","seq":S}
//   policy x M    {"events":[S,...],"id":"<policy id>","part":"policy","version":"<v>"}
//   summary       {"json":{...},"part":"summary","query":{...},"text":"...","type":"trace"}
//
// Parsing is strict: an unknown, duplicate or missing member, a wrong type, or base64 that is
// not the one canonical encoding of its bytes is an error naming the member. Every member is
// checked by VerifyPack; nothing in a pack is informational only.
//
//   LineParser p;
//   NHI_ASSIGN_OR_RETURN(PackLine line, p.Parse(R"({"part":"key","verifier_key":"..."})"));
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <simdjson.h>

#include "base/status.h"
#include "tlog/merkle.h"

namespace nhitrace::evidence {

inline constexpr char kPackFormat[] = "nhitrace-evidence-pack";
// The pack format versions this code reads: 1 (identity, request and window packs) and 2 (case
// packs). Each query has exactly one version (PackVersionFor).
inline constexpr int kPackVersion1 = 1;
inline constexpr int kPackVersion = 2;  // the newest

// What a pack is about: exactly one of an identity (any of its keys), a request id, a window of
// authoritative time [from, to) (RFC 3339 strings, kept as given), or a case.
struct PackQuery {
  std::string identity;
  std::string request;
  std::string from, to;
  std::optional<uint64_t> case_id;
  friend bool operator==(const PackQuery&, const PackQuery&) = default;

  static PackQuery ForIdentity(std::string key) {
    PackQuery q;
    q.identity = std::move(key);
    return q;
  }
  static PackQuery ForRequest(std::string id) {
    PackQuery q;
    q.request = std::move(id);
    return q;
  }
  static PackQuery ForWindow(std::string from, std::string to) {
    PackQuery q;
    q.from = std::move(from);
    q.to = std::move(to);
    return q;
  }
  static PackQuery ForCase(uint64_t id) {
    PackQuery q;
    q.case_id = id;
    return q;
  }
};

// kInvalidArgument unless exactly one of identity, request, from+to and case is given, and
// from/to are RFC 3339 instants with from <= to.
Status ValidateQuery(const PackQuery& query);
// "identity KEY", "request ID", "from T1 to T2" or "case N", for messages.
std::string DescribeQuery(const PackQuery& query);
// The format version of a pack for `query`: 2 for a case, 1 for the others (written so, and
// required so by VerifyPack: a version 1 pack keeps being one).
int PackVersionFor(const PackQuery& query);

struct HeaderLine {
  int64_t version = kPackVersion;
  uint64_t events = 0;  // the number of event lines
  friend bool operator==(const HeaderLine&, const HeaderLine&) = default;
};

struct KeyLine {
  std::string verifier_key;
  friend bool operator==(const KeyLine&, const KeyLine&) = default;
};

// The signed checkpoint every inclusion proof of the pack is against.
struct CheckpointLine {
  std::string note;
  friend bool operator==(const CheckpointLine&, const CheckpointLine&) = default;
};

// The latest checkpoint when the pack was made, and the proof that the checkpoint above is a
// prefix of it (RFC 9162 section 2.1.4).
struct ConsistencyLine {
  std::vector<tlog::Hash> hashes;
  std::string latest;
  friend bool operator==(const ConsistencyLine&, const ConsistencyLine&) = default;
};

struct EventLine {
  uint64_t seq = 0;
  std::string leaf;                // the leaf bytes (canonical JSON)
  std::vector<tlog::Hash> proof;   // PATH(seq, D[0:checkpoint size]), deepest first
  std::optional<std::string> raw;  // the raw record's bytes, when kept
  std::optional<std::string> salt;
  std::optional<uint64_t> erased_by;  // the erasure event, when the raw record was erased
  friend bool operator==(const EventLine&, const EventLine&) = default;
};

// One policy version that events of the pack refer to, and the `policy` events of the ledger
// that publish it (empty when the ledger has none).
struct PolicyLine {
  std::string id;
  std::string version;  // "" when the events name no version
  std::vector<uint64_t> events;
  friend bool operator==(const PolicyLine&, const PolicyLine&) = default;
};

struct SummaryLine {
  std::string type;  // "trace" (identity, request), "listing" (window) or "case"
  PackQuery query;
  std::string json;  // canonical JSON text of the machine-readable summary
  std::string text;  // the human-readable summary
  friend bool operator==(const SummaryLine&, const SummaryLine&) = default;
};

using PackLine = std::variant<HeaderLine, KeyLine, CheckpointLine, ConsistencyLine, EventLine,
                              PolicyLine, SummaryLine>;

// The part names used in documents and messages, by PackLine index.
inline constexpr const char* kPartNames[] = {"header", "key",    "checkpoint", "consistency",
                                             "event",  "policy", "summary"};

// Each returns the line including its "\n". REQUIRES: strings are valid UTF-8 and the summary's
// json is canonical JSON.
std::string EncodeLine(const HeaderLine& l);
std::string EncodeLine(const KeyLine& l);
std::string EncodeLine(const CheckpointLine& l);
std::string EncodeLine(const ConsistencyLine& l);
std::string EncodeLine(const EventLine& l);
std::string EncodeLine(const PolicyLine& l);
std::string EncodeLine(const SummaryLine& l);

// Parses lines (without their "\n"). Reuses its buffers between calls; one thread at a time.
class LineParser {
 public:
  // kInvalidArgument with "<member>: <reason>", or "not valid JSON: <reason>".
  Result<PackLine> Parse(std::string_view line);

 private:
  simdjson::dom::parser parser_;
};

}  // namespace nhitrace::evidence
