// Fuzzes HtmlEscape, which every string from the store (identity keys, titles, actors,
// messages: attacker-controlled evidence) passes through before it lands in the HTML report.
//
// Properties, for any bytes:
//   - the output is valid UTF-8;
//   - it holds none of < > " ' and no & other than the start of one of the five entities it
//     writes, so no text can open a tag, close an attribute or start another entity;
//   - no control character other than tab, newline and carriage return survives;
//   - input that is already plain (valid UTF-8, none of the escaped characters) is unchanged.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/utf8.h"
#include "fuzz_check.h"
#include "report/html.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::string out = nhitrace::report::HtmlEscape(in);
  FUZZ_CHECK(nhitrace::IsValidUtf8(out), out);
  for (size_t i = 0; i < out.size(); ++i) {
    const char c = out[i];
    FUZZ_CHECK(c != '<' && c != '>' && c != '"' && c != '\'', out);
    auto u = static_cast<unsigned char>(c);
    FUZZ_CHECK(u >= 0x20 || c == '\t' || c == '\n' || c == '\r', out);
    FUZZ_CHECK(u != 0x7f, out);
    if (c == '&') {
      std::string_view rest = std::string_view(out).substr(i);
      bool entity = false;
      for (std::string_view e : {"&amp;", "&lt;", "&gt;", "&quot;", "&#39;"}) {
        entity = entity || rest.substr(0, e.size()) == e;
      }
      FUZZ_CHECK(entity, out);
    }
  }
  bool plain = nhitrace::IsValidUtf8(in);
  for (char c : in) {
    auto u = static_cast<unsigned char>(c);
    if (c == '<' || c == '>' || c == '"' || c == '\'' || c == '&' || u == 0x7f ||
        (u < 0x20 && c != '\t' && c != '\n' && c != '\r')) {
      plain = false;
    }
  }
  if (plain) FUZZ_CHECK(out == in, out);
  return 0;
}
