// SPDX-License-Identifier: MIT
#pragma once
// The pool's record of one of its threads (design: blocking/pool.hpp).

#include "util/histogram_cells.hpp"

#include <weft/detail/blocking_job.hpp>

#include <atomic>
#include <cstdint>
#include <memory>

#include <sys/types.h>

namespace weft::detail {

class blocking_pool;

// Values of pool_thread::signal_.
inline constexpr std::uint32_t signal_empty = 0;     // idle, spinning or about to park
inline constexpr std::uint32_t signal_parked = 1;    // idle, asleep in futex_wait (or about to be)
inline constexpr std::uint32_t signal_notified = 2;  // job_ handed over (null job_: exit)

// The pool whose thread this is (null elsewhere): shutdown() must not wait
// for the thread it runs on.
inline thread_local const blocking_pool* this_thread_blocking_pool = nullptr;

// Own cache line: a submitter writes signal_ while this thread spins on it.
struct alignas(64) pool_thread {
  // The hand-off word: signal_empty or signal_parked written by the thread,
  // signal_notified by whoever claimed it (blocking_pool::hand_off).
  std::atomic<std::uint32_t> signal_{signal_empty};
  // 1 while shutdown may still call request_stop() on job_ (futex word).
  std::atomic<std::uint32_t> stop_pending_{0};

  // Guarded by the pool's mutex_. The thread also reads job_ without the lock
  // after it has seen signal_notified (acquire), which publishes it.
  blocking_job* job_ = nullptr;      // claimed or running; null when idle
  bool is_idle_ = false;             // on the idle list
  int last_submit_cpu_ = -1;         // owned by the thread: its last job's submit_cpu_
  pool_thread* idle_prev_ = nullptr;
  pool_thread* idle_next_ = nullptr;
  pool_thread* live_prev_ = nullptr;
  pool_thread* live_next_ = nullptr;  // also links the list of spare records
  pool_thread* stop_next_ = nullptr;  // shutdown's list of records to request_stop()

  // Set by the starter, moved out by the thread as it begins: the pool
  // outlives every thread, even a detached one.
  std::shared_ptr<blocking_pool> owner_;

  // Diagnostics (design: blocking/pool.hpp). started_ns_ is written by the
  // thread (steady_clock; 0 = no job running) and read by the watchdog under
  // the pool's lock, so relaxed: job_ itself is ordered by the lock.
  std::atomic<std::int64_t> started_ns_{0};
  // The thread's id, for the supervisor's look at its state (relaxed: a
  // record outlives its thread and may be reused; a stale id reads as gone).
  std::atomic<pid_t> tid_{0};
  bool long_reported_ = false;      // guarded by the pool's mutex_
  bool in_all_records_ = false;     // guarded by the pool's mutex_
  pool_thread* all_next_ = nullptr; // immutable once on the pool's all_records_
  histogram_cells queue_wait_;      // written by this record's threads only
  histogram_cells run_time_;
};

}  // namespace weft::detail
