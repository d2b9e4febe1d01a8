// ApiResponse: what a route handler returns, and the JSON error envelope.
//
// Every error the API sends, whoever produces it (a handler, the router, authentication, a limit,
// the HTTP library), has the body
//   {"error":{"code":"not_found","message":"no event with seq 12","details":{...}}}
// with `code` a stable snake_case name (docs/api/openapi.yaml lists them) and the HTTP status
// that matches it. Handlers return a Status for ordinary failures (mapped by HttpStatusFor) or
// build ApiResponse::Error for a specific status or details:
//
//   ApiResponse Handle(RequestContext& rc) {
//     NHI_ASSIGN_OR_RETURN(uint64_t seq, rc.PathUint("seq"));   // 400 on a bad number
//     ...
//     return ApiResponse::Json(200, w.Take());
//   }
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace nhitrace::api {

// The HTTP status for a canonical code: kInvalidArgument and kOutOfRange 400, kUnauthenticated
// 401, kPermissionDenied 403, kNotFound 404, kAlreadyExists, kFailedPrecondition and kAborted
// 409, kResourceExhausted 413, kUnimplemented 501, kUnavailable 503, others 500.
int HttpStatusFor(StatusCode code);
// The envelope's `code` for a canonical code ("invalid_argument", "not_found", ...).
std::string_view ErrorCodeFor(StatusCode code);

struct ApiResponse {
  int status = 200;
  std::string body;  // JSON
  std::vector<std::pair<std::string, std::string>> headers;
  // For 5xx errors: the detail that is logged with the request id but not sent to the client.
  std::string log_detail;

  ApiResponse() = default;
  // An error response for a non-OK status (a programming error for OK: it becomes a 500).
  ApiResponse(const Status& status);  // NOLINT(google-explicit-constructor): handlers return it

  // A success (or any) response with a JSON body.
  static ApiResponse Json(int status, std::string body);
  // An error envelope. `details_json` must be a JSON object.
  static ApiResponse Error(int status, std::string_view code, std::string_view message,
                           std::string details_json = "{}");

  ApiResponse& Header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
};

// The envelope's bytes (for the HTTP library's own errors, too). `message` may be any bytes:
// it is made valid UTF-8.
std::string ErrorBody(std::string_view code, std::string_view message,
                      std::string_view details_json = "{}");

// `s` if it is valid UTF-8, else `s` with each ill-formed byte replaced by U+FFFD.
std::string SanitizeUtf8(std::string_view s);

}  // namespace nhitrace::api
