// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// The plain types of the blocking pools (weft/pool.hpp) that runtime.hpp
/// needs too: the builder takes pool_options, runtime_metrics lists
/// pool_metrics.

#include <weft/diagnostics.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>

namespace weft {

/// How a blocking pool is sized and bounded (runtime::builder::blocking_pool).
struct pool_options {
  std::size_t max_threads = 64;                                       ///< > 0
  std::size_t queue_capacity = std::numeric_limits<std::size_t>::max();  ///< jobs waiting for a thread; > 0
  std::chrono::nanoseconds max_queue_wait{0};                         ///< 0 = no limit
  std::chrono::nanoseconds keep_alive = std::chrono::seconds(10);     ///< idle thread exits after it
  /// How much lower the pool's threads run than the async workers: a Linux
  /// nice increment, 0 to 19, added to the nice value of the thread that
  /// builds the runtime (capped at 19); 0, the default, runs them at the
  /// workers' priority. With 5, a worker that wakes together with a burst of
  /// the pool's threads gets the CPU first: timer p99 under a pool saturated
  /// with sleeping closures about halved (bench/README.md, "Pool threads'
  /// nice value"). The price is the pool's own latency when its closures need
  /// CPU that others want too: SQLite queries under wrk had a 1.5x higher
  /// p99. So raise it for pools of background or mostly-waiting work, not
  /// for a pool on a request's critical path. weft's addition to DESIGN §8.
  int nice = 0;
  /// Run the pool's threads under Linux's SCHED_BATCH policy: the same CPU
  /// share as at SCHED_OTHER (nice above still applies), but a thread that
  /// wakes does not preempt the one running: a burst of pool threads waking
  /// at once waits for the async workers' time slices to end instead of
  /// cutting them short. On a machine the program has to itself, that
  /// lowered timer p99 under a pool saturated with sleeping closures from 70
  /// to 44 µs, and the http_sqlite service under wrk served 11% more
  /// requests with a 25% lower p99. But its threads no longer preempt other
  /// processes either: with a busy loop on one of the two CPUs, the same
  /// service's p99 rose by a quarter, and bursts of 1 ms closures started
  /// 410 threads instead of 250 (bench/README.md, "Pool threads under
  /// SCHED_BATCH"). So it is off by default (SCHED_OTHER, as Tokio's
  /// threads); turn it on for a pool on a host the program does not share.
  /// weft's addition to DESIGN §8.
  bool sched_batch = false;
};

/// What blocking_pool::try_spawn gives when the pool's queue is full.
struct pool_full {
  /// Every pool_full is alike (it carries no data).
  friend bool operator==(pool_full, pool_full) noexcept = default;
};

/// A snapshot of one pool (runtime_metrics::pools, blocking_pool::metrics()).
struct pool_metrics {
  std::string name;                 ///< "blocking", "compute" or the name it was declared with
  std::size_t threads = 0;          ///< alive now, including starting ones
  std::size_t idle_threads = 0;     ///< of those, waiting for a job
  std::size_t queue_depth = 0;      ///< jobs waiting for a thread
  std::size_t admit_waiters = 0;    ///< tasks suspended in admit
  std::uint64_t started_threads = 0;  ///< threads ever started
  std::uint64_t completed = 0;      ///< closures run to completion (returned or threw)
  std::uint64_t rejected = 0;       ///< refused: queue full, or waited past max_queue_wait
  duration_histogram queue_wait;    ///< submit -> a thread took the job
  duration_histogram run_time;      ///< of the closures that ran
};

}  // namespace weft
