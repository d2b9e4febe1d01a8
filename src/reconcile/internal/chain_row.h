// A grant chain read back from its stored row (grants.doc, the canonical JSON of
// correlate::ChainToJson, with start/end taken exactly from the row's columns), so that
// reconciliation judges the chains correlate derived instead of deriving them again.
#pragma once

#include "base/status.h"
#include "correlate/grant_chain.h"
#include "store/store.h"

namespace nhitrace::reconcile::internal {

// kDataLoss when the document is not a chain document.
Result<correlate::GrantChain> ChainFromRow(const store::GrantRow& row);

}  // namespace nhitrace::reconcile::internal
