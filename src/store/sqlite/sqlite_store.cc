#include "store/sqlite/sqlite_store.h"

#include <cstring>
#include <map>

#include <fcntl.h>
#include <unistd.h>

#include "base/file.h"
#include "store/sqlite/reconcile_tables.h"
#include "store/sqlite/schema.h"
#include "store/sqlite/sqlite_handle.h"

namespace nhitrace::store::sqlite {
namespace {

constexpr char kEventColumns[] =
    "seq, leaf, leaf_hash, content_hash, kind, time_ns, ingested_ns, source_system, "
    "source_event_id, correlation_key, identity_key, actor_id, raw_id, tree_nodes";
// The same of the events table named "e" in a join.
constexpr char kEventColumnsOfE[] =
    "e.seq, e.leaf, e.leaf_hash, e.content_hash, e.kind, e.time_ns, e.ingested_ns, "
    "e.source_system, e.source_event_id, e.correlation_key, e.identity_key, e.actor_id, e.raw_id, "
    "e.tree_nodes";

Result<Hash> HashColumn(const Statement& s, int col, std::string_view what) {
  auto h = crypto::HashFromBytes(s.ColumnBlob(col));
  if (!h) return DataLossError(std::string(what) + " is not a 32-byte hash");
  return *h;
}

Result<EventRow> ReadEventRow(const Statement& s) {
  EventRow r;
  r.seq = static_cast<uint64_t>(s.ColumnInt(0));
  r.leaf = std::string(s.ColumnBlob(1));
  auto h = crypto::HashFromBytes(s.ColumnBlob(2));
  if (!h) return DataLossError("event " + std::to_string(r.seq) + ": leaf_hash is not 32 bytes");
  r.leaf_hash = *h;
  r.content_hash = std::string(s.ColumnBlob(3));
  r.kind = std::string(s.ColumnText(4));
  r.time_ns = s.ColumnInt(5);
  r.ingested_ns = s.ColumnInt(6);
  r.source_system = std::string(s.ColumnText(7));
  r.source_event_id = std::string(s.ColumnText(8));
  r.correlation_key = std::string(s.ColumnText(9));
  r.identity_key = std::string(s.ColumnText(10));
  r.actor_id = std::string(s.ColumnText(11));
  if (!s.ColumnIsNull(12)) r.raw_id = s.ColumnInt(12);
  r.tree_nodes = std::string(s.ColumnBlob(13));
  return r;
}

RawRow ReadRawRow(const Statement& s) {
  RawRow r;
  r.id = s.ColumnInt(0);
  r.salt = std::string(s.ColumnBlob(1));
  r.bytes = std::string(s.ColumnBlob(2));
  r.salted_sha256 = std::string(s.ColumnBlob(3));
  r.size = static_cast<uint64_t>(s.ColumnInt(4));
  if (!s.ColumnIsNull(5)) r.erased_ns = s.ColumnInt(5);
  return r;
}

Result<CheckpointRow> ReadCheckpointRow(const Statement& s) {
  CheckpointRow r;
  r.size = static_cast<uint64_t>(s.ColumnInt(0));
  NHI_ASSIGN_OR_RETURN(r.root, HashColumn(s, 1, "checkpoint root"));
  r.note = std::string(s.ColumnText(2));
  r.created_ns = s.ColumnInt(3);
  return r;
}

constexpr char kIdentityKeyColumns[] =
    "key, canonical, first_seen_ns, last_seen_ns, last_action_ns, event_count, action_count, "
    "subject_kind, subject_name, owner, sponsor, system, facts_provenance";
constexpr char kGrantColumns[] =
    "correlation_key, identity_key, status, start_ns, end_ns, first_use_seq, issue_count, doc";

std::optional<int64_t> OptInt(const Statement& s, int col) {
  if (s.ColumnIsNull(col)) return std::nullopt;
  return s.ColumnInt(col);
}

IdentityKeyRow ReadIdentityKeyRow(const Statement& s) {
  IdentityKeyRow r;
  r.key = std::string(s.ColumnText(0));
  r.canonical = std::string(s.ColumnText(1));
  r.first_seen_ns = s.ColumnInt(2);
  r.last_seen_ns = s.ColumnInt(3);
  r.last_action_ns = OptInt(s, 4);
  r.event_count = static_cast<uint64_t>(s.ColumnInt(5));
  r.action_count = static_cast<uint64_t>(s.ColumnInt(6));
  r.subject_kind = std::string(s.ColumnText(7));
  r.subject_name = std::string(s.ColumnText(8));
  r.owner = std::string(s.ColumnText(9));
  r.sponsor = std::string(s.ColumnText(10));
  r.system = std::string(s.ColumnText(11));
  r.facts_provenance = std::string(s.ColumnText(12));
  return r;
}

GrantRow ReadGrantRow(const Statement& s) {
  GrantRow g;
  g.correlation_key = std::string(s.ColumnText(0));
  g.identity_key = std::string(s.ColumnText(1));
  g.status = std::string(s.ColumnText(2));
  g.start_ns = s.ColumnInt(3);
  g.end_ns = s.ColumnInt(4);
  if (auto v = OptInt(s, 5)) g.first_use_seq = static_cast<uint64_t>(*v);
  g.issue_count = static_cast<uint32_t>(s.ColumnInt(6));
  g.doc = std::string(s.ColumnText(7));
  return g;
}

constexpr char kApiTokenColumns[] = "id, name, role, token_sha256, created_ns, revoked_ns";
constexpr char kApiAuditColumns[] =
    "id, time_ns, request_id, token_id, token_name, role, action, first_seq, event_count, detail";

ApiTokenRow ReadApiTokenRow(const Statement& s) {
  ApiTokenRow t;
  t.id = std::string(s.ColumnText(0));
  t.name = std::string(s.ColumnText(1));
  t.role = std::string(s.ColumnText(2));
  t.token_sha256 = std::string(s.ColumnBlob(3));
  t.created_ns = s.ColumnInt(4);
  t.revoked_ns = OptInt(s, 5);
  return t;
}

ApiAuditRow ReadApiAuditRow(const Statement& s) {
  ApiAuditRow a;
  a.id = s.ColumnInt(0);
  a.time_ns = s.ColumnInt(1);
  a.request_id = std::string(s.ColumnText(2));
  a.token_id = std::string(s.ColumnText(3));
  a.token_name = std::string(s.ColumnText(4));
  a.role = std::string(s.ColumnText(5));
  a.action = std::string(s.ColumnText(6));
  if (auto v = OptInt(s, 7)) a.first_seq = static_cast<uint64_t>(*v);
  a.event_count = static_cast<uint64_t>(s.ColumnInt(8));
  a.detail = std::string(s.ColumnText(9));
  return a;
}

// Steps `s` to completion, calling `fn` for each row.
template <typename Fn>
Status ForEachRow(Statement& s, Fn&& fn);

constexpr char kCaseColumns[] =
    "id, kind, state, severity, title, owner, requester, opened_ns, updated_ns, closed_ns, "
    "next_due_ns, op_count, last_seq, escalation_level, open_tasks";

// Into `c`, reusing its strings' buffers (a scan of 100k rows then allocates almost nothing).
void ReadCaseRowInto(const Statement& s, CaseRow& c) {
  c.id = static_cast<uint64_t>(s.ColumnInt(0));
  c.kind.assign(s.ColumnText(1));
  c.state.assign(s.ColumnText(2));
  c.severity.assign(s.ColumnText(3));
  c.title.assign(s.ColumnText(4));
  c.owner.assign(s.ColumnText(5));
  c.requester.assign(s.ColumnText(6));
  c.opened_ns = s.ColumnInt(7);
  c.updated_ns = s.ColumnInt(8);
  c.closed_ns = OptInt(s, 9);
  c.next_due_ns = OptInt(s, 10);
  c.op_count = static_cast<uint32_t>(s.ColumnInt(11));
  c.last_seq = static_cast<uint64_t>(s.ColumnInt(12));
  c.escalation_level = static_cast<uint32_t>(s.ColumnInt(13));
  c.open_tasks = static_cast<uint32_t>(s.ColumnInt(14));
}

CaseRow ReadCaseRow(const Statement& s) {
  CaseRow c;
  ReadCaseRowInto(s, c);
  return c;
}

void BindOptInt(Statement& s, int i, const std::optional<int64_t>& v) {
  if (v) {
    s.BindInt(i, *v);
  } else {
    s.BindNull(i);
  }
}

constexpr char kActionColumns[] = "identity_key, time_ns, seq, flags, credential, scope";
constexpr int64_t kActionFailed = 1, kActionDelegated = 2;  // the flags column

void ReadActionRowInto(const Statement& s, ActionRow& a) {
  a.identity_key.assign(s.ColumnText(0));
  a.time_ns = s.ColumnInt(1);
  a.seq = static_cast<uint64_t>(s.ColumnInt(2));
  const int64_t flags = s.ColumnInt(3);
  a.failed = (flags & kActionFailed) != 0;
  a.delegated = (flags & kActionDelegated) != 0;
  a.credential.assign(s.ColumnText(4));
  a.scope.assign(s.ColumnText(5));
}

// Steps `s` to completion, calling `fn` for each row.
template <typename Fn>
Status ForEachRow(Statement& s, Fn&& fn) {
  for (;;) {
    NHI_ASSIGN_OR_RETURN(auto r, s.Step());
    if (r == Statement::StepResult::kDone) return OkStatus();
    NHI_RETURN_IF_ERROR(fn(s));
  }
}

class SqliteStore;

// Reads node hashes with the store's prepared statements; used both inside and outside a write
// transaction (SQLite shows a connection its own uncommitted writes).
class SqliteNodeReader final : public tlog::NodeReader {
 public:
  explicit SqliteNodeReader(SqliteStore* store) : store_(store) {}
  Result<std::vector<Hash>> ReadNodes(std::span<const NodeId> ids) override;

 private:
  SqliteStore* store_;
};

class SqliteWriteTxn;

class SqliteStore final : public Store {
 public:
  SqliteStore(DbPtr db, bool durable) : db_(std::move(db)), durable_(durable), reader_(this) {}

  Status Init(const StoreOptions& options);

  std::string_view backend() const override { return "sqlite"; }
  int schema_version() const override { return schema_version_; }

  Result<std::optional<std::string>> GetMeta(std::string_view key) override {
    ResetGuard g(get_meta_);
    get_meta_.BindText(1, key, true);
    NHI_ASSIGN_OR_RETURN(auto r, get_meta_.Step());
    if (r == Statement::StepResult::kDone) return std::optional<std::string>();
    return std::optional<std::string>(std::string(get_meta_.ColumnBlob(0)));
  }

  Result<uint64_t> EventCount() override {
    ResetGuard g(max_seq_);
    NHI_ASSIGN_OR_RETURN(auto r, max_seq_.Step());
    if (r == Statement::StepResult::kDone || max_seq_.ColumnIsNull(0)) return uint64_t{0};
    return static_cast<uint64_t>(max_seq_.ColumnInt(0)) + 1;
  }

  Result<std::optional<EventRow>> GetEvent(uint64_t seq) override {
    ResetGuard g(get_event_);
    get_event_.BindInt(1, static_cast<int64_t>(seq));
    NHI_ASSIGN_OR_RETURN(auto r, get_event_.Step());
    if (r == Statement::StepResult::kDone) return std::optional<EventRow>();
    NHI_ASSIGN_OR_RETURN(EventRow row, ReadEventRow(get_event_));
    return std::optional<EventRow>(std::move(row));
  }

  Result<std::optional<RawRow>> GetRaw(int64_t id) override {
    ResetGuard g(get_raw_);
    get_raw_.BindInt(1, id);
    NHI_ASSIGN_OR_RETURN(auto r, get_raw_.Step());
    if (r == Statement::StepResult::kDone) return std::optional<RawRow>();
    return std::optional<RawRow>(ReadRawRow(get_raw_));
  }

  Result<std::optional<RawRow>> GetRawForEvent(uint64_t seq) override {
    NHI_ASSIGN_OR_RETURN(auto ev, GetEvent(seq));
    if (!ev || !ev->raw_id) return std::optional<RawRow>();
    return GetRaw(*ev->raw_id);
  }

  Result<std::vector<EventRow>> QueryEvents(const EventQuery& q) override {
    // Only the conditions that are set are added, so SQLite can use the matching index; every
    // value is bound, never spliced into the SQL text. The few distinct shapes of this query
    // are prepared once each.
    std::vector<std::string_view> kinds(q.kinds.begin(), q.kinds.end());
    if (!q.kind.empty()) kinds.push_back(q.kind);
    if (q.identity_key.empty()) return RunEventQuery(q, "events", "", kinds);
    // By identity: events_by_identity holds every kind but actions, which the actions table
    // holds in time order (migration 7). Each part comes sorted and limited; merged here.
    const bool all_kinds = kinds.empty();
    std::vector<std::string_view> others;
    bool actions = all_kinds;
    for (std::string_view k : kinds) {
      if (k == "action") {
        actions = true;
      } else {
        others.push_back(k);
      }
    }
    std::vector<EventRow> a, b;
    if (actions) {
      NHI_ASSIGN_OR_RETURN(
          a, RunEventQuery(q, "actions AS a CROSS JOIN events AS e", "a.seq = e.seq", {}));
    }
    if (all_kinds || !others.empty()) {
      NHI_ASSIGN_OR_RETURN(b, RunEventQuery(q, "events", "kind <> 'action'", others));
    }
    if (a.empty()) return b;
    if (b.empty()) return a;
    std::vector<EventRow> out;
    out.reserve(std::min(q.limit, a.size() + b.size()));
    auto less = [](const EventRow& x, const EventRow& y) {
      return x.time_ns != y.time_ns ? x.time_ns < y.time_ns : x.seq < y.seq;
    };
    size_t i = 0, j = 0;
    while (out.size() < q.limit && (i < a.size() || j < b.size())) {
      if (j == b.size() || (i < a.size() && less(a[i], b[j]))) {
        out.push_back(std::move(a[i++]));
      } else {
        out.push_back(std::move(b[j++]));
      }
    }
    return out;
  }

  // One part of QueryEvents: `from` is "events", or the actions table joined to the events as
  // "a" and "e" (its conditions on identity and time then go to the actions table's key);
  // `where` an extra literal condition.
  Result<std::vector<EventRow>> RunEventQuery(const EventQuery& q, std::string_view from,
                                              std::string_view where,
                                              const std::vector<std::string_view>& kinds) {
    const bool joined = from != "events";
    const std::string e = joined ? "e." : "", k = joined ? "a." : "";
    std::string sql = "SELECT ";
    if (joined) {
      sql += kEventColumnsOfE;
    } else {
      sql += kEventColumns;
    }
    sql += " FROM " + std::string(from) + " WHERE 1";
    if (!where.empty()) sql += " AND " + std::string(where);
    if (!q.correlation_key.empty()) sql += " AND " + e + "correlation_key = ?1";
    if (!q.identity_key.empty()) sql += " AND " + k + "identity_key = ?2";
    if (q.from_ns) sql += " AND " + k + "time_ns >= ?3";
    if (q.to_ns) sql += " AND " + k + "time_ns < ?4";
    if (!kinds.empty()) {
      sql += " AND " + e + "kind IN (";
      for (size_t i = 0; i < kinds.size(); ++i) sql += (i ? ", ?" : "?") + std::to_string(6 + i);
      sql += ")";
    }
    sql += " ORDER BY " + k + "time_ns, " + k + "seq LIMIT ?5";
    NHI_ASSIGN_OR_RETURN(Statement * s, Cached(sql));
    ResetGuard g(*s);
    if (!q.correlation_key.empty()) s->BindText(1, q.correlation_key, true);
    if (!q.identity_key.empty()) s->BindText(2, q.identity_key, true);
    if (q.from_ns) s->BindInt(3, *q.from_ns);
    if (q.to_ns) s->BindInt(4, *q.to_ns);
    s->BindInt(5, static_cast<int64_t>(std::min<size_t>(q.limit, INT64_MAX)));
    for (size_t i = 0; i < kinds.size(); ++i) s->BindText(static_cast<int>(6 + i), kinds[i], true);
    std::vector<EventRow> out;
    for (;;) {
      NHI_ASSIGN_OR_RETURN(auto r, s->Step());
      if (r == Statement::StepResult::kDone) return out;
      NHI_ASSIGN_OR_RETURN(EventRow row, ReadEventRow(*s));
      out.push_back(std::move(row));
    }
  }

  // A statement prepared once per distinct SQL text (for queries built from filters).
  Result<Statement*> Cached(const std::string& sql) {
    auto it = cached_.find(sql);
    if (it == cached_.end()) {
      if (cached_.size() > 256) cached_.clear();  // bounded; the shapes are few in practice
      NHI_ASSIGN_OR_RETURN(Statement st, Statement::Prepare(db_.get(), sql));
      it = cached_.emplace(sql, std::move(st)).first;
    }
    return &it->second;
  }

  Status ScanEvents(uint64_t from, const std::function<Status(const EventRow&)>& fn) override {
    NHI_ASSIGN_OR_RETURN(
        Statement s,
        Statement::Prepare(db_.get(), std::string("SELECT ") + kEventColumns +
                                          " FROM events WHERE seq >= ?1 ORDER BY seq"));
    s.BindInt(1, static_cast<int64_t>(from));
    for (;;) {
      NHI_ASSIGN_OR_RETURN(auto r, s.Step());
      if (r == Statement::StepResult::kDone) return OkStatus();
      NHI_ASSIGN_OR_RETURN(EventRow row, ReadEventRow(s));
      NHI_RETURN_IF_ERROR(fn(row));
    }
  }

  tlog::NodeReader& nodes() override { return reader_; }

  Result<std::optional<CheckpointRow>> LatestCheckpoint() override {
    ResetGuard g(latest_cp_);
    NHI_ASSIGN_OR_RETURN(auto r, latest_cp_.Step());
    if (r == Statement::StepResult::kDone) return std::optional<CheckpointRow>();
    NHI_ASSIGN_OR_RETURN(CheckpointRow row, ReadCheckpointRow(latest_cp_));
    return std::optional<CheckpointRow>(std::move(row));
  }

  Result<std::optional<CheckpointRow>> CheckpointAt(uint64_t size) override {
    ResetGuard g(cp_at_);
    cp_at_.BindInt(1, static_cast<int64_t>(size));
    NHI_ASSIGN_OR_RETURN(auto r, cp_at_.Step());
    if (r == Statement::StepResult::kDone) return std::optional<CheckpointRow>();
    NHI_ASSIGN_OR_RETURN(CheckpointRow row, ReadCheckpointRow(cp_at_));
    return std::optional<CheckpointRow>(std::move(row));
  }

  Result<std::vector<CheckpointRow>> ListCheckpoints() override {
    NHI_ASSIGN_OR_RETURN(Statement s, Statement::Prepare(db_.get(),
                                                         "SELECT size, root, note, created_ns FROM "
                                                         "checkpoints ORDER BY size"));
    std::vector<CheckpointRow> out;
    for (;;) {
      NHI_ASSIGN_OR_RETURN(auto r, s.Step());
      if (r == Statement::StepResult::kDone) return out;
      NHI_ASSIGN_OR_RETURN(CheckpointRow row, ReadCheckpointRow(s));
      out.push_back(std::move(row));
    }
  }

  Result<std::vector<QuarantineRow>> ListQuarantine(int64_t after_id, size_t limit) override {
    NHI_ASSIGN_OR_RETURN(
        Statement s,
        Statement::Prepare(db_.get(),
                           "SELECT id, received_ns, source, line, format, field, reason, raw, "
                           "raw_size, raw_sha256, truncated FROM quarantine WHERE id > ?1 "
                           "ORDER BY id LIMIT ?2"));
    s.BindInt(1, after_id);
    s.BindInt(2, static_cast<int64_t>(limit));
    std::vector<QuarantineRow> out;
    for (;;) {
      NHI_ASSIGN_OR_RETURN(auto r, s.Step());
      if (r == Statement::StepResult::kDone) return out;
      QuarantineRow q;
      q.id = s.ColumnInt(0);
      q.received_ns = s.ColumnInt(1);
      q.source = std::string(s.ColumnText(2));
      q.line = static_cast<uint64_t>(s.ColumnInt(3));
      q.format = std::string(s.ColumnText(4));
      q.field = std::string(s.ColumnText(5));
      q.reason = std::string(s.ColumnText(6));
      q.raw = std::string(s.ColumnBlob(7));
      q.raw_size = static_cast<uint64_t>(s.ColumnInt(8));
      q.raw_sha256 = std::string(s.ColumnBlob(9));
      q.truncated = s.ColumnInt(10) != 0;
      out.push_back(std::move(q));
    }
  }

  Result<uint64_t> QuarantineCount() override {
    NHI_ASSIGN_OR_RETURN(Statement s,
                         Statement::Prepare(db_.get(), "SELECT count(*) FROM quarantine"));
    NHI_ASSIGN_OR_RETURN(auto r, s.Step());
    (void)r;
    return static_cast<uint64_t>(s.ColumnInt(0));
  }

  Result<std::optional<IdentityKeyRow>> GetIdentityKey(std::string_view key) override {
    ResetGuard g(get_identity_key_);
    get_identity_key_.BindText(1, key, true);
    NHI_ASSIGN_OR_RETURN(auto r, get_identity_key_.Step());
    if (r == Statement::StepResult::kDone) return std::optional<IdentityKeyRow>();
    return std::optional<IdentityKeyRow>(ReadIdentityKeyRow(get_identity_key_));
  }

  Result<std::vector<IdentityKeyRow>> ListGroupKeys(std::string_view canonical) override {
    ResetGuard g(list_group_keys_);
    list_group_keys_.BindText(1, canonical, true);
    std::vector<IdentityKeyRow> out;
    NHI_RETURN_IF_ERROR(ForEachRow(list_group_keys_, [&](const Statement& st) {
      out.push_back(ReadIdentityKeyRow(st));
      return OkStatus();
    }));
    return out;
  }

  Result<std::vector<std::string>> ListCanonicalKeys(const IdentityQuery& q) override {
    std::string sql = "SELECT DISTINCT canonical FROM identity_keys WHERE 1";
    if (!q.kind.empty()) sql += " AND subject_kind = ?1";
    if (!q.owner.empty()) sql += " AND owner = ?2";
    sql += " ORDER BY canonical LIMIT ?3";
    NHI_ASSIGN_OR_RETURN(Statement s, Statement::Prepare(db_.get(), sql));
    if (!q.kind.empty()) s.BindText(1, q.kind, true);
    if (!q.owner.empty()) s.BindText(2, q.owner, true);
    s.BindInt(3, static_cast<int64_t>(q.limit));
    std::vector<std::string> out;
    NHI_RETURN_IF_ERROR(ForEachRow(s, [&](const Statement& st) {
      out.emplace_back(st.ColumnText(0));
      return OkStatus();
    }));
    return out;
  }

  Result<std::vector<IdentityLinkRow>> ListLinks(std::string_view key) override {
    ResetGuard g(list_links_);
    list_links_.BindText(1, key, true);
    std::vector<IdentityLinkRow> out;
    NHI_RETURN_IF_ERROR(ForEachRow(list_links_, [&](const Statement& st) {
      out.push_back({std::string(st.ColumnText(0)), std::string(st.ColumnText(1)),
                     static_cast<uint64_t>(st.ColumnInt(2))});
      return OkStatus();
    }));
    return out;
  }

  Result<std::optional<GrantRow>> GetGrant(std::string_view correlation_key) override {
    ResetGuard g(get_grant_);
    get_grant_.BindText(1, correlation_key, true);
    NHI_ASSIGN_OR_RETURN(auto r, get_grant_.Step());
    if (r == Statement::StepResult::kDone) return std::optional<GrantRow>();
    return std::optional<GrantRow>(ReadGrantRow(get_grant_));
  }

  Result<std::vector<GrantRow>> ListGrantsForKey(std::string_view identity_key) override {
    ResetGuard g(list_grants_for_key_);
    list_grants_for_key_.BindText(1, identity_key, true);
    std::vector<GrantRow> out;
    NHI_RETURN_IF_ERROR(ForEachRow(list_grants_for_key_, [&](const Statement& st) {
      out.push_back(ReadGrantRow(st));
      return OkStatus();
    }));
    return out;
  }

  Result<std::optional<EventRow>> FirstEventOf(std::string_view identity_key, std::string_view kind,
                                               int64_t from_ns, int64_t to_ns) override {
    // Actions are in the actions table, every other kind in events_by_identity.
    Statement& st = kind == "action" ? first_action_of_ : first_event_of_;
    ResetGuard g(st);
    st.BindText(1, identity_key, true);
    st.BindText(2, kind, true);
    st.BindInt(3, from_ns);
    st.BindInt(4, to_ns);
    NHI_ASSIGN_OR_RETURN(auto r, st.Step());
    if (r == Statement::StepResult::kDone) return std::optional<EventRow>();
    NHI_ASSIGN_OR_RETURN(EventRow row, ReadEventRow(st));
    return std::optional<EventRow>(std::move(row));
  }

  Status ScanIdentityKeys(const std::function<Status(const IdentityKeyRow&)>& fn) override {
    NHI_ASSIGN_OR_RETURN(
        Statement s, Statement::Prepare(db_.get(), std::string("SELECT ") + kIdentityKeyColumns +
                                                       " FROM identity_keys "
                                                       "ORDER BY key"));
    return ForEachRow(s, [&](const Statement& st) { return fn(ReadIdentityKeyRow(st)); });
  }

  Status ScanIdentityLinks(const std::function<Status(const IdentityLinkRow&)>& fn) override {
    NHI_ASSIGN_OR_RETURN(Statement s,
                         Statement::Prepare(db_.get(),
                                            "SELECT key_a, key_b, seq FROM "
                                            "identity_links ORDER BY key_a, key_b, seq"));
    return ForEachRow(s, [&](const Statement& st) {
      return fn({std::string(st.ColumnText(0)), std::string(st.ColumnText(1)),
                 static_cast<uint64_t>(st.ColumnInt(2))});
    });
  }

  Status ScanGrants(const std::function<Status(const GrantRow&)>& fn) override {
    NHI_ASSIGN_OR_RETURN(Statement s,
                         Statement::Prepare(db_.get(), std::string("SELECT ") + kGrantColumns +
                                                           " FROM grants ORDER BY "
                                                           "correlation_key"));
    return ForEachRow(s, [&](const Statement& st) { return fn(ReadGrantRow(st)); });
  }

  Status ScanActions(const std::function<Status(const ActionRow&)>& fn) override {
    NHI_ASSIGN_OR_RETURN(Statement s,
                         Statement::Prepare(db_.get(), std::string("SELECT ") + kActionColumns +
                                                           " FROM actions ORDER BY identity_key, "
                                                           "time_ns, seq"));
    ActionRow row;
    return ForEachRow(s, [&](const Statement& st) {
      ReadActionRowInto(st, row);
      return fn(row);
    });
  }

  Status ScanActionsOfIdentity(std::string_view identity_key, std::optional<int64_t> from_ns,
                               std::optional<int64_t> to_ns,
                               const std::function<Status(const ActionRow&)>& fn) override {
    // A range of the primary key, with one statement prepared once (a pass scans every
    // identity); a scan started from inside `fn` prepares its own.
    const std::string sql = std::string("SELECT ") + kActionColumns +
                            " FROM actions WHERE identity_key = ?1 AND time_ns >= ?2 AND "
                            "time_ns < ?3 ORDER BY time_ns, seq";
    Statement own;
    Statement* s = &scan_actions_;
    if (scan_actions_busy_) {
      NHI_ASSIGN_OR_RETURN(own, Statement::Prepare(db_.get(), sql));
      s = &own;
    } else if (!scan_actions_prepared_) {
      NHI_ASSIGN_OR_RETURN(scan_actions_, Statement::Prepare(db_.get(), sql));
      scan_actions_prepared_ = true;
    }
    const bool was_busy = scan_actions_busy_;
    scan_actions_busy_ = true;
    ResetGuard g(*s);
    s->BindText(1, identity_key, true);
    s->BindInt(2, from_ns.value_or(INT64_MIN));
    s->BindInt(3, to_ns.value_or(INT64_MAX));
    ActionRow row;  // reused: its strings keep their capacity from row to row
    Status st = ForEachRow(*s, [&](const Statement& r) {
      ReadActionRowInto(r, row);
      return fn(row);
    });
    scan_actions_busy_ = was_busy;
    return st;
  }

  Result<std::optional<ApiTokenRow>> GetApiToken(std::string_view id) override {
    ResetGuard g(get_api_token_);
    get_api_token_.BindText(1, id, true);
    NHI_ASSIGN_OR_RETURN(auto r, get_api_token_.Step());
    if (r == Statement::StepResult::kDone) return std::optional<ApiTokenRow>();
    return std::optional<ApiTokenRow>(ReadApiTokenRow(get_api_token_));
  }

  Result<std::vector<ApiTokenRow>> ListApiTokens() override {
    NHI_ASSIGN_OR_RETURN(Statement s,
                         Statement::Prepare(db_.get(), std::string("SELECT ") + kApiTokenColumns +
                                                           " FROM api_tokens ORDER BY "
                                                           "created_ns, id"));
    std::vector<ApiTokenRow> out;
    NHI_RETURN_IF_ERROR(ForEachRow(s, [&](const Statement& st) {
      out.push_back(ReadApiTokenRow(st));
      return OkStatus();
    }));
    return out;
  }

  // Cases.

  Result<std::optional<CaseRow>> GetCase(uint64_t id) override {
    NHI_ASSIGN_OR_RETURN(
        Statement * s, Cached(std::string("SELECT ") + kCaseColumns + " FROM cases WHERE id = ?1"));
    ResetGuard g(*s);
    s->BindInt(1, static_cast<int64_t>(id));
    NHI_ASSIGN_OR_RETURN(auto r, s->Step());
    if (r == Statement::StepResult::kDone) return std::optional<CaseRow>();
    return std::optional<CaseRow>(ReadCaseRow(*s));
  }

  Result<std::vector<CaseRow>> ListCases(const CaseQuery& q) override {
    std::vector<CaseRow> out;
    NHI_RETURN_IF_ERROR(ScanCases(q, [&](const CaseRow& r) {
      out.push_back(r);
      return OkStatus();
    }));
    return out;
  }

  Result<std::vector<ApiAuditRow>> ListApiAudit(int64_t after_id, size_t limit) override {
    NHI_ASSIGN_OR_RETURN(Statement s,
                         Statement::Prepare(db_.get(), std::string("SELECT ") + kApiAuditColumns +
                                                           " FROM api_audit WHERE id > ?1 ORDER BY "
                                                           "id LIMIT ?2"));
    s.BindInt(1, after_id);
    s.BindInt(2, static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)));
    std::vector<ApiAuditRow> out;
    NHI_RETURN_IF_ERROR(ForEachRow(s, [&](const Statement& st) {
      out.push_back(ReadApiAuditRow(st));
      return OkStatus();
    }));
    return out;
  }

  Status ScanCases(const CaseQuery& q, const std::function<Status(const CaseRow&)>& fn) override {
    // As in QueryEvents: only the conditions that are set, every value bound.
    std::string sql = std::string("SELECT ") + kCaseColumns + " FROM cases WHERE id > ?1";
    if (!q.state.empty()) sql += " AND state = ?2";
    if (!q.kind.empty()) sql += " AND kind = ?3";
    if (!q.owner.empty()) sql += " AND owner = ?4";
    if (!q.severity.empty()) sql += " AND severity = ?5";
    if (q.open_only) sql += " AND state <> 'closed'";
    if (q.due_before) sql += " AND next_due_ns <= ?6";
    sql += " ORDER BY id LIMIT ?7";
    NHI_ASSIGN_OR_RETURN(Statement * s, Cached(sql));
    ResetGuard g(*s);
    s->BindInt(1, static_cast<int64_t>(std::min<uint64_t>(q.after_id, INT64_MAX)));
    if (!q.state.empty()) s->BindText(2, q.state, true);
    if (!q.kind.empty()) s->BindText(3, q.kind, true);
    if (!q.owner.empty()) s->BindText(4, q.owner, true);
    if (!q.severity.empty()) s->BindText(5, q.severity, true);
    if (q.due_before) s->BindInt(6, *q.due_before);
    s->BindInt(7, static_cast<int64_t>(std::min<size_t>(q.limit, INT64_MAX)));
    CaseRow row;
    return ForEachRow(*s, [&](const Statement& st) {
      ReadCaseRowInto(st, row);
      return fn(row);
    });
  }

  Result<uint64_t> MaxCaseId() override {
    NHI_ASSIGN_OR_RETURN(Statement * s, Cached("SELECT max(id) FROM cases"));
    ResetGuard g(*s);
    NHI_ASSIGN_OR_RETURN(auto r, s->Step());
    if (r == Statement::StepResult::kDone || s->ColumnIsNull(0)) return uint64_t{0};
    return static_cast<uint64_t>(s->ColumnInt(0));
  }

  Result<std::vector<uint64_t>> ListCaseEventSeqs(uint64_t case_id) override {
    NHI_ASSIGN_OR_RETURN(Statement * s,
                         Cached("SELECT seq FROM case_events WHERE case_id = ?1 ORDER BY op_seq"));
    ResetGuard g(*s);
    s->BindInt(1, static_cast<int64_t>(case_id));
    std::vector<uint64_t> out;
    NHI_RETURN_IF_ERROR(ForEachRow(*s, [&](const Statement& st) {
      out.push_back(static_cast<uint64_t>(st.ColumnInt(0)));
      return OkStatus();
    }));
    return out;
  }

  Result<std::optional<ApiAuditRow>> ApiAuditForSeq(uint64_t seq) override {
    ResetGuard g(audit_for_seq_);
    audit_for_seq_.BindInt(1, static_cast<int64_t>(seq));
    NHI_ASSIGN_OR_RETURN(auto r, audit_for_seq_.Step());
    if (r == Statement::StepResult::kDone) return std::optional<ApiAuditRow>();
    ApiAuditRow row = ReadApiAuditRow(audit_for_seq_);
    if (!row.first_seq || seq - *row.first_seq >= row.event_count) {
      return std::optional<ApiAuditRow>();  // the nearest earlier write did not reach `seq`
    }
    return std::optional<ApiAuditRow>(std::move(row));
  }

  Result<std::vector<CaseTaskRow>> ListCaseTasks(uint64_t case_id) override {
    NHI_ASSIGN_OR_RETURN(Statement * s,
                         Cached("SELECT case_id, task_id, title, owner, status, due_ns FROM "
                                "case_tasks WHERE case_id = ?1 ORDER BY task_id"));
    ResetGuard g(*s);
    s->BindInt(1, static_cast<int64_t>(case_id));
    std::vector<CaseTaskRow> out;
    NHI_RETURN_IF_ERROR(ForEachRow(*s, [&](const Statement& st) {
      CaseTaskRow t;
      t.case_id = static_cast<uint64_t>(st.ColumnInt(0));
      t.task_id = static_cast<uint32_t>(st.ColumnInt(1));
      t.title = std::string(st.ColumnText(2));
      t.owner = std::string(st.ColumnText(3));
      t.status = std::string(st.ColumnText(4));
      t.due_ns = OptInt(st, 5);
      out.push_back(std::move(t));
      return OkStatus();
    }));
    return out;
  }

  Result<std::vector<CaseLinkRow>> ListCaseLinks(uint64_t case_id) override {
    NHI_ASSIGN_OR_RETURN(Statement * s,
                         Cached("SELECT case_id, type, value, seq FROM case_links WHERE case_id = "
                                "?1 ORDER BY type, value"));
    ResetGuard g(*s);
    s->BindInt(1, static_cast<int64_t>(case_id));
    std::vector<CaseLinkRow> out;
    NHI_RETURN_IF_ERROR(ForEachRow(*s, [&](const Statement& st) {
      out.push_back({static_cast<uint64_t>(st.ColumnInt(0)), std::string(st.ColumnText(1)),
                     std::string(st.ColumnText(2)), static_cast<uint64_t>(st.ColumnInt(3))});
      return OkStatus();
    }));
    return out;
  }

  Result<std::vector<CaseDecisionRow>> ListCaseDecisions(uint64_t case_id) override {
    NHI_ASSIGN_OR_RETURN(Statement * s,
                         Cached("SELECT case_id, decision_id, outcome, status, actor, "
                                "control_owner, time_ns, seq FROM case_decisions WHERE case_id = "
                                "?1 ORDER BY decision_id"));
    ResetGuard g(*s);
    s->BindInt(1, static_cast<int64_t>(case_id));
    std::vector<CaseDecisionRow> out;
    NHI_RETURN_IF_ERROR(ForEachRow(*s, [&](const Statement& st) {
      CaseDecisionRow d;
      d.case_id = static_cast<uint64_t>(st.ColumnInt(0));
      d.decision_id = static_cast<uint32_t>(st.ColumnInt(1));
      d.outcome = std::string(st.ColumnText(2));
      d.status = std::string(st.ColumnText(3));
      d.actor = std::string(st.ColumnText(4));
      d.control_owner = std::string(st.ColumnText(5));
      d.time_ns = st.ColumnInt(6);
      d.seq = static_cast<uint64_t>(st.ColumnInt(7));
      out.push_back(std::move(d));
      return OkStatus();
    }));
    return out;
  }

  Result<std::vector<uint64_t>> FindCasesByLink(std::string_view type,
                                                std::string_view value) override {
    NHI_ASSIGN_OR_RETURN(Statement * s, Cached("SELECT case_id FROM case_links WHERE type = ?1 "
                                               "AND value = ?2 ORDER BY case_id"));
    ResetGuard g(*s);
    s->BindText(1, type, true);
    s->BindText(2, value, true);
    std::vector<uint64_t> out;
    NHI_RETURN_IF_ERROR(ForEachRow(*s, [&](const Statement& st) {
      out.push_back(static_cast<uint64_t>(st.ColumnInt(0)));
      return OkStatus();
    }));
    return out;
  }

  Result<std::vector<std::pair<uint64_t, std::string>>> ListCaseRejections() override {
    NHI_ASSIGN_OR_RETURN(Statement * s,
                         Cached("SELECT seq, reason FROM case_rejected ORDER BY seq"));
    ResetGuard g(*s);
    std::vector<std::pair<uint64_t, std::string>> out;
    NHI_RETURN_IF_ERROR(ForEachRow(*s, [&](const Statement& st) {
      out.emplace_back(static_cast<uint64_t>(st.ColumnInt(0)), std::string(st.ColumnText(1)));
      return OkStatus();
    }));
    return out;
  }

  Result<std::optional<std::string>> GetAttachmentBlob(std::string_view sha256) override {
    NHI_ASSIGN_OR_RETURN(Statement * s,
                         Cached("SELECT bytes FROM case_attachment_blobs WHERE sha256 = ?1"));
    ResetGuard g(*s);
    s->BindBlob(1, sha256, true);
    NHI_ASSIGN_OR_RETURN(auto r, s->Step());
    if (r == Statement::StepResult::kDone) return std::optional<std::string>();
    return std::optional<std::string>(std::string(s->ColumnBlob(0)));
  }

  Result<std::unique_ptr<WriteTxn>> BeginWrite() override;

  Result<std::unique_ptr<ReadScope>> BeginRead() override;

  // Policies, findings and reconciliation state: store/sqlite/reconcile_tables.cc.
  Status ScanEventsOfIdentity(std::string_view identity_key,
                              const std::function<Status(const EventRow&)>& fn) override {
    EventRow row;  // reused: its strings keep their capacity from row to row
    return reconcile_.ScanEventsOfIdentity(identity_key, [&](const Statement& st) -> Status {
      ReconcileTables::ReadScanRow(st, &row);
      return fn(row);
    });
  }
  Result<std::optional<PolicyRow>> GetPolicy(uint64_t version) override {
    return reconcile_.GetPolicy(version);
  }
  Result<std::optional<PolicyRow>> LatestPolicy() override { return reconcile_.LatestPolicy(); }
  Result<std::vector<PolicyRow>> ListPolicies() override { return reconcile_.ListPolicies(); }
  Result<std::optional<FindingRow>> GetFinding(std::string_view id) override {
    return reconcile_.GetFinding(id);
  }
  Result<std::vector<FindingRow>> ListFindingsForSubject(std::string_view subject_type,
                                                         std::string_view subject) override {
    return reconcile_.ListFindingsForSubject(subject_type, subject);
  }
  Result<std::vector<FindingRow>> QueryFindings(const FindingQuery& query) override {
    return reconcile_.QueryFindings(query);
  }
  Status ScanFindings(const std::function<Status(const FindingRow&)>& fn) override {
    return reconcile_.ScanFindings(fn);
  }
  Result<std::vector<DecisionRow>> ListDecisions(const DecisionQuery& query) override {
    return reconcile_.ListDecisions(query);
  }
  Status ScanDecisions(const std::function<Status(const DecisionRow&)>& fn) override {
    return reconcile_.ScanDecisions(fn);
  }
  Result<std::vector<ScheduleRow>> ListDue(int64_t until_ns, size_t limit) override {
    return reconcile_.ListDue(until_ns, limit);
  }
  Status ScanSchedule(const std::function<Status(const ScheduleRow&)>& fn) override {
    return reconcile_.ScanSchedule(fn);
  }

  Status PurgeFreedSpace() override {
    if (write_open_) return FailedPreconditionError("a write transaction is open");
    // secure_delete (set at open) has overwritten the erased cells and freed pages in the page
    // images; TRUNCATE copies every WAL frame into the database and cuts the WAL to zero bytes,
    // so no older frame holding the bytes survives in it.
    NHI_ASSIGN_OR_RETURN(Statement s,
                         Statement::Prepare(db_.get(), "PRAGMA wal_checkpoint(TRUNCATE)"));
    NHI_ASSIGN_OR_RETURN(auto r, s.Step());
    if (r != Statement::StepResult::kRow) return InternalError("wal_checkpoint returned no row");
    if (s.ColumnInt(0) != 0) {
      return UnavailableError(
          "another process is reading the store, so its write-ahead log could not be emptied; "
          "erased bytes may remain in the -wal file until that reader finishes (run the "
          "command again)");
    }
    return OkStatus();
  }

  // Used by the reader and the write transaction. Node (L, i) lives in the row of the leaf
  // that completed it, k = ((i + 1) << L) - 1: level 0 is that row's leaf_hash, level L >= 1 the
  // L-th hash of its tree_nodes.
  Result<std::vector<Hash>> ReadNodes(std::span<const NodeId> ids) {
    // One read transaction for all nodes of a proof, rather than one per statement (each of
    // which takes the WAL read lock): measured 5-7x faster on a 1M-leaf store (BENCHMARKS.md).
    // Inside an open write transaction the reads simply join it.
    bool own_txn = sqlite3_get_autocommit(db_.get()) != 0 && ids.size() > 1;
    if (own_txn) NHI_RETURN_IF_ERROR(Exec(db_.get(), "BEGIN"));
    auto result = ReadNodesIn(ids);
    if (own_txn) Exec(db_.get(), "COMMIT").IgnoreError();  // a read transaction: nothing to lose
    return result;
  }

  Result<std::vector<Hash>> ReadNodesIn(std::span<const NodeId> ids) {
    std::vector<Hash> out;
    out.reserve(ids.size());
    for (const NodeId& id : ids) {
      auto name = [&] {
        return "tree node (level " + std::to_string(id.level) + ", index " +
               std::to_string(id.index) + ")";
      };
      if (id.level >= 63 || id.index >= (uint64_t{1} << (63 - id.level))) {
        return NotFoundError(name() + " is beyond any stored tree");
      }
      uint64_t k = ((id.index + 1) << id.level) - 1;
      ResetGuard g(get_node_);
      get_node_.BindInt(1, static_cast<int64_t>(k));
      NHI_ASSIGN_OR_RETURN(auto r, get_node_.Step());
      if (r == Statement::StepResult::kDone) return NotFoundError(name() + " is not stored");
      std::string_view bytes = id.level == 0 ? get_node_.ColumnBlob(0) : get_node_.ColumnBlob(1);
      size_t off = id.level == 0 ? 0 : (id.level - 1) * size_t{32};
      auto h =
          bytes.size() >= off + 32 ? crypto::HashFromBytes(bytes.substr(off, 32)) : std::nullopt;
      if (!h) return DataLossError(name() + " is missing from the row of seq " + std::to_string(k));
      out.push_back(*h);
    }
    return out;
  }

  sqlite3* db() { return db_.get(); }
  bool write_open_ = false;

  // Statements used by the write transaction.
  Statement find_source_, insert_event_, insert_raw_, insert_cp_, insert_q_, set_meta_,
      put_identity_key_, recanonicalize_, put_link_, put_grant_, put_action_, insert_api_token_,
      revoke_api_token_, insert_api_audit_, erase_raw_, clear_content_hash_;
  ReconcileTables reconcile_;

 private:
  Status Migrate();
  Status PrepareAll();

  DbPtr db_;
  bool durable_;
  int schema_version_ = 0;
  SqliteNodeReader reader_;
  std::map<std::string, Statement> cached_;
  Statement get_meta_, max_seq_, get_event_, get_raw_, latest_cp_, cp_at_, get_node_,
      get_identity_key_, list_group_keys_, list_links_, get_grant_, list_grants_for_key_,
      first_event_of_, first_action_of_, get_api_token_, audit_for_seq_;
  Statement scan_actions_;  // prepared on first use (ScanActionsOfIdentity)
  bool scan_actions_prepared_ = false, scan_actions_busy_ = false;
};

Result<std::vector<Hash>> SqliteNodeReader::ReadNodes(std::span<const NodeId> ids) {
  return store_->ReadNodes(ids);
}

class SqliteWriteTxn final : public WriteTxn {
 public:
  explicit SqliteWriteTxn(SqliteStore* s) : s_(s), reader_(s) {}
  ~SqliteWriteTxn() override {
    if (!done_) {
      Exec(s_->db(), "ROLLBACK").IgnoreError();
    }
    s_->write_open_ = false;
  }

  Result<std::optional<ExistingEvent>> FindBySource(std::string_view system, int64_t time_ns,
                                                    std::string_view event_id) override {
    Statement& st = s_->find_source_;
    ResetGuard g(st);
    st.BindText(1, system, true);
    st.BindInt(2, time_ns);
    st.BindText(3, event_id, true);
    NHI_ASSIGN_OR_RETURN(auto r, st.Step());
    if (r == Statement::StepResult::kDone) return std::optional<ExistingEvent>();
    ExistingEvent e;
    e.seq = static_cast<uint64_t>(st.ColumnInt(0));
    e.content_hash = std::string(st.ColumnBlob(1));
    return std::optional<ExistingEvent>(std::move(e));
  }

  Result<bool> InsertEvent(const EventRow& row) override {
    Statement& st = s_->insert_event_;
    st.BindInt(1, static_cast<int64_t>(row.seq));
    st.BindBlob(2, row.leaf, true);
    st.BindBlob(3, crypto::AsBytes(row.leaf_hash), true);
    if (row.content_hash.empty()) {
      st.BindNull(4);
    } else {
      st.BindBlob(4, row.content_hash, true);
    }
    st.BindText(5, row.kind, true);
    st.BindInt(6, row.time_ns);
    st.BindInt(7, row.ingested_ns);
    st.BindText(8, row.source_system, true);
    st.BindText(9, row.source_event_id, true);
    st.BindTextOrNull(10, row.correlation_key, true);
    st.BindTextOrNull(11, row.identity_key, true);
    st.BindTextOrNull(12, row.actor_id, true);
    if (row.raw_id) {
      st.BindInt(13, *row.raw_id);
    } else {
      st.BindNull(13);
    }
    st.BindBlob(14, row.tree_nodes, true);
    Status s = st.Run();
    st.Reset();
    if (!s.ok()) return s.WithContext("insert event " + std::to_string(row.seq));
    return sqlite3_changes(s_->db()) == 1;
  }

  Status InsertRaw(const RawRef& raw) override {
    Statement& st = s_->insert_raw_;
    st.BindInt(1, raw.id);
    st.BindBlob(2, raw.salt, true);
    st.BindBlob(3, raw.bytes, true);
    st.BindBlob(4, raw.salted_sha256, true);
    st.BindInt(5, static_cast<int64_t>(raw.bytes.size()));
    Status s = st.Run();
    st.Reset();
    return s;
  }

  Status InsertCheckpoint(const CheckpointRow& row) override {
    Statement& st = s_->insert_cp_;
    st.BindInt(1, static_cast<int64_t>(row.size));
    st.BindBlob(2, crypto::AsBytes(row.root), true);
    st.BindText(3, row.note, true);
    st.BindInt(4, row.created_ns);
    Status s = st.Run();
    st.Reset();
    return s;
  }

  Status InsertQuarantine(const QuarantineRow& row) override {
    Statement& st = s_->insert_q_;
    st.BindInt(1, row.received_ns);
    st.BindText(2, row.source, true);
    st.BindInt(3, static_cast<int64_t>(row.line));
    st.BindText(4, row.format, true);
    st.BindTextOrNull(5, row.field, true);
    st.BindText(6, row.reason, true);
    st.BindBlob(7, row.raw, true);
    st.BindInt(8, static_cast<int64_t>(row.raw_size));
    st.BindBlob(9, row.raw_sha256, true);
    st.BindInt(10, row.truncated ? 1 : 0);
    Status s = st.Run();
    st.Reset();
    return s;
  }

  Status SetMeta(std::string_view key, std::string_view value) override {
    Statement& st = s_->set_meta_;
    st.BindText(1, key, true);
    st.BindBlob(2, value, true);
    Status s = st.Run();
    st.Reset();
    return s;
  }

  Status PutIdentityKey(const IdentityKeyRow& r) override {
    Statement& st = s_->put_identity_key_;
    st.BindText(1, r.key, true);
    st.BindText(2, r.canonical, true);
    st.BindInt(3, r.first_seen_ns);
    st.BindInt(4, r.last_seen_ns);
    if (r.last_action_ns) {
      st.BindInt(5, *r.last_action_ns);
    } else {
      st.BindNull(5);
    }
    st.BindInt(6, static_cast<int64_t>(r.event_count));
    st.BindInt(7, static_cast<int64_t>(r.action_count));
    st.BindTextOrNull(8, r.subject_kind, true);
    st.BindTextOrNull(9, r.subject_name, true);
    st.BindTextOrNull(10, r.owner, true);
    st.BindTextOrNull(11, r.sponsor, true);
    st.BindTextOrNull(12, r.system, true);
    st.BindText(13, r.facts_provenance, true);
    Status s = st.Run();
    st.Reset();
    return s;
  }

  Status Recanonicalize(std::string_view from, std::string_view to) override {
    Statement& st = s_->recanonicalize_;
    st.BindText(1, to, true);
    st.BindText(2, from, true);
    Status s = st.Run();
    st.Reset();
    return s;
  }

  Status PutIdentityLink(const IdentityLinkRow& r) override {
    Statement& st = s_->put_link_;
    st.BindText(1, r.key_a, true);
    st.BindText(2, r.key_b, true);
    st.BindInt(3, static_cast<int64_t>(r.seq));
    Status s = st.Run();
    st.Reset();
    return s;
  }

  Status PutGrant(const GrantRow& g) override {
    Statement& st = s_->put_grant_;
    st.BindText(1, g.correlation_key, true);
    st.BindTextOrNull(2, g.identity_key, true);
    st.BindText(3, g.status, true);
    st.BindInt(4, g.start_ns);
    st.BindInt(5, g.end_ns);
    if (g.first_use_seq) {
      st.BindInt(6, static_cast<int64_t>(*g.first_use_seq));
    } else {
      st.BindNull(6);
    }
    st.BindInt(7, g.issue_count);
    st.BindText(8, g.doc, true);
    Status s = st.Run();
    st.Reset();
    return s;
  }

  Status PutAction(const ActionRow& a) override {
    Statement& st = s_->put_action_;
    st.BindText(1, a.identity_key, true);
    st.BindInt(2, a.time_ns);
    st.BindInt(3, static_cast<int64_t>(a.seq));
    st.BindInt(4, (a.failed ? kActionFailed : 0) | (a.delegated ? kActionDelegated : 0));
    st.BindTextOrNull(5, a.credential, true);
    st.BindTextOrNull(6, a.scope, true);
    Status s = st.Run();
    st.Reset();
    return s;
  }

  Status ClearDerived() override {
    return Exec(s_->db(),
                "DELETE FROM identity_keys; DELETE FROM identity_links; "
                "DELETE FROM grants; DELETE FROM actions;");
  }

  Status InsertApiToken(const ApiTokenRow& t) override {
    Statement& st = s_->insert_api_token_;
    st.BindText(1, t.id, true);
    st.BindText(2, t.name, true);
    st.BindText(3, t.role, true);
    st.BindBlob(4, t.token_sha256, true);
    st.BindInt(5, t.created_ns);
    if (t.revoked_ns) {
      st.BindInt(6, *t.revoked_ns);
    } else {
      st.BindNull(6);
    }
    Status s = st.Run();
    int code = s.ok() ? SQLITE_OK : sqlite3_extended_errcode(s_->db());
    st.Reset();
    if (code == SQLITE_CONSTRAINT_PRIMARYKEY) {
      return AlreadyExistsError("a token with id " + t.id + " exists");
    }
    if (code == SQLITE_CONSTRAINT_UNIQUE) {
      return AlreadyExistsError("a token named '" + t.name +
                                "' exists (names are never reused, even after revocation)");
    }
    return s;
  }

  Result<bool> RevokeApiToken(std::string_view id_or_name, int64_t now_ns) override {
    Statement& st = s_->revoke_api_token_;
    st.BindInt(1, now_ns);
    st.BindText(2, id_or_name, true);
    Status s = st.Run();
    st.Reset();
    if (!s.ok()) return s;
    return sqlite3_changes(s_->db()) > 0;
  }

  Status InsertApiAudit(const ApiAuditRow& a) override {
    Statement& st = s_->insert_api_audit_;
    st.BindInt(1, a.time_ns);
    st.BindText(2, a.request_id, true);
    st.BindText(3, a.token_id, true);
    st.BindText(4, a.token_name, true);
    st.BindText(5, a.role, true);
    st.BindText(6, a.action, true);
    if (a.first_seq) {
      st.BindInt(7, static_cast<int64_t>(*a.first_seq));
    } else {
      st.BindNull(7);
    }
    st.BindInt(8, static_cast<int64_t>(a.event_count));
    st.BindText(9, a.detail, true);
    Status s = st.Run();
    st.Reset();
    return s;
  }

  // Cases.

  Status PutCase(const CaseRow& c) override {
    NHI_ASSIGN_OR_RETURN(Statement * st,
                         s_->Cached(std::string("INSERT OR REPLACE INTO cases(") + kCaseColumns +
                                    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
                                    "?13, ?14, ?15)"));
    ResetGuard g(*st);
    st->BindInt(1, static_cast<int64_t>(c.id));
    st->BindText(2, c.kind, true);
    st->BindText(3, c.state, true);
    st->BindText(4, c.severity, true);
    st->BindText(5, c.title, true);
    st->BindTextOrNull(6, c.owner, true);
    st->BindText(7, c.requester, true);
    st->BindInt(8, c.opened_ns);
    st->BindInt(9, c.updated_ns);
    BindOptInt(*st, 10, c.closed_ns);
    BindOptInt(*st, 11, c.next_due_ns);
    st->BindInt(12, c.op_count);
    st->BindInt(13, static_cast<int64_t>(c.last_seq));
    st->BindInt(14, c.escalation_level);
    st->BindInt(15, c.open_tasks);
    return st->Run();
  }

  Status PutCaseEvent(uint64_t case_id, uint32_t op_seq, uint64_t seq) override {
    NHI_ASSIGN_OR_RETURN(Statement * st,
                         s_->Cached("INSERT OR REPLACE INTO case_events(case_id, op_seq, seq) "
                                    "VALUES (?1, ?2, ?3)"));
    ResetGuard g(*st);
    st->BindInt(1, static_cast<int64_t>(case_id));
    st->BindInt(2, op_seq);
    st->BindInt(3, static_cast<int64_t>(seq));
    return st->Run();
  }

  Status ReplaceCaseDetails(uint64_t case_id, const std::vector<CaseTaskRow>& tasks,
                            const std::vector<CaseLinkRow>& links,
                            const std::vector<CaseDecisionRow>& decisions) override {
    for (const char* sql :
         {"DELETE FROM case_tasks WHERE case_id = ?1", "DELETE FROM case_links WHERE case_id = ?1",
          "DELETE FROM case_decisions WHERE case_id = ?1"}) {
      NHI_ASSIGN_OR_RETURN(Statement * st, s_->Cached(sql));
      ResetGuard g(*st);
      st->BindInt(1, static_cast<int64_t>(case_id));
      NHI_RETURN_IF_ERROR(st->Run());
    }
    if (!tasks.empty()) {
      NHI_ASSIGN_OR_RETURN(Statement * st,
                           s_->Cached("INSERT INTO case_tasks(case_id, task_id, title, owner, "
                                      "status, due_ns) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
      for (const CaseTaskRow& t : tasks) {
        ResetGuard g(*st);
        st->BindInt(1, static_cast<int64_t>(case_id));
        st->BindInt(2, t.task_id);
        st->BindText(3, t.title, true);
        st->BindTextOrNull(4, t.owner, true);
        st->BindText(5, t.status, true);
        BindOptInt(*st, 6, t.due_ns);
        NHI_RETURN_IF_ERROR(st->Run());
      }
    }
    if (!links.empty()) {
      NHI_ASSIGN_OR_RETURN(Statement * st,
                           s_->Cached("INSERT OR IGNORE INTO case_links(type, value, case_id, "
                                      "seq) VALUES (?1, ?2, ?3, ?4)"));
      for (const CaseLinkRow& l : links) {
        ResetGuard g(*st);
        st->BindText(1, l.type, true);
        st->BindText(2, l.value, true);
        st->BindInt(3, static_cast<int64_t>(case_id));
        st->BindInt(4, static_cast<int64_t>(l.seq));
        NHI_RETURN_IF_ERROR(st->Run());
      }
    }
    if (!decisions.empty()) {
      NHI_ASSIGN_OR_RETURN(Statement * st,
                           s_->Cached("INSERT INTO case_decisions(case_id, decision_id, outcome, "
                                      "status, actor, control_owner, time_ns, seq) VALUES (?1, "
                                      "?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
      for (const CaseDecisionRow& d : decisions) {
        ResetGuard g(*st);
        st->BindInt(1, static_cast<int64_t>(case_id));
        st->BindInt(2, d.decision_id);
        st->BindText(3, d.outcome, true);
        st->BindText(4, d.status, true);
        st->BindText(5, d.actor, true);
        st->BindTextOrNull(6, d.control_owner, true);
        st->BindInt(7, d.time_ns);
        st->BindInt(8, static_cast<int64_t>(d.seq));
        NHI_RETURN_IF_ERROR(st->Run());
      }
    }
    return OkStatus();
  }

  Status PutCaseRejection(uint64_t seq, std::string_view reason) override {
    NHI_ASSIGN_OR_RETURN(Statement * st, s_->Cached("INSERT OR REPLACE INTO case_rejected(seq, "
                                                    "reason) VALUES (?1, ?2)"));
    ResetGuard g(*st);
    st->BindInt(1, static_cast<int64_t>(seq));
    st->BindText(2, reason, true);
    return st->Run();
  }

  Status ClearCases() override {
    return Exec(s_->db(),
                "DELETE FROM cases; DELETE FROM case_events; DELETE FROM case_tasks; "
                "DELETE FROM case_links; DELETE FROM case_decisions; DELETE FROM case_rejected;");
  }

  Status PutAttachmentBlob(std::string_view sha256, std::string_view bytes,
                           int64_t stored_ns) override {
    NHI_ASSIGN_OR_RETURN(Statement * st,
                         s_->Cached("INSERT OR IGNORE INTO case_attachment_blobs(sha256, bytes, "
                                    "size, stored_ns) VALUES (?1, ?2, ?3, ?4)"));
    ResetGuard g(*st);
    st->BindBlob(1, sha256, true);
    st->BindBlob(2, bytes, true);
    st->BindInt(3, static_cast<int64_t>(bytes.size()));
    st->BindInt(4, stored_ns);
    return st->Run();
  }

  tlog::NodeReader& nodes() override { return reader_; }

  Status PutPolicy(const PolicyRow& row) override { return s_->reconcile_.PutPolicy(row); }
  Status PutFinding(const FindingRow& row) override { return s_->reconcile_.PutFinding(row); }
  Status PutDecision(const DecisionRow& row) override { return s_->reconcile_.PutDecision(row); }
  Status PutSchedule(const ScheduleRow& row) override { return s_->reconcile_.PutSchedule(row); }
  Status DeleteSchedule(std::string_view unit) override {
    return s_->reconcile_.DeleteSchedule(unit);
  }
  Status ClearSchedule() override { return s_->reconcile_.ClearSchedule(); }
  Status ClearReconcile() override { return s_->reconcile_.ClearAll(); }

  Result<bool> EraseRaw(int64_t id, int64_t erased_ns) override {
    Statement& st = s_->erase_raw_;
    st.BindInt(1, id);
    st.BindInt(2, erased_ns);
    Status s = st.Run();
    st.Reset();
    NHI_RETURN_IF_ERROR(s.WithContext("erase raw record " + std::to_string(id)));
    if (sqlite3_changes(s_->db()) != 1) return false;
    Statement& ch = s_->clear_content_hash_;
    ch.BindInt(1, id);
    s = ch.Run();
    ch.Reset();
    NHI_RETURN_IF_ERROR(s.WithContext("erase raw record " + std::to_string(id)));
    return true;
  }

  Status Commit() override {
    if (done_) return FailedPreconditionError("transaction already finished");
    Status s = Exec(s_->db(), "COMMIT");
    if (!s.ok()) {
      Exec(s_->db(), "ROLLBACK").IgnoreError();
    }
    done_ = true;
    return s;
  }

 private:
  SqliteStore* s_;
  SqliteNodeReader reader_;
  bool done_ = false;
};

Result<std::unique_ptr<WriteTxn>> SqliteStore::BeginWrite() {
  if (write_open_) return FailedPreconditionError("a write transaction is already open");
  NHI_RETURN_IF_ERROR(Exec(db_.get(), "BEGIN IMMEDIATE"));
  write_open_ = true;
  return std::unique_ptr<WriteTxn>(std::make_unique<SqliteWriteTxn>(this));
}

// Ends the read transaction it began, if it began one.
class SqliteReadScope final : public ReadScope {
 public:
  explicit SqliteReadScope(sqlite3* db) : db_(db) {}
  ~SqliteReadScope() override {
    if (db_) Exec(db_, "COMMIT").IgnoreError();  // a read transaction: nothing to lose
  }
  SqliteReadScope(const SqliteReadScope&) = delete;
  SqliteReadScope& operator=(const SqliteReadScope&) = delete;

 private:
  sqlite3* db_;  // null: no transaction was begun here
};

Result<std::unique_ptr<ReadScope>> SqliteStore::BeginRead() {
  if (write_open_ || sqlite3_get_autocommit(db_.get()) == 0) {
    return std::unique_ptr<ReadScope>(std::make_unique<SqliteReadScope>(nullptr));
  }
  NHI_RETURN_IF_ERROR(Exec(db_.get(), "BEGIN"));
  return std::unique_ptr<ReadScope>(std::make_unique<SqliteReadScope>(db_.get()));
}

Status SqliteStore::Migrate() {
  NHI_RETURN_IF_ERROR(Exec(db_.get(),
                           "CREATE TABLE IF NOT EXISTS schema_migrations ("
                           " version INTEGER PRIMARY KEY, description TEXT NOT NULL,"
                           " applied_ns INTEGER NOT NULL)"));
  NHI_ASSIGN_OR_RETURN(Statement cur,
                       Statement::Prepare(db_.get(), "SELECT max(version) FROM schema_migrations"));
  NHI_ASSIGN_OR_RETURN(auto r, cur.Step());
  (void)r;
  int have = cur.ColumnIsNull(0) ? 0 : static_cast<int>(cur.ColumnInt(0));
  cur.Reset();
  auto migrations = Migrations();
  int newest = migrations.empty() ? 0 : migrations.back().version;
  if (have > newest) {
    return FailedPreconditionError("store schema version " + std::to_string(have) +
                                   " is newer than this nhitrace (" + std::to_string(newest) +
                                   "); upgrade nhitrace");
  }
  for (const Migration& m : migrations) {
    if (m.version <= have) continue;
    NHI_RETURN_IF_ERROR(Exec(db_.get(), "BEGIN IMMEDIATE"));
    Status s = Exec(db_.get(), m.sql);
    if (s.ok()) {
      auto ins = Statement::Prepare(
          db_.get(),
          "INSERT INTO schema_migrations(version, description, applied_ns) "
          "VALUES (?1, ?2, CAST((julianday('now') - 2440587.5) * 86400e9 AS INTEGER))");
      if (!ins.ok()) {
        s = ins.status();
      } else {
        ins->BindInt(1, m.version);
        ins->BindText(2, m.description, true);
        s = ins->Run();
      }
    }
    if (s.ok()) s = Exec(db_.get(), "COMMIT");
    if (!s.ok()) {
      Exec(db_.get(), "ROLLBACK").IgnoreError();
      return s.WithContext("migration " + std::to_string(m.version));
    }
  }
  schema_version_ = newest;
  return OkStatus();
}

Status SqliteStore::PrepareAll() {
  struct Item {
    Statement* s;
    std::string sql;
  };
  Item items[] = {
      {&get_meta_, "SELECT value FROM meta WHERE key = ?1"},
      {&max_seq_, "SELECT max(seq) FROM events"},
      {&get_event_, std::string("SELECT ") + kEventColumns + " FROM events WHERE seq = ?1"},
      {&get_raw_,
       "SELECT id, salt, bytes, salted_sha256, size, erased_ns FROM raw_records "
       "WHERE id = ?1"},
      {&latest_cp_,
       "SELECT size, root, note, created_ns FROM checkpoints ORDER BY size DESC "
       "LIMIT 1"},
      {&cp_at_, "SELECT size, root, note, created_ns FROM checkpoints WHERE size = ?1"},
      {&get_node_, "SELECT leaf_hash, tree_nodes FROM events WHERE seq = ?1"},
      {&find_source_,
       "SELECT seq, content_hash FROM events WHERE source_system = ?1 AND time_ns = ?2 AND "
       "source_event_id = ?3"},
      {&insert_event_, std::string("INSERT INTO events(") + kEventColumns +
                           ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
                           "?14) ON CONFLICT(source_system, time_ns, source_event_id) DO NOTHING"},
      {&insert_raw_,
       "INSERT INTO raw_records(id, salt, bytes, salted_sha256, size) "
       "VALUES (?1, ?2, ?3, ?4, ?5)"},
      {&insert_cp_,
       "INSERT INTO checkpoints(size, root, note, created_ns) VALUES (?1, ?2, ?3, ?4)"},
      {&insert_q_,
       "INSERT INTO quarantine(received_ns, source, line, format, field, reason, raw, "
       "raw_size, raw_sha256, truncated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
       "?10)"},
      {&set_meta_,
       "INSERT INTO meta(key, value) VALUES (?1, ?2) "
       "ON CONFLICT(key) DO UPDATE SET value = excluded.value"},
      {&get_identity_key_,
       std::string("SELECT ") + kIdentityKeyColumns + " FROM identity_keys WHERE key = ?1"},
      {&list_group_keys_, std::string("SELECT ") + kIdentityKeyColumns +
                              " FROM identity_keys WHERE canonical = ?1 ORDER BY key"},
      {&list_links_,
       "SELECT key_a, key_b, seq FROM identity_links WHERE key_a = ?1 UNION "
       "SELECT key_a, key_b, seq FROM identity_links WHERE key_b = ?1 ORDER BY 3, 1, 2"},
      {&get_grant_,
       std::string("SELECT ") + kGrantColumns + " FROM grants WHERE correlation_key = ?1"},
      {&list_grants_for_key_, std::string("SELECT ") + kGrantColumns +
                                  " FROM grants WHERE identity_key = ?1 ORDER BY start_ns, "
                                  "correlation_key"},
      {&first_event_of_, std::string("SELECT ") + kEventColumns +
                             " FROM events WHERE identity_key = ?1 AND kind <> 'action' AND "
                             "kind = ?2 AND time_ns >= ?3 AND time_ns < ?4 ORDER BY time_ns, "
                             "source_system, source_event_id LIMIT 1"},
      // The earliest time first, then among the actions at that time the first by source.
      {&first_action_of_,
       std::string("SELECT ") + kEventColumns +
           " FROM events WHERE seq IN (SELECT seq FROM actions WHERE identity_key = ?1 AND "
           "time_ns = (SELECT min(time_ns) FROM actions WHERE identity_key = ?1 AND time_ns >= ?3 "
           "AND time_ns < ?4)) AND kind = ?2 ORDER BY source_system, source_event_id LIMIT 1"},
      {&put_identity_key_, std::string("INSERT OR REPLACE INTO identity_keys(") +
                               kIdentityKeyColumns +
                               ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"},
      {&recanonicalize_, "UPDATE identity_keys SET canonical = ?1 WHERE canonical = ?2"},
      {&put_link_, "INSERT OR IGNORE INTO identity_links(key_a, key_b, seq) VALUES (?1, ?2, ?3)"},
      {&put_grant_, std::string("INSERT OR REPLACE INTO grants(") + kGrantColumns +
                        ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"},
      {&put_action_, std::string("INSERT OR IGNORE INTO actions(") + kActionColumns +
                         ") VALUES (?1, ?2, ?3, ?4, ?5, ?6)"},
      {&get_api_token_,
       std::string("SELECT ") + kApiTokenColumns + " FROM api_tokens WHERE id = ?1"},
      {&audit_for_seq_, std::string("SELECT ") + kApiAuditColumns +
                            " FROM api_audit WHERE first_seq <= ?1 AND first_seq IS NOT NULL "
                            "ORDER BY first_seq DESC LIMIT 1"},
      {&insert_api_token_, std::string("INSERT INTO api_tokens(") + kApiTokenColumns +
                               ") VALUES (?1, ?2, ?3, ?4, ?5, ?6)"},
      {&revoke_api_token_,
       "UPDATE api_tokens SET revoked_ns = ?1 WHERE revoked_ns IS NULL AND id = "
       "(SELECT id FROM api_tokens WHERE id = ?2 UNION ALL SELECT id FROM api_tokens WHERE "
       "name = ?2 LIMIT 1)"},
      {&insert_api_audit_,
       "INSERT INTO api_audit(time_ns, request_id, token_id, token_name, role, action, "
       "first_seq, event_count, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"},
      {&erase_raw_,
       "UPDATE raw_records SET salt = NULL, bytes = NULL, erased_ns = ?2 "
       "WHERE id = ?1 AND erased_ns IS NULL"},
      {&clear_content_hash_, "UPDATE events SET content_hash = NULL WHERE raw_id = ?1"},
  };
  for (Item& it : items) {
    NHI_ASSIGN_OR_RETURN(*it.s, Statement::Prepare(db_.get(), it.sql));
  }
  return reconcile_.Prepare(db_.get());
}

Status SqliteStore::Init(const StoreOptions& options) {
  sqlite3_busy_timeout(db_.get(), 10000);
  if (options.create) {
    // Must precede the first write; fixed for the life of the file.
    std::string ps = "PRAGMA page_size = " + std::to_string(options.page_size);
    NHI_RETURN_IF_ERROR(Exec(db_.get(), ps.c_str()));
  }
  NHI_RETURN_IF_ERROR(Exec(db_.get(), "PRAGMA foreign_keys = ON"));
  // Before the switch to WAL, which a new store makes durable too unless this says otherwise.
  NHI_RETURN_IF_ERROR(Exec(db_.get(), options.ephemeral ? "PRAGMA synchronous = OFF"
                                      : durable_        ? "PRAGMA synchronous = FULL"
                                                        : "PRAGMA synchronous = NORMAL"));
  if (!options.read_only) {
    NHI_ASSIGN_OR_RETURN(Statement jm, Statement::Prepare(db_.get(), "PRAGMA journal_mode = WAL"));
    NHI_ASSIGN_OR_RETURN(auto r, jm.Step());
    if (r != Statement::StepResult::kRow || jm.ColumnText(0) != "wal") {
      return UnavailableError(options.path + ": cannot switch the database to WAL mode");
    }
  }
  NHI_RETURN_IF_ERROR(Exec(db_.get(), "PRAGMA secure_delete = ON"));
  std::string cache = "PRAGMA cache_size = -" + std::to_string(options.cache_bytes / 1024);
  NHI_RETURN_IF_ERROR(Exec(db_.get(), cache.c_str()));
  // Checkpoint the WAL into the database every 128 MiB of frames rather than every 1,000 pages
  // (SQLite's default): a page written by several commits is then copied once. The pragma counts
  // pages, so the budget is divided by this file's page size (64 KiB for stores made since
  // 43777c1, where a fixed 32,768 pages had let the WAL grow to 2 GiB; readers cannot use the
  // memory mapping for pages still in the WAL and copy them into their caches instead).
  int64_t page_bytes = 0;
  {  // finalised before anything else runs on this connection
    NHI_ASSIGN_OR_RETURN(Statement ps, Statement::Prepare(db_.get(), "PRAGMA page_size"));
    NHI_ASSIGN_OR_RETURN(auto psr, ps.Step());
    if (psr == Statement::StepResult::kRow) page_bytes = ps.ColumnInt(0);
  }
  if (page_bytes <= 0) return DataLossError(options.path + ": PRAGMA page_size gave no page size");
  std::string autocheckpoint =
      "PRAGMA wal_autocheckpoint = " + std::to_string((int64_t{128} << 20) / page_bytes);
  NHI_RETURN_IF_ERROR(Exec(db_.get(), autocheckpoint.c_str()));
  NHI_RETURN_IF_ERROR(Exec(db_.get(), "PRAGMA temp_store = MEMORY"));
  if (options.mmap_bytes > 0) {
    std::string mm = "PRAGMA mmap_size = " + std::to_string(options.mmap_bytes);
    NHI_RETURN_IF_ERROR(Exec(db_.get(), mm.c_str()));
  }
  if (!options.read_only) NHI_RETURN_IF_ERROR(Migrate());
  return PrepareAll();
}

}  // namespace

Result<std::unique_ptr<Store>> OpenSqliteStore(const StoreOptions& options) {
  if (options.path.empty()) return InvalidArgumentError("empty store path");
  if (options.create) {
    // Create the file ourselves so that it is private (0600) from the first byte; SQLite gives
    // its WAL and shared-memory files the same permissions.
    UniqueFd fd(
        ::open(options.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd.valid()) {
      int err = errno;
      std::string m = options.path + ": cannot create the store: " + ErrnoMessage(err);
      return err == EEXIST ? AlreadyExistsError(m) : UnavailableError(m);
    }
  } else if (!PathExists(options.path)) {
    return NotFoundError(options.path + ": no store here (create one with `nhitrace init`)");
  }
  int flags = options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
  flags |= SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW;
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(options.path.c_str(), &raw, flags, nullptr);
  DbPtr db(raw);
  if (rc != SQLITE_OK) return SqliteError(raw, rc, options.path + ": open");
  sqlite3_extended_result_codes(db.get(), 1);
  auto store = std::make_unique<SqliteStore>(std::move(db), options.durable);
  Status s = store->Init(options);
  if (!s.ok()) return s.WithContext(options.path);
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace nhitrace::store::sqlite
