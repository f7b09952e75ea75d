// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// The blocking pool's unit of work, as the spawn_blocking templates see it.

#include <weft/detail/task_header.hpp>

#include <chrono>
#include <exception>
#include <utility>

namespace weft::detail {

class blocking_pool;
class blocking_job;
/// If `job` still waits in `pool`'s queue, takes it out (freeing its slot)
/// and returns true; the caller then owns the pool's part of the job.
bool withdraw_blocking_job(blocking_pool& pool, blocking_job& job) noexcept;

/// Intrusive unit of blocking work. The pool never allocates per job and
/// never frees a job: the job owns itself (see blocking_task).
class blocking_job {
public:
  /// On a pool thread: runs the closure and stores its result.
  virtual void run() noexcept = 0;
  /// After run(), on the same thread, once the thread has made itself
  /// available for the next job: publishes the result. The pool never
  /// touches the job afterwards.
  virtual void complete() noexcept = 0;
  /// Instead of run(): the job never starts. `why` is null for a
  /// cancellation (shutdown), else the std::system_error of a thread start
  /// the OS refused while no pool thread existed. Last call the pool makes.
  virtual void cancel(std::exception_ptr why) noexcept = 0;
  /// Shutdown asks a running job to stop; may race run().
  virtual void request_stop() noexcept = 0;
  /// Instead of run(): a bounded pool refused the job (queue full, or it
  /// waited past max_queue_wait). `why` says so (join_error::is_rejected()).
  /// Last call the pool makes.
  /// (Default: as cancel(why), for jobs that never meet a bounded pool.)
  virtual void reject(std::exception_ptr why) noexcept { cancel(std::move(why)); }

  /// The pool's intrusive links; no one else touches them.
  blocking_job* pool_prev_ = nullptr;
  blocking_job* pool_next_ = nullptr;
  /// When the job entered the queue (set by the pool under its lock): its
  /// queue wait, and max_queue_wait's deadline.
  std::chrono::steady_clock::time_point pool_queued_at_{};
  /// The pool it was submitted to, so that abort() can take it out of the
  /// queue at once (set before submit, never changed).
  blocking_pool* pool_ = nullptr;

protected:
  blocking_job() = default;
  ~blocking_job() = default;
  blocking_job(const blocking_job&) = delete;
  blocking_job& operator=(const blocking_job&) = delete;
};

/// A task waiting in blocking_pool::admit for room in a bounded queue (FIFO).
/// Lives in the awaiting coroutine's frame; guarded by the pool's lock.
struct admit_waiter {
  enum class phase : unsigned char { waiting, granted };
  blocking_job* job = nullptr;   // submitted by whoever grants the turn
  waker wake;                    // moved out by the granter
  admit_waiter* prev = nullptr;
  admit_waiter* next = nullptr;
  phase state = phase::waiting;
};

}  // namespace weft::detail
