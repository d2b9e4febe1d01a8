// The actions table (store::ActionRow): what attributing an action to a grant reads of it, kept
// per identity and time so that reconciliation, traces and reports go through an identity's
// actions without decoding their leaves.
//
//   txn.PutAction(ActionRowOf(seq, event));           // when an action is appended
//   ActionReader reader;                               // one per scan: reuses its JSON parser
//   NHI_ASSIGN_OR_RETURN(ChainEvent ce, reader.Read(row));
#pragma once

#include <cstdint>

#include "base/status.h"
#include "correlate/grant_chain.h"
#include "json/dom.h"
#include "store/store.h"

namespace nhitrace::correlate {

// The row of action `e`, appended as `seq`. REQUIRES: e.kind is kAction and e.identity is set.
store::ActionRow ActionRowOf(uint64_t seq, const event::Event& e);

// Reads rows back into the events attribution reads: seq, kind (action), time, identity,
// outcome (its result, when "failure"), scope and delegation (its credential only). Every other
// field is empty; decode the leaf (DecodeEventRow) for the whole event.
class ActionReader {
 public:
  // kDataLoss, naming the seq, when the stored scope is not a scope object.
  Result<ChainEvent> Read(const store::ActionRow& row);

 private:
  simdjson::dom::parser parser_;
};

}  // namespace nhitrace::correlate
