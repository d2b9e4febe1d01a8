# nhitrace_module(NAME [PCH] SOURCES ... DEPS ...): one static library per folder under src/,
# with src/ as the include root so that includes read "ledger/merkle.h". PCH: precompile
# simdjson.h for the module (for modules where several sources include it; NHITRACE_PCH).
function(nhitrace_module name)
  cmake_parse_arguments(M "PCH" "" "SOURCES;DEPS" ${ARGN})
  add_library(nhitrace_${name} STATIC ${M_SOURCES})
  target_include_directories(nhitrace_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(nhitrace_${name} PUBLIC ${M_DEPS} PRIVATE nhitrace_warnings)
  if(M_PCH AND NHITRACE_PCH)
    target_precompile_headers(nhitrace_${name} PRIVATE <simdjson.h>)
  endif()
endfunction()
