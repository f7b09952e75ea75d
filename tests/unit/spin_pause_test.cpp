// SPDX-License-Identifier: MIT
// When the threads that spin for work stop spinning: util/spin_pause.hpp.
// Test that header file is self-contained.
#include "util/spin_pause.hpp"

#include "weft_test_support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <sched.h>

namespace {

using namespace std::chrono_literals;
using weft::detail::spin_pause;

// Spinners that yield, one per usable CPU (the kernel spreads them), next to
// a busy loop of another program on every CPU: yields hand the busy loops
// whole time slices, so spinning pauses; the pause lapses within max_pause.
TEST(SpinPause, BusyLoopsOnEveryCpuPauseSpinningForAWhile) {
  cpu_set_t usable;
  ASSERT_EQ(sched_getaffinity(0, sizeof usable, &usable), 0);
  const int spinners = CPU_COUNT(&usable);
  std::atomic<bool> paused{false};
  {
    const weft::test::busy_loops_on_every_cpu busy;
    ASSERT_GT(busy.count(), 0u) << "fork failed";
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    std::vector<std::jthread> threads;
    for (int i = 0; i < spinners; ++i) {
      threads.emplace_back([&] {
        while (!paused.load() && std::chrono::steady_clock::now() < deadline) {
          if (!spin_pause::yield()) paused = true;
        }
      });
    }
    threads.clear();   // joins
    ASSERT_TRUE(paused.load()) << "spinning never paused in 5 s of yields next to busy loops";
    EXPECT_FALSE(spin_pause::may_spin());
  }
  EXPECT_TRUE(weft::test::eventually([] { return spin_pause::may_spin(); }, spin_pause::max_pause + 1s))
      << "the pause outlasted max_pause";
}

// An async worker busy on the CPU (a task submitting a flood of jobs) is
// what a spinner there yields to: its long slices are not another
// program's, and pause nothing.
TEST(SpinPause, LongYieldsToOurOwnBusyWorkerPauseNothing) {
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(sched_getcpu(), &one);
  std::atomic<bool> started{false};
  std::atomic<bool> stop{false};
  std::atomic<int> long_yields{0};
  bool paused = false;
  {
    std::jthread worker([&] {
      pthread_setaffinity_np(pthread_self(), sizeof one, &one);
      const int cpu = spin_pause::worker_busy();
      started = true;
      while (!stop.load(std::memory_order_relaxed)) {}
      spin_pause::worker_idle(cpu);
    });
    std::jthread spinner([&] {
      pthread_setaffinity_np(pthread_self(), sizeof one, &one);
      while (!started.load()) std::this_thread::yield();
      const auto deadline = std::chrono::steady_clock::now() + 300ms;
      while (std::chrono::steady_clock::now() < deadline) {
        const auto before = std::chrono::steady_clock::now();
        paused = paused || !spin_pause::yield();
        if (std::chrono::steady_clock::now() - before >= spin_pause::taken_after) long_yields.fetch_add(1);
      }
      stop = true;
    });
  }
  EXPECT_FALSE(paused);
  EXPECT_TRUE(spin_pause::may_spin());
  if (long_yields.load() == 0) GTEST_SKIP() << "no yield to the busy worker lasted a time slice here";
}

}  // namespace
