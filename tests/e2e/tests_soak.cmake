# The soak (tools/soak) in short, included by CMakeLists.txt: 60 s of every load and every attack of the
# 10-minute run, with the same checks (no mismatch, no wrong or lost answer, descriptors back, RSS growth under
# 5 %, exit 0 on SIGTERM), so the tool keeps working. About 100 s on two cores. The full run is by hand
# (docs/RELIABILITY.md, "Soak"). The stream framing: the datagram one is in the full runs.
add_test(NAME e2e.soak_short
  COMMAND ${PROJECT_SOURCE_DIR}/tools/soak --duration 60 --framing unix
          --vznet $<TARGET_FILE:vznet> --relay $<TARGET_FILE:vznet-guest-relay>)
set_tests_properties(e2e.soak_short PROPERTIES LABELS e2e TIMEOUT 240 SKIP_RETURN_CODE 77 RESOURCE_LOCK vznet_e2e)

find_program(SHELLCHECK shellcheck)
if(SHELLCHECK)
  add_test(NAME lint.shellcheck.soak COMMAND ${SHELLCHECK} -x tools/soak WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  set_tests_properties(lint.shellcheck.soak PROPERTIES LABELS lint TIMEOUT 60)
endif()
