// Whole-store verification: re-derives everything from the stored bytes and names what differs.
//
// `Verify` re-hashes every leaf from its bytes (not trusting stored hashes), checks that each
// leaf is the canonical encoding of its content with its own sequence number, that every column
// derived from a leaf matches it, that every kept raw record matches the salted hash its leaf
// commits to, recomputes the Merkle tree and compares every stored node, and checks every
// stored checkpoint's signature and root. Tampering is a finding in the report, never a crash;
// the report names the first bad sequence number.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "store/store.h"
#include "tlog/merkle.h"
#include "tlog/note.h"

namespace nhitrace::ledger {

struct VerifyOptions {
  // Verify checkpoints against this key instead of the verifier key stored in the store (which
  // whoever can write the store could also replace).
  std::optional<tlog::NoteVerifier> trusted_key;
  size_t max_problems = 50;  // details kept; all are counted
  // Called now and then with (events checked, events in total).
  std::function<void(uint64_t, uint64_t)> progress;
};

struct VerifyProblem {
  std::optional<uint64_t> seq;  // the sequence number concerned, when there is one
  std::string what;
};

struct VerifyReport {
  uint64_t events = 0;       // rows read
  uint64_t raw_checked = 0;  // raw records re-hashed
  uint64_t raw_erased = 0;   // raw records erased on request (their hash still checked)
  uint64_t nodes_checked = 0;
  uint64_t checkpoints = 0;
  uint64_t tree_size = 0;    // of the latest checkpoint
  tlog::Hash root{};         // recomputed root at tree_size
  std::string key;           // the verifier key used
  bool key_trusted = false;  // it was given by the caller (not read from the store)
  std::vector<VerifyProblem> problems;
  uint64_t problem_count = 0;
  std::optional<uint64_t> first_bad_seq;

  bool ok() const { return problem_count == 0; }
};

// Fails (rather than reporting) only when the store cannot be read at all.
Result<VerifyReport> Verify(store::Store& store, const VerifyOptions& options);

}  // namespace nhitrace::ledger
