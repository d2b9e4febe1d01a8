// issuance-without-approval: a credential was issued without an approval in force.
//
// For a grant: its first successful issuance (from a system authoritative for issuance) must
// have an approval in force, i.e. the latest authoritative decision dated at or before the
// issuance + approval_grace must be an approval. No decision, a denial, or only approvals dated
// later all fire. For a credential issued with no request id (a key made in a console, a
// CloudTrail CreateAccessKey): the issuance must fall under an approved grant of that same key,
// judged the same way; every such issuance that does not is evidence of one finding about the
// credential.
#include "reconcile/rules/common.h"
#include "reconcile/rules/rules.h"

namespace nhitrace::reconcile::rules {
namespace {

class Rule final : public ReconcileRule {
 public:
  const RuleInfo& info() const override {
    static const RuleInfo kInfo{
        "issuance-without-approval", 1, Severity::kHigh, "Issuance without approval", {"NHI5:2025"},
        {"PR.AA-05", "PR.AA-01"}};
    return kInfo;
  }

  void Finish(const RuleContext& ctx, const UnitView& unit, FindingSink* out) const override {
    const int64_t grace = ctx.settings.Duration("approval_grace");
    for (const GrantView& g : unit.grants) {
      if (!g.stored || !SelectsGrant(ctx.settings, unit, g)) continue;
      std::vector<const ChainEvent*> issued = Issuances(ctx.policy, g);
      if (issued.empty()) continue;
      const ChainEvent* first = issued.front();
      const ChainEvent* in_force = DecisionAt(ctx.policy, g, first->event.time_ns + grace);
      if (in_force && in_force->event.kind == event::Kind::kApproval) continue;
      Hit& h = out->Fire(SubjectType::kGrant, g.chain.correlation_key);
      h.identity = g.chain.identity;
      h.correlation_key = g.chain.correlation_key;
      h.evidence.Add(first->seq, first->event.time_ns);
      std::string what =
          "issued at " + ShortTime(first->event.time_ns) + " (" + Source(*first) + ")";
      if (in_force) {
        h.evidence.Add(in_force->seq, in_force->event.time_ns);
        h.message = what + " although the request was denied at " +
                    ShortTime(in_force->event.time_ns) + By(*in_force);
        continue;
      }
      const ChainEvent* later = nullptr;
      for (const ChainEvent* d : Decisions(ctx.policy, g)) {
        if (d->event.kind == event::Kind::kApproval) {
          later = d;
          break;
        }
      }
      if (later) {
        h.evidence.Add(later->seq, later->event.time_ns);
        h.message = what + " before it was approved (approval dated " +
                    ShortTime(later->event.time_ns) + By(*later) + ")";
      } else {
        h.message = what + " with no approval on record";
      }
    }

    // Issuances recorded without a request id.
    if (!unit.identity) return;
    for (const KeyView& k : unit.identity->keys) {
      if (!SelectsKey(ctx.settings, unit, k.row.key)) continue;
      for (const ChainEvent& e : k.events) {
        if (e.event.kind != event::Kind::kProvision || !e.event.correlation_key.empty() ||
            !Succeeded(e.event) ||
            !policy::Authoritative::Counts(ctx.policy.authoritative.issuance,
                                           e.event.source_system)) {
          continue;
        }
        if (Approved(ctx, unit, k.row.key, e.event.time_ns + grace)) continue;
        Hit& h = out->Fire(SubjectType::kCredential, k.row.key);
        h.identity = k.row.key;
        h.evidence.Add(e.seq, e.event.time_ns);
        h.AddDetail(ShortTime(e.event.time_ns) + " (" + Source(e) + ")");
      }
    }
    for (auto& [key, h] : out->hits()) {
      if (key.first != SubjectType::kCredential) continue;
      h.message = "issued with no request id and no approved grant of the key: ";
      for (size_t i = 0; i < h.details.size(); ++i) h.message += (i ? ", " : "") + h.details[i];
      if (h.evidence.count() > h.details.size()) h.message += ", ...";
    }
  }

 private:
  // Whether some grant of `key` had an approval in force at `time_ns`.
  static bool Approved(const RuleContext& ctx, const UnitView& unit, const std::string& key,
                       int64_t time_ns) {
    for (const GrantView& g : unit.grants) {
      if (g.chain.identity != key) continue;
      const ChainEvent* d = DecisionAt(ctx.policy, g, time_ns);
      if (d && d->event.kind == event::Kind::kApproval) return true;
    }
    return false;
  }
};

}  // namespace

const ReconcileRule* IssuanceWithoutApproval() {
  static const Rule kRule;
  return &kRule;
}

}  // namespace nhitrace::reconcile::rules
