// Data-driven reconciliation scenarios: tests/scenarios/reconcile/<name>.jsonl holds the events,
// <name>.expect.json the findings that must (and must not) be open, and <name>.policy.yaml, if
// present, the policy (else tests/scenarios/reconcile/policy.yaml). See
// tests/scenarios/reconcile/README.md. Every scenario runs
//   1. incrementally: the policy is published, then the events are ingested in file order in
//      batches of random sizes, with an incremental pass after each commit;
//   2. as a full pass over the same events ingested without reconciliation;
//   3. incrementally with the clock before every deadline, then one incremental pass at as_of
//      with no new events (only the schedule can bring the time rules in);
//   4. incrementally in reverse order, one event per batch;
// and all four must give the same open findings, which must match the expectation. Then every
// open finding is replayed (same outcome), the tables are rebuilt from the ledger (same
// findings), and a second full pass records nothing.
// Cases (docs/reconcile.md section 8): every run has the case projection attached, so findings
// open and join cases. Runs 1 and 2 must put the open findings on cases the same way (run 4 need
// not: arriving backwards, transient findings open cases that the final evidence never would)
// (which open findings share a case, and what it links of theirs); `case rebuild` of run 1 must
// give its live case tables; a second full pass appends nothing at all.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "base/time.h"
#include "cases/projection.h"
#include "correlate/derived_state.h"
#include "json/dom.h"
#include "policy/policy.h"
#include "policy/policy_index.h"
#include "reconcile/engine.h"
#include "reconcile/finding.h"
#include "reconcile/replay.h"
#include "testing/ledger_fixture.h"

namespace nhitrace::reconcile {
namespace {

namespace fs = std::filesystem;

fs::path Dir() { return fs::path(NHITRACE_SOURCE_DIR) / "tests/scenarios/reconcile"; }

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

int64_t Time(std::string_view s) {
  auto t = ParseRfc3339(s);
  EXPECT_TRUE(t.ok()) << s;
  return t.ok() ? t->unix_nanos : 0;
}

// A ledger with the derived state, the policy index and the engine attached.
class ScenarioRun {
 public:
  explicit ScenarioRun(int64_t clock) {
    f_.set_durable(false);
    f_.clock().Set(clock);
    EXPECT_TRUE(f_.Init().ok());
    auto l = f_.Open();
    EXPECT_TRUE(l.ok());
    ledger_ = std::move(l).value();
    derived_ = std::make_unique<correlate::DerivedState>(ledger_->store());
    ledger_->AddObserver(derived_.get());
    cases_ = std::make_unique<cases::CaseProjection>(ledger_->store());
    ledger_->AddObserver(cases_.get());
    index_ = std::make_unique<policy::PolicyIndex>(ledger_->store());
    ledger_->AddObserver(index_.get());
    engine_ = std::make_unique<Engine>(*ledger_);
    engine_->AttachCases(cases_.get());
  }

  void Publish(const std::string& yaml) {
    policy::PublishOptions o;
    o.published_by = "test";
    auto r = policy::PublishPolicy(*ledger_, yaml, o);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  // Appends lines[order[i]] in batches of the given sizes (cycled); after each commit, an
  // incremental pass at `as_of` when `incremental`.
  void Ingest(const std::vector<std::string>& lines, const std::vector<size_t>& order,
              const std::vector<size_t>& batch_sizes, bool incremental, int64_t as_of) {
    size_t i = 0, b = 0;
    while (i < order.size()) {
      size_t n = std::max<size_t>(1, batch_sizes[b++ % batch_sizes.size()]);
      auto batch = ledger_->BeginBatch();
      ASSERT_TRUE(batch.ok()) << batch.status().ToString();
      for (size_t j = 0; j < n && i < order.size(); ++j, ++i) {
        const std::string& line = lines[order[i]];
        auto o = (*batch)->Append(testing::Record(line), line);
        ASSERT_TRUE(o.ok()) << o.status().ToString();
        ASSERT_EQ(o->status, ledger::AppendStatus::kAccepted) << line;
      }
      ASSERT_TRUE((*batch)->Commit().ok());
      batch->reset();
      if (incremental) {
        auto s = engine_->RunIncremental(as_of);
        ASSERT_TRUE(s.ok()) << s.status().ToString();
      }
    }
  }

  store::Store& store() { return ledger_->store(); }
  Engine& engine() { return *engine_; }
  ledger::Ledger& ledger() { return *ledger_; }

  // seq -> "system/event_id"
  std::map<uint64_t, std::string> Names() {
    std::map<uint64_t, std::string> names;
    EXPECT_TRUE(store()
                    .ScanEvents(0,
                                [&](const store::EventRow& row) {
                                  names[row.seq] = row.source_system + "/" + row.source_event_id;
                                  return OkStatus();
                                })
                    .ok());
    return names;
  }

  // The open findings, keyed by "<rule> <subject type>:<subject>", described without sequence
  // numbers (evidence by event name) so that runs with different arrival orders compare.
  std::map<std::string, std::string> Open() {
    auto names = Names();
    std::map<std::string, std::string> out;
    store::FindingQuery q;
    q.status = "open";
    auto rows = store().QueryFindings(q);
    EXPECT_TRUE(rows.ok());
    for (const auto& row : *rows) {
      auto f = FromAttributes(row.doc);
      EXPECT_TRUE(f.ok());
      std::ostringstream d;
      d << "severity=" << policy::SeverityName(f->severity) << " identity=" << f->identity
        << " request=" << f->correlation_key << " count=" << f->evidence_count
        << " first=" << f->first_seen_ns << " last=" << f->last_seen_ns << " evidence=";
      std::vector<std::string> ev;
      for (uint64_t s : f->evidence) ev.push_back(names[s]);
      std::sort(ev.begin(), ev.end());
      for (const auto& e : ev) d << e << ",";
      d << " message=" << f->message;
      out[f->rule_id + " " + row.subject_type + ":" + row.subject] = d.str();
    }
    return out;
  }

  // How the open findings sit on cases, without case ids or sequence numbers: one line per case
  // that holds open findings: those findings, and the identities, requests and evidence events
  // (by name) of theirs that the case links. Open findings on no case are listed too.
  std::set<std::string> CaseGroups() {
    auto names = Names();
    std::map<std::string, Finding> open;
    store::FindingQuery q;
    q.status = "open";
    auto rows = store().QueryFindings(q);
    EXPECT_TRUE(rows.ok());
    for (const auto& row : *rows) open.emplace(row.id, *FromAttributes(row.doc));
    std::set<std::string> out, placed;
    store::CaseQuery all;
    all.limit = SIZE_MAX >> 1;
    auto cases = store().ListCases(all);
    EXPECT_TRUE(cases.ok());
    for (const auto& c : *cases) {
      auto links = store().ListCaseLinks(c.id);
      EXPECT_TRUE(links.ok());
      std::set<std::string> findings, linked;
      for (const auto& l : *links) {
        if (l.type == "finding" && open.count(l.value)) findings.insert(l.value);
        linked.insert(l.type + ":" + l.value);
      }
      if (findings.empty()) continue;
      std::set<std::string> parts;
      for (const auto& id : findings) {
        const Finding& f = open.at(id);
        placed.insert(id);
        parts.insert(f.rule_id + "/" + std::string(SubjectTypeName(f.subject_type)) + ":" +
                     f.subject);
        if (!f.identity.empty() && linked.count("identity:" + f.identity)) {
          parts.insert("identity " + f.identity);
        }
        if (!f.correlation_key.empty() && linked.count("chain:" + f.correlation_key)) {
          parts.insert("chain " + f.correlation_key);
        }
        for (uint64_t s : f.evidence) {
          if (linked.count("event:" + std::to_string(s))) parts.insert("event " + names[s]);
        }
      }
      std::string line = "case:";
      for (const auto& p : parts) line += " " + p;
      out.insert(line);
    }
    for (const auto& [id, f] : open) {
      if (!placed.count(id)) {
        out.insert("no case: " + f.rule_id + "/" + std::string(SubjectTypeName(f.subject_type)) +
                   ":" + f.subject);
      }
    }
    return out;
  }

 private:
  testing::LedgerFixture f_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<correlate::DerivedState> derived_;
  std::unique_ptr<cases::CaseProjection> cases_;
  std::unique_ptr<policy::PolicyIndex> index_;
  std::unique_ptr<Engine> engine_;
};

std::string Describe(const std::set<std::string>& s) {
  std::string out;
  for (const auto& l : s) out += "  " + l + "\n";
  return out.empty() ? "  (none)\n" : out;
}

// The case tables as rows (for rebuild == live).
std::string CaseTables(store::Store& store) {
  std::ostringstream out;
  store::CaseQuery all;
  all.limit = SIZE_MAX >> 1;
  auto rows = store.ListCases(all);
  EXPECT_TRUE(rows.ok());
  for (const store::CaseRow& r : *rows) {
    out << "case " << r.id << "|" << r.kind << "|" << r.state << "|" << r.severity << "|" << r.title
        << "|" << r.requester << "|" << r.opened_ns << "|" << r.updated_ns << "|"
        << r.next_due_ns.value_or(-1) << "|" << r.op_count << "|" << r.last_seq << "\n";
    auto seqs = store.ListCaseEventSeqs(r.id);
    auto links = store.ListCaseLinks(r.id);
    EXPECT_TRUE(seqs.ok() && links.ok());
    for (uint64_t s : *seqs) out << " " << s;
    out << "\n";
    for (const auto& l : *links)
      out << "  link " << l.type << "|" << l.value << "|" << l.seq << "\n";
  }
  return out.str();
}

std::string Describe(const std::map<std::string, std::string>& m) {
  std::string out;
  for (const auto& [k, v] : m) out += "  " + k + "  " + v + "\n";
  return out.empty() ? "  (none)\n" : out;
}

// Only the findings of the rules the scenario is about.
std::map<std::string, std::string> OfRules(const std::map<std::string, std::string>& all,
                                           const std::set<std::string>& rules) {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : all) {
    if (rules.count(k.substr(0, k.find(' ')))) out[k] = v;
  }
  return out;
}

class ScenarioTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ScenarioTest, FindingsMatchInEveryMode) {
  const std::string name = GetParam();
  const std::vector<std::string> lines = Lines(ReadAll(Dir() / (name + ".jsonl")));
  ASSERT_FALSE(lines.empty());
  const std::string expect_text = ReadAll(Dir() / (name + ".expect.json"));
  simdjson::dom::parser parser;
  simdjson::dom::element expect;
  ASSERT_EQ(json::ParseJson(parser, expect_text, &expect), simdjson::SUCCESS) << name;
  for (auto kv : json::ObjectOf(expect)) {
    std::string_view k = kv.key;
    ASSERT_TRUE(k == "why" || k == "as_of" || k == "rules" || k == "findings" || k == "absent")
        << name << ": unknown member " << k;
  }
  std::string_view as_of_text;
  ASSERT_EQ(expect["as_of"].get(as_of_text), simdjson::SUCCESS) << name << ": as_of";
  const int64_t as_of = Time(as_of_text);
  std::set<std::string> rules;
  for (auto r : json::ArrayOf(expect["rules"].value())) {
    std::string id(std::string_view(r.get_string().value()));
    ASSERT_NE(FindRule(id), nullptr) << name << ": unknown rule " << id;
    rules.insert(id);
  }
  fs::path policy_file = Dir() / (name + ".policy.yaml");
  if (!fs::exists(policy_file)) policy_file = Dir() / "policy.yaml";
  const std::string policy_yaml = ReadAll(policy_file);

  std::vector<size_t> order(lines.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;

  // 1. Incremental, in file order, random batch sizes.
  std::mt19937 rng(static_cast<uint32_t>(std::hash<std::string>{}(name)));
  std::vector<size_t> sizes;
  for (int i = 0; i < 16; ++i) sizes.push_back(1 + rng() % 4);
  ScenarioRun inc(as_of);
  inc.Publish(policy_yaml);
  inc.Ingest(lines, order, sizes, true, as_of);
  if (HasFatalFailure()) return;
  auto incremental = OfRules(inc.Open(), rules);

  // 2. Full pass.
  ScenarioRun full(as_of);
  full.Publish(policy_yaml);
  full.Ingest(lines, order, {lines.size()}, false, as_of);
  if (HasFatalFailure()) return;
  auto stats = full.engine().RunFull(as_of, nullptr);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_TRUE(stats->full);
  auto full_pass = OfRules(full.Open(), rules);
  EXPECT_EQ(incremental, full_pass) << name << ": incremental\n"
                                    << Describe(incremental) << "full pass\n"
                                    << Describe(full_pass);

  // The expectation.
  std::map<std::string, simdjson::dom::element> want;
  for (auto f : json::ArrayOf(expect["findings"].value())) {
    std::string rule(std::string_view(f["rule"].get_string().value()));
    std::string subject(std::string_view(f["subject"].get_string().value()));
    ASSERT_TRUE(rules.count(rule)) << name << ": " << rule << " is not in \"rules\"";
    want[rule + " " + subject] = f;
  }
  std::set<std::string> got_keys, want_keys;
  for (const auto& [k, v] : full_pass) got_keys.insert(k);
  for (const auto& [k, v] : want) want_keys.insert(k);
  EXPECT_EQ(got_keys, want_keys) << name << ": open findings\n" << Describe(full_pass);
  auto names = full.Names();
  for (const auto& [key, f] : want) {
    store::FindingQuery q;
    q.rule_id = key.substr(0, key.find(' '));
    q.status = "open";
    auto rows = full.store().QueryFindings(q);
    ASSERT_TRUE(rows.ok());
    const std::string subject = key.substr(key.find(' ') + 1);
    for (const auto& row : *rows) {
      if (row.subject_type + ":" + row.subject != subject) continue;
      auto got = FromAttributes(row.doc);
      ASSERT_TRUE(got.ok());
      for (auto kv : json::ObjectOf(f)) {
        std::string_view k = kv.key;
        if (k == "rule" || k == "subject") continue;
        if (k == "severity") {
          EXPECT_EQ(policy::SeverityName(got->severity), std::string_view(kv.value.get_string()))
              << name << ": " << key;
        } else if (k == "evidence") {
          std::vector<std::string> w, g;
          for (auto e : json::ArrayOf(kv.value)) w.emplace_back(std::string_view(e.get_string()));
          for (uint64_t s : got->evidence) g.push_back(names[s]);
          std::sort(w.begin(), w.end());
          std::sort(g.begin(), g.end());
          EXPECT_EQ(g, w) << name << ": " << key;
        } else if (k == "evidence_count") {
          EXPECT_EQ(got->evidence_count, uint64_t(kv.value)) << name << ": " << key;
        } else if (k == "identity") {
          EXPECT_EQ(got->identity, std::string_view(kv.value.get_string())) << name << ": " << key;
        } else if (k == "message") {
          EXPECT_NE(got->message.find(std::string_view(kv.value.get_string())), std::string::npos)
              << name << ": " << key << ": message \"" << got->message << "\" lacks \""
              << std::string_view(kv.value.get_string()) << "\"";
        } else {
          ADD_FAILURE() << name << ": unknown member " << k << " in a finding";
        }
      }
    }
  }
  for (auto a : json::ArrayOf(expect["absent"].value())) {
    std::string rule(std::string_view(a["rule"].get_string().value()));
    std::string subject(std::string_view(a["subject"].get_string().value()));
    EXPECT_EQ(full_pass.count(rule + " " + subject), 0u)
        << name << ": the near miss " << rule << " " << subject << " fired";
    EXPECT_FALSE(want.count(rule + " " + subject)) << name << ": both expected and absent";
  }

  // 3. The clock before everything, then one pass at as_of with nothing new: only the schedule
  // brings the deadlines in.
  int64_t earliest = INT64_MAX;
  for (const auto& l : lines) {
    earliest = std::min(earliest, testing::Record(l).event.time_ns);
  }
  ScenarioRun early(as_of);
  early.Publish(policy_yaml);
  early.Ingest(lines, order, sizes, true, earliest - 1);
  if (HasFatalFailure()) return;
  auto s3 = early.engine().RunIncremental(as_of);
  ASSERT_TRUE(s3.ok()) << s3.status().ToString();
  auto scheduled = OfRules(early.Open(), rules);
  EXPECT_EQ(scheduled, full_pass) << name << ": early clock, then a pass at as_of\n"
                                  << Describe(scheduled);

  // 4. Reverse order, one event per batch.
  std::vector<size_t> reversed(order.rbegin(), order.rend());
  ScenarioRun rev(as_of);
  rev.Publish(policy_yaml);
  rev.Ingest(lines, reversed, {1}, true, as_of);
  if (HasFatalFailure()) return;
  auto reverse = OfRules(rev.Open(), rules);
  EXPECT_EQ(reverse, full_pass) << name << ": reverse order\n" << Describe(reverse);

  // Cases: the same grouping of open findings in every order of arrival.
  const auto inc_cases = inc.CaseGroups(), full_cases = full.CaseGroups();
  EXPECT_EQ(inc_cases, full_cases) << name << ": cases, incremental\n"
                                   << Describe(inc_cases) << "full pass\n"
                                   << Describe(full_cases);
  // The case tables rebuilt from the ledger are the live ones.
  const std::string live_cases = CaseTables(inc.store());
  ASSERT_TRUE(cases::CaseProjection::Rebuild(inc.store()).ok());
  EXPECT_EQ(CaseTables(inc.store()), live_cases) << name << ": rebuilt cases differ";

  // Replays: every open finding (of any rule), with the recorded policy.
  store::FindingQuery all;
  auto rows = inc.store().QueryFindings(all);
  ASSERT_TRUE(rows.ok());
  for (const auto& row : *rows) {
    auto r = Replay(inc.store(), row.id, std::nullopt);
    ASSERT_TRUE(r.ok()) << name << ": replay " << row.id << ": " << r.status().ToString();
    std::string diffs;
    for (const auto& d : r->differences) diffs += "\n  " + d;
    EXPECT_TRUE(r->same) << name << ": replay of " << row.rule_id << " " << row.subject << diffs;
  }

  // Rebuild from the ledger, then a second full pass records nothing.
  auto before = full.Open();
  ASSERT_TRUE(Engine::RebuildTables(full.store()).ok());
  EXPECT_EQ(full.Open(), before) << name << ": rebuilt findings differ";
  const uint64_t size_before = full.ledger().size();
  auto again = full.engine().RunFull(as_of, nullptr);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(full.ledger().size(), size_before) << name << ": a second full pass appended events";
  EXPECT_EQ(again->cases_opened + again->cases_joined + again->cases_noted, 0u) << name;
  EXPECT_EQ(again->opened + again->updated + again->resolved, 0u)
      << name << ": a second full pass changed " << again->opened << "/" << again->updated << "/"
      << again->resolved;
}

std::vector<std::string> ScenarioNames() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(Dir())) {
    if (e.path().extension() == ".jsonl") names.push_back(e.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

INSTANTIATE_TEST_SUITE_P(Reconcile, ScenarioTest, ::testing::ValuesIn(ScenarioNames()),
                         [](const auto& param_info) {
                           std::string n = param_info.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

}  // namespace
}  // namespace nhitrace::reconcile
