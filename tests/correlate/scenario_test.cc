// Data-driven grant-chain scenarios: tests/scenarios/trace/<name>.jsonl holds the events,
// <name>.expect.json what the trace must say (docs in tests/scenarios/README.md). Each scenario
// runs (1) in file order, (2) in shuffled arrival orders with random batch sizes, which must all
// give the same derived state and the same answers, and (3) through a rebuild from scratch,
// which must reproduce the incrementally maintained tables exactly.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "correlate/derived_state.h"
#include "correlate/identity_facts.h"
#include "correlate/trace.h"
#include "json/dom.h"
#include "testing/ledger_fixture.h"

namespace nhitrace::correlate {
namespace {

namespace fs = std::filesystem;

fs::path ScenarioDir() { return fs::path(NHITRACE_SOURCE_DIR) / "tests" / "scenarios" / "trace"; }

std::vector<std::string> ScenarioNames() {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(ScenarioDir())) {
    if (entry.path().extension() == ".jsonl") names.push_back(entry.path().stem().string());
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

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

// One ingest of the scenario's events into a fresh ledger.
class ScenarioRun {
 public:
  // Ingests lines[order[0]], lines[order[1]], ... `per_batch` lines per batch.
  void Ingest(const std::vector<std::string>& lines, const std::vector<size_t>& order,
              size_t per_batch) {
    f_.set_durable(false);
    EXPECT_TRUE(f_.Init().ok());
    auto l = f_.Open();
    EXPECT_TRUE(l.ok());
    ledger_ = std::move(l).value();
    derived_ = std::make_unique<DerivedState>(ledger_->store());
    ledger_->AddObserver(derived_.get());
    for (size_t i = 0; i < order.size(); i += per_batch) {
      auto batch = ledger_->BeginBatch();
      ASSERT_TRUE(batch.ok()) << batch.status().ToString();
      for (size_t j = i; j < std::min(order.size(), i + per_batch); ++j) {
        const std::string& line = lines[order[j]];
        auto o = (*batch)->Append(testing::Record(line), line);
        ASSERT_TRUE(o.ok()) << o.status().ToString();
        ASSERT_EQ(o->status, ledger::AppendStatus::kAccepted) << line;
      }
      Status s = (*batch)->Commit();
      ASSERT_TRUE(s.ok()) << s.ToString();
    }
    // seq -> "system/event_id", the arrival-independent name of an event.
    ASSERT_TRUE(store()
                    .ScanEvents(0,
                                [&](const store::EventRow& row) {
                                  names_[row.seq] = row.source_system + "/" + row.source_event_id;
                                  return OkStatus();
                                })
                    .ok());
  }

  store::Store& store() { return ledger_->store(); }
  std::string Name(uint64_t seq) const {
    auto it = names_.find(seq);
    return it == names_.end() ? "?" : it->second;
  }

  // The derived tables with sequence numbers replaced by event names: equal for every arrival
  // order of the same events.
  std::string Snapshot() {
    std::ostringstream out;
    EXPECT_TRUE(store()
                    .ScanIdentityKeys([&](const store::IdentityKeyRow& r) {
                      out << "key " << r.key << " -> " << r.canonical << " seen " << r.first_seen_ns
                          << ".." << r.last_seen_ns << " events " << r.event_count << " actions "
                          << r.action_count << " last_action " << r.last_action_ns.value_or(-1)
                          << " facts";
                      auto facts = IdentityFacts::FromRow(r);
                      EXPECT_TRUE(facts.ok());
                      for (int f = 0; f < IdentityFacts::kFieldCount; ++f) {
                        auto field = static_cast<IdentityFacts::Field>(f);
                        const auto& fact = facts->get(field);
                        if (fact.set) {
                          out << " " << IdentityFacts::FieldName(field) << "=" << fact.value
                              << " (by " << Name(fact.seq) << ")";
                        }
                      }
                      out << "\n";
                      return OkStatus();
                    })
                    .ok());
    std::set<std::string> links;
    EXPECT_TRUE(store()
                    .ScanIdentityLinks([&](const store::IdentityLinkRow& r) {
                      links.insert("link " + r.key_a + " ~ " + r.key_b + " by " + Name(r.seq));
                      return OkStatus();
                    })
                    .ok());
    for (const auto& l : links) out << l << "\n";
    EXPECT_TRUE(store()
                    .ScanGrants([&](const store::GrantRow& g) {
                      auto chain = LoadChain(store(), g.correlation_key);
                      EXPECT_TRUE(chain.ok());
                      out << "grant " << g.correlation_key << " " << g.status << " "
                          << g.identity_key << " " << g.start_ns << ".." << g.end_ns
                          << " first_use " << (g.first_use_seq ? Name(*g.first_use_seq) : "-")
                          << " issues";
                      for (const auto& i : chain->issues) out << " " << i.code;
                      out << "\n";
                      // The stored row is the chain as loaded now.
                      EXPECT_EQ(g.status, ChainStatusName(chain->status)) << g.correlation_key;
                      EXPECT_EQ(g.doc, ChainToJson(*chain)) << g.correlation_key;
                      return OkStatus();
                    })
                    .ok());
    std::set<std::string> actions;  // by name: the stored order follows seq on equal times
    EXPECT_TRUE(store()
                    .ScanActions([&](const store::ActionRow& a) {
                      actions.insert("action " + a.identity_key + " " + std::to_string(a.time_ns) +
                                     " " + Name(a.seq) + " failed " + std::to_string(a.failed) +
                                     " delegated " + std::to_string(a.delegated) + " " +
                                     a.credential + " " + a.scope);
                      return OkStatus();
                    })
                    .ok());
    for (const auto& a : actions) out << a << "\n";
    return out.str();
  }

  // The derived tables exactly as stored (for rebuild == incremental).
  std::string Raw() {
    std::ostringstream out;
    EXPECT_TRUE(store()
                    .ScanIdentityKeys([&](const store::IdentityKeyRow& r) {
                      out << r.key << "|" << r.canonical << "|" << r.first_seen_ns << "|"
                          << r.last_seen_ns << "|" << r.last_action_ns.value_or(-1) << "|"
                          << r.event_count << "|" << r.action_count << "|" << r.subject_kind << "|"
                          << r.subject_name << "|" << r.owner << "|" << r.sponsor << "|" << r.system
                          << "|" << r.facts_provenance << "\n";
                      return OkStatus();
                    })
                    .ok());
    EXPECT_TRUE(store()
                    .ScanIdentityLinks([&](const store::IdentityLinkRow& r) {
                      out << r.key_a << "|" << r.key_b << "|" << r.seq << "\n";
                      return OkStatus();
                    })
                    .ok());
    EXPECT_TRUE(store()
                    .ScanGrants([&](const store::GrantRow& g) {
                      out << g.correlation_key << "|" << g.identity_key << "|" << g.status << "|"
                          << g.start_ns << "|" << g.end_ns << "|"
                          << (g.first_use_seq ? static_cast<int64_t>(*g.first_use_seq) : -1) << "|"
                          << g.issue_count << "|" << g.doc << "\n";
                      return OkStatus();
                    })
                    .ok());
    EXPECT_TRUE(store()
                    .ScanActions([&](const store::ActionRow& a) {
                      out << a.identity_key << "|" << a.time_ns << "|" << a.seq << "|" << a.failed
                          << "|" << a.delegated << "|" << a.credential << "|" << a.scope << "\n";
                      return OkStatus();
                    })
                    .ok());
    return out.str();
  }

 private:
  testing::LedgerFixture f_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<DerivedState> derived_;
  std::map<uint64_t, std::string> names_;
};

std::vector<std::string> Names(const ScenarioRun& run, const std::vector<uint64_t>& seqs) {
  std::vector<std::string> out;
  for (uint64_t s : seqs) out.push_back(run.Name(s));
  return out;
}

std::vector<std::string> StringList(simdjson::dom::element e) {
  std::vector<std::string> out;
  for (auto item : json::ArrayOf(e)) out.emplace_back(std::string_view(item.get_string().value()));
  return out;
}

const std::vector<uint64_t>* StageSeqs(const GrantChain& c, std::string_view stage) {
  if (stage == "requested") return &c.requested;
  if (stage == "approved") return &c.approved;
  if (stage == "denied") return &c.denied;
  if (stage == "provisioned") return &c.provisioned;
  if (stage == "provision_failed") return &c.provision_failed;
  if (stage == "rotated") return &c.rotated;
  if (stage == "revoked") return &c.revoked;
  if (stage == "expired") return &c.expired;
  if (stage == "reconciled") return &c.reconciled;
  if (stage == "other") return &c.other;
  return nullptr;
}

void CheckSummary(const ActionSummary& s, simdjson::dom::element want, const std::string& where) {
  std::map<std::string_view, uint64_t> got = {{"count", s.count},
                                              {"covered", s.covered},
                                              {"out_of_scope", s.out_of_scope},
                                              {"before_grant", s.before_grant},
                                              {"after_revocation", s.after_revocation},
                                              {"after_expiry", s.after_expiry},
                                              {"no_grant", s.no_grant},
                                              {"delegated", s.delegated}};
  for (auto kv : json::ObjectOf(want)) {
    auto it = got.find(kv.key);
    ASSERT_NE(it, got.end()) << where << ": unknown count " << kv.key;
    EXPECT_EQ(it->second, uint64_t(kv.value)) << where << ": " << kv.key;
  }
}

// Checks one expectation ({"request": ...} or {"identity": ...} plus what must hold).
void Check(ScenarioRun& run, simdjson::dom::element check, const std::string& where) {
  TraceQuery q;
  std::string_view sv;
  if (check["request"].get(sv) == simdjson::SUCCESS) q.request = std::string(sv);
  if (check["identity"].get(sv) == simdjson::SUCCESS) q.identity = std::string(sv);
  auto trace = BuildTrace(run.store(), q);
  ASSERT_TRUE(trace.ok()) << where << ": " << trace.status().ToString();
  const Trace& t = *trace;

  // Every action's verdict, whatever grant it was judged against.
  std::map<std::string, std::string> verdicts;
  std::map<std::string, std::vector<std::string>> uncovered;
  auto collect = [&](const ActionSummary& s) {
    for (const auto& a : s.exceptions) {
      verdicts[run.Name(a.action.seq)] = std::string(VerdictName(a.verdict));
      uncovered[run.Name(a.action.seq)] = a.uncovered;
    }
  };
  for (const auto& g : t.grants) collect(g.actions);
  collect(t.unattributed);

  for (auto kv : json::ObjectOf(check)) {
    std::string_view key = kv.key;
    simdjson::dom::element v = kv.value;
    std::string at = where + ": " + std::string(key);
    if (key == "request" || key == "identity" || key == "why") continue;
    if (key == "grant") {
      // Expectations about one grant of the trace, by correlation key.
      std::string_view ck = v["correlation_key"].get_string().value();
      const GrantTrace* g = nullptr;
      for (const auto& gt : t.grants) {
        if (gt.chain.correlation_key == ck) g = &gt;
      }
      ASSERT_NE(g, nullptr) << at << ": no grant " << ck << " in the trace";
      const GrantChain& c = g->chain;
      for (auto gkv : json::ObjectOf(v)) {
        std::string gat = at + "." + std::string(gkv.key);
        if (gkv.key == "correlation_key") continue;
        if (gkv.key == "status") {
          EXPECT_EQ(ChainStatusName(c.status), gkv.value.get_string().value()) << gat;
        } else if (gkv.key == "identity") {
          EXPECT_EQ(c.identity, gkv.value.get_string().value()) << gat;
        } else if (gkv.key == "stages") {
          for (auto st : json::ObjectOf(gkv.value)) {
            const auto* seqs = StageSeqs(c, st.key);
            ASSERT_NE(seqs, nullptr) << gat << ": unknown stage " << st.key;
            EXPECT_EQ(Names(run, *seqs), StringList(st.value)) << gat << "." << st.key;
          }
        } else if (gkv.key == "active") {
          if (gkv.value.is_null()) {
            EXPECT_FALSE(c.first_use) << gat;
          } else {
            ASSERT_TRUE(c.first_use) << gat;
            EXPECT_EQ(run.Name(c.first_use->seq), gkv.value.get_string().value()) << gat;
          }
        } else if (gkv.key == "issues") {
          std::vector<std::string> codes;
          for (const auto& i : c.issues) codes.push_back(i.code);
          std::vector<std::string> want = StringList(gkv.value);
          std::sort(codes.begin(), codes.end());
          std::sort(want.begin(), want.end());
          EXPECT_EQ(codes, want) << gat;
        } else if (gkv.key == "end_reason") {
          EXPECT_EQ(c.end_reason, gkv.value.get_string().value()) << gat;
        } else if (gkv.key == "requester") {
          EXPECT_EQ(c.requester, gkv.value.get_string().value()) << gat;
        } else if (gkv.key == "actions") {
          CheckSummary(g->actions, gkv.value, gat);
        } else {
          ADD_FAILURE() << gat << ": unknown expectation";
        }
      }
    } else if (key == "grants") {
      std::vector<std::string> got;
      for (const auto& gt : t.grants) got.push_back(gt.chain.correlation_key);
      EXPECT_EQ(got, StringList(v)) << at;
    } else if (key == "verdicts") {
      for (auto vv : json::ObjectOf(v)) {
        std::string name(vv.key);
        std::string want(std::string_view(vv.value.get_string().value()));
        auto it = verdicts.find(name);
        if (want == "covered") {
          EXPECT_EQ(it, verdicts.end()) << at << ": " << name << " is " << it->second;
        } else {
          ASSERT_NE(it, verdicts.end()) << at << ": " << name << " is covered, want " << want;
          EXPECT_EQ(it->second, want) << at << ": " << name;
        }
      }
    } else if (key == "uncovered") {
      for (auto uv : json::ObjectOf(v)) {
        EXPECT_EQ(uncovered[std::string(uv.key)], StringList(uv.value)) << at << ": " << uv.key;
      }
    } else if (key == "unattributed") {
      CheckSummary(t.unattributed, v, at);
    } else if (key == "canonical") {
      ASSERT_TRUE(t.identity) << at;
      EXPECT_EQ(t.identity->canonical, v.get_string().value()) << at;
    } else if (key == "keys") {
      ASSERT_TRUE(t.identity) << at;
      std::vector<std::string> got;
      for (const auto& k : t.identity->keys) got.push_back(k.row.key);
      EXPECT_EQ(got, StringList(v)) << at;
    } else if (key == "owner" || key == "sponsor" || key == "kind") {
      ASSERT_TRUE(t.identity) << at;
      const std::string& got = key == "owner"     ? t.identity->owner
                               : key == "sponsor" ? t.identity->sponsor
                                                  : t.identity->kind;
      EXPECT_EQ(got, v.get_string().value()) << at;
    } else {
      ADD_FAILURE() << at << ": unknown expectation";
    }
  }
}

class ScenarioTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ScenarioTest, TraceMatchesExpectationsInEveryArrivalOrderAndAfterRebuild) {
  const std::string name = GetParam();
  std::vector<std::string> lines = Lines(ReadAll(ScenarioDir() / (name + ".jsonl")));
  std::string expect_text = ReadAll(ScenarioDir() / (name + ".expect.json"));
  simdjson::dom::parser parser;
  simdjson::dom::element expect;
  ASSERT_EQ(parser.parse(expect_text).get(expect), simdjson::SUCCESS) << name << ".expect.json";
  ASSERT_FALSE(lines.empty());

  std::vector<size_t> order(lines.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;

  // (1) File order, one batch.
  ScenarioRun base;
  ASSERT_NO_FATAL_FAILURE(base.Ingest(lines, order, lines.size()));
  std::string snapshot = base.Snapshot();
  size_t n = 0;
  for (auto check : json::ArrayOf(expect["checks"])) {
    Check(base, check, name + " check " + std::to_string(n++));
  }

  // (3) Rebuild from scratch reproduces the tables byte for byte.
  std::string before = base.Raw();
  ASSERT_TRUE(DerivedState::Rebuild(base.store()).ok());
  EXPECT_EQ(base.Raw(), before) << name << ": rebuild differs from the incremental state";

  // (2) Other arrival orders: reversed, and shuffles with random batch sizes (late events,
  // revocations before issuance, actions before their grant).
  std::mt19937 rng(static_cast<uint32_t>(std::hash<std::string>{}(name)));
  std::vector<std::vector<size_t>> orders;
  orders.emplace_back(order.rbegin(), order.rend());
  for (int i = 0; i < 12; ++i) {
    std::shuffle(order.begin(), order.end(), rng);
    orders.push_back(order);
  }
  for (size_t k = 0; k < orders.size(); ++k) {
    size_t per_batch = k == 0 ? 1 : 1 + rng() % lines.size();
    ScenarioRun run;
    ASSERT_NO_FATAL_FAILURE(run.Ingest(lines, orders[k], per_batch));
    EXPECT_EQ(run.Snapshot(), snapshot) << name << ": arrival order " << k << " (batches of "
                                        << per_batch << ") gives different derived state";
    n = 0;
    for (auto check : json::ArrayOf(expect["checks"])) {
      Check(run, check, name + " order " + std::to_string(k) + " check " + std::to_string(n++));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Trace, ScenarioTest, ::testing::ValuesIn(ScenarioNames()),
                         [](const auto& p) {
                           std::string s = p.param;
                           std::replace(s.begin(), s.end(), '-', '_');
                           return s;
                         });

}  // namespace
}  // namespace nhitrace::correlate
