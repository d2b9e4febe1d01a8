#include "event/codec.h"

#include <array>

#include "base/encoding.h"
#include "base/time.h"
#include "base/utf8.h"
#include "crypto/sha256.h"
#include "json/canonical.h"
#include "json/dom.h"
#include "json/field_errors.h"
#include "json/writer.h"

namespace nhitrace::event {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

bool IsPlainName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) {
      return false;
    }
  }
  return true;
}

// The path of member `name` under `parent`: "parent.name" for plain names; any other name
// (empty, punctuation, control characters, longer than 64 bytes) appears as the JSON string
// literal of its first 64 bytes in brackets, with ':' escaped, so that a path is always
// printable and never contains ": " (which separates path and reason in messages).
std::string Path(std::string_view parent, std::string_view name) {
  std::string p(parent);
  if (IsPlainName(name)) {
    if (!p.empty()) p += '.';
    p += name;
    return p;
  }
  std::string_view shown = name.substr(0, 64);
  while (!shown.empty() && !IsValidUtf8(shown)) shown.remove_suffix(1);  // whole characters
  std::string quoted;
  json::AppendCanonicalString(shown, &quoted);
  if (shown.size() < name.size()) quoted.insert(quoted.size() - 1, "...");
  p += '[';
  for (char c : quoted) {
    if (c == ':') {
      p += "\\u003a";
    } else {
      p += c;
    }
  }
  p += ']';
  return p;
}

std::string Index(std::string_view parent, size_t i) {
  return std::string(parent) + "[" + std::to_string(i) + "]";
}

using json::FieldError;
using json::TypeName;
using json::WrongType;

enum class Text { kIdentifier, kFree };

// A non-empty string. Identifiers are at most kMaxKeyBytes, have no control characters and no
// leading or trailing white space; free text is at most kMaxTextBytes.
Status ReadString(const element& e, std::string_view path, Text text, std::string* out) {
  if (e.type() != element_type::STRING) return WrongType(path, e, "a string");
  std::string_view s = e.get_string().value_unsafe();
  if (s.empty()) return FieldError(path, "must not be empty (omit the field instead)");
  size_t max = text == Text::kIdentifier ? kMaxKeyBytes : kMaxTextBytes;
  if (s.size() > max) return FieldError(path, "longer than " + std::to_string(max) + " bytes");
  if (text == Text::kIdentifier) {
    for (size_t i = 0; i < s.size(); ++i) {
      auto u = static_cast<unsigned char>(s[i]);
      auto next = i + 1 < s.size() ? static_cast<unsigned char>(s[i + 1]) : 0;
      bool c1 = u == 0xC2 && next >= 0x80 && next <= 0x9F;  // U+0080-U+009F
      bool separator = u == 0xE2 && next == 0x80 && i + 2 < s.size() &&
                       (static_cast<unsigned char>(s[i + 2]) == 0xA8 ||
                        static_cast<unsigned char>(s[i + 2]) == 0xA9);  // U+2028, U+2029
      if (u < 0x20 || u == 0x7F || c1 || separator) {
        return FieldError(path, "must not contain control characters or line separators");
      }
    }
    if (s.front() == ' ' || s.back() == ' ') {
      return FieldError(path, "must not start or end with a space");
    }
  }
  out->assign(s);
  return OkStatus();
}

// With `saturate`, instants beyond 64-bit nanoseconds (1677..2262) are clamped: right for the
// bounds of a validity window, wrong for the time something happened.
Status ReadTime(const element& e, std::string_view path, std::string* text, int64_t* ns,
                bool saturate = false) {
  NHI_RETURN_IF_ERROR(ReadString(e, path, Text::kIdentifier, text));
  auto t = ParseRfc3339(*text, saturate);
  if (!t.ok()) return FieldError(path, t.status().message());
  *ns = t->unix_nanos;
  return OkStatus();
}

Status ReadStringList(const element& e, std::string_view path, std::vector<std::string>* out) {
  if (e.type() != element_type::ARRAY) return WrongType(path, e, "an array of strings");
  size_t i = 0;
  for (element item : json::ArrayOf(e)) {
    if (i >= kMaxListItems) {
      return FieldError(path, "more than " + std::to_string(kMaxListItems) + " items");
    }
    std::string s;
    NHI_RETURN_IF_ERROR(ReadString(item, Index(path, i), Text::kIdentifier, &s));
    out->push_back(std::move(s));
    ++i;
  }
  if (i == 0) return FieldError(path, "must not be empty (omit the field instead)");
  return OkStatus();
}

// A member of a small object whose members are all strings.
struct StringMember {
  std::string_view name;
  Text text;
  bool required;
  bool (*valid)(std::string_view);  // may be null
  std::string_view valid_values;    // for the error message
};

template <size_t N>
Status ReadStringObject(const element& e, std::string_view path,
                        const std::array<StringMember, N>& members,
                        const std::array<std::string*, N>& outs) {
  if (e.type() != element_type::OBJECT) return WrongType(path, e, "an object");
  if (json::ObjectOf(e).size() == 0) {
    return FieldError(path, "must not be empty (omit the field instead)");
  }
  std::array<bool, N> seen{};
  for (simdjson::dom::key_value_pair kv : json::ObjectOf(e)) {
    size_t i = 0;
    while (i < N && members[i].name != kv.key) ++i;
    std::string p = Path(path, kv.key);
    if (i == N) return FieldError(p, "unknown field");
    if (seen[i]) return FieldError(p, "duplicate field");
    seen[i] = true;
    NHI_RETURN_IF_ERROR(ReadString(kv.value, p, members[i].text, outs[i]));
    if (members[i].valid && !members[i].valid(*outs[i])) {
      return FieldError(p, "must be one of " + std::string(members[i].valid_values));
    }
  }
  for (size_t i = 0; i < N; ++i) {
    if (members[i].required && !seen[i]) {
      return FieldError(Path(path, members[i].name), "required field is missing");
    }
  }
  return OkStatus();
}

bool IsOutcomeResult(std::string_view s) { return s == "success" || s == "failure"; }

Status ReadWindow(const element& e, std::string_view path, Window* w) {
  if (e.type() != element_type::OBJECT) return WrongType(path, e, "an object");
  bool any = false, seen_nb = false, seen_na = false;
  for (simdjson::dom::key_value_pair kv : json::ObjectOf(e)) {
    std::string p = Path(path, kv.key);
    if (kv.key == "not_before" || kv.key == "not_after") {
      bool nb = kv.key == "not_before";
      bool& seen = nb ? seen_nb : seen_na;
      if (seen) return FieldError(p, "duplicate field");
      seen = true;
      NHI_RETURN_IF_ERROR(ReadTime(kv.value, p, nb ? &w->not_before : &w->not_after,
                                   nb ? &w->not_before_ns : &w->not_after_ns,
                                   /*saturate=*/true));
    } else if (kv.key == "ttl_seconds") {
      if (w->ttl_seconds) return FieldError(p, "duplicate field");
      int64_t v;
      if (kv.value.type() == element_type::INT64) {
        v = kv.value.get_int64().value_unsafe();
      } else if (kv.value.type() == element_type::UINT64) {
        v = -1;  // too large
      } else {
        return WrongType(p, kv.value, "an integer");
      }
      if (v <= 0 || v > (int64_t{1} << 40)) {
        return FieldError(p, "must be a positive number of seconds (at most 2^40)");
      }
      w->ttl_seconds = v;
    } else {
      return FieldError(p, "unknown field");
    }
    any = true;
  }
  if (!any) return FieldError(path, "needs not_before, not_after or ttl_seconds");
  if (seen_nb && seen_na && w->not_after_ns < w->not_before_ns) {
    return FieldError(Path(path, "not_after"), "is before not_before");
  }
  return OkStatus();
}

Status ReadScope(const element& e, std::string_view path, Scope* s) {
  if (e.type() != element_type::OBJECT) return WrongType(path, e, "an object");
  if (json::ObjectOf(e).size() == 0) {
    return FieldError(path, "must not be empty (omit the field instead)");
  }
  bool seen_r = false, seen_p = false;
  for (simdjson::dom::key_value_pair kv : json::ObjectOf(e)) {
    std::string p = Path(path, kv.key);
    if (kv.key == "resources") {
      if (seen_r) return FieldError(p, "duplicate field");
      seen_r = true;
      NHI_RETURN_IF_ERROR(ReadStringList(kv.value, p, &s->resources));
    } else if (kv.key == "permissions") {
      if (seen_p) return FieldError(p, "duplicate field");
      seen_p = true;
      NHI_RETURN_IF_ERROR(ReadStringList(kv.value, p, &s->permissions));
    } else {
      return FieldError(p, "unknown field");
    }
  }
  return OkStatus();
}

// The top-level members of a native record and of the "event" member of a leaf.
enum Field : uint32_t {
  kFKind = 1u << 0,
  kFSource = 1u << 1,
  kFTime = 1u << 2,
  kFCorrelation = 1u << 3,
  kFIdentity = 1u << 4,
  kFAliases = 1u << 5,
  kFActor = 1u << 6,
  kFSubject = 1u << 7,
  kFDelegation = 1u << 8,
  kFScope = 1u << 9,
  kFWindow = 1u << 10,
  kFPolicy = 1u << 11,
  kFOutcome = 1u << 12,
  kFRationale = 1u << 13,
  kFAttributes = 1u << 14,
  kFV = 1u << 15,
  kFRaw = 1u << 16,
};

struct FieldName {
  std::string_view name;
  Field bit;
};
constexpr FieldName kFields[] = {
    {"kind", kFKind},
    {"source", kFSource},
    {"time", kFTime},
    {"correlation_key", kFCorrelation},
    {"identity", kFIdentity},
    {"aliases", kFAliases},
    {"actor", kFActor},
    {"subject", kFSubject},
    {"delegation", kFDelegation},
    {"scope", kFScope},
    {"window", kFWindow},
    {"policy", kFPolicy},
    {"outcome", kFOutcome},
    {"rationale", kFRationale},
    {"attributes", kFAttributes},
    {"v", kFV},
    {"raw", kFRaw},
};

// Decodes the event members of `obj`. With `native`, "v" and "raw" are also accepted (and the
// canonical "raw" member is stored in `raw_member`); under `prefix` errors are reported as
// "<prefix>.<field>".
Status DecodeFields(const element& obj, std::string_view prefix, bool native, Event* e,
                    std::string* raw_member) {
  if (obj.type() != element_type::OBJECT) {
    return WrongType(prefix.empty() ? "record" : prefix, obj, "a JSON object");
  }
  uint32_t seen = 0;
  for (simdjson::dom::key_value_pair kv : json::ObjectOf(obj)) {
    std::string path = Path(prefix, kv.key);
    Field bit{};
    bool known = false;
    for (const auto& f : kFields) {
      if (f.name == kv.key) {
        bit = f.bit;
        known = true;
      }
    }
    if (!known || (!native && (bit == kFV || bit == kFRaw))) {
      return FieldError(path, "unknown field (free-form data belongs in \"attributes\")");
    }
    if (seen & bit) return FieldError(path, "duplicate field");
    seen |= bit;
    const element& v = kv.value;
    switch (bit) {
      case kFKind: {
        std::string k;
        NHI_RETURN_IF_ERROR(ReadString(v, path, Text::kIdentifier, &k));
        auto kind = ParseKind(k);
        if (!kind) {
          return FieldError(path, "unknown kind \"" + k +
                                      "\" (one of request, approval, denial, provision, action, "
                                      "rotation, revocation, expiry, reconciliation, signal, "
                                      "support, identity, policy, finding, case, erasure)");
        }
        e->kind = *kind;
        break;
      }
      case kFSource: {
        static constexpr std::array<StringMember, 2> kM = {{
            {"system", Text::kIdentifier, true, nullptr, ""},
            {"event_id", Text::kIdentifier, true, nullptr, ""},
        }};
        NHI_RETURN_IF_ERROR(
            ReadStringObject<2>(v, path, kM, {&e->source_system, &e->source_event_id}));
        break;
      }
      case kFTime:
        NHI_RETURN_IF_ERROR(ReadTime(v, path, &e->time, &e->time_ns));
        break;
      case kFCorrelation:
        NHI_RETURN_IF_ERROR(ReadString(v, path, Text::kIdentifier, &e->correlation_key));
        break;
      case kFIdentity:
        NHI_RETURN_IF_ERROR(ReadString(v, path, Text::kIdentifier, &e->identity));
        break;
      case kFAliases:
        NHI_RETURN_IF_ERROR(ReadStringList(v, path, &e->aliases));
        break;
      case kFActor: {
        static constexpr std::array<StringMember, 2> kM = {{
            {"id", Text::kIdentifier, true, nullptr, ""},
            {"type", Text::kIdentifier, false, &IsActorType, "human, nhi, system"},
        }};
        e->actor.emplace();
        NHI_RETURN_IF_ERROR(ReadStringObject<2>(v, path, kM, {&e->actor->id, &e->actor->type}));
        break;
      }
      case kFSubject: {
        static constexpr std::array<StringMember, 5> kM = {{
            {"kind", Text::kIdentifier, false, &IsSubjectKind,
             "service_account, api_key, token, certificate, workload, ai_agent, oauth_app, role, "
             "other"},
            {"name", Text::kIdentifier, false, nullptr, ""},
            {"owner", Text::kIdentifier, false, nullptr, ""},
            {"sponsor", Text::kIdentifier, false, nullptr, ""},
            {"system", Text::kIdentifier, false, nullptr, ""},
        }};
        e->subject.emplace();
        auto& s = *e->subject;
        NHI_RETURN_IF_ERROR(
            ReadStringObject<5>(v, path, kM, {&s.kind, &s.name, &s.owner, &s.sponsor, &s.system}));
        break;
      }
      case kFDelegation: {
        static constexpr std::array<StringMember, 4> kM = {{
            {"agent_instance", Text::kIdentifier, false, nullptr, ""},
            {"credential", Text::kIdentifier, false, nullptr, ""},
            {"sponsor", Text::kIdentifier, false, nullptr, ""},
            {"tool_call", Text::kIdentifier, false, nullptr, ""},
        }};
        e->delegation.emplace();
        auto& d = *e->delegation;
        NHI_RETURN_IF_ERROR(ReadStringObject<4>(
            v, path, kM, {&d.agent_instance, &d.credential, &d.sponsor, &d.tool_call}));
        break;
      }
      case kFScope:
        e->scope.emplace();
        NHI_RETURN_IF_ERROR(ReadScope(v, path, &*e->scope));
        break;
      case kFWindow:
        e->window.emplace();
        NHI_RETURN_IF_ERROR(ReadWindow(v, path, &*e->window));
        break;
      case kFPolicy: {
        static constexpr std::array<StringMember, 3> kM = {{
            {"id", Text::kIdentifier, true, nullptr, ""},
            {"version", Text::kIdentifier, false, nullptr, ""},
            {"hash", Text::kIdentifier, false, nullptr, ""},
        }};
        e->policy.emplace();
        auto& p = *e->policy;
        NHI_RETURN_IF_ERROR(ReadStringObject<3>(v, path, kM, {&p.id, &p.version, &p.hash}));
        break;
      }
      case kFOutcome: {
        static constexpr std::array<StringMember, 3> kM = {{
            {"result", Text::kIdentifier, true, &IsOutcomeResult, "success, failure"},
            {"code", Text::kIdentifier, false, nullptr, ""},
            {"message", Text::kFree, false, nullptr, ""},
        }};
        e->outcome.emplace();
        auto& o = *e->outcome;
        NHI_RETURN_IF_ERROR(ReadStringObject<3>(v, path, kM, {&o.result, &o.code, &o.message}));
        break;
      }
      case kFRationale:
        NHI_RETURN_IF_ERROR(ReadString(v, path, Text::kFree, &e->rationale));
        break;
      case kFAttributes: {
        if (v.type() != element_type::OBJECT) return WrongType(path, v, "an object");
        Status s = json::AppendCanonical(v, &e->attributes);
        if (!s.ok()) return FieldError(path, s.message());
        if (e->attributes == "{}") e->attributes.clear();  // {} and no attributes are the same
        break;
      }
      case kFV: {
        if (v.type() != element_type::INT64 || v.get_int64().value_unsafe() != kSchemaVersion) {
          return FieldError(path, "unsupported schema version (this build reads version 1)");
        }
        break;
      }
      case kFRaw: {
        Status s = json::AppendCanonical(v, raw_member);
        if (!s.ok()) return FieldError(path, s.message());
        break;
      }
    }
  }
  // Required everywhere.
  for (auto [bit, name] :
       {std::pair{kFKind, "kind"}, std::pair{kFSource, "source"}, std::pair{kFTime, "time"}}) {
    if (!(seen & bit)) return FieldError(Path(prefix, name), "required field is missing");
  }
  // Required by kind: what links the event into a chain.
  switch (e->kind) {
    case Kind::kRequest:
    case Kind::kApproval:
    case Kind::kDenial:
      if (e->correlation_key.empty()) {
        return FieldError(Path(prefix, "correlation_key"),
                          "required for kind " + std::string(KindName(e->kind)));
      }
      break;
    case Kind::kAction:
    case Kind::kRotation:
    case Kind::kRevocation:
    case Kind::kExpiry:
    case Kind::kReconciliation:
    case Kind::kIdentity:
      if (e->identity.empty()) {
        return FieldError(Path(prefix, "identity"),
                          "required for kind " + std::string(KindName(e->kind)));
      }
      break;
    case Kind::kProvision:
      if (e->identity.empty() && e->correlation_key.empty()) {
        return FieldError(Path(prefix, "identity"),
                          "kind provision needs identity or correlation_key");
      }
      break;
    case Kind::kSignal:
    case Kind::kSupport:
    case Kind::kPolicy:
    case Kind::kFinding:
    case Kind::kCase:
    case Kind::kErasure:
      break;
  }
  return OkStatus();
}

void WriteStrings(json::JsonWriter& w, std::string_view key, const std::vector<std::string>& v) {
  w.Key(key).BeginArray();
  for (const auto& s : v) w.String(s);
  w.EndArray();
}

void MaybeString(json::JsonWriter& w, std::string_view key, const std::string& v) {
  if (!v.empty()) w.Key(key).String(v);
}

void WriteScope(json::JsonWriter& w, const Scope& scope) {
  w.BeginObject();
  if (!scope.permissions.empty()) WriteStrings(w, "permissions", scope.permissions);
  if (!scope.resources.empty()) WriteStrings(w, "resources", scope.resources);
  w.EndObject();
}

void Encode(json::JsonWriter& w, const Event& e) {
  w.BeginObject();
  if (e.actor) {
    w.Key("actor").BeginObject();
    w.Key("id").String(e.actor->id);
    MaybeString(w, "type", e.actor->type);
    w.EndObject();
  }
  if (!e.aliases.empty()) WriteStrings(w, "aliases", e.aliases);
  if (!e.attributes.empty()) w.Key("attributes").Raw(e.attributes);
  MaybeString(w, "correlation_key", e.correlation_key);
  if (e.delegation) {
    const auto& d = *e.delegation;
    w.Key("delegation").BeginObject();
    MaybeString(w, "agent_instance", d.agent_instance);
    MaybeString(w, "credential", d.credential);
    MaybeString(w, "sponsor", d.sponsor);
    MaybeString(w, "tool_call", d.tool_call);
    w.EndObject();
  }
  MaybeString(w, "identity", e.identity);
  w.Key("kind").String(KindName(e.kind));
  if (e.outcome) {
    w.Key("outcome").BeginObject();
    MaybeString(w, "code", e.outcome->code);
    MaybeString(w, "message", e.outcome->message);
    w.Key("result").String(e.outcome->result);
    w.EndObject();
  }
  if (e.policy) {
    w.Key("policy").BeginObject();
    MaybeString(w, "hash", e.policy->hash);
    w.Key("id").String(e.policy->id);
    MaybeString(w, "version", e.policy->version);
    w.EndObject();
  }
  MaybeString(w, "rationale", e.rationale);
  if (e.scope) {
    w.Key("scope");
    WriteScope(w, *e.scope);
  }
  w.Key("source").BeginObject();
  w.Key("event_id").String(e.source_event_id);
  w.Key("system").String(e.source_system);
  w.EndObject();
  if (e.subject) {
    const auto& s = *e.subject;
    w.Key("subject").BeginObject();
    MaybeString(w, "kind", s.kind);
    MaybeString(w, "name", s.name);
    MaybeString(w, "owner", s.owner);
    MaybeString(w, "sponsor", s.sponsor);
    MaybeString(w, "system", s.system);
    w.EndObject();
  }
  w.Key("time").String(e.time);
  if (e.window) {
    const auto& win = *e.window;
    w.Key("window").BeginObject();
    MaybeString(w, "not_after", win.not_after);
    MaybeString(w, "not_before", win.not_before);
    if (win.ttl_seconds) w.Key("ttl_seconds").Int(*win.ttl_seconds);
    w.EndObject();
  }
  w.EndObject();
}

Status LeafError(std::string_view what) {
  return DataLossError("leaf is not a valid canonical event: " + std::string(what));
}

}  // namespace

Result<NativeRecord> DecodeNative(const simdjson::dom::element& root) {
  NativeRecord rec;
  NHI_RETURN_IF_ERROR(DecodeFields(root, "", /*native=*/true, &rec.event, &rec.raw_member));
  return rec;
}

std::string EncodeContent(const Event& e) {
  json::JsonWriter w = json::JsonWriter::Canonical();
  Encode(w, e);
  return w.Take();
}

std::string EncodeScope(const Scope& scope) {
  json::JsonWriter w = json::JsonWriter::Canonical();
  WriteScope(w, scope);
  return w.Take();
}

std::string ContentHash(std::string_view content, std::string_view raw_member) {
  crypto::Sha256Hasher h;
  h.Update(content);
  h.Update("\n", 1);
  h.Update(raw_member);
  return std::string(crypto::AsBytes(h.Final()));
}

std::string EncodeLeafPrefix(std::string_view content, int64_t ingested_ns,
                             const std::optional<RawDigest>& raw) {
  // Members in canonical order: event, ingested_at, raw, seq, v.
  std::string out;
  out.reserve(content.size() + 160);
  out += R"({"event":)";
  out += content;
  out += R"(,"ingested_at":)";
  json::AppendCanonicalString(FormatRfc3339Utc(ingested_ns, 6), &out);
  if (raw) {
    out += R"(,"raw":{"salted_sha256":")";
    out += HexEncode(raw->salted_sha256);
    out += R"(","size":)";
    json::AppendCanonicalNumber(static_cast<double>(raw->size), &out);
    out += '}';
  }
  out += R"(,"seq":)";
  return out;
}

void FinishLeaf(uint64_t seq, std::string* prefix) {
  json::AppendCanonicalNumber(static_cast<double>(seq), prefix);
  *prefix += R"(,"v":)";
  json::AppendCanonicalInteger(kSchemaVersion, prefix);
  *prefix += '}';
}

std::string EncodeLeaf(std::string_view content, const LeafEnvelope& env) {
  std::string leaf = EncodeLeafPrefix(content, env.ingested_ns, env.raw);
  FinishLeaf(env.seq, &leaf);
  return leaf;
}

Result<DecodedLeaf> DecodeLeaf(std::string_view leaf) {
  simdjson::dom::parser parser;
  return DecodeLeaf(leaf, parser, /*check_canonical=*/true);
}

Result<DecodedLeaf> DecodeLeaf(std::string_view leaf, simdjson::dom::parser& parser,
                               bool check_canonical) {
  element root;
  if (auto err = json::ParseJson(parser, leaf, &root)) {
    return LeafError(simdjson::error_message(err));
  }
  if (root.type() != element_type::OBJECT) return LeafError("not an object");
  DecodedLeaf out;
  bool have_event = false, have_ingested = false, have_seq = false, have_v = false;
  for (simdjson::dom::key_value_pair kv : json::ObjectOf(root)) {
    if (kv.key == "event") {
      std::string ignored;
      Status s = DecodeFields(kv.value, "event", /*native=*/false, &out.event, &ignored);
      if (!s.ok()) return LeafError(s.message());
      have_event = true;
    } else if (kv.key == "ingested_at") {
      if (kv.value.type() != element_type::STRING) return LeafError("ingested_at");
      auto t = ParseRfc3339(kv.value.get_string().value_unsafe());
      if (!t.ok()) return LeafError("ingested_at: " + t.status().message());
      out.envelope.ingested_ns = t->unix_nanos;
      have_ingested = true;
    } else if (kv.key == "raw") {
      if (kv.value.type() != element_type::OBJECT) return LeafError("raw");
      RawDigest d;
      bool have_hash = false, have_size = false;
      for (simdjson::dom::key_value_pair r : json::ObjectOf(kv.value)) {
        if (r.key == "salted_sha256" && r.value.type() == element_type::STRING) {
          auto bytes = HexDecode(r.value.get_string().value_unsafe());
          if (!bytes || bytes->size() != 32) return LeafError("raw.salted_sha256");
          d.salted_sha256 = std::move(*bytes);
          have_hash = true;
        } else if (r.key == "size" && (r.value.type() == element_type::INT64 ||
                                       r.value.type() == element_type::UINT64)) {
          d.size = r.value.get_uint64().value_unsafe();
          have_size = true;
        } else {
          return LeafError("raw." + std::string(r.key));
        }
      }
      if (!have_hash || !have_size) return LeafError("raw needs salted_sha256 and size");
      out.envelope.raw = std::move(d);
    } else if (kv.key == "seq") {
      if (kv.value.type() != element_type::INT64 && kv.value.type() != element_type::UINT64) {
        return LeafError("seq");
      }
      out.envelope.seq = kv.value.get_uint64().value_unsafe();
      have_seq = true;
    } else if (kv.key == "v") {
      if (kv.value.type() != element_type::INT64 ||
          kv.value.get_int64().value_unsafe() != kSchemaVersion) {
        return LeafError("unsupported version");
      }
      have_v = true;
    } else {
      return LeafError("unknown member " + std::string(kv.key));
    }
  }
  if (!have_event || !have_ingested || !have_seq || !have_v) {
    return LeafError("missing envelope member");
  }
  // The bytes must be exactly the canonical encoding of what they say.
  if (check_canonical && EncodeLeaf(EncodeContent(out.event), out.envelope) != leaf) {
    return LeafError("bytes are not the canonical encoding of their content");
  }
  return out;
}

}  // namespace nhitrace::event
