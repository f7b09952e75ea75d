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
  // Jobs this short free a thread sooner than a new thread would get a CPU
  // when more threads are runnable than there are CPUs (a time slice is 0.7
  // to 3 ms).
  static constexpr duration contended_job = std::chrono::microseconds(250);
  // Finished jobs it takes to judge them; fewer are added to the next window's.
  static constexpr std::uint64_t min_finished = 4;
  // How long windows with too few finished jobs go by the last verdict.
  static constexpr duration max_time_on_last_verdict = std::chrono::milliseconds(4);
  // Readings in a row that must find a CPU free before threads start again.
  // Readings further apart than max_time_on_last_verdict are not in a row.
  static constexpr std::uint32_t free_readings_needed = 3;

  explicit cpu_bound_judge(std::size_t num_cpus) noexcept : num_cpus_(num_cpus) {}

  /// What the pool's threads did over one window.
  struct window {
    duration length{};
    std::size_t busy = 0;         // threads busy (or starting) at its end
    std::uint64_t taken = 0;      // jobs the threads took
    std::uint64_t finished = 0;   // jobs that finished
    std::uint64_t finished_short = 0;   // of which ran contended_job or less
  };

  /// Whether most of the jobs that finished ran contended_job or less.
  static bool most_were_short(std::uint64_t finished, std::uint64_t finished_short) noexcept {
    return finished > 0 && 2 * finished_short >= finished;
  }

  /// The verdict on a whole window. `runnable` (util/cpu_load.hpp, read as
  /// the window ended; nullopt if unknown) counts only when the threads' pace
  /// alone cannot tell. `stuck_threads_runnable`: a thread whose job has run
  /// for a window or longer was seen running or waiting for a CPU (not
  /// blocked in the kernel).
  bool judge(const window& w, std::optional<std::size_t> runnable, bool stuck_threads_runnable = false) noexcept {
    // CPUs seen taken that long ago say nothing of now: a pool used in short
    // bursts kept one stray reading's verdict from burst to burst (90 ms),
    // and 200 µs sleeping jobs then waited 2 ms for a thread, not 1.
    if (w.length > max_time_on_last_verdict) free_readings_ = free_readings_needed;
    note_jobs(w, stuck_threads_runnable);
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

  /// Whether a thread start should wait although the jobs are not short:
  /// more than twice as many threads are runnable as there are CPUs while
  /// the pool's threads still finish jobs (`queue_moving`). A new thread
  /// would wait for a CPU behind them and slow them down; threads that
  /// finish nothing may be waiting for a queued job, and get help.
  bool holds_starts(std::optional<std::size_t> runnable, bool queue_moving) const noexcept {
    return !jobs_were_short_ && queue_moving && runnable && *runnable > 2 * num_cpus_;
  }

private:
  // The jobs are short if most of them are: a job's run time is wall time,
  // and under wrk one 20 µs query in a few is preempted for 1-2 ms (its
  // thread's time slice went to another thread). Windows in which fewer
  // than min_finished jobs finished (every thread preempted, or blocked)
  // add up until there are enough, going by the last verdict meanwhile, for
  // max_time_on_last_verdict at most: then what finished decides, and if
  // nothing did, the threads are blocked for good and get help — unless they
  // were seen waiting for a CPU: with four busy loops on 2 CPUs, two pool
  // threads finished nothing for 4 ms and more. (Judged by the average of
  // each window alone, one preempted query in a window of three started
  // threads: the "db" pool grew to 6-24 threads under wrk.)
  void note_jobs(const window& w, bool stuck_threads_runnable) noexcept {
    pending_.length += w.length;
    pending_.finished += w.finished;
    pending_.finished_short += w.finished_short;
    if (pending_.finished < min_finished && pending_.length <= max_time_on_last_verdict) return;
    if (pending_.finished > 0 || !stuck_threads_runnable)
      jobs_were_short_ = most_were_short(pending_.finished, pending_.finished_short);
    pending_ = {};
  }

  std::size_t num_cpus_;
  bool jobs_were_short_ = false;   // most ran contended_job or less
  window pending_;                 // windows not judged yet, added up
  std::uint32_t free_readings_ = free_readings_needed;   // in a row; none taken seen yet
};

}  // namespace weft::detail
