# SPDX-License-Identifier: MIT
# Install rules and the package config, so that an installed prefix serves
#   find_package(weft CONFIG REQUIRED)
#   target_link_libraries(app PRIVATE weft::weft)
# tests/install/ is the consumer that .ci/run builds against a staged install.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(weft_install_cmakedir ${CMAKE_INSTALL_LIBDIR}/cmake/weft)

# The headers go with their file set, so include/weft/CMakeLists.txt stays the one list of them.
install(TARGETS weft EXPORT weft-targets
        FILE_SET HEADERS DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT weft-targets NAMESPACE weft:: DESTINATION ${weft_install_cmakedir})

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/weftConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/weftConfig.cmake
                              INSTALL_DESTINATION ${weft_install_cmakedir})
# 0.x: a minor release may break the API, so only x.y.* satisfies a request for x.y.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/weftConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/weftConfig.cmake ${PROJECT_BINARY_DIR}/weftConfigVersion.cmake
        DESTINATION ${weft_install_cmakedir})

# The license, with the package's documentation (Debian: /usr/share/doc/weft).
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR})

# pkg-config: weft.pc in <libdir>/pkgconfig, beside the CMake package config in
# <libdir>/cmake/weft. Its prefix is relative to the file, so a prefix that moves
# (cmake --install --prefix, dpkg -x into a scratch root) still works.
file(RELATIVE_PATH weft_pc_prefix_from_pcdir ${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig
     ${CMAKE_INSTALL_PREFIX})
string(REGEX REPLACE "/$" "" weft_pc_prefix_from_pcdir "${weft_pc_prefix_from_pcdir}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/weft.pc.in ${PROJECT_BINARY_DIR}/weft.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/weft.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# CPack: `cpack -G DEB` in a build tree makes a Debian package of what is installed
# above (headers, library, CMake and pkg-config files, license). The `package` preset
# is a Release build without tests, benchmarks or examples for this; see
# scripts/check-package.sh. Only when weft is the top-level project, so that a parent
# project's own CPack setup is left alone.
if(PROJECT_IS_TOP_LEVEL)
  set(CPACK_PACKAGE_NAME weft)
  set(CPACK_PACKAGE_VENDOR "The weft authors")
  set(CPACK_PACKAGE_CONTACT "The weft authors <weft@users.noreply.github.com>")
  set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
  set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
  set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
  # A development package: a static library (or a shared one, if BUILD_SHARED_LIBS)
  # with its headers. Named as Debian names them; the file name says version and arch.
  set(CPACK_DEBIAN_PACKAGE_NAME libweft-dev)
  set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
  set(CPACK_DEBIAN_PACKAGE_SECTION libdevel)
  if(WEFT_STDLIB_FLAGS MATCHES "experimental")
    string(REGEX MATCH "^[0-9]+" weft_clang_major "${CMAKE_CXX_COMPILER_VERSION}")
    set(CPACK_DEBIAN_PACKAGE_DEPENDS "libc++-${weft_clang_major}-dev, libc++abi-${weft_clang_major}-dev")
  else()
    set(CPACK_DEBIAN_PACKAGE_DEPENDS "libstdc++-dev")
  endif()
  if(BUILD_SHARED_LIBS)
    set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
  endif()
  include(CPack)
endif()
