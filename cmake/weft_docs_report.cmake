# SPDX-License-Identifier: MIT
# Run after Doxygen by the docs target (cmake/WeftDocs.cmake): cmake -DLOG=<warnings.log> -P this
set(count 0)
if(EXISTS ${LOG})
  file(STRINGS ${LOG} lines REGEX "(warning|error):")
  list(LENGTH lines count)
endif()
if(count EQUAL 0)
  message(STATUS "docs: no Doxygen warnings")
else()
  message(STATUS "docs: ${count} Doxygen warnings (undocumented public entities and doc errors), listed in ${LOG}")
endif()
