// Format detection for the vendor importers, in one place so that the four LooksLike functions
// (gcp_audit, github_audit, okta, entra) are mutually exclusive by construction: each is
// `DetectVendorFormat(record) == <its format>`.
#pragma once

#include <simdjson.h>

namespace nhitrace::ingest::internal {

enum class VendorFormat { kNone, kGcpAudit, kGithubAudit, kOkta, kEntra };

// Which of the four formats `record` is, by a few members only (docs/importers/*.md, section
// "Detection"). Records of other formats (CloudTrail, Vault, Kubernetes audit, Azure activity
// logs) give kNone.
VendorFormat DetectVendorFormat(const simdjson::dom::element& record);

}  // namespace nhitrace::ingest::internal
