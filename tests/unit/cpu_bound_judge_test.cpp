// SPDX-License-Identifier: MIT
// The blocking pool's reason not to start a thread (DESIGN §4: a flood of
// microsecond jobs does not start hundreds of threads), rule by rule, and
// the CPU-load reading it relies on.
// Test that header file is self-contained.
#include "blocking/cpu_bound_judge.hpp"

#include "util/cpu_load.hpp"

#include "weft_test_support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <thread>

#include <sched.h>
#include <unistd.h>

namespace {

using namespace std::chrono_literals;
using weft::detail::cpu_bound_judge;

constexpr std::size_t cpus = 2;
// What /proc/loadavg said as the window ended (the supervisor counts itself).
const std::optional<std::size_t> cpus_taken = cpus + 3;
const std::optional<std::size_t> cpus_free = 1;
const std::optional<std::size_t> unreadable;

// A window of 1 ms in which `busy` threads took and finished `jobs` jobs of
// `each` run time.
cpu_bound_judge::window window(std::size_t busy, std::uint64_t jobs, std::chrono::microseconds each) {
  return {1ms, busy, jobs, jobs, each <= cpu_bound_judge::contended_job ? jobs : 0};
}

TEST(CpuBoundJudge, ThreadsTakingAJobEvery50usOrFasterAreCpuBoundWhateverTheLoad) {
  cpu_bound_judge judge(cpus);
  EXPECT_TRUE(judge.judge(window(4, 80, 40us), cpus_free));   // one every 50 µs each
  EXPECT_FALSE(judge.judge(window(4, 79, 40us), cpus_free));
  EXPECT_TRUE(judge.judge(window(4, 80, 300us), unreadable));
}

// The SQLite pool under wrk: 20 µs queries, taken slowly because 12 threads
// time-share 2 CPUs with the load generator.
TEST(CpuBoundJudge, ShortJobsTakenSlowlyWhileCpusAreTakenAreCpuBound) {
  EXPECT_TRUE(cpu_bound_judge(cpus).judge(window(12, 40, 20us), cpus_taken));
  EXPECT_TRUE(cpu_bound_judge(cpus).judge(window(12, 4, 250us), cpus_taken));   // 250 µs is still short
  EXPECT_FALSE(cpu_bound_judge(cpus).judge(window(12, 40, 20us), cpus_free));
  EXPECT_FALSE(cpu_bound_judge(cpus).judge(window(12, 40, 20us), unreadable));   // load unknown: the pace alone
}

// A reading is an instant: once the CPUs were seen taken, three readings in a
// row must find one free before threads may start again.
TEST(CpuBoundJudge, CpusSeenTakenNeedThreeFreeReadingsInARow) {
  cpu_bound_judge judge(cpus);
  const auto short_jobs = window(12, 40, 20us);
  EXPECT_TRUE(judge.judge(short_jobs, cpus_taken));
  EXPECT_TRUE(judge.judge(short_jobs, cpus_free));
  EXPECT_TRUE(judge.judge(short_jobs, cpus_free));
  EXPECT_TRUE(judge.judge(short_jobs, cpus_taken)) << "taken again: the count starts over";
  EXPECT_TRUE(judge.judge(short_jobs, cpus_free));
  EXPECT_TRUE(judge.judge(short_jobs, unreadable));
  EXPECT_FALSE(judge.judge(short_jobs, cpus_free)) << "the third in a row";
  EXPECT_FALSE(judge.judge(short_jobs, cpus_free));
}

// Readings more than 4 ms apart are not in a row: a pool that judges again
// after a pause (short jobs in bursts) goes by what it reads now.
TEST(CpuBoundJudge, CpusSeenTakenBefore4msOfQuietAreForgotten) {
  cpu_bound_judge judge(cpus);
  const auto short_jobs = window(12, 40, 20us);
  const cpu_bound_judge::window after_a_pause{90ms, 12, 40, 40, 40};
  const cpu_bound_judge::window after_4ms{4ms, 12, 40, 40, 40};
  EXPECT_TRUE(judge.judge(short_jobs, cpus_taken));
  EXPECT_FALSE(judge.judge(after_a_pause, cpus_free)) << "90 ms later, one free reading is enough";
  EXPECT_TRUE(judge.judge(after_a_pause, cpus_taken)) << "CPUs taken now still count";
  EXPECT_TRUE(judge.judge(after_4ms, cpus_free)) << "4 ms apart is still in a row";
  EXPECT_TRUE(judge.judge(short_jobs, cpus_free));
  EXPECT_FALSE(judge.judge(short_jobs, cpus_free)) << "the third in a row";
}

// Sleeping or I/O-bound closures need threads whatever the CPUs do.
TEST(CpuBoundJudge, LongJobsAreNeverCpuBoundByTheLoad) {
  cpu_bound_judge judge(cpus);
  EXPECT_FALSE(judge.judge(window(12, 4, 251us), cpus_taken));
  EXPECT_FALSE(judge.judge(window(256, 5, 50ms), cpus_taken));
}

// A job's run time is wall time: under wrk a query in a few is preempted for
// a time slice. Most jobs short is short.
TEST(CpuBoundJudge, AFewPreemptedJobsDoNotMakeTheJobsLong) {
  EXPECT_TRUE(cpu_bound_judge(cpus).judge({1ms, 12, 10, 10, 5}, cpus_taken)) << "half short";
  EXPECT_FALSE(cpu_bound_judge(cpus).judge({1ms, 12, 10, 10, 4}, cpus_taken)) << "most long";
}

// Windows in which fewer than four jobs finished (every pool thread preempted
// for 1 ms, or blocked) add up until four have, keeping the last verdict
// meanwhile, for 4 ms at most: then what finished decides, and if nothing
// did, threads blocked for good get a new thread.
TEST(CpuBoundJudge, WindowsWithFewFinishedJobsAddUpFor4msAtMost) {
  cpu_bound_judge judge(cpus);
  const cpu_bound_judge::window nothing_finished{1ms, 12, 0, 0, 0};
  const cpu_bound_judge::window one_preempted_job{1ms, 12, 1, 1, 0};
  const cpu_bound_judge::window three_short_jobs{1ms, 12, 3, 3, 3};
  EXPECT_TRUE(judge.judge(window(12, 40, 20us), cpus_taken));
  EXPECT_TRUE(judge.judge(one_preempted_job, cpus_taken)) << "one job says nothing";
  EXPECT_TRUE(judge.judge(three_short_jobs, cpus_taken)) << "four jobs, three short";
  EXPECT_TRUE(judge.judge(one_preempted_job, cpus_taken));
  EXPECT_FALSE(judge.judge({1ms, 12, 3, 3, 1}, cpus_taken)) << "four jobs, three long";

  EXPECT_TRUE(judge.judge(window(12, 40, 20us), cpus_taken));
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(judge.judge(nothing_finished, cpus_taken)) << "window " << i;
  EXPECT_FALSE(judge.judge(nothing_finished, cpus_taken)) << "nothing finished in 5 ms";
  EXPECT_FALSE(judge.judge(one_preempted_job, cpus_taken));

  EXPECT_TRUE(judge.judge(window(12, 40, 20us), cpus_taken));
  EXPECT_TRUE(judge.judge({5ms, 12, 3, 3, 3}, cpus_taken)) << "past 4 ms: three short jobs decide";
  for (int i = 0; i < 20; ++i)   // short windows count by their length
    EXPECT_TRUE(judge.judge({200us, 12, 0, 0, 0}, cpus_taken)) << "window " << i;
  EXPECT_FALSE(judge.judge({200us, 12, 0, 0, 0}, cpus_taken));
}

// Threads that finished nothing for 4 ms but were seen waiting for a CPU
// are starved, not blocked: the last verdict stands.
TEST(CpuBoundJudge, ThreadsSeenWaitingForACpuAreNotBlocked) {
  cpu_bound_judge judge(cpus);
  const cpu_bound_judge::window nothing_finished{1ms, 2, 0, 0, 0};
  EXPECT_TRUE(judge.judge(window(2, 40, 20us), cpus_taken));
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(judge.judge(nothing_finished, cpus_taken, true)) << "window " << i;
  for (int i = 0; i < 4; ++i)
    EXPECT_TRUE(judge.judge(nothing_finished, cpus_taken, false)) << "4 ms since the last look";
  EXPECT_FALSE(judge.judge(nothing_finished, cpus_taken, false)) << "blocked";
}

TEST(CpuLoad, IsRunnableTellsABusyThreadFromASleepingOne) {
  std::atomic<pid_t> busy_tid{0}, sleeping_tid{0};
  std::atomic<bool> stop{false};
  std::jthread busy([&] {
    busy_tid = gettid();
    while (!stop.load(std::memory_order_relaxed)) {}
  });
  std::jthread sleeping([&] {
    sleeping_tid = gettid();
    while (!stop.load()) std::this_thread::sleep_for(1ms);
  });
  while (busy_tid.load() == 0 || sleeping_tid.load() == 0) std::this_thread::yield();
  EXPECT_EQ(weft::detail::is_runnable(busy_tid.load()), std::optional<bool>(true));
  // It wakes every 1 ms: one look in many finds it asleep. Each look sleeps
  // first: looking without pause kept the one CPU the busy thread leaves,
  // and the sleeper, woken, waited for it (runnable) at every look (CI,
  // ThreadSanitizer, 2 CPUs).
  EXPECT_TRUE(weft::test::eventually(
      [&] {
        std::this_thread::sleep_for(200us);
        return weft::detail::is_runnable(sleeping_tid.load()) == false;
      },
      1s));
  stop = true;
  busy.join();
  // join returns once the kernel has cleared the thread's tid, a moment
  // before its /proc entry goes (CI, AddressSanitizer): wait for that.
  EXPECT_TRUE(weft::test::eventually([&] { return weft::detail::is_runnable(busy_tid.load()) == std::nullopt; }, 1s))
      << "gone";
}

TEST(CpuLoad, RunnableThreadsCountsTheCallerAndBusyThreads) {
  const std::optional<std::size_t> alone = weft::detail::runnable_threads();
  ASSERT_TRUE(alone.has_value()) << "/proc/loadavg unreadable";
  EXPECT_GE(*alone, 1u);
  std::atomic<bool> stop{false};
  std::jthread busy([&] {
    while (!stop.load(std::memory_order_relaxed)) {}
  });
  // The busy thread is runnable at once, or soon after it starts.
  bool seen = false;
  for (int i = 0; i < 1000 && !seen; ++i) {
    const std::optional<std::size_t> now = weft::detail::runnable_threads();
    seen = now && *now >= 2;
    std::this_thread::sleep_for(1ms);
  }
  stop = true;
  EXPECT_TRUE(seen);
}

// On one CPU, a second thread that wants it is one too many.
TEST(CpuLoad, CpusOversubscribedSeesMoreRunnableThreadsThanTheCallerMayUseCpus) {
  cpu_set_t all{};
  ASSERT_EQ(sched_getaffinity(0, sizeof all, &all), 0);
  cpu_set_t one{};
  CPU_SET(sched_getcpu(), &one);
  ASSERT_EQ(sched_setaffinity(0, sizeof one, &one), 0);
  std::atomic<bool> stop{false};
  std::jthread busy([&] {   // inherits the affinity: shares our CPU
    while (!stop.load(std::memory_order_relaxed)) {}
  });
  bool seen = false;
  for (int i = 0; i < 1000 && !seen; ++i) {
    seen = weft::detail::cpus_oversubscribed();
    std::this_thread::sleep_for(2ms);   // past the 1 ms the reading is kept
  }
  stop = true;
  busy.join();
  ASSERT_EQ(sched_setaffinity(0, sizeof all, &all), 0);
  EXPECT_TRUE(seen);
}

// Jobs that are not short: a start waits only while more than twice as many
// threads are runnable as there are CPUs and the queue moves.
TEST(CpuBoundJudge, StartsOfLongJobsWaitOnlyWhileTwiceTheCpusAreTakenAndJobsFinish) {
  cpu_bound_judge judge(cpus);
  const std::optional<std::size_t> twice_taken = 2 * cpus + 1;
  const std::optional<std::size_t> twice = 2 * cpus;
  ASSERT_FALSE(judge.judge(window(8, 8, 1000us), twice_taken));   // long jobs, taken slowly: not CPU-bound
  EXPECT_TRUE(judge.holds_starts(twice_taken, true));
  EXPECT_FALSE(judge.holds_starts(twice, true));
  EXPECT_FALSE(judge.holds_starts(twice_taken, false));   // nothing finished: they may wait for a queued job
  EXPECT_FALSE(judge.holds_starts(unreadable, true));
  // Short jobs have their own rule (above), which also holds idle threads.
  cpu_bound_judge short_jobs(cpus);
  ASSERT_TRUE(short_jobs.judge(window(12, 40, 20us), cpus_taken));
  EXPECT_FALSE(short_jobs.holds_starts(twice_taken, true));
}

// And no more runnable threads than CPUs is not too many: at moments when a
// fresh reading before and after the call finds no more runnable threads
// than the caller may use CPUs, the call (refreshing its reading in between)
// says no — at least once in 20 such moments, as a thread may become
// runnable for an instant in between. Skipped if the machine is never that
// quiet.
TEST(CpuLoad, CpusOversubscribedSaysNoWhileEveryRunnableThreadHasACpu) {
  cpu_set_t mine{};
  ASSERT_EQ(sched_getaffinity(0, sizeof mine, &mine), 0);
  const auto usable = static_cast<std::size_t>(CPU_COUNT(&mine));
  int quiet_moments = 0;
  for (int i = 0; i < 1000 && quiet_moments < 20; ++i) {
    std::this_thread::sleep_for(2ms);   // past the 1 ms the reading is kept
    const std::optional<std::size_t> before = weft::detail::runnable_threads();
    const bool oversubscribed = weft::detail::cpus_oversubscribed();
    const std::optional<std::size_t> after = weft::detail::runnable_threads();
    ASSERT_TRUE(before && after) << "/proc/loadavg unreadable";
    if (*before > usable || *after > usable) continue;
    if (!oversubscribed) return;
    ++quiet_moments;
  }
  if (quiet_moments == 0) GTEST_SKIP() << "no CPU free for every runnable thread in 1000 looks";
  ADD_FAILURE() << "said yes at all " << quiet_moments << " moments with no more runnable threads than " << usable
                << " CPUs";
}

}  // namespace
