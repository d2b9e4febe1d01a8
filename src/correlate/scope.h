// Scope coverage: does an approved scope cover what an action touched?
//
// A scope is a list of resources and a list of permissions. An approved entry covers an action's
// entry when they are equal or when the approved entry is a pattern whose '*' matches any run of
// characters (including none), as in IAM: "arn:aws:s3:::bucket/*" covers
// "arn:aws:s3:::bucket/a/b", "s3:*" covers "s3:PutObject". Matching is case-sensitive and
// byte-wise; '?' and other glob syntax have no special meaning.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "event/event.h"

namespace nhitrace::correlate {

// True when `pattern` (which may contain '*') matches `value` entirely.
bool WildcardMatch(std::string_view pattern, std::string_view value);

// True when some entry of `approved` matches `value`.
bool AnyMatches(const std::vector<std::string>& approved, std::string_view value);

struct ScopeCheck {
  bool known = false;                  // the approved scope says something about this dimension
  std::vector<std::string> uncovered;  // action entries no approved entry covers
};

// Which of the action's resources / permissions the approved scope does not cover. A dimension
// the approved scope does not mention (empty list) is not checked (known = false).
ScopeCheck CheckResources(const event::Scope& approved, const event::Scope& action);
ScopeCheck CheckPermissions(const event::Scope& approved, const event::Scope& action);

}  // namespace nhitrace::correlate
