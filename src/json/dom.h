// Small helpers over simdjson's DOM. Include where simdjson is used directly.
//
// simdjson's get_array()/get_object() return a temporary result object; iterating over
// `e.get_array().value_unsafe()` in a range-for would iterate a member of a destroyed
// temporary. These helpers return the array/object by value instead.
#pragma once

#include <string_view>

#include <simdjson.h>

namespace nhitrace::json {

// Parses `json` with `parser` like parser.parse(), except that integer literals outside the
// 64-bit range (which simdjson refuses) are read as the doubles they denote, as RFC 8785 reads
// every number. Everything that reads JSON nhitrace itself may have canonicalised (leaves,
// records) must parse through here, or a canonical form such as 100000000000000000000 (1e20)
// could be written but not read back. The element lives in `parser`'s document.
simdjson::error_code ParseJson(simdjson::dom::parser& parser, std::string_view json,
                               simdjson::dom::element* out);

// REQUIRES: e.type() == ARRAY (else returns an empty-tape array that must not be used).
inline simdjson::dom::array ArrayOf(const simdjson::dom::element& e) {
  simdjson::dom::array a;
  if (e.get_array().get(a) != simdjson::SUCCESS) return {};
  return a;
}

// REQUIRES: e.type() == OBJECT.
inline simdjson::dom::object ObjectOf(const simdjson::dom::element& e) {
  simdjson::dom::object o;
  if (e.get_object().get(o) != simdjson::SUCCESS) return {};
  return o;
}

}  // namespace nhitrace::json
