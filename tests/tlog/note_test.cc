#include "tlog/note.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "base/encoding.h"
#include "crypto/sha256.h"
#include "json/dom.h"
#include "testing/shared_data.h"
#include "tlog/tlog_testing.h"

namespace nhitrace::tlog {
namespace {

using testing::Str;

constexpr char kVectors[] = "vectors/merkle/signed_note_vectors.json";

// The golang.org/x/mod/sumdb/note test key (public; used by the vectors below).
constexpr char kPeterSigner[] =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
constexpr char kPeterVerifier[] =
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
constexpr char kPeterText[] =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n";

NoteSigner Peter() {
  Result<NoteSigner> s = NoteSigner::Parse(kPeterSigner);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return std::move(s).value();
}

NoteVerifier PeterVerifier() {
  Result<NoteVerifier> v = NoteVerifier::Parse(kPeterVerifier);
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  return std::move(v).value();
}

class SignedNoteVectorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    NHI_REQUIRE_SHARED(kVectors);
    root_ = testing::LoadJson(parser_, shared_path.string());
  }
  simdjson::dom::parser parser_;
  simdjson::dom::element root_;
};

// Every vector: key strings parse, re-serialise identically and carry the documented key id;
// notes are signed byte for byte and open.
TEST_F(SignedNoteVectorsTest, Vectors) {
  size_t signed_vectors = 0, verifiers = 0;
  for (simdjson::dom::element v : json::ArrayOf(root_["vectors"].value_unsafe())) {
    SCOPED_TRACE(Str(v, "desc"));
    std::string_view s;
    std::optional<NoteVerifier> verifier;
    if (v["verifier_key"].get(s) == simdjson::SUCCESS) {
      ++verifiers;
      Result<NoteVerifier> parsed = NoteVerifier::Parse(s);
      ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
      EXPECT_EQ(parsed->ToString(), s);
      EXPECT_EQ(parsed->public_key.size(), 32u);
      // <name>+<8 hex key id>+...: the id is SHA-256(name || "\n" || 0x01 || key)[:4].
      const std::string name(s.substr(0, s.find('+')));
      EXPECT_EQ(parsed->name, name);
      const std::string id_hex(s.substr(name.size() + 1, 8));
      std::string material = name + "\n\x01" + parsed->public_key;
      EXPECT_EQ(HexEncode(crypto::AsBytes(crypto::Sha256(material)).substr(0, 4)), id_hex);
      EXPECT_EQ(parsed->key_id, std::stoul(id_hex, nullptr, 16));
      EXPECT_EQ(NoteKeyId(name, parsed->public_key), parsed->key_id);
      verifier = *parsed;
    }
    std::optional<NoteSigner> signer;
    if (v["signer_key"].get(s) == simdjson::SUCCESS) {
      Result<NoteSigner> parsed = NoteSigner::Parse(s);
      ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
      EXPECT_EQ(parsed->ToString(), s);
      ASSERT_TRUE(verifier.has_value());
      EXPECT_EQ(parsed->Verifier().ToString(), verifier->ToString());
      EXPECT_EQ(parsed->key_id(), verifier->key_id);
      signer.emplace(std::move(parsed).value());
    }
    std::string_view signed_note;
    if (v["signed_note"].get(signed_note) == simdjson::SUCCESS) {
      ++signed_vectors;
      const std::string text = Str(v, "note_text");
      if (signer) {
        Result<std::string> mine = SignNote(text, *signer);
        ASSERT_TRUE(mine.ok()) << mine.status().ToString();
        EXPECT_EQ(*mine, signed_note);
      }
      Result<OpenedNote> opened = OpenNote(signed_note, {*verifier});
      ASSERT_TRUE(opened.ok()) << opened.status().ToString();
      EXPECT_EQ(opened->text, text);
      EXPECT_EQ(opened->signed_by, std::vector<std::string>{verifier->name});
      EXPECT_EQ(opened->unknown_signatures, 0u);
    }
  }
  EXPECT_EQ(signed_vectors, 2u);
  EXPECT_EQ(verifiers, 3u);
}

TEST(NoteKeyTest, ParseAndFormat) {
  NoteSigner signer = Peter();
  EXPECT_EQ(signer.name(), "PeterNeumann");
  EXPECT_EQ(signer.key_id(), 0xc74f20a3u);
  EXPECT_EQ(signer.ToString(), kPeterSigner);
  NoteVerifier v = PeterVerifier();
  EXPECT_EQ(v.name, "PeterNeumann");
  EXPECT_EQ(v.key_id, 0xc74f20a3u);
  EXPECT_EQ(signer.Verifier().public_key, v.public_key);
  EXPECT_EQ(v.ToString(), kPeterVerifier);
  // Upper-case hex key ids are accepted (as Go's strconv.ParseUint does).
  Result<NoteVerifier> upper =
      NoteVerifier::Parse("PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW");
  ASSERT_TRUE(upper.ok()) << upper.status().ToString();
  EXPECT_EQ(upper->key_id, 0xc74f20a3u);
}

TEST(NoteKeyTest, RejectsMalformedVerifierKeys) {
  const NoteVerifier good = PeterVerifier();
  const std::string id = "c74f20a3";
  const std::string key = Base64Encode("\x01" + good.public_key);
  for (const std::string& bad : {
           std::string(),
           std::string("PeterNeumann"),
           "PeterNeumann+" + id,
           "+" + id + "+" + key,                        // empty name
           "Peter Neumann+" + id + "+" + key,           // space in the name
           "PeterNeumann+c74f20a4+" + key,              // wrong key id
           "PeterNeumann+c74f20a+" + key,               // 7 hex digits
           "PeterNeumann+0c74f20a3+" + key,             // 9 hex digits
           "PeterNeumann+c74f20g3+" + key,              // not hex
           "PeterNeumann+" + id + "+" + key.substr(1),  // broken base64
           "PeterNeumann+" + id + "+" + key + "\n",
           "PeterNeumann+" + id + "+" + Base64Encode(good.public_key),           // no algorithm
           "PeterNeumann+" + id + "+" + Base64Encode("\x02" + good.public_key),  // not Ed25519
           "PeterNeumann+" + id + "+" + Base64Encode("\x01" + good.public_key + "x"),
       }) {
    Result<NoteVerifier> v = NoteVerifier::Parse(bad);
    EXPECT_FALSE(v.ok()) << ::testing::PrintToString(bad);
    EXPECT_EQ(v.status().code(), StatusCode::kInvalidArgument) << ::testing::PrintToString(bad);
  }
}

TEST(NoteKeyTest, RejectsMalformedSignerKeys) {
  const std::string good = kPeterSigner;
  const std::string prefix = "PRIVATE+KEY+PeterNeumann+c74f20a3+";
  auto material = Base64Decode(good.substr(prefix.size()));  // the base64 itself holds a '+'
  ASSERT_TRUE(material.has_value());
  const std::string seed = material->substr(1);
  ASSERT_EQ(seed.size(), 32u);
  for (const std::string& bad : {
           std::string(),
           std::string("PRIVATE+KEY+PeterNeumann+c74f20a3"),
           "PUBLIC+KEY+PeterNeumann+c74f20a3+" + Base64Encode("\x01" + seed),
           "PRIVATE+KEYS+PeterNeumann+c74f20a3+" + Base64Encode("\x01" + seed),
           "PRIVATE+KEY+PeterNeumann+c74f20a4+" + Base64Encode("\x01" + seed),  // wrong key id
           "PRIVATE+KEY+Peter\tNeumann+c74f20a3+" + Base64Encode("\x01" + seed),
           prefix + Base64Encode("\x01" + seed).substr(1),
           prefix + Base64Encode(seed),
           prefix + Base64Encode("\x02" + seed),
           prefix + Base64Encode("\x01" + seed.substr(1)),
       }) {
    Result<NoteSigner> s = NoteSigner::Parse(bad);
    EXPECT_FALSE(s.ok()) << ::testing::PrintToString(bad);
    EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument) << ::testing::PrintToString(bad);
  }
}

TEST(NoteKeyTest, KeyNames) {
  EXPECT_TRUE(IsValidKeyName("example.com/log"));
  EXPECT_TRUE(IsValidKeyName("caf\xC3\xA9"));
  EXPECT_FALSE(IsValidKeyName(""));
  EXPECT_FALSE(IsValidKeyName("a+b"));
  for (const char* space : {" ", "\t", "\n", "\v", "\f", "\r", "\xC2\x85", "\xC2\xA0",
                            "\xE1\x9A\x80", "\xE2\x80\x80", "\xE2\x80\x8A", "\xE2\x80\xA8",
                            "\xE2\x80\xA9", "\xE2\x80\xAF", "\xE2\x81\x9F", "\xE3\x80\x80"}) {
    EXPECT_FALSE(IsValidKeyName(std::string("a") + space + "b")) << ::testing::PrintToString(space);
  }
  EXPECT_TRUE(
      IsValidKeyName("a\xE2\x80\x8B"
                     "b"));  // U+200B ZERO WIDTH SPACE is not white space
  EXPECT_FALSE(IsValidKeyName("bad\xff"));
}

TEST(NoteKeyTest, GeneratedSignerRoundTrips) {
  Result<NoteSigner> s = NoteSigner::Generate("nhitrace.test/log");
  ASSERT_TRUE(s.ok());
  Result<NoteSigner> again = NoteSigner::Parse(s->ToString());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->ToString(), s->ToString());
  Result<NoteVerifier> v = NoteVerifier::Parse(s->Verifier().ToString());
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->key_id, s->key_id());
  EXPECT_FALSE(NoteSigner::Generate("bad name").ok());
  EXPECT_FALSE(NoteSigner::Generate("").ok());
  EXPECT_FALSE(NoteSigner::Generate("a+b").ok());
}

TEST(SignNoteTest, RejectsBadText) {
  NoteSigner signer = Peter();
  EXPECT_FALSE(SignNote("", signer).ok());
  EXPECT_FALSE(SignNote("no newline", signer).ok());
  EXPECT_FALSE(SignNote("tab\there\n", signer).ok());
  EXPECT_FALSE(SignNote("cr\r\n", signer).ok());
  EXPECT_FALSE(SignNote(std::string("nul\0\n", 5), signer).ok());
  EXPECT_FALSE(SignNote("bad utf-8 \xff\n", signer).ok());
  // DEL (U+007F) is not below U+0020 and is allowed, as in C2SP and Go.
  EXPECT_TRUE(SignNote("del \x7f\n", signer).ok());
  EXPECT_TRUE(SignNote("unicode \xE2\x80\x94 ok\n\nblank lines are fine\n", signer).ok());
}

TEST(OpenNoteTest, AcceptsValidNote) {
  NoteSigner signer = Peter();
  Result<std::string> note = SignNote(kPeterText, signer);
  ASSERT_TRUE(note.ok());
  Result<OpenedNote> opened = OpenNote(*note, {PeterVerifier()});
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(opened->text, kPeterText);
  EXPECT_EQ(opened->signed_by, std::vector<std::string>{"PeterNeumann"});
  EXPECT_EQ(opened->unknown_signatures, 0u);
}

// Any change to the signed text breaks the signature.
TEST(OpenNoteTest, RejectsTamperedText) {
  Result<std::string> note = SignNote(kPeterText, Peter());
  ASSERT_TRUE(note.ok());
  std::string tampered = *note;
  tampered[3] = 'X';
  Result<OpenedNote> opened = OpenNote(tampered, {PeterVerifier()});
  EXPECT_EQ(opened.status().code(), StatusCode::kUnauthenticated);

  std::string extended = "prefix\n" + *note;
  EXPECT_EQ(OpenNote(extended, {PeterVerifier()}).status().code(), StatusCode::kUnauthenticated);

  // Every single flipped bit in the signature line's base64 either breaks the encoding or the
  // signature.
  const size_t sig_start = note->rfind(' ') + 1;
  for (size_t i = sig_start; i + 1 < note->size(); ++i) {
    std::string bad = *note;
    bad[i] = bad[i] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(OpenNote(bad, {PeterVerifier()}).ok()) << i;
  }
}

TEST(OpenNoteTest, RejectsWrongKey) {
  Result<std::string> note = SignNote(kPeterText, Peter());
  ASSERT_TRUE(note.ok());
  // A different key under a different name: nobody we know signed it.
  Result<NoteSigner> other = NoteSigner::Generate("EnochRoot");
  ASSERT_TRUE(other.ok());
  Result<OpenedNote> r = OpenNote(*note, {other->Verifier()});
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
  // The same name with another key has another key id: still unknown.
  Result<NoteSigner> impostor = NoteSigner::Generate("PeterNeumann");
  ASSERT_TRUE(impostor.ok());
  EXPECT_EQ(OpenNote(*note, {impostor->Verifier()}).status().code(), StatusCode::kUnauthenticated);
  // A verifier that claims Peter's name and key id but holds another public key.
  NoteVerifier forged = PeterVerifier();
  forged.public_key = impostor->Verifier().public_key;
  EXPECT_EQ(OpenNote(*note, {forged}).status().code(), StatusCode::kUnauthenticated);
  // No verifiers at all.
  EXPECT_EQ(OpenNote(*note, {}).status().code(), StatusCode::kUnauthenticated);
}

TEST(OpenNoteTest, RejectsMalformedNotes) {
  Result<std::string> good = SignNote(kPeterText, Peter());
  ASSERT_TRUE(good.ok());
  const std::string sig_line = good->substr(good->rfind("\n\n") + 2);
  const std::string b64 =
      sig_line.substr(sig_line.rfind(' ') + 1, sig_line.size() - 1 - (sig_line.rfind(' ') + 1));
  const std::string text = kPeterText;
  const std::string dash = "\xE2\x80\x94";
  for (const std::string& bad : {
           std::string(),
           text,                                                   // no signatures
           text + sig_line,                                        // no blank line
           text + "\n",                                            // blank line, no signature
           text + "\n" + sig_line.substr(0, sig_line.size() - 1),  // no final newline
           text + "\n- PeterNeumann " + b64 + "\n",                // ASCII dash
           text + "\n" + dash + "PeterNeumann " + b64 + "\n",      // no space after the dash
           text + "\n" + dash + " PeterNeumann" + b64 + "\n",      // no space before base64
           text + "\n" + dash + " PeterNeumann " + b64 + "!\n",    // bad base64
           text + "\n" + dash + " PeterNeumann " + b64.substr(0, b64.size() - 4) + "x==\n",
           text + "\n" + dash + " PeterNeumann AAAAAA==\n",      // shorter than 5 bytes
           text + "\n" + dash + " Peter+Neumann " + b64 + "\n",  // invalid key name
           text + "\n" + dash + "  " + b64 + "\n",               // empty key name
           text + "\n" + sig_line + "not a signature\n",
           text + "\n" + sig_line + "\n",  // a blank line at the end
           "tab\there\n\n" + sig_line,     // control character in text
           text + "\n" + sig_line.substr(0, sig_line.size() - 1) + "\r\n",
           "bad \xff utf-8\n\n" + sig_line,
       }) {
    Result<OpenedNote> r = OpenNote(bad, {PeterVerifier()});
    EXPECT_FALSE(r.ok()) << ::testing::PrintToString(bad);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << ::testing::PrintToString(bad);
  }
  // At most 100 signature lines are read.
  std::string many = text + "\n";
  for (int i = 0; i < 101; ++i) many += sig_line;
  EXPECT_EQ(OpenNote(many, {PeterVerifier()}).status().code(), StatusCode::kInvalidArgument);
}

// Signatures by keys the caller does not know are skipped, counted, and never verified.
TEST(OpenNoteTest, IgnoresUnknownKeys) {
  NoteSigner peter = Peter();
  Result<NoteSigner> other = NoteSigner::Generate("witness.example/w1");
  ASSERT_TRUE(other.ok());
  Result<std::string> line = other->SignatureLine(kPeterText);
  ASSERT_TRUE(line.ok());
  Result<std::string> note = SignNote(kPeterText, peter);
  ASSERT_TRUE(note.ok());
  // An unknown key's line, and garbage that only parses, before and after Peter's.
  const std::string dash = "\xE2\x80\x94";
  std::string junk_sig = dash + " someone.else " + Base64Encode(std::string(68, '\x07')) + "\n";
  std::string all =
      std::string(kPeterText) + "\n" + *line + note->substr(note->rfind("\n\n") + 2) + junk_sig;
  Result<OpenedNote> opened = OpenNote(all, {PeterVerifier()});
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(opened->signed_by, std::vector<std::string>{"PeterNeumann"});
  EXPECT_EQ(opened->unknown_signatures, 2u);
  // Both known: both listed, in order.
  Result<OpenedNote> both = OpenNote(all, {other->Verifier(), PeterVerifier()});
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(both->signed_by, (std::vector<std::string>{"witness.example/w1", "PeterNeumann"}));
  EXPECT_EQ(both->unknown_signatures, 1u);
  // Only unknown keys signed: not authenticated.
  EXPECT_EQ(OpenNote(std::string(kPeterText) + "\n" + *line, {PeterVerifier()}).status().code(),
            StatusCode::kUnauthenticated);
}

// A key that signs twice is listed once (golang.org/x/mod/sumdb/note drops repeats).
TEST(OpenNoteTest, RepeatedSignatureCountsOnce) {
  Result<std::string> note = SignNote(kPeterText, Peter());
  ASSERT_TRUE(note.ok());
  const std::string sig_line = note->substr(note->rfind("\n\n") + 2);
  Result<OpenedNote> opened = OpenNote(*note + sig_line, {PeterVerifier()});
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(opened->signed_by, std::vector<std::string>{"PeterNeumann"});
}

}  // namespace
}  // namespace nhitrace::tlog
