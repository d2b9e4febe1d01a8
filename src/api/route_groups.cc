#include "api/route_groups.h"

namespace nhitrace::api {

Status AddAllRoutes(Router& router, Services& services) {
  NHI_RETURN_IF_ERROR(AddHealthRoutes(router, services));
  NHI_RETURN_IF_ERROR(AddIngestRoutes(router, services));
  NHI_RETURN_IF_ERROR(AddLedgerRoutes(router, services));
  NHI_RETURN_IF_ERROR(AddTraceRoutes(router, services));
  NHI_RETURN_IF_ERROR(AddTokenRoutes(router, services));
  NHI_RETURN_IF_ERROR(AddFindingRoutes(router, services));
  NHI_RETURN_IF_ERROR(AddPolicyRoutes(router, services));
  NHI_RETURN_IF_ERROR(AddCaseRoutes(router, services));
  return OkStatus();
}

}  // namespace nhitrace::api
