#include "correlate/identity_facts.h"

#include <charconv>

#include "json/dom.h"
#include "json/writer.h"

namespace nhitrace::correlate {

std::string_view IdentityFacts::FieldName(Field f) {
  switch (f) {
    case kKind:
      return "kind";
    case kName:
      return "name";
    case kOwner:
      return "owner";
    case kSponsor:
      return "sponsor";
    case kSystem:
      return "system";
    case kFieldCount:
      break;
  }
  return "?";
}

namespace {

bool Later(const IdentityFacts::Fact& a, const IdentityFacts::Fact& b) {
  if (!b.set) return a.set;
  if (!a.set) return false;
  return a.time_ns != b.time_ns ? a.time_ns > b.time_ns : a.source > b.source;
}

}  // namespace

void IdentityFacts::Offer(Field f, const Fact& fact) {
  if (Later(fact, facts_[f])) facts_[f] = fact;
}

void IdentityFacts::Offer(const event::Subject& s, int64_t time_ns, const std::string& source,
                          uint64_t seq) {
  const std::string* values[kFieldCount] = {&s.kind, &s.name, &s.owner, &s.sponsor, &s.system};
  for (int f = 0; f < kFieldCount; ++f) {
    if (!values[f]->empty())
      Offer(static_cast<Field>(f), Fact{*values[f], time_ns, source, seq, true});
  }
}

void IdentityFacts::Merge(const IdentityFacts& other) {
  for (int f = 0; f < kFieldCount; ++f) Offer(static_cast<Field>(f), other.facts_[f]);
}

bool IdentityFacts::empty() const {
  for (const auto& f : facts_) {
    if (f.set) return false;
  }
  return true;
}

Result<IdentityFacts> IdentityFacts::FromRow(const store::IdentityKeyRow& row) {
  IdentityFacts out;
  const std::string* values[kFieldCount] = {&row.subject_kind, &row.subject_name, &row.owner,
                                            &row.sponsor, &row.system};
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (json::ParseJson(parser, row.facts_provenance, &root) != simdjson::SUCCESS ||
      root.type() != simdjson::dom::element_type::OBJECT) {
    return DataLossError("identity key " + row.key + ": malformed facts provenance");
  }
  for (int f = 0; f < kFieldCount; ++f) {
    simdjson::dom::array a;
    if (root[FieldName(static_cast<Field>(f))].get(a) != simdjson::SUCCESS) continue;
    std::string_view time_text, src;
    uint64_t seq = 0;
    int64_t t = 0;
    if (a.size() != 3 || a.at(0).get(time_text) || a.at(1).get(src) || a.at(2).get(seq) ||
        std::from_chars(time_text.data(), time_text.data() + time_text.size(), t).ec !=
            std::errc()) {
      return DataLossError("identity key " + row.key + ": malformed facts provenance");
    }
    out.facts_[f] = Fact{*values[f], t, std::string(src), seq, true};
  }
  return out;
}

void IdentityFacts::ToRow(store::IdentityKeyRow* row) const {
  std::string* values[kFieldCount] = {&row->subject_kind, &row->subject_name, &row->owner,
                                      &row->sponsor, &row->system};
  json::JsonWriter w = json::JsonWriter::Canonical();
  w.BeginObject();
  for (int f = 0; f < kFieldCount; ++f) {
    const Fact& fact = facts_[f];
    *values[f] = fact.set ? fact.value : std::string();
    if (!fact.set) continue;
    w.Key(FieldName(static_cast<Field>(f))).BeginArray();
    // Nanosecond times exceed 2^53, beyond exact JSON numbers: written as decimal strings.
    w.String(std::to_string(fact.time_ns)).String(fact.source).Uint(fact.seq);
    w.EndArray();
  }
  w.EndObject();
  row->facts_provenance = w.Take();
}

}  // namespace nhitrace::correlate
