// A YAML document as a plain tree with positions: the adapter between yaml-cpp and the policy
// validator. yaml-cpp is used through its event parser only (no node graph), and every exception
// it throws is caught here and turned into a Status.
//
// What is accepted is deliberately a small, predictable subset of YAML 1.2:
//   - exactly one document, UTF-8, at most policy::kMaxDocumentBytes;
//   - mappings with plain-text keys (no complex keys), no duplicate keys;
//   - no anchors, aliases or merge keys, no explicit tags but !!str;
//   - plain scalars resolve as in the YAML 1.2 core schema: null (~, null, empty), booleans
//     (true/false, also True/TRUE/...), integers (decimal, 0o octal, 0x hex; within +-2^53 so
//     that JSON keeps them exactly), floats; `yes`, `no`, `on`, `off` are strings. Quoted scalars
//     are always strings;
//   - at most kMaxDepth levels of nesting and kMaxNodes nodes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace nhitrace::policy::internal {

inline constexpr int kMaxDepth = 64;
inline constexpr size_t kMaxNodes = 100000;

struct YamlNode {
  enum class Type { kNull, kBool, kInt, kFloat, kString, kMap, kSeq };
  Type type = Type::kNull;
  std::string text;  // scalars: as written (after YAML unescaping / folding)
  bool boolean = false;
  int64_t integer = 0;
  double real = 0;
  int line = 0, column = 0;  // 1-based position of the node
  struct Entry;
  std::vector<Entry> map;  // in document order
  std::vector<YamlNode> seq;

  bool is_scalar() const { return type != Type::kMap && type != Type::kSeq; }
  // The entry with this key, or null.
  const YamlNode* Find(std::string_view key) const;
};

struct YamlNode::Entry {
  std::string key;
  int line = 0, column = 0;  // of the key
  YamlNode value;
};

// Parses `text`. Errors are kInvalidArgument "<line>:<column>: <reason>".
Result<YamlNode> ParseYaml(std::string_view text);

// The node as compact JSON (mapping members in document order; not canonical: pass it through
// json::Canonicalize for RFC 8785 order).
std::string ToJson(const YamlNode& node);

// A short description of a node's type for error messages: "a mapping", "a list", "text",
// "a number", "true/false", "null".
std::string_view TypeName(const YamlNode& node);

}  // namespace nhitrace::policy::internal
