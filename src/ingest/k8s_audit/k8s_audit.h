// The Kubernetes audit importer (`--format k8s-audit`): `audit.k8s.io/v1` Event records as the
// API server's log backend writes them (one per line), and the AKS diagnostic-settings envelope
// that carries the same Event as a JSON string in `properties.log` (docs/importers/k8s-audit.md).
//
// Only the final stage of a request is mapped (`ResponseComplete`, or `Panic`); the earlier
// stages of the same request (`RequestReceived`, `ResponseStarted`) are counted as not
// NHI-relevant ("stage ResponseStarted"), so one request is one set of events.
//   - service account create / delete: `provision` / `revocation` of `k8s:sa:<ns>/<name>`;
//   - `serviceaccounts/token` create (TokenRequest): `provision` of the issued token, aliased to
//     the service account, with its expiry as the window;
//   - `kubernetes.io/service-account-token` secrets: `provision` / `revocation` of
//     `k8s:secret:<ns>/<name>`, aliased to the service account;
//   - node bootstrap token secrets (kube-system/bootstrap-token-<id>): `provision` /
//     `revocation` of `k8s:bootstrap-token:<id>`;
//   - role and cluster role bindings: one `provision` per subject (scope: the role) in the grant
//     chain of the binding, and a `revocation` of the binding when it is deleted;
//   - every request made as `system:serviceaccount:<ns>:<name>` or `system:bootstrap:<id>` (also
//     through impersonation) is an `action` of that identity.
// Anything else is not NHI-relevant, counted as "<verb> <resource>".
//
// Every event is a function of its own record. Not thread-safe: one importer per stream.
#pragma once

#include <memory>

#include "ingest/importer.h"

namespace nhitrace::ingest::k8s_audit {

// A new importer.
std::unique_ptr<Importer> MakeImporter();

// Whether `record` looks like a Kubernetes audit record: an object with "kind": "Event" and an
// "auditID" or an "apiVersion" of "audit.k8s.io/…", or an AKS diagnostic record (a "category"
// starting with "kube-audit" and a "properties" object).
bool LooksLike(const simdjson::dom::element& record);

}  // namespace nhitrace::ingest::k8s_audit
