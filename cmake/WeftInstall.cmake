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
