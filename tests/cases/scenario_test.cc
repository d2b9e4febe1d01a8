// Data-driven case scenarios: tests/scenarios/cases/<name>.json is a script of steps (evidence
// events to ingest, case operations with the acting person and the time, timer ticks, findings)
// with what each step must do (docs in tests/scenarios/cases/README.md). After the last step the
// runner rebuilds the case tables from the ledger and requires them to equal the tables
// maintained step by step, and `explain` to agree with the case list for every case.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "base/encoding.h"
#include "cases/case_policy.h"
#include "cases/explain.h"
#include "cases/projection.h"
#include "cases/session.h"
#include "correlate/derived_state.h"
#include "evidence/export.h"
#include "evidence/verify_pack.h"
#include "json/dom.h"
#include "testing/ledger_fixture.h"

namespace nhitrace::cases {
namespace {

namespace fs = std::filesystem;
using simdjson::dom::element;

fs::path ScenarioDir() { return fs::path(NHITRACE_SOURCE_DIR) / "tests" / "scenarios" / "cases"; }

std::vector<std::string> ScenarioNames() {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(ScenarioDir())) {
    if (entry.path().extension() == ".json") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Str(element e) { return std::string(std::string_view(e.get_string().value())); }

std::vector<std::string> Strings(element e) {
  std::vector<std::string> out;
  for (element item : json::ArrayOf(e)) out.push_back(Str(item));
  return out;
}

// A finding sink that names the finding it would fire, and remembers what it was told.
class RecordingSink final : public FindingSink {
 public:
  Result<std::string> ExceptionExpired(const ExpiredException& e) override {
    told.push_back(e);
    return "F-exception-expired-" + std::to_string(e.case_id) + "-" + std::to_string(e.decision_id);
  }
  std::vector<ExpiredException> told;
};

// A whole-table snapshot of the derived case state, for rebuild == incremental.
std::string Snapshot(store::Store& store) {
  std::ostringstream out;
  store::CaseQuery all;
  all.limit = SIZE_MAX >> 1;
  auto rows = store.ListCases(all);
  EXPECT_TRUE(rows.ok());
  if (!rows.ok()) return "";
  std::vector<store::CaseRow> scanned;
  EXPECT_TRUE(store
                  .ScanCases(all,
                             [&](const store::CaseRow& r) {
                               scanned.push_back(r);
                               return OkStatus();
                             })
                  .ok());
  EXPECT_EQ(scanned, *rows);
  for (const store::CaseRow& r : *rows) {
    out << "case " << r.id << "|" << r.kind << "|" << r.state << "|" << r.severity << "|" << r.title
        << "|" << r.owner << "|" << r.requester << "|" << r.opened_ns << "|" << r.updated_ns << "|"
        << r.closed_ns.value_or(-1) << "|" << r.next_due_ns.value_or(-1) << "|" << r.op_count << "|"
        << r.last_seq << "|" << r.escalation_level << "|" << r.open_tasks << "\n";
    auto seqs = store.ListCaseEventSeqs(r.id);
    EXPECT_TRUE(seqs.ok());
    out << "  seqs";
    for (uint64_t s : *seqs) out << " " << s;
    out << "\n";
    auto tasks = store.ListCaseTasks(r.id);
    auto links = store.ListCaseLinks(r.id);
    auto decisions = store.ListCaseDecisions(r.id);
    EXPECT_TRUE(tasks.ok() && links.ok() && decisions.ok());
    if (!tasks.ok() || !links.ok() || !decisions.ok()) continue;
    for (const auto& t : *tasks) {
      out << "  task " << t.task_id << "|" << t.title << "|" << t.owner << "|" << t.status << "|"
          << t.due_ns.value_or(-1) << "\n";
    }
    for (const auto& l : *links) {
      out << "  link " << l.type << "|" << l.value << "|" << l.seq << "\n";
    }
    for (const auto& d : *decisions) {
      out << "  decision " << d.decision_id << "|" << d.outcome << "|" << d.status << "|" << d.actor
          << "|" << d.control_owner << "|" << d.time_ns << "|" << d.seq << "\n";
    }
  }
  auto rejected = store.ListCaseRejections();
  EXPECT_TRUE(rejected.ok());
  if (!rejected.ok()) return out.str();
  for (const auto& [seq, why] : *rejected) {
    out << "rejected " << seq << " " << why << "\n";
  }
  return out.str();
}

class ScenarioRun {
 public:
  explicit ScenarioRun(std::string name) : name_(std::move(name)) {}

  void Run(element root) {
    ASSERT_EQ(empty_parser_.parse(std::string("{}")).get(empty_args_), simdjson::SUCCESS);
    f_.set_durable(false);
    ASSERT_TRUE(f_.Init().ok());
    auto l = f_.Open();
    ASSERT_TRUE(l.ok()) << l.status().ToString();
    ledger_ = std::move(l).value();
    derived_ = std::make_unique<correlate::DerivedState>(ledger_->store());
    projection_ = std::make_unique<CaseProjection>(ledger_->store());
    ledger_->AddObserver(derived_.get());
    ledger_->AddObserver(projection_.get());

    for (auto kv : json::ObjectOf(root)) {
      std::string_view key = kv.key;
      if (key == "why" || key == "steps") continue;
      if (key == "start") {
        auto t = ParseRfc3339(Str(kv.value));
        ASSERT_TRUE(t.ok());
        f_.clock().Set(t->unix_nanos);
      } else if (key == "policy") {
        LoadPolicy(kv.value);
      } else {
        FAIL() << name_ << ": unknown member " << key;
      }
    }
    size_t i = 0;
    for (element step : json::ArrayOf(root["steps"])) {
      ++i;
      std::string where = name_ + " step " + std::to_string(i);
      RunStep(step, where);
      if (::testing::Test::HasFatalFailure()) return;
    }
    CheckRebuild();
    CheckCasePacks();
  }

 private:
  void LoadPolicy(element p) {
    std::string cases_json, escalation_json;
    for (auto kv : json::ObjectOf(p)) {
      std::string_view key = kv.key;
      if (key == "cases") {
        cases_json = simdjson::minify(kv.value);
      } else if (key == "escalation") {
        escalation_json = simdjson::minify(kv.value);
      } else if (key == "approvals") {
        for (auto a : json::ObjectOf(kv.value)) {
          if (a.key == "segregation_of_duties") {
            policy_.segregation_of_duties = bool(a.value);
          } else if (a.key == "override_requires_control_owner") {
            policy_.override_requires_control_owner = bool(a.value);
          } else if (a.key == "control_owners") {
            policy_.control_owners = Strings(a.value);
          } else {
            FAIL() << name_ << ": policy.approvals: unknown member " << a.key;
          }
        }
      } else if (key == "ref") {
        policy_.ref =
            event::PolicyRef{Str(kv.value["id"]), Str(kv.value["version"]), Str(kv.value["hash"])};
      } else {
        FAIL() << name_ << ": policy: unknown member " << key;
      }
    }
    auto parsed = ParseCasePolicy(cases_json, escalation_json);
    ASSERT_TRUE(parsed.ok()) << name_ << ": " << parsed.status().ToString();
    policy_.cases = *parsed;
    ASSERT_TRUE(ValidateCasesSection(cases_json.empty() ? "{}" : cases_json).ok()) << name_;
  }

  store::Store& store() { return ledger_->store(); }

  // A seq given as a number or as "@system/event_id" of an ingested event.
  uint64_t Seq(element e, const std::string& where) {
    if (e.is_string()) {
      std::string name = Str(e);
      EXPECT_EQ(name[0], '@') << where;
      auto it = names_.find(name.substr(1));
      EXPECT_NE(it, names_.end()) << where << ": no event named " << name;
      return it == names_.end() ? 0 : it->second;
    }
    return uint64_t(e);
  }
  std::vector<uint64_t> Seqs(element e, const std::string& where) {
    std::vector<uint64_t> out;
    for (element item : json::ArrayOf(e)) out.push_back(Seq(item, where));
    return out;
  }

  int64_t TimeArg(const std::string& s, const std::string& where) {
    if (!s.empty() && s[0] == '+') {
      auto d = ParseDuration(s.substr(1));
      EXPECT_TRUE(d.ok()) << where << ": " << s;
      return f_.clock().NowUnixNanos() + (d.ok() ? *d : 0);
    }
    auto t = ParseRfc3339(s);
    EXPECT_TRUE(t.ok()) << where << ": " << s;
    return t.ok() ? t->unix_nanos : 0;
  }

  LinkSet LinksOf(element args, const std::string& where) {
    LinkSet l;
    element v;
    if (args["identities"].get(v) == simdjson::SUCCESS) l.identities = Strings(v);
    if (args["events"].get(v) == simdjson::SUCCESS) l.events = Seqs(v, where);
    if (args["findings"].get(v) == simdjson::SUCCESS) l.findings = Strings(v);
    if (args["chains"].get(v) == simdjson::SUCCESS) l.chains = Strings(v);
    if (args["tickets"].get(v) == simdjson::SUCCESS) l.tickets = Strings(v);
    return l;
  }

  void Ingest(element lines, const std::string& where) {
    auto batch = ledger_->BeginBatch();
    ASSERT_TRUE(batch.ok()) << where << ": " << batch.status().ToString();
    for (element line : json::ArrayOf(lines)) {
      std::string text = simdjson::minify(line);
      auto rec = testing::Record(text);
      auto o = (*batch)->Append(rec, text);
      ASSERT_TRUE(o.ok()) << where << ": " << o.status().ToString();
      ASSERT_EQ(o->status, ledger::AppendStatus::kAccepted) << where << ": " << text;
      names_[rec.event.source_system + "/" + rec.event.source_event_id] = o->seq;
    }
    Status s = (*batch)->Commit();
    ASSERT_TRUE(s.ok()) << where << ": " << s.ToString();
  }

  void RunStep(element step, const std::string& where) {
    std::set<std::string> known = {"at",   "op",     "case",  "actor",  "actor_type",
                                   "args", "expect", "check", "events", "why"};
    for (auto kv : json::ObjectOf(step)) {
      ASSERT_TRUE(known.count(std::string(kv.key))) << where << ": unknown member " << kv.key;
    }
    std::string_view sv;
    if (step["at"].get(sv) == simdjson::SUCCESS) {
      f_.clock().Set(TimeArg(std::string(sv), where));
    }
    element events;
    if (step["events"].get(events) == simdjson::SUCCESS) {
      Ingest(events, where);
      if (::testing::Test::HasFatalFailure()) return;
    }
    std::string op;
    if (step["op"].get(sv) == simdjson::SUCCESS) op = std::string(sv);
    uint64_t id = 0;
    element e;
    if (step["case"].get(e) == simdjson::SUCCESS) id = uint64_t(e);
    ActorRef actor;
    if (step["actor"].get(sv) == simdjson::SUCCESS) actor.id = std::string(sv);
    if (step["actor_type"].get(sv) == simdjson::SUCCESS) actor.type = std::string(sv);
    element args;
    if (step["args"].get(args) != simdjson::SUCCESS) args = empty_args_;

    Status status;
    std::vector<OpResult> written;
    std::optional<std::vector<CriterionResult>> criteria;
    std::optional<FindingCaseOutcome> finding;
    std::optional<SodViolation> sod;  // what the session says a kPermissionDenied broke
    if (!op.empty()) {
      auto batch = ledger_->BeginBatch();
      ASSERT_TRUE(batch.ok()) << where << ": " << batch.status().ToString();
      BatchEventWriter writer(**batch);
      CaseSession s(store(), *projection_, writer, {&f_.clock(), policy_, &sink_});
      // As every CLI command does: first the timers that are due.
      auto ticks = s.Tick();
      ASSERT_TRUE(ticks.ok()) << where << ": " << ticks.status().ToString();
      written = std::move(*ticks);
      auto one = [&](Result<OpResult> r) {
        if (r.ok()) {
          written.push_back(std::move(*r));
        } else {
          status = r.status();
        }
      };
      auto str = [&](const char* k) {
        std::string_view v;
        return args[k].get(v) == simdjson::SUCCESS ? std::string(v) : std::string();
      };
      element v;
      if (op == "tick") {
        // Nothing more: the ticks above are the step.
      } else if (op == "open") {
        OpenArgs a;
        a.kind = ParseCaseKind(str("kind")).value_or(CaseKind::kAlert);
        if (!str("severity").empty()) a.severity = *ParseSeverity(str("severity"));
        a.title = str("title");
        a.description = str("description");
        a.requester = str("requester");
        a.reporter = str("reporter");
        a.channel = str("channel");
        a.reason = str("reason");
        a.links = LinksOf(args, where);
        one(s.Open(a, actor));
      } else if (op == "set") {
        std::optional<Severity> sev;
        if (!str("severity").empty()) sev = ParseSeverity(str("severity"));
        one(s.Set(id, sev, str("title"), actor, str("reason")));
      } else if (op == "assign") {
        one(s.Assign(id, str("to"), actor, str("reason")));
      } else if (op == "transition") {
        auto to = ParseCaseState(str("to"));
        ASSERT_TRUE(to.has_value()) << where << ": bad state " << str("to");
        one(s.Transition(id, *to, actor, str("reason")));
      } else if (op == "escalate") {
        one(s.Escalate(id, str("to"), str("reason"), actor));
      } else if (op == "comment") {
        one(s.Comment(id, str("text"), actor));
      } else if (op == "task") {
        if (str("action") == "add") {
          std::optional<int64_t> due;
          if (!str("due").empty()) due = TimeArg(str("due"), where);
          one(s.AddTask(id, str("title"), str("owner"), due, actor, str("reason")));
        } else {
          one(s.UpdateTask(id, static_cast<uint32_t>(uint64_t(args["task"])), str("action"), actor,
                           str("reason")));
        }
      } else if (op == "attach") {
        AttachArgs a;
        a.name = str("name");
        a.url = str("url");
        a.sha256_hex = str("sha256");
        a.media_type = str("media_type");
        a.reason = str("reason");
        if (args["content"].get(v) == simdjson::SUCCESS) a.bytes = Str(v);
        one(s.Attach(id, a, actor));
      } else if (op == "link") {
        one(s.Link(id, LinksOf(args, where), actor, str("reason")));
      } else if (op == "decide") {
        DecideArgs a;
        auto outcome = ParseOutcome(str("outcome"));
        ASSERT_TRUE(outcome.has_value()) << where;
        a.outcome = *outcome;
        a.rationale = str("rationale");
        if (args["signal_events"].get(v) == simdjson::SUCCESS) a.signal_events = Seqs(v, where);
        if (args["signal_findings"].get(v) == simdjson::SUCCESS) a.signal_findings = Strings(v);
        if (args["overrides_decision"].get(v) == simdjson::SUCCESS) {
          a.overrides_decision = static_cast<uint32_t>(uint64_t(v));
        }
        if (args["overrides_event"].get(v) == simdjson::SUCCESS) a.overrides_event = Seq(v, where);
        a.control_owner = str("control_owner");
        a.identity = str("identity");
        a.correlation_key = str("correlation_key");
        one(s.Decide(id, a, actor));
      } else if (op == "except") {
        ExceptArgs a;
        a.justification = str("justification");
        a.expires_ns = TimeArg(str("expires"), where);
        a.review_ns = TimeArg(str("review_by"), where);
        if (args["controls"].get(v) == simdjson::SUCCESS) a.compensating_controls = Strings(v);
        if (args["signal_events"].get(v) == simdjson::SUCCESS) a.signal_events = Seqs(v, where);
        a.identity = str("identity");
        a.correlation_key = str("correlation_key");
        one(s.Except(id, a, actor));
      } else if (op == "accept_risk") {
        std::optional<int64_t> until;
        if (!str("until").empty()) until = TimeArg(str("until"), where);
        one(s.AcceptRisk(id, static_cast<uint32_t>(uint64_t(args["decision"])), str("rationale"),
                         until, actor));
      } else if (op == "verify") {
        std::vector<uint64_t> evidence;
        if (args["evidence"].get(v) == simdjson::SUCCESS) evidence = Seqs(v, where);
        one(s.Verify(id, str("result"), str("note"), evidence, actor));
      } else if (op == "support") {
        SupportArgs a;
        a.reporter = str("reporter");
        a.channel = str("channel");
        a.affected_identity = str("affected_identity");
        a.entitlement_diff = str("entitlement_diff");
        a.approved_change = str("approved_change");
        a.remediation = str("remediation");
        a.reason = str("reason");
        one(s.Support(id, a, actor));
      } else if (op == "close") {
        auto res = ParseResolution(str("resolution").empty() ? "resolved" : str("resolution"));
        ASSERT_TRUE(res.has_value()) << where;
        one(s.Close(id, *res, str("reason"), actor));
      } else if (op == "closure") {
        auto res = ParseResolution(str("resolution").empty() ? "resolved" : str("resolution"));
        ASSERT_TRUE(res.has_value()) << where;
        auto r = s.CheckClosure(id, *res);
        if (r.ok()) {
          criteria = *r;
        } else {
          status = r.status();
        }
      } else if (op == "reopen") {
        one(s.Reopen(id, str("reason"), actor));
      } else if (op == "finding") {
        FindingInput fi;
        fi.finding_id = str("finding_id");
        fi.rule_id = str("rule_id");
        fi.severity = str("severity");
        fi.identity = str("identity");
        fi.correlation_key = str("correlation_key");
        fi.title = str("title");
        if (args["evidence"].get(v) == simdjson::SUCCESS) fi.evidence_seqs = Seqs(v, where);
        auto r = OpenOrJoinForFinding(s, fi);
        if (r.ok()) {
          for (auto& o : r->ops) written.push_back(o);
          finding = std::move(*r);
        } else {
          status = r.status();
        }
      } else {
        FAIL() << where << ": unknown op " << op;
      }
      sod = s.sod_violation();
      // Every segregation-of-duties refusal names its rule as data (the API and CLI use it).
      EXPECT_EQ(status.code() == StatusCode::kPermissionDenied, sod.has_value())
          << where << ": " << status.ToString();
      Status c = (*batch)->Commit();
      ASSERT_TRUE(c.ok()) << where << ": " << c.ToString();
    }

    element expect;
    bool expect_error = false;
    if (step["expect"].get(expect) == simdjson::SUCCESS) {
      for (auto kv : json::ObjectOf(expect)) {
        std::string_view key = kv.key;
        std::string at = where + ": expect." + std::string(key);
        if (key == "error") {
          expect_error = true;
          EXPECT_EQ(StatusCodeName(status.code()), Str(kv.value))
              << at << ": " << status.ToString();
        } else if (key == "sod_rule") {
          ASSERT_TRUE(sod.has_value()) << at << ": " << status.ToString();
          EXPECT_EQ(SodRuleName(sod->rule), Str(kv.value)) << at << ": " << status.message();
          EXPECT_NE(status.message().find(sod->person), std::string::npos)
              << at << ": the refused person " << sod->person << " is not named in "
              << status.message();
        } else if (key == "message") {
          for (const std::string& part : Strings(kv.value)) {
            EXPECT_NE(status.message().find(part), std::string::npos)
                << at << ": \"" << part << "\" not in: " << status.message();
          }
        } else if (key == "ops") {
          std::vector<std::string> got;
          for (const OpResult& r : written) got.emplace_back(OpTypeName(r.type));
          EXPECT_EQ(got, Strings(kv.value)) << at;
        } else if (key == "case") {
          ASSERT_FALSE(written.empty()) << at;
          EXPECT_EQ(written.back().case_id, uint64_t(kv.value)) << at;
        } else if (key == "finding_action") {
          ASSERT_TRUE(finding.has_value()) << at;
          EXPECT_EQ(FindingActionName(finding->action), Str(kv.value))
              << at << ": " << finding->reason;
        } else if (key == "finding_reason") {
          ASSERT_TRUE(finding.has_value()) << at;
          EXPECT_NE(finding->reason.find(Str(kv.value)), std::string::npos)
              << at << ": " << finding->reason;
        } else if (key == "met" || key == "missing") {
          ASSERT_TRUE(criteria.has_value()) << at << ": " << status.ToString();
          std::vector<std::string> got;
          for (const auto& c : *criteria) {
            if (c.met == (key == "met")) got.push_back(c.id);
          }
          EXPECT_EQ(got, Strings(kv.value)) << at;
        } else if (key == "detail") {
          // {"criterion id": "substring of its detail"}
          ASSERT_TRUE(criteria.has_value()) << at;
          for (auto d : json::ObjectOf(kv.value)) {
            bool found = false;
            for (const auto& c : *criteria) {
              if (c.id != d.key) continue;
              found = true;
              EXPECT_NE(c.detail.find(Str(d.value)), std::string::npos)
                  << at << "." << d.key << ": " << c.detail;
            }
            EXPECT_TRUE(found) << at << ": no criterion " << d.key;
          }
        } else if (key == "sink_told") {
          EXPECT_EQ(sink_.told.size(), uint64_t(kv.value)) << at;
        } else {
          ADD_FAILURE() << at << ": unknown expectation";
        }
      }
    }
    if (!expect_error) {
      EXPECT_TRUE(status.ok()) << where << " (" << op << "): " << status.ToString();
    }
    if (!written.empty()) last_case_ = written.back().case_id;
    if (id == 0) id = last_case_;
    element check;
    if (step["check"].get(check) == simdjson::SUCCESS) Check(id, check, where);
  }

  void Check(uint64_t id, element check, const std::string& where) {
    element e;
    if (check["case"].get(e) == simdjson::SUCCESS) id = uint64_t(e);
    auto loaded = projection_->Load(id);
    ASSERT_TRUE(loaded.ok() && loaded->has_value()) << where << ": no case " << id;
    const CaseView& v = **loaded;
    // The list row agrees with the folded case.
    auto row = store().GetCase(id);
    ASSERT_TRUE(row.ok() && row->has_value()) << where;
    EXPECT_EQ(**row, CaseRowOf(v)) << where;
    auto timer = [](const SlaTimer& t) -> std::string {
      if (!t.due_ns) return "none";
      if (t.met) return "met";
      if (t.breached) return "breached";
      return "running";
    };
    for (auto kv : json::ObjectOf(check)) {
      std::string_view key = kv.key;
      std::string at = where + ": check." + std::string(key);
      element val = kv.value;
      if (key == "case") continue;
      if (key == "state") {
        EXPECT_EQ(CaseStateName(v.state), Str(val)) << at;
      } else if (key == "owner") {
        EXPECT_EQ(v.owner, Str(val)) << at;
      } else if (key == "severity") {
        EXPECT_EQ(SeverityName(v.severity), Str(val)) << at;
      } else if (key == "kind") {
        EXPECT_EQ(CaseKindName(v.kind), Str(val)) << at;
      } else if (key == "requester") {
        EXPECT_EQ(v.requester, Str(val)) << at;
      } else if (key == "resolution") {
        EXPECT_EQ(v.resolution, Str(val)) << at;
      } else if (key == "reopen_count") {
        EXPECT_EQ(v.reopen_count, uint64_t(val)) << at;
      } else if (key == "escalation_level") {
        EXPECT_EQ(v.escalation_level, uint64_t(val)) << at;
      } else if (key == "escalated_to") {
        EXPECT_EQ(v.escalated_to, Str(val)) << at;
      } else if (key == "respond") {
        EXPECT_EQ(timer(v.respond), Str(val)) << at;
      } else if (key == "resolve") {
        EXPECT_EQ(timer(v.resolve), Str(val)) << at;
      } else if (key == "ops") {
        EXPECT_EQ(v.op_count, uint64_t(val)) << at;
      } else if (key == "links") {
        for (const std::string& l : Strings(val)) {
          size_t colon = l.find(':');
          std::string type = l.substr(0, colon), value = l.substr(colon + 1);
          if (type == "event" && value[0] == '@') value = std::to_string(names_[value.substr(1)]);
          EXPECT_TRUE(v.has_link(type, value)) << at << ": " << l;
        }
      } else if (key == "tasks") {
        for (auto t : json::ObjectOf(val)) {
          const Task* task = v.task(static_cast<uint32_t>(std::stoul(std::string(t.key))));
          ASSERT_NE(task, nullptr) << at << ": no task " << t.key;
          EXPECT_EQ(task->status, Str(t.value)) << at << "." << t.key;
        }
      } else if (key == "decisions") {
        for (auto d : json::ObjectOf(val)) {
          const Decision* dec = v.decision(static_cast<uint32_t>(std::stoul(std::string(d.key))));
          ASSERT_NE(dec, nullptr) << at << ": no decision " << d.key;
          for (auto m : json::ObjectOf(d.value)) {
            std::string dat = at + "." + std::string(d.key) + "." + std::string(m.key);
            std::string want = m.value.is_string() ? Str(m.value) : "";
            if (m.key == "status") {
              EXPECT_EQ(dec->status, want) << dat;
            } else if (m.key == "outcome") {
              EXPECT_EQ(OutcomeName(dec->outcome), want) << dat;
            } else if (m.key == "by") {
              EXPECT_EQ(dec->at.actor, want) << dat;
            } else if (m.key == "identity") {
              EXPECT_EQ(dec->identity, want) << dat;
            } else if (m.key == "correlation_key") {
              EXPECT_EQ(dec->correlation_key, want) << dat;
            } else if (m.key == "policy") {
              EXPECT_EQ(dec->policy ? dec->policy->id + "/" + dec->policy->version : "none", want)
                  << dat;
            } else if (m.key == "risk_accepted_by") {
              EXPECT_EQ(dec->risk ? dec->risk->at.actor : "", want) << dat;
            } else if (m.key == "automated") {
              EXPECT_EQ(dec->automated_deny, bool(m.value)) << dat;
            } else if (m.key == "exception") {
              ASSERT_TRUE(dec->exception.has_value()) << dat;
              EXPECT_EQ(dec->exception->status, want) << dat;
            } else if (m.key == "finding") {
              ASSERT_TRUE(dec->exception.has_value()) << dat;
              EXPECT_EQ(dec->exception->finding_id, want) << dat;
            } else if (m.key == "review_due") {
              ASSERT_TRUE(dec->exception.has_value()) << dat;
              EXPECT_EQ(dec->exception->review_due.has_value(), bool(m.value)) << dat;
            } else {
              ADD_FAILURE() << dat << ": unknown member";
            }
          }
        }
      } else if (key == "attachment_stored") {
        ASSERT_FALSE(v.attachments.empty()) << at;
        auto digest = HexDecode(v.attachments.back().sha256_hex);
        ASSERT_TRUE(digest.has_value()) << at;
        auto blob = store().GetAttachmentBlob(*digest);
        ASSERT_TRUE(blob.ok()) << at;
        EXPECT_EQ(blob->has_value() ? **blob : "(none)", Str(val)) << at;
      } else if (key == "attachment_sha256") {
        ASSERT_FALSE(v.attachments.empty()) << at;
        EXPECT_EQ(v.attachments.back().sha256_hex, Str(val)) << at;
      } else {
        ADD_FAILURE() << at << ": unknown check";
      }
    }
  }

  // Rebuild from the ledger == the incrementally maintained tables; explain agrees.
  void CheckRebuild() {
    std::string incremental = Snapshot(store());
    store::CaseQuery all;
    all.limit = SIZE_MAX >> 1;
    auto rows = store().ListCases(all);
    ASSERT_TRUE(rows.ok());
    std::map<uint64_t, std::string> views;
    for (const auto& r : *rows) {
      auto x = ExplainCase(store(), r.id);
      ASSERT_TRUE(x.ok()) << name_ << ": " << x.status().ToString();
      EXPECT_TRUE(x->view_consistent) << name_ << ": case " << r.id << ": " << x->inconsistency;
      views[r.id] = CaseViewToJson(x->view);
      EXPECT_FALSE(ExplanationToText(*x).empty());
    }
    Status s = CaseProjection::Rebuild(store());
    ASSERT_TRUE(s.ok()) << name_ << ": " << s.ToString();
    EXPECT_EQ(Snapshot(store()), incremental) << name_ << ": rebuild differs from incremental";
    for (const auto& [id, json] : views) {
      auto v = FoldCaseFromLedger(store(), id);
      ASSERT_TRUE(v.ok() && v->has_value()) << name_;
      EXPECT_EQ(CaseViewToJson(**v), json) << name_ << ": case " << id;
    }
  }

  // Every case's evidence pack (docs/format/evidence-pack.md, version 2) exports, which checks
  // that its events reproduce `case explain` of the store, and verifies offline; with the case's
  // last event dropped from it, verification names the summary.
  void CheckCasePacks() {
    store::CaseQuery all;
    all.limit = SIZE_MAX >> 1;
    auto rows = store().ListCases(all);
    ASSERT_TRUE(rows.ok());
    evidence::ExportOptions eo;
    eo.scratch_dir = f_.dir().path().string();
    evidence::VerifyPackOptions vo;
    vo.scratch_dir = eo.scratch_dir;
    for (const auto& row : *rows) {
      const std::string at = name_ + ": case " + std::to_string(row.id);
      std::string pack;
      auto st = evidence::ExportPack(store(), evidence::PackQuery::ForCase(row.id), eo,
                                     [&](std::string_view b) {
                                       pack.append(b);
                                       return OkStatus();
                                     });
      ASSERT_TRUE(st.ok()) << at << ": " << st.status().ToString();
      auto r = evidence::VerifyPack(pack, vo);
      ASSERT_TRUE(r.ok()) << at;
      std::string problems;
      for (const auto& p : r->problems) problems += p.ToString() + "\n";
      EXPECT_TRUE(r->ok() && r->summary_checked) << at << ":\n" << problems;
      EXPECT_EQ(r->summary_type, "case") << at;

      // Drop the line of the case's last event (the header's count adjusted).
      const std::string needle = R"("seq":)" + std::to_string(row.last_seq) + "}\n";
      size_t end = pack.find(needle);
      ASSERT_NE(end, std::string::npos) << at;
      size_t begin = pack.rfind('\n', end) + 1;
      std::string cut = pack.substr(0, begin) + pack.substr(end + needle.size());
      std::string count = R"({"events":)" + std::to_string(st->events) + ",";
      ASSERT_EQ(cut.rfind(count, 0), 0u) << at;
      cut.replace(0, count.size(), R"({"events":)" + std::to_string(st->events - 1) + ",");
      auto dropped = evidence::VerifyPack(cut, vo);
      ASSERT_TRUE(dropped.ok()) << at;
      ASSERT_FALSE(dropped->ok()) << at << ": its last event dropped undetected";
      EXPECT_EQ(dropped->problems.back().part, "summary") << at;
    }
  }

  std::string name_;
  testing::LedgerFixture f_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<correlate::DerivedState> derived_;
  std::unique_ptr<CaseProjection> projection_;
  PolicyContext policy_;
  RecordingSink sink_;
  std::map<std::string, uint64_t> names_;
  uint64_t last_case_ = 0;  // of the last operation written
  simdjson::dom::parser empty_parser_;
  element empty_args_;
};

class CaseScenario : public ::testing::TestWithParam<std::string> {};

TEST_P(CaseScenario, Runs) {
  std::string text = ReadAll(ScenarioDir() / (GetParam() + ".json"));
  ASSERT_FALSE(text.empty()) << GetParam();
  simdjson::dom::parser parser;
  element root;
  ASSERT_EQ(parser.parse(text).get(root), simdjson::SUCCESS) << GetParam() << ": not JSON";
  ScenarioRun run(GetParam());
  run.Run(root);
}

INSTANTIATE_TEST_SUITE_P(Scenarios, CaseScenario, ::testing::ValuesIn(ScenarioNames()),
                         [](const ::testing::TestParamInfo<std::string>& param) {
                           std::string n = param.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

}  // namespace
}  // namespace nhitrace::cases
