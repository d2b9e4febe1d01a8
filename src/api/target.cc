#include "api/target.h"

#include "base/utf8.h"

namespace nhitrace::api {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

const std::string* ParsedTarget::Param(std::string_view name) const {
  for (const auto& [k, v] : query) {
    if (k == name) return &v;
  }
  return nullptr;
}

Result<std::string> PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      int hi = i + 1 < s.size() ? HexValue(s[i + 1]) : -1;
      int lo = i + 2 < s.size() ? HexValue(s[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return InvalidArgumentError("malformed percent-encoding at byte " + std::to_string(i));
      }
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  for (size_t i = 0; i < out.size(); ++i) {
    auto u = static_cast<unsigned char>(out[i]);
    if (u < 0x20 || u == 0x7F) {
      static constexpr char kHex[] = "0123456789abcdef";
      return InvalidArgumentError(std::string("control character 0x") + kHex[u >> 4] +
                                  kHex[u & 15] + " is not allowed");
    }
  }
  size_t bad = 0;
  if (!IsValidUtf8(out, &bad)) {
    return InvalidArgumentError("invalid UTF-8 at decoded byte " + std::to_string(bad));
  }
  return out;
}

std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    bool unreserved = (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') ||
                      u == '-' || u == '.' || u == '_' || u == '~';
    if (unreserved) {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

Result<ParsedTarget> ParseTarget(std::string_view target, const TargetLimits& limits) {
  if (target.empty() || target[0] != '/') {
    return InvalidArgumentError("request target must start with '/'");
  }
  if (target.find('#') != std::string_view::npos) {
    return InvalidArgumentError("request target must not contain a fragment ('#')");
  }
  size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);

  ParsedTarget out;
  size_t pos = 1;  // after the leading '/'
  for (;;) {
    size_t slash = path.find('/', pos);
    std::string_view raw = path.substr(pos, slash == std::string_view::npos ? slash : slash - pos);
    if (raw == "." || raw == "..") {
      return InvalidArgumentError("path segment '" + std::string(raw) +
                                  "' is not allowed (no relative paths)");
    }
    if (out.segments.size() >= limits.max_segments) {
      return InvalidArgumentError("path has more than " + std::to_string(limits.max_segments) +
                                  " segments");
    }
    auto seg = PercentDecode(raw, false);
    if (!seg.ok()) {
      return InvalidArgumentError("path segment " + std::to_string(out.segments.size() + 1) + ": " +
                                  seg.status().message());
    }
    if (seg->size() > limits.max_segment_bytes) {
      return InvalidArgumentError("path segment " + std::to_string(out.segments.size() + 1) +
                                  " is longer than " + std::to_string(limits.max_segment_bytes) +
                                  " bytes");
    }
    out.segments.push_back(std::move(seg).value());
    if (slash == std::string_view::npos) break;
    pos = slash + 1;
  }

  pos = 0;
  while (pos < query.size()) {
    size_t amp = query.find('&', pos);
    std::string_view piece =
        query.substr(pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos);
    pos = amp == std::string_view::npos ? query.size() : amp + 1;
    if (piece.empty()) continue;
    size_t eq = piece.find('=');
    std::string_view raw_name = piece.substr(0, eq);
    std::string_view raw_value =
        eq == std::string_view::npos ? std::string_view() : piece.substr(eq + 1);
    auto name = PercentDecode(raw_name, true);
    if (!name.ok()) return InvalidArgumentError("query parameter name: " + name.status().message());
    if (name->empty()) return InvalidArgumentError("query parameter with an empty name");
    if (name->size() > 64) return InvalidArgumentError("query parameter name longer than 64 bytes");
    auto value = PercentDecode(raw_value, true);
    if (!value.ok()) {
      return InvalidArgumentError("query parameter " + *name + ": " + value.status().message());
    }
    if (value->size() > limits.max_param_bytes) {
      return InvalidArgumentError("query parameter " + *name + " is longer than " +
                                  std::to_string(limits.max_param_bytes) + " bytes");
    }
    if (out.Param(*name) != nullptr) {
      return InvalidArgumentError("query parameter " + *name + " is given more than once");
    }
    if (out.query.size() >= limits.max_params) {
      return InvalidArgumentError("more than " + std::to_string(limits.max_params) +
                                  " query parameters");
    }
    out.query.emplace_back(std::move(name).value(), std::move(value).value());
  }
  return out;
}

}  // namespace nhitrace::api
