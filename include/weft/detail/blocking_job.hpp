// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// The blocking pool's unit of work, as the spawn_blocking templates see it.

#include <weft/detail/task_header.hpp>

#include <cstdint>
#include <exception>

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
  /// The task this job is: its id and spawn site, for reports and dumps
  /// (null: a bare job, as the pool's own tests use, which reports skip).
  virtual const task_header* header() const noexcept { return nullptr; }

  /// The pool's intrusive links; no one else touches them.
  blocking_job* pool_prev_ = nullptr;
  blocking_job* pool_next_ = nullptr;
  /// Set by submit: the queue the job may wait in.
  blocking_queue* queue_ = nullptr;
  /// Set by submit: steady_clock ns, for queue-wait histograms and dump ages.
  std::int64_t submitted_ns_ = 0;

protected:
  blocking_job() = default;
  ~blocking_job() = default;
  blocking_job(const blocking_job&) = delete;
  blocking_job& operator=(const blocking_job&) = delete;
};

}  // namespace weft::detail
