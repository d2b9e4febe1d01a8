#include "json/writer.h"

#include <cassert>
#include <cstdio>
#include <cstdlib>

#include "json/canonical.h"

namespace nhitrace::json {

JsonWriter JsonWriter::Canonical() {
  JsonWriter w;
  w.canonical_ = true;
  return w;
}

void JsonWriter::BeforeValue() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!stack_.empty()) {
    Frame& f = stack_.back();
    assert(!f.object && "value in object without a key");
    if (!f.first) out_ += ',';
    f.first = false;
  }
}

JsonWriter& JsonWriter::BeginObject() {
  BeforeValue();
  out_ += '{';
  stack_.push_back(Frame{true, true, {}});
  return *this;
}

JsonWriter& JsonWriter::EndObject() {
  stack_.pop_back();
  out_ += '}';
  return *this;
}

JsonWriter& JsonWriter::BeginArray() {
  BeforeValue();
  out_ += '[';
  stack_.push_back(Frame{false, true, {}});
  return *this;
}

JsonWriter& JsonWriter::EndArray() {
  stack_.pop_back();
  out_ += ']';
  return *this;
}

JsonWriter& JsonWriter::Key(std::string_view k) {
  Frame& f = stack_.back();
  if (canonical_) {
    if (!f.first && CompareUtf16(f.last_key, k) >= 0) {
      std::fprintf(stderr, "JsonWriter: key \"%.*s\" out of canonical order\n",
                   static_cast<int>(k.size()), k.data());
      std::abort();
    }
    f.last_key.assign(k);
  }
  if (!f.first) out_ += ',';
  f.first = false;
  AppendCanonicalString(k, &out_);
  out_ += ':';
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::String(std::string_view s) {
  BeforeValue();
  AppendCanonicalString(s, &out_);
  return *this;
}

JsonWriter& JsonWriter::Int(int64_t v) {
  BeforeValue();
  AppendCanonicalInteger(v, &out_);
  return *this;
}

JsonWriter& JsonWriter::Uint(uint64_t v) {
  BeforeValue();
  if (v <= uint64_t{1} << 53) {
    AppendCanonicalInteger(static_cast<int64_t>(v), &out_);
  } else {
    AppendCanonicalNumber(static_cast<double>(v), &out_);  // the cast to int64 could go negative
  }
  return *this;
}

JsonWriter& JsonWriter::Double(double v) {
  BeforeValue();
  AppendCanonicalNumber(v, &out_);
  return *this;
}

JsonWriter& JsonWriter::Bool(bool v) {
  BeforeValue();
  out_ += v ? "true" : "false";
  return *this;
}

JsonWriter& JsonWriter::Null() {
  BeforeValue();
  out_ += "null";
  return *this;
}

JsonWriter& JsonWriter::Raw(std::string_view json) {
  BeforeValue();
  out_ += json;
  return *this;
}

}  // namespace nhitrace::json
