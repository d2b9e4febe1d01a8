// Case events: every op encodes into an event that the native decoder accepts and decodes back
// to the same op; malformed case events are rejected naming the field; events that do not fit
// their case (ingested from outside, out of sequence) are recorded as rejected, never fail a
// batch, and a rebuild rejects exactly the same ones.
#include "cases/case_event.h"

#include <gtest/gtest.h>

#include "base/time.h"
#include "cases/fold.h"
#include "cases/projection.h"
#include "event/codec.h"
#include "json/canonical.h"
#include "testing/ledger_fixture.h"

namespace nhitrace::cases {
namespace {

constexpr int64_t kT = 1772323200LL * 1000000000LL;  // 2026-03-01T00:00:00Z

std::vector<CaseOp> OneOfEach() {
  std::vector<CaseOp> ops;
  auto add = [&](OpType t) -> CaseOp& {
    CaseOp op;
    op.type = t;
    op.case_id = 42;
    op.op_seq = t == OpType::kOpen ? 1 : static_cast<uint32_t>(ops.size() + 1);
    ops.push_back(op);
    return ops.back();
  };
  {
    CaseOp& o = add(OpType::kOpen);
    o.kind = CaseKind::kIncident;
    o.severity = Severity::kCritical;
    o.title = "Leaked key ü";
    o.description = "multi\nline";
    o.requester = "alice";
    o.links.identities = {"aws:accesskey:AKIA1"};
    o.links.events = {3, 4};
    o.links.chains = {"CHG-1"};
    o.finding = "F-1";
    o.rule = "r";
    o.reporter = "r@x";
    o.channel = "chat";
    o.timers = TimerPlan{kT + 1000, kT + 2000, {{1, "lead", kT + 3000}}};
  }
  {
    CaseOp& o = add(OpType::kSet);
    o.severity = Severity::kLow;
    o.title = "t2";
    o.timers = TimerPlan{std::nullopt, kT, {}};
  }
  add(OpType::kAssign).owner = "bob";
  {
    CaseOp& o = add(OpType::kTransition);
    o.from = CaseState::kOpen;
    o.to = CaseState::kTriage;
  }
  add(OpType::kComment).text = "hello\tworld";
  {
    CaseOp& o = add(OpType::kTask);
    o.task_id = 1;
    o.task_action = "add";
    o.task_title = "do it";
    o.task_owner = "bob";
    o.task_due_ns = kT + 7;
  }
  {
    CaseOp& o = add(OpType::kAttach);
    o.attachment_id = 1;
    o.name = "a.png";
    o.media_type = "image/png";
    o.url = "https://x/y";
    o.sha256_hex = std::string(64, 'a');
    o.size = 12;
    o.stored = true;
  }
  add(OpType::kLink).links.tickets = {"INC-1"};
  {
    CaseOp& o = add(OpType::kDecide);
    o.decision_id = 1;
    o.outcome = Outcome::kOverride;
    o.signal_events = {1};
    o.signal_findings = {"F-1"};
    o.overrides_event = 9;
    o.automated_deny = true;
    o.control_owner = "dmitri";
    o.subject_identity = "aws:accesskey:AKIA1";
  }
  {
    CaseOp& o = add(OpType::kExcept);
    o.decision_id = 2;
    o.outcome = Outcome::kException;
    o.expires_ns = kT + 100;
    o.review_ns = kT + 50;
    o.compensating_controls = {"c1", "c2"};
    o.subject_correlation_key = "CHG-1";
  }
  {
    CaseOp& o = add(OpType::kAcceptRisk);
    o.decision_id = 1;
    o.until_ns = kT + 5;
  }
  {
    CaseOp& o = add(OpType::kVerify);
    o.result = "passed";
    o.text = "ok";
    o.evidence = {5};
  }
  {
    CaseOp& o = add(OpType::kSupport);
    o.affected_identity = "k8s:sa:a/b";
    o.entitlement_diff = "+read";
    o.approved_change = "CHG-2";
    o.remediation = "granted";
  }
  {
    CaseOp& o = add(OpType::kClose);
    o.from = CaseState::kVerifying;
    o.resolution = Resolution::kResolved;
    o.criteria = {{"owner_assigned", true, "owner bob", {}}, {"tasks_done", true, "", {7, 8}}};
  }
  {
    CaseOp& o = add(OpType::kReopen);
    o.from = CaseState::kClosed;
    o.cause = "exception_expired";
    o.timers = TimerPlan{kT, std::nullopt, {}};
  }
  {
    CaseOp& o = add(OpType::kEscalate);
    o.level = 2;
    o.owner = "ciso";
    o.cause = "sla";
    o.due_ns = kT + 9;
  }
  {
    CaseOp& o = add(OpType::kSlaBreach);
    o.timer = "resolve";
    o.due_ns = kT;
  }
  {
    CaseOp& o = add(OpType::kExceptionExpired);
    o.decision_id = 2;
    o.due_ns = kT + 100;
    o.finding = "F-9";
  }
  {
    CaseOp& o = add(OpType::kReviewDue);
    o.decision_id = 2;
    o.due_ns = kT + 50;
  }
  {
    CaseOp& o = add(OpType::kJoin);
    o.finding = "F-2";
    o.rule = "r2";
    o.severity = Severity::kHigh;
    o.links.events = {11};
  }
  return ops;
}

TEST(CaseEvent, EveryOpRoundTripsThroughTheNativeDecoder) {
  auto ops = OneOfEach();
  ASSERT_EQ(ops.size(), 20u);  // one per OpType
  for (const CaseOp& op : ops) {
    std::string name(OpTypeName(op.type));
    auto e = BuildCaseEvent(op, {"alice", "human"}, kT + 123456789, "because",
                            event::PolicyRef{"corp", "3", "sha256:ab"});
    ASSERT_TRUE(e.ok()) << name << ": " << e.status().ToString();
    EXPECT_EQ(e->kind, event::Kind::kCase);
    EXPECT_EQ(e->source_system, "nhitrace-cases");
    EXPECT_EQ(e->source_event_id, "42/" + std::to_string(op.op_seq));
    EXPECT_EQ(e->time, "2026-03-01T00:00:00.123456Z");  // microseconds
    EXPECT_EQ(e->rationale, "because");
    auto canon = json::Canonicalize(e->attributes);
    ASSERT_TRUE(canon.ok());
    EXPECT_EQ(*canon, e->attributes) << name << ": attributes are canonical JSON";
    auto back = DecodeCaseEvent(*e);
    ASSERT_TRUE(back.ok()) << name << ": " << back.status().ToString() << "\n" << e->attributes;
    EXPECT_EQ(*back, op) << name << "\n" << e->attributes;
  }
}

TEST(CaseEvent, LimitsAreTheCodecs) {
  CaseOp op = OneOfEach()[0];
  auto e = BuildCaseEvent(op, {"alice", "robot"}, kT, "", std::nullopt);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("actor.type"), std::string::npos) << e.status().message();
  e = BuildCaseEvent(op, {"alice", "human"}, kT, std::string(70000, 'x'), std::nullopt);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("rationale"), std::string::npos) << e.status().message();
}

event::Event Good(std::string attributes, std::string id = "7/2") {
  event::Event e;
  e.kind = event::Kind::kCase;
  e.source_system = "nhitrace-cases";
  e.source_event_id = std::move(id);
  e.time = "2026-03-01T00:00:00Z";
  e.time_ns = kT;
  e.actor = event::Actor{"bob", "human"};
  e.attributes = std::move(attributes);
  return e;
}

TEST(CaseEvent, MalformedEventsAreRejectedNamingTheField) {
  struct Case {
    event::Event e;
    const char* message;
  } cases[] = {
      {Good(R"({"case":7,"op":"assign","op_seq":2,"owner":"x"})", "7-2"),
       "source.event_id: must be \"<case id>/<op seq>\""},
      {Good(R"({"case":7,"op":"assign","op_seq":2,"owner":"x"})", "07/2"), "source.event_id"},
      {Good(R"({"case":7,"op":"assign","op_seq":2,"owner":"x"})", "7/0"), "source.event_id"},
      {Good(R"({"case":8,"op":"assign","op_seq":2,"owner":"x"})"),
       "case 8 op 2 disagrees with source.event_id \"7/2\""},
      {Good(R"({"case":7,"op":"fly","op_seq":2})"), "attributes.op: unknown operation \"fly\""},
      {Good(R"({"case":7,"op":"open","op_seq":2})"), "a case begins with op 1"},
      {Good(R"({"case":7,"op":"assign","op_seq":2})"), "attributes.owner: required"},
      {Good(R"({"case":7,"op":"assign","op_seq":2,"owner":"x","extra":1})"),
       "attributes.extra: unknown member"},
      {Good(R"({"case":7,"op":"transition","op_seq":2,"from":"open","to":"done"})"),
       "attributes.to: unknown value \"done\""},
      {Good(R"({"case":7,"op":"decide","op_seq":2,"decision_id":1,"decision":"override"})"),
       "attributes.overrides: present exactly when the decision is override"},
      {Good(R"({"case":7,"op":"decide","op_seq":2,"decision_id":1,"decision":"exception"})"),
       "exceptions are recorded by the \"except\" op"},
      {Good(
           R"({"case":7,"op":"attach","op_seq":2,"attachment":1,"name":"a","sha256":"AB","stored":false})"),
       "attributes.sha256: must be 64 lower-case hex digits"},
      {Good(R"({"case":7,"op":"task","op_seq":2,"task":1,"action":"add"})"),
       "attributes.title: required"},
      {Good(R"({"case":7,"op":"link","op_seq":2,"links":{}})"),
       "attributes.links: must link something"},
      {Good(
           R"({"case":7,"op":"except","op_seq":2,"decision_id":1,"decision":"exception","expires":"tomorrow","review_by":"2026-03-01T00:00:00Z","compensating_controls":["c"]})"),
       "attributes.expires: not an RFC 3339"},
      {Good(""), "attributes: required for a case event"},
  };
  for (const auto& c : cases) {
    auto op = DecodeCaseEvent(c.e);
    ASSERT_FALSE(op.ok()) << c.message;
    EXPECT_NE(op.status().message().find(c.message), std::string::npos)
        << "want \"" << c.message << "\" in: " << op.status().message();
  }
  event::Event other = Good(R"({"case":7,"op":"assign","op_seq":2,"owner":"x"})");
  other.source_system = "jira";
  auto op = DecodeCaseEvent(other);
  ASSERT_FALSE(op.ok());
  EXPECT_NE(op.status().message().find("case events come from nhitrace-cases"), std::string::npos);
}

TEST(Fold, RefusesEventsThatDoNotFitTheCase) {
  std::optional<CaseView> v;
  auto apply = [&](const std::string& attrs, const std::string& id) {
    event::Event e = Good(attrs, id);
    auto op = DecodeCaseEvent(e);
    EXPECT_TRUE(op.ok()) << op.status().ToString();
    return ApplyCaseEvent(e, 100, *op, &v);
  };
  Status s = apply(R"({"case":7,"op":"assign","op_seq":2,"owner":"x"})", "7/2");
  EXPECT_NE(s.message().find("no such case"), std::string::npos) << s.message();
  ASSERT_TRUE(
      apply(
          R"({"case":7,"op":"open","op_seq":1,"kind":"alert","severity":"low","title":"t","requester":"r"})",
          "7/1")
          .ok());
  s = apply(R"({"case":7,"op":"assign","op_seq":3,"owner":"x"})", "7/3");
  EXPECT_NE(s.message().find("expected op 2 next"), std::string::npos) << s.message();
  s = apply(R"({"case":7,"op":"transition","op_seq":2,"from":"triage","to":"investigating"})",
            "7/2");
  EXPECT_NE(s.message().find("says the case was triage, but it is open"), std::string::npos)
      << s.message();
  s = apply(R"({"case":7,"op":"task","op_seq":2,"task":5,"action":"done"})", "7/2");
  EXPECT_NE(s.message().find("no task 5"), std::string::npos) << s.message();
  s = apply(R"({"case":7,"op":"accept_risk","op_seq":2,"decision_id":1})", "7/2");
  EXPECT_NE(s.message().find("no decision 1"), std::string::npos) << s.message();
  s = apply(
      R"({"case":7,"op":"decide","op_seq":2,"decision_id":1,"decision":"override","overrides":{"decision":1,"automated":true},"control_owner":"d"})",
      "7/2");
  EXPECT_NE(s.message().find("is not a deny of this case"), std::string::npos) << s.message();
  // Nothing above changed the case.
  EXPECT_EQ(v->op_count, 1u);
  EXPECT_TRUE(v->decisions.empty());
  // The control owner, and only they, may accept.
  ASSERT_TRUE(
      apply(R"({"case":7,"op":"decide","op_seq":2,"decision_id":1,"decision":"deny"})", "7/2")
          .ok());
  ASSERT_TRUE(
      apply(
          R"({"case":7,"op":"decide","op_seq":3,"decision_id":2,"decision":"override","overrides":{"decision":1,"automated":false},"control_owner":"dmitri"})",
          "7/3")
          .ok());
  s = apply(R"({"case":7,"op":"accept_risk","op_seq":4,"decision_id":2})", "7/4");  // actor bob
  EXPECT_NE(s.message().find("only the named control owner dmitri"), std::string::npos)
      << s.message();
  EXPECT_EQ(v->decision(2)->status, "pending_risk_acceptance");
}

// Events of kind case appended by anyone (an ingest of someone else's records) are folded when
// they fit and recorded as rejected when they do not; a rebuild agrees.
TEST(Projection, ForeignAndMisfitCaseEventsAreRecordedNotFatal) {
  testing::LedgerFixture f;
  f.set_durable(false);
  ASSERT_TRUE(f.Init().ok());
  auto l = f.Open();
  ASSERT_TRUE(l.ok());
  CaseProjection proj((*l)->store());
  (*l)->AddObserver(&proj);
  auto line = [](const std::string& system, const std::string& id, const std::string& attrs) {
    return R"({"v":1,"kind":"case","source":{"system":")" + system + R"(","event_id":")" + id +
           R"("},"time":"2026-03-01T10:00:00Z","actor":{"id":"eve","type":"human"},"attributes":)" +
           attrs + "}";
  };
  std::vector<std::string> lines = {
      line(
          "nhitrace-cases", "1/1",
          R"({"case":1,"op":"open","op_seq":1,"kind":"alert","severity":"low","title":"t","requester":"eve"})"),
      line("nhitrace-cases", "1/3", R"({"case":1,"op":"assign","op_seq":3,"owner":"x"})"),
      line("jira", "1/2", R"({"case":1,"op":"assign","op_seq":2,"owner":"x"})"),
      line("nhitrace-cases", "1/2", R"({"case":1,"op":"assign","op_seq":2,"owner":"mallory"})"),
      line("nhitrace-cases", "2/1", R"({"case":2,"op":"assign","op_seq":1,"owner":"x"})"),
      line("nhitrace-cases", "1/1x", R"({})"),
  };
  auto batch = (*l)->BeginBatch();
  ASSERT_TRUE(batch.ok());
  for (const auto& text : lines) {
    auto o = (*batch)->Append(testing::Record(text), text);
    ASSERT_TRUE(o.ok()) << o.status().ToString();
  }
  ASSERT_TRUE((*batch)->Commit().ok());
  batch = Status(StatusCode::kAborted, "done");  // closes the batch's transaction
  store::Store& store = (*l)->store();
  auto rejected = store.ListCaseRejections();
  ASSERT_TRUE(rejected.ok());
  ASSERT_EQ(rejected->size(), 4u);
  EXPECT_EQ((*rejected)[0].first, 1u);
  EXPECT_NE((*rejected)[0].second.find("expected op 2 next"), std::string::npos);
  EXPECT_NE((*rejected)[1].second.find("case events come from nhitrace-cases"), std::string::npos);
  EXPECT_NE((*rejected)[2].second.find("a case begins with op 1"), std::string::npos);
  EXPECT_NE((*rejected)[3].second.find("source.event_id"), std::string::npos);
  auto c = store.GetCase(1);
  ASSERT_TRUE(c.ok() && c->has_value());
  EXPECT_EQ((*c)->owner, "mallory");
  EXPECT_EQ((*c)->op_count, 2u);

  auto before = *store.ListCaseRejections();
  auto row_before = **store.GetCase(1);
  Status rebuilt = CaseProjection::Rebuild(store);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.ToString();
  EXPECT_EQ(*store.ListCaseRejections(), before);
  EXPECT_EQ(**store.GetCase(1), row_before);
  EXPECT_EQ(*store.ListCaseEventSeqs(1), (std::vector<uint64_t>{0, 3}));
}

}  // namespace
}  // namespace nhitrace::cases
