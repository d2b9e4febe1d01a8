#include "api/auth.h"

#include <algorithm>
#include <cctype>

#include "base/encoding.h"
#include "crypto/random.h"
#include "crypto/sha256.h"

namespace nhitrace::api {
namespace {

constexpr std::string_view kPrefix = "nhi_";
constexpr size_t kIdHex = 16, kSecretHex = 64;
constexpr size_t kTokenSize = kPrefix.size() + kIdHex + 1 + kSecretHex;

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

Status ValidateTokenName(std::string_view name) {
  if (name.empty() || name.size() > 64) {
    return InvalidArgumentError("name: must be 1 to 64 characters");
  }
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (!alnum(name[0])) return InvalidArgumentError("name: must start with a letter or digit");
  for (char c : name) {
    if (!alnum(c) && c != '.' && c != '_' && c != '@' && c != ':' && c != '-') {
      return InvalidArgumentError("name: may contain only letters, digits and . _ @ : -");
    }
  }
  return OkStatus();
}

Result<NewToken> MakeToken(std::string_view name, Role role, const Clock& clock) {
  NHI_RETURN_IF_ERROR(ValidateTokenName(name));
  NHI_ASSIGN_OR_RETURN(std::string id_bytes, crypto::RandomBytes(kIdHex / 2));
  NHI_ASSIGN_OR_RETURN(std::string secret, crypto::RandomBytes(kSecretHex / 2));
  NewToken t;
  t.row.id = HexEncode(id_bytes);
  t.token = std::string(kPrefix) + t.row.id + "_" + HexEncode(secret);
  t.row.name = std::string(name);
  t.row.role = std::string(RoleName(role));
  t.row.token_sha256 = std::string(crypto::AsBytes(crypto::Sha256(t.token)));
  t.row.created_ns = clock.NowUnixNanos();
  return t;
}

std::optional<std::string> TokenId(std::string_view token) {
  if (token.size() != kTokenSize || token.substr(0, kPrefix.size()) != kPrefix ||
      token[kPrefix.size() + kIdHex] != '_') {
    return std::nullopt;
  }
  std::string_view id = token.substr(kPrefix.size(), kIdHex);
  std::string_view secret = token.substr(kPrefix.size() + kIdHex + 1);
  if (!IsLowerHex(id) || !IsLowerHex(secret)) return std::nullopt;
  return std::string(id);
}

Result<Actor> Authenticate(store::Store& store, std::string_view authorization) {
  static const Status kBad = UnauthenticatedError("invalid, unknown or revoked bearer token");
  if (authorization.empty()) {
    return UnauthenticatedError("missing Authorization header (expected: Bearer <token>)");
  }
  constexpr std::string_view kScheme = "Bearer ";
  if (authorization.size() < kScheme.size() ||
      !std::equal(kScheme.begin(), kScheme.end(), authorization.begin(),
                  [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
    return UnauthenticatedError("Authorization header must use the Bearer scheme");
  }
  std::string_view token = authorization.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  auto id = TokenId(token);
  if (!id) return kBad;
  NHI_ASSIGN_OR_RETURN(auto row, store.GetApiToken(*id));
  // Hash and compare even when the row is missing, so that both cases take the same time.
  std::string presented(crypto::AsBytes(crypto::Sha256(token)));
  std::string stored = row ? row->token_sha256 : std::string(32, '\0');
  bool match = crypto::ConstantTimeEquals(presented, stored);
  if (!row || !match || row->revoked_ns) return kBad;
  auto role = ParseRole(row->role);
  if (!role) return kBad;  // a role this build does not know grants nothing
  return Actor{row->id, row->name, *role};
}

}  // namespace nhitrace::api
