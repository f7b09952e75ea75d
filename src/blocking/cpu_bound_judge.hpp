// SPDX-License-Identifier: MIT
#pragma once
// Whether a pool's queue is limited by CPU rather than by blocked threads,
// judged window by window: the supervisor's reason not to start a thread for
// a job that has waited spawn_delay (design: blocking/pool.hpp, "Why a
// supervisor thread"). State: what the last windows said of the jobs.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace weft::detail {

class cpu_bound_judge {
public:
  using duration = std::chrono::steady_clock::duration;
  // Busy threads taking a job at least this often are not blocked (about the
  // cost of a thread start, bench/README.md, machine floors).
  static constexpr duration short_job = std::chrono::microseconds(50);
  // Jobs this short on average free a thread sooner than a new thread would
  // get a CPU when more threads are runnable than there are CPUs (a time
  // slice is 0.7 to 3 ms).
  static constexpr duration contended_job = std::chrono::microseconds(250);
  // Windows in a row in which no job finished that go by the last verdict.
  static constexpr std::uint32_t max_windows_without_finish = 4;
  // Readings in a row that must find a CPU free before threads start again.
  static constexpr std::uint32_t free_readings_needed = 3;

  explicit cpu_bound_judge(std::size_t num_cpus) noexcept : num_cpus_(num_cpus) {}

  /// What the pool's threads did over one window.
  struct window {
    duration length{};
    std::size_t busy = 0;         // threads busy (or starting) at its end
    std::uint64_t taken = 0;      // jobs the threads took
    std::uint64_t finished = 0;   // jobs that finished
    duration run_time{};          // the finished jobs' run time, summed
  };

  /// The verdict on a whole window. `runnable` (util/cpu_load.hpp, read as
  /// the window ended; nullopt if unknown) counts only when the threads' pace
  /// alone cannot tell.
  bool judge(const window& w, std::optional<std::size_t> runnable) noexcept {
    note_jobs(w);
    // Each busy thread took a job every busy * length / taken: short_job or
    // faster, and they are not blocked.
    if (static_cast<double>(w.taken) * static_cast<double>(short_job.count()) >=
        static_cast<double>(w.busy) * static_cast<double>(w.length.count()))
      return true;
    // Or they took short jobs slowly because they waited for a CPU: more
    // threads are runnable than there are CPUs (the caller is one of them).
    // One reading is an instant: once the CPUs were seen taken, it takes
    // free_readings_needed in a row to say they are free (a pool under wrk
    // still grew to 63 threads, one stray reading at a time).
    if (!jobs_were_short_) return false;
    const bool taken = runnable && *runnable > num_cpus_;
    free_readings_ = taken ? 0 : std::min(free_readings_ + 1, free_readings_needed);
    return free_readings_ < free_readings_needed;
  }

private:
  // A window in which no job finished (every thread preempted for its
  // length, or blocked) says nothing of the jobs: it goes by the last
  // verdict, a few windows in a row at most, so that threads blocked for
  // good are helped.
  void note_jobs(const window& w) noexcept {
    if (w.finished > 0) {
      jobs_were_short_ = w.run_time <= static_cast<std::int64_t>(w.finished) * contended_job;
      windows_without_finish_ = 0;
    } else if (windows_without_finish_ < max_windows_without_finish) {
      ++windows_without_finish_;
    } else {
      jobs_were_short_ = false;
    }
  }

  std::size_t num_cpus_;
  bool jobs_were_short_ = false;   // at most contended_job each, on average
  std::uint32_t windows_without_finish_ = 0;
  std::uint32_t free_readings_ = free_readings_needed;   // in a row; none taken seen yet
};

}  // namespace weft::detail
