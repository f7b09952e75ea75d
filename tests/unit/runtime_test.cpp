// SPDX-License-Identifier: MIT
#include <weft/runtime.hpp>   // first: proves the header is self-contained

#include <weft/spawn.hpp>

#include "weft_test_support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <fstream>
#include <pthread.h>
#include <sched.h>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

namespace {

using weft::runtime;
using weft::task;
using weft::test::manual_event;

TEST(Runtime, BuilderRejectsBadValues) {
  EXPECT_THROW(runtime::builder::multi_thread().worker_threads(0), std::invalid_argument);
  EXPECT_THROW(runtime::builder::multi_thread().max_blocking_threads(0), std::invalid_argument);
  EXPECT_THROW(runtime::builder::multi_thread().thread_keep_alive(std::chrono::seconds(-1)), std::invalid_argument);
  EXPECT_THROW(runtime::builder::multi_thread().thread_name(""), std::invalid_argument);
  EXPECT_THROW(runtime::builder::multi_thread().thread_stack_size(1), std::invalid_argument);
  EXPECT_NO_THROW(runtime::builder::multi_thread().max_blocking_threads(1).thread_stack_size(1 << 20));
}

TEST(Runtime, DefaultRuntimeHasHardwareConcurrencyWorkers) {
  runtime rt;
  EXPECT_EQ(rt.metrics().workers, std::max(1u, std::thread::hardware_concurrency()));
}

TEST(Runtime, CurrentThreadRunsEveryTaskOnTheBlockOnThread) {
  runtime rt = runtime::builder::current_thread().build();
  auto body = []() -> task<std::set<std::thread::id>> {
    auto where = []() -> task<std::thread::id> {
      co_await weft::yield_now();
      co_return std::this_thread::get_id();
    };
    std::vector<weft::join_handle<std::thread::id>> handles;
    for (int i = 0; i < 50; ++i) handles.push_back(weft::spawn(where()));
    std::set<std::thread::id> ids{std::this_thread::get_id()};
    for (auto& h : handles) ids.insert(co_await h);
    co_return ids;
  };
  const auto ids = rt.block_on(body());
  EXPECT_EQ(ids, std::set<std::thread::id>{std::this_thread::get_id()});
}

TEST(Runtime, MultiThreadRunsTasksOnWorkersNotTheCaller) {
  runtime rt = runtime::builder::multi_thread().worker_threads(2).build();
  auto body = []() -> task<std::thread::id> { co_return std::this_thread::get_id(); };
  EXPECT_NE(rt.block_on(body()), std::this_thread::get_id());
}

// Pins the calling thread, and the threads it starts meanwhile, to the CPU it
// runs on; restores its affinity at the end of the scope.
class on_one_cpu {
public:
  on_one_cpu() {
    EXPECT_EQ(sched_getaffinity(0, sizeof all_, &all_), 0);
    cpu_set_t one{};
    CPU_SET(sched_getcpu(), &one);
    EXPECT_EQ(sched_setaffinity(0, sizeof one, &one), 0);
  }
  on_one_cpu(const on_one_cpu&) = delete;
  on_one_cpu& operator=(const on_one_cpu&) = delete;
  ~on_one_cpu() { sched_setaffinity(0, sizeof all_, &all_); }

private:
  cpu_set_t all_{};
};

// The thread in block_on sleeps until the task completes, however often the
// task's state changes meanwhile. It used to wait on the task's state word,
// which every suspension changes, and so spun with sched_yield whenever it
// shared a CPU with the worker (blocking_roundtrip with a co-runner: three
// threads taking turns). Everything here shares one CPU: the runtime's
// threads inherit this thread's affinity.
TEST(Runtime, BlockOnSleepsWhileTheTaskKeepsRunning) {
  const on_one_cpu pinned;
  std::chrono::nanoseconds cpu{}, wall{};
  {
    auto rt = runtime::builder::multi_thread().worker_threads(1).build();
    timespec before{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &before);
    const auto wall_start = std::chrono::steady_clock::now();
    rt.block_on([]() -> task<void> {
      for (const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
           std::chrono::steady_clock::now() < end;)
        co_await weft::spawn_blocking([] {});   // suspends and wakes: state changes all the time
    }());
    wall = std::chrono::steady_clock::now() - wall_start;
    timespec after{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &after);
    cpu = std::chrono::seconds(after.tv_sec - before.tv_sec) + std::chrono::nanoseconds(after.tv_nsec - before.tv_nsec);
  }
  EXPECT_LT(cpu, wall / 20) << "block_on's thread used "
                            << std::chrono::duration_cast<std::chrono::milliseconds>(cpu).count() << " ms of CPU in "
                            << std::chrono::duration_cast<std::chrono::milliseconds>(wall).count() << " ms";
}

std::uint64_t voluntary_switches(pid_t tid) {
  std::ifstream status("/proc/self/task/" + std::to_string(tid) + "/status");
  for (std::string line; std::getline(status, line);)
    if (line.starts_with("voluntary_ctxt_switches:")) return std::stoull(line.substr(line.find(':') + 1));
  ADD_FAILURE() << "no voluntary_ctxt_switches for thread " << tid;
  return 0;
}

// A pool thread done with a job spins for the next one, but not on a CPU
// where the worker that handed it the job spins for the result while no
// other CPU is free: there the two took turns by sched_yield, which under
// EEVDF often returns at once (blocking_roundtrip with a co-runner 8.2 µs,
// 4.8-5.9 µs since). It parks instead, so it leaves the CPU once per round
// trip; spinning, it hardly ever did. Everything here shares one CPU.
TEST(Runtime, APoolThreadGivesWayToTheWorkerWaitingOnItsCpu) {
  const on_one_cpu pinned;
  constexpr int round_trips = 2000;
  auto rt = runtime::builder::multi_thread().worker_threads(1).build();
  const auto [pool_threads, parks] = rt.block_on([]() -> task<std::pair<std::set<pid_t>, std::uint64_t>> {
    std::set<pid_t> tids;
    for (int i = 0; i < round_trips; ++i) tids.insert(co_await weft::spawn_blocking([] { return gettid(); }));
    std::uint64_t switches = 0;
    for (const pid_t tid : tids) switches += voluntary_switches(tid);
    co_return std::pair{tids, switches};
  }());
  EXPECT_GE(parks, round_trips / 2u) << pool_threads.size() << " pool thread(s) left the CPU " << parks << " times in "
                                     << round_trips << " round trips";
}

TEST(Runtime, WorkersUseThreadNameAndHooks) {
  std::atomic<int> started{0}, stopped{0};
  {
    runtime rt = runtime::builder::multi_thread()
                     .worker_threads(3)
                     .thread_name("probe")
                     .on_thread_start([&] { started.fetch_add(1); })
                     .on_thread_stop([&] { stopped.fetch_add(1); })
                     .build();
    auto body = []() -> task<std::string> {
      char name[16] = {};
      pthread_getname_np(pthread_self(), name, sizeof name);
      co_return name;
    };
    EXPECT_EQ(rt.block_on(body()).rfind("probe", 0), 0u);
    EXPECT_TRUE(weft::test::eventually([&] { return started.load() >= 3; }));
  }
  EXPECT_EQ(started.load(), stopped.load());   // every started thread stopped, workers included
}

TEST(Runtime, BlockOnOnAWorkerThrowsLogicError) {
  runtime rt = runtime::builder::multi_thread().worker_threads(1).build();
  auto body = []() -> task<bool> {
    auto inner = []() -> task<int> { co_return 1; };
    try {
      weft::handle::current().block_on(inner());
    } catch (const std::logic_error&) {
      co_return true;
    }
    co_return false;
  };
  EXPECT_TRUE(rt.block_on(body()));
}

TEST(Runtime, BlockOnRethrowsTheTasksException) {
  runtime rt = runtime::builder::current_thread().build();
  auto body = []() -> task<void> {
    throw std::out_of_range("x");
    co_return;
  };
  EXPECT_THROW(rt.block_on(body()), std::out_of_range);
}

TEST(Runtime, ShutdownCancelsPendingTasksAndFreesTheirFrames) {
  std::atomic<int> live{0};
  manual_event never;
  {
    runtime rt = runtime::builder::multi_thread().worker_threads(2).build();
    auto waiter = [](manual_event& e, weft::test::lifetime_probe) -> task<void> { co_await e.wait(); };
    auto body = [&]() -> task<void> {
      for (int i = 0; i < 100; ++i) {
        auto h = weft::spawn(waiter(never, weft::test::lifetime_probe(live)));
      }
      co_return;
    };
    rt.block_on(body());
    EXPECT_EQ(live.load(), 100);
  }
  EXPECT_EQ(live.load(), 0);
}

// Only tasks that have been idle are tracked for shutdown; the others are
// found in the run queues. A current-thread runtime polls nothing outside
// block_on, so these 1000 tasks never run: 256 wait in the local queue and
// the rest were moved, in batches, to the inject queue.
TEST(Runtime, ShutdownCancelsTasksLeftInTheRunQueues) {
  std::atomic<int> live{0};
  std::vector<weft::join_handle<void>> handles;
  {
    runtime rt = runtime::builder::current_thread().build();
    auto never_polled = [](weft::test::lifetime_probe) -> task<void> { co_return; };
    auto body = [&]() -> task<void> {
      for (int i = 0; i < 1000; ++i) handles.push_back(weft::spawn(never_polled(weft::test::lifetime_probe(live))));
      co_return;
    };
    rt.block_on(body());
    EXPECT_EQ(live.load(), 1000);
  }
  EXPECT_EQ(live.load(), 0);
  for (auto& h : handles) {
    ASSERT_TRUE(h.is_finished());
    auto result = h.wait();
    ASSERT_FALSE(result.has_value());
    EXPECT_TRUE(result.error().is_cancelled());
  }
}

TEST(Runtime, HandleIsUsableFromAForeignThread) {
  runtime rt = runtime::builder::multi_thread().worker_threads(2).build();
  weft::handle h = rt.get_handle();
  int result = 0;
  std::thread other([&] {
    auto body = []() -> task<int> { co_return 5; };
    result = h.block_on(body());
  });
  other.join();
  EXPECT_EQ(result, 5);
  EXPECT_GE(rt.metrics().spawned_tasks, 1u);
}

// A handle is a reference, as Tokio's Handle (&self): a copy captured by
// value in a lambda that is not `mutable` spawns and blocks on.
TEST(Runtime, AConstHandleSpawnsAndBlocksOn) {
  runtime rt = runtime::builder::multi_thread().worker_threads(2).build();
  const auto run_all = [h = rt.get_handle()] {
    auto blocking = h.spawn_blocking([] { return 2; });
    auto body = [](weft::join_handle<int> b) -> task<int> { co_return co_await b + 3; };
    auto spawned = h.spawn(body(std::move(blocking)));
    auto wait = [](weft::join_handle<int> s) -> task<int> { co_return co_await s; };
    return h.block_on(wait(std::move(spawned)));
  };
  EXPECT_EQ(run_all(), 5);
}

TEST(Runtime, ShutdownHappensOnce) {
  runtime rt = runtime::builder::multi_thread().worker_threads(1).build();
  EXPECT_EQ(rt.shutdown_timeout(std::chrono::milliseconds(10)).blocking_still_running, 0u);
  rt.shutdown_background();   // no-op
}

}  // namespace
