// The SQLite backend of Store: one database file in WAL mode.
//
// Durability: every WriteTxn is one SQLite transaction; with StoreOptions::durable (the default)
// the WAL is fsync'd at each commit (synchronous=FULL), so a commit that returned OK survives a
// crash of the process or of the machine. Deleted content is overwritten (secure_delete), which
// erasure relies on.
#pragma once

#include <memory>

#include "base/status.h"
#include "store/store.h"

namespace nhitrace::store::sqlite {

Result<std::unique_ptr<Store>> OpenSqliteStore(const StoreOptions& options);

}  // namespace nhitrace::store::sqlite
