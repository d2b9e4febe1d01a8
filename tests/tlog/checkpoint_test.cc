#include "tlog/checkpoint.h"

#include <string>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "base/encoding.h"
#include "json/dom.h"
#include "testing/shared_data.h"
#include "tlog/merkle.h"
#include "tlog/tlog_testing.h"

namespace nhitrace::tlog {
namespace {

using testing::HashFromHex;
using testing::Hex;
using testing::Str;
using testing::U64;

constexpr char kVectors[] = "vectors/merkle/signed_note_vectors.json";
// A valid base64 root (SHA-256 of the empty string).
constexpr char kRootB64[] = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";

// The signed checkpoints of the 8-leaf tree in the shared vectors: SignCheckpoint reproduces
// them byte for byte and OpenCheckpoint reads them back.
TEST(CheckpointVectorsTest, DerivedCheckpoints) {
  NHI_REQUIRE_SHARED(kVectors);
  simdjson::dom::parser parser;
  simdjson::dom::element root = testing::LoadJson(parser, shared_path.string());
  simdjson::dom::element d = root["derived_checkpoints"].value_unsafe();
  const std::string origin = Str(d, "origin");
  Result<NoteSigner> signer = NoteSigner::Parse(Str(d, "signer_key"));
  ASSERT_TRUE(signer.ok()) << signer.status().ToString();
  Result<NoteVerifier> verifier = NoteVerifier::Parse(Str(d, "verifier_key"));
  ASSERT_TRUE(verifier.ok()) << verifier.status().ToString();
  EXPECT_EQ(signer->Verifier().ToString(), Str(d, "verifier_key"));
  EXPECT_EQ(verifier->name, origin);

  size_t count = 0;
  for (simdjson::dom::element c : json::ArrayOf(d["checkpoints"].value_unsafe())) {
    ++count;
    const uint64_t size = U64(c, "tree_size");
    SCOPED_TRACE("size " + std::to_string(size));
    Checkpoint cp{origin, size, HashFromHex(Str(c, "root_hex")), {}};
    EXPECT_EQ(cp.Body(), Str(c, "note_text"));

    Result<std::string> signed_note = SignCheckpoint(cp, *signer);
    ASSERT_TRUE(signed_note.ok()) << signed_note.status().ToString();
    EXPECT_EQ(*signed_note, Str(c, "signed_checkpoint"));
    // The signature line carries base64(key id || signature), key id first.
    const std::string sig = Str(c, "signature_b64");
    EXPECT_NE(signed_note->find(" " + sig + "\n"), std::string::npos);
    EXPECT_EQ(HexEncode(Base64Decode(sig).value().substr(0, 4)), Str(c, "key_id_hex"));

    Result<Checkpoint> opened = OpenCheckpoint(Str(c, "signed_checkpoint"), *verifier);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    EXPECT_EQ(opened->origin, origin);
    EXPECT_EQ(opened->size, size);
    EXPECT_EQ(Hex(opened->root), Str(c, "root_hex"));
    EXPECT_TRUE(opened->extensions.empty());
    // Checking the origin explicitly works too; another origin does not.
    EXPECT_TRUE(OpenCheckpoint(*signed_note, *verifier, origin).ok());
    EXPECT_EQ(OpenCheckpoint(*signed_note, *verifier, "example.com/other").status().code(),
              StatusCode::kUnauthenticated);
  }
  EXPECT_EQ(count, 3u);
}

// The roots in the signed checkpoints are those of the RFC 6962 reference tree.
TEST(CheckpointVectorsTest, RootsMatchRfc6962Vectors) {
  NHI_REQUIRE_SHARED(kVectors);
  const std::filesystem::path tree_path = shared_path.parent_path() / "rfc6962_vectors.json";
  simdjson::dom::parser p1, p2;
  simdjson::dom::element notes = testing::LoadJson(p1, shared_path.string());
  simdjson::dom::element tree = testing::LoadJson(p2, tree_path.string());
  simdjson::dom::element roots = tree["roots_by_tree_size"].value_unsafe();
  for (simdjson::dom::element c :
       json::ArrayOf(notes["derived_checkpoints"]["checkpoints"].value_unsafe())) {
    const std::string size = std::to_string(U64(c, "tree_size"));
    EXPECT_EQ(Str(c, "root_hex"), Str(roots, size.c_str())) << size;
  }
}

// golang.org/x/mod/sumdb/tlog's FormatTree golden text: a tree whose hash is
// RecordHash("hello world") = SHA-256(0x00 || "hello world"), i.e. our LeafHash.
TEST(CheckpointVectorsTest, ParsesGoSumTreeNote) {
  NHI_REQUIRE_SHARED(kVectors);
  simdjson::dom::parser parser;
  simdjson::dom::element root = testing::LoadJson(parser, shared_path.string());
  bool found = false;
  for (simdjson::dom::element v : json::ArrayOf(root["vectors"].value_unsafe())) {
    if (Str(v, "source") != "gomod_tlog_note_test") continue;
    found = true;
    const std::string text = Str(v, "note_text");
    Result<Checkpoint> cp = Checkpoint::ParseBody(text);
    ASSERT_TRUE(cp.ok()) << cp.status().ToString();
    EXPECT_EQ(cp->origin, "go.sum database tree");
    EXPECT_EQ(cp->size, 123456789012u);
    EXPECT_EQ(Hex(cp->root), Hex(LeafHash("hello world")));
    EXPECT_EQ(cp->Body(), text);
  }
  EXPECT_TRUE(found);
}

TEST(CheckpointTest, BodyAndParseRoundTrip) {
  Checkpoint cp{"example.com/log", 18446744073709551615u, LeafHash("x"), {"ext one", "ext-two"}};
  const std::string body = cp.Body();
  EXPECT_EQ(body, "example.com/log\n18446744073709551615\n" +
                      Base64Encode(crypto::AsBytes(cp.root)) + "\next one\next-two\n");
  Result<Checkpoint> back = Checkpoint::ParseBody(body);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->origin, cp.origin);
  EXPECT_EQ(back->size, cp.size);
  EXPECT_EQ(back->root, cp.root);
  EXPECT_EQ(back->extensions, cp.extensions);

  Result<Checkpoint> zero = Checkpoint::ParseBody(std::string("o\n0\n") + kRootB64 + "\n");
  ASSERT_TRUE(zero.ok()) << zero.status().ToString();
  EXPECT_EQ(zero->size, 0u);
  EXPECT_EQ(Hex(zero->root), Hex(EmptyTreeHash()));
}

TEST(CheckpointTest, ParseBodyRejects) {
  const std::string r = kRootB64;
  for (const std::string& bad : {
           std::string(),
           "o\n5\n" + r,           // no final newline
           std::string("o\n5\n"),  // no root line
           std::string("o\n"),     // only the origin
           "\n5\n" + r + "\n",     // empty origin
           "o\n05\n" + r + "\n",   // leading zero
           "o\n00\n" + r + "\n",
           "o\n\n" + r + "\n",  // empty size
           "o\n-1\n" + r + "\n",
           "o\n+5\n" + r + "\n",
           "o\n 5\n" + r + "\n",
           "o\n5 \n" + r + "\n",
           "o\n0x5\n" + r + "\n",
           "o\n5a\n" + r + "\n",
           "o\n18446744073709551616\n" + r + "\n",  // 2^64
           std::string("o\n5\nnot base64!\n"),
           "o\n5\n" + r.substr(0, r.size() - 1) + "\n",                          // broken padding
           std::string("o\n5\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFV=\n"),  // last bits
           "o\n5\n" + Base64Encode(std::string(31, 'x')) + "\n",                 // 31-byte root
           "o\n5\n" + Base64Encode(std::string(33, 'x')) + "\n",                 // 33-byte root
           "o\n5\n" + r + "\n\n",  // empty extension line
           "o\n5\n" + r + "\next\n\n",
           "o\n5\n\n" + r + "\n",  // blank line in place of the root
       }) {
    Result<Checkpoint> cp = Checkpoint::ParseBody(bad);
    EXPECT_FALSE(cp.ok()) << ::testing::PrintToString(bad);
    EXPECT_EQ(cp.status().code(), StatusCode::kInvalidArgument) << ::testing::PrintToString(bad);
  }
}

TEST(CheckpointTest, SignAndOpen) {
  Result<NoteSigner> signer = NoteSigner::Generate("nhitrace.test/log");
  ASSERT_TRUE(signer.ok());
  Checkpoint cp{"nhitrace.test/log", 42, LeafHash("root"), {}};
  Result<std::string> note = SignCheckpoint(cp, *signer);
  ASSERT_TRUE(note.ok());
  Result<Checkpoint> opened = OpenCheckpoint(*note, signer->Verifier());
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(opened->size, 42u);
  EXPECT_EQ(opened->root, cp.root);

  // Another key: not authenticated.
  Result<NoteSigner> other = NoteSigner::Generate("nhitrace.test/log");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(OpenCheckpoint(*note, other->Verifier()).status().code(), StatusCode::kUnauthenticated);
  // A tampered size: the signature no longer verifies.
  std::string tampered = *note;
  tampered.replace(tampered.find("\n42\n"), 4, "\n43\n");
  EXPECT_EQ(OpenCheckpoint(tampered, signer->Verifier()).status().code(),
            StatusCode::kUnauthenticated);
  // The origin must be the key name unless another is given.
  Checkpoint foreign{"someone.else/log", 1, LeafHash("r"), {}};
  Result<std::string> foreign_note = SignCheckpoint(foreign, *signer);
  ASSERT_TRUE(foreign_note.ok());
  EXPECT_EQ(OpenCheckpoint(*foreign_note, signer->Verifier()).status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_TRUE(OpenCheckpoint(*foreign_note, signer->Verifier(), "someone.else/log").ok());
  // A validly signed note that is not a checkpoint.
  Result<std::string> prose = SignNote("nhitrace.test/log\nnot a size\n", *signer);
  ASSERT_TRUE(prose.ok());
  EXPECT_EQ(OpenCheckpoint(*prose, signer->Verifier()).status().code(),
            StatusCode::kInvalidArgument);
  // Extensions survive signing and opening.
  Checkpoint with_ext{"nhitrace.test/log", 7, LeafHash("e"), {"timestamp 1700000000"}};
  Result<std::string> ext_note = SignCheckpoint(with_ext, *signer);
  ASSERT_TRUE(ext_note.ok());
  Result<Checkpoint> ext = OpenCheckpoint(*ext_note, signer->Verifier());
  ASSERT_TRUE(ext.ok());
  EXPECT_EQ(ext->extensions, std::vector<std::string>{"timestamp 1700000000"});
}

}  // namespace
}  // namespace nhitrace::tlog
