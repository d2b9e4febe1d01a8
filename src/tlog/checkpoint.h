// C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint): the signed statement of the ledger's
// size and root hash.
//
//   <origin>\n<decimal tree size>\n<base64 root hash>\n[extension lines]\n
// signed as a C2SP signed-note (see note.h). nhitrace writes no extension lines and accepts
// (but does not interpret) them when parsing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "tlog/merkle.h"
#include "tlog/note.h"

namespace nhitrace::tlog {

struct Checkpoint {
  std::string origin;
  uint64_t size = 0;
  Hash root{};
  std::vector<std::string> extensions;

  // The note text ("body") of the checkpoint.
  std::string Body() const;
  // Parses a note text (not the signed note). kInvalidArgument names the bad line.
  static Result<Checkpoint> ParseBody(std::string_view text);
};

// Signs a checkpoint into a signed note.
Result<std::string> SignCheckpoint(const Checkpoint& cp, const NoteSigner& signer);

// Opens a signed checkpoint, verifies it against `verifier` and parses it. Fails unless the
// verifier's key signed it and its origin equals the verifier's key name when `origin` is
// empty, else `origin`.
Result<Checkpoint> OpenCheckpoint(std::string_view signed_note, const NoteVerifier& verifier,
                                  std::string_view origin = {});

}  // namespace nhitrace::tlog
