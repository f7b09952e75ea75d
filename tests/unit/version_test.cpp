// SPDX-License-Identifier: MIT
// weft/version.hpp is kept by hand; this test fails the build when it and
// project(weft VERSION ...) in the top CMakeLists.txt disagree.
#include <weft/version.hpp>   // first: proves the header is self-contained

#include <gtest/gtest.h>

static_assert(WEFT_VERSION_MAJOR == WEFT_PROJECT_VERSION_MAJOR && WEFT_VERSION_MINOR == WEFT_PROJECT_VERSION_MINOR &&
                  WEFT_VERSION_PATCH == WEFT_PROJECT_VERSION_PATCH,
              "include/weft/version.hpp disagrees with project(weft VERSION ...) in CMakeLists.txt");

namespace {

TEST(Version, HeaderMatchesTheCMakeProjectVersion) {
  EXPECT_EQ(weft::version_major, WEFT_PROJECT_VERSION_MAJOR);
  EXPECT_EQ(weft::version_minor, WEFT_PROJECT_VERSION_MINOR);
  EXPECT_EQ(weft::version_patch, WEFT_PROJECT_VERSION_PATCH);
  EXPECT_EQ(weft::version_major, WEFT_VERSION_MAJOR);
}

}  // namespace
