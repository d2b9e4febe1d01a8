// JsonWriter: builds compact JSON text for command output, API responses and canonical events.
//
// Strings and numbers are always written in their RFC 8785 form, so a document whose object
// members are written in canonical order (ascending UTF-16 code units) is canonical as written;
// `Canonical()` mode checks that order and is how ledger leaves are produced without a second
// parse.
//
//   JsonWriter w;
//   w.BeginObject();
//   w.Key("seq").Int(12);
//   w.Key("kind").String("action");
//   w.EndObject();
//   w.str();  // {"seq":12,"kind":"action"}
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace nhitrace::json {

class JsonWriter {
 public:
  JsonWriter() = default;
  // A writer that verifies members are written in canonical order. Out-of-order keys are a
  // programming error and abort (they would silently produce a different leaf hash).
  static JsonWriter Canonical();

  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(std::string_view k);     // REQUIRES: valid UTF-8
  JsonWriter& String(std::string_view s);  // REQUIRES: valid UTF-8
  // Integers are exact for |v| <= 2^53; larger ones are written as the nearest double, which is
  // what their canonical form is (RFC 8785 numbers are IEEE-754 doubles).
  JsonWriter& Int(int64_t v);
  JsonWriter& Uint(uint64_t v);
  JsonWriter& Double(double v);  // REQUIRES: finite
  JsonWriter& Bool(bool v);
  JsonWriter& Null();
  // Appends already-serialised JSON (e.g. a canonical sub-document) as one value.
  JsonWriter& Raw(std::string_view json);

  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void BeforeValue();

  struct Frame {
    bool object;
    bool first = true;
    std::string last_key;  // canonical mode only
  };
  std::string out_;
  std::vector<Frame> stack_;
  bool canonical_ = false;
  bool after_key_ = false;
};

}  // namespace nhitrace::json
