// The HashiCorp Vault audit device importer (`--format vault`): one JSON object per audit entry,
// as the file, socket and syslog devices write them (docs/importers/vault.md).
//
// Vault writes two entries per operation, a request ("type": "request") and a response
// ("type": "response"), joined by `request.id`. The response repeats the request (same HMACs) and
// adds the outcome, so it is the record an operation is mapped from:
//   - every call made with a token is an `action` of that token (`vault:accessor:<hmac>`, else
//     `vault:token:<hmac>`), failures (a denied request) included;
//   - logins and token creation are `provision`s of the new token, token and lease renewals
//     `rotation`s, token and lease revocations `revocation`s, leased secrets `provision`s of
//     `vault:lease:<lease_id>`.
// A login or token-creation request entry is the access request that opens the grant chain
// `vault:request:<request.id>` (kind `request`); its response's provision closes the same chain.
// Any other request entry is held until its response arrives and then dropped (the response holds
// all of it); if no response comes (Finish(), or more than Options::max_pending_requests /
// max_pending_bytes are waiting) it is mapped on its own, as the action it announced.
//
// HMAC'd values (`hmac-sha256:…`) are used as keys exactly as written; they are never unhashed.
// Every event is a function of its own entry, so re-importing any part of a log gives the same
// events. Not thread-safe: one importer per stream.
#pragma once

#include <cstddef>
#include <memory>

#include "ingest/importer.h"

namespace nhitrace::ingest::vault {

struct Options {
  // Bounds on request entries held for their responses; past either, the oldest is mapped alone.
  size_t max_pending_requests = 10000;
  size_t max_pending_bytes = 64u << 20;
};

// A new importer with default options.
std::unique_ptr<Importer> MakeImporter();
std::unique_ptr<Importer> MakeImporter(const Options& options);

// Whether `record` looks like a Vault audit entry: an object whose "type" is "request" or
// "response" and that has a "request" object.
bool LooksLike(const simdjson::dom::element& record);

}  // namespace nhitrace::ingest::vault
