// SPDX-License-Identifier: MIT
// The pool's supervisor: starts a thread for each job that has waited
// spawn_delay for a busy thread to come free (design: blocking/pool.hpp,
// "Why a supervisor thread").
#include "blocking/pool.hpp"
#include "blocking/pool_thread.hpp"
#include "util/cpu_load.hpp"

#include <memory>
#include <mutex>

#include <sys/prctl.h>

namespace weft::detail {

using blocking_sync::futex_wait;

void* blocking_pool::supervisor_entry(void* pool) noexcept {
  static_cast<blocking_pool*>(pool)->supervise();
  return nullptr;
}

void blocking_pool::supervise() noexcept {
  // Its deadlines are the pool's latency bound: no 50 µs timer slack.
  prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  pthread_setname_np(pthread_self(), thread_name_.c_str());

  std::unique_lock lock(mutex_);
  while (!supervisor_stop_) {
    std::optional<clock::time_point> sleep_until;  // nullopt: until poked
    std::optional<clock::time_point> next_expiry;
    if (config_.max_queue_wait.count() > 0 && head_ != nullptr && !is_shutdown_) {
      // Load shedding: reject what has waited max_queue_wait, give the freed
      // slots to admit waiters.
      const auto now = clock::now();
      if (blocking_job* expired = shed_expired_locked(now, next_expiry)) {
        auto todo = std::make_unique<after_unlock>();  // rare: off the hot path
        grant_waiters_locked(now, *todo);
        lock.unlock();
        while (expired != nullptr) {
          blocking_job* next = expired->pool_next_;  // read first: reject() may free it
          expired->reject(waited_too_long_);
          expired = next;
        }
        run_after_unlock(*todo);
        lock.lock();
        continue;
      }
    }
    pool_thread* record = nullptr;
    if (supervisor_armed_ && plan_start_locked(clock::now(), record, sleep_until)) {
      lock.unlock();
      start_thread(record);  // ~14 µs in pthread_create, off the async workers
      relock_with_cpu_reading(lock);
      continue;
    }
    if (next_expiry && (!sleep_until || *next_expiry < *sleep_until)) sleep_until = next_expiry;
    // relaxed: read under mutex_, which orders it with every poke; the futex
    // compares it atomically, so a poke after the unlock is not lost.
    const std::uint32_t seen = supervisor_seq_.load(std::memory_order_relaxed);
    lock.unlock();
    futex_wait(supervisor_seq_, seen, sleep_until);
    // A deadline means a job became due (or expired): a start may be judged
    // next. A poke alone (a job just queued) leads to such a sleep first.
    if (sleep_until) relock_with_cpu_reading(lock);
    else lock.lock();
  }
}

void blocking_pool::relock_with_cpu_reading(std::unique_lock<blocking_sync::spin_mutex>& lock) noexcept {
  // Read here, unlocked: it costs system calls (~5 µs), and a supervisor
  // preempted inside them while holding mutex_ would hold up every submitter,
  // async workers included.
  const std::optional<std::size_t> runnable = runnable_threads();
  lock.lock();
  runnable_threads_ = runnable;
}

bool blocking_pool::plan_start_locked(clock::time_point now, pool_thread*& record,
                                      std::optional<clock::time_point>& sleep_until) noexcept {
  if (is_shutdown_ || head_ == nullptr || num_threads_ >= config_.max_threads) {
    // Nothing waits, or nothing can be done: the next submit that queues a
    // job below the cap arms us again.
    supervisor_armed_ = false;
    return false;
  }
  if (num_starting_ >= max_starting) {
    supervisor_awaits_start_ = true;  // the next thread to come up pokes us
    return false;
  }
  if (now < no_start_before_) {
    sleep_until = no_start_before_;  // a start failed recently
    return false;
  }
  // The first num_starting_ jobs are covered: a thread is on its way for each.
  const std::optional<clock::time_point> since = wait_times_.since(num_starting_);
  if (!since) {
    // Every waiting job has a thread on its way; the first to come up pokes
    // us, and sees any job queued meanwhile.
    supervisor_awaits_start_ = true;
    return false;
  }
  const auto due = *since + config_.spawn_delay;
  if (due > now) {
    sleep_until = due;
    return false;
  }
  if (is_cpu_bound_locked(now)) {
    sleep_until = now + cpu_window();
    return false;
  }
  record = begin_start_locked();
  return true;
}

bool blocking_pool::is_cpu_bound_locked(clock::time_point now) noexcept {
  // Threads still starting count: they will be busy as soon as they are up.
  const std::size_t busy = num_threads_ - num_idle_;
  const auto elapsed = now - window_.at;
  // Judge whole windows only: a few microseconds in which no job was taken
  // say nothing. A verdict that lets threads start is judged again sooner,
  // so that the jobs the first new threads finish can stop the rest (a burst
  // of 64 requests started 16 threads in the first 1 ms window).
  if (elapsed >= (was_cpu_bound_ ? cpu_window() : min_cpu_window)) {
    was_cpu_bound_ = cpu_judge_.judge({elapsed, busy, jobs_taken_ - window_.taken, completed_ - window_.completed,
                                       completed_short_ - window_.completed_short},
                                      runnable_threads_);
    restart_window_locked(now);
  }
  return busy >= num_cpus_ && was_cpu_bound_;
}

void blocking_pool::restart_window_locked(clock::time_point now) noexcept {
  window_ = {now, jobs_taken_, completed_, completed_short_};
}

}  // namespace weft::detail
