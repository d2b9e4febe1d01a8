// Fuzzes the Kubernetes audit importer (src/ingest/k8s_audit/): the input is one record per
// line, mapped by one importer.
//
// Properties (fuzz/importer_check.h, and):
//   - the AKS envelope is transparent: a record that is not itself an envelope, wrapped as
//     {"category":"kube-audit","properties":{"log":"<record>"}}, maps to the same events (or the
//     same "ignored" name), and its error is the same error under "properties.log";
//   - Finish returns nothing (the importer holds nothing back).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "base/utf8.h"
#include "importer_check.h"
#include "ingest/k8s_audit/k8s_audit.h"
#include "json/canonical.h"

namespace {

namespace ingest = nhitrace::ingest;
using nhitrace::fuzz::MapAndCheck;

bool IsEnvelopeShaped(const simdjson::dom::element& e) {
  simdjson::dom::object o;
  if (e.get_object().get(o) != simdjson::SUCCESS) return false;
  simdjson::dom::element v;
  return o.at_key("properties").get(v) == simdjson::SUCCESS &&
         o.at_key("category").get(v) == simdjson::SUCCESS;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto importer = ingest::k8s_audit::MakeImporter();
  auto wrapped_importer = ingest::k8s_audit::MakeImporter();
  static simdjson::dom::parser parser;
  static simdjson::dom::parser envelope_parser;
  while (!input.empty()) {
    size_t nl = input.find('\n');
    std::string_view line = input.substr(0, nl);
    input = nl == std::string_view::npos ? std::string_view() : input.substr(nl + 1);
    if (!nhitrace::IsValidUtf8(line)) continue;
    simdjson::dom::element root;
    if (nhitrace::json::ParseJson(parser, line, &root) != simdjson::SUCCESS) continue;
    auto direct = MapAndCheck(*importer, root, line);
    if (IsEnvelopeShaped(root)) continue;

    std::string envelope = R"({"category":"kube-audit","properties":{"log":)";
    nhitrace::json::AppendCanonicalString(line, &envelope);
    envelope += "}}";
    simdjson::dom::element wrapped_root;
    FUZZ_CHECK(
        nhitrace::json::ParseJson(envelope_parser, envelope, &wrapped_root) == simdjson::SUCCESS,
        envelope);
    auto wrapped = MapAndCheck(*wrapped_importer, wrapped_root, envelope);
    FUZZ_CHECK(direct.ok() == wrapped.ok(), envelope);
    if (!direct.ok()) {
      const std::string m = direct.status().message();
      std::string want =
          m.rfind("record: ", 0) == 0 ? "properties.log: " + m.substr(8) : "properties.log." + m;
      FUZZ_CHECK(wrapped.status().message() == want,
                 wrapped.status().message() + "\n  want: " + want);
      continue;
    }
    FUZZ_CHECK(direct->ignored == wrapped->ignored, direct->ignored + " / " + wrapped->ignored);
    FUZZ_CHECK(direct->events.size() == wrapped->events.size(), envelope);
    for (size_t i = 0; i < direct->events.size(); ++i) {
      FUZZ_CHECK(direct->events[i].event == wrapped->events[i].event,
                 nhitrace::event::EncodeContent(direct->events[i].event) +
                     "\n  wrapped: " + nhitrace::event::EncodeContent(wrapped->events[i].event));
    }
  }
  auto fin = importer->Finish();
  FUZZ_CHECK(fin.ok() && fin->events.empty(), "k8s-audit Finish returned events");
  return 0;
}
