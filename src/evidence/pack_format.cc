#include "evidence/pack_format.h"

#include <map>

#include "base/encoding.h"
#include "base/time.h"
#include "json/canonical.h"
#include "json/dom.h"
#include "json/writer.h"

namespace nhitrace::evidence {

using simdjson::dom::element;

Status ValidateQuery(const PackQuery& q) {
  int given = !q.identity.empty() + !q.request.empty() + (!q.from.empty() || !q.to.empty()) +
              q.case_id.has_value();
  if (given != 1) {
    return InvalidArgumentError(
        "give exactly one of an identity, a request, a time window, or a case");
  }
  if (!q.from.empty() || !q.to.empty()) {
    if (q.from.empty() || q.to.empty()) {
      return InvalidArgumentError("a time window needs both from and to");
    }
    auto from = ParseRfc3339(q.from);
    if (!from.ok()) return from.status().WithContext("from");
    auto to = ParseRfc3339(q.to);
    if (!to.ok()) return to.status().WithContext("to");
    if (to->unix_nanos < from->unix_nanos) {
      return InvalidArgumentError("the window ends (" + q.to + ") before it begins (" + q.from +
                                  ")");
    }
  }
  return OkStatus();
}

std::string DescribeQuery(const PackQuery& q) {
  if (!q.identity.empty()) return "identity " + q.identity;
  if (!q.request.empty()) return "request " + q.request;
  if (q.case_id) return "case " + std::to_string(*q.case_id);
  return "from " + q.from + " to " + q.to;
}

int PackVersionFor(const PackQuery& q) { return q.case_id ? kPackVersion : kPackVersion1; }

namespace {

void WriteHashes(json::JsonWriter& w, const std::vector<tlog::Hash>& hashes) {
  w.BeginArray();
  for (const auto& h : hashes) w.String(Base64Encode(crypto::AsBytes(h)));
  w.EndArray();
}

std::string Finish(json::JsonWriter& w) {
  std::string s = w.Take();
  s.push_back('\n');
  return s;
}

void WriteQuery(json::JsonWriter& w, const PackQuery& q) {
  w.BeginObject();
  if (q.case_id) w.Key("case").Uint(*q.case_id);
  if (!q.from.empty()) w.Key("from").String(q.from);
  if (!q.identity.empty()) w.Key("identity").String(q.identity);
  if (!q.request.empty()) w.Key("request").String(q.request);
  if (!q.to.empty()) w.Key("to").String(q.to);
  w.EndObject();
}

}  // namespace

std::string EncodeLine(const HeaderLine& l) {
  json::JsonWriter w = json::JsonWriter::Canonical();
  w.BeginObject();
  w.Key("events").Uint(l.events);
  w.Key("format").String(kPackFormat);
  w.Key("version").Int(l.version);
  w.EndObject();
  return Finish(w);
}

std::string EncodeLine(const KeyLine& l) {
  json::JsonWriter w = json::JsonWriter::Canonical();
  w.BeginObject();
  w.Key("part").String("key");
  w.Key("verifier_key").String(l.verifier_key);
  w.EndObject();
  return Finish(w);
}

std::string EncodeLine(const CheckpointLine& l) {
  json::JsonWriter w = json::JsonWriter::Canonical();
  w.BeginObject();
  w.Key("note").String(l.note);
  w.Key("part").String("checkpoint");
  w.EndObject();
  return Finish(w);
}

std::string EncodeLine(const ConsistencyLine& l) {
  json::JsonWriter w = json::JsonWriter::Canonical();
  w.BeginObject();
  w.Key("hashes");
  WriteHashes(w, l.hashes);
  w.Key("latest").String(l.latest);
  w.Key("part").String("consistency");
  w.EndObject();
  return Finish(w);
}

std::string EncodeLine(const EventLine& l) {
  json::JsonWriter w = json::JsonWriter::Canonical();
  w.BeginObject();
  if (l.erased_by) w.Key("erased_by").Uint(*l.erased_by);
  w.Key("leaf").String(l.leaf);
  w.Key("part").String("event");
  w.Key("proof");
  WriteHashes(w, l.proof);
  if (l.raw) w.Key("raw").String(Base64Encode(*l.raw));
  if (l.salt) w.Key("salt").String(Base64Encode(*l.salt));
  w.Key("seq").Uint(l.seq);
  w.EndObject();
  return Finish(w);
}

std::string EncodeLine(const PolicyLine& l) {
  json::JsonWriter w = json::JsonWriter::Canonical();
  w.BeginObject();
  w.Key("events").BeginArray();
  for (uint64_t s : l.events) w.Uint(s);
  w.EndArray();
  w.Key("id").String(l.id);
  w.Key("part").String("policy");
  if (!l.version.empty()) w.Key("version").String(l.version);
  w.EndObject();
  return Finish(w);
}

std::string EncodeLine(const SummaryLine& l) {
  json::JsonWriter w = json::JsonWriter::Canonical();
  w.BeginObject();
  w.Key("json").Raw(l.json);
  w.Key("part").String("summary");
  w.Key("query");
  WriteQuery(w, l.query);
  w.Key("text").String(l.text);
  w.Key("type").String(l.type);
  w.EndObject();
  return Finish(w);
}

namespace {

// The members of one JSON object, checked against the names its part allows.
class Members {
 public:
  static Result<Members> Of(const element& e, std::initializer_list<std::string_view> allowed) {
    Members m;
    simdjson::dom::object obj;
    if (e.get_object().get(obj) != simdjson::SUCCESS) {
      return InvalidArgumentError("must be a JSON object");
    }
    for (auto kv : obj) {
      bool known = false;
      for (std::string_view a : allowed) known = known || a == kv.key;
      if (!known) return InvalidArgumentError(std::string(kv.key) + ": unknown member");
      if (!m.members_.emplace(kv.key, kv.value).second) {
        return InvalidArgumentError(std::string(kv.key) + ": duplicate member");
      }
    }
    return m;
  }

  bool Has(std::string_view name) const { return members_.count(name) > 0; }

  Result<element> Get(std::string_view name) const {
    auto it = members_.find(name);
    if (it == members_.end()) return InvalidArgumentError(std::string(name) + ": missing");
    return it->second;
  }

  Result<std::string> String(std::string_view name) const {
    NHI_ASSIGN_OR_RETURN(element e, Get(name));
    std::string_view s;
    if (e.get_string().get(s) != simdjson::SUCCESS) {
      return InvalidArgumentError(std::string(name) + ": must be a string");
    }
    return std::string(s);
  }

  Result<std::optional<std::string>> OptString(std::string_view name) const {
    if (!Has(name)) return std::optional<std::string>();
    NHI_ASSIGN_OR_RETURN(std::string s, String(name));
    if (s.empty()) return InvalidArgumentError(std::string(name) + ": must not be empty");
    return std::optional<std::string>(std::move(s));
  }

  Result<uint64_t> Uint(std::string_view name) const {
    NHI_ASSIGN_OR_RETURN(element e, Get(name));
    return UintOf(e, name);
  }

  static Result<uint64_t> UintOf(const element& e, std::string_view name) {
    uint64_t v = 0;
    if (!e.is_int64() && !e.is_uint64()) {
      return InvalidArgumentError(std::string(name) + ": must be a non-negative integer");
    }
    if (e.get_uint64().get(v) != simdjson::SUCCESS) {
      return InvalidArgumentError(std::string(name) + ": must be a non-negative integer");
    }
    return v;
  }

  Result<std::string> Base64(std::string_view name) const {
    NHI_ASSIGN_OR_RETURN(std::string s, String(name));
    auto bytes = Base64Decode(s);
    if (!bytes) return InvalidArgumentError(std::string(name) + ": not canonical base64");
    return std::move(*bytes);
  }

  Result<std::vector<tlog::Hash>> Hashes(std::string_view name) const {
    NHI_ASSIGN_OR_RETURN(element e, Get(name));
    simdjson::dom::array a;
    if (e.get_array().get(a) != simdjson::SUCCESS) {
      return InvalidArgumentError(std::string(name) + ": must be an array of base64 hashes");
    }
    std::vector<tlog::Hash> out;
    size_t i = 0;
    for (element h : a) {
      std::string where = std::string(name) + "[" + std::to_string(i++) + "]";
      std::string_view s;
      if (h.get_string().get(s) != simdjson::SUCCESS) {
        return InvalidArgumentError(where + ": must be a string");
      }
      auto bytes = Base64Decode(s);
      auto hash = bytes ? crypto::HashFromBytes(*bytes) : std::nullopt;
      if (!hash) return InvalidArgumentError(where + ": not the base64 of a 32-byte hash");
      out.push_back(*hash);
    }
    if (out.size() > 64) return InvalidArgumentError(std::string(name) + ": more than 64 hashes");
    return out;
  }

 private:
  std::map<std::string_view, element, std::less<>> members_;
};

Result<PackQuery> ParseQuery(const element& e) {
  NHI_ASSIGN_OR_RETURN(Members m, Members::Of(e, {"case", "from", "identity", "request", "to"}));
  PackQuery q;
  if (m.Has("case")) {
    NHI_ASSIGN_OR_RETURN(q.case_id, m.Uint("case"));
  }
  for (auto [name, field] : {std::pair{"from", &q.from}, std::pair{"identity", &q.identity},
                             std::pair{"request", &q.request}, std::pair{"to", &q.to}}) {
    NHI_ASSIGN_OR_RETURN(auto v, m.OptString(name));
    if (v) *field = std::move(*v);
  }
  return q;
}

Result<PackLine> ParseHeader(const Members& m) {
  HeaderLine h;
  NHI_ASSIGN_OR_RETURN(std::string format, m.String("format"));
  if (format != kPackFormat) {
    return InvalidArgumentError("format: \"" + format + "\" is not \"" + kPackFormat + "\"");
  }
  NHI_ASSIGN_OR_RETURN(element v, m.Get("version"));
  if (v.get_int64().get(h.version) != simdjson::SUCCESS) {
    return InvalidArgumentError("version: must be an integer");
  }
  NHI_ASSIGN_OR_RETURN(h.events, m.Uint("events"));
  return PackLine(std::move(h));
}

Result<PackLine> ParsePart(const element& root, std::string_view part) {
  if (part == "key") {
    NHI_ASSIGN_OR_RETURN(Members m, Members::Of(root, {"part", "verifier_key"}));
    KeyLine k;
    NHI_ASSIGN_OR_RETURN(k.verifier_key, m.String("verifier_key"));
    return PackLine(std::move(k));
  }
  if (part == "checkpoint") {
    NHI_ASSIGN_OR_RETURN(Members m, Members::Of(root, {"note", "part"}));
    CheckpointLine c;
    NHI_ASSIGN_OR_RETURN(c.note, m.String("note"));
    return PackLine(std::move(c));
  }
  if (part == "consistency") {
    NHI_ASSIGN_OR_RETURN(Members m, Members::Of(root, {"hashes", "latest", "part"}));
    ConsistencyLine c;
    NHI_ASSIGN_OR_RETURN(c.hashes, m.Hashes("hashes"));
    NHI_ASSIGN_OR_RETURN(c.latest, m.String("latest"));
    return PackLine(std::move(c));
  }
  if (part == "event") {
    NHI_ASSIGN_OR_RETURN(
        Members m, Members::Of(root, {"erased_by", "leaf", "part", "proof", "raw", "salt", "seq"}));
    EventLine ev;
    NHI_ASSIGN_OR_RETURN(ev.seq, m.Uint("seq"));
    NHI_ASSIGN_OR_RETURN(ev.leaf, m.String("leaf"));
    NHI_ASSIGN_OR_RETURN(ev.proof, m.Hashes("proof"));
    if (m.Has("raw") != m.Has("salt")) {
      return InvalidArgumentError(std::string(m.Has("raw") ? "salt" : "raw") +
                                  ": missing (raw and salt come together)");
    }
    if (m.Has("raw")) {
      NHI_ASSIGN_OR_RETURN(ev.raw, m.Base64("raw"));
      NHI_ASSIGN_OR_RETURN(ev.salt, m.Base64("salt"));
    }
    if (m.Has("erased_by")) {
      if (ev.raw) return InvalidArgumentError("erased_by: an erased record has no raw or salt");
      NHI_ASSIGN_OR_RETURN(ev.erased_by, m.Uint("erased_by"));
    }
    return PackLine(std::move(ev));
  }
  if (part == "policy") {
    NHI_ASSIGN_OR_RETURN(Members m, Members::Of(root, {"events", "id", "part", "version"}));
    PolicyLine p;
    NHI_ASSIGN_OR_RETURN(p.id, m.String("id"));
    NHI_ASSIGN_OR_RETURN(auto version, m.OptString("version"));
    if (version) p.version = std::move(*version);
    NHI_ASSIGN_OR_RETURN(element events, m.Get("events"));
    simdjson::dom::array a;
    if (events.get_array().get(a) != simdjson::SUCCESS) {
      return InvalidArgumentError("events: must be an array of sequence numbers");
    }
    size_t i = 0;
    for (element s : a) {
      NHI_ASSIGN_OR_RETURN(uint64_t seq, Members::UintOf(s, "events[" + std::to_string(i++) + "]"));
      p.events.push_back(seq);
    }
    return PackLine(std::move(p));
  }
  if (part == "summary") {
    NHI_ASSIGN_OR_RETURN(Members m, Members::Of(root, {"json", "part", "query", "text", "type"}));
    SummaryLine s;
    NHI_ASSIGN_OR_RETURN(s.type, m.String("type"));
    NHI_ASSIGN_OR_RETURN(element q, m.Get("query"));
    auto query = ParseQuery(q);
    if (!query.ok()) return query.status().WithContext("query");
    s.query = std::move(*query);
    NHI_ASSIGN_OR_RETURN(element j, m.Get("json"));
    if (!j.is_object()) return InvalidArgumentError("json: must be a JSON object");
    Status c = json::AppendCanonical(j, &s.json);
    if (!c.ok()) return c.WithContext("json");
    NHI_ASSIGN_OR_RETURN(s.text, m.String("text"));
    return PackLine(std::move(s));
  }
  return InvalidArgumentError("part: unknown part \"" + std::string(part) + "\"");
}

}  // namespace

Result<PackLine> LineParser::Parse(std::string_view line) {
  // Lines are canonical JSON objects: no white space around them.
  if (line.empty() || line.front() != '{' || line.back() != '}') {
    return InvalidArgumentError("not a JSON object on one line");
  }
  element root;
  auto err = json::ParseJson(parser_, line, &root);
  if (err != simdjson::SUCCESS) {
    return InvalidArgumentError(std::string("not valid JSON: ") + simdjson::error_message(err));
  }
  if (!root.is_object()) return InvalidArgumentError("not a JSON object");
  if (root["format"].error() == simdjson::SUCCESS) {
    NHI_ASSIGN_OR_RETURN(Members m, Members::Of(root, {"events", "format", "version"}));
    return ParseHeader(m);
  }
  std::string_view part;
  auto p = root["part"];
  if (p.error() != simdjson::SUCCESS) return InvalidArgumentError("part: missing");
  if (p.get_string().get(part) != simdjson::SUCCESS) {
    return InvalidArgumentError("part: must be a string");
  }
  return ParsePart(root, part);
}

}  // namespace nhitrace::evidence
