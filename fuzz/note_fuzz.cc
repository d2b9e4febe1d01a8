// Fuzzes the C2SP signed-note and checkpoint parsers: tlog::OpenNote, Checkpoint::ParseBody,
// OpenCheckpoint, NoteVerifier::Parse and NoteSigner::Parse, all on the same input.
//
// The known key is fixed (kSeed, kKeyName) so that the seed corpus can hold notes it really
// signed (fuzz/corpus/note_fuzz/signed-*); changing either makes those seeds stop verifying.
//
// Properties:
//   - Checkpoint::ParseBody succeeds only on the exact bytes Body() writes (the format has one
//     encoding per checkpoint), and Body() parses back to the same values;
//   - an opened note's text is the part of the input before the blank line, and is signed by
//     the known key;
//   - a parsed verifier or signer key re-serialises to a string that parses to the same key.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "base/encoding.h"
#include "crypto/ed25519.h"
#include "fuzz_check.h"
#include "tlog/checkpoint.h"
#include "tlog/note.h"

namespace {

namespace tlog = nhitrace::tlog;
using nhitrace::StatusCode;

constexpr std::string_view kSeed = "nhitrace fuzz note key seed 0001";  // 32 bytes
constexpr std::string_view kKeyName = "fuzz.nhitrace.example/log";

struct KnownKey {
  std::string signer_string;
  tlog::NoteVerifier verifier;
};

const KnownKey& Known() {
  static const KnownKey* known = [] {
    static_assert(kSeed.size() == 32);
    auto key = nhitrace::crypto::Ed25519PrivateKey::FromSeed(kSeed);
    FUZZ_CHECK(key.ok(), key.status().ToString());
    uint32_t id = tlog::NoteKeyId(kKeyName, key->public_key());
    char hex[9];
    std::snprintf(hex, sizeof hex, "%08x", id);
    std::string material(1, static_cast<char>(tlog::kAlgEd25519));
    material += kSeed;
    std::string s =
        "PRIVATE+KEY+" + std::string(kKeyName) + "+" + hex + "+" + nhitrace::Base64Encode(material);
    auto signer = tlog::NoteSigner::Parse(s);
    FUZZ_CHECK(signer.ok(), signer.status().ToString());
    return new KnownKey{s, signer->Verifier()};
  }();
  return *known;
}

void CheckCheckpoint(std::string_view text) {
  auto cp = tlog::Checkpoint::ParseBody(text);
  if (!cp.ok()) {
    FUZZ_CHECK(cp.status().code() == StatusCode::kInvalidArgument, cp.status().ToString());
    return;
  }
  const std::string body = cp->Body();
  FUZZ_CHECK(body == text, "Body() differs from the parsed text:\n" + body);
  auto again = tlog::Checkpoint::ParseBody(body);
  FUZZ_CHECK(again.ok(), again.status().ToString());
  FUZZ_CHECK(again->origin == cp->origin && again->size == cp->size && again->root == cp->root &&
             again->extensions == cp->extensions);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const KnownKey& known = Known();

  // The checkpoint body on its own, and the signed note around it.
  CheckCheckpoint(input);

  auto note = tlog::OpenNote(input, {known.verifier});
  if (note.ok()) {
    FUZZ_CHECK(!note->signed_by.empty() && note->signed_by[0] == known.verifier.name);
    FUZZ_CHECK(!note->text.empty() && note->text.back() == '\n');
    FUZZ_CHECK(input.substr(0, note->text.size()) == note->text);
    FUZZ_CHECK(input.size() > note->text.size() && input[note->text.size()] == '\n');
    CheckCheckpoint(note->text);
  } else {
    StatusCode c = note.status().code();
    FUZZ_CHECK(c == StatusCode::kInvalidArgument || c == StatusCode::kUnauthenticated,
               note.status().ToString());
  }
  auto cp = tlog::OpenCheckpoint(input, known.verifier);
  FUZZ_CHECK(!cp.ok() || cp->origin == known.verifier.name);

  // Key strings.
  auto verifier = tlog::NoteVerifier::Parse(input);
  if (verifier.ok()) {
    FUZZ_CHECK(tlog::IsValidKeyName(verifier->name));
    FUZZ_CHECK(verifier->public_key.size() == 32);
    auto again = tlog::NoteVerifier::Parse(verifier->ToString());
    FUZZ_CHECK(again.ok(), again.status().ToString());
    FUZZ_CHECK(again->name == verifier->name && again->key_id == verifier->key_id &&
               again->public_key == verifier->public_key);
  }
  auto signer = tlog::NoteSigner::Parse(input);
  if (signer.ok()) {
    auto again = tlog::NoteSigner::Parse(signer->ToString());
    FUZZ_CHECK(again.ok(), again.status().ToString());
    FUZZ_CHECK(again->name() == signer->name() && again->key_id() == signer->key_id());
    tlog::NoteVerifier v = signer->Verifier();
    FUZZ_CHECK(tlog::NoteVerifier::Parse(v.ToString()).ok());
  }
  return 0;
}
