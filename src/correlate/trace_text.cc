#include "correlate/trace_text.h"

#include <algorithm>
#include <cstdarg>
#include <cstdio>

#include "base/time.h"

namespace nhitrace::correlate {
namespace {

// Appends printf-style formatted text to *out.
[[gnu::format(printf, 2, 3)]] void Appendf(std::string* out, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  va_list ap2;
  va_copy(ap2, ap);
  int n = std::vsnprintf(nullptr, 0, fmt, ap);
  va_end(ap);
  if (n > 0) {
    size_t old = out->size();
    out->resize(old + static_cast<size_t>(n) + 1);
    std::vsnprintf(out->data() + old, static_cast<size_t>(n) + 1, fmt, ap2);
    out->resize(old + static_cast<size_t>(n));
  }
  va_end(ap2);
}

unsigned long long U(uint64_t v) { return static_cast<unsigned long long>(v); }

std::string ShortTime(int64_t ns) {
  if (ns == INT64_MIN || ns == INT64_MAX) return "-";
  std::string t = FormatRfc3339Utc(ns, 0);
  t[10] = ' ';
  return t;
}

// Fits `s` into `width` columns, marking a cut with '~'.
std::string Fit(std::string s, size_t width) {
  if (s.size() > width) {
    s.resize(width - 1);
    s += "~";
  }
  return s;
}

std::string Join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += sep;
    out += v[i];
  }
  return out;
}

// "label  value", wrapping value at 80 columns under itself.
void Field(std::string* out, const char* label, const std::string& value) {
  if (value.empty()) return;
  constexpr size_t kIndent = 11, kWidth = 80 - kIndent;
  Appendf(out, "%-10s ", label);
  size_t pos = 0;
  bool first = true;
  while (pos < value.size()) {
    size_t len = std::min(kWidth, value.size() - pos);
    if (pos + len < value.size()) {
      size_t sp = value.rfind(' ', pos + len);
      if (sp != std::string::npos && sp > pos) len = sp - pos;
    }
    if (!first) out->append(kIndent, ' ');
    out->append(value, pos, len);
    out->push_back('\n');
    pos += len;
    while (pos < value.size() && value[pos] == ' ') ++pos;
    first = false;
  }
}

const ChainEvent* FindEvent(const GrantTrace& g, uint64_t seq) {
  for (const auto& e : g.events) {
    if (e.seq == seq) return &e;
  }
  return nullptr;
}

void StageLine(std::string* out, const GrantTrace& g, const char* stage,
               const std::vector<uint64_t>& seqs, bool applicable = true) {
  if (seqs.empty()) {
    Appendf(out, "  %-17s %s\n", stage, applicable ? "MISSING" : "-");
    return;
  }
  for (size_t i = 0; i < seqs.size(); ++i) {
    const ChainEvent* e = FindEvent(g, seqs[i]);
    std::string who = e ? e->event.source_system : "?";
    if (e && e->event.actor) who += " / " + e->event.actor->id;
    if (e && e->event.outcome && e->event.outcome->result == "failure") {
      who +=
          " (failed" + (e->event.outcome->code.empty() ? "" : ": " + e->event.outcome->code) + ")";
    }
    Appendf(out, "  %-17s %-20s %6llu  %s\n", i == 0 ? stage : "",
            e ? ShortTime(e->event.time_ns).c_str() : "?", U(seqs[i]), Fit(who, 30).c_str());
  }
}

std::string ScopeText(const std::optional<event::Scope>& s) {
  if (!s) return "";
  std::string out = Join(s->permissions, " ");
  if (!s->resources.empty()) out += (out.empty() ? "on " : " on ") + Join(s->resources, " ");
  return out;
}

void Actions(std::string* out, const ActionSummary& s, const char* title) {
  Appendf(out, "%s  %llu", title, U(s.count));
  if (s.count) {
    Appendf(out, " (%s .. %s)", ShortTime(s.first_ns).c_str(), ShortTime(s.last_ns).c_str());
  }
  out->push_back('\n');
  if (!s.count) return;
  Appendf(out,
          "  covered %llu · out of scope %llu · before grant %llu · after revocation %llu\n"
          "  after expiry %llu · no grant %llu · by agents/workloads %llu\n",
          U(s.covered), U(s.out_of_scope), U(s.before_grant), U(s.after_revocation),
          U(s.after_expiry), U(s.no_grant), U(s.delegated));
  for (const auto& a : s.exceptions) {
    const event::Event& e = a.action.event;
    std::string what = a.uncovered.empty() ? "" : Join(a.uncovered, " ");
    if (what.empty() && e.scope) what = ScopeText(e.scope);
    Appendf(out, "  ! %-6llu %s %-16s %s\n", U(a.action.seq), ShortTime(e.time_ns).c_str(),
            std::string(VerdictName(a.verdict)).c_str(), Fit(what, 30).c_str());
    if (e.delegation) {
      Appendf(out, "           agent %s for %s\n", Fit(e.delegation->agent_instance, 28).c_str(),
              Fit(e.delegation->sponsor, 30).c_str());
    }
  }
  if (s.exceptions_omitted) {
    Appendf(out, "  ... and %llu more (trace --json lists the first %zu)\n",
            U(s.exceptions_omitted), kMaxExceptions);
  }
}

void Grant(std::string* out, const GrantTrace& g) {
  const GrantChain& c = g.chain;
  Appendf(out, "REQUEST %-49s status: %s\n", Fit(c.correlation_key, 49).c_str(),
          std::string(ChainStatusName(c.status)).c_str());
  Field(out, "credential", c.identity.empty() ? "(none named)" : c.identity);
  Field(out, "requester", c.requester);
  Field(out, "approvers", Join(c.approvers, ", "));
  if (c.policy) {
    Field(out, "policy",
          c.policy->id + (c.policy->version.empty() ? "" : " v" + c.policy->version) +
              (c.policy->hash.empty() ? "" : " (" + c.policy->hash + ")"));
  }
  Field(out, "approved", ScopeText(c.approved_scope));
  if (c.provisioned_scope) Field(out, "issued", ScopeText(c.provisioned_scope));
  if (c.start_ns != INT64_MIN) {
    Field(out, "window",
          ShortTime(c.start_ns) + " .. " + ShortTime(c.end_ns) +
              (c.end_reason.empty() ? "" : " (" + c.end_reason + ")"));
  }
  Appendf(out, "\n  %-17s %-20s %6s  %s\n", "STAGE", "TIME (UTC)", "SEQ", "SOURCE / ACTOR");
  bool denied = c.status == ChainStatus::kDenied;
  StageLine(out, g, "requested", c.requested);
  if (!c.denied.empty()) StageLine(out, g, "denied", c.denied);
  if (!denied || !c.approved.empty()) StageLine(out, g, "approved", c.approved);
  if (!c.provision_failed.empty()) StageLine(out, g, "provision_failed", c.provision_failed);
  StageLine(out, g, "provisioned", c.provisioned, !denied);
  if (c.first_use) {
    Appendf(out, "  %-17s %-20s %6llu  first use\n", "active",
            ShortTime(c.first_use->time_ns).c_str(), U(c.first_use->seq));
  } else {
    Appendf(out, "  %-17s %s\n", "active", c.provisioned.empty() ? "-" : "no use on record");
  }
  if (!c.rotated.empty()) StageLine(out, g, "rotated", c.rotated);
  bool ended = !c.revoked.empty() || !c.expired.empty();
  if (!c.revoked.empty()) StageLine(out, g, "revoked", c.revoked);
  if (!c.expired.empty()) StageLine(out, g, "expired", c.expired);
  if (!ended) Appendf(out, "  %-17s %s\n", "revoked/expired", "not yet");
  if (ended || !c.reconciled.empty()) StageLine(out, g, "reconciled", c.reconciled, ended);
  if (!c.other.empty()) StageLine(out, g, "other", c.other);
  out->push_back('\n');
  Actions(out, g.actions, "ACTIONS");
  if (!c.issues.empty()) {
    out->append("ISSUES\n");
    for (const auto& i : c.issues) {
      std::string seqs;
      for (uint64_t s : i.seqs) seqs += (seqs.empty() ? " (seq " : ", ") + std::to_string(s);
      if (!seqs.empty()) seqs += ")";
      Appendf(out, "  - %s: %s%s\n", i.code.c_str(), i.message.c_str(), seqs.c_str());
    }
  }
}

void Identity(std::string* out, const IdentityInfo& id) {
  Appendf(out, "IDENTITY %s\n", id.canonical.c_str());
  std::string facts = id.kind;
  if (!id.system.empty()) facts += (facts.empty() ? "" : ", ") + std::string("system ") + id.system;
  Field(out, "kind", facts);
  Field(out, "owner", id.owner.empty() ? "(none on record)" : id.owner);
  Field(out, "sponsor", id.sponsor.empty() ? "(none on record)" : id.sponsor);
  Field(out, "seen",
        ShortTime(id.first_seen_ns) + " .. " + ShortTime(id.last_seen_ns) + ", " +
            std::to_string(id.event_count) + " events, " + std::to_string(id.action_count) +
            " actions");
  if (id.keys.size() > 1) {
    out->append("keys\n");
    for (const auto& k : id.keys) {
      std::string how;
      for (const auto& l : k.links) {
        how += (how.empty() ? "linked to " : "; ") + (l.key_a == k.row.key ? l.key_b : l.key_a) +
               " by seq " + std::to_string(l.seq);
      }
      Appendf(out, "  %s\n", k.row.key.c_str());
      if (!how.empty()) Appendf(out, "      %s\n", how.c_str());
    }
  }
}

}  // namespace

std::string TraceToText(const Trace& t) {
  std::string out;
  const bool by_request = !t.query.request.empty();
  if (t.event) {
    const event::Event& e = t.event->event;
    Appendf(&out, "EVENT %llu  %s  %s  %s %s\n\n", U(t.event->seq),
            std::string(event::KindName(e.kind)).c_str(), ShortTime(e.time_ns).c_str(),
            e.source_system.c_str(), e.source_event_id.c_str());
  }
  if (t.identity && !by_request && !(t.event && !t.event->event.correlation_key.empty())) {
    Identity(&out, *t.identity);
    out.push_back('\n');
  }
  for (size_t i = 0; i < t.grants.size(); ++i) {
    if (i) out.push_back('\n');
    Grant(&out, t.grants[i]);
  }
  if (t.identity && !by_request && t.unattributed.count) {
    out.push_back('\n');
    Actions(&out, t.unattributed, "ACTIONS UNDER NO GRANT");
  }
  if (t.grants.empty() && t.identity) out.append("no grant on record for this identity\n");
  return out;
}

}  // namespace nhitrace::correlate
