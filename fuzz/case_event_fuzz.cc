// Fuzzes the decoding of case events (src/cases/case_event.cc) and the fold (src/cases/fold.cc):
// case events can arrive by ingest from anyone. The input is "<source event id>\n<attributes
// JSON>"; the rest of the event is fixed.
//
// Properties:
//   - a rejection is kInvalidArgument naming the field;
//   - an accepted op survives the ledger: BuildCaseEvent (which runs the native decoder) accepts
//     it, its attributes are canonical, and decoding that event gives the same op;
//   - the fold never crashes: applied to no case, to an open case and to a closed one, it
//     either applies the op or refuses it leaving the case as it was.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cases/case_event.h"
#include "cases/fold.h"
#include "fuzz_check.h"
#include "json/canonical.h"

using namespace nhitrace;
using namespace nhitrace::cases;

namespace {

constexpr int64_t kT = 1772323200LL * 1000000000LL;

event::Event MakeEvent(std::string id, std::string attributes) {
  event::Event e;
  e.kind = event::Kind::kCase;
  e.source_system = kCaseSourceSystem;
  e.source_event_id = std::move(id);
  e.time = "2026-03-01T00:00:00Z";
  e.time_ns = kT;
  e.actor = event::Actor{"dmitri", "human"};
  e.rationale = "fuzz";
  e.attributes = std::move(attributes);
  return e;
}

// A case with one of everything an op may refer to: task 1, attachment 1, decision 1 (a deny),
// decision 2 (an override with control owner dmitri), decision 3 (an exception).
std::optional<CaseView> Seeded(uint64_t id, bool closed) {
  const char* ops[] = {
      R"({"case":%I,"op":"open","op_seq":1,"kind":"incident","severity":"high","title":"t","requester":"r","timers":{"respond_due":"2026-03-02T00:00:00Z","escalation":[{"level":1,"to":"x","due":"2026-03-03T00:00:00Z"}]}})",
      R"({"case":%I,"op":"task","op_seq":2,"task":1,"action":"add","title":"t"})",
      R"({"case":%I,"op":"decide","op_seq":3,"decision_id":1,"decision":"deny"})",
      R"({"case":%I,"op":"decide","op_seq":4,"decision_id":2,"decision":"override","identity":"k","overrides":{"decision":1,"automated":true},"control_owner":"dmitri"})",
      R"({"case":%I,"op":"except","op_seq":5,"decision_id":3,"decision":"exception","correlation_key":"CHG-1","expires":"2026-04-01T00:00:00Z","review_by":"2026-03-20T00:00:00Z","compensating_controls":["c"]})",
      R"({"case":%I,"op":"close","op_seq":6,"from":"open","resolution":"resolved","criteria":[]})",
  };
  std::optional<CaseView> v;
  size_t n = closed ? 6 : 5;
  for (size_t i = 0; i < n; ++i) {
    std::string a = ops[i];
    a.replace(a.find("%I"), 2, std::to_string(id));
    event::Event e = MakeEvent(std::to_string(id) + "/" + std::to_string(i + 1), a);
    auto op = DecodeCaseEvent(e);
    FUZZ_CHECK(op.ok(), op.status().ToString());
    Status s = ApplyCaseEvent(e, 100 + i, *op, &v);
    FUZZ_CHECK(s.ok(), s.ToString());
  }
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t nl = in.find('\n');
  if (nl == std::string_view::npos) return 0;
  event::Event e = MakeEvent(std::string(in.substr(0, nl)), std::string(in.substr(nl + 1)));
  auto op = DecodeCaseEvent(e);
  if (!op.ok()) {
    FUZZ_CHECK(op.status().code() == StatusCode::kInvalidArgument, op.status().ToString());
    FUZZ_CHECK(op.status().message().find(": ") != std::string::npos, op.status().message());
    return 0;
  }
  // Round trip through the event the session would write.
  auto built = BuildCaseEvent(*op, {"dmitri", "human"}, kT, "fuzz", std::nullopt);
  FUZZ_CHECK(built.ok(), built.status().ToString());
  auto canon = json::Canonicalize(built->attributes);
  FUZZ_CHECK(canon.ok() && *canon == built->attributes, built->attributes);
  auto again = DecodeCaseEvent(*built);
  FUZZ_CHECK(again.ok(), again.status().ToString());
  FUZZ_CHECK(*again == *op, built->attributes);

  // The fold, on no case and on seeded ones.
  for (int mode = 0; mode < 3; ++mode) {
    std::optional<CaseView> v;
    if (mode > 0) v = Seeded(op->case_id, mode == 2);
    if (mode > 0 && op->op_seq != v->op_count + 1) continue;
    std::optional<CaseView> before = v;
    Status s = ApplyCaseEvent(e, 999, *op, &v);
    if (!s.ok()) {
      FUZZ_CHECK(s.code() == StatusCode::kFailedPrecondition, s.ToString());
      FUZZ_CHECK(v == before, "a refused event changed the case");
    } else {
      FUZZ_CHECK(v.has_value() && v->op_count == op->op_seq, "op count");
      (void)CaseViewToJson(*v);
      (void)NextDue(*v);
    }
  }
  return 0;
}
