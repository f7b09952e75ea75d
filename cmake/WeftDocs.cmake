# SPDX-License-Identifier: MIT
# The API reference: `cmake --build --preset release --target docs` runs Doxygen
# (Debian `doxygen`) over include/weft/ — the public headers, not detail/ — and
# writes HTML to <build>/docs/html/index.html. An undocumented public entity is a
# warning (WARN_IF_UNDOCUMENTED), collected in <build>/docs/warnings.log and counted
# at the end; any warning fails the target (WEFT_DOCS_WARN_AS_ERROR, on by default:
# the public headers are fully documented and build with zero warnings; keep it so).
# Not part of `all`.
find_package(Doxygen QUIET)
if(NOT DOXYGEN_FOUND)
  add_custom_target(docs COMMAND ${CMAKE_COMMAND} -E echo "docs: doxygen not found (scripts/install-deps.sh tools)"
                    COMMAND ${CMAKE_COMMAND} -E false)
  return()
endif()

option(WEFT_DOCS_WARN_AS_ERROR "Fail the docs target on any Doxygen warning" ON)

set(DOXYGEN_PROJECT_NAME weft)
set(DOXYGEN_PROJECT_NUMBER ${PROJECT_VERSION})
set(DOXYGEN_PROJECT_BRIEF "${PROJECT_DESCRIPTION}")
set(DOXYGEN_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/docs)
set(DOXYGEN_GENERATE_HTML YES)
set(DOXYGEN_GENERATE_LATEX NO)
set(DOXYGEN_FILE_PATTERNS *.hpp)
set(DOXYGEN_RECURSIVE YES)
set(DOXYGEN_EXCLUDE ${PROJECT_SOURCE_DIR}/include/weft/detail)
set(DOXYGEN_EXCLUDE_SYMBOLS detail "weft::detail" "weft::detail::*")
set(DOXYGEN_STRIP_FROM_PATH ${PROJECT_SOURCE_DIR}/include)
set(DOXYGEN_STRIP_FROM_INC_PATH ${PROJECT_SOURCE_DIR}/include)
set(DOXYGEN_FULL_PATH_NAMES YES)
set(DOXYGEN_EXTRACT_ALL NO)
set(DOXYGEN_EXTRACT_PRIVATE NO)
set(DOXYGEN_HIDE_UNDOC_RELATIONS YES)
set(DOXYGEN_WARN_IF_UNDOCUMENTED YES)
set(DOXYGEN_WARN_IF_DOC_ERROR YES)
set(DOXYGEN_WARN_NO_PARAMDOC NO)   # STYLE §4 documents parameters in prose, not @param
set(DOXYGEN_QUIET YES)
set(DOXYGEN_WARN_LOGFILE ${PROJECT_BINARY_DIR}/docs/warnings.log)
if(WEFT_DOCS_WARN_AS_ERROR)
  set(DOXYGEN_WARN_AS_ERROR FAIL_ON_WARNINGS)
endif()
# The `///` paragraphs use STYLE §4's headings ("Thread safety:", "Errors:", ...) as
# plain text; Markdown renders the `Example:` blocks (4-space indent) as code.
set(DOXYGEN_MARKDOWN_SUPPORT YES)
set(DOXYGEN_JAVADOC_AUTOBRIEF YES)
set(DOXYGEN_BUILTIN_STL_SUPPORT YES)
set(DOXYGEN_ENABLE_PREPROCESSING YES)
set(DOXYGEN_MACRO_EXPANSION NO)
set(DOXYGEN_HAVE_DOT NO)
set(DOXYGEN_SORT_MEMBER_DOCS NO)   # declaration order: construct / operate / observe (STYLE §5)
set(DOXYGEN_USE_MDFILE_AS_MAINPAGE ${PROJECT_SOURCE_DIR}/docs/guide.md)

doxygen_add_docs(docs ${PROJECT_SOURCE_DIR}/include/weft ${PROJECT_SOURCE_DIR}/docs/guide.md
                 ${PROJECT_SOURCE_DIR}/docs/coming-from-tokio.md
                 COMMENT "API reference (Doxygen) -> ${PROJECT_BINARY_DIR}/docs/html/index.html")
# How many warnings, and where to read them.
add_custom_command(TARGET docs POST_BUILD
                   COMMAND ${CMAKE_COMMAND} -DLOG=${DOXYGEN_WARN_LOGFILE} -P ${PROJECT_SOURCE_DIR}/cmake/weft_docs_report.cmake
                   VERBATIM)
