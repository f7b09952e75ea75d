// SPDX-License-Identifier: MIT
// Uses weft as an installed package: see CMakeLists.txt beside this file.
// TODO(#2): use the runtime once weft.hpp exists: include <weft/weft.hpp> and set
// `answer` from weft::runtime{}.block_on() of a weft::task<int> that co_returns 42.
#include <weft/version.hpp>

#include <cstdio>

static_assert(WEFT_VERSION_MAJOR == EXPECTED_VERSION_MAJOR && WEFT_VERSION_MINOR == EXPECTED_VERSION_MINOR &&
                  WEFT_VERSION_PATCH == EXPECTED_VERSION_PATCH,
              "include/weft/version.hpp disagrees with project(VERSION) in CMakeLists.txt");

int main() {
  const int answer = 42;
  std::printf("weft %d.%d.%d: %d\n", weft::version_major, weft::version_minor, weft::version_patch, answer);
  return answer == 42 ? 0 : 1;
}
