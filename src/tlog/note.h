// C2SP signed-note with Ed25519 signatures (https://c2sp.org/signed-note), byte-compatible with
// golang.org/x/mod/sumdb/note.
//
// A signed note is UTF-8 text ending in "\n", a blank line, then one line per signature:
//   "\u2014 <key name> <base64(4-byte key id || 64-byte signature)>\n"
// The key id is SHA-256(name || "\n" || 0x01 || public key)[:4] (0x01 = Ed25519). Key strings:
//   verifier: "<name>+<8 hex key id>+<base64(0x01 || public key)>"
//   signer:   "PRIVATE+KEY+<name>+<8 hex key id>+<base64(0x01 || seed)>"
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "crypto/ed25519.h"

namespace nhitrace::tlog {

constexpr uint8_t kAlgEd25519 = 0x01;

// True for a valid key name: non-empty UTF-8 without '+' or Unicode white space.
bool IsValidKeyName(std::string_view name);

uint32_t NoteKeyId(std::string_view name, std::string_view public_key);

// The public half of a note key.
struct NoteVerifier {
  std::string name;
  uint32_t key_id = 0;
  std::string public_key;  // 32 bytes

  std::string ToString() const;
  // Parses a verifier key string; kInvalidArgument names what is wrong (also when the key id does
  // not match the name and key).
  static Result<NoteVerifier> Parse(std::string_view s);
};

// A note signing key. Secret: ToString() is for the key file only, never for logs.
class NoteSigner {
 public:
  static Result<NoteSigner> Generate(std::string name);
  static Result<NoteSigner> Parse(std::string_view s);

  const std::string& name() const { return name_; }
  uint32_t key_id() const { return key_id_; }
  NoteVerifier Verifier() const;
  std::string ToString() const;

  // The signature line for `text` (without the text), ending in "\n".
  Result<std::string> SignatureLine(std::string_view text) const;

 private:
  NoteSigner(std::string name, crypto::Ed25519PrivateKey key);
  std::string name_;
  uint32_t key_id_ = 0;
  crypto::Ed25519PrivateKey key_;
};

// text + "\n" + the signature line. REQUIRES of text: valid UTF-8, ends in "\n", no ASCII
// control characters (below U+0020) other than "\n" (kInvalidArgument otherwise).
Result<std::string> SignNote(std::string_view text, const NoteSigner& signer);

struct OpenedNote {
  std::string text;                    // the signed text, ending in "\n"
  std::vector<std::string> signed_by;  // names of the known keys whose signature verified, once
                                       // each (a key's repeated signatures are ignored)
  size_t unknown_signatures = 0;       // signature lines from keys we do not know (ignored)
};

// Splits a signed note and verifies every signature made by a key in `verifiers`.
// kInvalidArgument for a malformed note (not UTF-8, a control character other than newline, no
// blank line before the signatures, a malformed signature line); kUnauthenticated when a known
// key's signature does not verify or when no known key signed it.
Result<OpenedNote> OpenNote(std::string_view note, const std::vector<NoteVerifier>& verifiers);

}  // namespace nhitrace::tlog
