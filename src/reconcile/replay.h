// Replay: re-evaluate a finding's rule on the evidence as it stood when the finding was recorded
// (the events with seq <= its evidence horizon), with the policy version it recorded or another
// one, at its recorded as_of, and say whether the outcome is the same.
//
// When only nhitrace's own findings and policies came after the horizon, the live store is the
// evidence as it stood; otherwise the events up to the horizon are copied into a scratch store
// (in a temporary directory, removed afterwards) and its derived state is rebuilt there.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "reconcile/finding.h"
#include "store/store.h"

namespace nhitrace::reconcile {

struct ReplayResult {
  Finding recorded;                 // the finding's latest revision
  uint64_t policy_version = 0;      // the policy the replay used
  bool expected_to_fire = false;    // the recorded revision is open or updated
  bool fires = false;               // the rule fires on the subject in the replay
  std::optional<Finding> replayed;  // what the replay found, when it fires
  bool same = false;
  std::vector<std::string> differences;  // in words, when !same
  bool scratch = false;                  // evaluated on a copy of the ledger up to the horizon
};

// kNotFound for an unknown finding id or policy version.
Result<ReplayResult> Replay(store::Store& store, const std::string& finding_id,
                            std::optional<uint64_t> policy_version);

}  // namespace nhitrace::reconcile
