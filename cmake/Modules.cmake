# nhitrace_module(NAME SOURCES ... DEPS ...): one static library per folder under src/, with
# src/ as the include root so that includes read "ledger/merkle.h".
function(nhitrace_module name)
  cmake_parse_arguments(M "" "" "SOURCES;DEPS" ${ARGN})
  add_library(nhitrace_${name} STATIC ${M_SOURCES})
  target_include_directories(nhitrace_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(nhitrace_${name} PUBLIC ${M_DEPS} PRIVATE nhitrace_warnings)
endfunction()
