// Fuzzes what the API server parses itself (src/api): the request target (path segments, query
// parameters, percent-encoding), routing, JSON request bodies, and the error envelope built
// from what they reject. Input: the first line is the request target, the rest the body.
//
// Properties:
//   - ParseTarget accepts or rejects with kInvalidArgument; what it accepts is valid UTF-8 with
//     no control characters, and re-encoding it (PercentEncode) parses back to the same value;
//   - the router finds a route only with non-empty parameters taken from the segments;
//   - JsonBody accepts only objects; its accessors never crash, and the array accessors return
//     no more items, and no longer ones, than asked;
//   - every error message becomes an error envelope that is valid JSON.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "api/json_body.h"
#include "api/response.h"
#include "api/router.h"
#include "api/target.h"
#include "base/utf8.h"
#include "fuzz_check.h"
#include "json/canonical.h"

namespace {

using namespace nhitrace;
using namespace nhitrace::api;

bool Clean(std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) return false;
  }
  return IsValidUtf8(s);
}

void CheckEnvelope(const Status& s) {
  std::string body = ApiResponse(s).body;
  FUZZ_CHECK(json::Canonicalize(body).ok(), body);
}

const Router& TheRouter() {
  static Router* r = [] {
    auto* router = new Router;
    auto h = [](RequestContext&) { return ApiResponse::Json(200, "{}"); };
    for (const char* p : {"/v1/events", "/v1/events/{seq}", "/v1/identities/{key}",
                          "/v1/cases/{id}/decisions/{decision}", "/v1/cases/queue"}) {
      (void)router->Add(Route::Make(Method::kGet, p, kReadRoles, h));
    }
    return router;
  }();
  return *r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t nl = in.find('\n');
  std::string_view target = in.substr(0, nl);
  std::string_view body = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);

  auto t = ParseTarget(target);
  if (!t.ok()) {
    FUZZ_CHECK(t.status().code() == StatusCode::kInvalidArgument, t.status().ToString());
    CheckEnvelope(t.status());
  } else {
    std::string again;
    for (const auto& seg : t->segments) {
      FUZZ_CHECK(Clean(seg), seg);
      // "." and ".." are refused as raw segments; as values they must be sent encoded.
      again += "/" + (seg == "." ? "%2E" : seg == ".." ? "%2E%2E" : PercentEncode(seg));
    }
    if (!t->query.empty()) again += "?";
    for (size_t i = 0; i < t->query.size(); ++i) {
      FUZZ_CHECK(Clean(t->query[i].first) && Clean(t->query[i].second), t->query[i].first);
      again += (i ? "&" : "") + PercentEncode(t->query[i].first) + "=" +
               PercentEncode(t->query[i].second);
    }
    auto back = ParseTarget(again);  // the limits apply to decoded sizes: the same
    FUZZ_CHECK(back.ok(), again + ": " + back.status().message());
    FUZZ_CHECK(back->segments == t->segments, again);
    FUZZ_CHECK(back->query == t->query, again);
    auto found = TheRouter().Find(Method::kGet, t->segments);
    if (found.route != nullptr) {
      for (const auto& [name, value] : found.params) FUZZ_CHECK(!value.empty(), name);
    }
  }

  auto b = JsonBody::Parse(body);
  if (!b.ok()) {
    FUZZ_CHECK(b.status().code() == StatusCode::kInvalidArgument, b.status().ToString());
    CheckEnvelope(b.status());
    return 0;
  }
  for (const Status& s : {b->Fields({"name", "role"}), b->String("name", 64).status(),
                          b->OptionalInt("n").status(), b->OptionalBool("b").status()}) {
    if (!s.ok()) CheckEnvelope(s);
  }
  // The array accessors of the case routes: what they accept respects their bounds.
  auto strings = b->StringArray("identities", 4, 16);
  if (strings.ok()) {
    FUZZ_CHECK(strings->size() <= 4, "too many strings");
    for (const auto& item : *strings) FUZZ_CHECK(!item.empty() && item.size() <= 16, item);
  } else {
    FUZZ_CHECK(strings.status().code() == StatusCode::kInvalidArgument,
               strings.status().ToString());
    CheckEnvelope(strings.status());
  }
  auto numbers = b->UintArray("events", 4);
  if (numbers.ok()) {
    FUZZ_CHECK(numbers->size() <= 4, "too many numbers");
  } else {
    CheckEnvelope(numbers.status());
  }
  return 0;
}
