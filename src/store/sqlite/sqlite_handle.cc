#include "store/sqlite/sqlite_handle.h"

namespace nhitrace::store::sqlite {

Status SqliteError(sqlite3* db, int rc, std::string_view what) {
  std::string m(what);
  m += ": ";
  m += sqlite3_errstr(rc);
  if (db != nullptr) {
    const char* detail = sqlite3_errmsg(db);
    if (detail != nullptr && std::string_view(detail) != sqlite3_errstr(rc)) {
      m += " (";
      m += detail;
      m += ")";
    }
  }
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      return AbortedError(std::move(m));
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return DataLossError(std::move(m));
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
      return UnavailableError(std::move(m));
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return PermissionDeniedError(std::move(m));
    default:
      return InternalError(std::move(m));
  }
}

Result<Statement> Statement::Prepare(sqlite3* db, std::string_view sql) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db, rc, "prepare \"" + std::string(sql) + "\"");
  Statement s;
  s.stmt_.reset(raw);
  s.db_ = db;
  return s;
}

void Statement::BindText(int i, std::string_view v, bool stable) {
  sqlite3_bind_text(stmt_.get(), i, v.data(), static_cast<int>(v.size()),
                    stable ? SQLITE_STATIC : SQLITE_TRANSIENT);
}

void Statement::BindBlob(int i, std::string_view v, bool stable) {
  sqlite3_bind_blob(stmt_.get(), i, v.data(), static_cast<int>(v.size()),
                    stable ? SQLITE_STATIC : SQLITE_TRANSIENT);
}

Result<Statement::StepResult> Statement::Step() {
  if (!stmt_) return InternalError("step of a statement that was never prepared");
  int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return StepResult::kRow;
  if (rc == SQLITE_DONE) return StepResult::kDone;
  const char* sql = sqlite3_sql(stmt_.get());
  return SqliteError(db_, rc, sql != nullptr ? sql : "(statement)");
}

Status Statement::Run() {
  NHI_ASSIGN_OR_RETURN(StepResult r, Step());
  Reset();
  if (r != StepResult::kDone) return InternalError("statement returned rows unexpectedly");
  return OkStatus();
}

std::string_view Statement::ColumnText(int i) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_.get(), i));
  int n = sqlite3_column_bytes(stmt_.get(), i);
  return p == nullptr ? std::string_view() : std::string_view(p, static_cast<size_t>(n));
}

std::string_view Statement::ColumnBlob(int i) const {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_.get(), i));
  int n = sqlite3_column_bytes(stmt_.get(), i);
  return p == nullptr ? std::string_view() : std::string_view(p, static_cast<size_t>(n));
}

Status Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string m = err != nullptr ? err : "";
    sqlite3_free(err);
    return SqliteError(db, rc, std::string("exec: ") + m);
  }
  return OkStatus();
}

}  // namespace nhitrace::store::sqlite
