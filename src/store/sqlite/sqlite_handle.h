// RAII wrappers over the SQLite C API: a connection, prepared statements, and the mapping of
// SQLite result codes to Status. Internal to the SQLite backend.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <sqlite3.h>

#include "base/status.h"

namespace nhitrace::store::sqlite {

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using DbPtr = std::unique_ptr<sqlite3, DbCloser>;

// A status for a failed SQLite call: the code's meaning, the connection's message and `what`.
Status SqliteError(sqlite3* db, int rc, std::string_view what);

// A prepared statement. Binding indices are 1-based as in SQLite. Reset() after each use is
// done by the owner (Step returning kDone leaves the statement reset-able).
class Statement {
 public:
  Statement() = default;
  static Result<Statement> Prepare(sqlite3* db, std::string_view sql);

  Statement(Statement&&) noexcept = default;
  Statement& operator=(Statement&&) noexcept = default;

  void BindInt(int i, int64_t v) { sqlite3_bind_int64(stmt_.get(), i, v); }
  void BindNull(int i) { sqlite3_bind_null(stmt_.get(), i); }
  // The bytes are copied (SQLITE_TRANSIENT) unless `stable` promises they outlive the step.
  void BindText(int i, std::string_view v, bool stable = false);
  void BindBlob(int i, std::string_view v, bool stable = false);
  // Binds NULL for an empty string.
  void BindTextOrNull(int i, std::string_view v, bool stable = false) {
    if (v.empty()) {
      BindNull(i);
    } else {
      BindText(i, v, stable);
    }
  }

  enum class StepResult { kRow, kDone };
  Result<StepResult> Step();
  // Runs to completion, expecting no rows.
  Status Run();
  void Reset() {
    sqlite3_reset(stmt_.get());
    sqlite3_clear_bindings(stmt_.get());
  }

  int64_t ColumnInt(int i) const { return sqlite3_column_int64(stmt_.get(), i); }
  bool ColumnIsNull(int i) const { return sqlite3_column_type(stmt_.get(), i) == SQLITE_NULL; }
  std::string_view ColumnText(int i) const;
  std::string_view ColumnBlob(int i) const;

 private:
  struct Finalizer {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
  };
  std::unique_ptr<sqlite3_stmt, Finalizer> stmt_;
  sqlite3* db_ = nullptr;
};

// Resets the statement when it goes out of scope, so an early return cannot leave a read
// transaction open.
class ResetGuard {
 public:
  explicit ResetGuard(Statement& s) : s_(s) {}
  ~ResetGuard() { s_.Reset(); }
  ResetGuard(const ResetGuard&) = delete;
  ResetGuard& operator=(const ResetGuard&) = delete;

 private:
  Statement& s_;
};

// Runs SQL text with no parameters (schema, pragmas, BEGIN/COMMIT). Never for values.
Status Exec(sqlite3* db, const char* sql);

}  // namespace nhitrace::store::sqlite
