# SPDX-License-Identifier: MIT
# What the standard library needs for weft's public API.
#
# libc++ 19 keeps std::stop_token / std::stop_source / std::stop_callback (used by
# stop-aware closures, DESIGN §4) behind -fexperimental-library. When the standard
# library is libc++ and <stop_token> is empty without the flag, it is added PUBLIC:
# the installed weft::weft target and weft.pc then carry it to consumers, who must use
# the same standard library as the weft they link anyway.
include(CheckCXXSourceCompiles)
include(CMakePushCheckState)

set(WEFT_STDLIB_FLAGS "")   # also written into weft.pc's Cflags and Libs
cmake_push_check_state(RESET)
set(CMAKE_REQUIRED_FLAGS "-std=c++23")
set(CMAKE_REQUIRED_QUIET ON)
set(weft_stop_token_probe "#include <stop_token>\nint main() { std::stop_source s; return s.stop_requested(); }\n")
check_cxx_source_compiles("${weft_stop_token_probe}" WEFT_HAS_STOP_TOKEN)
if(NOT WEFT_HAS_STOP_TOKEN)
  set(CMAKE_REQUIRED_FLAGS "-std=c++23 -fexperimental-library")
  set(CMAKE_REQUIRED_LINK_OPTIONS "-fexperimental-library")
  check_cxx_source_compiles("${weft_stop_token_probe}" WEFT_HAS_STOP_TOKEN_EXPERIMENTAL)
  if(NOT WEFT_HAS_STOP_TOKEN_EXPERIMENTAL)
    message(FATAL_ERROR "weft needs std::stop_token (C++20 <stop_token>); this standard library has none")
  endif()
  message(STATUS "weft: <stop_token> needs -fexperimental-library (libc++); added to weft::weft's usage requirements")
  target_compile_options(weft PUBLIC -fexperimental-library)
  target_link_options(weft PUBLIC -fexperimental-library)
  set(WEFT_STDLIB_FLAGS "-fexperimental-library")
endif()
cmake_pop_check_state()
