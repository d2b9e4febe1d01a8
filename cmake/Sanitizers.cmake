# NHITRACE_SANITIZE=address,undefined builds every target with those sanitizers; UBSan findings
# abort (no recovery) so that a test run fails on the first one.
if(NHITRACE_SANITIZE)
  add_compile_options(-fsanitize=${NHITRACE_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${NHITRACE_SANITIZE})
  # Sanitized executables are linked without PIE: the dynamic loader then has none of the
  # instrumentation's relative relocations to apply, and each start of the 190 MB debug binary
  # takes about 0.2 s of CPU instead of 0.3 s (`/usr/bin/time nhitrace --version`). The tests
  # start it thousands of times. Release builds stay PIE.
  add_link_options(-no-pie)
endif()
