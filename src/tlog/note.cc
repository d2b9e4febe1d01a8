#include "tlog/note.h"

#include <cstdio>
#include <set>
#include <utility>

#include "base/encoding.h"
#include "base/utf8.h"
#include "crypto/sha256.h"

namespace nhitrace::tlog {
namespace {

constexpr std::string_view kDash = "\xE2\x80\x94";  // U+2014 EM DASH
constexpr size_t kMaxSignatures = 100;

std::string KeyIdHex(uint32_t id) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", id);
  return buf;
}

// Splits on the first `n` '+' characters (base64 material may itself contain '+').
bool SplitPlus(std::string_view s, size_t n, std::vector<std::string_view>* parts) {
  parts->clear();
  for (size_t i = 0; i < n; ++i) {
    size_t p = s.find('+');
    if (p == std::string_view::npos) return false;
    parts->push_back(s.substr(0, p));
    s.remove_prefix(p + 1);
  }
  parts->push_back(s);
  return true;
}

bool ParseKeyIdHex(std::string_view hex, uint32_t* out) {
  if (hex.size() != 8) return false;
  auto bytes = HexDecode(hex);
  if (!bytes) return false;
  *out = 0;
  for (char c : *bytes) *out = *out << 8 | static_cast<unsigned char>(c);
  return true;
}

// Unicode white space code points that may not appear in key names (as Go's unicode.IsSpace).
bool ContainsSpace(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == ' ' || (c >= 0x09 && c <= 0x0D)) return true;
    if (c == 0xC2 && i + 1 < s.size()) {
      auto d = static_cast<unsigned char>(s[i + 1]);
      if (d == 0x85 || d == 0xA0) return true;  // NEL, NBSP
    }
    if (c == 0xE1 && s.substr(i, 3) == "\xE1\x9A\x80") return true;  // U+1680
    if (c == 0xE2 && i + 2 < s.size()) {
      auto d = static_cast<unsigned char>(s[i + 1]);
      auto e = static_cast<unsigned char>(s[i + 2]);
      if (d == 0x80 && ((e >= 0x80 && e <= 0x8A) || e == 0xA8 || e == 0xA9 || e == 0xAF)) {
        return true;  // U+2000-200A, U+2028, U+2029, U+202F
      }
      if (d == 0x81 && e == 0x9F) return true;  // U+205F
    }
    if (c == 0xE3 && s.substr(i, 3) == "\xE3\x80\x80") return true;  // U+3000
  }
  return false;
}

// C2SP signed-note: "Signed notes MUST be valid UTF-8 and MUST NOT contain any ASCII control
// characters (those below U+0020) other than newline."
bool HasControlCharacter(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 && c != '\n') return true;
  }
  return false;
}

}  // namespace

bool IsValidKeyName(std::string_view name) {
  return !name.empty() && IsValidUtf8(name) && name.find('+') == std::string_view::npos &&
         !ContainsSpace(name);
}

uint32_t NoteKeyId(std::string_view name, std::string_view public_key) {
  crypto::Sha256Hasher h;
  h.Update(name);
  static constexpr char kSep[2] = {'\n', static_cast<char>(kAlgEd25519)};
  h.Update(kSep, 2);
  h.Update(public_key);
  crypto::Hash d = h.Final();
  return uint32_t{d[0]} << 24 | uint32_t{d[1]} << 16 | uint32_t{d[2]} << 8 | d[3];
}

std::string NoteVerifier::ToString() const {
  std::string material(1, static_cast<char>(kAlgEd25519));
  material += public_key;
  return name + "+" + KeyIdHex(key_id) + "+" + Base64Encode(material);
}

Result<NoteVerifier> NoteVerifier::Parse(std::string_view s) {
  std::vector<std::string_view> parts;
  if (!SplitPlus(s, 2, &parts)) {
    return InvalidArgumentError("verifier key must be <name>+<hex key id>+<base64 key>");
  }
  NoteVerifier v;
  v.name = std::string(parts[0]);
  if (!IsValidKeyName(v.name)) return InvalidArgumentError("verifier key has an invalid name");
  if (!ParseKeyIdHex(parts[1], &v.key_id)) {
    return InvalidArgumentError("verifier key id must be 8 hex digits");
  }
  auto material = Base64Decode(parts[2]);
  if (!material || material->size() != 33 || static_cast<uint8_t>((*material)[0]) != kAlgEd25519) {
    return InvalidArgumentError(
        "verifier key material must be base64(0x01 || 32-byte Ed25519 key)");
  }
  v.public_key = material->substr(1);
  if (NoteKeyId(v.name, v.public_key) != v.key_id) {
    return InvalidArgumentError("verifier key id does not match its name and key");
  }
  return v;
}

NoteSigner::NoteSigner(std::string name, crypto::Ed25519PrivateKey key)
    : name_(std::move(name)), key_(std::move(key)) {
  key_id_ = NoteKeyId(name_, key_.public_key());
}

Result<NoteSigner> NoteSigner::Generate(std::string name) {
  if (!IsValidKeyName(name)) {
    return InvalidArgumentError("key name must be non-empty, without '+' or white space");
  }
  NHI_ASSIGN_OR_RETURN(crypto::Ed25519PrivateKey key, crypto::Ed25519PrivateKey::Generate());
  return NoteSigner(std::move(name), std::move(key));
}

Result<NoteSigner> NoteSigner::Parse(std::string_view s) {
  std::vector<std::string_view> parts;
  if (!SplitPlus(s, 4, &parts) || parts[0] != "PRIVATE" || parts[1] != "KEY") {
    return InvalidArgumentError("signer key must be PRIVATE+KEY+<name>+<hex key id>+<base64 key>");
  }
  std::string name(parts[2]);
  if (!IsValidKeyName(name)) return InvalidArgumentError("signer key has an invalid name");
  uint32_t id = 0;
  if (!ParseKeyIdHex(parts[3], &id))
    return InvalidArgumentError("signer key id must be 8 hex digits");
  auto material = Base64Decode(parts[4]);
  if (!material || material->size() != 33 || static_cast<uint8_t>((*material)[0]) != kAlgEd25519) {
    return InvalidArgumentError("signer key material must be base64(0x01 || 32-byte seed)");
  }
  NHI_ASSIGN_OR_RETURN(crypto::Ed25519PrivateKey key,
                       crypto::Ed25519PrivateKey::FromSeed(std::string_view(*material).substr(1)));
  NoteSigner signer(std::move(name), std::move(key));
  if (signer.key_id() != id) {
    return InvalidArgumentError("signer key id does not match its name and key");
  }
  return signer;
}

NoteVerifier NoteSigner::Verifier() const {
  return NoteVerifier{name_, key_id_, key_.public_key()};
}

std::string NoteSigner::ToString() const {
  std::string material(1, static_cast<char>(kAlgEd25519));
  material += key_.seed();
  return "PRIVATE+KEY+" + name_ + "+" + KeyIdHex(key_id_) + "+" + Base64Encode(material);
}

Result<std::string> NoteSigner::SignatureLine(std::string_view text) const {
  NHI_ASSIGN_OR_RETURN(std::string sig, key_.Sign(text));
  std::string blob(4, '\0');
  blob[0] = static_cast<char>(key_id_ >> 24);
  blob[1] = static_cast<char>(key_id_ >> 16);
  blob[2] = static_cast<char>(key_id_ >> 8);
  blob[3] = static_cast<char>(key_id_);
  blob += sig;
  std::string line(kDash);
  line += ' ';
  line += name_;
  line += ' ';
  line += Base64Encode(blob);
  line += '\n';
  return line;
}

Result<std::string> SignNote(std::string_view text, const NoteSigner& signer) {
  if (text.empty() || text.back() != '\n' || !IsValidUtf8(text)) {
    return InvalidArgumentError("note text must be UTF-8 ending in a newline");
  }
  if (HasControlCharacter(text)) {
    return InvalidArgumentError("note text must not contain control characters other than newline");
  }
  NHI_ASSIGN_OR_RETURN(std::string line, signer.SignatureLine(text));
  std::string out(text);
  out += '\n';
  out += line;
  return out;
}

Result<OpenedNote> OpenNote(std::string_view note, const std::vector<NoteVerifier>& verifiers) {
  if (!IsValidUtf8(note)) return InvalidArgumentError("signed note is not valid UTF-8");
  if (HasControlCharacter(note)) {
    return InvalidArgumentError("signed note contains a control character other than newline");
  }
  size_t split = note.rfind("\n\n");
  if (split == std::string_view::npos) {
    return InvalidArgumentError("signed note has no blank line before its signatures");
  }
  OpenedNote out;
  out.text = std::string(note.substr(0, split + 1));
  std::string_view sigs = note.substr(split + 2);
  if (sigs.empty() || sigs.back() != '\n') {
    return InvalidArgumentError("signed note must end with a signature line and a newline");
  }
  size_t count = 0;
  bool bad = false;
  std::set<std::pair<std::string, uint32_t>> seen;
  while (!sigs.empty()) {
    size_t nl = sigs.find('\n');
    std::string_view line = sigs.substr(0, nl);
    sigs.remove_prefix(nl + 1);
    if (++count > kMaxSignatures)
      return InvalidArgumentError("signed note has too many signatures");
    if (line.substr(0, kDash.size()) != kDash || line.size() < kDash.size() + 1 ||
        line[kDash.size()] != ' ') {
      return InvalidArgumentError("signature line must start with \"\u2014 \"");
    }
    line.remove_prefix(kDash.size() + 1);
    size_t sp = line.find(' ');
    if (sp == std::string_view::npos) return InvalidArgumentError("malformed signature line");
    std::string_view name = line.substr(0, sp);
    auto blob = Base64Decode(line.substr(sp + 1));
    if (!IsValidKeyName(name) || !blob || blob->size() < 5) {
      return InvalidArgumentError("malformed signature line");
    }
    uint32_t id = 0;
    for (int i = 0; i < 4; ++i) id = id << 8 | static_cast<unsigned char>((*blob)[i]);
    const NoteVerifier* v = nullptr;
    for (const auto& cand : verifiers) {
      if (cand.name == name && cand.key_id == id) v = &cand;
    }
    if (v == nullptr) {
      ++out.unknown_signatures;
      continue;
    }
    // Only a key's first signature counts; later ones by the same key are ignored, as
    // golang.org/x/mod/sumdb/note does, so a key is never listed twice.
    if (!seen.insert({v->name, v->key_id}).second) continue;
    if (crypto::Ed25519Verify(v->public_key, out.text, std::string_view(*blob).substr(4))) {
      out.signed_by.push_back(v->name);
    } else {
      bad = true;
    }
  }
  if (bad) return UnauthenticatedError("a signature by a known key does not verify");
  if (out.signed_by.empty()) return UnauthenticatedError("the note is not signed by a known key");
  return out;
}

}  // namespace nhitrace::tlog
