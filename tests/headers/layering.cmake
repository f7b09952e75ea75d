# SPDX-License-Identifier: MIT
# Run by ctest (test "src_layering"): DESIGN §1's dependency direction.
# scheduler/, blocking/, time/ and io/ each include only their own folder,
# task/ and util/ from src/ (runtime/ wires them together; public headers
# are free); task/ and util/ include only task/ and util/.
#   -DSRC=<the src directory>
cmake_minimum_required(VERSION 3.25)

set(errors "")
foreach(part scheduler blocking time io task util)
  file(GLOB_RECURSE files RELATIVE ${SRC} ${SRC}/${part}/*.hpp ${SRC}/${part}/*.cpp)
  foreach(file IN LISTS files)
    file(STRINGS ${SRC}/${file} lines REGEX "^[ \t]*#[ \t]*include[ \t]*\"")
    foreach(line IN LISTS lines)
      string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*\"([^\"]+)\".*" "\\1" included "${line}")
      string(REGEX REPLACE "/.*" "" folder "${included}")
      if(NOT included MATCHES "/")
        continue()   # a sibling file, same folder
      endif()
      if(folder STREQUAL part OR folder STREQUAL "task" OR folder STREQUAL "util")
        continue()
      endif()
      string(APPEND errors "  ${file} includes \"${included}\": ${part}/ may include only ${part}/, task/ and util/\n")
    endforeach()
  endforeach()
endforeach()

if(errors)
  message(FATAL_ERROR "src layering (DESIGN §1):\n${errors}")
endif()
message(STATUS "src layering: scheduler, blocking, time, io, task and util include only what DESIGN §1 allows")
