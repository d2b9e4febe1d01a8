#include "json/canonical.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <utility>
#include <vector>

#include "base/utf8.h"
#include "json/dom.h"

namespace nhitrace::json {
namespace {

// Decodes one code point from valid UTF-8 at s[i], advancing i.
uint32_t NextCodePoint(std::string_view s, size_t& i) {
  auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) {
    ++i;
    return c;
  }
  int len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
  uint32_t cp = c & (0x7F >> len);
  for (int k = 1; k < len; ++k) cp = cp << 6 | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  i += static_cast<size_t>(len);
  return cp;
}

// Writes the UTF-16 code units of one code point; returns how many (1 or 2).
int ToUtf16(uint32_t cp, uint16_t u[2]) {
  if (cp < 0x10000) {
    u[0] = static_cast<uint16_t>(cp);
    return 1;
  }
  cp -= 0x10000;
  u[0] = static_cast<uint16_t>(0xD800 + (cp >> 10));
  u[1] = static_cast<uint16_t>(0xDC00 + (cp & 0x3FF));
  return 2;
}

// At most this many arrays and objects may enclose one another.
constexpr size_t kMaxDepth = 256;

Status TooDeep() { return InvalidArgumentError("JSON nested deeper than 256 levels"); }

Status AppendValue(const simdjson::dom::element& e, std::string* out, size_t depth) {
  using simdjson::dom::element_type;
  switch (e.type()) {
    case element_type::NULL_VALUE:
      *out += "null";
      return OkStatus();
    case element_type::BOOL:
      *out += bool(e.get_bool().value_unsafe()) ? "true" : "false";
      return OkStatus();
    case element_type::INT64: {
      int64_t v = e.get_int64().value_unsafe();
      if (v >= -(int64_t{1} << 53) && v <= (int64_t{1} << 53)) {
        AppendCanonicalInteger(v, out);
      } else {
        AppendCanonicalNumber(static_cast<double>(v), out);
      }
      return OkStatus();
    }
    case element_type::UINT64:
      AppendCanonicalNumber(static_cast<double>(e.get_uint64().value_unsafe()), out);
      return OkStatus();
    case element_type::DOUBLE: {
      double v = e.get_double().value_unsafe();
      if (!std::isfinite(v)) return InvalidArgumentError("number out of IEEE-754 double range");
      AppendCanonicalNumber(v, out);
      return OkStatus();
    }
    case element_type::STRING:
      AppendCanonicalString(e.get_string().value_unsafe(), out);
      return OkStatus();
    case element_type::ARRAY: {
      if (depth >= kMaxDepth) return TooDeep();
      *out += '[';
      bool first = true;
      for (simdjson::dom::element child : ArrayOf(e)) {
        if (!first) *out += ',';
        first = false;
        NHI_RETURN_IF_ERROR(AppendValue(child, out, depth + 1));
      }
      *out += ']';
      return OkStatus();
    }
    case element_type::OBJECT: {
      if (depth >= kMaxDepth) return TooDeep();
      std::vector<std::pair<std::string_view, simdjson::dom::element>> members;
      for (simdjson::dom::key_value_pair kv : ObjectOf(e)) {
        members.emplace_back(kv.key, kv.value);
      }
      std::sort(members.begin(), members.end(),
                [](const auto& a, const auto& b) { return CompareUtf16(a.first, b.first) < 0; });
      *out += '{';
      for (size_t i = 0; i < members.size(); ++i) {
        if (i > 0) {
          if (members[i].first == members[i - 1].first) {
            std::string name;
            AppendCanonicalString(members[i].first, &name);
            return InvalidArgumentError("duplicate object member name " + name);
          }
          *out += ',';
        }
        AppendCanonicalString(members[i].first, out);
        *out += ':';
        NHI_RETURN_IF_ERROR(AppendValue(members[i].second, out, depth + 1));
      }
      *out += '}';
      return OkStatus();
    }
  }
  return InternalError("unknown JSON element type");
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// simdjson refuses integer literals outside the 64-bit range, but every JSON number is an
// IEEE-754 double to RFC 8785 (section 3.2.2.3): "295147905179352830000", the canonical form of
// 2^68 in its Appendix B, must parse. Returns `json` with ".0" after every integer literal of 19
// or more digits outside strings, which simdjson then reads as the correctly rounded double (the
// same double the integer denotes); nullopt when there is none. Text that is not JSON stays
// not JSON.
std::optional<std::string> WidenLongIntegers(std::string_view json) {
  std::string out;
  size_t copied = 0;
  size_t i = 0;
  while (i < json.size()) {
    char c = json[i];
    if (c == '"') {
      for (++i; i < json.size() && json[i] != '"'; ++i) {
        if (json[i] == '\\') ++i;
      }
      ++i;
      continue;
    }
    if (c != '-' && !IsDigit(c)) {
      ++i;
      continue;
    }
    if (c == '-') ++i;
    size_t digits = i;
    while (i < json.size() && IsDigit(json[i])) ++i;
    bool fraction_or_exponent =
        i < json.size() && (json[i] == '.' || json[i] == 'e' || json[i] == 'E');
    if (!fraction_or_exponent && i - digits >= 19 && json[digits] != '0') {
      out.append(json.substr(copied, i - copied));
      out += ".0";
      copied = i;
    }
    while (i < json.size() && (IsDigit(json[i]) || json[i] == '.' || json[i] == 'e' ||
                               json[i] == 'E' || json[i] == '+' || json[i] == '-')) {
      ++i;
    }
  }
  if (copied == 0) return std::nullopt;
  out.append(json.substr(copied));
  return out;
}

}  // namespace

int CompareUtf16(std::string_view a, std::string_view b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    auto ca = static_cast<unsigned char>(a[i]);
    auto cb = static_cast<unsigned char>(b[j]);
    if (ca < 0x80 && cb < 0x80) {  // ASCII: code unit == byte
      if (ca != cb) return ca < cb ? -1 : 1;
      ++i;
      ++j;
      continue;
    }
    uint16_t ua[2], ub[2];
    int na = ToUtf16(NextCodePoint(a, i), ua);
    int nb = ToUtf16(NextCodePoint(b, j), ub);
    for (int k = 0; k < std::min(na, nb); ++k) {
      if (ua[k] != ub[k]) return ua[k] < ub[k] ? -1 : 1;
    }
    // Equal leading unit(s) with different lengths cannot happen: a surrogate pair's high unit
    // never equals a BMP unit outside D800-DBFF, which well-formed UTF-8 does not encode.
    if (na != nb) return na < nb ? -1 : 1;
  }
  if (i < a.size()) return 1;
  if (j < b.size()) return -1;
  return 0;
}

void AppendCanonicalString(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->reserve(out->size() + s.size() + 2);
  *out += '"';
  size_t run = 0;  // start of the pending run of bytes that need no escape
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out->append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\b':
        *out += "\\b";
        break;
      case '\f':
        *out += "\\f";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      case '\t':
        *out += "\\t";
        break;
      default:
        *out += "\\u00";
        *out += kHex[c >> 4];
        *out += kHex[c & 0xF];
    }
  }
  out->append(s.data() + run, s.size() - run);
  *out += '"';
}

void AppendCanonicalInteger(int64_t v, std::string* out) {
  constexpr int64_t kMaxExact = int64_t{1} << 53;
  if (v > kMaxExact || v < -kMaxExact) {
    // Not every such integer is a double; JCS writes the double the value becomes.
    AppendCanonicalNumber(static_cast<double>(v), out);
    return;
  }
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, r.ptr);
}

void AppendCanonicalNumber(double v, std::string* out) {
  if (v == 0) {  // both +0 and -0
    *out += '0';
    return;
  }
  // Shortest round-trip digits (C++17 to_chars guarantees them), in scientific form
  // "d[.ddd]e±XX", then laid out by ECMAScript Number::toString (ECMA-262 section 6.1.6.1.20).
  char buf[40];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string_view s(buf, static_cast<size_t>(r.ptr - buf));
  if (s.front() == '-') {
    *out += '-';
    s.remove_prefix(1);
  }
  size_t epos = s.find('e');
  char digits[24];
  int k = 0;
  digits[k++] = s[0];
  for (size_t i = 2; i < epos; ++i) digits[k++] = s[i];  // skip "d."
  int exp = 0;
  std::string_view es = s.substr(epos + 1);
  if (es.front() == '+') es.remove_prefix(1);
  std::from_chars(es.data(), es.data() + es.size(), exp);
  int n = exp + 1;  // value = 0.digits * 10^n
  if (k <= n && n <= 21) {
    out->append(digits, static_cast<size_t>(k));
    out->append(static_cast<size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out->append(digits, static_cast<size_t>(n));
    *out += '.';
    out->append(digits + n, static_cast<size_t>(k - n));
  } else if (-6 < n && n <= 0) {
    *out += "0.";
    out->append(static_cast<size_t>(-n), '0');
    out->append(digits, static_cast<size_t>(k));
  } else {
    *out += digits[0];
    if (k > 1) {
      *out += '.';
      out->append(digits + 1, static_cast<size_t>(k - 1));
    }
    *out += 'e';
    int e = n - 1;
    *out += e < 0 ? '-' : '+';
    AppendCanonicalInteger(e < 0 ? -e : e, out);
  }
}

Status AppendCanonical(const simdjson::dom::element& value, std::string* out) {
  return AppendValue(value, out, 0);
}

simdjson::error_code ParseJson(simdjson::dom::parser& parser, std::string_view json,
                               simdjson::dom::element* out) {
  auto err = parser.parse(json.data(), json.size(), /*realloc_if_needed=*/true).get(*out);
  if (err == simdjson::NUMBER_ERROR) {
    if (std::optional<std::string> widened = WidenLongIntegers(json)) {
      err = parser.parse(*widened).get(*out);  // the parser copies the text it needs
    }
  }
  return err;
}

Result<std::string> Canonicalize(std::string_view json) {
  size_t bad = 0;
  if (!IsValidUtf8(json, &bad)) {
    return InvalidArgumentError("invalid UTF-8 at byte " + std::to_string(bad));
  }
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  auto err = ParseJson(parser, json, &root);
  if (err) return InvalidArgumentError(std::string("JSON syntax: ") + simdjson::error_message(err));
  std::string out;
  out.reserve(json.size());
  NHI_RETURN_IF_ERROR(AppendValue(root, &out, 0));
  return out;
}

}  // namespace nhitrace::json
