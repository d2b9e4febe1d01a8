// A ledger with known grants, actions, findings, cases and decisions, for the report and OCSF
// tests. The grants and actions are real events (the derived state folds them, so coverage is
// correlate's attribution); findings, cases and decisions are rows of their tables, written as
// the reconcile and cases projections would write them, with values chosen so that every count
// of the report is known in advance (listed in the comments and asserted by the tests).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/time.h"
#include "correlate/derived_state.h"
#include "reconcile/finding.h"
#include "testing/ledger_fixture.h"

namespace nhitrace::report::testing {

inline int64_t T(const char* rfc3339) { return ParseRfc3339(rfc3339)->unix_nanos; }
inline constexpr int64_t kHour = 3600LL * 1'000'000'000;

// "Now" of every report built over the fixture.
inline const int64_t kAsOf = T("2026-06-01T00:00:00Z");

// Strings an attacker controls end up in the report: a case title and a finding's subject.
inline const char kScriptTitle[] = "<script>document.title='pwned'</script>";
inline const char kScriptSubject[] = "k8s:sa:evil/<img src=x onerror=alert(1)><script>x()</script>";

class ReportFixture {
 public:
  void Build() {
    f_.set_durable(false);
    f_.clock().Set(kAsOf);
    ASSERT_TRUE(f_.Init().ok());
    auto l = f_.Open();
    ASSERT_TRUE(l.ok()) << l.status().ToString();
    ledger_ = std::move(l).value();
    derived_ = std::make_unique<correlate::DerivedState>(ledger_->store());
    ledger_->AddObserver(derived_.get());
    AppendEvents();
    WriteRows();
  }

  store::Store& store() { return ledger_->store(); }
  ::nhitrace::testing::LedgerFixture& fixture() { return f_; }

  // Finding ids, by the rule that made them.
  std::string f_issuance, f_revocation, f_no_grant, f_unowned, f_long_lived;

 private:
  static std::string Line(const std::string& kind, const std::string& id, const std::string& time,
                          const std::string& extra) {
    return R"({"v":1,"kind":")" + kind + R"(","source":{"system":"jira","event_id":")" + id +
           R"("},"time":")" + time + "\"" + extra + "}";
  }
  static std::string Action(const std::string& id, const std::string& time,
                            const std::string& key) {
    return R"({"v":1,"kind":"action","source":{"system":"cloudtrail","event_id":")" + id +
           R"("},"time":")" + time + R"(","identity":")" + key + R"("})";
  }

  // Coverage, all time: 10 actions by 5 identities: 4 under an approved grant, 2 under a grant
  // with no approval, 1 before its grant, 1 after revocation, 2 under no grant. From 2026-04-15:
  // 9 (the action before its grant is on 2026-04-10).
  void AppendEvents() {
    const std::string k1 = "aws:accesskey:AKIAREPORT0000000001";
    const std::string k2 = "aws:accesskey:AKIAREPORT0000000002";
    const std::string k3 = "aws:accesskey:AKIAREPORT0000000003";
    const std::string k4 = "aws:accesskey:AKIAREPORT0000000004";
    std::vector<std::string> lines = {
        // CHG-1: approved and provisioned for k1 on 2026-04-20.
        Line("approval", "CHG-1:a", "2026-04-19T10:00:00Z",
             R"(,"correlation_key":"CHG-1","identity":")" + k1 +
                 R"(","actor":{"id":"sam@example.com"})"),
        Line("provision", "CHG-1:p", "2026-04-20T10:00:00Z",
             R"(,"correlation_key":"CHG-1","identity":")" + k1 + "\""),
        Action("a1", "2026-04-10T10:00:00Z", k1),  // before the grant
        Action("a2", "2026-05-01T10:00:00Z", k1),
        Action("a3", "2026-05-02T10:00:00Z", k1),
        Action("a4", "2026-05-03T10:00:00Z", k1),
        // CHG-2: provisioned for k2 without any approval.
        Line("provision", "CHG-2:p", "2026-05-02T10:00:00Z",
             R"(,"correlation_key":"CHG-2","identity":")" + k2 + "\""),
        Action("b1", "2026-05-04T10:00:00Z", k2),
        Action("b2", "2026-05-05T10:00:00Z", k2),
        // k3: no grant at all.
        Action("c1", "2026-05-06T10:00:00Z", k3),
        // CHG-3: approved, provisioned, revoked; one use before and one after the revocation.
        Line("approval", "CHG-3:a", "2026-04-25T10:00:00Z",
             R"(,"correlation_key":"CHG-3","identity":")" + k4 +
                 R"(","actor":{"id":"sam@example.com"})"),
        Line("provision", "CHG-3:p", "2026-04-26T10:00:00Z",
             R"(,"correlation_key":"CHG-3","identity":")" + k4 + "\""),
        Action("d1", "2026-04-27T10:00:00Z", k4),
        Line("revocation", "CHG-3:r", "2026-05-10T10:00:00Z",
             R"(,"correlation_key":"CHG-3","identity":")" + k4 + "\""),
        Action("d2", "2026-05-11T10:00:00Z", k4),
        // An identity key carrying markup (the subject of the identity-unowned finding).
        Action("e1", "2026-05-07T10:00:00Z", kScriptSubject),
    };
    auto batch = ledger_->BeginBatch();
    ASSERT_TRUE(batch.ok());
    for (const auto& line : lines) {
      auto o = (*batch)->Append(::nhitrace::testing::Record(line), line);
      ASSERT_TRUE(o.ok()) << o.status().ToString() << " in " << line;
    }
    ASSERT_TRUE((*batch)->Commit().ok());
  }

  store::FindingRow Finding(const std::string& rule, reconcile::SubjectType type,
                            const std::string& subject, policy::Severity severity, bool resolved,
                            int64_t first, int64_t last, std::vector<std::string> owasp,
                            std::vector<std::string> nist, const std::string& message,
                            uint64_t seq) {
    reconcile::Finding f;
    f.id = reconcile::FindingId(rule, type, subject);
    f.rule_id = rule;
    f.rule_version = 1;
    f.subject_type = type;
    f.subject = subject;
    f.status = resolved ? "resolved" : "open";
    f.severity = severity;
    f.policy_version = 1;
    f.policy_id = "report-test";
    f.policy_hash = "sha256:" + std::string(64, 'a');
    if (type == reconcile::SubjectType::kGrant) {
      f.correlation_key = subject;
    } else {
      f.identity = subject;
    }
    f.evidence = {3, 4};
    f.evidence_count = 2;
    f.first_seen_ns = first;
    f.last_seen_ns = last;
    f.owasp = std::move(owasp);
    f.nist = std::move(nist);
    f.message = message;
    if (resolved) f.resolution = "the rule no longer fires";
    f.horizon = 15;
    f.as_of_ns = kAsOf;
    f.revision = resolved ? 2 : 1;
    return reconcile::ToRow(f, seq, last + kHour, std::nullopt);
  }

  static store::CaseRow Case(uint64_t id, const std::string& severity, const std::string& state,
                             const std::string& title, int64_t opened,
                             std::optional<int64_t> closed) {
    store::CaseRow c;
    c.id = id;
    c.kind = "finding";
    c.state = state;
    c.severity = severity;
    c.title = title;
    c.requester = "nhitrace";
    c.opened_ns = opened;
    c.updated_ns = closed.value_or(opened);
    c.closed_ns = closed;
    c.op_count = closed ? 4 : 1;
    c.last_seq = 100 + id;
    return c;
  }

  // Findings (5; 4 of them with evidence from 2026-04-15 on):
  //   issuance-without-approval  high     open      NHI5       PR.AA-05 PR.AA-01   case 1
  //   action-after-revocation    critical open      NHI1       PR.AA-01 DE.CM-03 RS.AN-03  case 2
  //   action-without-grant       medium   resolved  NHI1 NHI5  PR.AA-05 DE.CM-03   case 3
  //   identity-unowned           medium   open      NHI1       GV.RR-02  (subject: a script)
  //   credential-long-lived      low      open      NHI7       PR.AA-01  (evidence in January)
  // Cases (5): 1 high open 12h old; 2 critical investigating 12d old (title: a script);
  //   3 medium closed after 2d; 4 low closed after 6h (opened 2026-04-01); 5 medium triage 78d
  //   old (opened 2026-03-15).
  // Decisions: exceptions CHG-1 (expires 2026-06-10: nearing; an older one of CHG-1 is
  //   superseded), CHG-2 (expired), CHG-9 (expires 2026-08-01), identity k4 (no expiry);
  //   overrides: alice x3, "bob<b>" x1.
  void WriteRows() {
    using policy::Severity;
    using reconcile::SubjectType;
    std::vector<store::FindingRow> findings = {
        Finding("issuance-without-approval", SubjectType::kGrant, "CHG-2", Severity::kHigh, false,
                T("2026-05-02T10:00:00Z"), T("2026-05-02T10:00:00Z"), {"NHI5:2025"},
                {"PR.AA-05", "PR.AA-01"}, "issued with no approval on record", 20),
        Finding("action-after-revocation", SubjectType::kGrant, "CHG-3", Severity::kCritical, false,
                T("2026-05-10T10:00:00Z"), T("2026-05-11T10:00:00Z"), {"NHI1:2025"},
                {"PR.AA-01", "DE.CM-03", "RS.AN-03"}, "used after its revocation", 21),
        Finding("action-without-grant", SubjectType::kIdentity,
                "aws:accesskey:AKIAREPORT0000000003", Severity::kMedium, true,
                T("2026-05-06T10:00:00Z"), T("2026-05-06T10:00:00Z"), {"NHI1:2025", "NHI5:2025"},
                {"PR.AA-05", "DE.CM-03"}, "acted with no grant", 22),
        Finding("identity-unowned", SubjectType::kIdentity, kScriptSubject, Severity::kMedium,
                false, T("2026-05-07T10:00:00Z"), T("2026-05-07T10:00:00Z"), {"NHI1:2025"},
                {"GV.RR-02"}, std::string("no owner for ") + kScriptSubject, 23),
        Finding("credential-long-lived", SubjectType::kCredential,
                "aws:accesskey:AKIAREPORT0000000001", Severity::kLow, false,
                T("2026-01-10T10:00:00Z"), T("2026-01-15T10:00:00Z"), {"NHI7:2025"}, {"PR.AA-01"},
                "not rotated for 140 days", 24),
    };
    f_issuance = findings[0].id;
    f_revocation = findings[1].id;
    f_no_grant = findings[2].id;
    f_unowned = findings[3].id;
    f_long_lived = findings[4].id;
    std::vector<store::CaseRow> cases = {
        Case(1, "high", "open", "Issuance without approval on CHG-2", kAsOf - 12 * kHour,
             std::nullopt),
        Case(2, "critical", "investigating", kScriptTitle, kAsOf - 12 * 24 * kHour, std::nullopt),
        Case(3, "medium", "closed", "Action with no grant", T("2026-05-06T12:00:00Z"),
             T("2026-05-08T12:00:00Z")),
        Case(4, "low", "closed", "Dormant", T("2026-04-01T00:00:00Z"), T("2026-04-01T06:00:00Z")),
        Case(5, "medium", "triage", "Support request", T("2026-03-15T00:00:00Z"), std::nullopt),
    };
    cases[0].owner = "ana@example.com";
    const std::vector<std::pair<uint64_t, std::string>> links = {
        {1, f_issuance}, {2, f_revocation}, {3, f_no_grant}};
    auto decision = [](uint64_t seq, const std::string& kind, const char* time,
                       const std::string& actor, const std::string& identity, const std::string& ck,
                       std::optional<int64_t> expires) {
      store::DecisionRow d;
      d.seq = seq;
      d.kind = kind;
      d.time_ns = T(time);
      d.actor = actor;
      d.identity_key = identity;
      d.correlation_key = ck;
      d.expires_ns = expires;
      return d;
    };
    std::vector<store::DecisionRow> decisions = {
        decision(100, "exception", "2026-05-10T00:00:00Z", "carol", "", "CHG-1",
                 T("2026-06-10T00:00:00Z")),
        decision(101, "exception", "2026-05-11T00:00:00Z", "carol", "", "CHG-2", kAsOf - kHour),
        decision(102, "exception", "2026-05-12T00:00:00Z", "carol", "", "CHG-9",
                 T("2026-08-01T00:00:00Z")),
        decision(103, "exception", "2026-05-01T00:00:00Z", "carol", "", "CHG-1",
                 T("2026-05-20T00:00:00Z")),
        decision(104, "exception", "2026-05-13T00:00:00Z", "carol",
                 "aws:accesskey:AKIAREPORT0000000004", "", std::nullopt),
        decision(105, "override", "2026-05-02T00:00:00Z", "alice", "", "CHG-2", std::nullopt),
        decision(106, "override", "2026-05-03T00:00:00Z", "alice", "", "CHG-2", std::nullopt),
        decision(107, "override", "2026-05-04T00:00:00Z", "alice", "", "CHG-3", std::nullopt),
        decision(108, "override", "2026-05-05T00:00:00Z", "bob<b>", "", "CHG-3", std::nullopt),
    };
    auto txn = store().BeginWrite();
    ASSERT_TRUE(txn.ok());
    for (const auto& f : findings) ASSERT_TRUE((*txn)->PutFinding(f).ok());
    for (const auto& c : cases) ASSERT_TRUE((*txn)->PutCase(c).ok());
    for (const auto& [id, finding] : links) {
      store::CaseLinkRow l{id, "finding", finding, 100 + id};
      ASSERT_TRUE((*txn)->ReplaceCaseDetails(id, {}, {l}, {}).ok());
    }
    for (const auto& d : decisions) ASSERT_TRUE((*txn)->PutDecision(d).ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }

  ::nhitrace::testing::LedgerFixture f_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<correlate::DerivedState> derived_;
};

}  // namespace nhitrace::report::testing
