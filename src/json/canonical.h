// RFC 8785 JSON Canonicalization Scheme (JCS): the one byte encoding of a JSON value that every
// ledger leaf is hashed over.
//
// Rules (RFC 8785 section 3.2): no whitespace; object members sorted by the UTF-16 code units of
// their names; strings with only the mandatory escapes (\" \\ \b \f \n \r \t, other controls as
// \u00xx lower case) and everything else as literal UTF-8; numbers as IEEE-754 doubles in the
// ECMAScript Number.prototype.toString form (section 3.2.2.3). Inputs must be I-JSON (RFC 7493):
// valid UTF-8 and no duplicate member names; both are rejected with kInvalidArgument.
//
//   Result<std::string> c = Canonicalize(R"({"b":1e3,"a":"\u00e9"})");
//   // *c == R"({"a":"é","b":1000})"
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace simdjson::dom {
class element;
}

namespace nhitrace::json {

// Parses `json` and returns its canonical form. Errors name the problem (syntax, UTF-8,
// duplicate key with its name, number out of double range).
Result<std::string> Canonicalize(std::string_view json);

// Appends the canonical form of an already parsed value.
Status AppendCanonical(const simdjson::dom::element& value, std::string* out);

// Appends `s` (REQUIRES: valid UTF-8) as a canonical JSON string literal, quotes included.
void AppendCanonicalString(std::string_view s, std::string* out);

// Appends a finite double in ECMAScript form: 1e+21, 0.000001, 1e-7, 123.45, -0 -> 0.
// REQUIRES: std::isfinite(v).
void AppendCanonicalNumber(double v, std::string* out);

// Appends an integer; identical to AppendCanonicalNumber((double)v), but faster. Integers are
// exact in JCS only for |v| <= 2^53; larger ones are written as the nearest double
// (2^53 + 1 -> 9007199254740992), as Canonicalize would write them.
void AppendCanonicalInteger(int64_t v, std::string* out);

// Orders object member names as RFC 8785 section 3.2.3 requires: by UTF-16 code units.
// REQUIRES: both are valid UTF-8. Returns <0, 0, >0.
int CompareUtf16(std::string_view a, std::string_view b);

}  // namespace nhitrace::json
