// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Diagnostics (DESIGN §6), on by default: the types of weft's stall and
/// long-blocking reports, its latency histograms, task dumps and Prometheus
/// text.
///
/// A *stall* is one poll of one async task that keeps its worker busy longer
/// than `runtime::builder::stall_threshold` (10 ms by default): a synchronous
/// call — a file read, a lock, a sleep, a long computation — inside async
/// code, which stops every other task queued on that worker. A runtime-owned
/// watchdog thread notices it while the poll is still running and reports
/// the spawn site of the task, so the report names the line to fix:
///
///     weft: worker 1 stuck for 52 ms in task 17 spawned at main.cpp:42; move blocking calls into spawn_blocking
///
/// A *long-blocking job* is a spawn_blocking closure that has held its pool
/// thread longer than `long_blocking_threshold` (10 s by default).
///
/// Cost: a worker publishes {task id, spawn site, sequence number} with
/// relaxed stores at the start of each poll; it never reads the clock for
/// this (the watchdog does). The watchdog sleeps while every worker is idle
/// and no blocking job runs.
///
/// Example:
///     auto rt = weft::runtime::builder::multi_thread()
///                   .stall_threshold(std::chrono::milliseconds(20))
///                   .on_stall([](const weft::stall_report& r) { log_stall(r); })
///                   .build();
///     std::cout << weft::to_prometheus(rt.metrics());

#include <weft/task_id.hpp>

#include <array>
#include <bit>
#include <chrono>
#include <cstdint>
#include <source_location>
#include <string>
#include <string_view>
#include <vector>

namespace weft {

/// A log-scale histogram of durations: bucket 0 counts [0, 2) ns, bucket
/// i >= 1 counts [2^i, 2^(i+1)) ns.
///
/// Thread safety: a plain value (a snapshot); not for concurrent writers.
struct duration_histogram {
  /// Samples per bucket (see bucket_of()).
  std::array<std::uint64_t, 64> buckets{};
  /// Samples recorded.
  std::uint64_t count = 0;
  /// The sum of the samples recorded.
  std::chrono::nanoseconds sum{}, max{};
  /// @var max
  /// The largest sample recorded.

  /// The bucket that holds `d` (negative durations count as 0).
  static constexpr std::size_t bucket_of(std::chrono::nanoseconds d) noexcept {
    const auto ns = d.count() <= 0 ? std::uint64_t{0} : static_cast<std::uint64_t>(d.count());
    return ns < 2 ? 0 : static_cast<std::size_t>(std::bit_width(ns) - 1);
  }

  /// Adds one sample.
  constexpr void record(std::chrono::nanoseconds d) noexcept {
    ++buckets[bucket_of(d)];
    ++count;
    sum += d;
    if (d > max) max = d;
  }

  /// The upper bound of the bucket holding the `q`-quantile sample (q in
  /// [0, 1], clamped), capped at `max`; 0 if empty.
  constexpr std::chrono::nanoseconds percentile(double q) const noexcept {
    if (count == 0) return std::chrono::nanoseconds{0};
    q = q < 0 ? 0 : (q > 1 ? 1 : q);
    // The 1-based rank of the sample wanted: ceil(q * count), at least 1.
    const double exact = q * static_cast<double>(count);
    auto rank = static_cast<std::uint64_t>(exact);
    if (static_cast<double>(rank) < exact) ++rank;
    if (rank == 0) rank = 1;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < buckets.size(); ++i) {
      seen += buckets[i];
      if (seen >= rank) {
        // The bucket's (exclusive) upper bound, 2^(i+1) ns.
        const std::int64_t upper = i >= 62 ? INT64_MAX : std::int64_t{2} << i;
        return std::chrono::nanoseconds{upper} < max ? std::chrono::nanoseconds{upper} : max;
      }
    }
    return max;
  }
};

/// An async worker stuck in one poll of one task, reported while the poll
/// still runs (at most twice the threshold after it began).
struct stall_report {
  std::size_t worker = 0;                ///< 0-based worker index (current-thread flavor: the
                                         ///< thread inside block_on is worker 0)
  task_id task = 0;                      ///< the task being polled
  std::source_location spawned_at;       ///< its spawn (or block_on) call site
  std::chrono::nanoseconds busy_for{};   ///< how long the poll had run when reported (at least)
};

/// A blocking closure that has run longer than long_blocking_threshold.
/// Work that never ends belongs on a dedicated thread (spawn_thread), not in
/// a pool slot.
struct long_blocking_report {
  /// The blocking job's task id.
  task_id task = 0;
  std::source_location spawned_at;       ///< the spawn_blocking call site
  std::string_view pool;                 ///< "blocking", "compute" or a named pool
  /// How long the closure had run when reported (at least the threshold); each
  /// job is reported once.
  std::chrono::nanoseconds running_for{};
};

/// What a live task or job is.
enum class task_kind { async_task, blocking_job, dedicated_thread };
/// Where a live task or job is: waiting for a thread or worker, running, or
/// suspended in an await.
enum class task_state { queued, running, suspended };

/// One live task or job in a dump (finished = not live, whether or not its
/// handle is still held).
struct task_snapshot {
  /// The task's id.
  task_id id = 0;
  /// Async task, blocking job or dedicated thread.
  task_kind kind = task_kind::async_task;
  /// Queued, running or suspended.
  task_state state = task_state::queued;
  /// The call site that started it.
  std::source_location spawned_at;
  std::string_view pool;                 ///< empty for async tasks; "thread" for spawn_thread
  /// Since spawn for blocking jobs. For async tasks, since the task first
  /// suspended (a task that has never suspended reports 0): the scheduler
  /// reads no clock when it spawns.
  std::chrono::nanoseconds age{};
};

struct runtime_metrics;

/// The metrics in Prometheus's text exposition format 0.0.4, which
/// `promtool check metrics` accepts without a warning: every series has
/// `# HELP` and `# TYPE`, counters end in `_total`, durations are in seconds.
/// Runtime-wide series are `<prefix>_<field>` (`weft_workers`,
/// `weft_spawned_tasks_total`, `weft_stalls_total`,
/// `weft_blocking_queue_wait_seconds`, ...); per-pool series are
/// `<prefix>_pool_<field>{pool="name"}` (`weft_pool_threads`,
/// `weft_pool_started_threads_total`, histograms
/// `weft_pool_queue_wait_seconds` and `weft_pool_run_time_seconds`).
///
/// Thread safety: a pure function.
///
/// Errors: std::invalid_argument if `prefix` is not a valid metric name
/// prefix ([a-zA-Z_:][a-zA-Z0-9_:]*).
///
/// Example:
///     std::string body = weft::to_prometheus(weft::handle::current().metrics());
std::string to_prometheus(const runtime_metrics& metrics, std::string_view prefix = "weft");

}  // namespace weft
