// Fuzzes the cases: and escalation: policy sections (src/cases/case_policy.cc). The input is the
// cases JSON, then (after the first newline, if any) the escalation JSON, as the policy module
// hands them over.
//
// Properties:
//   - a rejection is kInvalidArgument "<path>: <reason>" with the path under "cases" or
//     "escalation" (the policy module locates the YAML node by that path);
//   - ValidateCasesSection agrees: it rejects only what ParseCasePolicy rejects;
//   - an accepted policy answers every lookup, and its escalation levels are in time order.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/utf8.h"
#include "cases/case_policy.h"
#include "fuzz_check.h"

using namespace nhitrace;
using namespace nhitrace::cases;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t nl = in.find('\n');
  std::string_view cases_json = in.substr(0, nl);
  std::string_view escalation_json = nl == std::string_view::npos ? "" : in.substr(nl + 1);
  auto p = ParseCasePolicy(cases_json, escalation_json);
  Status v = cases_json.empty() ? OkStatus() : ValidateCasesSection(cases_json);
  if (!p.ok()) {
    const Status err = p.status();  // status() returns a copy: keep it alive
    const std::string& m = err.message();
    FUZZ_CHECK(err.code() == StatusCode::kInvalidArgument, err.ToString());
    FUZZ_CHECK(m.rfind("cases", 0) == 0 || m.rfind("escalation", 0) == 0, m);
    FUZZ_CHECK(m.find(": ") != std::string::npos, m);
    FUZZ_CHECK(IsValidUtf8(m) || !IsValidUtf8(in), m);
    return 0;
  }
  FUZZ_CHECK(v.ok(), v.ToString());
  for (CaseKind k : kAllCaseKinds) {
    for (Severity s : kAllSeverities) {
      SlaDurations d = p->SlaFor(k, s);
      FUZZ_CHECK(!d.respond_ns || *d.respond_ns >= 0, "negative respond");
      FUZZ_CHECK(!d.resolve_ns || *d.resolve_ns >= 0, "negative resolve");
      auto levels = p->EscalationFor(k, s);
      for (size_t i = 1; i < levels.size(); ++i) {
        FUZZ_CHECK(levels[i - 1].after_ns <= levels[i].after_ns, "escalation out of order");
      }
    }
    for (Resolution r : kAllResolutions) {
      for (const std::string& id : p->ClosureFor(k, r)) FUZZ_CHECK(IsCriterionId(id), id);
    }
    FUZZ_CHECK(p->VerificationWindowFor(k) >= 0, "negative window");
  }
  return 0;
}
