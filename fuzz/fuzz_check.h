// FUZZ_CHECK: the property assertion of the fuzz targets. Unlike assert() it is active in every
// build type, and it aborts, so that libFuzzer saves the input as a crash-* file.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace nhitrace::fuzz {

[[noreturn]] inline void CheckFailed(const char* file, int line, const char* cond,
                                     std::string_view detail) {
  std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", file, line, cond);
  if (!detail.empty()) {
    std::fprintf(stderr, "  %.*s\n", static_cast<int>(detail.size()), detail.data());
  }
  std::abort();
}

}  // namespace nhitrace::fuzz

// FUZZ_CHECK(cond) or FUZZ_CHECK(cond, detail): detail is anything convertible to
// std::string_view (an error message, the offending bytes) and is printed before aborting.
#define FUZZ_CHECK(cond, ...)                                                                    \
  do {                                                                                           \
    if (!(cond)) {                                                                               \
      ::nhitrace::fuzz::CheckFailed(__FILE__, __LINE__, #cond, ::std::string_view{__VA_ARGS__}); \
    }                                                                                            \
  } while (0)
