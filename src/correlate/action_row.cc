#include "correlate/action_row.h"

#include <string>
#include <utility>

#include "event/codec.h"

namespace nhitrace::correlate {

store::ActionRow ActionRowOf(uint64_t seq, const event::Event& e) {
  store::ActionRow row;
  row.identity_key = e.identity;
  row.time_ns = e.time_ns;
  row.seq = seq;
  row.failed = e.outcome && e.outcome->result == "failure";
  row.delegated = e.delegation.has_value();
  if (e.delegation) row.credential = e.delegation->credential;
  if (e.scope) row.scope = event::EncodeScope(*e.scope);
  return row;
}

Result<ChainEvent> ActionReader::Read(const store::ActionRow& row) {
  using simdjson::dom::element;
  using simdjson::dom::element_type;
  ChainEvent ce;
  ce.seq = row.seq;
  event::Event& e = ce.event;
  e.kind = event::Kind::kAction;
  e.time_ns = row.time_ns;
  e.identity = row.identity_key;
  if (row.failed) e.outcome.emplace().result = "failure";
  if (row.delegated) e.delegation.emplace().credential = row.credential;
  if (row.scope.empty()) return ce;
  auto bad = [&](const char* what) {
    return DataLossError("action " + std::to_string(row.seq) + ": stored scope: " + what);
  };
  element scope;
  if (json::ParseJson(parser_, row.scope, &scope) != simdjson::SUCCESS) return bad("not JSON");
  if (scope.type() != element_type::OBJECT) return bad("not an object");
  event::Scope sc;
  for (auto [name, out] :
       {std::pair{"resources", &sc.resources}, std::pair{"permissions", &sc.permissions}}) {
    element list;
    if (scope[name].get(list) != simdjson::SUCCESS) continue;
    if (list.type() != element_type::ARRAY) return bad(name);
    for (element item : json::ArrayOf(list)) {
      std::string_view v;
      if (item.get_string().get(v) != simdjson::SUCCESS) return bad(name);
      out->emplace_back(v);
    }
  }
  e.scope = std::move(sc);
  return ce;
}

}  // namespace nhitrace::correlate
