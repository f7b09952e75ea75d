// SPDX-License-Identifier: MIT
#pragma once

/// @file
/// The version of weft that these headers belong to. It is kept by hand equal to
/// `project(weft VERSION ...)` in the top CMakeLists.txt: tests/unit/version_test.cpp
/// checks the two against each other, and tests/install/ checks the installed package.

/// The major version: 0 while the API may still change between minor versions.
#define WEFT_VERSION_MAJOR 0
/// The minor version: a 0.x minor release may break the API.
#define WEFT_VERSION_MINOR 1
/// The patch version: fixes only.
#define WEFT_VERSION_PATCH 0

namespace weft {

/// WEFT_VERSION_MAJOR as a value, for code that prefers values to macros.
inline constexpr int version_major = WEFT_VERSION_MAJOR;
/// WEFT_VERSION_MINOR as a value.
inline constexpr int version_minor = WEFT_VERSION_MINOR;
/// WEFT_VERSION_PATCH as a value.
inline constexpr int version_patch = WEFT_VERSION_PATCH;

}  // namespace weft
