# Compiles SOURCE and passes only if the compiler refuses it with a message
# matching EXPECT. Run by CTest: cmake -DCXX=... -DINCLUDE=... -DSOURCE=... -DEXPECT=... -P check.cmake
execute_process(
  COMMAND ${CXX} -std=c++23 -fsyntax-only -I${INCLUDE} ${SOURCE}
  RESULT_VARIABLE rc
  OUTPUT_VARIABLE out
  ERROR_VARIABLE err)
if(rc EQUAL 0)
  message(FATAL_ERROR "${SOURCE} compiled, but it must not")
endif()
if(NOT err MATCHES "${EXPECT}")
  message(FATAL_ERROR "${SOURCE} failed to compile, but without the expected message '${EXPECT}':\n${err}")
endif()
message(STATUS "${SOURCE}: refused with the expected message")
