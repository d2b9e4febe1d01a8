#include "policy/internal/yaml_tree.h"

#include <cmath>
#include <cstdlib>
#include <exception>
#include <optional>
#include <sstream>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include "base/utf8.h"
#include "json/writer.h"

namespace nhitrace::policy::internal {

const YamlNode* YamlNode::Find(std::string_view key) const {
  for (const Entry& e : map) {
    if (e.key == key) return &e.value;
  }
  return nullptr;
}

std::string_view TypeName(const YamlNode& n) {
  switch (n.type) {
    case YamlNode::Type::kNull:
      return "null";
    case YamlNode::Type::kBool:
      return "true/false";
    case YamlNode::Type::kInt:
    case YamlNode::Type::kFloat:
      return "a number";
    case YamlNode::Type::kString:
      return "text";
    case YamlNode::Type::kMap:
      return "a mapping";
    case YamlNode::Type::kSeq:
      return "a list";
  }
  return "?";
}

namespace {

constexpr int64_t kMaxExactInteger = int64_t{1} << 53;

// A parse error at a position, carried out of the event handler (which cannot return one).
struct StopParse {
  int line, column;
  std::string reason;
};

bool AllDigits(std::string_view s, int base) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = base == 16  ? std::isxdigit(static_cast<unsigned char>(c)) != 0
              : base == 8 ? c >= '0' && c <= '7'
                          : c >= '0' && c <= '9';
    if (!ok) return false;
  }
  return true;
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool IsCoreFloat(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  size_t int_digits = 0, frac_digits = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++int_digits;
  bool dot = false;
  if (i < s.size() && s[i] == '.') {
    dot = true;
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++frac_digits;
  }
  if (int_digits == 0 && frac_digits == 0) return false;
  if (!dot && i == s.size()) return false;  // an integer
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    size_t exp_digits = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  return i == s.size();
}

// Resolves a plain scalar as the YAML 1.2 core schema does.
Result<YamlNode> ResolvePlain(const std::string& v) {
  YamlNode n;
  n.text = v;
  if (v.empty() || v == "~" || v == "null" || v == "Null" || v == "NULL") {
    n.type = YamlNode::Type::kNull;
    return n;
  }
  if (v == "true" || v == "True" || v == "TRUE" || v == "false" || v == "False" || v == "FALSE") {
    n.type = YamlNode::Type::kBool;
    n.boolean = v[0] == 't' || v[0] == 'T';
    return n;
  }
  std::string_view s = v;
  bool neg = false;
  std::string_view body = s;
  if (!body.empty() && (body[0] == '-' || body[0] == '+')) {
    neg = body[0] == '-';
    body.remove_prefix(1);
  }
  int base = 0;
  std::string_view digits;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'x')) {
    base = s[1] == 'o' ? 8 : 16;
    digits = s.substr(2);
    neg = false;
  } else if (AllDigits(body, 10)) {
    base = 10;
    digits = body;
  }
  if (base != 0 && AllDigits(digits, base)) {
    // Accumulate with a bound: anything beyond 2^53 is rejected, not wrapped or rounded.
    int64_t value = 0;
    for (char c : digits) {
      int d = std::isdigit(static_cast<unsigned char>(c))
                  ? c - '0'
                  : std::tolower(static_cast<unsigned char>(c)) - 'a' + 10;
      if (value > (kMaxExactInteger - d) / base) {
        return InvalidArgumentError("integer " + v + " is out of range (at most 2^53)");
      }
      value = value * base + d;
    }
    n.type = YamlNode::Type::kInt;
    n.integer = neg ? -value : value;
    return n;
  }
  if (IsCoreFloat(s)) {
    n.type = YamlNode::Type::kFloat;
    n.real = std::strtod(v.c_str(), nullptr);
    if (!std::isfinite(n.real)) return InvalidArgumentError("number " + v + " is out of range");
    return n;
  }
  std::string lower;
  for (char c : v) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == ".inf" || lower == "-.inf" || lower == "+.inf" || lower == ".nan") {
    return InvalidArgumentError("infinity and NaN are not accepted (JSON cannot hold them)");
  }
  n.type = YamlNode::Type::kString;
  return n;
}

// Builds the tree from yaml-cpp's events.
class TreeBuilder final : public YAML::EventHandler {
 public:
  std::optional<YamlNode> root;
  int documents = 0;

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++documents > 1) Fail(mark, "more than one YAML document (remove the second '---')");
  }
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    CheckAnchor(mark, anchor);
    YamlNode n;
    n.type = YamlNode::Type::kNull;
    Add(mark, std::move(n));
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override {
    Fail(mark, "aliases (*name) are not supported in policies; write the value out");
  }
  void OnAnchor(const YAML::Mark& mark, const std::string&) override {
    Fail(mark, "anchors (&name) are not supported in policies");
  }
  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    CheckAnchor(mark, anchor);
    YamlNode n;
    if (tag == "?") {
      auto r = ResolvePlain(value);
      if (!r.ok()) Fail(mark, r.status().message());
      n = std::move(r).value();
    } else if (tag == "!" || tag == "tag:yaml.org,2002:str") {
      n.type = YamlNode::Type::kString;
      n.text = value;
    } else {
      Fail(mark, "explicit tags (" + tag + ") are not supported; only !!str is");
    }
    Add(mark, std::move(n));
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    CheckAnchor(mark, anchor);
    CheckCollectionTag(mark, tag, "tag:yaml.org,2002:seq");
    YamlNode n;
    n.type = YamlNode::Type::kSeq;
    Open(mark, std::move(n));
  }
  void OnSequenceEnd() override { Close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    CheckAnchor(mark, anchor);
    CheckCollectionTag(mark, tag, "tag:yaml.org,2002:map");
    YamlNode n;
    n.type = YamlNode::Type::kMap;
    Open(mark, std::move(n));
  }
  void OnMapEnd() override { Close(); }

  [[noreturn]] static void Fail(const YAML::Mark& mark, std::string reason) {
    throw StopParse{mark.line + 1, mark.column + 1, std::move(reason)};
  }

 private:
  struct Frame {
    YamlNode node;
    // For mappings: the key read, waiting for its value.
    bool have_key = false;
    YamlNode::Entry pending;
  };

  static void CheckAnchor(const YAML::Mark& mark, YAML::anchor_t anchor) {
    if (anchor != YAML::NullAnchor) Fail(mark, "anchors (&name) are not supported in policies");
  }
  static void CheckCollectionTag(const YAML::Mark& mark, const std::string& tag,
                                 const char* standard) {
    if (tag.empty() || tag == "?" || tag == "!" || tag == standard) return;
    Fail(mark, "explicit tags (" + tag + ") are not supported");
  }

  void Count(const YAML::Mark& mark) {
    if (++nodes_ > kMaxNodes) {
      Fail(mark, "the document has more than " + std::to_string(kMaxNodes) + " nodes");
    }
  }

  void Open(const YAML::Mark& mark, YamlNode n) {
    Count(mark);
    if (!stack_.empty() && stack_.back().node.type == YamlNode::Type::kMap &&
        !stack_.back().have_key) {
      Fail(mark, "a mapping key must be plain text, not a mapping or a list");
    }
    if (static_cast<int>(stack_.size()) >= kMaxDepth) {
      Fail(mark, "nested deeper than " + std::to_string(kMaxDepth) + " levels");
    }
    n.line = mark.line + 1;
    n.column = mark.column + 1;
    stack_.push_back(Frame{std::move(n), false, {}});
  }

  void Close() {
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    if (f.node.type == YamlNode::Type::kMap && f.have_key) {
      // Cannot happen with a well-formed event stream; keep the key with a null value.
      f.node.map.push_back(std::move(f.pending));
    }
    Place(std::move(f.node));
  }

  void Add(const YAML::Mark& mark, YamlNode n) {
    Count(mark);
    // Escapes such as "\x80" or "\ud800" can make invalid UTF-8 out of valid input.
    if (!IsValidUtf8(n.text)) Fail(mark, "invalid UTF-8 in a string (after unescaping)");
    n.line = mark.line + 1;
    n.column = mark.column + 1;
    if (!stack_.empty() && stack_.back().node.type == YamlNode::Type::kMap &&
        !stack_.back().have_key) {
      // A key.
      Frame& f = stack_.back();
      if (n.type != YamlNode::Type::kString && n.type != YamlNode::Type::kInt &&
          n.type != YamlNode::Type::kBool) {
        Fail(mark, "a mapping key must be plain text");
      }
      for (const auto& e : f.node.map) {
        if (e.key == n.text) {
          Fail(mark,
               "duplicate key \"" + n.text + "\" (first at line " + std::to_string(e.line) + ")");
        }
      }
      f.pending = YamlNode::Entry{n.text, n.line, n.column, {}};
      f.have_key = true;
      return;
    }
    Place(std::move(n));
  }

  void Place(YamlNode n) {
    if (stack_.empty()) {
      root = std::move(n);
      return;
    }
    Frame& f = stack_.back();
    if (f.node.type == YamlNode::Type::kSeq) {
      f.node.seq.push_back(std::move(n));
    } else {
      f.pending.value = std::move(n);
      f.node.map.push_back(std::move(f.pending));
      f.pending = {};
      f.have_key = false;
    }
  }

  std::vector<Frame> stack_;
  size_t nodes_ = 0;
};

// 1-based line and column of byte `offset` in `text`.
std::pair<int, int> Position(std::string_view text, size_t offset) {
  int line = 1, col = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return {line, col};
}

std::string At(int line, int column, const std::string& reason) {
  return std::to_string(line) + ":" + std::to_string(column) + ": " + reason;
}

void WriteJson(json::JsonWriter& w, const YamlNode& n) {
  switch (n.type) {
    case YamlNode::Type::kNull:
      w.Null();
      return;
    case YamlNode::Type::kBool:
      w.Bool(n.boolean);
      return;
    case YamlNode::Type::kInt:
      w.Int(n.integer);
      return;
    case YamlNode::Type::kFloat:
      w.Double(n.real);
      return;
    case YamlNode::Type::kString:
      w.String(n.text);
      return;
    case YamlNode::Type::kMap:
      w.BeginObject();
      for (const auto& e : n.map) {
        w.Key(e.key);
        WriteJson(w, e.value);
      }
      w.EndObject();
      return;
    case YamlNode::Type::kSeq:
      w.BeginArray();
      for (const auto& item : n.seq) WriteJson(w, item);
      w.EndArray();
      return;
  }
}

}  // namespace

Result<YamlNode> ParseYaml(std::string_view text) {
  size_t bad = 0;
  if (!IsValidUtf8(text, &bad)) {
    auto [line, col] = Position(text, bad);
    return InvalidArgumentError(At(line, col, "invalid UTF-8 at byte " + std::to_string(bad)));
  }
  if (text.find('\0') != std::string_view::npos) {
    auto [line, col] = Position(text, text.find('\0'));
    return InvalidArgumentError(At(line, col, "NUL byte in the document"));
  }
  TreeBuilder builder;
  try {
    std::istringstream in{std::string(text)};
    YAML::Parser parser(in);
    while (parser.HandleNextDocument(builder)) {
    }
  } catch (const StopParse& e) {
    return InvalidArgumentError(At(e.line, e.column, e.reason));
  } catch (const YAML::Exception& e) {
    int line = e.mark.is_null() ? 1 : e.mark.line + 1;
    int col = e.mark.is_null() ? 1 : e.mark.column + 1;
    return InvalidArgumentError(At(line, col, "YAML syntax: " + e.msg));
  } catch (const std::exception& e) {
    return InvalidArgumentError(At(1, 1, std::string("YAML parser failed: ") + e.what()));
  }
  if (!builder.root) return InvalidArgumentError(At(1, 1, "the document is empty"));
  return std::move(*builder.root);
}

std::string ToJson(const YamlNode& node) {
  json::JsonWriter w;
  WriteJson(w, node);
  return w.Take();
}

}  // namespace nhitrace::policy::internal
