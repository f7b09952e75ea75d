// SPDX-License-Identifier: MIT
// Bounded queues of named pools: rejection, admission FIFO, max_queue_wait
// shedding (design: blocking/pool.hpp, "Bounded queues").
#include "blocking/pool.hpp"

#include "blocking/pool_thread.hpp"

#include <mutex>
#include <utility>

#include <sched.h>

namespace weft::detail {

using blocking_sync::futex_wake;

void blocking_pool::submit(blocking_job& job) noexcept {
  if (!enqueue(job, true, nullptr)) job.reject(queue_full_);
}

bool blocking_pool::admit_or_wait(blocking_job& job, admit_waiter& waiter) noexcept {
  return enqueue(job, false, &waiter);
}

bool blocking_pool::reserve_slot() noexcept {
  std::lock_guard lock(mutex_);
  if (!is_shutdown_ && idle_ == nullptr && (!has_room_locked() || waiters_head_ != nullptr)) return false;
  ++reserved_;
  return true;
}

void blocking_pool::submit_reserved(blocking_job& job) noexcept { enqueue(job, false, nullptr, true); }

void blocking_pool::release_slot() noexcept {
  std::optional<after_unlock> todo;
  {
    std::lock_guard lock(mutex_);
    --reserved_;
    if (waiters_head_ != nullptr && !is_shutdown_) {
      todo.emplace();
      grant_waiters_locked(clock::now(), *todo);
    }
  }
  if (todo) run_after_unlock(*todo);
}

bool blocking_pool::enqueue(blocking_job& job, bool count_rejection, admit_waiter* waiter, bool reserved) noexcept {
  // One clock read per job, before the lock: its queue wait and age count
  // from here (a hand-off's too), and max_queue_wait's deadline.
  const auto now = clock::now();
  job.queue_ = this;   // abort() of a queued job leaves the queue at once (try_cancel)
  job.submitted_ns_ = now.time_since_epoch().count();
  job.submit_cpu_ = sched_getcpu();
  std::unique_lock lock(mutex_);
  if (reserved) --reserved_;  // the slot is this job's now
  if (is_shutdown_) {
    lock.unlock();
    job.cancel(nullptr);
    return true;
  }
  if (idle_ != nullptr && !holds_idle_threads_locked()) {
    // Claimed here, under the lock: no other submit can hand it a job, and it
    // cannot time out from under us (it checks is_idle_ under the lock).
    ++spawned_jobs_;
    pool_thread& idle = claim_idle_locked(job);
    const bool ask_judge = verdict_looks_stale_locked(now);
    if (ask_judge) {
      judge_requested_.store(true, std::memory_order_relaxed);
      supervisor_seq_.fetch_add(1, std::memory_order_relaxed);
    }
    if (reserved && waiters_head_ != nullptr) [[unlikely]] {
      grant_after_reservation(lock);
    } else {
      lock.unlock();
    }
    hand_off(idle);
    if (ask_judge) futex_wake(supervisor_seq_);
    return true;
  }
  // Admit waiters ahead of us keep their turn (they exist only while full).
  if ((!has_room_locked() || waiters_head_ != nullptr) && !reserved) [[unlikely]] {
    if (waiter == nullptr) {
      if (count_rejection) ++rejected_;
      return false;
    }
    waiter->job = &job;
    waiter->state = admit_waiter::phase::waiting;
    waiter->next = nullptr;
    waiter->prev = waiters_tail_;
    (waiters_tail_ != nullptr ? waiters_tail_->next : waiters_head_) = waiter;
    waiters_tail_ = waiter;
    ++num_waiters_;
    return false;
  }
  ++spawned_jobs_;
  start_plan plan;
  enqueue_locked(job, now, plan);
  if (reserved && waiters_head_ != nullptr) [[unlikely]] {
    grant_after_reservation(lock);
  } else {
    lock.unlock();
  }
  run_plan(plan);
  return true;
}

void blocking_pool::grant_after_reservation(std::unique_lock<blocking_sync::spin_mutex>& lock) noexcept {
  // Admit waiters may have queued behind the reservation just used up.
  after_unlock todo;
  grant_waiters_locked(clock::now(), todo);
  lock.unlock();
  run_after_unlock(todo);
}

void blocking_pool::enqueue_locked(blocking_job& job, clock::time_point now, start_plan& plan) noexcept {
  push_back_locked(job, now);
  if (config_.max_queue_wait.count() > 0 && queue_depth_ == 1 && supervisor_) {
    // The supervisor sleeps until the head's deadline; a new head needs it.
    poke_supervisor_locked();
    plan.wake_supervisor = true;
  }
  if (num_threads_ >= config_.max_threads && idle_ == nullptr) return;  // at the cap: FIFO
  if ((num_threads_ == 0 || config_.start_at_once) && !plan.start_due) {
    // Nothing can come free (or the pool keeps its threads): start one now,
    // outside the lock.
    plan.start = begin_start_locked();
    plan.start_due = true;
    if (config_.start_at_once) plan.more_starts = config_.max_threads - num_threads_;
    return;
  }
  if (supervisor_ && arm_supervisor_locked(now)) plan.wake_supervisor = true;
}

void blocking_pool::run_plan(const start_plan& plan) noexcept {
  if (plan.start_due) start_thread(plan.start);
  for (std::size_t i = 0; i < plan.more_starts; ++i) {
    pool_thread* record = nullptr;
    {
      std::lock_guard lock(mutex_);
      if (is_shutdown_ || num_threads_ >= config_.max_threads) break;
      record = begin_start_locked();
    }
    start_thread(record);
  }
  if (plan.wake_supervisor) futex_wake(supervisor_seq_);
}

void blocking_pool::grant_waiters_locked(clock::time_point now, after_unlock& todo) noexcept {
  while (waiters_head_ != nullptr && (idle_ != nullptr || has_room_locked())) {
    if (todo.num_granted == after_unlock::max_grants) {
      todo.more = true;
      return;
    }
    admit_waiter* waiter = waiters_head_;
    waiters_head_ = waiter->next;
    (waiters_head_ != nullptr ? waiters_head_->prev : waiters_tail_) = nullptr;
    waiter->next = waiter->prev = nullptr;
    --num_waiters_;
    waiter->state = admit_waiter::phase::granted;
    todo.granted[todo.num_granted++] = std::move(waiter->wake);
    blocking_job& job = *waiter->job;  // the waiter may be gone once we unlock
    job.submitted_ns_ = now.time_since_epoch().count();  // it enters the pool now
    ++spawned_jobs_;
    if (idle_ != nullptr) {
      todo.hand_offs[todo.num_hand_offs++] = &claim_idle_locked(job);
    } else {
      enqueue_locked(job, now, todo.plan);
    }
  }
}

void blocking_pool::run_after_unlock(after_unlock& todo) noexcept {
  for (std::size_t i = 0; i < todo.num_hand_offs; ++i) hand_off(*todo.hand_offs[i]);
  run_plan(todo.plan);
  for (std::size_t i = 0; i < todo.num_granted; ++i) std::exchange(todo.granted[i], waker{}).wake();
  if (todo.more) grant_more();
}

void blocking_pool::grant_more() noexcept {
  bool more = true;
  while (more) {
    after_unlock todo;
    {
      std::lock_guard lock(mutex_);
      if (is_shutdown_) return;
      grant_waiters_locked(clock::now(), todo);
    }
    more = todo.more;
    todo.more = false;
    run_after_unlock(todo);
  }
}

bool blocking_pool::leave_admission(admit_waiter& waiter) noexcept {
  std::lock_guard lock(mutex_);
  if (waiter.state != admit_waiter::phase::waiting) return false;
  (waiter.prev != nullptr ? waiter.prev->next : waiters_head_) = waiter.next;
  (waiter.next != nullptr ? waiter.next->prev : waiters_tail_) = waiter.prev;
  waiter.next = waiter.prev = nullptr;
  waiter.state = admit_waiter::phase::granted;  // out of the FIFO for good
  --num_waiters_;
  return true;
}

bool blocking_pool::try_cancel(blocking_job& job) noexcept {
  std::optional<after_unlock> todo;
  {
    std::lock_guard lock(mutex_);
    if (!is_queued_locked(job)) return false;
    // See wait_times.hpp for why a removal from the middle drops the newest time.
    if (&job == head_) {
      wait_times_.pop_oldest();
    } else {
      wait_times_.pop_newest();
    }
    unlink_locked(job);
    if (waiters_head_ != nullptr && !is_shutdown_) [[unlikely]] {
      todo.emplace();
      grant_waiters_locked(clock::now(), *todo);  // the freed slot is the next waiter's
    }
  }
  if (todo) run_after_unlock(*todo);
  return true;
}

blocking_job* blocking_pool::shed_expired_locked(clock::time_point now,
                                                 std::optional<clock::time_point>& next) noexcept {
  blocking_job* list = nullptr;
  blocking_job** tail = &list;
  while (head_ != nullptr && submitted_at(*head_) + config_.max_queue_wait <= now) {
    blocking_job* job = pop_front_locked();  // links cleared: no longer queued
    *tail = job;
    tail = &job->pool_next_;
    ++rejected_;
  }
  if (head_ != nullptr) next = submitted_at(*head_) + config_.max_queue_wait;
  return list;
}

void blocking_pool::cancel_admit_waiters() noexcept {
  // One at a time: a waiter's frame may be destroyed as soon as we unlock.
  for (;;) {
    blocking_job* job = nullptr;
    waker wake;
    {
      std::lock_guard lock(mutex_);
      admit_waiter* waiter = waiters_head_;
      if (waiter == nullptr) return;
      waiters_head_ = waiter->next;
      (waiters_head_ != nullptr ? waiters_head_->prev : waiters_tail_) = nullptr;
      waiter->next = waiter->prev = nullptr;
      waiter->state = admit_waiter::phase::granted;
      --num_waiters_;
      job = waiter->job;
      wake = std::move(waiter->wake);
    }
    job->cancel(nullptr);  // its handle resolves cancelled, as after shutdown
    wake.wake();
  }
}

}  // namespace weft::detail
