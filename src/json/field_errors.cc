#include "json/field_errors.h"

#include <string>

namespace nhitrace::json {

using simdjson::dom::element_type;

Status FieldError(std::string_view path, std::string_view reason) {
  std::string m(path);
  m += ": ";
  m += reason;
  return InvalidArgumentError(std::move(m));
}

std::string_view TypeName(element_type t) {
  switch (t) {
    case element_type::ARRAY:
      return "an array";
    case element_type::OBJECT:
      return "an object";
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE:
      return "a number";
    case element_type::STRING:
      return "a string";
    case element_type::BOOL:
      return "a boolean";
    case element_type::NULL_VALUE:
      return "null";
  }
  return "?";
}

Status WrongType(std::string_view path, const simdjson::dom::element& e, std::string_view want) {
  std::string r = "must be ";
  r += want;
  r += ", got ";
  r += TypeName(e.type());
  return FieldError(path, r);
}

}  // namespace nhitrace::json
