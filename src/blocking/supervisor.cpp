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
  bool look_at_stuck_threads = false;   // at the next CPU reading
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
    pool_thread* woken = nullptr;
    if (supervisor_armed_ && plan_start_locked(clock::now(), record, woken, sleep_until)) {
      if (woken != nullptr) {
        // The job left the queue: room for an admit waiter (bounded pools).
        std::unique_ptr<after_unlock> todo;
        if (waiters_head_ != nullptr) [[unlikely]] {
          todo = std::make_unique<after_unlock>();
          grant_waiters_locked(clock::now(), *todo);
        }
        lock.unlock();
        hand_off(*woken);
        if (todo) run_after_unlock(*todo);
        lock.lock();
        continue;
      }
      lock.unlock();
      start_thread(record);  // ~14 µs in pthread_create, off the async workers
      relock_with_cpu_reading(lock, false);   // a window with a start is judged again soon
      continue;
    }
    if (next_expiry && (!sleep_until || *next_expiry < *sleep_until)) sleep_until = next_expiry;
    // relaxed: read under mutex_, which orders it with every poke; the futex
    // compares it atomically, so a poke after the unlock is not lost.
    const std::uint32_t seen = supervisor_seq_.load(std::memory_order_relaxed);
    // The threads' states matter only if nothing has finished this window.
    look_at_stuck_threads = completed_ == window_.completed;
    lock.unlock();
    futex_wait(supervisor_seq_, seen, sleep_until);
    // A deadline means a job became due (or expired): a start may be judged
    // next. A poke alone (a job just queued) leads to such a sleep first.
    if (sleep_until || judge_requested_.load(std::memory_order_relaxed))
      relock_with_cpu_reading(lock, look_at_stuck_threads);
    else lock.lock();
    if (judge_requested_.exchange(false, std::memory_order_relaxed)) is_cpu_bound_locked(clock::now());
  }
}

void blocking_pool::relock_with_cpu_reading(std::unique_lock<blocking_sync::spin_mutex>& lock,
                                            bool look_at_stuck_threads) noexcept {
  // Read here, unlocked: it costs system calls (~5 µs), and a supervisor
  // preempted inside them while holding mutex_ would hold up every submitter,
  // async workers included.
  const std::optional<std::size_t> runnable = runnable_threads();
  const bool stuck_runnable = look_at_stuck_threads && stuck_threads_runnable();
  lock.lock();
  runnable_threads_ = runnable;
  stuck_threads_runnable_ = stuck_runnable;
}

bool blocking_pool::stuck_threads_runnable() const noexcept {
  // Unlocked: the records are never freed, and a stale reading is a hint.
  constexpr int max_reads = 8;
  const auto stuck_since = (clock::now() - cpu_window()).time_since_epoch().count();
  int reads = 0;
  // acquire: pairs with the release store that publishes a record.
  for (const pool_thread* r = all_records_.load(std::memory_order_acquire); r != nullptr && reads < max_reads;
       r = r->all_next_) {
    // relaxed: hints, see pool_thread.hpp. A thread handed a job that has
    // not started it yet is waiting for a CPU, or about to get one.
    const std::int64_t started = r->started_ns_.load(std::memory_order_relaxed);
    const bool handed_a_job = r->signal_.load(std::memory_order_relaxed) == signal_notified;
    if (started != 0 ? started > stuck_since : !handed_a_job) continue;
    ++reads;
    if (is_runnable(r->tid_.load(std::memory_order_relaxed)).value_or(false)) return true;
  }
  return false;
}

bool blocking_pool::plan_start_locked(clock::time_point now, pool_thread*& record, pool_thread*& woken,
                                      std::optional<clock::time_point>& sleep_until) noexcept {
  if (is_shutdown_ || head_ == nullptr || (num_threads_ >= config_.max_threads && idle_ == nullptr)) {
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
  if (idle_ == nullptr && cpu_judge_.holds_starts(runnable_threads_, now - last_finished_ < cpu_window())) {
    // The host is oversubscribed and the queue moves ("Why a supervisor thread").
    sleep_until = now + cpu_window();
    return false;
  }
  if (idle_ != nullptr) {
    // Held back while the threads were limited by CPU: an idle thread takes
    // the oldest job, no start needed.
    woken = &claim_idle_locked(*pop_front_locked());   // head_ is not null: checked above
    return true;
  }
  record = begin_start_locked();
  return true;
}

bool blocking_pool::is_cpu_bound_locked(clock::time_point now) noexcept {
  // Threads still starting count: they will be busy as soon as they are up.
  const std::size_t busy = busy_threads_locked();
  const auto elapsed = now - window_.at;
  // Judge whole windows only: a few microseconds in which no job was taken
  // say nothing. A verdict that lets threads start is judged again sooner,
  // so that the jobs the first new threads finish can stop the rest (a burst
  // of 64 requests started 16 threads in the first 1 ms window).
  if (elapsed >= (was_cpu_bound_ ? cpu_window() : min_cpu_window)) {
    was_cpu_bound_ = cpu_judge_.judge({elapsed, busy, jobs_taken_ - window_.taken, completed_ - window_.completed,
                                       completed_short_ - window_.completed_short},
                                      runnable_threads_, stuck_threads_runnable_);
    restart_window_locked(now);
  }
  return busy >= num_cpus_ && was_cpu_bound_;
}

bool blocking_pool::verdict_looks_stale_locked(clock::time_point now) const noexcept {
  return supervisor_ && !was_cpu_bound_ && busy_threads_locked() > num_cpus_ &&
         !judge_requested_.load(std::memory_order_relaxed) && now - window_.at >= cpu_window() &&
         completed_ - window_.completed >= cpu_bound_judge::min_finished &&
         cpu_bound_judge::most_were_short(completed_ - window_.completed, completed_short_ - window_.completed_short);
}

void blocking_pool::restart_window_locked(clock::time_point now) noexcept {
  window_ = {now, jobs_taken_, completed_, completed_short_};
}

}  // namespace weft::detail
