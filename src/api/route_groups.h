// Route groups: each file routes_<group>.cc adds its routes with one Add<Group>Routes function.
// To add a group (docs/api/README.md, "Adding routes"): write src/api/routes_<group>.cc, declare
// its function here, call it in AddAllRoutes (route_groups.cc), list the file in
// src/api/CMakeLists.txt, and document the routes in docs/api/openapi.yaml.
#pragma once

#include "api/router.h"
#include "base/status.h"

namespace nhitrace::api {

// GET /v1/health, GET /v1/ready.
Status AddHealthRoutes(Router& router, Services& services);
// POST /v1/ingest.
Status AddIngestRoutes(Router& router, Services& services);
// Events, checkpoints, proofs, quarantine.
Status AddLedgerRoutes(Router& router, Services& services);
// Trace and identities.
Status AddTraceRoutes(Router& router, Services& services);
// Tokens and the API audit trail.
Status AddTokenRoutes(Router& router, Services& services);
// Findings of reconciliation.
Status AddFindingRoutes(Router& router, Services& services);
// Policy versions: list, show, publish.
Status AddPolicyRoutes(Router& router, Services& services);
// Cases: list, show, explain, closure check, and every case operation.
Status AddCaseRoutes(Router& router, Services& services);

// Every group above.
Status AddAllRoutes(Router& router, Services& services);

}  // namespace nhitrace::api
