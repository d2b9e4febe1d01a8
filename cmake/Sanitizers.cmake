# NHITRACE_SANITIZE=address,undefined builds every target with those sanitizers; UBSan findings
# abort (no recovery) so that a test run fails on the first one.
if(NHITRACE_SANITIZE)
  add_compile_options(-fsanitize=${NHITRACE_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${NHITRACE_SANITIZE})
endif()
