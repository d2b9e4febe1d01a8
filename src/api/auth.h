// Bearer tokens of the HTTP API: how they are made, stored and checked.
//
// A token is "nhi_" + 16 hex digits (its public id, how it is found and revoked) + "_" + 64 hex
// digits (256 random bits from the CSPRNG). It is shown once, when created; the store keeps only
// SHA-256(token). Checking a presented token looks its row up by the public id (no secret-derived
// lookup, so the database access pattern cannot leak the secret) and compares SHA-256(presented)
// with the stored hash in constant time (crypto::ConstantTimeEquals). A revoked token, an unknown
// id and a wrong secret are all kUnauthenticated with the same message.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "api/roles.h"
#include "api/writer.h"
#include "base/status.h"
#include "base/time.h"
#include "store/store.h"

namespace nhitrace::api {

struct NewToken {
  std::string token;       // shown once
  store::ApiTokenRow row;  // what is stored
};

// Token names are 1-64 characters of [A-Za-z0-9._@:-], starting with a letter or digit (they
// appear in logs and audit rows, so nothing that could be mistaken for markup or a new line).
Status ValidateTokenName(std::string_view name);

// A fresh token for `name` with `role`, created now. Does not store it.
Result<NewToken> MakeToken(std::string_view name, Role role, const Clock& clock);

// The public id of a well-formed token, or nullopt.
std::optional<std::string> TokenId(std::string_view token);

// Checks the value of an Authorization header ("Bearer <token>") against the store.
// kUnauthenticated when the header is missing or malformed or the token is unknown, wrong or
// revoked; another code when the store cannot be read.
Result<Actor> Authenticate(store::Store& store, std::string_view authorization);

}  // namespace nhitrace::api
