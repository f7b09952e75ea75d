// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// The blocking pool's unit of work, as the spawn_blocking templates see it.

#include <weft/detail/task_header.hpp>

#include <cstdint>
#include <exception>
#include <utility>

namespace weft::detail {

class blocking_job;

/// What a job is queued in, as the job sees it: abort() takes a queued job
/// out at once, so that the queue's gauges are true as soon as it returns
/// (and, in a bounded pool, its slot goes to the next admit waiter).
class job_queue {
public:
  /// Unlinks `job` if it is still queued (true); false if a thread took it or
  /// it was never queued. After true, the queue never touches the job again.
  virtual bool try_cancel(blocking_job& job) noexcept = 0;

protected:
  /// Not virtual: a queue (a blocking_pool) is never destroyed through this interface.
  ~job_queue() = default;
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
  /// The task this job is: its id and spawn site, for reports and dumps
  /// (null: a bare job, as the pool's own tests use, which reports skip).
  virtual const task_header* header() const noexcept { return nullptr; }
  /// Instead of run(): a bounded pool refused the job (queue full, or it
  /// waited past max_queue_wait). `why` says so (join_error::is_rejected()).
  /// Last call the pool makes.
  /// (Default: as cancel(why), for jobs that never meet a bounded pool.)
  virtual void reject(std::exception_ptr why) noexcept { cancel(std::move(why)); }

  /// The pool's intrusive links; no one else touches them.
  blocking_job* pool_prev_ = nullptr;
  blocking_job* pool_next_ = nullptr;
  /// Set by the pool's submit before the job is visible to any other thread.
  job_queue* queue_ = nullptr;
  /// steady_clock, set by the pool when the job enters it (submit, or an
  /// admit waiter's grant): queue wait, dump()'s age, max_queue_wait.
  std::int64_t submitted_ns_ = 0;
  /// The CPU the submitting thread ran on then (-1: unknown), set with
  /// submitted_ns_ (see blocking_pool::spin_for_hand_off).
  int submit_cpu_ = -1;

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
