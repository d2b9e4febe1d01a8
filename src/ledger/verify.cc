#include "ledger/verify.h"

#include <algorithm>
#include <map>
#include <set>

#include "base/time.h"
#include "crypto/random.h"
#include "crypto/sha256.h"
#include "event/codec.h"
#include "ledger/erasure.h"
#include "ledger/ledger.h"
#include "tlog/checkpoint.h"

namespace nhitrace::ledger {
namespace {

class Reporter {
 public:
  Reporter(VerifyReport* r, size_t max) : r_(r), max_(max) {}
  void Add(std::optional<uint64_t> seq, std::string what) {
    ++r_->problem_count;
    if (seq && (!r_->first_bad_seq || *seq < *r_->first_bad_seq)) r_->first_bad_seq = seq;
    if (r_->problems.size() < max_) r_->problems.push_back({seq, std::move(what)});
  }

 private:
  VerifyReport* r_;
  size_t max_;
};

std::string Seq(uint64_t s) { return std::to_string(s); }

// Compares a stored derived column with the value re-derived from the leaf.
void CheckColumn(Reporter& rep, uint64_t seq, const char* column, const std::string& stored,
                 const std::string& derived) {
  if (stored != derived) {
    rep.Add(seq, "seq " + Seq(seq) + ": column " + column + " is \"" + stored +
                     "\" but the signed leaf says \"" + derived + "\"");
  }
}

void CheckColumn(Reporter& rep, uint64_t seq, const char* column, int64_t stored, int64_t derived) {
  if (stored != derived) {
    rep.Add(seq, "seq " + Seq(seq) + ": column " + column + " is " + std::to_string(stored) +
                     " but the signed leaf says " + std::to_string(derived));
  }
}

struct SignedCheckpoint {
  uint64_t size;
  tlog::Hash root;
};

}  // namespace

Result<VerifyReport> Verify(store::Store& store, const VerifyOptions& options) {
  VerifyReport report;
  Reporter rep(&report, options.max_problems);

  // The key.
  NHI_ASSIGN_OR_RETURN(auto origin_meta, store.GetMeta(kMetaOrigin));
  NHI_ASSIGN_OR_RETURN(auto vkey_meta, store.GetMeta(kMetaVerifierKey));
  std::string origin = origin_meta.value_or("");
  std::optional<tlog::NoteVerifier> key;
  if (vkey_meta) {
    auto parsed = tlog::NoteVerifier::Parse(*vkey_meta);
    if (parsed.ok()) {
      key = *parsed;
    } else {
      rep.Add(std::nullopt, "the stored verifier key is malformed: " + parsed.status().message());
    }
  } else {
    rep.Add(std::nullopt, "the store has no verifier key");
  }
  if (options.trusted_key) {
    if (key && key->ToString() != options.trusted_key->ToString()) {
      rep.Add(std::nullopt, "the store's verifier key " + key->ToString() +
                                " is not the trusted key " + options.trusted_key->ToString());
    }
    key = options.trusted_key;
    report.key_trusted = true;
  }
  if (key) report.key = key->ToString();
  if (origin.empty()) rep.Add(std::nullopt, "the store has no ledger origin");

  // Every checkpoint: signature, origin, and that its columns agree with its note.
  NHI_ASSIGN_OR_RETURN(std::vector<store::CheckpointRow> rows, store.ListCheckpoints());
  std::vector<SignedCheckpoint> checkpoints;
  for (const auto& row : rows) {
    ++report.checkpoints;
    if (!key) continue;
    auto cp = tlog::OpenCheckpoint(row.note, *key, origin.empty() ? key->name : origin);
    if (!cp.ok()) {
      rep.Add(std::nullopt, "checkpoint at size " + Seq(row.size) +
                                ": signature or format does not verify: " + cp.status().message());
      continue;
    }
    if (cp->size != row.size || cp->root != row.root) {
      rep.Add(std::nullopt, "checkpoint at size " + Seq(row.size) +
                                ": stored size/root columns differ from its signed note");
    }
    checkpoints.push_back({cp->size, cp->root});
  }
  std::sort(checkpoints.begin(), checkpoints.end(),
            [](const auto& a, const auto& b) { return a.size < b.size; });
  uint64_t latest = checkpoints.empty() ? 0 : checkpoints.back().size;
  report.tree_size = latest;
  if (checkpoints.empty()) rep.Add(std::nullopt, "no verifiable checkpoint in the store");

  NHI_ASSIGN_OR_RETURN(uint64_t total, store.EventCount());
  size_t next_cp = 0;
  uint64_t good_size = 0;  // the largest checkpointed size whose root matched so far
  uint64_t problems_at_good = 0;
  auto check_checkpoints_at = [&](uint64_t size, const tlog::CompactRange& tree) {
    while (next_cp < checkpoints.size() && checkpoints[next_cp].size <= size) {
      const auto& cp = checkpoints[next_cp++];
      if (cp.size < size) continue;  // passed over: reported as missing events below
      tlog::Hash root = tree.Root();
      if (cp.size == latest) report.root = root;
      if (root == cp.root) {
        good_size = size;
        problems_at_good = report.problem_count;
        continue;
      }
      // The change is after the last checkpoint that matched. When something below was
      // already reported, that is the more precise name for it.
      std::optional<uint64_t> seq;
      if (report.problem_count == problems_at_good) seq = good_size;
      rep.Add(seq, "checkpoint at size " + Seq(size) +
                       ": the tree recomputed from the stored events has a different root "
                       "(a change in seq " +
                       Seq(good_size) + "-" + Seq(size - 1) + ")");
    }
  };

  tlog::CompactRange range;
  uint64_t expected = 0;
  uint64_t leaves_in_tree = 0;
  // Tree positions (level, index) already known to differ. A node is reported only when
  // neither child is in here: otherwise its difference is implied by the one below.
  std::set<std::pair<uint32_t, uint64_t>> bad_nodes;
  // Erasures: every erased raw record must be accounted for by an erasure event after it.
  std::map<uint64_t, int64_t> erased;          // seq -> erased_ns
  std::map<uint64_t, uint64_t> erasure_event;  // erased seq -> the first erasure event naming it
  auto mark_leaf = [&](uint64_t position) { bad_nodes.insert({0, position}); };
  check_checkpoints_at(0, range);
  Status scan = store.ScanEvents(0, [&](const store::EventRow& row) -> Status {
    ++report.events;
    uint64_t seq = row.seq;
    const uint64_t position = leaves_in_tree;  // where this row lands in the recomputed tree
    if (seq != expected) {
      mark_leaf(position);
      rep.Add(expected, seq > expected ? "seq " + Seq(expected) +
                                             (seq - expected > 1 ? "-" + Seq(seq - 1) : "") +
                                             ": missing (deleted)"
                                       : "seq " + Seq(seq) + ": out of order");
      expected = seq;
    }
    ++expected;

    // The leaf hash, from the bytes.
    tlog::Hash leaf_hash = tlog::LeafHash(row.leaf);
    if (leaf_hash != row.leaf_hash) {
      mark_leaf(position);
      rep.Add(seq, "seq " + Seq(seq) + ": the leaf bytes do not match the stored leaf hash");
    }
    // The leaf's content and the columns derived from it.
    auto decoded = event::DecodeLeaf(row.leaf);
    if (!decoded.ok()) {
      mark_leaf(position);
      rep.Add(seq, "seq " + Seq(seq) + ": " + decoded.status().message());
    } else {
      const event::Event& e = decoded->event;
      if (auto target = ledger::ErasedSeq(e)) erasure_event.emplace(*target, seq);
      if (decoded->envelope.seq != seq) {
        mark_leaf(position);
        rep.Add(seq, "seq " + Seq(seq) + ": the signed leaf says it is seq " +
                         Seq(decoded->envelope.seq) + " (rows were moved or renumbered)");
      }
      CheckColumn(rep, seq, "kind", row.kind, std::string(event::KindName(e.kind)));
      CheckColumn(rep, seq, "time_ns", row.time_ns, e.time_ns);
      CheckColumn(rep, seq, "ingested_ns", row.ingested_ns, decoded->envelope.ingested_ns);
      CheckColumn(rep, seq, "source_system", row.source_system, e.source_system);
      CheckColumn(rep, seq, "source_event_id", row.source_event_id, e.source_event_id);
      CheckColumn(rep, seq, "correlation_key", row.correlation_key, e.correlation_key);
      CheckColumn(rep, seq, "identity_key", row.identity_key, e.identity);
      CheckColumn(rep, seq, "actor_id", row.actor_id, e.actor ? e.actor->id : std::string());
      // The raw record against the salted hash the leaf commits to.
      const auto& digest = decoded->envelope.raw;
      if (digest && !row.raw_id) {
        rep.Add(seq, "seq " + Seq(seq) + ": the raw record the leaf commits to is missing");
      } else if (row.raw_id) {
        auto raw = store.GetRaw(*row.raw_id);
        if (!raw.ok()) return raw.status();
        if (!raw->has_value()) {
          rep.Add(seq, "seq " + Seq(seq) + ": raw record " + std::to_string(*row.raw_id) +
                           " is missing");
        } else if (!digest) {
          rep.Add(seq, "seq " + Seq(seq) + ": has a raw record its leaf does not commit to");
        } else {
          const store::RawRow& r = **raw;
          if (r.erased_ns) {
            ++report.raw_erased;
            erased.emplace(seq, *r.erased_ns);
            if (!r.bytes.empty() || !r.salt.empty()) {
              rep.Add(seq, "seq " + Seq(seq) +
                               ": raw record is marked erased but still holds "
                               "bytes");
            }
            if (r.salted_sha256 != digest->salted_sha256) {
              rep.Add(seq, "seq " + Seq(seq) + ": erased raw record's hash differs from the leaf");
            }
          } else {
            ++report.raw_checked;
            auto h = crypto::Sha256(r.salt, r.bytes);
            if (!crypto::ConstantTimeEquals(crypto::AsBytes(h), digest->salted_sha256) ||
                r.size != digest->size || r.bytes.size() != r.size) {
              rep.Add(seq, "seq " + Seq(seq) +
                               ": the raw record does not match the salted hash in its leaf");
            }
          }
        }
      }
    }

    // The tree, from the recomputed leaf hashes; the nodes this leaf completes are compared
    // with the ones stored in its row.
    std::vector<std::pair<tlog::NodeId, tlog::Hash>> made;
    range.Append(leaf_hash,
                 [&](const tlog::NodeId& id, const tlog::Hash& h) { made.emplace_back(id, h); });
    ++leaves_in_tree;
    if (row.tree_nodes.size() != made.size() * 32) {
      mark_leaf(position);
      rep.Add(seq, "seq " + Seq(seq) + ": holds " + std::to_string(row.tree_nodes.size() / 32) +
                       " tree node hashes where the tree completes " + std::to_string(made.size()));
    }
    for (size_t n = 0; n < made.size(); ++n) {
      const auto& [id, h] = made[n];
      ++report.nodes_checked;
      std::string_view stored;
      if (row.tree_nodes.size() >= (n + 1) * 32) {
        stored = std::string_view(row.tree_nodes).substr(n * 32, 32);
      }
      if (stored.size() == 32 && stored == crypto::AsBytes(h)) continue;
      bool implied = bad_nodes.count({id.level - 1, id.index * 2}) > 0 ||
                     bad_nodes.count({id.level - 1, id.index * 2 + 1}) > 0;
      bad_nodes.insert({id.level, id.index});
      if (implied) continue;
      rep.Add(id.first_leaf(),
              "tree node (level " + std::to_string(id.level) + ", index " +
                  std::to_string(id.index) + ") covering seq " + Seq(id.first_leaf()) + "-" +
                  Seq(id.first_leaf() + (uint64_t{1} << id.level) - 1) +
                  (stored.size() == 32 ? " differs from the recomputed hash" : " is missing"));
    }
    check_checkpoints_at(leaves_in_tree, range);
    if (options.progress && report.events % 65536 == 0) options.progress(report.events, total);
    return OkStatus();
  });
  NHI_RETURN_IF_ERROR(scan);
  if (options.progress) options.progress(report.events, total);

  for (const auto& [seq, erased_ns] : erased) {
    auto it = erasure_event.find(seq);
    if (it == erasure_event.end() || it->second <= seq) {
      rep.Add(seq, "seq " + Seq(seq) + ": raw record was erased (at " +
                       FormatRfc3339Utc(erased_ns, 6) +
                       ") but no erasure event in the ledger records it");
    }
  }
  for (const auto& [target, by] : erasure_event) {
    if (target >= by) {
      rep.Add(by, "seq " + Seq(by) + ": erasure event names seq " + Seq(target) +
                      ", which is not an earlier event");
    } else if (!erased.count(target)) {
      rep.Add(target, "seq " + Seq(target) + ": erasure event " + Seq(by) +
                          " records its raw record as erased, but the store still holds it (or "
                          "never had one)");
    }
  }

  if (leaves_in_tree < latest) {
    rep.Add(leaves_in_tree, "seq " + Seq(leaves_in_tree) + "-" + Seq(latest - 1) +
                                ": signed by checkpoint " + Seq(latest) + " but missing (deleted)");
  } else if (leaves_in_tree > latest) {
    rep.Add(latest, "seq " + Seq(latest) + "-" + Seq(leaves_in_tree - 1) +
                        ": not covered by any signed checkpoint (inserted after signing?)");
  }
  return report;
}

}  // namespace nhitrace::ledger
