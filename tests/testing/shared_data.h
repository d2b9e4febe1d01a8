// Access to ../shared (the spec's test vectors and third-party samples) from tests.
//
// Tests that need it call NHI_REQUIRE_SHARED(path) first; when ../shared is absent the test is
// skipped with a message saying so, never failed and never silently passed.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace nhitrace::testing {

// $NHITRACE_SHARED_DIR, else the ../shared next to the source tree.
inline std::filesystem::path SharedDir() {
  if (const char* env = std::getenv("NHITRACE_SHARED_DIR"); env != nullptr && *env != '\0') {
    return env;
  }
  return std::filesystem::path(NHITRACE_SOURCE_DIR) / ".." / "shared";
}

inline std::filesystem::path SharedPath(const std::string& rel) { return SharedDir() / rel; }

}  // namespace nhitrace::testing

// Skips the current test unless ../shared/<rel> exists; declares `shared_path` for it.
#define NHI_REQUIRE_SHARED(rel)                                                         \
  const std::filesystem::path shared_path = ::nhitrace::testing::SharedPath(rel);       \
  if (!std::filesystem::exists(shared_path)) {                                          \
    GTEST_SKIP() << "needs " << shared_path.string()                                    \
                 << " (the shared test data; set NHITRACE_SHARED_DIR to its location)"; \
  }
