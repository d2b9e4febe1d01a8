# Every warning flag of the project lives here, in one interface target that each module links.
add_library(nhitrace_warnings INTERFACE)
target_compile_options(nhitrace_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Wunused
  -Woverloaded-virtual -Wimplicit-fallthrough -Wformat=2)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # GCC 12's -Wmaybe-uninitialized misfires inside libstdc++'s std::variant/std::optional and
  # simdjson's result types at -O2; it stays a warning but is never an error.
  target_compile_options(nhitrace_warnings INTERFACE -Wno-error=maybe-uninitialized)
endif()
if(NHITRACE_WERROR)
  target_compile_options(nhitrace_warnings INTERFACE -Werror)
endif()
