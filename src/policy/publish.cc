// Publishing, loading and listing policy versions; the policies table fold (policy_index.h).
#include <charconv>

#include "base/encoding.h"
#include "base/time.h"
#include "crypto/sha256.h"
#include "event/codec.h"
#include "json/dom.h"
#include "json/writer.h"
#include "ledger/ledger.h"
#include "policy/policy.h"
#include "policy/policy_index.h"

namespace nhitrace::policy {
namespace {

std::optional<uint64_t> ParseVersion(std::string_view s) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v == 0 || s[0] == '0') return std::nullopt;
  return v;
}

std::string Sha256Ref(std::string_view bytes) {
  return "sha256:" + HexEncode(crypto::AsBytes(crypto::Sha256(bytes)));
}

// The member `name` of a canonical JSON object text, as a string ("" when absent).
std::string AttributeString(const std::string& attributes, const char* name) {
  if (attributes.empty()) return "";
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (json::ParseJson(parser, attributes, &root) != simdjson::SUCCESS) return "";
  std::string_view v;
  if (root[name].get(v) != simdjson::SUCCESS) return "";
  return std::string(v);
}

PolicyInfo InfoOf(const store::PolicyRow& r) {
  PolicyInfo i;
  i.version = r.version;
  i.seq = r.seq;
  i.id = r.policy_id;
  i.hash = r.hash;
  i.canonical_hash = r.canonical_hash;
  i.published_ns = r.published_ns;
  i.published_by = r.published_by;
  i.note = r.note;
  return i;
}

}  // namespace

Status PolicyIndex::Fold(store::Store& store, store::WriteTxn& txn, uint64_t seq,
                         const event::Event& e) {
  if (e.kind != event::Kind::kPolicy || e.source_system != kSourceSystem || !e.policy) {
    return OkStatus();
  }
  auto version = ParseVersion(e.policy->version);
  if (!version || e.policy->hash.empty()) return OkStatus();
  NHI_ASSIGN_OR_RETURN(auto latest, store.LatestPolicy());
  if (*version != (latest ? latest->version + 1 : 1)) return OkStatus();
  NHI_ASSIGN_OR_RETURN(auto raw, store.GetRawForEvent(seq));
  // An erased document cannot be checked; the signed leaf still commits to its hash.
  if (raw && !raw->erased_ns && Sha256Ref(raw->bytes) != e.policy->hash) return OkStatus();
  store::PolicyRow row;
  row.version = *version;
  row.seq = seq;
  row.policy_id = e.policy->id;
  row.hash = e.policy->hash;
  row.canonical_hash = AttributeString(e.attributes, "canonical_hash");
  row.published_ns = e.time_ns;
  row.published_by = e.actor ? e.actor->id : "";
  row.note = e.rationale;
  return txn.PutPolicy(row);
}

Result<Policy> LoadPolicy(store::Store& store, std::optional<uint64_t> version) {
  std::optional<store::PolicyRow> row;
  if (version) {
    NHI_ASSIGN_OR_RETURN(row, store.GetPolicy(*version));
    if (!row) {
      NHI_ASSIGN_OR_RETURN(auto latest, store.LatestPolicy());
      return NotFoundError("no policy version " + std::to_string(*version) +
                           (latest ? " (the latest is " + std::to_string(latest->version) + ")"
                                   : " (no policy is published)"));
    }
  } else {
    NHI_ASSIGN_OR_RETURN(row, store.LatestPolicy());
    if (!row) {
      return NotFoundError(
          "no policy is published (publish one with `nhitrace policy publish FILE`)");
    }
  }
  const std::string name = "policy version " + std::to_string(row->version);
  NHI_ASSIGN_OR_RETURN(auto raw, store.GetRawForEvent(row->seq));
  if (!raw || raw->erased_ns) return DataLossError(name + ": its document was erased");
  if (Sha256Ref(raw->bytes) != row->hash) {
    return DataLossError(name + ": the stored document does not match its hash " + row->hash);
  }
  auto parsed = ParsePolicy(raw->bytes, name);
  if (!parsed.ok()) {
    return FailedPreconditionError(name +
                                   " does not parse with this build: " + parsed.status().message());
  }
  Policy p = std::move(parsed).value();
  p.version = row->version;
  p.seq = row->seq;
  p.published_ns = row->published_ns;
  p.published_by = row->published_by;
  return p;
}

Result<std::vector<PolicyInfo>> ListPolicies(store::Store& store) {
  NHI_ASSIGN_OR_RETURN(auto rows, store.ListPolicies());
  std::vector<PolicyInfo> out;
  for (const auto& r : rows) out.push_back(InfoOf(r));
  return out;
}

Result<PublishResult> PublishPolicy(ledger::Ledger& ledger, std::string_view yaml,
                                    const PublishOptions& options) {
  if (options.published_by.empty()) {
    return InvalidArgumentError("publishing a policy needs the name of who publishes it");
  }
  NHI_ASSIGN_OR_RETURN(Policy p, ParsePolicy(yaml, options.source_name, options.parse));
  // The version is read inside the write transaction, so two publishers cannot both take it.
  NHI_ASSIGN_OR_RETURN(auto batch, ledger.BeginBatch());
  NHI_ASSIGN_OR_RETURN(auto latest, ledger.store().LatestPolicy());
  PublishResult result;
  if (latest && latest->hash == p.hash) {
    result.info = InfoOf(*latest);
    result.unchanged = true;
    return result;  // the batch rolls back: nothing was appended
  }
  const uint64_t version = latest ? latest->version + 1 : 1;
  const int64_t now = ledger.clock().NowUnixNanos();

  // The event goes through the native decoder, so it obeys every rule an ingested one does.
  json::JsonWriter w;
  w.BeginObject();
  w.Key("v").Int(1);
  w.Key("kind").String("policy");
  w.Key("source").BeginObject();
  w.Key("system").String(kSourceSystem);
  w.Key("event_id").String("policy/" + std::to_string(version));
  w.EndObject();
  w.Key("time").String(FormatRfc3339Utc(now, 9));
  w.Key("actor").BeginObject().Key("id").String(options.published_by).Key("type").String("human");
  w.EndObject();
  w.Key("policy").BeginObject();
  w.Key("id").String(p.id);
  w.Key("version").String(std::to_string(version));
  w.Key("hash").String(p.hash);
  w.EndObject();
  if (!options.note.empty()) w.Key("rationale").String(options.note);
  w.Key("attributes").BeginObject();
  w.Key("canonical_hash").String(p.canonical_hash);
  w.Key("format").Int(kFormatVersion);
  w.Key("size").Uint(yaml.size());
  w.EndObject();
  w.EndObject();
  std::string line = w.Take();
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (json::ParseJson(parser, line, &root) != simdjson::SUCCESS) {
    return InternalError("policy event is not JSON");
  }
  auto record = event::DecodeNative(root);
  if (!record.ok()) return record.status().WithContext("the policy event");
  NHI_ASSIGN_OR_RETURN(ledger::AppendOutcome o, batch->Append(*record, yaml));
  if (o.status != ledger::AppendStatus::kAccepted) {
    return AbortedError("policy version " + std::to_string(version) +
                        " was published concurrently; try again");
  }
  NHI_RETURN_IF_ERROR(batch->Commit());
  NHI_ASSIGN_OR_RETURN(auto row, ledger.store().GetPolicy(version));
  if (!row || row->seq != o.seq) {
    return InternalError("policy event " + std::to_string(o.seq) +
                         " was appended but not indexed (no PolicyIndex observes this ledger; "
                         "run `nhitrace rebuild`)");
  }
  result.info = InfoOf(*row);
  return result;
}

}  // namespace nhitrace::policy
