// Fuzzes the evidence-pack reader: evidence::VerifyPack over a whole pack, and
// evidence::LineParser over each of its lines. A pack comes from outside (an auditor receives
// it), so any bytes must give a report, never a crash:
//   - VerifyPack fails only when it cannot run (kUnavailable: no scratch directory); otherwise
//     every problem names a part and says what, its line is within the pack, and a pack with no
//     problem had its summary checked and is in the one format version of its query (1, or 2
//     for a case pack, whose summary is the case fold; seeds of both are in the corpus);
//   - a line that parses re-encodes (EncodeLine) to a line that parses to the same value, and a
//     pack that verifies consists only of such canonical lines.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "evidence/pack_format.h"
#include "evidence/verify_pack.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace evidence = nhitrace::evidence;
  std::string_view pack(reinterpret_cast<const char*>(data), size);

  evidence::LineParser parser;
  size_t lines = 0;
  for (size_t pos = 0; pos < pack.size(); ++lines) {
    size_t nl = pack.find('\n', pos);
    if (nl == std::string_view::npos) nl = pack.size();
    std::string_view line = pack.substr(pos, nl - pos);
    pos = nl + 1;
    auto parsed = parser.Parse(line);
    if (!parsed.ok()) {
      FUZZ_CHECK(parsed.status().code() == nhitrace::StatusCode::kInvalidArgument,
                 parsed.status().ToString());
      FUZZ_CHECK(!parsed.status().message().empty());
      continue;
    }
    const evidence::PackLine value = *parsed;
    std::string encoded = std::visit([](const auto& x) { return evidence::EncodeLine(x); }, value);
    FUZZ_CHECK(!encoded.empty() && encoded.back() == '\n');
    encoded.pop_back();
    auto again = parser.Parse(encoded);
    FUZZ_CHECK(again.ok(), again.status().ToString() + " for the re-encoding of " +
                               std::string(line) + ": " + encoded);
    FUZZ_CHECK(*again == value, "re-encoding changed the line: " + std::string(line));
  }

  evidence::VerifyPackOptions opts;
  opts.max_problems = 1000;
  auto report = evidence::VerifyPack(pack, opts);
  if (!report.ok()) {
    FUZZ_CHECK(report.status().code() == nhitrace::StatusCode::kUnavailable,
               report.status().ToString());
    return 0;
  }
  FUZZ_CHECK(report->problem_count >= report->problems.size());
  for (const auto& p : report->problems) {
    FUZZ_CHECK(!p.part.empty() && !p.what.empty(), p.ToString());
    FUZZ_CHECK(p.line <= lines, p.ToString());
  }
  if (report->ok()) {
    FUZZ_CHECK(report->summary_checked);
    FUZZ_CHECK(report->events > 0);
    FUZZ_CHECK(report->version == evidence::PackVersionFor(report->query));
    FUZZ_CHECK((report->summary_type == "case") == report->query.case_id.has_value());
  }
  return 0;
}
