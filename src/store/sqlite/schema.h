// The SQLite schema as an ordered list of migrations. A store records each applied migration in
// schema_migrations; opening a store applies the missing ones in one transaction each. Never
// edit a published migration: add a new one (tests/compat keeps stores of every version).
#pragma once

#include <span>

namespace nhitrace::store::sqlite {

struct Migration {
  int version;
  const char* description;
  const char* sql;
};

std::span<const Migration> Migrations();

}  // namespace nhitrace::store::sqlite
