#include "store/store.h"

#include "store/sqlite/sqlite_store.h"

namespace nhitrace::store {

Result<std::unique_ptr<Store>> OpenStore(const StoreOptions& options) {
  // PostgreSQL stores will be chosen by a "postgres://" or "postgresql://" URI here.
  if (options.path.rfind("postgres://", 0) == 0 || options.path.rfind("postgresql://", 0) == 0) {
    return UnimplementedError("the PostgreSQL backend is not built yet");
  }
  return sqlite::OpenSqliteStore(options);
}

}  // namespace nhitrace::store
