// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// The blocking pool's unit of work, as the spawn_blocking templates see it.

#include <weft/detail/task_header.hpp>

#include <chrono>
#include <exception>
#include <utility>

namespace weft::detail {

class blocking_job;

/// Where a job waits for a thread: lets abort() take a job that never
/// started out of the queue at once (the pool implements it).
class blocking_queue {
public:
  /// Unlinks `job` if it is still queued and gives true: the queue then
  /// never touches it again. False if a thread or shutdown took it.
  virtual bool try_cancel(blocking_job& job) noexcept = 0;

protected:
  ~blocking_queue() = default;
};

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
  /// Set by submit: the queue the job may wait in.
  blocking_queue* queue_ = nullptr;
  /// When the job entered the queue (set by the pool under its lock): its
  /// queue wait, and max_queue_wait's deadline.
  std::chrono::steady_clock::time_point pool_queued_at_{};

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
