// The human-readable form of a trace: what `nhitrace trace` prints and what an evidence pack
// carries as its summary (docs/format/evidence-pack.md), so the two can never differ.
//
//   NHI_ASSIGN_OR_RETURN(Trace t, BuildTrace(store, TraceQuery{.request = "SEC-4711"}));
//   std::string text = TraceToText(t);  // 80 columns, ends in "\n"
#pragma once

#include <string>

#include "correlate/trace.h"

namespace nhitrace::correlate {

// The trace as text, a pure function of `trace` (times in UTC). For an identity query it opens
// with the identity and its keys; for a request query it shows the one grant; for an event
// query, the event and the chain (or identity) it belongs to.
std::string TraceToText(const Trace& trace);

}  // namespace nhitrace::correlate
