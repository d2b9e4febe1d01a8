#include "report/model.h"

#include <algorithm>
#include <set>
#include <unordered_map>

#include "base/encoding.h"
#include "correlate/trace.h"
#include "reconcile/finding.h"
#include "reconcile/rule.h"

namespace nhitrace::report {
namespace {

std::optional<size_t> SeverityIndex(std::string_view s) {
  for (size_t i = 0; i < kSeverities.size(); ++i) {
    if (kSeverities[i] == s) return i;
  }
  return std::nullopt;
}

size_t Bucket(int64_t ns, const std::vector<int64_t>& upper_days) {
  size_t i = 0;
  while (i < upper_days.size() && ns >= upper_days[i] * kNanosPerDay) ++i;
  return i;
}

bool InWindow(const ReportOptions& o, int64_t t) {
  return (!o.from_ns || t >= *o.from_ns) && (!o.to_ns || t < *o.to_ns);
}

// Open findings first, most severe first, then by id.
bool FindingOrder(const FindingItem& a, const FindingItem& b) {
  auto rank = [](const FindingItem& f) {
    size_t sev = SeverityIndex(f.severity).value_or(kSeverities.size());
    return std::make_tuple(f.status == "open" ? 0 : 1, sev);
  };
  auto ra = rank(a), rb = rank(b);
  if (ra != rb) return ra < rb;
  return a.id < b.id;
}

struct SectionBuilder {
  FrameworkSection section;
  std::vector<FindingItem> findings;
  std::set<uint64_t> cases;
};

void Finish(SectionBuilder& b, const std::map<uint64_t, CaseItem>& cases, size_t max_listed,
            FrameworkSection* out) {
  *out = std::move(b.section);
  std::sort(b.findings.begin(), b.findings.end(), FindingOrder);
  if (b.findings.size() > max_listed) b.findings.resize(max_listed);
  out->findings = std::move(b.findings);
  out->cases = b.cases.size();
  for (uint64_t id : b.cases) {
    if (out->case_list.size() >= max_listed) break;
    auto it = cases.find(id);
    if (it != cases.end()) out->case_list.push_back(it->second);
  }
}

}  // namespace

const std::vector<std::pair<std::string, std::string>>& OwaspNhiTop10() {
  static const auto* items = new std::vector<std::pair<std::string, std::string>>{
      {"NHI1:2025", "Improper Offboarding"},
      {"NHI2:2025", "Secret Leakage"},
      {"NHI3:2025", "Vulnerable Third-Party NHI"},
      {"NHI4:2025", "Insecure Authentication"},
      {"NHI5:2025", "Overprivileged NHI"},
      {"NHI6:2025", "Insecure Cloud Deployment Configurations"},
      {"NHI7:2025", "Long-Lived Secrets"},
      {"NHI8:2025", "Environment Isolation"},
      {"NHI9:2025", "NHI Reuse"},
      {"NHI10:2025", "Human Use of NHI"},
  };
  return *items;
}

std::string_view NistSubcategoryTitle(std::string_view id) {
  static const std::map<std::string_view, std::string_view> kTitles = {
      {"GV.RR-02", "Roles, responsibilities, and authorities are established and communicated"},
      {"ID.AM-08",
       "Systems, hardware, software, services, and data are managed throughout their "
       "life cycles"},
      {"ID.RA-07",
       "Changes and exceptions are managed, assessed for risk impact, recorded, and "
       "tracked"},
      {"PR.AA-01",
       "Identities and credentials for authorized users, services, and hardware are "
       "managed by the organization"},
      {"PR.AA-05",
       "Access permissions, entitlements, and authorizations are defined in a policy, "
       "managed, enforced, and reviewed"},
      {"DE.CM-03",
       "Personnel activity and technology usage are monitored to find potentially "
       "adverse events"},
      {"DE.CM-09",
       "Computing hardware and software, runtime environments, and their data are "
       "monitored to find potentially adverse events"},
      {"RS.AN-03",
       "Analysis is performed to establish what has taken place during an incident "
       "and the root cause of the incident"},
  };
  auto it = kTitles.find(id);
  return it == kTitles.end() ? std::string_view() : it->second;
}

Result<ReportModel> BuildReport(store::Store& store, const ReportOptions& options) {
  if (options.from_ns && options.to_ns && *options.from_ns >= *options.to_ns) {
    return InvalidArgumentError("report: --from must be before --to");
  }
  NHI_ASSIGN_OR_RETURN(auto snapshot, store.BeginRead());
  ReportModel m;
  m.options = options;
  const int64_t now = options.as_of_ns;
  NHI_ASSIGN_OR_RETURN(m.events, store.EventCount());
  NHI_ASSIGN_OR_RETURN(auto cp, store.LatestCheckpoint());
  if (cp) {
    m.checkpoint_size = cp->size;
    m.checkpoint_root_hex = HexEncode(
        std::string_view(reinterpret_cast<const char*>(cp->root.data()), cp->root.size()));
  }

  // The rule catalog and the framework sections it maps to.
  std::map<std::string, RuleFindings> by_rule;
  std::map<std::string, SectionBuilder> owasp, nist;
  for (const auto& [id, title] : OwaspNhiTop10()) {
    owasp[id].section.id = id;
    owasp[id].section.title = title;
  }
  auto nist_section = [&nist](const std::string& id) -> SectionBuilder& {
    SectionBuilder& b = nist[id];
    if (b.section.id.empty()) {
      b.section.id = id;
      b.section.title = std::string(NistSubcategoryTitle(id));
    }
    return b;
  };
  for (const reconcile::ReconcileRule* rule : reconcile::AllRules()) {
    const reconcile::RuleInfo& info = rule->info();
    RuleFindings& rf = by_rule[std::string(info.id)];
    rf.rule_id = std::string(info.id);
    rf.title = std::string(info.title);
    for (auto o : info.owasp) {
      auto it = owasp.find(std::string(o));
      if (it != owasp.end()) it->second.section.rules.push_back(rf.rule_id);
    }
    for (auto n : info.nist) nist_section(std::string(n)).section.rules.push_back(rf.rule_id);
  }

  // Cases opened in the window (their links say which findings they are about).
  std::map<uint64_t, CaseItem> cases;
  std::unordered_map<std::string, std::vector<uint64_t>> cases_of_finding;
  std::vector<int64_t> close_times;
  store::CaseQuery all_cases;
  all_cases.limit = SIZE_MAX >> 1;
  std::vector<uint64_t> case_ids;
  NHI_RETURN_IF_ERROR(store.ScanCases(all_cases, [&](const store::CaseRow& c) {
    if (!InWindow(options, c.opened_ns)) return OkStatus();
    ++m.cases_total;
    cases[c.id] = CaseItem{c.id, c.state, c.severity, c.title};
    case_ids.push_back(c.id);
    if (c.state != "closed") {
      ++m.open_cases.total;
      auto sev = SeverityIndex(c.severity);
      if (sev) {
        size_t age = Bucket(std::max<int64_t>(0, now - c.opened_ns), {1, 7, 30});
        ++m.open_cases.by_severity_age[*sev][age];
      } else {
        ++m.open_cases.other_severity;
      }
    } else if (c.closed_ns) {
      int64_t d = std::max<int64_t>(0, *c.closed_ns - c.opened_ns);
      close_times.push_back(d);
      ++m.time_to_close.buckets[Bucket(d, {1, 7, 30, 90})];
    }
    return OkStatus();
  }));
  for (uint64_t id : case_ids) {
    NHI_ASSIGN_OR_RETURN(auto links, store.ListCaseLinks(id));
    for (const auto& l : links) {
      if (l.type == "finding") cases_of_finding[l.value].push_back(id);
    }
  }
  if (!close_times.empty()) {
    std::sort(close_times.begin(), close_times.end());
    TimeToClose& t = m.time_to_close;
    t.closed = close_times.size();
    auto rank = [&close_times](size_t pct) {  // nearest rank: ceil(p/100 * n)
      size_t r = (pct * close_times.size() + 99) / 100;
      return close_times[std::max<size_t>(r, 1) - 1];
    };
    t.median_ns = rank(50);
    t.p90_ns = rank(90);
    t.max_ns = close_times.back();
    // Exact without overflow: the sum of the quotients and of the remainders by n.
    const auto n = static_cast<int64_t>(close_times.size());
    int64_t quotients = 0, remainders = 0;
    for (int64_t d : close_times) {
      quotients += d / n;
      remainders += d % n;
    }
    t.mean_ns = quotients + remainders / n;
  }

  // Findings whose evidence overlaps the window.
  NHI_RETURN_IF_ERROR(store.ScanFindings([&](const store::FindingRow& row) -> Status {
    if (options.to_ns && row.first_seen_ns >= *options.to_ns) return OkStatus();
    if (options.from_ns && row.last_seen_ns < *options.from_ns) return OkStatus();
    auto f = reconcile::FromAttributes(row.doc);
    if (!f.ok()) return f.status().WithContext("finding " + row.id);
    ++m.findings_total;
    const bool open = row.status == "open";
    if (open) ++m.findings_open;
    RuleFindings& rf = by_rule[row.rule_id];
    rf.rule_id = row.rule_id;
    (open ? rf.open : rf.resolved)++;
    auto sev = SeverityIndex(row.severity);
    if (open && sev) ++rf.open_by_severity[*sev];
    FindingItem item{row.id,           row.rule_id, row.severity,      row.status,
                     row.subject_type, row.subject, row.first_seen_ns, row.last_seen_ns};
    auto linked = cases_of_finding.find(row.id);
    auto add = [&](SectionBuilder& b) {
      (open ? b.section.open : b.section.resolved)++;
      b.findings.push_back(item);
      if (linked != cases_of_finding.end())
        b.cases.insert(linked->second.begin(), linked->second.end());
    };
    for (const auto& o : f->owasp) {
      auto it = owasp.find(o);
      if (it != owasp.end()) add(it->second);
    }
    for (const auto& n : f->nist) add(nist_section(n));
    return OkStatus();
  }));
  for (auto& [id, rf] : by_rule) m.by_rule.push_back(std::move(rf));
  for (const auto& [id, title] : OwaspNhiTop10()) {
    m.owasp.emplace_back();
    Finish(owasp[id], cases, options.max_listed, &m.owasp.back());
  }
  for (auto& [id, b] : nist) {
    m.nist.emplace_back();
    Finish(b, cases, options.max_listed, &m.nist.back());
  }

  // Exceptions (the latest for its request id, else for its identity, is the one in force) and
  // overrides, decided in the window and by as_of.
  std::map<std::string, store::DecisionRow> latest_exception;
  std::map<std::string, ApproverOverrides> per_approver;
  NHI_RETURN_IF_ERROR(store.ScanDecisions([&](const store::DecisionRow& d) {
    if (d.time_ns > now || !InWindow(options, d.time_ns)) return OkStatus();
    if (d.kind == "override") {
      ApproverOverrides& a = per_approver[d.actor];
      if (a.overrides == 0) {
        a.approver = d.actor;
        a.first_ns = d.time_ns;
        a.last_ns = d.time_ns;
      }
      ++a.overrides;
      a.first_ns = std::min(a.first_ns, d.time_ns);
      a.last_ns = std::max(a.last_ns, d.time_ns);
      ++m.overrides_total;
    } else if (d.kind == "exception") {
      std::string subject = !d.correlation_key.empty() ? "request\n" + d.correlation_key
                                                       : "identity\n" + d.identity_key;
      auto it = latest_exception.find(subject);
      if (it == latest_exception.end() ||
          std::tie(it->second.time_ns, it->second.seq) < std::tie(d.time_ns, d.seq)) {
        latest_exception[subject] = d;
      }
    }
    return OkStatus();
  }));
  for (const auto& [subject, d] : latest_exception) {
    if (d.expires_ns && *d.expires_ns <= now) {
      ++m.exceptions.expired;
      continue;
    }
    ++m.exceptions.in_force;
    if (d.expires_ns && *d.expires_ns - now <= options.expiry_horizon_ns) {
      ++m.exceptions.nearing;
      m.exceptions.nearing_list.push_back(ExceptionItem{d.seq, d.time_ns, *d.expires_ns, d.actor,
                                                        d.identity_key, d.correlation_key});
    }
  }
  std::sort(m.exceptions.nearing_list.begin(), m.exceptions.nearing_list.end(),
            [](const ExceptionItem& a, const ExceptionItem& b) {
              return std::tie(a.expires_ns, a.seq) < std::tie(b.expires_ns, b.seq);
            });
  if (m.exceptions.nearing_list.size() > options.max_listed) {
    m.exceptions.nearing_list.resize(options.max_listed);
  }
  for (auto& [actor, a] : per_approver) m.overrides.push_back(std::move(a));
  std::stable_sort(m.overrides.begin(), m.overrides.end(),
                   [](const ApproverOverrides& a, const ApproverOverrides& b) {
                     return a.overrides > b.overrides;
                   });

  // Coverage: every action of every identity, attributed as `nhitrace trace` attributes it.
  store::IdentityQuery iq;
  iq.limit = SIZE_MAX >> 1;
  NHI_ASSIGN_OR_RETURN(std::vector<std::string> groups, store.ListCanonicalKeys(iq));
  Coverage& cov = m.coverage;
  for (const auto& canonical : groups) {
    NHI_ASSIGN_OR_RETURN(auto identity, correlate::LoadIdentity(store, canonical));
    if (!identity) continue;
    uint64_t before = cov.actions;
    NHI_RETURN_IF_ERROR(correlate::ForEachAttributedAction(
        store, *identity, options.from_ns, options.to_ns,
        [&cov](const correlate::AttributedAction& a, const correlate::GrantChain* g) {
          ++cov.actions;
          switch (a.verdict) {
            case correlate::Verdict::kCovered:
              (g != nullptr && !g->approved.empty() ? cov.covered_approved
                                                    : cov.covered_unapproved)++;
              break;
            case correlate::Verdict::kOutOfScope:
              ++cov.out_of_scope;
              break;
            case correlate::Verdict::kBeforeGrant:
              ++cov.before_grant;
              break;
            case correlate::Verdict::kAfterRevocation:
              ++cov.after_revocation;
              break;
            case correlate::Verdict::kAfterExpiry:
              ++cov.after_expiry;
              break;
            case correlate::Verdict::kNoGrant:
              ++cov.no_grant;
              break;
          }
          return OkStatus();
        }));
    if (cov.actions > before) ++cov.identities;
  }
  return m;
}

}  // namespace nhitrace::report
