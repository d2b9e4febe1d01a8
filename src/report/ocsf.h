// Findings and cases as OCSF events for SIEMs (docs/format/ocsf.md): each finding (its latest
// revision) as a Detection Finding (class_uid 2004), each case as an Incident Finding (class_uid
// 2005), one JSON object per line (JSON Lines), findings first (by id), then cases (by id).
//
//   NHI_ASSIGN_OR_RETURN(OcsfStats st, ExportOcsfToFile(store, {}, "findings.ocsf.jsonl"));
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "store/store.h"

namespace nhitrace::report {

// The OCSF schema version the events follow (metadata.version).
inline constexpr char kOcsfVersion[] = "1.1.0";

struct OcsfOptions {
  // Findings whose evidence overlaps [from, to), cases opened in it; nullopt: unbounded.
  std::optional<int64_t> from_ns, to_ns;
  std::string product_version;  // metadata.product.version (the nhitrace version)
};

struct OcsfStats {
  uint64_t findings = 0;  // Detection Finding lines
  uint64_t cases = 0;     // Incident Finding lines
  uint64_t bytes = 0;
};

// Writes the lines (each ending in '\n') to `sink`, from one snapshot of the store.
// kInvalidArgument when from is not before to; kDataLoss when a finding's stored document is not
// a finding document.
Result<OcsfStats> ExportOcsf(store::Store& store, const OcsfOptions& options,
                             const std::function<Status(std::string_view)>& sink);

// ExportOcsf into a new file `path` (mode 0600), written under a temporary name, fsync'd and then
// renamed, so an incomplete file never appears under it. kAlreadyExists when `path` exists.
Result<OcsfStats> ExportOcsfToFile(store::Store& store, const OcsfOptions& options,
                                   const std::string& path);

}  // namespace nhitrace::report
