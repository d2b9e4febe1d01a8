// The errors every reader of outside JSON reports, worded one way: "path: reason", and
// "path: must be <want>, got <type>". Used by the native codec and the importers.
#pragma once

#include <string_view>

#include <simdjson.h>

#include "base/status.h"

namespace nhitrace::json {

// kInvalidArgument "path: reason".
Status FieldError(std::string_view path, std::string_view reason);

// "an array", "an object", "a number", "a string", "a boolean", "null".
std::string_view TypeName(simdjson::dom::element_type t);

// kInvalidArgument "path: must be <want>, got <type of e>".
Status WrongType(std::string_view path, const simdjson::dom::element& e, std::string_view want);

}  // namespace nhitrace::json
