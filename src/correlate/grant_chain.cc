#include "correlate/grant_chain.h"

#include <algorithm>
#include <set>

#include "base/time.h"
#include "correlate/scope.h"
#include "json/writer.h"

namespace nhitrace::correlate {

std::string_view ChainStatusName(ChainStatus s) {
  switch (s) {
    case ChainStatus::kObserved:
      return "observed";
    case ChainStatus::kRequested:
      return "requested";
    case ChainStatus::kApproved:
      return "approved";
    case ChainStatus::kDenied:
      return "denied";
    case ChainStatus::kProvisioned:
      return "provisioned";
    case ChainStatus::kProvisionFailed:
      return "provision_failed";
    case ChainStatus::kActive:
      return "active";
    case ChainStatus::kExpired:
      return "expired";
    case ChainStatus::kRevoked:
      return "revoked";
    case ChainStatus::kReconciled:
      return "reconciled";
  }
  return "?";
}

std::optional<ChainStatus> ParseChainStatus(std::string_view s) {
  for (auto st : {ChainStatus::kObserved, ChainStatus::kRequested, ChainStatus::kApproved,
                  ChainStatus::kDenied, ChainStatus::kProvisioned, ChainStatus::kProvisionFailed,
                  ChainStatus::kActive, ChainStatus::kExpired, ChainStatus::kRevoked,
                  ChainStatus::kReconciled}) {
    if (ChainStatusName(st) == s) return st;
  }
  return std::nullopt;
}

bool ChronologicalLess(const ChainEvent& a, const ChainEvent& b) {
  const auto& x = a.event;
  const auto& y = b.event;
  if (x.time_ns != y.time_ns) return x.time_ns < y.time_ns;
  if (x.source_system != y.source_system) return x.source_system < y.source_system;
  return x.source_event_id < y.source_event_id;
}

namespace {

bool Succeeded(const event::Event& e) { return !e.outcome || e.outcome->result == "success"; }

int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) return b > 0 ? INT64_MAX : INT64_MIN;
  return r;
}

void Issue(GrantChain& c, std::string code, std::string message, std::vector<uint64_t> seqs = {}) {
  c.issues.push_back({std::move(code), std::move(message), std::move(seqs)});
}

}  // namespace

GrantChain BuildChain(const std::string& correlation_key, std::vector<ChainEvent> events,
                      std::optional<FirstUse> first_use) {
  std::sort(events.begin(), events.end(), ChronologicalLess);
  GrantChain c;
  c.correlation_key = correlation_key;
  const ChainEvent* first_request = nullptr;
  const ChainEvent* first_approval = nullptr;
  const ChainEvent* last_decision = nullptr;  // the latest approval or denial
  const ChainEvent* last_approval = nullptr;
  const ChainEvent* first_provision = nullptr;
  const ChainEvent* end_event = nullptr;
  std::vector<const ChainEvent*> reconciliations;
  std::string requested_identity, approved_identity;

  for (const ChainEvent& ce : events) {
    const event::Event& e = ce.event;
    switch (e.kind) {
      case event::Kind::kRequest:
        c.requested.push_back(ce.seq);
        if (!first_request) first_request = &ce;
        if (requested_identity.empty()) requested_identity = e.identity;
        break;
      case event::Kind::kApproval:
        c.approved.push_back(ce.seq);
        if (!first_approval) first_approval = &ce;
        last_decision = last_approval = &ce;
        if (e.actor) c.approvers.push_back(e.actor->id);
        if (!e.identity.empty()) approved_identity = e.identity;
        break;
      case event::Kind::kDenial:
        c.denied.push_back(ce.seq);
        last_decision = &ce;
        break;
      case event::Kind::kProvision:
        if (Succeeded(e)) {
          c.provisioned.push_back(ce.seq);
          if (!first_provision) first_provision = &ce;
        } else {
          c.provision_failed.push_back(ce.seq);
        }
        break;
      case event::Kind::kRotation:
        c.rotated.push_back(ce.seq);
        break;
      case event::Kind::kRevocation:
      case event::Kind::kExpiry:
        // A failed revocation or expiry did not end anything; it is listed, not counted.
        if (Succeeded(e)) {
          (e.kind == event::Kind::kRevocation ? c.revoked : c.expired).push_back(ce.seq);
          if (!end_event) end_event = &ce;
        } else {
          c.other.push_back(ce.seq);
        }
        break;
      case event::Kind::kReconciliation:
        reconciliations.push_back(&ce);  // sorted out once the end is known
        break;
      default:
        c.other.push_back(ce.seq);
        break;
    }
  }

  // Who asked, who decided, under which policy, for what. Only an approval approves: without
  // one there is no approved scope (a request's scope is what was asked for).
  if (first_request && first_request->event.actor) c.requester = first_request->event.actor->id;
  if (first_request) c.requested_scope = first_request->event.scope;
  if (last_approval) {
    c.policy = last_approval->event.policy;
    c.approved_scope = last_approval->event.scope ? last_approval->event.scope : c.requested_scope;
  }
  if (last_approval && last_approval->event.window) {
    c.approved_window = last_approval->event.window;
  } else if (first_request && first_request->event.window) {
    c.approved_window = first_request->event.window;
  }
  if (first_provision) {
    c.identity = first_provision->event.identity;
    c.provisioned_scope = first_provision->event.scope;
  }
  if (c.identity.empty()) c.identity = approved_identity;
  if (c.identity.empty()) c.identity = requested_identity;

  // The usable window [start_ns, end_ns). not_after is inclusive (as in X.509, RFC 5280
  // 4.1.2.5); revocation, expiry and TTL end it at their instant.
  if (first_provision) {
    c.start_ns = first_provision->event.time_ns;
    if (c.approved_window && !c.approved_window->not_before.empty()) {
      c.start_ns = std::max(c.start_ns, c.approved_window->not_before_ns);
    }
    if (c.approved_window && !c.approved_window->not_after.empty()) {
      c.end_ns = SaturatingAdd(c.approved_window->not_after_ns, 1);
      c.end_reason = "window";
    }
    if (c.approved_window && c.approved_window->ttl_seconds) {
      int64_t ttl_end = SaturatingAdd(first_provision->event.time_ns,
                                      *c.approved_window->ttl_seconds * 1'000'000'000);
      if (ttl_end < c.end_ns) {
        c.end_ns = ttl_end;
        c.end_reason = "ttl";
      }
    }
  }
  if (end_event && end_event->event.time_ns <= c.end_ns) {
    c.end_ns = end_event->event.time_ns;
    c.end_seq = end_event->seq;
    c.end_reason = end_event->event.kind == event::Kind::kRevocation ? "revoked" : "expired";
  }
  if (first_use && first_provision && first_use->time_ns >= c.start_ns &&
      first_use->time_ns < c.end_ns) {
    c.first_use = first_use;
  }

  // A reconciliation confirms the end only if it comes after the end and found the credential
  // gone (success); one that found it still live contradicts the end.
  const ChainEvent* contradiction = nullptr;
  bool confirmed = false;
  for (const ChainEvent* r : reconciliations) {
    bool after_end = end_event && r->event.time_ns >= end_event->event.time_ns;
    if (after_end && Succeeded(r->event)) {
      c.reconciled.push_back(r->seq);
      confirmed = true;
    } else {
      c.other.push_back(r->seq);
      if (after_end && !contradiction) contradiction = r;
    }
  }
  // `other` in chronological order (the reconciliations were added after the rest).
  std::set<uint64_t> other(c.other.begin(), c.other.end());
  c.other.clear();
  for (const ChainEvent& ce : events) {
    if (other.count(ce.seq)) c.other.push_back(ce.seq);
  }

  // Status: the furthest stage the evidence reaches.
  bool decided_approve = last_decision && last_decision->event.kind == event::Kind::kApproval;
  bool decided_deny = last_decision && last_decision->event.kind == event::Kind::kDenial;
  if (end_event) {
    c.status = confirmed                                           ? ChainStatus::kReconciled
               : end_event->event.kind == event::Kind::kRevocation ? ChainStatus::kRevoked
                                                                   : ChainStatus::kExpired;
  } else if (first_provision) {
    c.status = c.first_use ? ChainStatus::kActive : ChainStatus::kProvisioned;
  } else if (!c.provision_failed.empty()) {
    c.status = ChainStatus::kProvisionFailed;
  } else if (decided_deny) {
    c.status = ChainStatus::kDenied;
  } else if (decided_approve) {
    c.status = ChainStatus::kApproved;
  } else if (first_request) {
    c.status = ChainStatus::kRequested;
  }

  // Missing links, in the order of the chain.
  if ((first_provision || decided_approve || decided_deny) && c.requested.empty()) {
    Issue(c, "no_request", "no request on record for this grant");
  }
  if (first_provision && c.approved.empty()) {
    Issue(c, "no_approval", "issued without an approval on record", {first_provision->seq});
  }
  if (first_provision && first_approval && ChronologicalLess(*first_provision, *first_approval)) {
    Issue(c, "approved_after_provisioning", "issued before it was approved",
          {first_provision->seq, first_approval->seq});
  }
  if (first_provision && decided_deny) {
    Issue(c, "provisioned_after_denial", "issued although the latest decision was a denial",
          {first_provision->seq, last_decision->seq});
  }
  if (decided_approve && !first_provision && c.provision_failed.empty()) {
    Issue(c, "not_provisioned", "approved but no issuance on record", {last_approval->seq});
  }
  if (!c.requester.empty()) {
    for (const ChainEvent& ce : events) {
      if (ce.event.kind == event::Kind::kApproval && ce.event.actor &&
          ce.event.actor->id == c.requester) {
        Issue(c, "self_approved", "the requester " + c.requester + " approved their own request",
              {ce.seq});
      }
    }
  }
  if (end_event && !confirmed) {
    Issue(c,
          end_event->event.kind == event::Kind::kRevocation ? "revocation_unconfirmed"
                                                            : "expiry_unconfirmed",
          "no reconciliation of the live state confirms it ended", {end_event->seq});
  }
  if (contradiction) {
    Issue(c, "live_after_end", "a reconciliation after the end found the credential still live",
          {contradiction->seq});
  }
  if (first_provision && c.provisioned_scope && c.approved_scope) {
    // Issued with more than was approved? Same matching as for actions (IAM-style '*').
    bool beyond = false;
    for (const auto& r : c.provisioned_scope->resources) {
      if (!c.approved_scope->resources.empty() && !AnyMatches(c.approved_scope->resources, r)) {
        beyond = true;
      }
    }
    for (const auto& p : c.provisioned_scope->permissions) {
      if (!c.approved_scope->permissions.empty() && !AnyMatches(c.approved_scope->permissions, p)) {
        beyond = true;
      }
    }
    if (beyond) {
      Issue(c, "provisioned_beyond_approval", "issued with scope the approval does not cover",
            {first_provision->seq});
    }
  }
  return c;
}

namespace {

void Seqs(json::JsonWriter& w, std::string_view key, const std::vector<uint64_t>& seqs) {
  w.Key(key).BeginArray();
  for (uint64_t s : seqs) w.Uint(s);
  w.EndArray();
}

void WriteScope(json::JsonWriter& w, const event::Scope& s) {
  w.BeginObject();
  w.Key("permissions").BeginArray();
  for (const auto& p : s.permissions) w.String(p);
  w.EndArray();
  w.Key("resources").BeginArray();
  for (const auto& r : s.resources) w.String(r);
  w.EndArray();
  w.EndObject();
}

void Time(json::JsonWriter& w, std::string_view key, int64_t ns) {
  w.Key(key);
  if (ns == INT64_MIN || ns == INT64_MAX) {
    w.Null();
  } else {
    w.String(FormatRfc3339Utc(ns, 6));
  }
}

}  // namespace

std::string ChainToJson(const GrantChain& c) {
  json::JsonWriter w = json::JsonWriter::Canonical();
  w.BeginObject();
  Seqs(w, "approved", c.approved);
  w.Key("approved_scope");
  if (c.approved_scope) {
    WriteScope(w, *c.approved_scope);
  } else {
    w.Null();
  }
  w.Key("approvers").BeginArray();
  for (const auto& a : c.approvers) w.String(a);
  w.EndArray();
  w.Key("correlation_key").String(c.correlation_key);
  Seqs(w, "denied", c.denied);
  Time(w, "end", c.end_ns);
  w.Key("end_reason").String(c.end_reason);
  w.Key("end_seq");
  if (c.end_seq) {
    w.Uint(*c.end_seq);
  } else {
    w.Null();
  }
  Seqs(w, "expired", c.expired);
  w.Key("first_use");
  if (c.first_use) {
    w.BeginObject().Key("seq").Uint(c.first_use->seq);
    Time(w, "time", c.first_use->time_ns);
    w.EndObject();
  } else {
    w.Null();
  }
  w.Key("identity").String(c.identity);
  w.Key("issues").BeginArray();
  for (const auto& i : c.issues) {
    w.BeginObject();
    w.Key("code").String(i.code);
    w.Key("message").String(i.message);
    Seqs(w, "seqs", i.seqs);
    w.EndObject();
  }
  w.EndArray();
  Seqs(w, "other", c.other);
  w.Key("policy");
  if (c.policy) {
    w.BeginObject();
    w.Key("hash").String(c.policy->hash);
    w.Key("id").String(c.policy->id);
    w.Key("version").String(c.policy->version);
    w.EndObject();
  } else {
    w.Null();
  }
  Seqs(w, "provision_failed", c.provision_failed);
  Seqs(w, "provisioned", c.provisioned);
  w.Key("provisioned_scope");
  if (c.provisioned_scope) {
    WriteScope(w, *c.provisioned_scope);
  } else {
    w.Null();
  }
  Seqs(w, "reconciled", c.reconciled);
  Seqs(w, "requested", c.requested);
  w.Key("requested_scope");
  if (c.requested_scope) {
    WriteScope(w, *c.requested_scope);
  } else {
    w.Null();
  }
  w.Key("requester").String(c.requester);
  Seqs(w, "revoked", c.revoked);
  Seqs(w, "rotated", c.rotated);
  Time(w, "start", c.start_ns);
  w.Key("status").String(ChainStatusName(c.status));
  w.EndObject();
  return w.Take();
}

}  // namespace nhitrace::correlate
