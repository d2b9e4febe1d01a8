// DiffPolicies: what changed between two policy documents, path by path.
#include <map>

#include "json/canonical.h"
#include "json/dom.h"
#include "policy/policy.h"

namespace nhitrace::policy {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

std::string Compact(const element& e) {
  std::string out;
  if (!json::AppendCanonical(e, &out).ok()) return "?";
  return out;
}

void Walk(const element* a, const element* b, const std::string& path,
          std::vector<DiffEntry>* out) {
  if (!a && !b) return;
  if (!a) {
    out->push_back({'+', path, "", Compact(*b)});
    return;
  }
  if (!b) {
    out->push_back({'-', path, Compact(*a), ""});
    return;
  }
  if (a->type() == element_type::OBJECT && b->type() == element_type::OBJECT) {
    std::map<std::string, element> ma, mb;
    for (auto kv : json::ObjectOf(*a)) ma.emplace(std::string(kv.key), kv.value);
    for (auto kv : json::ObjectOf(*b)) mb.emplace(std::string(kv.key), kv.value);
    std::map<std::string, std::pair<const element*, const element*>> all;
    for (auto& [k, v] : ma) all[k].first = &v;
    for (auto& [k, v] : mb) all[k].second = &v;
    for (auto& [k, p] : all) Walk(p.first, p.second, path.empty() ? k : path + "." + k, out);
    return;
  }
  if (a->type() == element_type::ARRAY && b->type() == element_type::ARRAY) {
    std::vector<element> va, vb;
    for (element x : json::ArrayOf(*a)) va.push_back(x);
    for (element x : json::ArrayOf(*b)) vb.push_back(x);
    for (size_t i = 0; i < std::max(va.size(), vb.size()); ++i) {
      Walk(i < va.size() ? &va[i] : nullptr, i < vb.size() ? &vb[i] : nullptr,
           path + "[" + std::to_string(i) + "]", out);
    }
    return;
  }
  std::string ca = Compact(*a), cb = Compact(*b);
  if (ca != cb) out->push_back({'~', path, ca, cb});
}

}  // namespace

std::vector<DiffEntry> DiffPolicies(const Policy& a, const Policy& b) {
  std::vector<DiffEntry> out;
  simdjson::dom::parser pa, pb;
  element ea, eb;
  if (json::ParseJson(pa, a.canonical_json, &ea) != simdjson::SUCCESS ||
      json::ParseJson(pb, b.canonical_json, &eb) != simdjson::SUCCESS) {
    return out;  // both come from ParsePolicy: canonical JSON by construction
  }
  Walk(&ea, &eb, "", &out);
  return out;
}

}  // namespace nhitrace::policy
