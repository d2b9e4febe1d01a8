// Fuzzes policy::ParsePolicy, which reads the YAML documents `nhitrace policy publish` accepts
// (yaml-cpp's event parser behind policy/internal/yaml_tree.cc, then the validator).
//
// Properties:
//   - a rejection is kInvalidArgument "policy:LINE:COLUMN: ..." with LINE, COLUMN >= 1;
//   - an accepted document has canonical JSON that json::Canonicalize leaves unchanged, its
//     hash is the SHA-256 of the input, every known rule has settings, and parsing the same
//     bytes again gives the same canonical JSON (no hidden state).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/encoding.h"
#include "crypto/sha256.h"
#include "fuzz_check.h"
#include "json/canonical.h"
#include "policy/policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nhitrace;
  std::string_view s(reinterpret_cast<const char*>(data), size);
  auto p = policy::ParsePolicy(s, "policy");
  if (!p.ok()) {
    FUZZ_CHECK(p.status().code() == StatusCode::kInvalidArgument);
    const std::string m = p.status().message();  // a copy: status() returns a temporary
    FUZZ_CHECK(m.rfind("policy:", 0) == 0, "error without position: " + m);
    size_t a = 7, b = m.find(':', a);
    FUZZ_CHECK(b != std::string::npos && b > a, "no line: " + m);
    size_t c = m.find(':', b + 1);
    FUZZ_CHECK(c != std::string::npos && c > b + 1, "no column: " + m);
    FUZZ_CHECK(std::stol(m.substr(a, b - a)) >= 1 && std::stol(m.substr(b + 1, c - b - 1)) >= 1,
               "bad position: " + m);
    return 0;
  }
  auto again = json::Canonicalize(p->canonical_json);
  FUZZ_CHECK(again.ok() && *again == p->canonical_json, "canonical JSON is not canonical");
  FUZZ_CHECK(p->hash == "sha256:" + HexEncode(crypto::AsBytes(crypto::Sha256(s))), "hash");
  FUZZ_CHECK(p->rules.size() == policy::RuleSchemas().size(), "rules missing");
  auto p2 = policy::ParsePolicy(s, "policy");
  FUZZ_CHECK(p2.ok() && p2->canonical_json == p->canonical_json, "not deterministic");
  return 0;
}
