// Status and Result<T>: how every fallible operation in nhitrace reports failure.
//
// Modelled on absl::Status with canonical codes. The code says what kind of failure it is (for
// exit statuses and HTTP mapping); the message carries the domain detail: where (source, line,
// sequence number), what (field) and why (reason). Exceptions never cross a module boundary:
// adapters around throwing libraries convert to Status.
//
//   Result<Event> r = ParseEvent(line);
//   if (!r.ok()) return r.status();
//   Event e = std::move(r).value();
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace nhitrace {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // the input is malformed; retrying the same input cannot succeed
  kNotFound,            // the named thing does not exist
  kAlreadyExists,       // creating something that is already there
  kFailedPrecondition,  // the system is not in a state where this is allowed
  kPermissionDenied,    // authenticated but not allowed
  kUnauthenticated,     // no or bad credentials
  kResourceExhausted,   // a limit was exceeded
  kOutOfRange,          // an index or size past the end
  kAborted,             // a conflict; the caller may retry
  kUnavailable,         // transient: the resource is busy or unreachable
  kDataLoss,            // stored data is corrupt or was tampered with
  kUnimplemented,
  kInternal,  // a bug: an invariant of ours does not hold
};

// Returns the canonical name, e.g. "INVALID_ARGUMENT".
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "INVALID_ARGUMENT: message", or "OK".
  std::string ToString() const;

  // Returns a copy whose message is "prefix: message" (same code). Used to add context while
  // an error travels up: WithContext("events.jsonl:12").
  Status WithContext(std::string_view prefix) const;

  // Marks a status as deliberately not inspected.
  void IgnoreError() const {}

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status OkStatus() { return Status(); }
inline Status InvalidArgumentError(std::string m) {
  return Status(StatusCode::kInvalidArgument, std::move(m));
}
inline Status NotFoundError(std::string m) { return Status(StatusCode::kNotFound, std::move(m)); }
inline Status AlreadyExistsError(std::string m) {
  return Status(StatusCode::kAlreadyExists, std::move(m));
}
inline Status FailedPreconditionError(std::string m) {
  return Status(StatusCode::kFailedPrecondition, std::move(m));
}
inline Status PermissionDeniedError(std::string m) {
  return Status(StatusCode::kPermissionDenied, std::move(m));
}
inline Status UnauthenticatedError(std::string m) {
  return Status(StatusCode::kUnauthenticated, std::move(m));
}
inline Status ResourceExhaustedError(std::string m) {
  return Status(StatusCode::kResourceExhausted, std::move(m));
}
inline Status OutOfRangeError(std::string m) {
  return Status(StatusCode::kOutOfRange, std::move(m));
}
inline Status AbortedError(std::string m) { return Status(StatusCode::kAborted, std::move(m)); }
inline Status UnavailableError(std::string m) {
  return Status(StatusCode::kUnavailable, std::move(m));
}
inline Status DataLossError(std::string m) { return Status(StatusCode::kDataLoss, std::move(m)); }
inline Status UnimplementedError(std::string m) {
  return Status(StatusCode::kUnimplemented, std::move(m));
}
inline Status InternalError(std::string m) { return Status(StatusCode::kInternal, std::move(m)); }

// Result<T> holds either a T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  // REQUIRES: !status.ok(). An OK status without a value is a programming error and is turned
  // into kInternal so that it cannot pass for success.
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    if (std::get<Status>(v_).ok()) v_ = InternalError("Result constructed from OK status");
  }
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return std::holds_alternative<T>(v_); }

  // The error; OK when a value is held.
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }

  // REQUIRES: ok().
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace nhitrace

#define NHI_CONCAT_INNER_(a, b) a##b
#define NHI_CONCAT_(a, b) NHI_CONCAT_INNER_(a, b)

// Returns from the current function when `expr` (a Status) is not OK.
// (Each expansion gets its own variable name, so the macro nests, e.g. inside a lambda that is
// itself an argument of the macro.)
#define NHI_RETURN_IF_ERROR(expr) \
  NHI_RETURN_IF_ERROR_IMPL_(NHI_CONCAT_(nhi_status_, __COUNTER__), expr)
#define NHI_RETURN_IF_ERROR_IMPL_(tmp, expr) \
  do {                                       \
    ::nhitrace::Status tmp = (expr);         \
    if (!tmp.ok()) return tmp;               \
  } while (0)

// NHI_ASSIGN_OR_RETURN(auto x, MakeX()); declares/assigns x or returns the error.
#define NHI_ASSIGN_OR_RETURN(lhs, expr) \
  NHI_ASSIGN_OR_RETURN_IMPL_(NHI_CONCAT_(nhi_result_, __COUNTER__), lhs, expr)
#define NHI_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return tmp.status();              \
  lhs = std::move(tmp).value()
