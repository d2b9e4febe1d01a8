#include "evidence/verify_pack.h"

#include <algorithm>
#include <map>
#include <set>
#include <variant>

#include "crypto/sha256.h"
#include "event/codec.h"
#include "evidence/summary.h"
#include "ledger/erasure.h"
#include "tlog/checkpoint.h"
#include "tlog/proof.h"

namespace nhitrace::evidence {

std::string PackProblem::ToString() const {
  std::string s = line ? "line " + std::to_string(line) + ": " : std::string();
  s += part;
  if (!item.empty()) s += " " + item;
  return s + ": " + what;
}

namespace {

enum PartIndex : size_t { kHeader, kKey, kCheckpoint, kConsistency, kEvent, kPolicy, kSummary };

std::string SeqItem(uint64_t seq) { return "seq " + std::to_string(seq); }

std::string PolicyItem(const std::string& id, const std::string& version) {
  return version.empty() ? id : id + " v" + version;
}

// Where two texts first differ, for messages.
std::string FirstDifference(const std::string& have, const std::string& want) {
  size_t i = 0;
  while (i < have.size() && i < want.size() && have[i] == want[i]) ++i;
  size_t from = i > 30 ? i - 30 : 0;
  auto cut = [&](const std::string& s) {
    std::string out = s.substr(from, 60);
    for (char& c : out) {
      if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    }
    return "\"" + out + "\"";
  };
  return "first difference at byte " + std::to_string(i) + ": the pack has " + cut(have) +
         ", recomputed " + cut(want);
}

class Checker {
 public:
  Checker(std::string_view pack, const VerifyPackOptions& options, PackReport* report)
      : pack_(pack), options_(options), r_(report) {}

  Status Run();

 private:
  void Problem(uint64_t line, std::string part, std::string item, std::string what) {
    ++r_->problem_count;
    if (r_->problems.size() < options_.max_problems) {
      r_->problems.push_back({line, std::move(part), std::move(item), std::move(what)});
    }
  }

  // The part a line should be, by its position (for lines that do not parse).
  std::string PartAt(size_t index) const {
    if (index < 4) return kPartNames[index];
    if (index + 1 == lines_.size()) return "summary";
    if (header_ && index < 4 + header_->events) return "event";
    return header_ ? "policy" : "event";
  }

  void OnHeader(uint64_t line, const HeaderLine& h);
  void OnKey(uint64_t line, const KeyLine& k);
  void OnCheckpoint(uint64_t line, const CheckpointLine& c);
  void OnConsistency(uint64_t line, const ConsistencyLine& c);
  void OnEvent(uint64_t line, EventLine& e);
  void OnPolicy(uint64_t line, PolicyLine& p);
  Status OnSummary(uint64_t line, const SummaryLine& s);
  void CheckErasures();
  void CheckPolicies();

  std::string_view pack_;
  const VerifyPackOptions& options_;
  PackReport* r_;
  std::vector<std::string_view> lines_;

  std::optional<HeaderLine> header_;
  std::optional<tlog::NoteVerifier> key_;
  std::optional<tlog::Checkpoint> checkpoint_;
  uint64_t event_lines_ = 0;
  bool events_ok_ = true;  // every event line parsed and verified
  std::optional<uint64_t> last_seq_;
  std::vector<PackEvent> events_;
  std::map<uint64_t, size_t> event_index_;  // seq -> index in events_
  struct ErasedRef {
    uint64_t line, seq, by;
  };
  std::vector<ErasedRef> erased_;
  std::set<uint64_t> raw_kept_;
  struct PolicyRef {
    uint64_t line;
    PolicyLine policy;
  };
  std::vector<PolicyRef> policies_;
  bool policy_seen_ = false;
};

void Checker::OnHeader(uint64_t line, const HeaderLine& h) {
  r_->version = h.version;
  header_ = h;
  (void)line;
}

void Checker::OnKey(uint64_t line, const KeyLine& k) {
  auto parsed = tlog::NoteVerifier::Parse(k.verifier_key);
  if (!parsed.ok()) {
    Problem(line, "key", "", "not a verifier key: " + parsed.status().message());
  } else {
    key_ = *parsed;
  }
  if (options_.trusted_key) {
    if (!key_ || key_->ToString() != options_.trusted_key->ToString()) {
      Problem(line, "key", "",
              "the pack's key is not the trusted key " + options_.trusted_key->ToString());
    }
    key_ = options_.trusted_key;
    r_->key_trusted = true;
  }
  if (key_) r_->key = key_->ToString();
}

void Checker::OnCheckpoint(uint64_t line, const CheckpointLine& c) {
  if (!key_) {
    Problem(line, "checkpoint", "", "not checked: no valid verifier key");
    return;
  }
  auto cp = tlog::OpenCheckpoint(c.note, *key_);
  if (!cp.ok()) {
    Problem(line, "checkpoint", "", "does not verify: " + cp.status().message());
    return;
  }
  if (cp->size == 0) {
    Problem(line, "checkpoint", "", "is the empty tree, which holds no event");
    return;
  }
  checkpoint_ = *cp;
  r_->checkpoint_size = cp->size;
  r_->checkpoint_root = cp->root;
}

void Checker::OnConsistency(uint64_t line, const ConsistencyLine& c) {
  if (!key_) {
    Problem(line, "consistency", "", "not checked: no valid verifier key");
    return;
  }
  auto latest = tlog::OpenCheckpoint(c.latest, *key_);
  if (!latest.ok()) {
    Problem(line, "consistency", "",
            "the latest checkpoint does not verify: " + latest.status().message());
    return;
  }
  r_->latest_size = latest->size;
  r_->latest_root = latest->root;
  if (!checkpoint_) {
    Problem(line, "consistency", "", "not checked: the checkpoint did not verify");
    return;
  }
  if (latest->size < checkpoint_->size) {
    Problem(line, "consistency", "",
            "the latest checkpoint (size " + std::to_string(latest->size) +
                ") is smaller than the checkpoint (size " + std::to_string(checkpoint_->size) +
                ")");
    return;
  }
  Status s = tlog::VerifyConsistency(checkpoint_->size, latest->size, c.hashes, checkpoint_->root,
                                     latest->root);
  if (!s.ok()) {
    Problem(line, "consistency", "",
            "the proof does not show the tree of size " + std::to_string(checkpoint_->size) +
                " to be a prefix of the tree of size " + std::to_string(latest->size) + ": " +
                s.message());
  }
}

void Checker::OnEvent(uint64_t line, EventLine& e) {
  ++r_->events;
  const std::string item = SeqItem(e.seq);
  const uint64_t problems_before = r_->problem_count;
  if (last_seq_ && e.seq <= *last_seq_) {
    Problem(line, "event", item,
            "comes after seq " + std::to_string(*last_seq_) +
                " (events are in ascending order, each once)");
  }
  last_seq_ = std::max(last_seq_.value_or(0), e.seq);

  auto decoded = event::DecodeLeaf(e.leaf);
  if (!decoded.ok()) {
    Problem(line, "event", item, "leaf: " + decoded.status().message());
    events_ok_ = false;
    return;
  }
  if (decoded->envelope.seq != e.seq) {
    Problem(line, "event", item,
            "the signed leaf says it is seq " + std::to_string(decoded->envelope.seq));
  }
  if (checkpoint_) {
    if (e.seq >= checkpoint_->size) {
      Problem(
          line, "event", item,
          "is not in the tree of the checkpoint (size " + std::to_string(checkpoint_->size) + ")");
    } else {
      Status s = tlog::VerifyInclusion(e.seq, checkpoint_->size, tlog::LeafHash(e.leaf), e.proof,
                                       checkpoint_->root);
      if (!s.ok()) {
        Problem(line, "event", item,
                "the inclusion proof does not lead to the checkpoint's root: " + s.message());
      }
    }
  } else {
    events_ok_ = false;  // unproven; the checkpoint's problem is reported once
  }
  const auto& digest = decoded->envelope.raw;
  if (digest) {
    if (e.raw) {
      ++r_->raw_checked;
      crypto::Hash h = crypto::Sha256(*e.salt, *e.raw);
      if (crypto::AsBytes(h) != digest->salted_sha256 || e.raw->size() != digest->size) {
        Problem(line, "event", item,
                "the raw record (with its salt) does not match the salted hash its leaf commits "
                "to");
      }
      raw_kept_.insert(e.seq);
    } else if (e.erased_by) {
      ++r_->raw_erased;
      erased_.push_back({line, e.seq, *e.erased_by});
    } else {
      Problem(line, "event", item,
              "the raw record its leaf commits to is missing (neither raw nor erased_by)");
    }
  } else if (e.raw || e.erased_by) {
    Problem(line, "event", item, "has a raw record its leaf does not commit to");
  }
  if (r_->problem_count != problems_before) events_ok_ = false;
  if (event_index_.emplace(e.seq, events_.size()).second) {
    events_.push_back(MakePackEvent(e.seq, std::move(e.leaf), *decoded));
  }
}

void Checker::OnPolicy(uint64_t line, PolicyLine& p) {
  if (!policies_.empty()) {
    const PolicyLine& prev = policies_.back().policy;
    if (std::tie(prev.id, prev.version) >= std::tie(p.id, p.version)) {
      Problem(line, "policy", PolicyItem(p.id, p.version),
              "comes after " + PolicyItem(prev.id, prev.version) +
                  " (policy lines are in ascending order of id and version, each once)");
    }
  }
  ++r_->policies;
  policies_.push_back({line, std::move(p)});
}

void Checker::CheckErasures() {
  std::map<uint64_t, uint64_t> erased_by_event;  // target -> erasure event
  for (const PackEvent& pe : events_) {
    if (pe.erased_seq) erased_by_event.emplace(*pe.erased_seq, pe.seq);
  }
  for (const ErasedRef& e : erased_) {
    auto it = event_index_.find(e.by);
    std::optional<uint64_t> target;
    if (it != event_index_.end()) target = events_[it->second].erased_seq;
    if (target != e.seq || e.by <= e.seq) {
      Problem(e.line, "event", SeqItem(e.seq),
              "says its raw record was erased by seq " + std::to_string(e.by) +
                  ", but the pack holds no erasure event " + std::to_string(e.by) +
                  " that erased it");
      events_ok_ = false;
    }
  }
  for (const auto& [target, by] : erased_by_event) {
    if (raw_kept_.count(target)) {
      Problem(0, "event", SeqItem(target),
              "the pack holds its raw record, which erasure event seq " + std::to_string(by) +
                  " erased");
    }
  }
}

void Checker::CheckPolicies() {
  // The policy versions the events name, and the pack's policy events publishing each.
  std::map<std::pair<std::string, std::string>, std::vector<uint64_t>> want;
  for (const PackEvent& pe : events_) {
    if (pe.kind != event::Kind::kPolicy && pe.policy) want[*pe.policy];
  }
  for (const PackEvent& pe : events_) {
    if (pe.kind != event::Kind::kPolicy || !pe.policy) continue;
    auto it = want.find(*pe.policy);
    if (it != want.end()) it->second.push_back(pe.seq);
  }
  std::set<std::pair<std::string, std::string>> listed;
  for (const PolicyRef& ref : policies_) {
    const PolicyLine& p = ref.policy;
    const std::string item = PolicyItem(p.id, p.version);
    listed.insert({p.id, p.version});
    auto it = want.find({p.id, p.version});
    if (it == want.end()) {
      Problem(ref.line, "policy", item, "no event of the pack names this policy version");
      continue;
    }
    if (p.events != it->second) {
      std::string have, expect;
      for (uint64_t s : p.events) have += (have.empty() ? "" : ",") + std::to_string(s);
      for (uint64_t s : it->second) expect += (expect.empty() ? "" : ",") + std::to_string(s);
      Problem(ref.line, "policy", item,
              "lists the policy events [" + have + "] but the pack's policy events for it are [" +
                  expect + "]");
    }
  }
  for (const auto& [key, seqs] : want) {
    if (!listed.count(key)) {
      Problem(0, "policy", PolicyItem(key.first, key.second),
              "events of the pack name this policy version, but the pack has no policy line for "
              "it");
    }
  }
}

Status Checker::OnSummary(uint64_t line, const SummaryLine& s) {
  r_->query = s.query;
  r_->summary_type = s.type;
  Status valid = ValidateQuery(s.query);
  if (!valid.ok()) {
    Problem(line, "summary", "", "query: " + valid.message());
    return OkStatus();
  }
  // Each query has one format version: a case needs 2 (version 1 has no case packs), the others
  // are 1 (so a changed version byte is caught).
  if (header_ && header_->version != PackVersionFor(s.query)) {
    if (header_->version == kPackVersion1) {
      Problem(line, "summary", "",
              "pack format version 1 has no case packs: a pack for " + DescribeQuery(s.query) +
                  " is version " + std::to_string(PackVersionFor(s.query)));
      return OkStatus();
    }
    Problem(1, "header", "",
            "a pack for " + DescribeQuery(s.query) + " is format version " +
                std::to_string(PackVersionFor(s.query)) + ", not " +
                std::to_string(header_->version));
  }
  if (header_ && header_->version == kPackVersion1 && s.type == "case") {
    Problem(line, "summary", "", "type \"case\" is not in pack format version 1");
    return OkStatus();
  }
  if (!events_ok_) return OkStatus();  // computed from the events, which did not all verify
  auto summary = ComputeSummary(
      s.query, events_, options_.scratch_dir.empty() ? DefaultScratchDir() : options_.scratch_dir,
      checkpoint_ ? checkpoint_->size : 0);
  if (!summary.ok()) {
    if (summary.status().code() == StatusCode::kUnavailable) return summary.status();
    Problem(line, "summary", "",
            "cannot be recomputed from the pack's events for " + DescribeQuery(s.query) + ": " +
                summary.status().message());
    return OkStatus();
  }
  r_->summary_checked = true;
  if (s.type != summary->type) {
    Problem(line, "summary", "",
            "type is \"" + s.type + "\" but a pack for " + DescribeQuery(s.query) + " has a " +
                summary->type);
  }
  if (s.json != summary->json) {
    Problem(line, "summary", "json",
            "differs from the " + summary->type + " recomputed from the pack's events (" +
                FirstDifference(s.json, summary->json) + ")");
  }
  if (s.text != summary->text) {
    Problem(line, "summary", "text",
            "differs from the " + summary->type + " recomputed from the pack's events (" +
                FirstDifference(s.text, summary->text) + ")");
  }
  return OkStatus();
}

Status Checker::Run() {
  if (pack_.empty()) {
    Problem(0, "pack", "", "the file is empty");
    return OkStatus();
  }
  if (pack_.back() != '\n') Problem(0, "pack", "", "does not end with a newline (cut short?)");
  for (size_t pos = 0; pos < pack_.size();) {
    size_t nl = pack_.find('\n', pos);
    if (nl == std::string_view::npos) nl = pack_.size();
    lines_.push_back(pack_.substr(pos, nl - pos));
    pos = nl + 1;
  }
  LineParser parser;
  // Stage of the layout: the fixed lines 1-4, then events, then policies, then the summary.
  std::optional<SummaryLine> summary;
  for (size_t i = 0; i < lines_.size(); ++i) {
    const uint64_t n = i + 1;
    auto parsed = parser.Parse(lines_[i]);
    if (!parsed.ok()) {
      std::string part = PartAt(i);
      if (part == "event") events_ok_ = false;
      Problem(n, part, "", parsed.status().message());
      if (i == 0) {
        // Without a header the rest cannot be trusted to be a pack at all.
        return OkStatus();
      }
      continue;
    }
    PackLine& l = *parsed;
    const size_t index = l.index();
    // One encoding per pack: any other (member order, escapes, white space) is named too.
    const std::string canonical = std::visit([](const auto& x) { return EncodeLine(x); }, l);
    if (std::string_view(canonical).substr(0, canonical.size() - 1) != lines_[i]) {
      Problem(n, kPartNames[index], "",
              "not in canonical form (RFC 8785: members sorted, no white space, shortest "
              "escapes; base64 padded)");
      if (index == kEvent) events_ok_ = false;
    }
    const bool last = i + 1 == lines_.size();
    // The fixed lines are used only in their place.
    if (index < kEvent || index == kSummary) {
      size_t want_at = index == kSummary ? lines_.size() - 1 : index;
      if (i != want_at) {
        Problem(n, kPartNames[index], "",
                std::string("out of place (expected ") + PartAt(i) + " here)");
        continue;
      }
    } else if (i < 4 || last) {
      Problem(n, kPartNames[index], "",
              std::string("out of place (expected ") + PartAt(i) + " here)");
      if (index == kEvent) events_ok_ = false;
      continue;
    }
    switch (index) {
      case kHeader:
        OnHeader(n, std::get<HeaderLine>(l));
        if (header_->version != kPackVersion1 && header_->version != kPackVersion) {
          Problem(n, "header", "",
                  "pack format version " + std::to_string(header_->version) +
                      " is not supported (this nhitrace reads versions 1 and 2)");
          return OkStatus();
        }
        break;
      case kKey:
        OnKey(n, std::get<KeyLine>(l));
        break;
      case kCheckpoint:
        OnCheckpoint(n, std::get<CheckpointLine>(l));
        break;
      case kConsistency:
        OnConsistency(n, std::get<ConsistencyLine>(l));
        break;
      case kEvent:
        ++event_lines_;
        if (policy_seen_) {
          Problem(n, "event", SeqItem(std::get<EventLine>(l).seq),
                  "out of place (events come before the policy lines)");
        }
        OnEvent(n, std::get<EventLine>(l));
        break;
      case kPolicy:
        policy_seen_ = true;
        OnPolicy(n, std::get<PolicyLine>(l));
        break;
      case kSummary:
        // Checked last, once everything it is computed from has been.
        summary = std::move(std::get<SummaryLine>(l));
        break;
    }
  }
  if (lines_.size() < 5)
    Problem(0, "pack", "", "is cut short: it has " + std::to_string(lines_.size()) + " lines");
  if (header_ && header_->events != event_lines_) {
    Problem(1, "header", "",
            "says the pack has " + std::to_string(header_->events) + " events, but it has " +
                std::to_string(event_lines_));
  }
  if (event_lines_ == 0) Problem(0, "pack", "", "holds no event");
  CheckErasures();
  CheckPolicies();
  if (!summary) {
    Problem(0, "summary", "", "missing (the last line is not a summary)");
    return OkStatus();
  }
  return OnSummary(lines_.size(), *summary);
}

}  // namespace

Result<PackReport> VerifyPack(std::string_view pack, const VerifyPackOptions& options) {
  PackReport report;
  Checker checker(pack, options, &report);
  NHI_RETURN_IF_ERROR(checker.Run());
  return report;
}

}  // namespace nhitrace::evidence
