// SPDX-License-Identifier: MIT
// Uses weft as an installed package: see CMakeLists.txt beside this file.
#include <weft/weft.hpp>

#include <cstdio>

static_assert(WEFT_VERSION_MAJOR == EXPECTED_VERSION_MAJOR && WEFT_VERSION_MINOR == EXPECTED_VERSION_MINOR &&
                  WEFT_VERSION_PATCH == EXPECTED_VERSION_PATCH,
              "include/weft/version.hpp disagrees with project(VERSION) in CMakeLists.txt");

namespace {
weft::task<int> answer() {
  auto h = weft::spawn_blocking([] { return 42; });
  co_return co_await h;
}
}  // namespace

int main() {
  weft::runtime rt;
  const int value = rt.block_on(answer());
  std::printf("weft %d.%d.%d: %d\n", weft::version_major, weft::version_minor, weft::version_patch, value);
  return value == 42 ? 0 : 1;
}
