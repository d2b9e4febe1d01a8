// The 196 golden verifier probes of transparency-dev/merkle (../shared/vectors/merkle/probes):
// each names inputs to VerifyInclusion or VerifyConsistency and whether an error is wanted.
#include <algorithm>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "base/encoding.h"
#include "json/dom.h"
#include "testing/shared_data.h"
#include "tlog/proof.h"
#include "tlog/tlog_testing.h"

namespace nhitrace::tlog {
namespace {

namespace fs = std::filesystem;

// Our API takes hashes as 32-byte values, so a probe value of another length (the "wrong leaf"
// text, "don't care" roots, empty hashes, the empty "garbage" proof element) is rejected when
// it is decoded, before any verification: that counts as the error.
std::optional<Hash> DecodeHash(std::string_view b64) {
  auto bytes = Base64Decode(b64);
  EXPECT_TRUE(bytes.has_value()) << "probe base64 does not decode: " << b64;
  if (!bytes) return std::nullopt;
  return crypto::HashFromBytes(*bytes);
}

// nullopt when some element is not a 32-byte hash.
std::optional<std::vector<Hash>> DecodeProof(const simdjson::dom::element& probe) {
  std::vector<Hash> out;
  simdjson::dom::element proof = probe["proof"].value_unsafe();
  if (proof.is_null()) return out;  // Go marshals an empty proof as null
  for (simdjson::dom::element e : json::ArrayOf(proof)) {
    std::string_view s;
    EXPECT_EQ(e.get(s), simdjson::SUCCESS);
    std::optional<Hash> h = DecodeHash(s);
    if (!h) return std::nullopt;
    out.push_back(*h);
  }
  return out;
}

// Returns the error, or OK when the probe's inputs verify.
Status RunInclusionProbe(const simdjson::dom::element& p) {
  const uint64_t index = testing::U64(p, "leafIdx");
  const uint64_t size = testing::U64(p, "treeSize");
  std::optional<Hash> root = DecodeHash(testing::Str(p, "root"));
  std::optional<Hash> leaf = DecodeHash(testing::Str(p, "leafHash"));
  std::optional<std::vector<Hash>> proof = DecodeProof(p);
  if (!root || !leaf || !proof) return InvalidArgumentError("a hash is not 32 bytes");
  return VerifyInclusion(index, size, *leaf, *proof, *root);
}

Status RunConsistencyProbe(const simdjson::dom::element& p) {
  const uint64_t size1 = testing::U64(p, "size1");
  const uint64_t size2 = testing::U64(p, "size2");
  std::optional<Hash> root1 = DecodeHash(testing::Str(p, "root1"));
  std::optional<Hash> root2 = DecodeHash(testing::Str(p, "root2"));
  std::optional<std::vector<Hash>> proof = DecodeProof(p);
  if (!root1 || !root2 || !proof) return InvalidArgumentError("a hash is not 32 bytes");
  return VerifyConsistency(size1, size2, *proof, *root1, *root2);
}

std::vector<fs::path> ProbeFiles(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(ProofProbesTest, AllProbesGiveTheExpectedResult) {
  NHI_REQUIRE_SHARED("vectors/merkle/probes/testdata");
  // The one probe we deliberately disagree with. Go's verifier compares roots of any length
  // when size1 == size2, so it accepts the 12-byte roots "don't care 2" here; our roots are
  // 32-byte hashes and a root of any other length is rejected before verification. Being
  // stricter costs nothing: no real tree has a 12-byte root.
  const std::string kStricterThanGo =
      "consistency/additional/sizes-are-equal-one-and-proof-is-empty.json";

  size_t inclusion = 0, consistency = 0, want_ok = 0, want_err = 0;
  bool saw_divergence = false;
  for (const fs::path& file : ProbeFiles(shared_path)) {
    const std::string rel = fs::relative(file, shared_path).generic_string();
    SCOPED_TRACE(rel);
    simdjson::dom::parser parser;
    simdjson::dom::element probe = testing::LoadJson(parser, file.string());
    ASSERT_FALSE(HasFailure());
    bool want_error = false;
    ASSERT_EQ(probe["wantErr"].get(want_error), simdjson::SUCCESS);
    const bool is_inclusion = rel.rfind("inclusion/", 0) == 0;
    Status got = is_inclusion ? RunInclusionProbe(probe) : RunConsistencyProbe(probe);
    (is_inclusion ? inclusion : consistency)++;
    (want_error ? want_err : want_ok)++;
    if (rel == kStricterThanGo) {
      saw_divergence = true;
      EXPECT_FALSE(want_error) << "the probe changed upstream; revisit the divergence";
      EXPECT_FALSE(got.ok()) << "we reject non-32-byte roots";
      continue;
    }
    if (want_error) {
      EXPECT_FALSE(got.ok()) << testing::Str(probe, "desc") << ": verified but should not";
    } else {
      EXPECT_TRUE(got.ok()) << testing::Str(probe, "desc") << ": " << got.ToString();
    }
  }
  EXPECT_TRUE(saw_divergence);
  EXPECT_EQ(inclusion + consistency, 196u);
  EXPECT_EQ(inclusion, 98u);
  EXPECT_EQ(consistency, 98u);
  EXPECT_EQ(want_ok, 12u);  // 10 happy paths, "matching root and leaf", the divergence
  EXPECT_EQ(want_err, 184u);
}

}  // namespace
}  // namespace nhitrace::tlog
