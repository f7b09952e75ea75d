// SPDX-License-Identifier: MIT
// When the threads that spin for work stop spinning: util/spin_pause.hpp.
// Test that header file is self-contained.
#include "util/spin_pause.hpp"

#include "weft_test_support.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace {

using namespace std::chrono_literals;
using weft::detail::spin_pause;

// Busy loops of another program on every CPU: yields keep handing them time
// slices, so spinning pauses, and the pause lapses within max_pause.
TEST(SpinPause, BusyLoopsOnEveryCpuPauseSpinningForAWhile) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  bool paused = false;
  {
    const weft::test::busy_loops_on_every_cpu busy;
    ASSERT_GT(busy.count(), 0u) << "fork failed";
    while (!paused && std::chrono::steady_clock::now() < deadline) paused = !spin_pause::yield();
    EXPECT_TRUE(paused) << "spinning never paused in 5 s of yields next to busy loops";
    if (paused) {
      EXPECT_FALSE(spin_pause::may_spin());
    }
  }
  if (paused) {
    EXPECT_TRUE(weft::test::eventually([] { return spin_pause::may_spin(); }, spin_pause::max_pause + 1s))
        << "the pause outlasted max_pause";
  }
}

}  // namespace
