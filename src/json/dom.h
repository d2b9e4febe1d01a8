// Small helpers over simdjson's DOM. Include where simdjson is used directly.
//
// simdjson's get_array()/get_object() return a temporary result object; iterating over
// `e.get_array().value_unsafe()` in a range-for would iterate a member of a destroyed
// temporary. These helpers return the array/object by value instead.
#pragma once

#include <simdjson.h>

namespace nhitrace::json {

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
