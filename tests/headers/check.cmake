# SPDX-License-Identifier: MIT
# Run by ctest (test "public_headers"): every header under include/weft/ must be
# in the installed file set (include/weft/CMakeLists.txt), and weft.hpp must
# include every public header (all but detail/), directly or through another.
# The directory is globbed now, at test time, so a header added later without
# being registered fails here instead of being missing from an installed weft.
#   -DINCLUDE=<source include dir> -DINSTALLED=<file set, |-separated>
cmake_minimum_required(VERSION 3.25)

file(GLOB_RECURSE present RELATIVE ${INCLUDE} ${INCLUDE}/weft/*)
string(REPLACE "|" ";" installed_abs "${INSTALLED}")
set(installed "")
foreach(path IN LISTS installed_abs)
  file(RELATIVE_PATH rel ${INCLUDE} ${path})
  list(APPEND installed ${rel})
endforeach()

set(errors "")
foreach(header IN LISTS present)
  if(NOT header MATCHES "\\.(h|hpp)$")
    continue()
  endif()
  if(NOT header IN_LIST installed)
    string(APPEND errors "  ${header} is not installed: add it to include/weft/CMakeLists.txt\n")
  endif()
endforeach()

# The headers weft.hpp reaches through #include <weft/...>, transitively.
set(reached "weft/weft.hpp")
set(queue "weft/weft.hpp")
while(queue)
  list(POP_FRONT queue current)
  if(NOT EXISTS ${INCLUDE}/${current})
    string(APPEND errors "  ${current} is included but does not exist\n")
    continue()
  endif()
  file(STRINGS ${INCLUDE}/${current} lines REGEX "^[ \t]*#[ \t]*include[ \t]*<weft/")
  foreach(line IN LISTS lines)
    string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*<(weft/[^>]+)>.*" "\\1" included "${line}")
    if(NOT included IN_LIST reached)
      list(APPEND reached ${included})
      list(APPEND queue ${included})
    endif()
  endforeach()
endwhile()

foreach(header IN LISTS present)
  if(NOT header MATCHES "\\.(h|hpp)$" OR header MATCHES "^weft/detail/")
    continue()
  endif()
  if(NOT header IN_LIST reached)
    string(APPEND errors "  ${header} is public but weft/weft.hpp does not include it\n")
  endif()
endforeach()

if(errors)
  message(FATAL_ERROR "public headers:\n${errors}")
endif()
list(LENGTH present n)
message(STATUS "public headers: ${n} files under include/weft, all installed and reached from weft.hpp")
