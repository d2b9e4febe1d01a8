// GET /v1/health (liveness) and GET /v1/ready (readiness). Public: no token, no store detail.
#include "api/route_groups.h"

namespace nhitrace::api {

Status AddHealthRoutes(Router& router, Services& services) {
  NHI_RETURN_IF_ERROR(
      router.Add(Route::Public(Method::kGet, "/v1/health", [](RequestContext&) -> ApiResponse {
                   return ApiResponse::Json(200, R"({"status":"ok"})");
                 }).Summary("Liveness: the process answers")));
  return router.Add(
      Route::Public(Method::kGet, "/v1/ready", [&services](RequestContext& rc) -> ApiResponse {
        if (!services.serving.load() || !services.writer.accepting()) {
          return ApiResponse::Error(503, "not_ready", "the server is shutting down");
        }
        auto store = rc.Store();
        if (!store.ok()) {
          return ApiResponse::Error(503, "not_ready", "the store cannot be read");
        }
        auto cp = (*store)->LatestCheckpoint();
        if (!cp.ok() || !*cp) {
          return ApiResponse::Error(503, "not_ready", "the store has no checkpoint");
        }
        return ApiResponse::Json(200, R"({"status":"ready"})");
      }).Summary("Readiness: serving, the writer accepts work and the store can be read"));
}

}  // namespace nhitrace::api
