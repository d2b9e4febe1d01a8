#include "api/response.h"

#include "base/utf8.h"
#include "json/writer.h"

namespace nhitrace::api {

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
    case StatusCode::kOutOfRange:
      return 400;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kAborted:
      return 409;
    case StatusCode::kResourceExhausted:
      return 413;
    case StatusCode::kUnimplemented:
      return 501;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kDataLoss:
    case StatusCode::kInternal:
      return 500;
  }
  return 500;
}

std::string_view ErrorCodeFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "ok";
    case StatusCode::kInvalidArgument:
      return "invalid_argument";
    case StatusCode::kOutOfRange:
      return "out_of_range";
    case StatusCode::kUnauthenticated:
      return "unauthenticated";
    case StatusCode::kPermissionDenied:
      return "forbidden";
    case StatusCode::kNotFound:
      return "not_found";
    case StatusCode::kAlreadyExists:
      return "already_exists";
    case StatusCode::kFailedPrecondition:
      return "failed_precondition";
    case StatusCode::kAborted:
      return "aborted";
    case StatusCode::kResourceExhausted:
      return "payload_too_large";
    case StatusCode::kUnimplemented:
      return "not_implemented";
    case StatusCode::kUnavailable:
      return "unavailable";
    case StatusCode::kDataLoss:
      return "data_loss";
    case StatusCode::kInternal:
      return "internal";
  }
  return "internal";
}

std::string SanitizeUtf8(std::string_view s) {
  size_t bad = 0;
  if (IsValidUtf8(s, &bad)) return std::string(s);
  std::string out(s.substr(0, bad));
  out += "\xEF\xBF\xBD";
  if (bad + 1 < s.size()) out += SanitizeUtf8(s.substr(bad + 1));
  return out;
}

std::string ErrorBody(std::string_view code, std::string_view message,
                      std::string_view details_json) {
  json::JsonWriter w;
  w.BeginObject();
  w.Key("error").BeginObject();
  w.Key("code").String(code);
  w.Key("message").String(SanitizeUtf8(message));
  w.Key("details").Raw(details_json.empty() ? "{}" : details_json);
  w.EndObject();
  w.EndObject();
  return w.Take();
}

ApiResponse::ApiResponse(const Status& s) {
  StatusCode code = s.ok() ? StatusCode::kInternal : s.code();
  status = HttpStatusFor(code);
  std::string message = s.ok() ? "handler returned OK without a response" : s.message();
  if (status >= 500 && status != 503 && status != 501) {
    // Internal detail (SQL, file paths) stays in the server log.
    log_detail = message;
    message = code == StatusCode::kDataLoss
                  ? "the store failed an integrity check; an operator should run nhitrace verify"
                  : "internal error; the server log has the detail under this request id";
  }
  body = ErrorBody(ErrorCodeFor(code), message);
}

ApiResponse ApiResponse::Json(int status, std::string body) {
  ApiResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

ApiResponse ApiResponse::Error(int status, std::string_view code, std::string_view message,
                               std::string details_json) {
  ApiResponse r;
  r.status = status;
  r.body = ErrorBody(code, message, details_json);
  return r;
}

}  // namespace nhitrace::api
