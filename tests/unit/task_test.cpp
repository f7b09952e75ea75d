// SPDX-License-Identifier: MIT
#include <weft/task.hpp>   // first: proves the header is self-contained

#include <weft/runtime.hpp>

#include "util/sanitizers.hpp"
#include "weft_test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

using weft::task;

static_assert(!std::is_copy_constructible_v<task<int>>, "task is move-only");
static_assert(std::is_nothrow_move_constructible_v<task<int>>);

task<int> forty_two() { co_return 42; }
task<int> add_one(int v) { co_return v + 1; }
task<std::unique_ptr<int>> boxed(int v) { co_return std::make_unique<int>(v); }
task<void> thrower() {
  throw std::runtime_error("boom");
  co_return;
}

TEST(Task, ReturnsValueWhenAwaited) {
  weft::runtime rt = weft::runtime::builder::current_thread().build();
  auto outer = []() -> task<int> { co_return co_await forty_two() + co_await add_one(1); };
  EXPECT_EQ(rt.block_on(outer()), 44);
}

TEST(Task, MovesMoveOnlyResults) {
  weft::runtime rt = weft::runtime::builder::current_thread().build();
  auto p = rt.block_on(boxed(7));
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, 7);
}

TEST(Task, IsLazyUntilAwaited) {
  bool started = false;
  auto make = [&started]() -> task<void> {
    started = true;
    co_return;
  };
  {
    task<void> t = make();
    EXPECT_FALSE(started);
  }   // destroyed unstarted: frame freed (LeakSanitizer checks)
  EXPECT_FALSE(started);
}

TEST(Task, RethrowsExceptionToAwaiter) {
  weft::runtime rt = weft::runtime::builder::current_thread().build();
  auto outer = []() -> task<std::string> {
    try {
      co_await thrower();
    } catch (const std::runtime_error& e) {
      co_return e.what();
    }
    co_return "not thrown";
  };
  EXPECT_EQ(rt.block_on(outer()), "boom");
}

TEST(Task, DestroyingUnstartedTaskFreesArguments) {
  std::atomic<int> live{0};
  {
    auto make = [](weft::test::lifetime_probe) -> task<void> { co_return; };
    task<void> t = make(weft::test::lifetime_probe(live));
    EXPECT_EQ(live.load(), 1);   // the parameter copy lives in the frame
  }
  EXPECT_EQ(live.load(), 0);
}

TEST(Task, MillionSequentialAwaitsDoNotGrowTheStack) {
  // Each await completes synchronously; without symmetric transfer this
  // recursion would overflow the stack long before a million.
  weft::runtime rt = weft::runtime::builder::current_thread().build();
  auto loop = []() -> task<long> {
    long sum = 0;
    for (int i = 0; i < 1'000'000; ++i) sum += co_await add_one(i);
    co_return sum;
  };
  EXPECT_EQ(rt.block_on(loop()), 1'000'000L * 1'000'001L / 2);
}

TEST(Task, DeepRecursiveChainCompletes) {
  weft::runtime rt = weft::runtime::builder::current_thread().build();
  struct chain {
    static task<int> depth(int n) {
      if (n == 0) co_return 0;
      co_return 1 + co_await depth(n - 1);
    }
  };
  EXPECT_EQ(rt.block_on(chain::depth(2000)), 2000);
}

// Frames come from per-thread pools (src/task/task_memory.cpp); under
// AddressSanitizer the pools are off, so only the calls are checked there.
TEST(Task, FrameMemoryFreedOnAnotherThreadReturnsToItsOwner) {
  constexpr std::size_t size = 1000;   // a size no frame in this test uses
  std::vector<void*> first;
  for (int i = 0; i < 1000; ++i) first.push_back(weft::detail::allocate_task_memory(size));
  std::thread([&] {
    for (void* block : first) weft::detail::free_task_memory(block, size);
  }).join();
  const std::set<void*> freed(first.begin(), first.end());
  std::vector<void*> second;
  for (int i = 0; i < 1000; ++i) second.push_back(weft::detail::allocate_task_memory(size));
  const auto reused = std::count_if(second.begin(), second.end(), [&](void* b) { return freed.count(b) != 0; });
  for (void* block : second) weft::detail::free_task_memory(block, size);
#if !WEFT_ASAN
  EXPECT_EQ(reused, 1000);
#else
  (void)reused;
#endif
}

TEST(Task, FrameMemoryOutlivesTheThreadThatAllocatedIt) {
  // Threads allocate and exit; their blocks are freed later from here, into
  // heaps nobody owns, and new threads adopt those heaps and reuse them.
  std::vector<std::pair<void*, std::size_t>> blocks;
  for (int t = 0; t < 8; ++t) {
    std::thread([&] {
      for (std::size_t i = 0; i < 200; ++i) {
        const std::size_t size = 16 + (i % 40) * 24;   // up to 952 bytes, and one over the pooled sizes
        blocks.emplace_back(weft::detail::allocate_task_memory(size), size);
      }
      blocks.emplace_back(weft::detail::allocate_task_memory(4096), 4096);
    }).join();
  }
  for (auto [block, size] : blocks) {
    std::memset(block, 0xab, size);
    weft::detail::free_task_memory(block, size);
  }
  for (int t = 0; t < 8; ++t) {
    std::thread([] {
      for (std::size_t i = 0; i < 400; ++i) {
        const std::size_t size = 16 + (i % 40) * 24;
        void* block = weft::detail::allocate_task_memory(size);
        std::memset(block, 0xcd, size);
        weft::detail::free_task_memory(block, size);
      }
    }).join();
  }
}

TEST(Task, MovedFromTaskIsInvalid) {
  task<int> a = forty_two();
  task<int> b = std::move(a);
  EXPECT_FALSE(a.is_valid());   // NOLINT(bugprone-use-after-move): the point of the test
  EXPECT_TRUE(b.is_valid());
}

}  // namespace
