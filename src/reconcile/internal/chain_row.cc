#include "reconcile/internal/chain_row.h"

#include "base/time.h"
#include "json/dom.h"

namespace nhitrace::reconcile::internal {
namespace {

using simdjson::dom::element;

Status Bad(const store::GrantRow& row, const std::string& what) {
  return DataLossError("grant " + row.correlation_key + ": stored chain document: " + what);
}

Status Seqs(const element& doc, const char* key, std::vector<uint64_t>* out) {
  element a;
  if (doc[key].get(a) != simdjson::SUCCESS || !a.is_array()) {
    return InvalidArgumentError(std::string(key) + " is not a list");
  }
  for (element x : json::ArrayOf(a)) {
    uint64_t v = 0;
    if (x.get(v) != simdjson::SUCCESS) return InvalidArgumentError(std::string(key) + " item");
    out->push_back(v);
  }
  return OkStatus();
}

std::string Str(const element& doc, const char* key) {
  std::string_view s;
  if (doc[key].get(s) != simdjson::SUCCESS) return "";
  return std::string(s);
}

std::optional<event::Scope> ScopeOf(const element& doc, const char* key) {
  element s;
  if (doc[key].get(s) != simdjson::SUCCESS || !s.is_object()) return std::nullopt;
  event::Scope out;
  for (auto [name, list] :
       {std::pair{"resources", &out.resources}, std::pair{"permissions", &out.permissions}}) {
    element a;
    if (s[name].get(a) != simdjson::SUCCESS || !a.is_array()) continue;
    for (element x : json::ArrayOf(a)) {
      std::string_view v;
      if (x.get(v) == simdjson::SUCCESS) list->emplace_back(v);
    }
  }
  return out;
}

}  // namespace

Result<correlate::GrantChain> ChainFromRow(const store::GrantRow& row) {
  simdjson::dom::parser parser;
  element doc;
  if (json::ParseJson(parser, row.doc, &doc) != simdjson::SUCCESS || !doc.is_object()) {
    return Bad(row, "not a JSON object");
  }
  correlate::GrantChain c;
  c.correlation_key = row.correlation_key;
  auto status = correlate::ParseChainStatus(Str(doc, "status"));
  if (!status) return Bad(row, "unknown status");
  c.status = *status;
  c.identity = Str(doc, "identity");
  struct List {
    const char* key;
    std::vector<uint64_t>* out;
  } lists[] = {{"requested", &c.requested},
               {"approved", &c.approved},
               {"denied", &c.denied},
               {"provisioned", &c.provisioned},
               {"provision_failed", &c.provision_failed},
               {"rotated", &c.rotated},
               {"revoked", &c.revoked},
               {"expired", &c.expired},
               {"reconciled", &c.reconciled},
               {"other", &c.other}};
  for (const List& l : lists) {
    Status s = Seqs(doc, l.key, l.out);
    if (!s.ok()) return Bad(row, s.message());
  }
  if (row.first_use_seq) {
    correlate::FirstUse fu;
    fu.seq = *row.first_use_seq;
    element f;
    std::string_view t;
    if (doc["first_use"].get(f) == simdjson::SUCCESS && f["time"].get(t) == simdjson::SUCCESS) {
      auto parsed = ParseRfc3339(t);
      if (parsed.ok()) fu.time_ns = parsed->unix_nanos;
    }
    c.first_use = fu;
  }
  c.requester = Str(doc, "requester");
  element approvers;
  if (doc["approvers"].get(approvers) == simdjson::SUCCESS && approvers.is_array()) {
    for (element x : json::ArrayOf(approvers)) {
      std::string_view v;
      if (x.get(v) == simdjson::SUCCESS) c.approvers.emplace_back(v);
    }
  }
  element pol;
  if (doc["policy"].get(pol) == simdjson::SUCCESS && pol.is_object()) {
    c.policy = event::PolicyRef{Str(pol, "id"), Str(pol, "version"), Str(pol, "hash")};
  }
  c.requested_scope = ScopeOf(doc, "requested_scope");
  c.approved_scope = ScopeOf(doc, "approved_scope");
  c.provisioned_scope = ScopeOf(doc, "provisioned_scope");
  c.start_ns = row.start_ns;
  c.end_ns = row.end_ns;
  uint64_t end_seq = 0;
  if (doc["end_seq"].get(end_seq) == simdjson::SUCCESS) c.end_seq = end_seq;
  c.end_reason = Str(doc, "end_reason");
  element issues;
  if (doc["issues"].get(issues) == simdjson::SUCCESS && issues.is_array()) {
    for (element i : json::ArrayOf(issues)) {
      correlate::ChainIssue issue;
      issue.code = Str(i, "code");
      issue.message = Str(i, "message");
      (void)Seqs(i, "seqs", &issue.seqs);
      c.issues.push_back(std::move(issue));
    }
  }
  return c;
}

}  // namespace nhitrace::reconcile::internal
