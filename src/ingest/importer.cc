#include "ingest/importer.h"

#include <simdjson.h>

#include "ingest/cloudtrail/cloudtrail.h"
#include "ingest/entra/entra.h"
#include "ingest/gcp_audit/gcp_audit.h"
#include "ingest/github_audit/github_audit.h"
#include "ingest/k8s_audit/k8s_audit.h"
#include "ingest/okta/okta.h"
#include "ingest/vault/vault.h"

namespace nhitrace::ingest {
namespace {

struct Entry {
  const char* name;
  std::unique_ptr<Importer> (*make)();
  bool (*looks_like)(const simdjson::dom::element&);
};

// The importers, in the order --format auto tries them (each LooksLike is specific enough
// that at most one matches a real record).
const std::vector<Entry>& Registry() {
  static const std::vector<Entry> entries = {
      {"cloudtrail", [] { return cloudtrail::MakeImporter(); }, cloudtrail::LooksLike},
      {"vault", [] { return vault::MakeImporter(); }, vault::LooksLike},
      {"k8s-audit", [] { return k8s_audit::MakeImporter(); }, k8s_audit::LooksLike},
      {"gcp-audit", [] { return gcp_audit::MakeImporter(); }, gcp_audit::LooksLike},
      {"github-audit", [] { return github_audit::MakeImporter(); }, github_audit::LooksLike},
      {"okta", [] { return okta::MakeImporter(); }, okta::LooksLike},
      {"entra", [] { return entra::MakeImporter(); }, entra::LooksLike},
  };
  return entries;
}

}  // namespace

std::unique_ptr<Importer> MakeImporter(std::string_view format) {
  for (const Entry& e : Registry()) {
    if (format == e.name) return e.make();
  }
  return nullptr;
}

const std::vector<std::string>& ImporterFormats() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const Entry& e : Registry()) v.emplace_back(e.name);
    return v;
  }();
  return names;
}

bool LooksLike(std::string_view format, const simdjson::dom::element& record) {
  for (const Entry& e : Registry()) {
    if (format == e.name) return e.looks_like(record);
  }
  return false;
}

}  // namespace nhitrace::ingest
