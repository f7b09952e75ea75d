// SPDX-License-Identifier: MIT
// Shutdown of the blocking pool (steps in blocking/pool.hpp, "Shutdown").
#include "blocking/pool.hpp"
#include "blocking/pool_thread.hpp"

#include <climits>
#include <mutex>
#include <utility>

namespace weft::detail {

using blocking_sync::futex_wait;
using blocking_sync::futex_wake;

std::size_t blocking_pool::shutdown(std::optional<clock::time_point> deadline,
                                    std::vector<straggler>* stragglers) noexcept {
  begin_shutdown();
  return finish_shutdown(deadline, stragglers);
}

void blocking_pool::begin_shutdown() noexcept {
  // 1. Under the lock: nothing new starts from here on.
  blocking_job* queued = nullptr;
  pool_thread* idle = nullptr;
  pool_thread* running = nullptr;
  std::optional<pthread_t> supervisor;
  {
    std::lock_guard lock(mutex_);
    if (is_shutdown_) return;
    is_shutdown_ = true;
    shutdown_pending_ = true;
    // spawn_thread's job is its thread's from the spawn on: that thread, still
    // starting, takes it and runs it with stop requested (next_job_locked).
    if (!config_.dedicated) queued = take_all_queued_locked();
    idle = idle_;  // stays chained through idle_next_; job_ is null, which says "exit"
    for (pool_thread* record = idle_; record != nullptr; record = record->idle_next_) {
      record->is_idle_ = false;
    }
    idle_ = nullptr;
    num_idle_ = 0;
    for (pool_thread* record = live_; record != nullptr; record = record->live_next_) {
      if (record->job_ == nullptr) continue;
      // relaxed: read by its thread under mutex_ (see run_thread).
      record->stop_pending_.store(1, std::memory_order_relaxed);
      record->stop_next_ = running;
      running = record;
    }
    supervisor_stop_ = true;
    supervisor = std::exchange(supervisor_, std::nullopt);
    // relaxed: the state is under mutex_; the futex compare prevents a lost wake.
    supervisor_seq_.fetch_add(1, std::memory_order_relaxed);
  }
  futex_wake(supervisor_seq_);

  // 2. Unlocked: tell idle threads to exit, cancel what never started, ask
  // what runs to stop. A record's links are read before its thread is
  // released: it may exit and its record be reused at once.
  while (idle != nullptr) {
    pool_thread* next = idle->idle_next_;
    hand_off(*idle);
    idle = next;
  }
  cancel_all(queued, nullptr);
  cancel_admit_waiters();  // none can join the FIFO any more: is_shutdown_
  while (running != nullptr) {
    pool_thread* next = running->stop_next_;
    // Pinned: its thread cannot clear job_ (nor complete it) while stop_pending_ is set.
    running->job_->request_stop();
    // release: pairs with the acquire load in run_thread before complete().
    running->stop_pending_.store(0, std::memory_order_release);
    futex_wake(running->stop_pending_);
    running = next;
  }

  // 3. The supervisor runs no user code: it stops promptly.
  if (supervisor) pthread_join(*supervisor, nullptr);
}

std::size_t blocking_pool::finish_shutdown(std::optional<clock::time_point> deadline,
                                           std::vector<straggler>* stragglers) noexcept {
  // On one of our own threads, waiting would mean waiting for ourselves.
  if (this_thread_blocking_pool == this) deadline = clock::time_point::min();
  std::size_t still_running = 0;
  std::optional<pthread_t> last;
  {
    std::unique_lock lock(mutex_);
    if (!std::exchange(shutdown_pending_, false)) return 0;  // once
    while (num_threads_ > 0 && !(deadline && clock::now() >= *deadline)) {
      // relaxed: read under mutex_, which orders it with each exit's bump.
      const std::uint32_t seen = exit_seq_.load(std::memory_order_relaxed);
      lock.unlock();
      futex_wait(exit_seq_, seen, deadline);
      lock.lock();
    }
    // 4. Whoever is still alive detaches itself when it exits; the rest are joined.
    const auto now = clock::now();
    for (pool_thread* record = live_; record != nullptr; record = record->live_next_) {
      if (record->job_ == nullptr) continue;
      ++still_running;
      if (stragglers == nullptr) continue;
      // relaxed: written by its thread, and this one is not running yet if 0.
      const std::int64_t started = record->started_ns_.load(std::memory_order_relaxed);
      const task_header* task = record->job_->header();
      try {
        stragglers->push_back(
            straggler{task ? task->id() : 0, task ? task->spawned_at() : std::source_location(), config_.name,
                      started == 0 ? std::chrono::nanoseconds(0) : now - clock::time_point(clock::duration(started))});
      } catch (...) {
        // Swallowed: out of memory; the count above still says how many there are.
      }
    }
    if (num_threads_ > 0) detach_on_exit_ = true;
    last = std::exchange(last_exiting_, std::nullopt);
  }
  // Joins the chain: each exited thread joined the one that exited before it.
  if (last) pthread_join(*last, nullptr);
  return still_running;
}

}  // namespace weft::detail
