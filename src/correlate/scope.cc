#include "correlate/scope.h"

namespace nhitrace::correlate {

bool WildcardMatch(std::string_view pattern, std::string_view value) {
  // Iterative glob with backtracking to the last '*': O(|pattern| * |value|) worst case, no
  // recursion, so hostile patterns cannot exhaust the stack.
  size_t p = 0, v = 0;
  size_t star = std::string_view::npos, resume = 0;
  while (v < value.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = v;
    } else if (p < pattern.size() && pattern[p] == value[v]) {
      ++p;
      ++v;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      v = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool AnyMatches(const std::vector<std::string>& approved, std::string_view value) {
  for (const auto& a : approved) {
    if (WildcardMatch(a, value)) return true;
  }
  return false;
}

namespace {

ScopeCheck Check(const std::vector<std::string>& approved, const std::vector<std::string>& used) {
  ScopeCheck c;
  c.known = !approved.empty();
  if (!c.known) return c;
  for (const auto& u : used) {
    if (!AnyMatches(approved, u)) c.uncovered.push_back(u);
  }
  return c;
}

}  // namespace

ScopeCheck CheckResources(const event::Scope& approved, const event::Scope& action) {
  return Check(approved.resources, action.resources);
}

ScopeCheck CheckPermissions(const event::Scope& approved, const event::Scope& action) {
  return Check(approved.permissions, action.permissions);
}

}  // namespace nhitrace::correlate
